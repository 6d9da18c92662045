"""The flash file: the contents of a board's flash arrays, kept between runs.

Format, version 1 (all integers little-endian; docs/flash.md, "Flash file"):

========  =====  ==========================================================================
offset    size   field
========  =====  ==========================================================================
0         8      magic ``OTAEMUFL``
8         2      format version (1)
10        2      reserved, 0
12        4      D: length of the description
16        8      L: length of the whole file
24        D      description, UTF-8 JSON: ``{"board": name, "regions": [{"name", "base",
                 "program_unit", "sectors": [[count, size], ...]}, ...]}``
24 + D    ...    each region's bytes, in the order of the description
L - 32    32     SHA-256 of bytes 0 .. L - 32
========  =====  ==========================================================================

Saving never leaves a torn file at the target: the bytes go to a temporary file in the same
directory, which is flushed, fsynced and then renamed over the target with ``os.replace``.
Loading checks everything before touching an array and never writes to the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from emu.errors import BoardError, FlashFileError
from emu.flash.layout import FlashLayout
from emu.flash.nor import FlashArray

MAGIC = b"OTAEMUFL"
VERSION = 1
_HEAD = struct.Struct("<8sHHIQ")
_DIGEST = 32


@dataclass(frozen=True)
class FlashFile:
    """A flash file read and checked, not yet matched to a board."""

    board: str
    regions: tuple[tuple[FlashLayout, bytes], ...]


# -- saving --------------------------------------------------------------------------------

def encode(board: str, arrays: Sequence[FlashArray]) -> bytes:
    """The bytes of a flash file holding ``arrays`` for ``board``."""
    desc = json.dumps({"board": board, "regions": [_layout_json(a.layout) for a in arrays]},
                      sort_keys=True).encode()
    payload = b"".join(a.read(0, a.size) for a in arrays)
    total = _HEAD.size + len(desc) + len(payload) + _DIGEST
    body = _HEAD.pack(MAGIC, VERSION, 0, len(desc), total) + desc + payload
    return body + hashlib.sha256(body).digest()


def save(path: str | os.PathLike[str], board: str, arrays: Sequence[FlashArray]) -> None:
    """Write the flash file crash-safely: temp file, fsync, rename over ``path``."""
    target = Path(path)
    data = encode(board, arrays)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable where the platform allows opening a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- loading -------------------------------------------------------------------------------

def read(path: str | os.PathLike[str]) -> FlashFile:
    """Read and check a flash file; FlashFileError if it is foreign, damaged or truncated."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise FlashFileError(f"{path}: cannot read the flash file ({e.strerror})") from None
    return decode(data, str(path))


def decode(data: bytes, name: str = "flash file") -> FlashFile:
    """Check and split the bytes of a flash file."""
    desc_len = _check_frame(data, name)
    desc = _parse_description(data[_HEAD.size:_HEAD.size + desc_len], name)
    regions = _split_payload(data[_HEAD.size + desc_len:-_DIGEST], desc["regions"], name)
    return FlashFile(desc["board"], regions)


def load(path: str | os.PathLike[str], board: str, arrays: Sequence[FlashArray]) -> None:
    """Fill ``arrays`` from the file, after checking that it was saved for this board."""
    saved = read(path)
    if saved.board != board:
        raise FlashFileError(f"{path}: saved for board '{saved.board}', not '{board}'")
    if len(saved.regions) != len(arrays):
        raise FlashFileError(f"{path}: holds {len(saved.regions)} flash regions, board "
                             f"'{board}' has {len(arrays)}")
    for (layout, _), array in zip(saved.regions, arrays, strict=True):
        if layout != array.layout:
            raise FlashFileError(f"{path}: region '{layout.name}' does not match the board: "
                                 f"file has {layout.describe()}; board has "
                                 f"{array.layout.describe()}")

    # Every check passed: only now are the arrays touched.
    for (_, payload), array in zip(saved.regions, arrays, strict=True):
        array.load_contents(payload)


def _check_frame(data: bytes, name: str) -> int:
    """Magic, version, length and checksum; returns the description length."""
    if data[:len(MAGIC)] != MAGIC[:len(data)] or not data:
        raise FlashFileError(f"{name}: not an ota-emu flash file (bad magic)")
    if len(data) < _HEAD.size:
        raise FlashFileError(f"{name}: truncated ({len(data)} bytes, shorter than the header)")
    _, version, _, desc_len, total = _HEAD.unpack_from(data)
    if version != VERSION:
        raise FlashFileError(f"{name}: flash file format version {version}; this ota-emu "
                             f"reads version {VERSION}")
    if len(data) < total:
        raise FlashFileError(f"{name}: truncated ({len(data)} of {total} bytes)")
    if len(data) > total:
        raise FlashFileError(f"{name}: damaged ({len(data) - total} bytes after the end)")
    if total < _HEAD.size + desc_len + _DIGEST:
        raise FlashFileError(f"{name}: damaged (lengths in the header do not add up)")
    if hashlib.sha256(data[:-_DIGEST]).digest() != data[-_DIGEST:]:
        raise FlashFileError(f"{name}: damaged (SHA-256 checksum does not match)")
    return desc_len


def _parse_description(raw: bytes, name: str) -> dict:
    try:
        desc = json.loads(raw.decode())
        board = desc["board"]
        regions = [_layout_from_json(r) for r in desc["regions"]]
    except (ValueError, KeyError, TypeError, BoardError) as e:
        raise FlashFileError(f"{name}: damaged description ({e})") from None
    if not isinstance(board, str):
        raise FlashFileError(f"{name}: damaged description (board name)")
    return {"board": board, "regions": regions}


def _split_payload(payload: bytes, layouts: list[FlashLayout],
                   name: str) -> tuple[tuple[FlashLayout, bytes], ...]:
    if sum(lay.size for lay in layouts) != len(payload):
        raise FlashFileError(f"{name}: damaged (region sizes do not add up to the payload)")
    out = []
    pos = 0
    for layout in layouts:
        out.append((layout, payload[pos:pos + layout.size]))
        pos += layout.size
    return tuple(out)


def _layout_json(layout: FlashLayout) -> dict:
    return {"name": layout.name, "base": layout.base, "program_unit": layout.program_unit,
            "sectors": [list(r) for r in layout.runs]}


def _layout_from_json(obj: dict) -> FlashLayout:
    runs = tuple((int(n), int(s)) for n, s in obj["sectors"])
    return FlashLayout(str(obj["name"]), int(obj["base"]), runs, int(obj["program_unit"]))


def describe(path: str | os.PathLike[str]) -> str:
    """A few lines about a flash file: board, regions, and how much of each is erased."""
    saved = read(path)
    lines = [f"flash file: {path}", f"  board: {saved.board}"]
    for layout, payload in saved.regions:
        erased = payload.count(0xFF)
        lines.append(f"  region {layout.describe()}; {erased} of {len(payload)} bytes erased")
    return "\n".join(lines)
