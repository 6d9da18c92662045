"""Broker mode: the cloud models answer through a real Mosquitto broker on 127.0.0.1."""

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import cbor2
import pytest

from emu.cloud.broker_bridge import CloudBridge, DeviceLink
from emu.cloud.mqtt import LinkStatus, MessageBus
from emu.cloud.ota_job import OtaService
from emu.cloud.streams import make_bitmap

THING = "dev1"
JOBS = f"$aws/things/{THING}/jobs/"
IMAGE = bytes(range(256)) * 4 + b"end"  # 1027 bytes: four 256-byte blocks and 3 bytes
WAIT = 5.0  # seconds allowed for any one broker round trip


def mosquitto_path():
    """The broker executable, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    fallback = Path("/usr/sbin/mosquitto")
    return str(fallback) if fallback.exists() else None


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, proc, timeout):
    """Wait until the broker accepts connections; fail if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mosquitto exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"mosquitto did not listen on port {port} within {timeout} s")


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A Mosquitto broker bound to 127.0.0.1 on a free port, killed at the end."""
    exe = mosquitto_path()
    if exe is None:
        pytest.skip("mosquitto is not installed")
    work = tmp_path_factory.mktemp("mosquitto")
    port = free_port()
    conf = work / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    with open(work / "mosquitto.log", "wb") as log:
        proc = subprocess.Popen([exe, "-c", str(conf), "-v"], stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, proc, WAIT)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cloud(broker):
    """The OTA service on a bus, bridged to the broker, with one update queued."""
    bus = MessageBus()
    ota = OtaService(bus)
    update = ota.create_ota_update(THING, IMAGE, b"\x01" * 64)
    bridge = CloudBridge(bus, port=broker, client_id="cloud-test")
    assert bridge.start(timeout=WAIT) is LinkStatus.OK
    yield ota, update, bridge
    bridge.stop()


@pytest.fixture
def device(broker):
    link = DeviceLink("device-test", port=broker, timeout=WAIT)
    assert link.connect() is LinkStatus.OK
    yield link
    link.disconnect()


def receive_on(link, topic, timeout=WAIT):
    """The first message on ``topic`` within ``timeout``; others are skipped."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        msg = link.receive(left)
        if msg is not None and msg.topic == topic:
            return msg
    pytest.fail(f"nothing on {topic} within {timeout} s")


@pytest.mark.broker
def test_job_and_stream_round_trip_through_the_broker(cloud, device):
    ota, update, _ = cloud
    streams = f"$aws/things/{THING}/streams/{update.stream_id}/"
    assert device.subscribe(JOBS + "$next/get/accepted", qos=1) is LinkStatus.OK
    assert device.subscribe(streams + "data/cbor") is LinkStatus.OK

    assert device.publish(JOBS + "$next/get", '{"clientToken":"0:dev1"}', qos=1) is LinkStatus.OK
    answer = json.loads(receive_on(device, JOBS + "$next/get/accepted").payload)
    assert answer["clientToken"] == "0:dev1"
    assert answer["execution"]["jobDocument"] == update.document

    request = {"c": "rdy", "f": 0, "l": 256, "o": 0, "b": make_bitmap([1, 4]), "n": 4}
    assert device.publish(streams + "get/cbor", cbor2.dumps(request)) is LinkStatus.OK
    blocks = [cbor2.loads(receive_on(device, streams + "data/cbor").payload) for _ in range(2)]
    assert [(b["i"], b["p"]) for b in blocks] == [(1, IMAGE[256:512]), (4, b"end")]


@pytest.mark.broker
def test_status_update_through_the_broker_reaches_the_job(cloud, device):
    ota, update, _ = cloud
    topic = JOBS + update.job_id + "/update"
    assert device.subscribe(topic + "/accepted", qos=1) is LinkStatus.OK
    device.publish(topic, json.dumps({"status": "SUCCEEDED"}), qos=1)
    receive_on(device, topic + "/accepted")
    assert ota.final_status(update.job_id) == "SUCCEEDED"


@pytest.mark.broker
def test_rejection_travels_back_through_the_broker(cloud, device):
    device.subscribe(JOBS + "nope/get/rejected", qos=1)
    device.publish(JOBS + "nope/get", b"{}", qos=1)
    body = json.loads(receive_on(device, JOBS + "nope/get/rejected").payload)
    assert body["code"] == "ResourceNotFound"


@pytest.mark.broker
def test_control_plane_cancel_under_the_lock_notifies_the_device(cloud, device):
    ota, update, bridge = cloud
    device.subscribe(JOBS + "notify-next", qos=1)
    with bridge.lock:
        ota.jobs(THING).cancel_job(update.job_id)
    assert json.loads(receive_on(device, JOBS + "notify-next").payload) == {
        "timestamp": ota.clock()}


@pytest.mark.broker
def test_device_link_reports_refusals_as_values(device):
    assert device.subscribe("a/#/b") is LinkStatus.REJECTED
    assert device.publish("a/+", b"x") is LinkStatus.REJECTED
    device.disconnect()
    assert device.publish("a", b"x") is LinkStatus.NOT_CONNECTED
    assert device.subscribe("a") is LinkStatus.NOT_CONNECTED


def test_connecting_where_no_broker_listens_is_refused_not_raised():
    port = free_port()
    assert DeviceLink(port=port, timeout=1.0).connect() is LinkStatus.REFUSED
    assert CloudBridge(MessageBus(), port=port).start(timeout=1.0) is LinkStatus.REFUSED


def test_server_that_never_sends_connack_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        link = DeviceLink(port=silent.getsockname()[1], timeout=0.5)
        started = time.monotonic()
        assert link.connect() is LinkStatus.TIMEOUT
        assert time.monotonic() - started < 3.0
        assert not link.connected
