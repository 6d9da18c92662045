"""The stream model delivers file blocks as AWS IoT MQTT-based file delivery does."""

import base64
import json
import random

import cbor2
import pytest

from emu.cloud.errors import CloudError
from emu.cloud.faults import (
    CorruptBlocks,
    DropBlocks,
    DuplicateBlocks,
    HoldBack,
    TriggerAt,
)
from emu.cloud.mqtt import BusLink, MessageBus
from emu.cloud.streams import (
    GetRequest,
    StreamService,
    bitmap_blocks,
    make_bitmap,
    select_blocks,
)

THING = "dev1"
STREAM = "AFR_OTA-s1"
BASE = f"$aws/things/{THING}/streams/{STREAM}/"
BLOCK = 256
FILE = bytes(range(256)) * 10 + b"tail!"  # 2565 bytes: 10 full blocks and 5 bytes


class Device:
    """A device that sends stream requests and decodes what comes back."""

    def __init__(self, bus):
        self.link = BusLink(bus, "device")
        self.link.connect()
        for fmt in ("cbor", "json"):
            self.link.subscribe(BASE + "data/" + fmt)
            self.link.subscribe(BASE + "rejected/" + fmt)
            self.link.subscribe(BASE + "description/" + fmt)

    def get(self, fields, fmt="cbor", raw=None):
        """Send a GetStream request; return [(kind, decoded map)] of the answers."""
        payload = raw if raw is not None else encode(fields, fmt)
        self.link.publish(BASE + "get/" + fmt, payload)
        return self.answers()

    def answers(self):
        out = []
        while (msg := self.link.receive()) is not None:
            kind, fmt = msg.topic[len(BASE):].split("/")
            out.append((kind, decode(msg.payload, fmt)))
        return out


def encode(fields, fmt):
    return cbor2.dumps(fields) if fmt == "cbor" else json.dumps(fields).encode()


def decode(payload, fmt):
    return cbor2.loads(payload) if fmt == "cbor" else json.loads(payload)


def request(**fields):
    """An OTA-agent style CBOR request: token, file 0, 256-byte blocks, from block 0."""
    base = {"c": "rdy", "f": 0, "l": BLOCK, "o": 0}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def world():
    bus = MessageBus()
    service = StreamService(bus)
    service.add_stream(STREAM, {0: FILE, 3: b"x" * 300}, version=2, description="image")
    return service, Device(bus)


def indices(answers):
    assert all(kind == "data" for kind, _ in answers), answers
    return [body["i"] for _, body in answers]


def test_bitmap_bit_k_is_bit_k_mod_8_of_byte_k_div_8():
    # The worked example of the AWS guide: blocks 20, 21, 24 and 43 from offset 20.
    assert make_bitmap([20, 21, 24, 43], offset=20) == bytes([0x13, 0x00, 0x80])
    assert list(bitmap_blocks(bytes([0x13, 0x00, 0x80]), 20)) == [20, 21, 24, 43]


def test_cbor_request_and_data_blocks_round_trip(world):
    _, device = world
    answers = device.get(request(b=make_bitmap([0, 1]), n=2))
    assert answers == [
        ("data", {"c": "rdy", "f": 0, "i": 0, "l": BLOCK, "p": FILE[:BLOCK]}),
        ("data", {"c": "rdy", "f": 0, "i": 1, "l": BLOCK, "p": FILE[BLOCK:2 * BLOCK]}),
    ]


def test_only_blocks_whose_bit_is_set_are_sent_in_ascending_order(world):
    _, device = world
    answers = device.get(request(b=make_bitmap([7, 2, 9], length=2), n=10))
    assert indices(answers) == [2, 7, 9]


def test_bitmap_counts_from_the_offset(world):
    _, device = world
    assert indices(device.get(request(o=4, b=bytes([0b101]), n=10))) == [4, 6]


def test_number_of_blocks_limits_a_bitmap_request(world):
    _, device = world
    assert indices(device.get(request(b=b"\xff\xff", n=3))) == [0, 1, 2]


