"""Run a scenario: the device boots its image through the boot model, the cloud model offers
one OTA job after another over the network link, and the outcome is checked against what the
scenario expects.

Everything runs on the machine's virtual clock; the cloud model's timestamps follow it too,
so a scenario gives the same transcript and verdict on every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from emu.board import load_board
from emu.boot.install import slot_image, write_slot
from emu.boot.model import attach_boot
from emu.boot.slots import slot_map
from emu.cloud import faults as wire
from emu.cloud.broker_bridge import CloudBridge, DeviceLink
from emu.cloud.mqtt import BusLink, LinkStatus, MessageBus
from emu.cloud.ota_job import DocumentFaults, OtaService
from emu.core.machine import Machine
from emu.errors import InputError, ScenarioError
from emu.image import mcuboot
from emu.image.commands import load_body
from emu.image.trailer import Flag, read_trailer
from emu.scenario.spec import Job, Scenario

ROOT = Path(__file__).resolve().parent.parent.parent
IMAGES = ROOT / "firmware_images" / "build"
THING = "ota-emu-device"
CERTFILE = "code_signer_cert.pem"
TERMINAL = ("SUCCEEDED", "FAILED", "REJECTED", "CANCELED", "TIMED_OUT", "REMOVED")
SETTLE_SECONDS = 3.0      # virtual time the device gets after the job's final status
POLL_SECONDS = 0.1
EPOCH = 1_700_000_000


@dataclass
class Outcome:
    """How one scenario ended."""

    name: str
    passed: bool
    reason: str = ""
    virtual: float = 0.0
    wall: float = 0.0
    transcript: str = ""
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.passed:
            return f"PASS {self.name} (virtual {self.virtual:.1f}s, wall {self.wall:.2f}s)"
        return f"FAIL {self.name}: {self.reason}"


def image_path(cpu: str, family: str, version: str, variant: str = "") -> Path:
    """build/<cpu>/<family>_<major>_<minor>_<build>[_<variant>].elf"""
    name = f"{family}_{version.replace('.', '_')}"
    if variant:
        name += "_" + variant.replace("-", "_")
    path = IMAGES / cpu / f"{name}.elf"
    if not path.exists():
        raise InputError(f"{path} is missing: run `make firmware` first")
    return path


# RFC 6979 signatures and keys derived from fixed seeds make every scenario byte-for-byte
# reproducible: the same images, the same transcript.
SIGNING = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


def fixed_key(seed: bytes) -> ec.EllipticCurvePrivateKey:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 n
    scalar = int.from_bytes(hashlib.sha256(seed).digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


class PacedLink:
    """A broker connection seen from virtual time.

    Virtual time runs far ahead of the real network, so after each publish the first poll
    that finds nothing waits (in wall time, at most ``grace`` seconds) for the broker's
    answer before the device is told that nothing came.
    """

    def __init__(self, link: DeviceLink, grace: float = 0.5) -> None:
        self.link = link
        self.grace = grace
        self._until = 0.0
        self._held: deque = deque()

    def __getattr__(self, name: str):
        return getattr(self.link, name)

    def publish(self, *args, **kwargs):
        self._until = time.monotonic() + self.grace
        return self.link.publish(*args, **kwargs)

    def pending(self) -> int:
        waiting = self.link.pending() + len(self._held)
        if waiting == 0 and time.monotonic() < self._until:
            msg = self.link.receive(timeout=self._until - time.monotonic())
            self._until = 0.0
            if msg is not None:
                self._held.append(msg)
        return self.link.pending() + len(self._held)

    def receive(self, timeout: float = 0.0):
        if self._held:
            return self._held.popleft()
        return self.link.receive(timeout)


class ScenarioRun:
    """One scenario on one fresh machine. With ``broker`` (host, port) the device and the
    cloud model talk through that MQTT broker instead of the in-process bus."""

    def __init__(self, scenario: Scenario, console: Callable[[bytes], None] | None = None,
                 broker: tuple[str, int] | None = None):
        self.scenario = scenario
        self.board = load_board(scenario.board)
        self.cpu = "m4f" if self.board.has_fpu else "m3"
        self.slots = slot_map(self.board)
        self.trusted = fixed_key(b"ota-emu scenario: trusted signer")
        self.untrusted = fixed_key(b"ota-emu scenario: a key the device does not trust")
        self.machine = Machine(self.board, console=console)
        self.bus = MessageBus()
        self.service = OtaService(self.bus, lambda: EPOCH + int(self.machine.seconds))
        self.bridge: CloudBridge | None = None
        self.lock = contextlib.nullcontext()
        if broker is None:
            self.link = BusLink(self.bus, client_id=THING)
        else:
            self.bridge = CloudBridge(self.bus, *broker)
            if self.bridge.start() is not LinkStatus.OK:
                raise InputError(f"cannot reach the MQTT broker at {broker[0]}:{broker[1]}")
            self.lock = self.bridge.lock
            self.link = PacedLink(DeviceLink(THING, *broker))

    # -- set-up -------------------------------------------------------------------------

    def _body(self, family: str, version: str, variant: str = "") -> bytes:
        base = self.slots.address(self.slots.primary) + 0x200
        return load_body(image_path(self.cpu, family, version, variant), base=base)

    def prepare(self) -> None:
        m, device = self.machine, self.scenario.device
        attach_boot(m, trusted_key=self.trusted.public_key())
        m.peripherals["crypto"].provision(0, self.trusted.public_key())
        m.peripherals["net"].attach(self.link)
        self.service.jobs(THING)  # the thing exists in the cloud before the device asks
        image = slot_image(self._body(device.image, device.version), self.trusted,
                           device.version, self.slots, confirm=device.confirmed)
        write_slot(m, self.slots, "primary", image)
        m.semihosting.cmdline = (f"block_size={device.block_size} "
                                 f"blocks_per_request={device.blocks_per_request} "
                                 f"request_timeout={device.request_timeout}")
        m.reset()

    # -- one job --------------------------------------------------------------------------

    def _signer(self, job: Job):
        return {"trusted": self.trusted, "untrusted": self.untrusted, "none": None}[job.signer]

    def ota_file(self, job: Job) -> tuple[bytes, bytes]:
        """The file the cloud streams (an MCUboot image) and its code-signing signature."""
        family = job.image or self.scenario.device.image
        body = bytearray(self._body(family, job.version, job.variant))
        if job.pad_to > len(body):
            # Filler after the code, so that the image has the size asked for (benchmarks).
            pattern = bytes((i * 151) & 0xFF for i in range(256))
            missing = job.pad_to - len(body)
            body += (pattern * (missing // 256 + 1))[:missing]
        if job.corrupt == "before-signing":
            body[4:8] = b"\xff\xff\xff\xff"  # the reset vector points nowhere
        key = self._signer(job)
        data = bytearray(mcuboot.sign(bytes(body), key, job.version, header_size=0x200,
                                      align=self.slots.align))
        if job.size:
            data = data[:job.size]
        signature = b""
        if key is not None:
            signature = bytearray(key.sign(bytes(data), SIGNING))
            if job.corrupt == "signature":
                signature[len(signature) // 2] ^= 0x01
        if job.corrupt == "after-signing":
            data[len(data) // 2] ^= 0x5A  # both signatures were made over the good bytes
        return bytes(data), bytes(signature)

    def _hooks(self, job: Job, job_id: str) -> list:
        net = self.machine.peripherals["net"]
        f = job.faults
        hooks: list = []
        if f.drop:
            hooks.append(wire.DropBlocks(f.drop))
        if f.duplicate:
            hooks.append(wire.DuplicateBlocks(f.duplicate))
        if f.reorder:
            hooks.append(wire.HoldBack(f.reorder))
        if f.corrupt:
            hooks.append(wire.CorruptBlocks(f.corrupt))
        if f.disconnect_at:
            hooks.append(wire.TriggerAt(f.disconnect_at, lambda b: net.drop_connection(),
                                        deliver=False))
        if f.cancel_at:
            jobs = self.service.jobs(THING)
            hooks.append(wire.TriggerAt(f.cancel_at,
                                        lambda b: jobs.cancel_job(job_id, force=True),
                                        deliver=False))
        return hooks

    def offer(self, job: Job, number: int) -> str:
        data, signature = self.ota_file(job)
        omit = []
        if not job.filepath:
            omit.append("filepath")
        if not signature:
            omit.append(job.signature_key)
        with self.lock:
            update = self._create(job, number, data, signature, omit)
        self.service.streams.hooks = self._hooks(job, update.job_id)
        return update.job_id

    def _create(self, job: Job, number: int, data: bytes, signature: bytes, omit: list[str]):
        return self.service.create_ota_update(
            THING, data, signature, version=job.version, update_id=f"update-{number}",
            protocols=job.protocols, faults=DocumentFaults(file_omit=tuple(omit)),
            filepath=job.filepath or "unused", sig_key=job.signature_key, certfile=CERTFILE)

    def run_job(self, job: Job, job_id: str, deadline: float) -> str:
        """Run until the job's status is final and the device has settled."""
        m = self.machine
        settled_at: list[float] = []

        def poll() -> None:
            with self.lock:
                status = self.service.final_status(job_id)
            if status in TERMINAL and not settled_at:
                settled_at.append(m.seconds + SETTLE_SECONDS)
            if settled_at and m.seconds >= settled_at[0]:
                m.request_stop("settled")
                return
            m.schedule(m.cycles(POLL_SECONDS), poll)

        poll.survives_reset = True  # the device resets during an update; the watch goes on
        m.schedule(m.cycles(POLL_SECONDS), poll)
        result = m.run(max_seconds=max(0.0, deadline - m.seconds))
        if result.status not in ("stopped", "time"):
            return f"the device stopped: {result.status}: {result.message}"
        return ""

    # -- verdicts --------------------------------------------------------------------------

    def running_version(self) -> str:
        text = self.machine.transcript.decode(errors="replace")
        marker = "[boot] booting primary v"
        at = text.rfind(marker)
        if at < 0:
            return ""
        return text[at + len(marker):].split()[0].split("+")[0].rstrip(",;:")

    def image_confirmed(self) -> bool:
        flash = self.machine.flash[self.slots.flash]
        slot = flash.read(self.slots.primary.offset, self.slots.primary.size)
        trailer = read_trailer(slot, self.slots.align, max_sectors=self.slots.max_sectors)
        return trailer.image_ok == Flag.SET

    def last_reason(self, job_id: str) -> str:
        for update in reversed(self.service.status_updates(job_id)):
            details = update.status_details or {}
            if isinstance(details, dict) and "reason" in details:
                return str(details["reason"])
        return ""

    def check(self, job: Job, job_id: str, console_from: int) -> list[str]:
        e, problems = job.expect, []
        status = self.service.final_status(job_id)
        if status != e.status:
            problems.append(f"job status {status}, expected {e.status}")
        reason = self.last_reason(job_id)
        if e.reason and e.reason not in reason:
            problems.append(f"reason {reason!r}, expected it to contain {e.reason!r}")
        if e.running_version and self.running_version() != e.running_version:
            problems.append(f"running v{self.running_version() or '?'}, "
                            f"expected v{e.running_version}")
        if e.image_confirmed is not None and self.image_confirmed() != e.image_confirmed:
            problems.append(f"image_ok {'set' if not e.image_confirmed else 'unset'}, "
                            f"expected {'set' if e.image_confirmed else 'unset'}")
        console = self.machine.transcript[console_from:].decode(errors="replace")
        problems += [f"console lacks {t!r}" for t in e.console_contains if t not in console]
        problems += [f"console shows {t!r}" for t in e.console_absent if t in console]
        return problems

    def run(self) -> Outcome:
        try:
            return self._run()
        finally:
            if self.bridge is not None:
                self.bridge.stop()
                self.link.disconnect()

    def _run(self) -> Outcome:
        wall0 = time.perf_counter()
        self.prepare()
        problems: list[str] = []
        budget = self.scenario.max_time
        for number, job in enumerate(self.scenario.jobs, start=1):
            console_from = len(self.machine.transcript)
            job_id = self.offer(job, number)
            stopped = self.run_job(job, job_id, budget)
            with self.lock:
                found = self.check(job, job_id, console_from)
            if stopped and found:
                found.append(stopped)
            problems += [f"job {number}: {p}" for p in found]
            if self.machine.seconds >= budget:
                problems.append(f"virtual-time budget of {budget:g} s used up")
                break
        virtual = self.machine.seconds
        self.machine.close()
        transcript = self.machine.transcript.decode(errors="replace")
        return Outcome(self.scenario.name, not problems, "; ".join(problems), virtual,
                       time.perf_counter() - wall0, transcript, problems)


def run_scenario(scenario: Scenario, console: Callable[[bytes], None] | None = None,
                 broker: tuple[str, int] | None = None) -> Outcome:
    try:
        return ScenarioRun(scenario, console, broker).run()
    except ScenarioError:
        raise
    except InputError as exc:
        return Outcome(scenario.name, False, str(exc))

