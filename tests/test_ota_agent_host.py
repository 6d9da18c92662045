"""The OTA agent's C code agrees with the cloud model, checked on the host.

The pure-C parts of firmware_images/ota (JSON reader, job-document parser, CBOR codec, base64,
bitmap, status payloads) are compiled with the host compiler into tests/ota_host/unit_driver,
one command per process. Job messages come from emu.cloud's Jobs model over a message bus,
data blocks from its stream service, and what the C code encodes goes back to those models or
to cbor2, so both sides must read each other.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
from pathlib import Path
from typing import Any

import cbor2
import pytest
from ota_host.build import PURE_SOURCES, build_program

from emu.cloud.mqtt import BusLink, MessageBus
from emu.cloud.ota_job import SIG_SHA256_RSA, DocumentFaults, OtaService
from emu.cloud.streams import bitmap_blocks, block_count, make_bitmap

THING = "ota-emu-device"
IMAGE = bytes((i * 31 + 7) & 0xFF for i in range(10_000))
SIGNATURE = bytes(range(1, 72))
JOBS = f"$aws/things/{THING}/jobs/"


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Path:
    """The unit driver, built once for this module."""
    out = tmp_path_factory.mktemp("ota_host")
    return build_program(out, "unit_driver", "unit_driver.c", PURE_SOURCES)


def run(driver: Path, *args: object, stdin: bytes | str = b"") -> dict[str, Any]:
    """Run one driver command and return the JSON object it prints."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run([str(driver), *map(str, args)], input=data, capture_output=True,
                          check=False, timeout=30)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


# -- job messages from the Jobs model --------------------------------------------------------

def next_job_message(faults: DocumentFaults | None = None, **options: Any) -> bytes:
    """The answer the Jobs model gives to a device's $next/get for a fresh OTA update."""
    bus = MessageBus()
    ota = OtaService(bus)
    ota.create_ota_update(THING, IMAGE, SIGNATURE, faults=faults, **options)
    return ask_next(bus)


def ask_next(bus: MessageBus) -> bytes:
    """Publish $next/get from a device link and return the accepted answer's payload."""
    link = BusLink(bus, THING)
    link.connect()
    link.subscribe(JOBS + "$next/get/accepted", 1)
    link.publish(JOBS + "$next/get", json.dumps({"clientToken": f"0:{THING}"}), 1)
    msg = link.receive()
    assert msg is not None
    link.disconnect()
    return msg.payload


def test_valid_job_document_parses_into_the_job_and_its_file(driver):
    msg = next_job_message(certfile="signer.crt", file_type=0, attr=3)
    execution = run(driver, "job-exec", stdin=msg)
    assert execution["status"] == "ok"
    assert execution["job_id"] == "AFR_OTA-update-1"
    assert execution["self_test"] is False
    parsed = run(driver, "job-file", stdin=msg)
    assert parsed == {
        "status": "ok", "stream": "AFR_OTA-update-1-stream", "filepath": "firmware.bin",
        "certfile": "signer.crt", "filesize": len(IMAGE), "fileid": 0, "file_type": 0,
        "attr": 3, "signature": SIGNATURE.hex()}


def test_notify_next_carries_the_same_job_document(driver):
    bus = MessageBus()
    link = BusLink(bus, THING)
    link.connect()
    link.subscribe(JOBS + "notify-next", 1)
    OtaService(bus).create_ota_update(THING, IMAGE, SIGNATURE)
    msg = link.receive()
    assert msg is not None and msg.topic == JOBS + "notify-next"
    assert run(driver, "job-exec", stdin=msg.payload)["job_id"] == "AFR_OTA-update-1"
    assert run(driver, "job-file", stdin=msg.payload)["status"] == "ok"


def test_missing_certfile_leaves_it_empty_for_the_agent_default(driver):
    msg = next_job_message(DocumentFaults(file_omit=("certfile",)))
    parsed = run(driver, "job-file", stdin=msg)
    assert (parsed["status"], parsed["certfile"]) == ("ok", "")


