"""The network link: a stand-in for the Wi-Fi or cellular module of the AWS reference boards,
which runs TCP, TLS and MQTT itself and offers the microcontroller a command interface.

This is a device of our own design, documented register by register in docs/netlink.md. The
firmware writes the guest-RAM addresses and lengths of its buffers (client id, topic, payload)
into registers and then a command; the model reads and writes those buffers itself, like a DMA
engine, and is BUSY for the command's latency on the virtual clock. Received messages wait in
a bounded queue inside the model; the firmware looks at the head through the RX registers,
copies it out with RECV and drops it with RECV_ACK.

Behind the registers is a *link*: any object with the interface of
:class:`emu.cloud.mqtt.BusLink` or :class:`emu.cloud.broker_bridge.DeviceLink`, attached with
:meth:`NetLink.attach`. The model pulls received messages from the link every ``poll_ms`` of
virtual time while connected, and notices there when the link has gone down.

Not modelled: keep-alive pings, QoS 1 redelivery, TLS credentials (the link has them), and a
command in flight across :meth:`NetLink.snapshot` (a snapshot keeps registers and the queue
only).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import unicorn

from emu.cloud.mqtt import LinkStatus, Message
from emu.errors import BoardError
from emu.periph.base import RO, W1C, WO, Field, Peripheral, Reg, register

if TYPE_CHECKING:
    from emu.core.machine import Machine

log = logging.getLogger(__name__)

NETLINK_ID = 0x4E4C_4B31  # "NLK1"

# Command codes (CMD.OP).
CONNECT, DISCONNECT, SUBSCRIBE, UNSUBSCRIBE, PUBLISH, RECV, RECV_ACK = range(1, 8)
COMMAND_NAMES = {CONNECT: "connect", DISCONNECT: "disconnect", SUBSCRIBE: "subscribe",
                 UNSUBSCRIBE: "unsubscribe", PUBLISH: "publish", RECV: "recv",
                 RECV_ACK: "recv_ack"}

# Error codes (ERR.CODE).
(ERR_NONE, ERR_NO_NETWORK, ERR_REFUSED, ERR_TIMEOUT, ERR_UNREACHABLE, ERR_NOT_CONNECTED,
 ERR_REJECTED, ERR_TOO_LONG, ERR_BAD_ARGUMENT, ERR_BAD_ADDRESS, ERR_BAD_COMMAND,
 ERR_NO_MESSAGE, ERR_LINK_LOST) = range(13)

_LINK_ERRORS = {
    LinkStatus.OK: ERR_NONE,
    LinkStatus.NOT_CONNECTED: ERR_NOT_CONNECTED,
    LinkStatus.REFUSED: ERR_REFUSED,
    LinkStatus.TIMEOUT: ERR_TIMEOUT,
    LinkStatus.UNREACHABLE: ERR_UNREACHABLE,
    LinkStatus.REJECTED: ERR_REJECTED,
}

# STATUS bits.
BUSY, CONNECTED, RX_READY = 1 << 0, 1 << 1, 1 << 2
DONE, ERROR, RX_OVERFLOW, LINK_LOST = 1 << 8, 1 << 9, 1 << 10, 1 << 11
STICKY = DONE | ERROR | RX_OVERFLOW | LINK_LOST

# INTEN bits.
IE_DONE, IE_RX, IE_LINK = 1 << 0, 1 << 1, 1 << 2

# Limits of AWS IoT Core: client ids of 128 bytes, topics of 256 bytes, messages of 128 KiB.
MAX_CLIENT_ID = 128
MAX_TOPIC = 256
MAX_PAYLOAD = 128 * 1024

DEFAULT_LATENCY_MS = {"connect": 50.0, "disconnect": 1.0, "subscribe": 5.0,
                      "unsubscribe": 5.0, "publish": 2.0, "recv": 0.05, "recv_ack": 0.01}


class Link(Protocol):
    """What the model needs of a device link (BusLink and DeviceLink both qualify)."""

    def connect(self) -> LinkStatus: ...
    def subscribe(self, topic_filter: str, qos: int = 0) -> LinkStatus: ...
    def unsubscribe(self, topic_filter: str) -> LinkStatus: ...
    def publish(self, topic: str, payload: bytes | str, qos: int = 0) -> LinkStatus: ...
    def receive(self, timeout: float = 0.0) -> Message | None: ...
    def pending(self) -> int: ...
    def disconnect(self) -> LinkStatus: ...


class _Refused(Exception):
    """A command checked at the moment it is written and refused with an error code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _registers() -> tuple[Reg, ...]:
    status = (
        Field("BUSY", 0, access=RO, doc="a command is in progress"),
        Field("CONNECTED", 1, access=RO, doc="the MQTT connection is up"),
        Field("RX_READY", 2, access=RO, doc="at least one received message is queued"),
        Field("DONE", 8, access=W1C, doc="the last command has ended (see ERROR)"),
        Field("ERROR", 9, access=W1C, doc="the last command failed, or the link was lost "
              "while idle; ERR says why"),
        Field("RX_OVERFLOW", 10, access=W1C, doc="a message was dropped: the queue was full"),
        Field("LINK_LOST", 11, access=W1C, doc="the connection went down without DISCONNECT"),
    )
    inten = (Field("DONE", 0), Field("RX", 1), Field("LINK", 2))
    return (
        Reg(0x00, "ID", "identification", reset=NETLINK_ID, access=RO),
        Reg(0x04, "CMD", "command", access=WO, fields=(Field("OP", 0, 4),)),
        Reg(0x08, "STATUS", "status", fields=status),
        Reg(0x0C, "ERR", "error code of the last failure", access=RO,
            fields=(Field("CODE", 0, 8, RO),)),
        Reg(0x10, "INTEN", "interrupt enable", fields=inten),
        Reg(0x14, "CLIENT_ADDR", "client id buffer address"),
        Reg(0x18, "CLIENT_LEN", "client id length"),
        Reg(0x1C, "TOPIC_ADDR", "topic buffer address"),
        Reg(0x20, "TOPIC_LEN", "topic length, or topic buffer size for RECV"),
        Reg(0x24, "PAYLOAD_ADDR", "payload buffer address"),
        Reg(0x28, "PAYLOAD_LEN", "payload length, or payload buffer size for RECV"),
        Reg(0x2C, "QOS", "QoS of SUBSCRIBE and PUBLISH", fields=(Field("QOS", 0, 2),)),
        Reg(0x30, "RX_TOPIC_LEN", "topic length of the queued head message", access=RO),
        Reg(0x34, "RX_PAYLOAD_LEN", "payload length of the queued head message", access=RO),
        Reg(0x38, "RX_QOS", "delivered QoS of the queued head message", access=RO),
        Reg(0x3C, "RX_COUNT", "messages queued", access=RO),
        Reg(0x40, "RX_DROPPED", "messages dropped because the queue was full", access=RO),
        Reg(0x44, "MS", "milliseconds since power-on", access=RO),
        Reg(0x48, "MAX_TOPIC", "longest topic accepted", reset=MAX_TOPIC, access=RO),
        Reg(0x4C, "MAX_PAYLOAD", "longest payload accepted", reset=MAX_PAYLOAD, access=RO),
        Reg(0x50, "RX_DEPTH", "capacity of the receive queue", access=RO),
    )


