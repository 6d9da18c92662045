"""In-process models of the AWS IoT cloud side of an OTA update.

* :mod:`emu.cloud.mqtt` - the message bus (MQTT 3.1.1 topic rules) and the in-process device
  link;
* :mod:`emu.cloud.jobs` - AWS IoT Jobs for one thing;
* :mod:`emu.cloud.streams` - MQTT-based file delivery (streams), with
  :mod:`emu.cloud.faults` for wire faults on data blocks;
* :mod:`emu.cloud.ota_job` - OTA job documents and the service that ties Jobs and streams;
* :mod:`emu.cloud.broker_bridge` - the same models behind a real MQTT broker.

docs/cloud.md describes what is modelled and what is not.
"""
