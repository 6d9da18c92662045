"""The MCUboot image trailer: the state a bootloader keeps at the end of each slot.

Fields are placed from the end of the slot backwards, each on a ``max_align`` boundary
(MCUboot's ``BOOT_MAX_ALIGN``, which imgtool takes as ``max(8, align)``); MCUboot's
``boot_magic_off`` and the functions after it in bootutil_public.c compute the same offsets:

==========  ===============================================  =============================
field       offset from the slot start                       contents
==========  ===============================================  =============================
magic       ``S - 16``                                       16 bytes, see :func:`trailer_magic`
image_ok    ``align_down(S - 16 - A, A)``                    0x01 set, erased unset
copy_done   ``image_ok - A``                                 0x01 set, erased unset
swap_info   ``copy_done - A``                                image number << 4 | swap type
swap_size   ``swap_info - A``                                u32, bytes the swap moves
status      ``swap_size - max_sectors * 3 * align``          swap progress, 3 entries/sector
==========  ===============================================  =============================

``S`` is the slot size, ``A`` is ``max_align`` and ``align`` is the flash write alignment.
Each field is written on its own as ``align_up(len, align)`` bytes padded with 0xFF, so that it
never shares a program unit with a neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

from emu.errors import ImageError

ERASED = 0xFF
FLAG_SET = 0x01
DEFAULT_MAX_SECTORS = 128
MAGIC_SIZE = 16
BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
_BOOT_MAGIC_WIDE_TAIL = bytes.fromhex("2de15d29410b8d77679c110f1f8a")


class SwapType(IntEnum):
    """What the bootloader does with the slot pair (MCUboot's BOOT_SWAP_TYPE_*)."""

    NONE = 1
    TEST = 2
    PERM = 3
    REVERT = 4
    FAIL = 5
    PANIC = 0xFF


class Magic(Enum):
    GOOD = "good"
    BAD = "bad"
    UNSET = "unset"


class Flag(Enum):
    SET = "set"
    BAD = "bad"
    UNSET = "unset"


def trailer_magic(max_align: int = 8) -> bytes:
    """The trailer magic for a given ``max_align``.

    With ``max_align`` 8 it is the classic 16-byte constant; larger alignments use a second
    constant whose first two bytes hold ``max_align`` little-endian, as imgtool writes it.
    """
    if max_align == 8:
        return BOOT_MAGIC
    return max_align.to_bytes(2, "little") + _BOOT_MAGIC_WIDE_TAIL


@dataclass(frozen=True)
class TrailerLayout:
    """Where each trailer field sits in a slot of ``slot_size`` bytes."""

    slot_size: int
    align: int = 8
    max_align: int | None = None
    max_sectors: int = DEFAULT_MAX_SECTORS

    def __post_init__(self) -> None:
        if self.align not in (1, 2, 4, 8, 16, 32):
            raise ImageError(f"write alignment {self.align} is not 1, 2, 4, 8, 16 or 32")
        if self.max_align is None:
            object.__setattr__(self, "max_align", max(8, self.align))
        if self.amax not in (8, 16, 32) or self.amax < self.align:
            raise ImageError(f"maximum alignment {self.amax} must be 8, 16 or 32 and at least "
                             f"the write alignment {self.align}")
        if self.slot_size % self.amax or self.slot_size < self.size:
            raise ImageError(f"slot size {self.slot_size:#x} cannot hold a trailer of "
                             f"{self.size:#x} bytes aligned to {self.amax}")

    @property
    def amax(self) -> int:
        assert self.max_align is not None
        return self.max_align

    @property
    def magic_off(self) -> int:
        return self.slot_size - MAGIC_SIZE

    @property
    def image_ok_off(self) -> int:
        return _align_down(self.magic_off - self.amax, self.amax)

    @property
    def copy_done_off(self) -> int:
        return self.image_ok_off - self.amax

    @property
    def swap_info_off(self) -> int:
        return self.copy_done_off - self.amax

    @property
    def swap_size_off(self) -> int:
        return self.swap_info_off - self.amax

    @property
    def status_off(self) -> int:
        return self.swap_size_off - self.max_sectors * 3 * self.align

    @property
    def size(self) -> int:
        """Bytes from the status area to the end of the slot (imgtool's trailer size)."""
        magic_block = _align_up(MAGIC_SIZE, self.amax)
        return self.max_sectors * 3 * self.align + 4 * self.amax + magic_block


@dataclass(frozen=True)
class Trailer:
    """The decoded trailer of one slot, as MCUboot's ``boot_read_swap_state`` sees it."""

    magic: Magic
    image_ok: Flag
    copy_done: Flag
    swap_type: SwapType
    image_num: int
    swap_size: int | None

    @property
    def magic_ok(self) -> bool:
        return self.magic is Magic.GOOD


def read_trailer(slot: bytes, align: int = 8, max_align: int | None = None,
                 max_sectors: int = DEFAULT_MAX_SECTORS) -> Trailer:
    """Decode the trailer at the end of ``slot`` (the whole slot's bytes).

    Follows MCUboot's reading rules: an erased field is unset; a flag that is neither erased
    nor 0x01 is bad; a swap type that is erased or above REVERT reads as NONE.
    """
    lay = TrailerLayout(len(slot), align, max_align, max_sectors)
    info = slot[lay.swap_info_off]
    swap_type, image_num = info & 0x0F, info >> 4
    if info == ERASED or swap_type > SwapType.REVERT or swap_type < SwapType.NONE:
        swap_type, image_num = SwapType.NONE, 0
    size_bytes = slot[lay.swap_size_off:lay.swap_size_off + 4]
    return Trailer(
        magic=_magic_state(slot[lay.magic_off:], lay.amax),
        image_ok=_flag_state(slot[lay.image_ok_off]),
        copy_done=_flag_state(slot[lay.copy_done_off]),
        swap_type=SwapType(swap_type),
        image_num=image_num,
        swap_size=None if size_bytes == b"\xff" * 4 else int.from_bytes(size_bytes, "little"),
    )


def trailer_writes(layout: TrailerLayout, *, magic: bool = False, image_ok: bool = False,
                   copy_done: bool = False, swap_type: SwapType | None = None,
                   image_num: int = 0,
                   swap_size: int | None = None) -> list[tuple[int, bytes]]:
    """The (offset, bytes) program operations that set the requested trailer fields.

    Each is padded with 0xFF to the write alignment, as MCUboot's ``boot_write_trailer``
    does; the magic is written as one ``max_align``-aligned block ending at the slot end.
    """
    writes: list[tuple[int, bytes]] = []
    if swap_size is not None:
        writes.append(_field(layout, layout.swap_size_off, swap_size.to_bytes(4, "little")))
    if swap_type is not None:
        writes.append(_field(layout, layout.swap_info_off,
                             bytes([(image_num << 4) | int(swap_type)])))
    if copy_done:
        writes.append(_field(layout, layout.copy_done_off, bytes([FLAG_SET])))
    if image_ok:
        writes.append(_field(layout, layout.image_ok_off, bytes([FLAG_SET])))
    if magic:
        block = _align_up(MAGIC_SIZE, layout.amax)
        data = bytes([ERASED]) * (block - MAGIC_SIZE) + trailer_magic(layout.amax)
        writes.append((layout.slot_size - block, data))
    return writes


def write_trailer(slot: bytearray, align: int = 8, max_align: int | None = None, *,
                  max_sectors: int = DEFAULT_MAX_SECTORS, magic: bool = False,
                  image_ok: bool = False, copy_done: bool = False,
                  swap_type: SwapType | None = None, image_num: int = 0,
                  swap_size: int | None = None) -> None:
    """Set trailer fields in a slot held in memory (a host-side helper).

    The fields are those of :func:`trailer_writes`; on flash, program those writes instead.
    """
    layout = TrailerLayout(len(slot), align, max_align, max_sectors)
    writes = trailer_writes(layout, magic=magic, image_ok=image_ok, copy_done=copy_done,
                            swap_type=swap_type, image_num=image_num, swap_size=swap_size)
    for offset, data in writes:
        slot[offset:offset + len(data)] = data


def _field(layout: TrailerLayout, offset: int, value: bytes) -> tuple[int, bytes]:
    width = _align_up(len(value), layout.align)
    return offset, value + bytes([ERASED]) * (width - len(value))


def _magic_state(raw: bytes, max_align: int) -> Magic:
    if raw == bytes([ERASED]) * MAGIC_SIZE:
        return Magic.UNSET
    return Magic.GOOD if raw == trailer_magic(max_align) else Magic.BAD


def _flag_state(value: int) -> Flag:
    if value == ERASED:
        return Flag.UNSET
    return Flag.SET if value == FLAG_SET else Flag.BAD


def _align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _align_down(n: int, a: int) -> int:
    return n // a * a
