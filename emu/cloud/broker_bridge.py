"""Broker mode: the cloud model as a client of a real MQTT broker, and the device's link to it.

:class:`CloudBridge` joins a :class:`MessageBus` (with the Jobs and stream models on it) to a
broker such as Mosquitto: it subscribes on the broker to the request topics of both services,
republishes each request on the bus, and sends whatever the models publish back to the broker.
:class:`DeviceLink` is the device side: connect, subscribe, publish, receive, with every failure
returned as a :class:`LinkStatus`, never raised. Both use paho-mqtt 2.x with the VERSION2
callback API and MQTT 3.1.1.

Threading: paho delivers broker messages on its network thread. The bridge holds
:attr:`CloudBridge.lock` while the models run; control-plane calls made from another thread
while the bridge runs (creating or cancelling a job) must hold it too.

Only the request topics in :data:`REQUEST_FILTERS` are bridged, so a device request to a
topic that maps to no API gets no InvalidTopic answer in this mode.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable

import paho.mqtt.client as paho

from emu.cloud.mqtt import (
    LinkStatus,
    Message,
    MessageBus,
    Subscription,
    topic_filter_error,
    topic_name_error,
)

log = logging.getLogger(__name__)

REQUEST_FILTERS = (
    "$aws/things/+/jobs/+/get",
    "$aws/things/+/jobs/+/update",
    "$aws/things/+/jobs/get",
    "$aws/things/+/jobs/start-next",
    "$aws/things/+/streams/+/get/+",
    "$aws/things/+/streams/+/describe/+",
)


class _Session:
    """A paho client with blocking, bounded waits for CONNACK and SUBACK."""

    def __init__(self, client_id: str) -> None:
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv311)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self._cond = threading.Condition()
        self._connack: bool | None = None
        self._subacks: dict[int, bool] = {}

    def connect(self, host: str, port: int, timeout: float, keepalive: int) -> LinkStatus:
        """Open the TCP connection and wait for a CONNACK."""
        self.client.connect_timeout = timeout
        try:
            self.client.connect(host, port, keepalive)
        except ConnectionRefusedError:
            return LinkStatus.REFUSED
        except TimeoutError:
            return LinkStatus.TIMEOUT
        except (OSError, ValueError):
            return LinkStatus.UNREACHABLE
        self.client.loop_start()
        with self._cond:
            self._cond.wait_for(lambda: self._connack is not None, timeout)
            accepted = self._connack
        if accepted:
            return LinkStatus.OK
        self.close()
        return LinkStatus.TIMEOUT if accepted is None else LinkStatus.REFUSED

    def subscribe(self, filters: Iterable[str], qos: int, timeout: float) -> LinkStatus:
        """Subscribe to several filters in one SUBSCRIBE and wait for the SUBACK."""
        if not self.client.is_connected():
            return LinkStatus.NOT_CONNECTED
        try:
            rc, mid = self.client.subscribe([(f, qos) for f in filters])
        except ValueError:
            return LinkStatus.REJECTED
        if rc != paho.MQTT_ERR_SUCCESS or mid is None:
            return LinkStatus.NOT_CONNECTED
        with self._cond:
            self._cond.wait_for(lambda: mid in self._subacks, timeout)
            granted = self._subacks.pop(mid, None)
        if granted is None:
            return LinkStatus.TIMEOUT
        return LinkStatus.OK if granted else LinkStatus.REJECTED

    def publish(self, topic: str, payload: bytes, qos: int, timeout: float) -> LinkStatus:
        """Publish; for QoS 1 and 2 wait up to ``timeout`` for the broker's acknowledgement."""
        if not self.client.is_connected():
            return LinkStatus.NOT_CONNECTED
        try:
            info = self.client.publish(topic, payload, qos)
        except ValueError:
            return LinkStatus.REJECTED
        if info.rc != paho.MQTT_ERR_SUCCESS:
            return LinkStatus.NOT_CONNECTED
        if qos == 0 or timeout <= 0:
            return LinkStatus.OK
        try:
            info.wait_for_publish(timeout)
        except RuntimeError:
            return LinkStatus.NOT_CONNECTED
        return LinkStatus.OK if info.is_published() else LinkStatus.TIMEOUT

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
        with self._cond:
            self._connack = None

    def _on_connect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        """paho: the CONNACK arrived."""
        with self._cond:
            self._connack = not reason_code.is_failure
            self._cond.notify_all()

    def _on_subscribe(self, _client, _userdata, mid, reason_codes, _properties) -> None:
        """paho: a SUBACK arrived; any failure code fails the whole request."""
        with self._cond:
            self._subacks[mid] = not any(rc.is_failure for rc in reason_codes)
            self._cond.notify_all()