def test_bits_past_the_end_of_the_file_are_ignored(world):
    _, device = world
    assert indices(device.get(request(b=b"\x00\xfc\xff", n=0))) == [10]


def test_last_block_carries_the_exact_remainder(world):
    _, device = world
    [(_, last)] = device.get(request(o=10))
    assert (last["i"], last["l"], last["p"]) == (10, 5, b"tail!")


def test_request_without_bitmap_gets_n_blocks_from_the_offset(world):
    _, device = world
    assert indices(device.get(request(o=3, n=4))) == [3, 4, 5, 6]
    assert indices(device.get(request(o=8, n=10))) == [8, 9, 10]


def test_one_request_never_gets_more_than_128_kib():
    big = GetRequest(file_id=0, block_size=65536, count=5)
    assert select_blocks(10 * 65536, big) == [0, 1]
    default = GetRequest(file_id=0, block_size=4096)
    assert len(select_blocks(100 * 4096, default)) == 32


def test_repeated_request_is_answered_the_same_way(world):
    _, device = world
    first = device.get(request(b=make_bitmap([1, 5]), n=2))
    assert device.get(request(b=make_bitmap([1, 5]), n=2)) == first


def test_requests_are_recorded_with_the_blocks_they_got(world):
    service, device = world
    device.get(request(n=2))
    device.get(request(l=100))
    assert [(r.code, r.blocks) for r in service.requests] == [
        (None, (0, 1)), ("BlockSizeOutOfBounds", ())]


def test_json_variant_uses_base64_payloads_and_hex_bitmaps(world):
    _, device = world
    answers = device.get({"c": "j", "f": 0, "l": BLOCK, "b": "0x05", "n": 4}, fmt="json")
    assert [(b["i"], base64.b64decode(b["p"])) for _, b in answers] == [
        (0, FILE[:BLOCK]), (2, FILE[2 * BLOCK:3 * BLOCK])]


def test_describe_lists_the_files_and_the_version(world):
    _, device = world
    device.link.publish(BASE + "describe/cbor", cbor2.dumps({"c": "d1"}))
    [(kind, body)] = device.answers()
    assert kind == "description"
    assert body == {"c": "d1", "s": 2, "d": "image",
                    "r": [{"f": 0, "z": len(FILE)}, {"f": 3, "z": 300}]}


MALFORMED = [
    ("bad cbor", None, b"\xa1\x61", "InvalidCbor"),
    ("trailing bytes", None, cbor2.dumps({"f": 0, "l": 256}) + b"\x00", "InvalidCbor"),
    ("not a map", None, cbor2.dumps([0, 256]), "InvalidRequest"),
    ("token too long", {"c": "x" * 65, "f": 0, "l": 256}, None, "InvalidRequest"),
    ("token not text", {"c": 5, "f": 0, "l": 256}, None, "InvalidRequest"),
    ("stream version", request(s=1), None, "VersionMismatch"),
    ("no file id", request(f=None), None, "InvalidRequest"),
    ("file id range", request(f=256), None, "InvalidRequest"),
    ("unknown file", request(f=1), None, "ResourceNotFound"),
    ("no block size", request(l=None), None, "InvalidRequest"),
    ("block size text", request(l="256"), None, "InvalidRequest"),
    ("block size bool", request(l=True), None, "InvalidRequest"),
    ("block too small", request(l=255), None, "BlockSizeOutOfBounds"),
    ("block too big", request(l=131073), None, "BlockSizeOutOfBounds"),
    ("offset limit", request(o=98305), None, "OffsetOutOfBounds"),
    ("negative offset", request(o=-1), None, "OffsetOutOfBounds"),
    ("offset past file", request(o=11), None, "OffsetOutOfBounds"),
    ("count limit", request(n=98305), None, "BlockCountLimitExceeded"),
    ("bitmap too long", request(b=bytes(12288)), None, "BlockBitmapLimitExceeded"),
    ("bitmap as text", request(b="0xffff"), None, "InvalidRequest"),
]