@register("netlink")
class NetLink(Peripheral):
    """The network link module (docs/netlink.md).

    Parameters: ``irq`` (interrupt line, optional), ``latency_ms`` (a table of command name to
    milliseconds, overriding :data:`DEFAULT_LATENCY_MS`), ``rx_depth`` (messages the receive
    queue holds, 8), ``poll_ms`` (how often the link is polled while connected, 1 ms).
    """

    REGISTERS = _registers()
    SIZE = 0x100

    def __init__(self, machine: Machine | None, name: str, base: int, *,
                 irq: int | None = None, latency_ms: dict[str, float] | None = None,
                 rx_depth: int = 8, poll_ms: float = 1.0, **params: Any) -> None:
        if params:
            raise BoardError(f"{name}: unknown netlink parameter(s) {', '.join(params)}")
        if not isinstance(rx_depth, int) or rx_depth < 1:
            raise BoardError(f"{name}: rx_depth must be a positive integer, not {rx_depth!r}")
        if not isinstance(poll_ms, int | float) or poll_ms <= 0:
            raise BoardError(f"{name}: poll_ms must be a positive number, not {poll_ms!r}")
        self.irq = irq
        self.rx_depth = rx_depth
        self.poll_ms = float(poll_ms)
        self.latency_ms = dict(DEFAULT_LATENCY_MS)
        for command, ms in (latency_ms or {}).items():
            self._check_latency(name, command, ms)
            self.latency_ms[command] = float(ms)
        self.link: Link | None = None
        self.client_id = ""
        self._fail_connects = 0
        self._queue: deque[tuple[bytes, bytes, int]] = deque()
        self._command: Any = None
        self._poll_event: Any = None
        super().__init__(machine, name, base)

    @staticmethod
    def _check_latency(name: str, command: str, ms: Any) -> None:
        if command not in DEFAULT_LATENCY_MS:
            known = ", ".join(DEFAULT_LATENCY_MS)
            raise BoardError(f"{name}: no command {command!r} to set a latency for "
                             f"(known: {known})")
        if not isinstance(ms, int | float) or isinstance(ms, bool) or ms < 0:
            raise BoardError(f"{name}: latency of {command} must be a number of "
                             f"milliseconds >= 0, not {ms!r}")

    # -- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Registers to reset values, the queue emptied, an open connection closed (the module
        shares the board's reset line)."""
        self._cancel(self._command)
        self._cancel(self._poll_event)
        self._command = self._poll_event = None
        if self.link is not None and getattr(self, "regs", {}).get("STATUS", 0) & CONNECTED:
            self.link.disconnect()
        super().reset()
        self.regs["RX_DEPTH"] = self.rx_depth
        self._queue.clear()

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "queue": list(self._queue), "client_id": self.client_id}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self._queue = deque(state["queue"])
        self.client_id = state["client_id"]
        if self.connected and self._poll_event is None:
            self._schedule_poll()

    # -- the scenario side -----------------------------------------------------------------

    def attach(self, link: Link | None) -> None:
        """Plug in the link the module talks through (None unplugs it; CONNECT then fails
        with NO_NETWORK). A connection over the previous link counts as lost."""
        if self.connected:
            if self.link is not None:
                self.link.disconnect()
            self._lost()
        self.link = link

    @property
    def connected(self) -> bool:
        return bool(self.regs["STATUS"] & CONNECTED)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def fail_next_connects(self, count: int) -> None:
        """Make the next ``count`` CONNECT commands fail with REFUSED, as a broker would."""
        self._fail_connects = max(0, int(count))

    def drop_connection(self) -> None:
        """Lose the connection now: the link is cut and the firmware sees CONNECTED clear,
        LINK_LOST set and, when enabled, the interrupt."""
        if self.link is not None:
            cut = getattr(self.link, "cut", None)
            if cut is not None:
                cut()
            else:
                self.link.disconnect()
        if self.connected:
            self._lost()

    def set_latency(self, command: str, ms: float) -> None:
        """Change how long a command keeps the module busy (affects commands started later)."""
        self._check_latency(self.name, command, ms)
        self.latency_ms[command] = float(ms)

    def pump(self) -> None:
        """Take what the link has received into the queue now, without waiting for a poll."""
        if not self.connected or self.link is None:
            return
        if not self._link_up():
            self._lost()
            return
        while self.link.pending():
            msg = self.link.receive()
            if msg is None:
                break
            self._enqueue(msg)

    # -- registers -------------------------------------------------------------------------

    def read_MS(self) -> int:
        if self.machine is None:
            return 0
        return (self.machine.now * 1000 // self.machine.hz) & 0xFFFFFFFF

    def write_STATUS(self, value: int) -> None:
        self.regs["STATUS"] &= ~(value & STICKY)

    def write_INTEN(self, value: int) -> None:
        self.regs["INTEN"] = value & (IE_DONE | IE_RX | IE_LINK)

    def write_QOS(self, value: int) -> None:
        self.regs["QOS"] = value & 3

    def write_CMD(self, value: int) -> None:
        if self._command is not None:
            self.guest_error("CMD written while BUSY; ignored")
            return
        self.regs["STATUS"] &= ~(DONE | ERROR)
        self.regs["ERR"] = ERR_NONE
        op = value & 0xF
        starter = self._starters().get(op)
        if starter is None:
            self._end(ERR_BAD_COMMAND)
            return
        try:
            action = starter()
        except _Refused as refusal:
            self._end(refusal.code)
            return
        self._begin(COMMAND_NAMES[op], action)

    def _starters(self) -> dict[int, Callable[[], Callable[[], int]]]:
        return {CONNECT: self._start_connect, DISCONNECT: self._start_disconnect,
                SUBSCRIBE: self._start_subscribe, UNSUBSCRIBE: self._start_unsubscribe,
                PUBLISH: self._start_publish, RECV: self._start_recv,
                RECV_ACK: self._start_recv_ack}

    # -- command machinery -----------------------------------------------------------------

    def _begin(self, command: str, action: Callable[[], int]) -> None:
        """BUSY for the command's latency, then run ``action`` and report its error code."""
        self.regs["STATUS"] |= BUSY
        if self.machine is None:
            self._complete(action)
            return
        cycles = max(1, round(self.latency_ms[command] * self.machine.hz / 1000))
        self._command = self.machine.schedule(cycles, lambda: self._complete(action))

    def _complete(self, action: Callable[[], int]) -> None:
        self._command = None
        self.regs["STATUS"] &= ~BUSY
        self._end(action())

    def _end(self, code: int) -> None:
        """The command is over: DONE, and ERROR with ERR when ``code`` is not ERR_NONE."""
        self.regs["STATUS"] |= DONE
        if code != ERR_NONE:
            self.regs["STATUS"] |= ERROR
            self.regs["ERR"] = code
        self._interrupt(IE_DONE)

    def _interrupt(self, cause: int) -> None:
        if self.regs["INTEN"] & cause and self.irq is not None:
            self.raise_irq(int(self.irq))

    def _cancel(self, event: Any) -> None:
        if event is not None and self.machine is not None:
            self.machine.cancel(event)

    # -- commands --------------------------------------------------------------------------

    def _start_connect(self) -> Callable[[], int]:
        raw = self._read_buffer("CLIENT", MAX_CLIENT_ID)
        client_id = self._text(raw)
        return lambda: self._do_connect(client_id)

    def _do_connect(self, client_id: str) -> int:
        if self.link is None:
            return ERR_NO_NETWORK
        if self._fail_connects:
            self._fail_connects -= 1
            return ERR_REFUSED
        code = _LINK_ERRORS[self.link.connect()]
        if code == ERR_NONE:
            self.client_id = client_id
            if not self.connected:
                self.regs["STATUS"] = (self.regs["STATUS"] | CONNECTED) & ~LINK_LOST
                self._schedule_poll()
        return code

    def _start_disconnect(self) -> Callable[[], int]:
        return self._do_disconnect

    def _do_disconnect(self) -> int:
        if self.connected:
            self.regs["STATUS"] &= ~CONNECTED
            self._cancel(self._poll_event)
            self._poll_event = None
            if self.link is not None:
                self.link.disconnect()
        return ERR_NONE

    def _start_subscribe(self) -> Callable[[], int]:
        topic, qos = self._topic_and_qos()
        return lambda: self._on_link(lambda link: link.subscribe(topic, qos))

    def _start_unsubscribe(self) -> Callable[[], int]:
        self._require_connected()
        topic = self._text(self._read_buffer("TOPIC", MAX_TOPIC))
        return lambda: self._on_link(lambda link: link.unsubscribe(topic))

    def _start_publish(self) -> Callable[[], int]:
        topic, qos = self._topic_and_qos()
        payload = self._read_buffer("PAYLOAD", MAX_PAYLOAD, allow_empty=True)
        return lambda: self._on_link(lambda link: link.publish(topic, payload, qos))

    def _start_recv(self) -> Callable[[], int]:
        topic, payload, _qos = self._head()
        if len(topic) > self.regs["TOPIC_LEN"] or len(payload) > self.regs["PAYLOAD_LEN"]:
            raise _Refused(ERR_TOO_LONG)
        topic_addr, payload_addr = self.regs["TOPIC_ADDR"], self.regs["PAYLOAD_ADDR"]
        if not (self._writable(topic_addr, len(topic))
                and self._writable(payload_addr, len(payload))):
            raise _Refused(ERR_BAD_ADDRESS)
        return lambda: self._do_recv(topic_addr, topic, payload_addr, payload)

    def _do_recv(self, topic_addr: int, topic: bytes, payload_addr: int, payload: bytes) -> int:
        assert self.machine is not None
        try:
            if topic:
                self.machine.mem_write(topic_addr, topic)
            if payload:
                self.machine.mem_write(payload_addr, payload)
        except unicorn.UcError:
            return ERR_BAD_ADDRESS
        return ERR_NONE

    def _start_recv_ack(self) -> Callable[[], int]:
        self._head()
        return self._do_recv_ack

    def _do_recv_ack(self) -> int:
        self._queue.popleft()
        self._sync_rx()
        return ERR_NONE

    # -- command helpers -------------------------------------------------------------------

    def _on_link(self, operation: Callable[[Link], LinkStatus]) -> int:
        """Run a link operation at the end of a command, if the connection survived."""
        if not self.connected or self.link is None:
            return ERR_NOT_CONNECTED
        code = _LINK_ERRORS[operation(self.link)]
        if not self._link_up():
            self._lost()
            return ERR_LINK_LOST
        return code

    def _topic_and_qos(self) -> tuple[str, int]:
        self._require_connected()
        topic = self._text(self._read_buffer("TOPIC", MAX_TOPIC))
        if self.regs["QOS"] > 2:
            raise _Refused(ERR_BAD_ARGUMENT)
        return topic, self.regs["QOS"]

    def _require_connected(self) -> None:
        if not self.connected:
            raise _Refused(ERR_NOT_CONNECTED)

    def _head(self) -> tuple[bytes, bytes, int]:
        if not self._queue:
            raise _Refused(ERR_NO_MESSAGE)
        return self._queue[0]

    def _read_buffer(self, which: str, limit: int, allow_empty: bool = False) -> bytes:
        """The bytes of the CLIENT, TOPIC or PAYLOAD buffer, taken as the command starts."""
        addr, length = self.regs[f"{which}_ADDR"], self.regs[f"{which}_LEN"]
        if length > limit:
            raise _Refused(ERR_TOO_LONG)
        if length == 0:
            if allow_empty:
                return b""
            raise _Refused(ERR_BAD_ARGUMENT)
        if self.machine is None:
            raise _Refused(ERR_BAD_ADDRESS)
        try:
            return self.machine.mem_read(addr, length)
        except unicorn.UcError:
            raise _Refused(ERR_BAD_ADDRESS) from None

    @staticmethod
    def _text(raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(ERR_BAD_ARGUMENT) from None

    def _writable(self, addr: int, length: int) -> bool:
        """Whether the module may store ``length`` bytes at ``addr``: only into RAM."""
        if length == 0:
            return True
        board = getattr(self.machine, "board", None)
        if board is None:
            return self.machine is not None
        return any(m.kind == "ram" and m.base <= addr and addr + length <= m.end
                   for m in board.memories)

    # -- receiving -------------------------------------------------------------------------

    def _schedule_poll(self) -> None:
        if self.machine is None:
            return
        cycles = max(1, round(self.poll_ms * self.machine.hz / 1000))
        self._poll_event = self.machine.schedule(cycles, self._poll)

    def _poll(self) -> None:
        self._poll_event = None
        self.pump()
        if self.connected:
            self._schedule_poll()

    def _enqueue(self, msg: Message) -> None:
        if len(self._queue) >= self.rx_depth:
            self.regs["RX_DROPPED"] = (self.regs["RX_DROPPED"] + 1) & 0xFFFFFFFF
            self.regs["STATUS"] |= RX_OVERFLOW
            log.debug("%s: queue full, message on %s dropped", self.name, msg.topic)
        else:
            self._queue.append((msg.topic.encode("utf-8"), bytes(msg.payload), msg.qos))
            self._sync_rx()
        self._interrupt(IE_RX)

    def _sync_rx(self) -> None:
        """Show the head of the queue in the RX registers."""
        self.regs["RX_COUNT"] = len(self._queue)
        if self._queue:
            topic, payload, qos = self._queue[0]
            self.regs["STATUS"] |= RX_READY
        else:
            topic, payload, qos = b"", b"", 0
            self.regs["STATUS"] &= ~RX_READY
        self.regs["RX_TOPIC_LEN"] = len(topic)
        self.regs["RX_PAYLOAD_LEN"] = len(payload)
        self.regs["RX_QOS"] = qos

    # -- connection state ------------------------------------------------------------------

    def _link_up(self) -> bool:
        return self.link is not None and bool(getattr(self.link, "connected", True))

    def _lost(self) -> None:
        """The connection went down without DISCONNECT."""
        self.regs["STATUS"] = (self.regs["STATUS"] & ~CONNECTED) | LINK_LOST
        self._cancel(self._poll_event)
        self._poll_event = None
        if self._command is None:
            self.regs["STATUS"] |= ERROR
            self.regs["ERR"] = ERR_LINK_LOST
        log.debug("%s: connection lost", self.name)
        self._interrupt(IE_LINK)