class CloudBridge:
    """Serves the cloud models on a bus to the clients of a real broker."""

    def __init__(self, bus: MessageBus, host: str = "127.0.0.1", port: int = 1883,
                 client_id: str = "ota-emu-cloud", keepalive: int = 30) -> None:
        self.bus = bus
        self.host = host
        self.port = port
        self.keepalive = keepalive
        self.lock = threading.RLock()
        self._session = _Session(client_id)
        self._session.client.on_message = self._from_broker
        self._local: Subscription | None = None

    def start(self, timeout: float = 5.0) -> LinkStatus:
        """Connect, subscribe to the request topics and start forwarding answers."""
        status = self._session.connect(self.host, self.port, timeout, self.keepalive)
        if status is not LinkStatus.OK:
            return status
        status = self._session.subscribe(REQUEST_FILTERS, 1, timeout)
        if status is not LinkStatus.OK:
            self._session.close()
            return status
        self._local = self.bus.subscribe("$aws/#", self._to_broker, qos=1)
        return LinkStatus.OK

    def stop(self) -> None:
        """Stop forwarding and disconnect."""
        if self._local is not None:
            self.bus.unsubscribe(self._local)
            self._local = None
        self._session.close()

    def _from_broker(self, _client, _userdata, msg: paho.MQTTMessage) -> None:
        """A request from the broker: run it through the models."""
        with self.lock:
            self.bus.publish(msg.topic, msg.payload, msg.qos, sender=self)

    def _to_broker(self, msg: Message) -> None:
        """Something the models published: send it to the broker, unless it came from it."""
        if msg.sender is self:
            return
        self._session.publish(msg.topic, msg.payload, msg.qos, timeout=0)


class DeviceLink:
    """A device's MQTT connection to a broker, with the interface of
    :class:`emu.cloud.mqtt.BusLink`. Received messages wait in a thread-safe inbox."""

    def __init__(self, client_id: str = "device", host: str = "127.0.0.1", port: int = 1883,
                 keepalive: int = 60, timeout: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.keepalive = keepalive
        self.timeout = timeout
        self._session = _Session(client_id)
        self._session.client.on_message = self._on_message
        self._inbox: queue.Queue[Message] = queue.Queue()

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection and it is still up."""
        return self._session.client.is_connected()

    def connect(self) -> LinkStatus:
        """Connect to the broker and wait for its CONNACK."""
        if self.connected:
            return LinkStatus.OK
        return self._session.connect(self.host, self.port, self.timeout, self.keepalive)

    def subscribe(self, topic_filter: str, qos: int = 0) -> LinkStatus:
        """Subscribe and wait for the SUBACK; a malformed filter is refused here."""
        if topic_filter_error(topic_filter) is not None or qos not in (0, 1, 2):
            return LinkStatus.REJECTED
        return self._session.subscribe([topic_filter], qos, self.timeout)

    def unsubscribe(self, topic_filter: str) -> LinkStatus:
        """Unsubscribe without waiting for the UNSUBACK."""
        if not self.connected:
            return LinkStatus.NOT_CONNECTED
        try:
            self._session.client.unsubscribe(topic_filter)
        except ValueError:
            return LinkStatus.REJECTED
        return LinkStatus.OK

    def publish(self, topic: str, payload: bytes | str, qos: int = 0) -> LinkStatus:
        """Publish; QoS 1 waits for the PUBACK. A malformed topic is refused here."""
        if topic_name_error(topic) is not None:
            return LinkStatus.REJECTED
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        return self._session.publish(topic, data, qos, self.timeout)

    def receive(self, timeout: float = 0.0) -> Message | None:
        """The oldest received message, waiting up to ``timeout`` seconds; None if none."""
        try:
            if timeout <= 0:
                return self._inbox.get_nowait()
            return self._inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def pending(self) -> int:
        """How many received messages wait in the inbox."""
        return self._inbox.qsize()

    def disconnect(self) -> LinkStatus:
        """Disconnect cleanly and stop the network thread."""
        self._session.close()
        return LinkStatus.OK

    def cut(self) -> None:
        """Lose the connection; with no will messages in use this equals a disconnect."""
        self._session.close()

    def _on_message(self, _client, _userdata, msg: paho.MQTTMessage) -> None:
        """paho: a message for the device; queue it."""
        self._inbox.put(Message(msg.topic, bytes(msg.payload), msg.qos))
