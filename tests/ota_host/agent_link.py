"""The world around the OTA agent when it runs on the host (tests/ota_host/agent_host.c).

:class:`HostBoard` starts the agent as a process per boot and answers its requests: network
calls go to a :class:`emu.cloud.mqtt.BusLink` on the cloud model's bus; PAL calls are judged
here (the agent's process keeps the bytes and sends the whole file when it closes it); resets
and activations go through a small bootloader model with MCUboot's test-swap rules:

* an activated image boots next, waiting for its commit (PendingCommit);
* a reset before the commit (Accepted) brings the previous image back;
* a committed image keeps running.

The fake signature of a file is its SHA-256 digest, and the version of an image is its first
four bytes (little-endian version word), so tests can make images of any version.

Virtual time moves only when the agent sleeps. While the link holds no message and no
scheduled action is due, a sleep may jump ahead by up to ``idle_step_ms``; the agent's
timeouts are then late by at most that much, never early.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emu.cloud.mqtt import BusLink, LinkStatus, Message, MessageBus

NET_CODES = {LinkStatus.OK: 0, LinkStatus.REFUSED: 2, LinkStatus.TIMEOUT: 3,
             LinkStatus.UNREACHABLE: 4, LinkStatus.NOT_CONNECTED: 5, LinkStatus.REJECTED: 6}
NET_NO_MESSAGE = 11
PAL_SIGNATURE_CHECK_FAILED = 0xE300_0000
PAL_BAD_SIGNER_CERT = 0xE700_0000
PAL_ACTIVATE_FAILED = 0xEC00_0000
STATE_PENDING_COMMIT, STATE_VALID = 1, 2
IMAGE_TESTING, IMAGE_ACCEPTED, IMAGE_REJECTED, IMAGE_ABORTED = 1, 2, 3, 4


def version_word(text: str) -> int:
    """The agent's version word of "major.minor.build"."""
    major, minor, build = (int(part) for part in text.split("."))
    return major << 24 | minor << 16 | build


def make_image(version: str, size: int, seed: int = 0) -> bytes:
    """An image of ``size`` bytes whose first word is the version."""
    body = bytes((i * 131 + seed * 17 + 5) & 0xFF for i in range(size - 4))
    return struct.pack("<I", version_word(version)) + body


def fake_signature(image: bytes) -> bytes:
    """The signature the host PAL accepts: the SHA-256 digest of the file."""
    return hashlib.sha256(image).digest()


@dataclass
class Boot:
    """One run of the agent: the version it ran and how it ended."""

    version: int
    ended_by: str = ""
    lines: list[str] = field(default_factory=list)