@pytest.mark.parametrize(("faults", "options", "status"), [
    (DocumentFaults(file_omit=("filepath",)), {}, "missing filepath"),
    (DocumentFaults(file_extra={"filepath": ""}), {}, "missing filepath"),
    (DocumentFaults(file_extra={"filepath": 7}), {}, "bad filepath"),
    (DocumentFaults(file_extra={"filepath": "p" * 129}), {}, "bad filepath"),
    (None, {"sig_key": SIG_SHA256_RSA}, "unsupported signature algorithm"),
    (None, {"sig_key": "sig-sha1-rsa"}, "unsupported signature algorithm"),
    (DocumentFaults(file_omit=("sig-sha256-ecdsa",)), {}, "no signature"),
    (DocumentFaults(file_extra={"sig-sha256-ecdsa": "not base64!"}), {}, "bad signature"),
    (DocumentFaults(file_extra={"sig-sha256-ecdsa": ""}), {}, "bad signature"),
    (DocumentFaults(file_extra={"sig-sha256-ecdsa": base64.b64encode(bytes(385)).decode()}),
     {}, "bad signature"),
    (None, {"protocols": ["HTTP"]}, "MQTT not in protocols"),
    (None, {"protocols": []}, "MQTT not in protocols"),
    (DocumentFaults(doc_omit=("protocols",)), {}, "no protocols"),
    (DocumentFaults(doc_extra={"protocols": "MQTT"}), {}, "no protocols"),
    (DocumentFaults(file_extra={"filesize": 0}), {}, "bad filesize"),
    (DocumentFaults(file_extra={"filesize": -1}), {}, "bad filesize"),
    (DocumentFaults(file_extra={"filesize": "10000"}), {}, "bad filesize"),
    (DocumentFaults(file_extra={"filesize": 1.5}), {}, "bad filesize"),
    (DocumentFaults(file_extra={"filesize": 2**32}), {}, "bad filesize"),
    (DocumentFaults(file_omit=("filesize",)), {}, "bad filesize"),
    (DocumentFaults(file_omit=("fileid",)), {}, "bad fileid"),
    (DocumentFaults(file_extra={"fileid": 256}), {}, "bad fileid"),
    (DocumentFaults(file_extra={"fileType": "0"}), {}, "bad fileType or attr"),
    (DocumentFaults(file_extra={"certfile": None}), {}, "bad certfile"),
    (DocumentFaults(doc_omit=("streamname",)), {}, "bad streamname"),
    (DocumentFaults(doc_extra={"streamname": ""}), {}, "bad streamname"),
    (DocumentFaults(doc_extra={"streamname": "a/b"}), {}, "bad streamname"),
    (DocumentFaults(doc_extra={"streamname": "s+"}), {}, "bad streamname"),
    (DocumentFaults(doc_extra={"files": []}), {}, "no files"),
    (DocumentFaults(doc_extra={"files": ["firmware.bin"]}), {}, "no files"),
    (DocumentFaults(doc_omit=("files",)), {}, "no files"),
])
def test_defective_job_documents_are_refused_with_the_reason(driver, faults, options, status):
    msg = next_job_message(faults, **options)
    assert run(driver, "job-exec", stdin=msg)["status"] == "ok"
    assert run(driver, "job-file", stdin=msg)["status"] == status


def test_mqtt_among_other_protocols_is_enough(driver):
    msg = next_job_message(protocols=["HTTP", "MQTT"])
    assert run(driver, "job-file", stdin=msg)["status"] == "ok"


def test_a_file_larger_than_the_bitmap_can_track_is_refused(driver):
    msg = next_job_message()
    assert run(driver, "job-file", len(IMAGE), stdin=msg)["status"] == "ok"
    assert run(driver, "job-file", len(IMAGE) - 1, stdin=msg)["status"] == "file too large"


def test_a_document_without_afr_ota_is_not_an_ota_job(driver):
    bus = MessageBus()
    OtaService(bus).jobs(THING).add_job("plain-job", {"operation": "reboot"})
    msg = ask_next(bus)
    assert run(driver, "job-exec", stdin=msg)["job_id"] == "plain-job"
    assert run(driver, "job-file", stdin=msg)["status"] == "not an OTA job"


def test_no_pending_job_is_reported_as_none(driver):
    bus = MessageBus()
    OtaService(bus).jobs(THING)
    msg = ask_next(bus)
    assert "execution" not in json.loads(msg)
    assert run(driver, "job-exec", stdin=msg)["status"] == "no job pending"


def test_self_test_details_come_back_from_the_jobs_model(driver):
    bus = MessageBus()
    ota = OtaService(bus)
    update = ota.create_ota_update(THING, IMAGE, SIGNATURE)
    ready = run(driver, "status", "self-test", "ready", 0x0100_0000)["text"]
    link = BusLink(bus, THING)
    link.connect()
    link.publish(f"{JOBS}{update.job_id}/update", ready, 1)
    msg = ask_next(bus)
    execution = run(driver, "job-exec", stdin=msg)
    assert execution == {"status": "ok", "job_id": update.job_id, "self_test": True,
                         "phase": "ready", "has_updated_by": True, "updated_by": 0x0100_0000}


