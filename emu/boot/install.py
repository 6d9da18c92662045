"""Putting images into slots from the host, as a factory programmer or a test would.

These helpers write the flash directly (``FlashArray.write_raw``): they are not flash
operations, are not counted and cannot be cut. Firmware updates its slots through the flash
controller instead; the boot model then sees both the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emu.boot.slots import SlotMap
from emu.errors import ImageError
from emu.flash.layout import ERASED
from emu.image import mcuboot
from emu.image.keys import PrivateKey

if TYPE_CHECKING:
    from emu.core.machine import Machine


def slot_image(body: bytes, key: PrivateKey | None, version: str, slots: SlotMap, *,
               confirm: bool = False, pending: bool = True,
               header_size: int = 0x200) -> bytes:
    """A signed image of ``body`` sized to a slot of ``slots``.

    ``pending`` writes the trailer magic, as ``imgtool sign --pad`` does: in the secondary
    slot that requests a test swap (or a permanent one with ``confirm``); in the primary slot
    a confirmed image is the usual factory state. Without ``pending`` the image has no
    trailer at all.
    """
    if not pending:
        if confirm:
            raise ImageError("a confirmed image needs its trailer (pending=True)")
        return mcuboot.sign(body, key, version, header_size=header_size, align=slots.align,
                            max_sectors=slots.max_sectors)
    return mcuboot.sign(body, key, version, header_size=header_size, align=slots.align,
                        pad_to_slot=slots.primary.size, confirm=confirm,
                        max_sectors=slots.max_sectors)


def write_slot(machine: Machine, slots: SlotMap, name: str, data: bytes) -> None:
    """Fill slot ``name`` with ``data`` followed by erased bytes, as after an erase of the
    slot and a program of the image."""
    area = slots.area(name)
    if len(data) > area.size:
        raise ImageError(f"{len(data):#x} bytes do not fit the {name} slot ({area.size:#x})")
    padded = bytes(data) + bytes([ERASED]) * (area.size - len(data))
    machine.flash[slots.flash].write_raw(area.offset, padded)
