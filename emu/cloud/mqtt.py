"""An in-process, MQTT-like message bus and a device link over it.

The bus follows the topic rules of MQTT 3.1.1 (OASIS standard, section 4.7, "Topic Names and
Topic Filters"):

* levels are separated by ``/``; empty levels are real levels (``a//b`` has three);
* ``+`` matches exactly one whole level, which may be empty;
* ``#`` matches the parent level and any number of child levels, and must be the last level;
* a topic whose first character is ``$`` is not matched by a filter that starts with ``+`` or
  ``#`` (4.7.2);
* names and filters are 1 to 65,535 UTF-8 bytes, never contain U+0000, and a topic name
  (what is published to) contains no wildcard.

Delivery is synchronous and deterministic: no threads, no timers. A message published while
another is being delivered (a subscriber that answers a request) waits in a FIFO queue, so every
subscriber sees messages in publish order; :meth:`MessageBus.defer` puts an action in the same
queue. Each matching subscription receives its own copy with
the QoS MQTT would give it, ``min(publish QoS, granted QoS)``.

Not modelled, because no OTA flow needs them: retained messages, wills, sessions that outlive a
disconnection, QoS 2 hand-shakes and packet ids, and redelivery of unacknowledged QoS 1 messages
(the bus never loses a message unless a fault hook asks it to).
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

log = logging.getLogger(__name__)
trace = logging.getLogger("emu.trace.cloud")

MAX_TOPIC_BYTES = 65535
SUBACK_FAILURE = 0x80  # the SUBACK return code of a refused subscription (3.9.3)


def topic_name_error(topic: str) -> str | None:
    """Say why ``topic`` cannot be published to, or return None when it is a valid name."""
    common = _common_error(topic)
    if common:
        return common
    if "+" in topic or "#" in topic:
        return "a topic name must not contain a wildcard"
    return None


def topic_filter_error(topic_filter: str) -> str | None:
    """Say why ``topic_filter`` cannot be subscribed to, or return None when it is valid."""
    common = _common_error(topic_filter)
    if common:
        return common
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return "'#' must be a whole level and the last one"
        if "+" in level and level != "+":
            return "'+' must be a whole level"
    return None


def _common_error(text: str) -> str | None:
    """Rules shared by names and filters: length and the null character."""
    if not text:
        return "a topic must be at least one character long"
    if "\x00" in text:
        return "a topic must not contain U+0000"
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TOPIC_BYTES:
        return "a topic must be at most 65535 bytes"
    return None


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether a valid ``topic_filter`` matches the valid topic name ``topic``."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    want = topic_filter.split("/")
    have = topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(have) or (level != "+" and level != have[i]):
            return False
    return len(want) == len(have)


@dataclass(frozen=True)
class Message:
    """One application message as a subscriber receives it.

    ``qos`` is the delivered QoS. ``sender`` is whoever published it (the bus compares it by
    identity only, so that a bridge can skip its own messages); ``serial`` counts publishes on
    the bus and is shared by every copy of one publish.
    """

    topic: str
    payload: bytes
    qos: int = 0
    sender: object = field(default=None, compare=False, repr=False)
    serial: int = field(default=0, compare=False)


@dataclass(eq=False)
class Subscription:
    """A subscription on the bus; ``granted_qos`` is what a SUBACK would carry."""

    topic_filter: str
    callback: Callable[[Message], None]
    granted_qos: int
    active: bool = True


class MessageBus:
    """Topic routing between the cloud models and the device side, in one thread."""

    def __init__(self, max_qos: int = 1, keep_log: bool = True) -> None:
        """``max_qos`` caps granted QoS (AWS IoT grants at most 1); ``keep_log`` records
        every accepted publish in :attr:`log` for transcripts and verdicts."""
        self.max_qos = max_qos
        self.keep_log = keep_log
        self.log: list[Message] = []
        self._subs: list[Subscription] = []
        self._queue: deque[Message | Callable[[], None]] = deque()
        self._delivering = False
        self._serial = 0

    def subscribe(self, topic_filter: str, callback: Callable[[Message], None],
                  qos: int = 0) -> Subscription:
        """Add a subscription. An invalid filter or QoS gives a subscription that never
        delivers and whose ``granted_qos`` is :data:`SUBACK_FAILURE`, as a broker's SUBACK."""
        reason = topic_filter_error(topic_filter)
        if reason is None and qos not in (0, 1, 2):
            reason = f"QoS {qos} does not exist"
        if reason is not None:
            log.debug("subscription to %r refused: %s", topic_filter, reason)
            return Subscription(topic_filter, callback, SUBACK_FAILURE, active=False)
        sub = Subscription(topic_filter, callback, min(qos, self.max_qos))
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> bool:
        """Remove a subscription; False when it was not active."""
        if not sub.active:
            return False
        sub.active = False
        self._subs.remove(sub)
        return True

    def publish(self, topic: str, payload: bytes | str, qos: int = 0,
                sender: object = None) -> bool:
        """Publish a message. Returns False (and delivers nothing) for an invalid topic name or
        QoS, which a broker would treat as a protocol violation."""
        reason = topic_name_error(topic)
        if reason is None and qos not in (0, 1, 2):
            reason = f"QoS {qos} does not exist"
        if reason is not None:
            log.debug("publish to %r dropped: %s", topic, reason)
            return False
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        self._serial += 1
        msg = Message(topic, data, qos, sender, self._serial)
        if self.keep_log:
            self.log.append(msg)
        self._queue.append(msg)
        self._drain()
        return True

    def defer(self, action: Callable[[], None]) -> None:
        """Run ``action`` once every message published before this call has been delivered
        (at once when nothing is pending). Fault triggers use it to act "on the wire"."""
        self._queue.append(action)
        self._drain()

    def subscriptions(self) -> list[Subscription]:
        """The active subscriptions, oldest first."""
        return list(self._subs)

    def _drain(self) -> None:
        """Deliver queued messages in order unless an outer call is already doing it."""
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._queue:
                item = self._queue.popleft()
                if isinstance(item, Message):
                    self._deliver(item)
                else:
                    item()
        finally:
            self._delivering = False

    def _deliver(self, msg: Message) -> None:
        """Hand one message to every subscription that matches it at this moment."""
        targets = [s for s in self._subs if topic_matches(s.topic_filter, msg.topic)]
        trace.debug("deliver %s (%d bytes) to %d", msg.topic, len(msg.payload), len(targets))
        for sub in targets:
            if sub.active:
                sub.callback(replace(msg, qos=min(msg.qos, sub.granted_qos)))