@pytest.mark.parametrize(("updated_by", "value"), [
    ('"0x1000002"', 0x0100_0002), ('"0X10a"', 0x10A), ('"65536"', 65536), ("258", 258),
])
def test_updated_by_is_read_as_hex_text_decimal_text_or_a_number(driver, updated_by, value):
    msg = ('{"execution":{"jobId":"j1","statusDetails":{"self_test":"active",'
           f'"updatedBy":{updated_by}}}}}}}')
    assert run(driver, "job-exec", stdin=msg)["updated_by"] == value


@pytest.mark.parametrize("updated_by", ['"0x"', '"v1"', '"0x100000000"', "-1", '""', "[]"])
def test_a_malformed_updated_by_is_refused(driver, updated_by):
    msg = f'{{"execution":{{"jobId":"j1","statusDetails":{{"updatedBy":{updated_by}}}}}}}'
    assert run(driver, "job-exec", stdin=msg)["status"] == "bad statusDetails"


@pytest.mark.parametrize("job_id", ['""', '"a/b"', '"a+b"', '"' + "j" * 65 + '"', "12"])
def test_job_ids_that_cannot_be_a_topic_level_are_refused(driver, job_id):
    msg = f'{{"execution":{{"jobId":{job_id}}}}}'
    assert run(driver, "job-exec", stdin=msg)["status"] == "bad job id"


@pytest.mark.parametrize("text", ["", "null", "[1]", '{"execution":', "{} x", "{'a':1}"])
def test_text_that_is_not_a_json_object_is_refused(driver, text):
    assert run(driver, "job-exec", stdin=text)["status"] == "not a JSON object"


# -- the JSON reader -------------------------------------------------------------------------

def test_strings_are_unescaped_to_utf8(driver):
    doc = r'{"a":"x\u00e9\ud83d\ude00\n\"\\\/\t y","b":"caf' + "\u00e9" + '"}'
    assert bytes.fromhex(run(driver, "json-path", "a", stdin=doc)["string"]) == \
        "x\u00e9\U0001F600\n\"\\/\t y".encode()
    assert bytes.fromhex(run(driver, "json-path", "b", stdin=doc)["string"]) == \
        "caf\u00e9".encode()


@pytest.mark.parametrize("escape", [r"\ud83d", r"\ude00", r"\ud83dx", r"\u0000"])
def test_lone_surrogates_and_nul_are_refused_when_read(driver, escape):
    result = run(driver, "json-path", "a", stdin=f'{{"a":"{escape}"}}')
    assert result["status"] == "ok" and "string" not in result


@pytest.mark.parametrize("doc", [
    '{"a":"\x01"}', '{"a":"\\x"}', '{"a":"\\u12g4"}', '{"a":01}', '{"a":1.}', '{"a":-}',
    '{"a":1e}', '{"a":tru}', '{"a" 1}', '{"a":1,}', '[1,]', '{"a":[1 2]}', '"open',
])
def test_malformed_json_is_a_syntax_error(driver, doc):
    assert run(driver, "json-path", "a", stdin=doc)["status"] == "syntax error"


def test_nesting_is_limited_to_sixteen_levels(driver):
    ok = '{"a":' + "[" * 15 + "]" * 15 + "}"
    deep = '{"a":' + "[" * 16 + "]" * 16 + "}"
    assert run(driver, "json-path", "a", stdin=ok)["status"] == "ok"
    assert run(driver, "json-path", "a", stdin=deep)["status"] == "syntax error"


def test_the_first_of_two_equal_keys_counts(driver):
    doc = '{"a":{"b":1},"a":{"b":2}}'
    assert run(driver, "json-path", "a.b", stdin=doc)["u32"] == 1


def test_escaped_keys_match_their_unescaped_name(driver):
    assert run(driver, "json-path", "jobId", stdin='{"job\\u0049d":"x"}')["status"] == "ok"


@pytest.mark.parametrize(("number", "value"), [("0", 0), ("4294967295", 4294967295)])
def test_integers_up_to_32_bits_are_read(driver, number, value):
    assert run(driver, "json-path", "n", stdin=f'{{"n":{number}}}')["u32"] == value


