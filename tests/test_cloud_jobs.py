"""The Jobs model answers a device as the AWS IoT Jobs MQTT API does."""

import json

import pytest

from emu.cloud.errors import CloudError
from emu.cloud.jobs import ManualClock, ThingJobs
from emu.cloud.mqtt import BusLink, MessageBus

THING = "dev1"
BASE = f"$aws/things/{THING}/jobs/"
DOC = {"operation": "test"}


class Device:
    """A device that sends JSON requests and sorts what comes back by topic suffix."""

    def __init__(self, bus):
        self.link = BusLink(bus, "device")
        self.link.connect()
        self.link.subscribe(BASE + "#", qos=1)

    def send(self, suffix, body):
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.link.publish(BASE + suffix, payload, qos=1)

    def inbox(self):
        """Messages from the cloud since the last call, as (suffix, decoded body)."""
        out = []
        while (msg := self.link.receive()) is not None:
            if msg.topic.endswith(("/accepted", "/rejected", "/notify", "/notify-next")):
                out.append((msg.topic[len(BASE):], json.loads(msg.payload)))
        return out

    def only(self, suffix):
        """The single message received on ``suffix``."""
        found = [body for s, body in self.inbox() if s == suffix]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
def clock():
    return ManualClock(1000)


@pytest.fixture
def world(clock):
    bus = MessageBus()
    jobs = ThingJobs(bus, THING, clock)
    return jobs, Device(bus)


def test_next_get_without_jobs_is_accepted_without_execution(world):
    _, device = world
    device.send("$next/get", {"clientToken": "1:dev1"})
    assert device.only("$next/get/accepted") == {"timestamp": 1000, "clientToken": "1:dev1"}


def test_new_job_is_announced_on_notify_next_and_notify(world, clock):
    jobs, device = world
    jobs.add_job("j1", DOC)
    got = dict(device.inbox())
    assert got["notify-next"] == {"timestamp": 1000, "execution": {
        "jobId": "j1", "status": "QUEUED", "queuedAt": 1000, "lastUpdatedAt": 1000,
        "executionNumber": 1, "versionNumber": 1, "jobDocument": DOC}}
    assert got["notify"]["jobs"] == {"QUEUED": [{
        "jobId": "j1", "queuedAt": 1000, "lastUpdatedAt": 1000, "executionNumber": 1,
        "versionNumber": 1}]}


def test_next_get_describes_the_pending_execution_and_echoes_the_token(world, clock):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.inbox()
    clock.advance(5)
    device.send("$next/get", {"clientToken": "tok"})
    body = device.only("$next/get/accepted")
    assert body["clientToken"] == "tok" and body["timestamp"] == 1005
    assert body["execution"] == {
        "jobId": "j1", "thingName": THING, "status": "QUEUED", "queuedAt": 1000,
        "lastUpdatedAt": 1000, "executionNumber": 1, "versionNumber": 1, "jobDocument": DOC}


def test_job_get_can_leave_out_the_document(world):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.inbox()
    device.send("j1/get", {"includeJobDocument": False})
    assert "jobDocument" not in device.only("j1/get/accepted")["execution"]


def test_progress_update_bumps_version_and_keeps_next_unchanged(world, clock):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.inbox()
    clock.advance(1)
    device.send("j1/update", {"status": "IN_PROGRESS", "statusDetails": {"receive": "1/4"},
                              "includeJobExecutionState": True, "clientToken": "u1"})
    got = device.inbox()
    assert [s for s, _ in got] == ["j1/update/accepted"]
    assert got[0][1]["executionState"] == {"status": "IN_PROGRESS",
                                           "statusDetails": {"receive": "1/4"},
                                           "versionNumber": 2}
    execution = jobs.execution("j1")
    assert (execution.started_at, execution.last_updated_at) == (1001, 1001)


def test_terminal_update_is_answered_before_notify_next_empties(world):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.inbox()
    device.send("j1/update", {"status": "SUCCEEDED"})
    got = device.inbox()
    assert [s for s, _ in got] == ["j1/update/accepted", "notify", "notify-next"]
    assert got[1][1]["jobs"] == {}
    assert got[2][1] == {"timestamp": 1000}


