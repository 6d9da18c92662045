"""What the ``ota-emu`` image commands do; the CLI parses arguments and calls these.

Each function takes paths and plain values, raises an :class:`emu.errors.EmuError` subclass
for bad input and returns text or nothing; none prints or exits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from emu.elf import ELF_MAGIC, load_elf
from emu.errors import ImageError, InputError, VerificationError
from emu.flash import filestore
from emu.image import mcuboot
from emu.image.keys import (
    generate_key,
    load_private_key,
    load_public_key,
    save_private_key,
)

GAP_FILL = 0xFF
"""Value of the bytes between two ELF segments in an extracted body (erased flash)."""

FlashFileInspector = Callable[[Path], str]
_flash_file_inspector: FlashFileInspector | None = None


def set_flash_file_inspector(fn: FlashFileInspector | None) -> None:
    """Let ``inspect`` hand flash files to ``fn`` (the board-aware view the CLI provides).

    Without one, a flash file is summarised by :func:`emu.flash.filestore.describe`.
    """
    global _flash_file_inspector
    _flash_file_inspector = fn


def keygen(out_path: str | os.PathLike[str]) -> Path:
    """Write a new ECDSA P-256 private key as PEM; never overwrites an existing file."""
    out = Path(out_path)
    if out.exists():
        raise InputError(f"{out}: already exists; refusing to overwrite a key")
    save_private_key(generate_key(), out)
    return out


def sign(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str],
         key_path: str | os.PathLike[str] | None, version: str, *,
         header_size: int = 0x200, slot_size: int | None = None, align: int = 8,
         confirm: bool = False, base: int | None = None) -> mcuboot.Image:
    """Sign a raw binary or an ELF into an MCUboot image written to ``out_path``.

    An ELF is reduced to the bytes of its PT_LOAD segments placed at their load addresses
    from ``base`` (default: the lowest one), with gaps filled with 0xFF. ``key_path=None``
    makes an unsigned image (hash only).
    """
    body = load_body(in_path, base)
    key = load_private_key(key_path) if key_path is not None else None
    image = mcuboot.sign(body, key, version, header_size=header_size, align=align,
                         pad_to_slot=slot_size, confirm=confirm)
    Path(out_path).write_bytes(image)
    return mcuboot.parse(image)


def load_body(path: str | os.PathLike[str], base: int | None = None) -> bytes:
    """The firmware bytes of a raw binary, or of an ELF's loadable segments."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    if raw[:4] != ELF_MAGIC:
        if base is not None:
            raise ImageError(f"{path}: a base address applies to ELF input only")
        return raw
    return _flatten(path, [(s.load_addr, s.data) for s in load_elf(path).segments], base)


def _flatten(path: Path, segments: list[tuple[int, bytes]], base: int | None) -> bytes:
    """Place segments in one buffer from ``base``, as ``objcopy -O binary`` lays them out."""
    segments = sorted(segments)
    start = segments[0][0] if base is None else base
    out = bytearray()
    for addr, data in segments:
        if addr < start + len(out):
            raise ImageError(f"{path.name}: segment at {addr:#010x} lies below the base "
                             f"{start:#010x} or overlaps the previous one")
        out += bytes([GAP_FILL]) * (addr - start - len(out)) + data
    return bytes(out)


def inspect(path: str | os.PathLike[str],
            key_path: str | os.PathLike[str] | None = None, *, align: int = 8) -> str:
    """Describe an image (header, TLVs, hash and signature verdicts) or a flash file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    if raw[:len(filestore.MAGIC)] == filestore.MAGIC:
        if _flash_file_inspector is not None:
            return _flash_file_inspector(path)
        return filestore.describe(path)
    image = mcuboot.parse(raw)
    key = load_public_key(key_path) if key_path is not None else None
    return "\n".join([f"image: {path} ({len(raw)} bytes)", *_describe(image, key, align)])


def _describe(image: mcuboot.Image, key: mcuboot.PublicKey | None, align: int) -> list[str]:
    h = image.header
    flags = [n for bit, n in mcuboot.FLAG_NAMES.items() if h.flags & bit] or ["none"]
    lines = [
        f"  header: magic {h.magic:#010x}, load address {h.load_addr:#010x}, "
        f"header size {h.hdr_size:#x}",
        f"  body: {h.img_size} bytes; protected TLVs: {h.protect_tlv_size} bytes",
        f"  flags: {h.flags:#x} ({', '.join(flags)})",
        f"  version: {h.version}",
    ]
    for area, tlvs in (("protected TLV", image.protected), ("TLV", image.tlvs)):
        lines += [f"  {area} {t.name} ({len(t.value)} bytes): {_short(t.value)}" for t in tlvs]
    lines.append(f"  hash: {_verdict(lambda: mcuboot.verify_hash(image))}")
    if key is None:
        lines.append("  signature: not checked (no key given)")
    else:
        lines.append(f"  signature: {_verdict(lambda: mcuboot.verify(image, key))}")
    lines += _describe_trailer(image, align)
    return lines


def _describe_trailer(image: mcuboot.Image, align: int) -> list[str]:
    slot = image.raw
    try:
        layout = mcuboot.TrailerLayout(len(slot), align)
    except ImageError:
        layout = None
    if layout is None or image.end > layout.status_off:
        return ["  trailer: none (the file is not a padded slot)"]
    trailer = mcuboot.read_trailer(slot, align)
    return [f"  trailer: magic {trailer.magic.value}, image_ok {trailer.image_ok.value}, "
            f"copy_done {trailer.copy_done.value}, swap type {trailer.swap_type.name.lower()}"]


def _verdict(check: Callable[[], object]) -> str:
    try:
        check()
    except VerificationError as e:
        return f"FAILED: {e}"
    return "ok"


def _short(value: bytes) -> str:
    if len(value) <= 8:
        return value.hex()
    return f"{value[:8].hex()}...{value[-4:].hex()}"