@pytest.mark.parametrize("number", ["4294967296", "-1", "1.0", "1e2", "-0"])
def test_other_numbers_are_not_32_bit_integers(driver, number):
    result = run(driver, "json-path", "n", stdin=f'{{"n":{number}}}')
    assert result["status"] == "ok" and "u32" not in result


def test_corrupted_job_messages_never_crash_the_parser(driver):
    rng = random.Random(1)
    msg = bytearray(next_job_message())
    for _ in range(40):
        bad = bytearray(msg)
        for _ in range(rng.randint(1, 4)):
            bad[rng.randrange(len(bad))] = rng.choice(b'{}[]",:\\0a\x00\xff ')
        cut = bad[:rng.randrange(len(bad) + 1)]
        for data in (bytes(bad), bytes(cut)):
            assert run(driver, "job-exec", stdin=data)["status"]
            assert run(driver, "job-file", stdin=data)["status"]


# -- GetStream requests ----------------------------------------------------------------------

def get_request(driver, file_id=0, block_size=4096, offset=0, count=1, bitmap=b"\x07",
                token: str | None = "rdy") -> bytes:
    args = [file_id, block_size, offset, count, bitmap.hex() if bitmap is not None else "-"]
    if token is not None:
        args.append(token)
    result = run(driver, "cbor-get", *args)
    assert result["length"] == len(result["cbor"]) // 2
    return bytes.fromhex(result["cbor"])


def test_get_stream_request_decodes_with_cbor2_to_the_agent_fields(driver):
    bitmap = make_bitmap([0, 1, 2, 9, 10], length=2)
    encoded = get_request(driver, 3, 1024, 0, 4, bitmap)
    assert cbor2.loads(encoded) == {"c": "rdy", "f": 3, "l": 1024, "o": 0, "b": bitmap,
                                    "n": 4}
    assert list(cbor2.loads(encoded)) == ["c", "f", "l", "o", "b", "n"]


def test_get_stream_request_uses_the_shortest_integer_heads(driver):
    for value in (0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1):
        encoded = get_request(driver, value, 256, 0, 1, None, None)
        assert cbor2.loads(encoded)["f"] == value
        assert encoded == cbor2.dumps({"f": value, "l": 256, "o": 0, "n": 1})


def test_get_stream_request_with_a_large_bitmap(driver):
    bitmap = random.Random(2).randbytes(300)
    assert cbor2.loads(get_request(driver, bitmap=bitmap))["b"] == bitmap


def test_get_stream_request_that_does_not_fit_returns_zero(driver):
    full = len(get_request(driver))
    result = run(driver, "cbor-get", 0, 4096, 0, 1, "07", "rdy", full - 1)
    assert result["length"] == 0
    assert run(driver, "cbor-get", 0, 4096, 0, 1, "07", "rdy", full)["length"] == full


def stream_exchange(request: bytes, image: bytes = IMAGE) -> list[bytes]:
    """Send a C-encoded GetStream request to the stream service; return the data blocks."""
    bus = MessageBus()
    ota = OtaService(bus)
    update = ota.create_ota_update(THING, image, SIGNATURE)
    base = f"$aws/things/{THING}/streams/{update.stream_id}/"
    link = BusLink(bus, THING)
    link.connect()
    link.subscribe(base + "data/cbor", 0)
    link.subscribe(base + "rejected/cbor", 0)
    link.publish(base + "get/cbor", request, 0)
    out = []
    while (msg := link.receive()) is not None:
        assert msg.topic == base + "data/cbor", cbor2.loads(msg.payload)
        out.append(msg.payload)
    return out


