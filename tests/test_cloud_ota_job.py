"""OTA job documents have the shape AWS IoT OTA gives them, and the service runs a download."""

import base64
import json

import cbor2
import pytest

from emu.cloud.errors import CloudError
from emu.cloud.mqtt import BusLink, MessageBus
from emu.cloud.ota_job import (
    SIG_SHA256_RSA,
    DocumentFaults,
    OtaFile,
    OtaService,
    file_entry,
    job_document,
)
from emu.cloud.streams import make_bitmap

IMAGE = bytes((i * 7) & 0xFF for i in range(5000))
SIGNATURE = bytes(range(64))
THING = "dev1"


def test_job_document_has_the_afr_ota_shape():
    entry = file_entry(OtaFile(IMAGE, SIGNATURE, filepath="/img", certfile="signer.crt"))
    assert job_document("AFR_OTA-s", [entry]) == {"afr_ota": {
        "protocols": ["MQTT"],
        "streamname": "AFR_OTA-s",
        "files": [{"filepath": "/img", "filesize": 5000, "fileid": 0, "certfile": "signer.crt",
                   "sig-sha256-ecdsa": base64.b64encode(SIGNATURE).decode()}]}}


def test_optional_file_fields_appear_only_when_set():
    entry = file_entry(OtaFile(IMAGE, SIGNATURE, file_type=0, attr=3))
    assert (entry["fileType"], entry["attr"]) == (0, 3)
    assert "fileType" not in file_entry(OtaFile(IMAGE, SIGNATURE))


def test_negative_documents_drop_rename_or_change_fields():
    bad = OtaFile(IMAGE, SIGNATURE, sig_key=SIG_SHA256_RSA)
    entry = file_entry(bad, omit=["filepath"], extra={"filesize": 1})
    assert "filepath" not in entry and "sig-sha256-ecdsa" not in entry
    assert entry[SIG_SHA256_RSA] and entry["filesize"] == 1
    doc = job_document("s", [entry], omit=["protocols"], extra={"streamname": ""})
    assert doc["afr_ota"] == {"streamname": "", "files": [entry]}


def test_omitting_a_key_that_is_not_there_is_a_test_mistake():
    with pytest.raises(CloudError):
        file_entry(OtaFile(IMAGE, SIGNATURE), omit=["no-such-key"])


def test_create_ota_update_queues_a_job_and_stores_the_image_in_a_stream():
    bus = MessageBus()
    ota = OtaService(bus)
    update = ota.create_ota_update(THING, IMAGE, SIGNATURE, version="1.0.1")
    assert update.job_id == "AFR_OTA-update-1"
    assert ota.jobs(THING).next_execution().document == update.document
    assert ota.streams.streams[update.stream_id].files == {0: IMAGE}
    assert update.document["afr_ota"]["streamname"] == update.stream_id
    assert ota.final_status(update.job_id) == "QUEUED"


def test_document_faults_leave_the_streamed_image_intact():
    ota = OtaService(MessageBus())
    update = ota.create_ota_update(THING, IMAGE, SIGNATURE,
                                   faults=DocumentFaults(file_omit=("filepath",)))
    assert "filepath" not in update.document["afr_ota"]["files"][0]
    assert ota.streams.streams[update.stream_id].files[0] == IMAGE


def test_create_ota_update_mistakes_raise_cloud_error():
    ota = OtaService(MessageBus())
    ota.create_ota_update(THING, IMAGE, SIGNATURE, update_id="u")
    with pytest.raises(CloudError):
        ota.create_ota_update(THING, IMAGE, SIGNATURE, update_id="u")
    with pytest.raises(CloudError):
        ota.create_ota_update(THING, IMAGE, SIGNATURE, file_path="typo")
    with pytest.raises(CloudError):
        ota.final_status("AFR_OTA-none")


def run_agent_like_download(link, block_size=1024, per_request=2):
    """Do what the OTA agent does over MQTT; return the job id and the received file."""
    base = f"$aws/things/{THING}/"
    link.publish(base + "jobs/$next/get", json.dumps({"clientToken": "0:dev1"}), qos=1)
    execution = json.loads(link.receive().payload)["execution"]
    ota = execution["jobDocument"]["afr_ota"]
    size = ota["files"][0]["filesize"]
    data_topic = base + f"streams/{ota['streamname']}/"
    link.subscribe(data_topic + "data/cbor")
    blocks = {}
    total = -(-size // block_size)
    while len(blocks) < total:
        missing = [i for i in range(total) if i not in blocks]
        request = {"c": "rdy", "f": 0, "l": block_size, "o": 0,
                   "b": make_bitmap(missing, length=-(-total // 8)), "n": per_request}
        link.publish(data_topic + "get/cbor", cbor2.dumps(request))
        while (msg := link.receive()) is not None:
            block = cbor2.loads(msg.payload)
            blocks[block["i"]] = block["p"]
        link.publish(base + f"jobs/{execution['jobId']}/update", json.dumps(
            {"status": "IN_PROGRESS", "statusDetails": {"receive": f"{len(blocks)}/{total}"}}))
    return execution["jobId"], b"".join(blocks[i] for i in range(total))


def test_a_device_downloads_the_image_and_its_reports_are_logged():
    bus = MessageBus()
    ota = OtaService(bus)
    update = ota.create_ota_update(THING, IMAGE, SIGNATURE)
    link = BusLink(bus)
    link.connect()
    link.subscribe(f"$aws/things/{THING}/jobs/$next/get/accepted", qos=1)
    job_id, received = run_agent_like_download(link)
    assert (job_id, received) == (update.job_id, IMAGE)
    link.publish(f"$aws/things/{THING}/jobs/{job_id}/update", json.dumps(
        {"status": "SUCCEEDED", "statusDetails": {"reason": "accepted v1.0.1"}}), qos=1)
    reports = ota.status_updates(job_id)
    assert [u.status_details["receive"] for u in reports[:-1]] == ["2/5", "4/5", "5/5"]
    assert reports[-1].status == "SUCCEEDED" and all(u.accepted for u in reports)
    assert ota.final_status(job_id) == "SUCCEEDED"
    assert [r.blocks for r in ota.streams.requests] == [(0, 1), (2, 3), (4,)]