def test_update_of_terminal_execution_is_an_invalid_state_transition(world):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.send("j1/update", {"status": "SUCCEEDED"})
    device.inbox()
    device.send("j1/update", {"status": "IN_PROGRESS", "clientToken": "again"})
    body = device.only("j1/update/rejected")
    assert body["code"] == "InvalidStateTransition"
    assert body["clientToken"] == "again"
    assert body["executionState"] == {"status": "SUCCEEDED", "statusDetails": {},
                                      "versionNumber": 2}
    assert jobs.execution("j1").status == "SUCCEEDED"


def test_stale_expected_version_is_a_version_mismatch(world):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.send("j1/update", {"status": "IN_PROGRESS", "expectedVersion": 1})
    device.send("j1/update", {"status": "IN_PROGRESS", "expectedVersion": 1})
    got = device.inbox()
    assert [s for s, _ in got][-2:] == ["j1/update/accepted", "j1/update/rejected"]
    assert got[-1][1]["code"] == "VersionMismatch"
    assert got[-1][1]["executionState"]["versionNumber"] == 2


def test_next_is_the_in_progress_execution_before_older_queued_ones(world, clock):
    jobs, device = world
    jobs.add_job("old", DOC)
    clock.advance(10)
    jobs.add_job("new", {"n": 2})
    device.inbox()
    assert jobs.next_execution().job_id == "old"
    device.send("new/update", {"status": "IN_PROGRESS"})
    got = dict(device.inbox())
    assert got["notify-next"]["execution"]["jobId"] == "new"
    assert "notify" not in got


def test_finishing_the_next_job_announces_the_following_one(world, clock):
    jobs, device = world
    jobs.add_job("a", DOC)
    clock.advance(1)
    jobs.add_job("b", DOC)
    device.inbox()
    device.send("a/update", {"status": "FAILED", "statusDetails": {"reason": "0x1: 0x2"}})
    assert device.only("notify-next")["execution"]["jobId"] == "b"


def test_status_details_replace_the_stored_map_only_when_given(world):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.send("j1/update", {"status": "IN_PROGRESS", "statusDetails": {"a": "1", "b": "2"}})
    device.send("j1/update", {"status": "IN_PROGRESS"})
    assert jobs.execution("j1").status_details == {"a": "1", "b": "2"}
    device.send("j1/update", {"status": "IN_PROGRESS", "statusDetails": {"c": "3"}})
    assert jobs.execution("j1").status_details == {"c": "3"}


MALFORMED = [
    ("$next/get", b"{not json", "InvalidJson"),
    ("$next/get", b"\xff\xfe", "InvalidJson"),
    ("$next/get", b"[1, 2]", "InvalidRequest"),
    ("$next/get", {"clientToken": "x" * 65}, "InvalidRequest"),
    ("$next/get", {"includeJobDocument": "yes"}, "InvalidRequest"),
    ("j1/update", {}, "InvalidRequest"),
    ("j1/update", {"status": "CANCELED"}, "InvalidRequest"),
    ("j1/update", {"status": "QUEUED"}, "InvalidRequest"),
    ("j1/update", {"status": "IN_PROGRESS", "statusDetails": {"n": 5}}, "InvalidRequest"),
    ("j1/update", {"status": "IN_PROGRESS", "statusDetails": {"bad key": "v"}},
     "InvalidRequest"),
    ("j1/update", {"status": "IN_PROGRESS", "statusDetails": {"k": "a\nb"}}, "InvalidRequest"),
    ("j1/update", {"status": "IN_PROGRESS", "statusDetails": {"k": ""}}, "InvalidRequest"),
    ("j1/update", {"status": "IN_PROGRESS", "expectedVersion": "2"}, "InvalidRequest"),
    ("j1/update", {"status": "IN_PROGRESS", "expectedVersion": True}, "InvalidRequest"),
    ("j1/update", {"status": "IN_PROGRESS", "executionNumber": 2}, "ResourceNotFound"),
    ("nope/update", {"status": "IN_PROGRESS"}, "ResourceNotFound"),
    ("nope/get", {}, "ResourceNotFound"),
    ("$next/update", {"status": "IN_PROGRESS"}, "InvalidTopic"),
    ("j1/frobnicate", {}, "InvalidTopic"),
]


