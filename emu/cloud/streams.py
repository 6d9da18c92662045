"""MQTT-based file delivery (AWS IoT streams), answering over a :class:`MessageBus`.

Follows the AWS IoT developer guide, "MQTT-based file delivery" (GetStream, DescribeStream,
"Build a bitmap for a GetStream request", "Handling errors"). Topics, with ``<fmt>`` ``cbor`` or
``json``, under ``$aws/things/<thing>/streams/<streamId>/``:

* ``get/<fmt>`` → one ``data/<fmt>`` message per block, or one ``rejected/<fmt>``;
* ``describe/<fmt>`` → ``description/<fmt>`` or ``rejected/<fmt>``.

A GetStream request is a map: ``c`` client token (optional, at most 64 bytes), ``s`` stream
version (optional), ``f`` file id (0..255), ``l`` block size (256..131072 bytes), ``o`` first
block (optional, 0..98304), ``n`` number of blocks (optional, 0..98304; 0 or absent means
131072 / ``l``), ``b`` bitmap (optional, shorter than 12288 bytes; a CBOR byte string, or in JSON
a hex string, ``0x`` optional). A data block is a map: ``c`` (when the request had one), ``f``,
``i`` block index, ``l`` payload length, ``p`` payload (CBOR bytes, or base64 text in JSON). An
error is a map ``o`` code, ``m`` message, ``c`` token.

Bitmap convention, the same in the AWS guide and in the OTA agent's ota.c: bit ``k`` is bit
``k % 8`` (least significant first) of byte ``k // 8`` and stands for block ``o + k``; a set
bit asks for the block. Blocks are sent in ascending order, at most ``n``, and never more than
131072 bytes per request, as the guide states; set bits past the end of the file are ignored.
Every block is ``l`` bytes but the last, which is the exact remainder.

Not modelled: S3 access and its errors (Unauthorized, ETagMismatch), throttling, the
service's own retry and pacing, stream ARNs and IAM. The guide does not say what happens when a
bitmap selects no block inside the file; this model then publishes nothing.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import cbor2

from emu.cloud.errors import CloudError
from emu.cloud.faults import BlockHook, DataBlock, Deferred, apply_hooks
from emu.cloud.mqtt import Message, MessageBus

log = logging.getLogger(__name__)

MIN_BLOCK_SIZE = 256
MAX_BLOCK_SIZE = 131072
MAX_OFFSET = 98304
MAX_BLOCK_COUNT = 98304
MAX_BITMAP_BYTES = 12287  # "must be less than 12,288 bytes"
MAX_FILE_ID = 255
MAX_CLIENT_TOKEN = 64
MAX_BYTES_PER_REQUEST = 131072
FORMATS = ("cbor", "json")

# Codes of the streaming error response.
INVALID_TOPIC = "InvalidTopic"
INVALID_JSON = "InvalidJson"
INVALID_CBOR = "InvalidCbor"
INVALID_REQUEST = "InvalidRequest"
BLOCK_SIZE_OUT_OF_BOUNDS = "BlockSizeOutOfBounds"
OFFSET_OUT_OF_BOUNDS = "OffsetOutOfBounds"
BLOCK_COUNT_LIMIT_EXCEEDED = "BlockCountLimitExceeded"
BLOCK_BITMAP_LIMIT_EXCEEDED = "BlockBitmapLimitExceeded"
RESOURCE_NOT_FOUND = "ResourceNotFound"
VERSION_MISMATCH = "VersionMismatch"


@dataclass
class Stream:
    """A stream: files by id (0..255), a version and a description."""

    stream_id: str
    files: dict[int, bytes]
    version: int = 1
    description: str = ""


@dataclass(frozen=True)
class GetRequest:
    """The checked fields of a GetStream request."""

    file_id: int
    block_size: int
    offset: int = 0
    count: int = 0
    bitmap: bytes | None = None


@dataclass(frozen=True)
class StreamRequest:
    """One request as the service saw it: the blocks it selected, or the rejection code."""

    thing: str
    stream_id: str
    operation: str
    fmt: str
    code: str | None = None
    request: GetRequest | None = None
    blocks: tuple[int, ...] = field(default=())


class _Rejection(Exception):
    """Internal: a request is answered on its rejected topic."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def block_count(size: int, block_size: int) -> int:
    """How many blocks of ``block_size`` bytes hold ``size`` bytes."""
    return -(-size // block_size)


def bitmap_blocks(bitmap: bytes, offset: int = 0) -> Iterator[int]:
    """The block numbers a bitmap asks for, ascending (bit k of byte k//8, LSB first)."""
    for byte_index, byte in enumerate(bitmap):
        for bit in range(8):
            if byte >> bit & 1:
                yield offset + byte_index * 8 + bit


def make_bitmap(blocks: Iterable[int], offset: int = 0, length: int | None = None) -> bytes:
    """The bitmap asking for ``blocks`` from ``offset``, ``length`` bytes long (default: just
    long enough). Blocks before ``offset`` or past ``length`` bytes are left out."""
    wanted = [b - offset for b in blocks if b >= offset]
    if length is None:
        length = (max(wanted) // 8 + 1) if wanted else 0
    out = bytearray(length)
    for k in wanted:
        if k < length * 8:
            out[k // 8] |= 1 << (k % 8)
    return bytes(out)


def select_blocks(size: int, request: GetRequest) -> list[int]:
    """The block indices a valid GetStream request gets for a file of ``size`` bytes."""
    total = block_count(size, request.block_size)
    limit = MAX_BYTES_PER_REQUEST // request.block_size
    if request.count:
        limit = min(limit, request.count)
    if request.bitmap is None:
        return list(range(request.offset, min(request.offset + limit, total)))
    chosen = []
    for index in bitmap_blocks(request.bitmap, request.offset):
        if index >= total or len(chosen) == limit:
            break
        chosen.append(index)
    return chosen


class StreamService:
    """Streams and the GetStream/DescribeStream API for every thing on a bus."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.streams: dict[str, Stream] = {}
        self.hooks: list[BlockHook] = []
        self.requests: list[StreamRequest] = []
        self._sub = bus.subscribe("$aws/things/+/streams/+/+/+", self._on_message, qos=1)

    def close(self) -> None:
        """Stop answering requests."""
        self.bus.unsubscribe(self._sub)

    def add_stream(self, stream_id: str, files: dict[int, bytes], version: int = 1,
                   description: str = "") -> Stream:
        """Create a stream (AWS: CreateStream)."""
        if stream_id in self.streams:
            raise CloudError(f"stream {stream_id} already exists")
        if not stream_id or "/" in stream_id or "+" in stream_id or "#" in stream_id:
            raise CloudError(f"stream id {stream_id!r} cannot be a topic level")
        for file_id in files:
            if not 0 <= file_id <= MAX_FILE_ID:
                raise CloudError(f"stream file id {file_id} is outside 0..255")
        stream = Stream(stream_id, {k: bytes(v) for k, v in files.items()}, version,
                        description)
        self.streams[stream_id] = stream
        return stream

    def delete_stream(self, stream_id: str) -> None:
        """Delete a stream (AWS: DeleteStream); later requests find nothing."""
        if self.streams.pop(stream_id, None) is None:
            raise CloudError(f"no stream {stream_id}")

    # -- requests --------------------------------------------------------------------------

    def _on_message(self, msg: Message) -> None:
        """Answer one message on a stream topic."""
        if msg.sender is self:
            return
        _, _, thing, _, stream_id, operation, fmt = msg.topic.split("/")
        if operation in ("data", "description", "rejected"):
            return
        base = f"$aws/things/{thing}/streams/{stream_id}/"
        record = StreamRequest(thing, stream_id, operation, fmt)
        token = None
        try:
            if fmt not in FORMATS or operation not in ("get", "describe"):
                fmt = fmt if fmt in FORMATS else "json"
                raise _Rejection(INVALID_TOPIC, "the topic maps to no streaming API")
            fields = _decode(msg.payload, fmt)
            token = _client_token(fields)
            stream = self._find(stream_id, fields)
            if operation == "describe":
                self._describe(base, stream, fmt, token)
            else:
                record = self._get(base, record, stream, fields, token)
        except _Rejection as rejection:
            record = StreamRequest(thing, stream_id, operation, fmt, rejection.code)
            self._reject(base, fmt, rejection, token)
        self.requests.append(record)

    def _find(self, stream_id: str, fields: dict[Any, Any]) -> Stream:
        """The stream a request names, checked against its version ``s``."""
        stream = self.streams.get(stream_id)
        if stream is None:
            raise _Rejection(RESOURCE_NOT_FOUND, f"no stream {stream_id}")
        version = _int_field(fields, "s", INVALID_REQUEST)
        if version is not None and version != stream.version:
            raise _Rejection(VERSION_MISMATCH, f"the stream is at version {stream.version}")
        return stream

    def _describe(self, base: str, stream: Stream, fmt: str, token: str | None) -> None:
        """Publish the DescribeStream answer."""
        body: dict[str, Any] = {} if token is None else {"c": token}
        body.update(s=stream.version, d=stream.description,
                    r=[{"f": f, "z": len(data)} for f, data in sorted(stream.files.items())])
        self.bus.publish(base + "description/" + fmt, _encode(body, fmt), sender=self)

    def _get(self, base: str, record: StreamRequest, stream: Stream, fields: dict[Any, Any],
             token: str | None) -> StreamRequest:
        """Check a GetStream request and publish its blocks through the hooks."""
        request = _parse_get(fields, record.fmt)
        data = stream.files.get(request.file_id)
        if data is None:
            raise _Rejection(RESOURCE_NOT_FOUND, f"no file {request.file_id} in the stream")
        if request.offset >= block_count(len(data), request.block_size):
            raise _Rejection(OFFSET_OUT_OF_BOUNDS, "the offset is past the end of the file")
        blocks = select_blocks(len(data), request)
        for index in blocks:
            start = index * request.block_size
            block = DataBlock(record.thing, stream.stream_id, request.file_id, index,
                              data[start:start + request.block_size], token, record.fmt)
            for out in apply_hooks(self.hooks, block):
                if isinstance(out, Deferred):
                    self.bus.defer(lambda out=out: out.action(out.block))
                else:
                    self._send(base, out)
        return StreamRequest(record.thing, record.stream_id, record.operation, record.fmt,
                             None, request, tuple(blocks))

    def _send(self, base: str, block: DataBlock) -> None:
        """Publish one data block."""
        body: dict[str, Any] = {} if block.client_token is None else {"c": block.client_token}
        payload: bytes | str = block.payload
        if block.fmt == "json":
            payload = base64.b64encode(block.payload).decode("ascii")
        body.update(f=block.file_id, i=block.index, l=len(block.payload), p=payload)
        self.bus.publish(base + "data/" + block.fmt, _encode(body, block.fmt), sender=self)

    def _reject(self, base: str, fmt: str, rejection: _Rejection, token: str | None) -> None:
        """Publish an error response."""
        body: dict[str, Any] = {"o": rejection.code, "m": rejection.message}
        if token is not None:
            body["c"] = token
        log.debug("%s request rejected: %s", base, rejection.code)
        self.bus.publish(base + "rejected/" + fmt, _encode(body, fmt), sender=self)


def _decode(payload: bytes, fmt: str) -> dict[Any, Any]:
    """Decode a request body as a map; the whole payload must be one data item."""
    if fmt == "cbor":
        stream = io.BytesIO(payload)
        try:
            fields = cbor2.CBORDecoder(stream).decode()
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError):
            raise _Rejection(INVALID_CBOR, "the request is not valid CBOR") from None
        if stream.tell() != len(payload):
            raise _Rejection(INVALID_CBOR, "the request has bytes after its CBOR item")
    else:
        try:
            fields = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _Rejection(INVALID_JSON, "the request is not valid JSON") from None
    if not isinstance(fields, dict):
        raise _Rejection(INVALID_REQUEST, "the request must be a map")
    return fields


def _encode(body: dict[str, Any], fmt: str) -> bytes:
    """Encode an answer in the request's format."""
    if fmt == "cbor":
        return cbor2.dumps(body)
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def _client_token(fields: dict[Any, Any]) -> str | None:
    """The client token to echo; a malformed one is rejected and not echoed."""
    token = fields.get("c")
    if token is None:
        return None
    if not isinstance(token, str) or len(token.encode("utf-8")) > MAX_CLIENT_TOKEN:
        raise _Rejection(INVALID_REQUEST, "the client token must be text of at most 64 bytes")
    return token


def _int_field(fields: dict[Any, Any], key: str, code: str, low: int = 0,
               high: int | None = None, required: bool = False) -> int | None:
    """An integer field: wrong type is InvalidRequest, out of ``low..high`` is ``code``."""
    value = fields.get(key)
    if value is None:
        if required:
            raise _Rejection(INVALID_REQUEST, f"field {key} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Rejection(INVALID_REQUEST, f"field {key} must be an integer")
    if value < low or (high is not None and value > high):
        raise _Rejection(code, f"field {key} is out of bounds")
    return value


def _parse_get(fields: dict[Any, Any], fmt: str) -> GetRequest:
    """Check the fields of a GetStream request, in the order the guide lists them."""
    file_id = _int_field(fields, "f", INVALID_REQUEST, 0, MAX_FILE_ID, required=True)
    block_size = _int_field(fields, "l", BLOCK_SIZE_OUT_OF_BOUNDS, MIN_BLOCK_SIZE,
                            MAX_BLOCK_SIZE, required=True)
    offset = _int_field(fields, "o", OFFSET_OUT_OF_BOUNDS, 0, MAX_OFFSET) or 0
    count = _int_field(fields, "n", BLOCK_COUNT_LIMIT_EXCEEDED, 0, MAX_BLOCK_COUNT) or 0
    bitmap = _bitmap(fields.get("b"), fmt)
    assert file_id is not None and block_size is not None
    return GetRequest(file_id, block_size, offset, count, bitmap)


def _bitmap(value: Any, fmt: str) -> bytes | None:
    """The bitmap field: a byte string in CBOR, a hex string in JSON."""
    if value is None:
        return None
    if fmt == "json" and isinstance(value, str):
        digits = value[2:] if value[:2].lower() == "0x" else value
        try:
            value = binascii.unhexlify(digits)
        except (binascii.Error, ValueError):
            raise _Rejection(INVALID_REQUEST,
                             "the bitmap is not an even-length hex string") from None
    if not isinstance(value, bytes):
        kind = "a byte string" if fmt == "cbor" else "a hex string"
        raise _Rejection(INVALID_REQUEST, f"the bitmap must be {kind}")
    if len(value) > MAX_BITMAP_BYTES:
        raise _Rejection(BLOCK_BITMAP_LIMIT_EXCEEDED, "the bitmap is 12288 bytes or longer")
    return value
