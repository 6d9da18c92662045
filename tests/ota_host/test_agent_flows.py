"""The OTA agent's state machine, run on the host against the cloud model.

Each test builds an OTA update in emu.cloud's OtaService, starts the agent (compiled for the
host with its seams served by agent_link.HostBoard) and checks what the cloud saw: the job's
final status, the status updates in order, the stream requests, and the agent's console lines.
The firmware end-to-end runs in the emulator check the same flows with the real PAL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emu.cloud.faults import DropBlocks, DuplicateBlocks, HoldBack, TriggerAt
from emu.cloud.mqtt import MessageBus
from emu.cloud.ota_job import SIG_SHA256_RSA, DocumentFaults, OtaService

from .agent_link import (
    IMAGE_ACCEPTED,
    HostBoard,
    fake_signature,
    make_image,
)
from .build import AGENT_SOURCES, build_program

THING = "ota-emu-device"
FAST = {"block": 1024, "timeout": 2000, "selftest_ms": 16000}


@pytest.fixture(scope="module")
def agent_exe(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("agent_host")
    return build_program(out, "agent_host", "agent_host.c", AGENT_SOURCES)


class World:
    """The cloud model, one device, and helpers to create updates."""

    def __init__(self, exe: Path, version: str = "1.0.0", rx_depth: int | None = None,
                 **config: int) -> None:
        self.bus = MessageBus()
        self.ota = OtaService(self.bus)
        self.ota.jobs(THING)  # the Jobs model of the thing answers even with no job
        self.board = HostBoard(exe, self.bus, THING, version, config={**FAST, **config},
                               rx_depth=rx_depth)

    def update(self, version: str, size: int = 10_000, **options):
        image = make_image(version, size)
        return self.ota.create_ota_update(THING, image, fake_signature(image),
                                          version=version, **options), image

    def statuses(self, job_id: str) -> list[tuple[str, dict]]:
        return [(u.status, u.status_details) for u in self.ota.status_updates(job_id)]

    def has_line(self, text: str) -> bool:
        return any(text in line for line in self.board.lines)


@pytest.fixture
def world(agent_exe):
    return World(agent_exe)


def test_an_update_is_received_activated_tested_and_accepted(world):
    update, image = world.update("1.0.1")
    boots = world.board.run()
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"
    assert world.statuses(update.job_id) == [
        ("IN_PROGRESS", {"self_test": "ready", "updatedBy": "0x1000000"}),
        ("IN_PROGRESS", {"self_test": "active", "updatedBy": "0x1000001"}),
        ("SUCCEEDED", {"reason": "accepted v1.0.1"}),
    ]
    assert [b.version for b in boots[:2]] == [0x0100_0000, 0x0100_0001]
    assert boots[0].ended_by == "activate"
    assert world.board.running == 0x0100_0001 and not world.board.pending
    assert all(count == 1 for count in world.board.writes.values())
    assert len(world.board.writes) == 10


def test_console_lines_name_each_step(world):
    update, _ = world.update("1.0.1")
    world.board.run()
    for text in ("[ota] running version 1.0.0 (0x01000000)",
                 "[ota] platform image state: Valid",
                 "[ota] connected as ota-emu-device",
                 "[ota] asked for the next job",
                 f"[ota] job {update.job_id}: receiving firmware.bin, 10000 bytes in 10 "
                 "blocks of 1024, from stream AFR_OTA-update-1-stream",
                 "[ota] all 10 blocks received: closing the file",
                 "[ota] signature valid",
                 "[ota] activating the new image",
                 "[ota] platform image state: PendingCommit",
                 "[ota] new image in self-test: it must pass within 16000 ms",
                 "[ota] self-test: updated by version 1.0.0 (0x01000000)",
                 "[ota] self-test passed: accepted version 1.0.1 (0x01000001)",
                 f"[ota] status SUCCEEDED sent for job {update.job_id}"):
        assert world.has_line(text), text


def test_each_request_asks_for_the_configured_number_of_blocks(agent_exe):
    world = World(agent_exe, per_request=4)
    update, _ = world.update("1.0.1", size=20_000)
    world.board.run()
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"
    requests = [r for r in world.ota.streams.requests if r.request is not None]
    assert {r.request.count for r in requests} == {4}
    assert all(len(r.blocks) <= 4 for r in requests)
    assert len(requests) == 5


def test_blocks_the_network_module_dropped_are_asked_again_at_once(agent_exe):
    world = World(agent_exe, rx_depth=8, per_request=16)
    update, _ = world.update("1.0.1", size=31 * 1024)
    world.board.run()
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"
    assert world.has_line("[ota] the network module dropped 8 messages: asking again, "
                          "23 blocks missing")
    assert not world.has_line("[ota] no block for")


def test_progress_is_reported_every_64_blocks(agent_exe):
    world = World(agent_exe, block=256)
    update, _ = world.update("1.0.1", size=256 * 150)
    world.board.run()
    progress = [d["receive"] for s, d in world.statuses(update.job_id) if "receive" in d]
    assert progress == ["64/150", "128/150"]


@pytest.mark.parametrize("fault", [DropBlocks([2, 5]), DuplicateBlocks([1, 7]),
                                   HoldBack([3])])
def test_wire_faults_are_repaired_and_the_image_is_intact(agent_exe, fault):
    world = World(agent_exe, per_request=3)
    world.ota.streams.hooks.append(fault)
    update, image = world.update("1.0.1")
    world.board.run()
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"
    assert all(count == 1 for count in world.board.writes.values())


def test_a_duplicate_block_is_ignored_with_a_line(agent_exe):
    world = World(agent_exe, per_request=4)
    world.ota.streams.hooks.append(DuplicateBlocks([1]))
    world.update("1.0.1")
    world.board.run()
    assert world.has_line("[ota] block 1 is a duplicate: ignored")


def test_a_lost_block_is_asked_again_after_the_timeout(agent_exe):
    world = World(agent_exe)
    world.ota.streams.hooks.append(DropBlocks([4]))
    update, _ = world.update("1.0.1")
    world.board.run()
    assert world.has_line("[ota] no block for 2000 ms: asking again (retry 1 of 32), "
                          "6 blocks missing")
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"


def test_a_stream_that_never_answers_fails_the_job_after_the_retries(agent_exe):
    world = World(agent_exe, retries=3)
    update, _ = world.update("1.0.1")
    world.ota.streams.delete_stream(update.stream_id)
    world.board.run()
    assert world.ota.final_status(update.job_id) == "FAILED"
    assert world.statuses(update.job_id)[-1] == (
        "FAILED", {"reason": "download: no data after retries"})
    assert world.board.calls.count("ABORT") == 1


def test_a_corrupted_image_fails_the_signature_check(agent_exe):
    world = World(agent_exe)
    image = make_image("1.0.1", 5000)
    update = world.ota.create_ota_update(THING, image, fake_signature(image[:-1] + b"x"))
    world.board.run()
    assert world.statuses(update.job_id) == [
        ("FAILED", {"reason": "close file: 0xe3000000"})]
    assert world.board.running == 0x0100_0000
    assert "SETSTATE" in world.board.calls


def test_an_untrusted_certificate_fails_the_job(agent_exe):
    world = World(agent_exe)
    update, _ = world.update("1.0.1", certfile="other.pem")
    world.board.run()
    assert world.statuses(update.job_id) == [
        ("FAILED", {"reason": "close file: 0xe7000000"})]


def test_a_job_without_certfile_uses_the_default(agent_exe):
    world = World(agent_exe)
    update, _ = world.update("1.0.1", faults=DocumentFaults(file_omit=("certfile",)))
    world.board.run()
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"


@pytest.mark.parametrize(("options", "reason"), [
    ({"faults": DocumentFaults(file_omit=("filepath",))}, "job document: missing filepath"),
    ({"sig_key": SIG_SHA256_RSA}, "job document: unsupported signature algorithm"),
    ({"protocols": ["HTTP"]}, "job document: MQTT not in protocols"),
    ({"faults": DocumentFaults(file_extra={"filesize": 0})}, "job document: bad filesize"),
])
def test_a_defective_job_document_fails_the_job_with_the_reason(world, options, reason):
    update, _ = world.update("1.0.1", **options)
    world.board.run()
    assert world.statuses(update.job_id) == [("FAILED", {"reason": reason})]
    assert "CREATE" not in world.board.calls


def test_a_file_too_large_for_the_bitmap_fails_the_job(agent_exe):
    world = World(agent_exe, block=256)
    update, _ = world.update("1.0.1", size=256 * 1024 + 1)
    world.board.run()
    assert world.statuses(update.job_id) == [
        ("FAILED", {"reason": "job document: file too large"})]


@pytest.mark.parametrize(("version", "reason"), [
    ("1.0.0", "rejected: same version"), ("0.9.0", "rejected: downgrade")])
def test_an_image_not_newer_than_its_updater_is_rejected_and_reverted(world, version, reason):
    update, _ = world.update(version)
    boots = world.board.run()
    assert world.statuses(update.job_id)[-1] == ("FAILED", {"reason": reason})
    assert [b.ended_by for b in boots[:2]] == ["activate", "reset"]
    assert world.board.running == 0x0100_0000


def test_a_downgrade_is_accepted_when_the_config_allows_it(agent_exe):
    world = World(agent_exe, downgrade=1)
    update, _ = world.update("0.9.0")
    world.board.run()
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"


def test_a_failing_self_test_rejects_the_image(world):
    update, _ = world.update("1.0.1")
    world.board.self_test_passes = False
    world.board.run()
    assert world.statuses(update.job_id)[-1] == (
        "FAILED", {"reason": "rejected: self-test failed"})
    assert world.board.running == 0x0100_0000


def test_an_image_that_cannot_connect_is_reverted_and_the_old_one_fails_the_job(world):
    update, _ = world.update("1.0.1")
    world.board.refuse_while_pending = True
    boots = world.board.run()
    assert [b.ended_by for b in boots[:2]] == ["activate", "reset"]
    assert any("self-test timer expired" in line for line in boots[1].lines)
    assert world.board.running == 0x0100_0000
    assert world.statuses(update.job_id)[-1] == (
        "FAILED", {"reason": "rejected: not in self-test"})


def test_a_pending_image_without_a_self_test_job_is_rejected(world):
    world.board.pending = True
    world.board.previous = 0x0100_0000
    world.board.running = 0x0100_0001
    boots = world.board.run()
    assert boots[0].ended_by == "reset"
    assert any("no job in self-test" in line for line in boots[0].lines)
    assert world.board.running == 0x0100_0000


def test_an_accept_that_never_reached_the_cloud_is_reported_after_the_reset(world):
    update, _ = world.update("1.0.1")
    world.board.kill_after_accept = True
    boots = world.board.run()
    assert [b.ended_by for b in boots] == ["activate", "reset", "quiet"]
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"
    assert world.board.running == 0x0100_0001
    assert world.has_line("this image was accepted before the last reset")


def test_a_commit_that_fails_rejects_the_image(world):
    update, _ = world.update("1.0.1")
    world.board.set_state_result = lambda state: 0xEB00_0001 if state == IMAGE_ACCEPTED else 0
    world.board.run()
    assert world.statuses(update.job_id)[-1] == ("FAILED", {"reason": "rejected: 0xeb000001"})
    assert world.board.running == 0x0100_0000


def test_a_failed_write_fails_the_job(world):
    update, _ = world.update("1.0.1")
    world.board.write_result = lambda offset, length: -1 if offset == 2048 else length
    world.board.run()
    assert world.statuses(update.job_id) == [
        ("FAILED", {"reason": "write block: 0xffffffff"})]


def test_a_cut_connection_is_resumed_without_writing_a_block_twice(agent_exe):
    world = World(agent_exe)
    world.ota.streams.hooks.append(TriggerAt(4, lambda block: world.board.link.cut()))
    update, _ = world.update("1.0.1")
    world.board.run()
    assert world.has_line("[ota] connection lost: download suspended")
    assert world.has_line(f"[ota] resuming job {update.job_id}: 6 of 10 blocks missing")
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"
    assert all(count == 1 for count in world.board.writes.values())


def test_an_outage_is_ridden_out_with_backoff(agent_exe):
    world = World(agent_exe, backoff_min=500, backoff_max=4000)
    update, _ = world.update("1.0.1")

    def outage(on: bool) -> None:
        world.board.link.refuse_connections = on

    world.ota.streams.hooks.append(TriggerAt(3, lambda block: world.board.link.cut()))
    world.ota.streams.hooks.append(TriggerAt(3, lambda block: outage(True)))
    world.board.at(20_000, lambda: outage(False))
    world.board.run()
    waits = [line for line in world.board.lines if line.startswith("[ota] retrying in")]
    assert waits[:5] == [f"[ota] retrying in {ms} ms" for ms in (500, 1000, 2000, 4000, 4000)]
    assert world.ota.final_status(update.job_id) == "SUCCEEDED"


def test_a_job_cancelled_during_the_download_is_aborted(agent_exe):
    world = World(agent_exe)
    holder = {}
    world.ota.streams.hooks.append(TriggerAt(
        3, lambda block: world.ota.jobs(THING).cancel_job(holder["job"], force=True)))
    update, _ = world.update("1.0.1")
    holder["job"] = update.job_id
    boots = world.board.run()
    assert world.ota.final_status(update.job_id) == "CANCELED"
    assert world.has_line(f"[ota] job {update.job_id} cancelled (no job is pending now): "
                          "aborting the download")
    assert world.board.calls.count("ABORT") == 1
    assert world.statuses(update.job_id) == []
    assert boots[-1].ended_by == "quiet"


def test_after_a_cancel_the_next_job_is_taken(agent_exe):
    world = World(agent_exe)
    first, _ = world.update("1.0.1", update_id="first")
    second, _ = world.update("1.0.2", update_id="second")
    world.ota.streams.hooks.append(TriggerAt(
        3, lambda block: world.ota.jobs(THING).cancel_job(first.job_id, force=True)))
    world.board.run()
    assert world.ota.final_status(first.job_id) == "CANCELED"
    assert world.has_line("cancelled (another job is next)")
    assert world.ota.final_status(second.job_id) == "SUCCEEDED"
    assert world.board.running == 0x0100_0002


def test_three_updates_in_a_row_all_succeed(world):
    jobs = [world.update(v, update_id=f"u{i}")[0]
            for i, v in enumerate(("1.0.1", "1.0.2", "1.0.3"))]
    world.board.run(max_boots=8)
    assert [world.ota.final_status(j.job_id) for j in jobs] == ["SUCCEEDED"] * 3
    assert world.board.running == 0x0100_0003


def test_a_job_added_while_idle_arrives_by_notification(world):
    world.board.at(5_000, lambda: world.update("1.0.1"))
    world.board.run()
    assert world.has_line("[ota] no job pending")
    assert world.ota.final_status("AFR_OTA-update-1") == "SUCCEEDED"


def test_a_bad_configuration_stops_the_agent(agent_exe):
    world = World(agent_exe, block=1000)
    boots = world.board.run()
    assert boots[0].ended_by == "exit"
    assert any("bad config: block size 1000" in line for line in boots[0].lines)