@pytest.mark.parametrize(("suffix", "body", "code"), MALFORMED)
def test_malformed_requests_are_rejected_with_the_aws_code(world, suffix, body, code):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.inbox()
    device.send(suffix, body)
    rejected = device.only(suffix + "/rejected")
    assert rejected["code"] == code
    assert rejected["message"] and rejected["timestamp"] == 1000
    assert jobs.execution("j1").version_number == 1


def test_rejected_token_is_not_echoed(world):
    _, device = world
    device.send("$next/get", {"clientToken": 7})
    assert "clientToken" not in device.only("$next/get/rejected")


def test_cancel_without_force_cancels_only_a_queued_execution(world):
    jobs, device = world
    jobs.add_job("q", DOC)
    device.inbox()
    assert jobs.cancel_job("q") == "CANCELED"
    assert device.only("notify-next") == {"timestamp": 1000}
    jobs.add_job("p", DOC)
    device.send("p/update", {"status": "IN_PROGRESS"})
    device.inbox()
    assert jobs.cancel_job("p") == "IN_PROGRESS"
    assert device.inbox() == []


def test_forced_cancel_stops_an_in_progress_execution_and_later_updates_fail(world):
    jobs, device = world
    jobs.add_job("p", DOC)
    device.send("p/update", {"status": "IN_PROGRESS"})
    device.inbox()
    assert jobs.cancel_job("p", force=True) == "CANCELED"
    assert device.only("notify-next") == {"timestamp": 1000}
    device.send("p/update", {"status": "SUCCEEDED"})
    assert device.only("p/update/rejected")["code"] == "InvalidStateTransition"
    assert jobs.execution("p").version_number == 3


def test_timed_out_and_removed_executions_are_terminal(world):
    jobs, _ = world
    jobs.add_job("t", DOC)
    jobs.add_job("r", DOC)
    assert jobs.time_out("t") == "TIMED_OUT"
    assert jobs.remove("r") == "REMOVED"
    assert jobs.cancel_job("t", force=True) == "TIMED_OUT"
    assert jobs.next_execution() is None


def test_every_update_request_is_recorded_with_its_outcome(world):
    jobs, device = world
    seen = []
    jobs.on_update = seen.append
    jobs.add_job("j1", DOC)
    device.send("j1/update", {"status": "SUCCEEDED", "statusDetails": {"reason": "ok"}})
    device.send("j1/update", {"status": "FAILED"})
    assert [(u.status, u.code) for u in jobs.updates] == [
        ("SUCCEEDED", None), ("FAILED", "InvalidStateTransition")]
    assert seen == jobs.updates and jobs.updates[0].accepted


def test_start_next_moves_the_next_queued_execution_in_progress(world):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.inbox()
    device.send("start-next", {"statusDetails": {"step": "1"}})
    body = device.only("start-next/accepted")
    assert body["execution"]["status"] == "IN_PROGRESS"
    assert body["execution"]["versionNumber"] == 2
    assert jobs.execution("j1").status_details == {"step": "1"}


def test_get_pending_lists_in_progress_and_queued_jobs(world):
    jobs, device = world
    jobs.add_job("a", DOC)
    jobs.add_job("b", DOC)
    device.send("a/update", {"status": "IN_PROGRESS"})
    device.inbox()
    device.send("get", {})
    body = device.only("get/accepted")
    assert [j["jobId"] for j in body["inProgressJobs"]] == ["a"]
    assert [j["jobId"] for j in body["queuedJobs"]] == ["b"]


def test_empty_payload_is_read_as_an_empty_request(world):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.inbox()
    device.send("$next/get", b"")
    assert device.only("$next/get/accepted")["execution"]["jobId"] == "j1"


def test_control_plane_mistakes_raise_cloud_error(world):
    jobs, _ = world
    jobs.add_job("j1", DOC)
    with pytest.raises(CloudError):
        jobs.add_job("j1", DOC)
    with pytest.raises(CloudError):
        jobs.add_job("bad id", DOC)
    with pytest.raises(CloudError):
        jobs.cancel_job("missing")


def test_other_things_requests_are_not_answered(world):
    jobs, device = world
    jobs.add_job("j1", DOC)
    device.inbox()
    device.link.subscribe("$aws/things/other/jobs/#")
    device.link.publish("$aws/things/other/jobs/$next/get", b"{}")
    assert [m.topic for m in iter(device.link.receive, None)] == [
        "$aws/things/other/jobs/$next/get"]