@pytest.mark.parametrize(("why", "fields", "raw", "code"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_requests_are_rejected_with_the_aws_code(world, why, fields, raw, code):
    _, device = world
    answers = device.get(fields, raw=raw)
    assert len(answers) == 1 and answers[0][0] == "rejected", answers
    body = answers[0][1]
    assert body["o"] == code and body["m"]


def test_valid_token_is_echoed_in_errors_and_a_bad_one_is_not(world):
    _, device = world
    [(_, good)] = device.get(request(l=64))
    [(_, bad)] = device.get({"c": "x" * 65, "f": 0, "l": 256})
    assert good["c"] == "rdy" and "c" not in bad


def test_unknown_stream_is_resource_not_found(world):
    _, device = world
    topic = f"$aws/things/{THING}/streams/other/"
    device.link.subscribe(topic + "rejected/cbor")
    device.link.publish(topic + "get/cbor", cbor2.dumps(request()))
    msg = device.link.receive()
    assert msg.topic == topic + "rejected/cbor"
    assert cbor2.loads(msg.payload)["o"] == "ResourceNotFound"


def test_unknown_operation_is_an_invalid_topic(world):
    _, device = world
    device.link.publish(BASE + "fetch/cbor", cbor2.dumps(request()))
    assert device.answers() == [("rejected", {"o": "InvalidTopic", "m": pytest.approx(
        "the topic maps to no streaming API")})]


def test_deleted_stream_is_no_longer_served(world):
    service, device = world
    service.delete_stream(STREAM)
    [(kind, body)] = device.get(request())
    assert (kind, body["o"]) == ("rejected", "ResourceNotFound")


def test_random_payloads_are_always_answered_on_a_topic_never_raised(world):
    _, device = world
    rng = random.Random(1234)
    for _ in range(300):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        for fmt in ("cbor", "json"):
            answers = device.get(None, fmt=fmt, raw=raw)
            assert answers and {kind for kind, _ in answers} <= {"data", "rejected"}


def test_dropped_block_is_missing_once_then_served_on_re_request(world):
    service, device = world
    service.hooks.append(DropBlocks([1]))
    assert indices(device.get(request(n=3))) == [0, 2]
    assert indices(device.get(request(b=make_bitmap([1]), n=3))) == [1]


def test_duplicated_block_arrives_twice(world):
    service, device = world
    service.hooks.append(DuplicateBlocks([0]))
    assert indices(device.get(request(n=2))) == [0, 0, 1]


def test_held_back_block_arrives_after_the_next_one(world):
    service, device = world
    service.hooks.append(HoldBack([1]))
    assert indices(device.get(request(n=4))) == [0, 2, 1, 3]


def test_corrupted_block_has_one_flipped_byte(world):
    service, device = world
    service.hooks.append(CorruptBlocks([0], offset=3, mask=0x01))
    [(_, body)] = device.get(request(n=1))
    expected = bytearray(FILE[:BLOCK])
    expected[3] ^= 0x01
    assert body["p"] == bytes(expected) and body["l"] == BLOCK


def test_trigger_runs_its_action_at_block_k_and_can_swallow_it(world):
    service, device = world
    fired = []
    service.hooks.append(TriggerAt(2, lambda block: fired.append(block.index), deliver=False))
    assert indices(device.get(request(n=4))) == [0, 1, 3]
    assert indices(device.get(request(n=4))) == [0, 1, 2, 3]
    assert fired == [2]


def test_trigger_can_cut_the_device_link_mid_request(world):
    service, device = world
    service.hooks.append(TriggerAt(1, lambda _block: device.link.cut()))
    device.link.publish(BASE + "get/cbor", cbor2.dumps(request(n=4)))
    assert indices(device.answers()) == [0]


def test_stream_definition_mistakes_raise_cloud_error(world):
    service, _ = world
    with pytest.raises(CloudError):
        service.add_stream(STREAM, {0: b"x"})
    with pytest.raises(CloudError):
        service.add_stream("s2", {256: b"x"})
    with pytest.raises(CloudError):
        service.add_stream("a/b", {0: b"x"})
    with pytest.raises(CloudError):
        CorruptBlocks([0], mask=0)
