"""The in-process message bus follows the topic rules of MQTT 3.1.1, section 4.7."""

import pytest

from emu.cloud.mqtt import (
    SUBACK_FAILURE,
    BusLink,
    LinkStatus,
    MessageBus,
    topic_filter_error,
    topic_matches,
    topic_name_error,
)

# Examples from section 4.7 of MQTT 3.1.1 and the edges around them.
MATCHES = [
    ("sport/tennis/player1/#", "sport/tennis/player1", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/ranking", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
    ("sport/#", "sport", True),
    ("#", "sport/tennis", True),
    ("sport/tennis/+", "sport/tennis/player1", True),
    ("sport/tennis/+", "sport/tennis/player1/ranking", False),
    ("sport/tennis/+", "sport/tennis", False),
    ("sport/+", "sport", False),
    ("sport/+", "sport/", True),
    ("+/+", "/finance", True),
    ("/+", "/finance", True),
    ("+", "/finance", False),
    ("a/+/b", "a//b", True),
    ("ACCOUNTS", "Accounts", False),
    ("sport/tennis", "sport/tennis/", False),
    ("#", "$SYS/monitor", False),
    ("+/monitor/Clients", "$SYS/monitor/Clients", False),
    ("$SYS/#", "$SYS/monitor/Clients", True),
    ("$SYS/monitor/+", "$SYS/monitor/Clients", True),
    ("$aws/things/+/jobs/$next/get/+", "$aws/things/t1/jobs/$next/get/accepted", True),
]


@pytest.mark.parametrize(("topic_filter", "topic", "expected"), MATCHES)
def test_filter_matches_topics_as_mqtt_specifies(topic_filter, topic, expected):
    assert topic_matches(topic_filter, topic) is expected


@pytest.mark.parametrize("topic_filter", ["+", "#", "+/tennis/#", "sport/+/player1", "/", "a//#"])
def test_well_formed_filters_are_accepted(topic_filter):
    assert topic_filter_error(topic_filter) is None


@pytest.mark.parametrize("topic_filter", ["sport/tennis#", "sport/tennis/#/ranking", "sport+",
                                          "+a/b", "", "a\x00b", "#/a"])
def test_malformed_filters_are_refused(topic_filter):
    assert topic_filter_error(topic_filter) is not None


@pytest.mark.parametrize("topic", ["a/+", "a/#", "+", "", "x\x00"])
def test_names_with_wildcards_or_empty_cannot_be_published_to(topic):
    assert topic_name_error(topic) is not None


def test_topic_length_limit_is_65535_utf8_bytes():
    assert topic_name_error("a" * 65535) is None
    assert topic_name_error("a" * 65536) is not None
    assert topic_name_error("é" * 32768) is not None


def test_subscribers_receive_messages_in_publish_order_even_when_one_answers():
    bus = MessageBus()
    seen = []
    bus.subscribe("req", lambda m: bus.publish("ans", b"to " + m.payload))
    bus.subscribe("#", lambda m: seen.append((m.topic, m.payload)))
    bus.publish("req", b"1")
    bus.publish("req", b"2")
    assert seen == [("req", b"1"), ("ans", b"to 1"), ("req", b"2"), ("ans", b"to 2")]


def test_delivered_qos_is_the_lower_of_publish_and_granted_qos():
    bus = MessageBus(max_qos=1)
    got = []
    low = bus.subscribe("t", got.append, qos=0)
    high = bus.subscribe("t", got.append, qos=2)
    bus.publish("t", b"x", qos=1)
    assert (low.granted_qos, high.granted_qos) == (0, 1)
    assert [m.qos for m in got] == [0, 1]


def test_invalid_subscription_is_refused_with_suback_failure_and_never_delivers():
    bus = MessageBus()
    got = []
    sub = bus.subscribe("a/#/b", got.append)
    bus.publish("a/x/b", b"x")
    assert sub.granted_qos == SUBACK_FAILURE
    assert got == []


def test_publish_to_invalid_name_is_dropped_and_not_logged():
    bus = MessageBus()
    got = []
    bus.subscribe("#", got.append)
    assert bus.publish("a/+", b"x") is False
    assert got == [] and bus.log == []


def test_unsubscribed_callback_receives_nothing_more():
    bus = MessageBus()
    got = []
    sub = bus.subscribe("t", got.append)
    bus.publish("t", b"1")
    assert bus.unsubscribe(sub) is True
    bus.publish("t", b"2")
    assert [m.payload for m in got] == [b"1"]
    assert bus.unsubscribe(sub) is False


def test_subscription_removed_during_delivery_is_skipped():
    bus = MessageBus()
    got = []
    second = None

    def first(_msg):
        bus.unsubscribe(second)

    bus.subscribe("t", first)
    second = bus.subscribe("t", got.append)
    bus.publish("t", b"x")
    assert got == []


def test_log_keeps_every_accepted_publish_with_its_qos():
    bus = MessageBus()
    bus.publish("a", b"1", qos=1)
    bus.publish("b", "two")
    assert [(m.topic, m.payload, m.qos) for m in bus.log] == [("a", b"1", 1), ("b", b"two", 0)]


def test_bus_link_must_connect_before_it_can_publish():
    link = BusLink(MessageBus())
    assert link.publish("t", b"x") is LinkStatus.NOT_CONNECTED
    assert link.subscribe("t") is LinkStatus.NOT_CONNECTED
    assert link.connect() is LinkStatus.OK
    assert link.publish("t", b"x") is LinkStatus.OK


def test_bus_link_receives_one_copy_at_best_qos_for_overlapping_filters():
    bus = MessageBus()
    link = BusLink(bus)
    link.connect()
    link.subscribe("a/#", qos=0)
    link.subscribe("a/+", qos=1)
    bus.publish("a/b", b"x", qos=1)
    msg = link.receive()
    assert (msg.topic, msg.qos) == ("a/b", 1)
    assert link.receive() is None


def test_bus_link_refuses_bad_filters_and_topics():
    link = BusLink(MessageBus())
    link.connect()
    assert link.subscribe("a/#/b") is LinkStatus.REJECTED
    assert link.publish("a/#", b"x") is LinkStatus.REJECTED


def test_cut_link_loses_its_subscriptions_and_outage_refuses_reconnection():
    bus = MessageBus()
    link = BusLink(bus)
    link.connect()
    link.subscribe("t")
    link.cut()
    link.refuse_connections = True
    assert link.connect() is LinkStatus.REFUSED
    link.refuse_connections = False
    assert link.connect() is LinkStatus.OK
    bus.publish("t", b"x")
    assert link.receive() is None


def test_deferred_action_runs_after_messages_published_before_it():
    bus = MessageBus()
    seen = []
    bus.subscribe("t", lambda m: seen.append(m.payload))

    def answer(_msg):
        bus.publish("t", b"first")
        bus.defer(lambda: seen.append(b"action"))
        bus.publish("t", b"second")

    bus.subscribe("go", answer)
    bus.publish("go", b"")
    assert seen == [b"first", b"action", b"second"]