def test_the_stream_service_answers_the_c_request_with_the_wanted_blocks(driver):
    blocks = block_count(len(IMAGE), 1024)
    wanted = [1, 4, 9]
    request = get_request(driver, 0, 1024, 0, 8, make_bitmap(wanted, length=(blocks + 7) // 8))
    answered = [cbor2.loads(m)["i"] for m in stream_exchange(request)]
    assert answered == wanted


def test_the_stream_service_honours_the_block_count_of_the_c_request(driver):
    bitmap = make_bitmap(range(10), length=2)
    answered = stream_exchange(get_request(driver, 0, 1024, 0, 3, bitmap))
    assert [cbor2.loads(m)["i"] for m in answered] == [0, 1, 2]


# -- data blocks -----------------------------------------------------------------------------

def test_data_blocks_from_the_stream_service_decode_in_c(driver):
    blocks = block_count(len(IMAGE), 4096)
    bitmap = make_bitmap(range(blocks), length=1)
    messages = stream_exchange(get_request(driver, 0, 4096, 0, blocks, bitmap))
    assert len(messages) == blocks
    for index, payload in enumerate(messages):
        decoded = run(driver, "cbor-block", stdin=payload)
        chunk = IMAGE[index * 4096:(index + 1) * 4096]
        assert decoded == {"status": "ok", "f": 0, "i": index, "l": len(chunk),
                           "p": chunk.hex()}


def test_a_block_without_client_token_decodes(driver):
    data = cbor2.dumps({"f": 2, "i": 70000, "l": 3, "p": b"abc"})
    assert run(driver, "cbor-block", stdin=data) == {
        "status": "ok", "f": 2, "i": 70000, "l": 3, "p": "616263"}


def test_unknown_keys_of_any_shape_are_skipped(driver):
    data = cbor2.dumps({"x": [1, {"y": b"z"}, -5, 1.5, None, True], 7: "seven",
                        "f": 0, "i": 1, "l": 1, "p": b"q", "c": "rdy",
                        "t": cbor2.CBORTag(1, 1700000000)})
    assert run(driver, "cbor-block", stdin=data)["status"] == "ok"


@pytest.mark.parametrize(("data", "status"), [
    (b"", "malformed"),
    (cbor2.dumps({"f": 0, "i": 1, "l": 2, "p": b"ab"})[:-1], "malformed"),
    (cbor2.dumps({"f": 0, "i": 1, "l": 2, "p": b"ab"}) + b"\x00", "trailing bytes"),
    (cbor2.dumps([0, 1, 2]), "not a map"),
    (cbor2.dumps({"f": 0, "i": 1, "l": 2}), "missing key"),
    (cbor2.dumps({"f": 0, "i": 1, "p": b"ab"}), "missing key"),
    (cbor2.dumps({"f": 0, "i": 1, "l": 2, "p": "ab"}), "wrong type"),
    (cbor2.dumps({"f": -1, "i": 1, "l": 2, "p": b"ab"}), "wrong type"),
    (cbor2.dumps({"f": 0, "i": 2**32, "l": 2, "p": b"ab"}), "integer out of range"),
    (cbor2.dumps({"f": 0, "i": 1, "l": 3, "p": b"ab"}), "length mismatch"),
    (b"\xa5\x61f\x00\x61i\x01\x61l\x00\x61p\x40", "malformed"),
    (b"\xa5\x61f\x00\x61f\x01\x61i\x00\x61l\x00\x61p\x40", "duplicate key"),
    (b"\xbf\x61f\x00\xff", "malformed"),
    (b"\xa4\x61f\x00\x61i\x00\x61l\x00\x61p\x5f\x40\xff", "malformed"),
    (b"\xa1\x61x" + b"\x81" * 9 + b"\x00", "malformed"),
    (b"\xa1\x61x\x1c", "malformed"),
])
def test_malformed_blocks_are_refused_with_the_reason(driver, data, status):
    assert run(driver, "cbor-block", stdin=data)["status"] == status


def test_corrupted_blocks_never_crash_the_decoder(driver):
    rng = random.Random(3)
    good = cbor2.dumps({"c": "rdy", "f": 0, "i": 5, "l": 40, "p": bytes(range(40))})
    for _ in range(60):
        bad = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        assert run(driver, "cbor-block", stdin=bytes(bad))["status"]


# -- bitmap ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("blocks", "received"), [
    (1, []), (1, [0]), (7, [0, 6]), (8, []), (9, [8]), (64, list(range(0, 64, 3))),
    (1000, [0, 1, 7, 8, 500, 999]), (1024, list(range(1024))),
])
def test_bitmap_matches_the_cloud_model(driver, blocks, received):
    result = run(driver, "bitmap", blocks, *received)
    needed = sorted(set(range(blocks)) - set(received))
    length = (blocks + 7) // 8
    assert bytes.fromhex(result["bitmap"]) == make_bitmap(needed, length=length)
    assert list(bitmap_blocks(bytes.fromhex(result["bitmap"]))) == needed
    assert result["needed"] == len(needed)


def test_bitmap_high_bits_of_the_last_byte_stay_clear(driver):
    assert run(driver, "bitmap", 11)["bitmap"] == "ff07"


@pytest.mark.parametrize(("size", "block_size"), [
    (1, 256), (256, 256), (257, 256), (10_000, 4096), (8192, 4096), (65_537, 1024),
])
def test_block_count_and_lengths_match_the_stream_service(driver, size, block_size):
    result = run(driver, "blocks", size, block_size)
    count = block_count(size, block_size)
    assert result["count"] == count
    data = bytes(size)
    expected = [len(data[i * block_size:(i + 1) * block_size]) for i in range(count)]
    assert result["lengths"] == [*expected, 0]