class LinkStatus(enum.Enum):
    """Outcome of a device-link operation; failures are values, never exceptions."""

    OK = "ok"
    NOT_CONNECTED = "not connected"
    REFUSED = "refused"  # the TCP connection or the broker's CONNACK said no
    TIMEOUT = "timeout"  # no CONNACK, SUBACK or PUBACK in time
    UNREACHABLE = "unreachable"  # no route, unknown host, other socket errors
    REJECTED = "rejected"  # invalid topic or filter, or a SUBACK failure code


class BusLink:
    """A device's MQTT connection to a :class:`MessageBus`, with the interface of
    :class:`emu.cloud.broker_bridge.DeviceLink`, so the network peripheral can use either.

    Sessions are clean: :meth:`disconnect` and :meth:`cut` drop every subscription. Overlapping
    subscriptions deliver one copy of a message at the highest QoS among them, which is what
    Mosquitto 2.0 does (MQTT 3.1.1 allows either one copy or one per subscription).
    """

    def __init__(self, bus: MessageBus, client_id: str = "device") -> None:
        self.bus = bus
        self.client_id = client_id
        self.connected = False
        self.refuse_connections = False  # set by a scenario to model an outage
        self._subs: dict[str, Subscription] = {}
        self._inbox: deque[Message] = deque()
        self._last_serial = 0

    def connect(self) -> LinkStatus:
        """Open the connection (a second call while connected is harmless)."""
        if self.refuse_connections:
            return LinkStatus.REFUSED
        self.connected = True
        return LinkStatus.OK

    def subscribe(self, topic_filter: str, qos: int = 0) -> LinkStatus:
        """Subscribe; a repeated filter replaces the old subscription as MQTT requires."""
        if not self.connected:
            return LinkStatus.NOT_CONNECTED
        sub = self.bus.subscribe(topic_filter, self._on_message, qos)
        if sub.granted_qos == SUBACK_FAILURE:
            return LinkStatus.REJECTED
        old = self._subs.pop(topic_filter, None)
        if old is not None:
            self.bus.unsubscribe(old)
        self._subs[topic_filter] = sub
        return LinkStatus.OK

    def unsubscribe(self, topic_filter: str) -> LinkStatus:
        """Drop one subscription (unknown filters are fine, as in MQTT)."""
        if not self.connected:
            return LinkStatus.NOT_CONNECTED
        sub = self._subs.pop(topic_filter, None)
        if sub is not None:
            self.bus.unsubscribe(sub)
        return LinkStatus.OK

    def publish(self, topic: str, payload: bytes | str, qos: int = 0) -> LinkStatus:
        """Publish through the bus."""
        if not self.connected:
            return LinkStatus.NOT_CONNECTED
        if not self.bus.publish(topic, payload, qos, sender=self):
            return LinkStatus.REJECTED
        return LinkStatus.OK

    def receive(self, timeout: float = 0.0) -> Message | None:
        """The oldest message not yet taken, or None. ``timeout`` is accepted for interface
        parity; the bus is synchronous, so there is never anything to wait for."""
        return self._inbox.popleft() if self._inbox else None

    def pending(self) -> int:
        """How many received messages wait in the inbox."""
        return len(self._inbox)

    def disconnect(self) -> LinkStatus:
        """Close the connection cleanly; subscriptions end with it."""
        self.cut()
        return LinkStatus.OK

    def cut(self) -> None:
        """Lose the connection abruptly (a fault hook's disconnect trigger)."""
        for sub in self._subs.values():
            self.bus.unsubscribe(sub)
        self._subs.clear()
        self.connected = False

    def _on_message(self, msg: Message) -> None:
        """Queue a delivered message once per publish, at the best QoS of its copies."""
        if msg.serial != self._last_serial:
            self._last_serial = msg.serial
            self._inbox.append(msg)
        elif self._inbox and self._inbox[-1].serial == msg.serial:
            if msg.qos > self._inbox[-1].qos:
                self._inbox[-1] = msg