class HostBoard:
    """Runs the agent on the host against the cloud model, boot after boot."""

    def __init__(self, exe: Path, bus: MessageBus, thing: str, version: str, *,
                 config: dict[str, int] | None = None, signer_cert: str = "code_signer_cert.pem",
                 idle_step_ms: int = 100, quiet_ms: int = 40_000,
                 rx_depth: int | None = None) -> None:
        self.exe = exe
        self.bus = bus
        self.thing = thing
        self.link = BusLink(bus, thing)
        self.config = dict(config or {})
        self.signer_cert = signer_cert
        self.idle_step_ms = idle_step_ms
        self.quiet_ms = quiet_ms

        # The network module's receive queue: rx_depth messages, the rest dropped.
        self.rx_depth = rx_depth
        self.rx_queue: deque[Message] = deque()
        self.dropped = 0

        # The bootloader's view.
        self.running = version_word(version)
        self.previous: int | None = None
        self.pending = False

        # What the PAL saw in the current boot, and over the whole run.
        self.verified: bytes | None = None
        self.writes: Counter[int] = Counter()
        self.calls: list[str] = []
        self.boots: list[Boot] = []

        # Test controls.
        self.self_test_passes = True
        self.refuse_while_pending = False
        self.write_result: Callable[[int, int], int] = lambda offset, length: length
        self.set_state_result: Callable[[int], int] = lambda state: 0
        self.kill_after_accept = False  # one power loss, just before SUCCEEDED goes out
        self.now_ms = 0
        self._events: list[tuple[int, Callable[[], None]]] = []
        self._last_busy = 0

    # -- test API -------------------------------------------------------------------------

    def at(self, ms: int, action: Callable[[], None]) -> None:
        """Run ``action`` once virtual time reaches ``ms`` (counted over all boots)."""
        self._events.append((ms, action))
        self._events.sort(key=lambda event: event[0])

    @property
    def lines(self) -> list[str]:
        """Every console line of every boot."""
        return [line for boot in self.boots for line in boot.lines]

    def run(self, max_boots: int = 6, limit_ms: int = 1_500_000) -> list[Boot]:
        """Boot the agent until a boot ends quietly (idle for ``quiet_ms``), ``max_boots``
        boots have run, or virtual time passes ``limit_ms``."""
        while len(self.boots) < max_boots and self.now_ms < limit_ms:
            boot = self._boot(limit_ms)
            if boot.ended_by in ("quiet", "limit", "exit"):
                break
        return self.boots

    # -- one boot -------------------------------------------------------------------------

    def _boot(self, limit_ms: int) -> Boot:
        boot = Boot(self.running)
        self.boots.append(boot)
        self.verified = None
        self.link.refuse_connections = self.refuse_while_pending and self.pending
        args = [f"version={self.running}", f"thing={self.thing}",
                *(f"{k}={v}" for k, v in self.config.items())]
        proc = subprocess.Popen([str(self.exe), *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, bufsize=1)
        start = self.now_ms
        self._last_busy = start
        try:
            boot.ended_by = self._serve(proc, boot, start, limit_ms)
        finally:
            if proc.poll() is None:
                proc.stdin.write("X\n")
                proc.stdin.flush()
            proc.wait(timeout=30)
            self.link.cut()
            self.link.refuse_connections = False
            self.rx_queue.clear()
        if boot.ended_by == "exit" and proc.returncode != 0:
            raise AssertionError(f"agent_host exited with status {proc.returncode}")
        return boot

    def _serve(self, proc: subprocess.Popen[str], boot: Boot, start: int,
               limit_ms: int) -> str:
        """Answer requests until the boot ends; return why it ended."""
        assert proc.stdout is not None and proc.stdin is not None
        for raw in proc.stdout:
            stamp, word, *rest = raw.rstrip("\n").split(" ", 2)
            self.now_ms = start + int(stamp)
            self._run_due()
            if word == "LOG":
                boot.lines.append(" ".join(rest))
                continue
            reply = self._answer(word, rest[0] if rest else "")
            if reply in ("activate", "reset"):
                self._reboot(reply)
                return reply
            if self.now_ms - self._last_busy > self.quiet_ms:
                return "quiet"
            if self.now_ms > limit_ms:
                return "limit"
            proc.stdin.write(f"{reply}\n")
            proc.stdin.flush()
        return "exit"

    def _run_due(self) -> None:
        while self._events and self._events[0][0] <= self.now_ms:
            _, action = self._events.pop(0)
            action()

    def _reboot(self, why: str) -> None:
        """The bootloader's choice of the next image."""
        if why == "activate":
            self.previous, self.running, self.pending = self.running, self._new_version(), True
        elif self.pending:
            assert self.previous is not None
            self.running, self.pending = self.previous, False

    def _new_version(self) -> int:
        assert self.verified is not None
        return struct.unpack("<I", self.verified[:4])[0]

    # -- requests -------------------------------------------------------------------------

    def _answer(self, word: str, args: str) -> str:
        handler = getattr(self, f"_on_{word.lower()}")
        self.calls.append(word)
        return str(handler(args))

    def _on_sleep(self, args: str) -> int:
        wanted = int(args)
        if self.link.pending() or self.rx_queue:
            return wanted
        step = self.idle_step_ms
        if self._events:
            step = min(step, max(1, self._events[0][0] - self.now_ms))
        return max(wanted, step)

    def _on_conn(self, args: str) -> int:
        self._last_busy = self.now_ms
        return NET_CODES[self.link.connect()]

    def _on_disc(self, args: str) -> int:
        return NET_CODES[self.link.disconnect()]

    def _on_isconn(self, args: str) -> int:
        return int(self.link.connected)

    def _on_sub(self, args: str) -> int:
        qos, topic = args.split(" ", 1)
        return NET_CODES[self.link.subscribe(topic, int(qos))]

    def _on_unsub(self, args: str) -> int:
        return NET_CODES[self.link.unsubscribe(args)]

    def _on_pub(self, args: str) -> int:
        qos, topic, data = args.split(" ", 2)
        self._last_busy = self.now_ms
        payload = b"" if data == "-" else bytes.fromhex(data)
        if self.kill_after_accept and topic.endswith("/update") and b"SUCCEEDED" in payload:
            self.kill_after_accept = False
            return "reset"  # type: ignore[return-value]  # power lost before it went out
        return NET_CODES[self.link.publish(topic, payload, int(qos))]

    def _pump(self) -> None:
        """Move what the link received into the module's queue, as its poll does."""
        while (msg := self.link.receive()) is not None:
            if self.rx_depth is not None and len(self.rx_queue) >= self.rx_depth:
                self.dropped += 1
            else:
                self.rx_queue.append(msg)

    def _on_recv(self, args: str) -> str:
        if not self.link.connected:
            return str(NET_CODES[LinkStatus.NOT_CONNECTED])
        self._pump()
        if not self.rx_queue:
            return str(NET_NO_MESSAGE)
        msg = self.rx_queue.popleft()
        payload = msg.payload.hex() if msg.payload else "-"
        return f"0 {msg.topic} {payload}"

    def _on_dropped(self, args: str) -> int:
        return self.dropped

    def _on_create(self, args: str) -> int:
        self.verified = None
        return 0

    def _on_write(self, args: str) -> int:
        offset, length = (int(x) for x in args.split())
        self.writes[offset] += 1
        return self.write_result(offset, length)

    def _on_close(self, args: str) -> int:
        cert, sig, data = args.split(" ")
        image = b"" if data == "-" else bytes.fromhex(data)
        if cert != self.signer_cert:
            return PAL_BAD_SIGNER_CERT
        if sig == "-" or bytes.fromhex(sig) != fake_signature(image):
            return PAL_SIGNATURE_CHECK_FAILED
        self.verified = image
        return 0

    def _on_abort(self, args: str) -> int:
        return 0

    def _on_activate(self, args: str) -> str | int:
        return "activate" if self.verified is not None else PAL_ACTIVATE_FAILED

    def _on_reset(self, args: str) -> str:
        return "reset"

    def _on_setstate(self, args: str) -> int:
        state = int(args)
        result = self.set_state_result(state)
        if result == 0 and state == IMAGE_ACCEPTED:
            self.pending = False
        return result

    def _on_getstate(self, args: str) -> int:
        return STATE_PENDING_COMMIT if self.pending else STATE_VALID

    def _on_selftest(self, args: str) -> int:
        return int(self.self_test_passes)