# -- base64 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 63, 64, 71, 72, 256, 384])
def test_base64_signatures_decode(driver, length):
    sig = random.Random(length).randbytes(length)
    text = base64.b64encode(sig).decode()
    assert run(driver, "base64", stdin=text) == {"status": "ok", "data": sig.hex()}
    assert run(driver, "base64", stdin=text.rstrip("="))["data"] == sig.hex()


@pytest.mark.parametrize(("text", "status"), [
    ("QUJD!", "bad char"), ("QU JD", "bad char"), ("QUJD\n", "bad char"),
    ("Q", "bad length"), ("QUJDR", "bad length"), ("QQ=", "bad padding"),
    ("Q=JD", "bad padding"), ("QR==", "bad padding"), ("QUI=QUI=", "bad padding"),
    ("QUJ=", "bad padding"),
])
def test_malformed_base64_is_refused(driver, text, status):
    assert run(driver, "base64", stdin=text)["status"] == status


def test_base64_longer_than_the_buffer_is_refused(driver):
    text = base64.b64encode(bytes(10)).decode()
    assert run(driver, "base64", 10, stdin=text)["status"] == "ok"
    assert run(driver, "base64", 9, stdin=text)["status"] == "too long"


# -- status payloads and topics --------------------------------------------------------------

def test_status_payloads_have_the_shape_aws_expects(driver):
    def status(*args: object) -> Any:
        return json.loads(run(driver, "status", *args)["text"])

    assert status("progress", 64, 300) == {
        "status": "IN_PROGRESS", "statusDetails": {"receive": "64/300"}}
    assert status("self-test", "active", 0x0100_0003) == {
        "status": "IN_PROGRESS",
        "statusDetails": {"self_test": "active", "updatedBy": "0x1000003"}}
    assert status("succeeded", 0x0102_0003) == {
        "status": "SUCCEEDED", "statusDetails": {"reason": "accepted v1.2.3"}}
    assert status("failed", 'job document: "x"\\') == {
        "status": "FAILED", "statusDetails": {"reason": 'job document: "x"\\'}}
    assert status("get-next", 7, THING) == {"clientToken": f"7:{THING}"}


def test_topics_follow_the_aws_layout(driver):
    def text(*args: object) -> str:
        return run(driver, "status", *args)["text"]

    assert text("update-topic", THING, "AFR_OTA-u1") == f"{JOBS}AFR_OTA-u1/update"
    assert text("stream-topic", THING, "s1", "get/cbor") == \
        f"$aws/things/{THING}/streams/s1/get/cbor"


def test_the_client_token_is_cut_to_64_bytes(driver):
    thing = "t" * 100
    token = json.loads(run(driver, "status", "get-next", 12, thing)["text"])["clientToken"]
    assert token == ("12:" + thing)[:64]


def test_the_jobs_model_accepts_every_status_payload_of_the_agent(driver):
    bus = MessageBus()
    ota = OtaService(bus)
    update = ota.create_ota_update(THING, IMAGE, SIGNATURE)
    link = BusLink(bus, THING)
    link.connect()
    link.subscribe(f"{JOBS}{update.job_id}/update/+", 1)
    payloads = [("progress", 64, 300), ("self-test", "ready", 0x0100_0000),
                ("self-test", "active", 0x0100_0001), ("succeeded", 0x0100_0001)]
    for args in payloads:
        link.publish(f"{JOBS}{update.job_id}/update", run(driver, "status", *args)["text"], 1)
        answer = link.receive()
        assert answer is not None and answer.topic.endswith("/accepted"), answer
    assert ota.final_status(update.job_id) == "SUCCEEDED"


def test_the_jobs_model_accepts_a_failure_report(driver):
    bus = MessageBus()
    ota = OtaService(bus)
    update = ota.create_ota_update(THING, IMAGE, SIGNATURE)
    link = BusLink(bus, THING)
    link.connect()
    text = run(driver, "status", "failed", "close file: 0xe3000000")["text"]
    link.publish(f"{JOBS}{update.job_id}/update", text, 1)
    assert ota.final_status(update.job_id) == "FAILED"
    details = ota.status_updates(update.job_id)[-1].status_details
    assert details == {"reason": "close file: 0xe3000000"}
