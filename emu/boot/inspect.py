"""What ``ota-emu inspect`` shows for a flash file: the slots of its board, their images,
trailers and states, and what the boot model would do at the next reset.

The flash file is read with :func:`emu.flash.filestore.read` (every check of the format) and
its flash region is placed in a :class:`~emu.flash.nor.FlashArray`, so that the slots are
read exactly as the boot model reads them. Nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from emu.board import Board, load_board
from emu.boot.area import FlashArea
from emu.boot.decision import SWAP_NAMES, copy_done, swap_type
from emu.boot.slots import SlotMap, boot_config, slot_map
from emu.boot.swap import read_status
from emu.boot.validate import find_image, validate, version_text
from emu.errors import FlashFileError, VerificationError
from emu.flash import filestore
from emu.flash.layout import FlashLayout
from emu.flash.nor import FlashArray
from emu.image.keys import PublicKey, load_public_key
from emu.image.trailer import Flag, Magic, Trailer


def describe_flash_file(path: str | os.PathLike[str], board: str | None = None,
                        key: str | os.PathLike[str] | None = None) -> str:
    """The slots of a flash file; ``board`` defaults to the one the file was saved for and
    ``key`` to the board's ``[boot] key`` (signatures are not checked without one)."""
    saved = filestore.read(path)
    chosen = load_board(board or saved.board)
    if "slots" not in chosen.extra:
        return filestore.describe(path)
    slots = slot_map(chosen)
    areas = _areas(_array(path, saved, chosen, slots), slots)
    trusted = _key(chosen, key)
    lines = [f"flash file: {path}", f"  board: {saved.board}"
             + (f" (slots of {chosen.name})" if chosen.name != saved.board else "")]
    for name in ("primary", "secondary"):
        lines += _describe_slot(areas[name], areas["primary"], trusted)
    lines += _describe_scratch(areas["scratch"])
    lines.append(f"  next reset: {_next_reset(areas)}")
    return "\n".join(lines)


def _array(path: str | os.PathLike[str], saved: filestore.FlashFile, board: Board,
           slots: SlotMap) -> FlashArray:
    """The file's region that holds the slots, checked against the board's memory."""
    memory = board.memory(slots.flash)
    expected = FlashLayout.from_runs(memory.name, memory.base, memory.sectors,
                                     memory.program_unit)
    for layout, payload in saved.regions:
        if layout.name != slots.flash:
            continue
        if layout != expected:
            raise FlashFileError(f"{path}: region '{layout.name}' does not match board "
                                 f"{board.name}: file has {layout.describe()}")
        array = FlashArray(layout)
        array.load_contents(payload)
        return array
    raise FlashFileError(f"{path}: holds no flash region named {slots.flash!r}")


def _areas(array: FlashArray, slots: SlotMap) -> dict[str, FlashArea]:
    return {
        "primary": FlashArea(array, slots.primary, slots.slot_trailer()),
        "secondary": FlashArea(array, slots.secondary, slots.slot_trailer()),
        "scratch": FlashArea(array, slots.scratch, slots.scratch_trailer()),
    }


def _key(board: Board, key: str | os.PathLike[str] | None) -> PublicKey | None:
    if key is not None:
        return load_public_key(key)
    configured = boot_config(board).key
    return load_public_key(configured) if configured is not None else None


def _describe_slot(area: FlashArea, primary: FlashArea, key: PublicKey | None) -> list[str]:
    lines = [f"  {area.name} slot at {area.address:#010x} ({area.size:#x} bytes):"]
    try:
        image = find_image(area)
    except VerificationError as e:
        lines.append(f"    image: {e}")
    else:
        lines.append(f"    image: v{version_text(image.version)}, {image.size} bytes, header "
                     f"{image.header.hdr_size:#x}")
        lines.append(f"    verdict: {_verdict(area, primary, key)}")
    trailer = area.trailer()
    size = "unset" if trailer.swap_size is None else str(trailer.swap_size)
    lines.append(f"    trailer: magic {trailer.magic.value}, image_ok {trailer.image_ok.value}, "
                 f"copy_done {trailer.copy_done.value}, swap type "
                 f"{SWAP_NAMES[trailer.swap_type]}, swap size {size}")
    lines.append(f"    state: {_state(area.name, trailer)}")
    return lines


def _verdict(area: FlashArea, primary: FlashArea, key: PublicKey | None) -> str:
    if key is None:
        return "signature not checked (no key)"
    try:
        validate(area, key, primary)
    except VerificationError as e:
        return f"FAILED: {e}"
    return "hash and signature ok"


def _state(slot: str, trailer: Trailer) -> str:
    """The image state the trailer encodes, in the words of docs/glossary.md."""
    if trailer.magic is not Magic.GOOD:
        return "no request" if slot == "secondary" else "no trailer magic (booted as is)"
    if slot == "secondary":
        if trailer.image_ok is Flag.SET:
            return "update pending: permanent swap at the next reset"
        return "update pending: test swap at the next reset"
    if trailer.image_ok is Flag.UNSET and copy_done(trailer) is Flag.SET:
        return "pending commit: a test image, reverted at the next reset unless confirmed"
    if trailer.image_ok is Flag.UNSET:
        return "not confirmed"
    return "confirmed" if trailer.image_ok is Flag.SET else "image_ok is damaged"


def _describe_scratch(area: FlashArea) -> list[str]:
    trailer = area.trailer()
    return [f"  scratch at {area.address:#010x} ({area.size:#x} bytes): trailer magic "
            f"{trailer.magic.value}"]


def _next_reset(areas: dict[str, FlashArea]) -> str:
    status = read_status(areas["primary"], areas["scratch"])
    if status.in_progress:
        return (f"resume an interrupted {SWAP_NAMES[status.swap_type]} swap "
                f"({status.done} steps done, status in {status.source})")
    kind = swap_type(areas["primary"].trailer(), areas["secondary"].trailer())
    return f"swap type {SWAP_NAMES[kind]}"


def inspector(board: str | None = None, key: str | os.PathLike[str] | None = None):
    """A flash-file inspector for :func:`emu.image.commands.set_flash_file_inspector`."""

    def inspect(path: Path) -> str:
        return describe_flash_file(path, board, key)

    return inspect
