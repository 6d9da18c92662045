"""The slots and boot settings of a board: its ``[slots]`` and ``[boot]`` tables.

``[slots]`` cuts one flash memory the way MCUboot's flash map does (docs/boot.md, "Slots"):
the bootloader area, the primary slot (the image that runs), the secondary slot (where an
update is written) and the scratch area (the swap's temporary copy). Each is an ``offset``
from the memory's base and a ``size``, on sector boundaries. The trailer's write alignment is
the memory's program unit, as MCUboot takes ``flash_area_align()`` for ``BOOT_WRITE_SZ``.

``[boot]`` says how the board starts: ``mode = "model"`` (our MCUboot model, emu/boot/model.py)
or ``mode = "elf"`` (a bootloader ELF of the user placed at the reset vector and run like any
firmware), the trusted ``key`` (a PEM path relative to the board file), whether downgrades
are refused, and what happens to an invalid image in the secondary slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emu.board import Board, Memory
from emu.errors import BoardError, ImageError
from emu.image.trailer import TrailerLayout

AREAS = ("bootloader", "primary", "secondary", "scratch")
MODES = ("model", "elf")
DEFAULT_HEADER_SIZE = 0x200


@dataclass(frozen=True)
class Area:
    """A named range of the flash memory: ``offset`` from the memory base, ``size`` bytes."""

    name: str
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class SlotMap:
    """Where the bootloader, the two slots and the scratch area lie in one flash memory.

    ``align`` is the trailer's write alignment (the memory's program unit) and
    ``max_sectors`` the number of swap-status rows the slot trailers hold (MCUboot's
    ``BOOT_MAX_IMG_SECTORS``; by default the number of sectors in a slot).
    """

    flash: str
    base: int
    bootloader: Area
    primary: Area
    secondary: Area
    scratch: Area
    align: int
    max_sectors: int

    def area(self, name: str) -> Area:
        return getattr(self, name)

    def address(self, area: Area) -> int:
        """The bus address of the first byte of ``area``."""
        return self.base + area.offset

    def slot_trailer(self) -> TrailerLayout:
        """Trailer layout of the primary and secondary slots."""
        return TrailerLayout(self.primary.size, self.align, None, self.max_sectors)

    def scratch_trailer(self) -> TrailerLayout:
        """Trailer layout of the scratch area: room for the three entries of one region,
        as MCUboot's ``boot_scratch_trailer_sz`` allows."""
        return TrailerLayout(self.scratch.size, self.align, None, 1)


@dataclass(frozen=True)
class BootConfig:
    """The ``[boot]`` table of a board."""

    mode: str
    key: Path | None
    downgrade_prevention: bool
    erase_invalid: bool
    header_size: int


def slot_map(board: Board) -> SlotMap:
    """Read and check the board's ``[slots]`` table; BoardError names the first problem."""
    where = f"board {board.name}: [slots]"
    table = board.extra.get("slots")
    if not isinstance(table, dict):
        raise BoardError(f"board {board.name} has no [slots] table (docs/boot.md)")
    memory = _flash_memory(board, table, where)
    areas = {name: _area(table, name, where) for name in AREAS}
    for area in areas.values():
        _check_area(memory, area, where)
    _check_disjoint(list(areas.values()), where)
    slots = SlotMap(memory.name, memory.base, areas["bootloader"], areas["primary"],
                    areas["secondary"], areas["scratch"], memory.program_unit,
                    _max_sectors(table, memory, areas["primary"], where))
    _check_swappable(memory, slots, where)
    return slots


def boot_config(board: Board) -> BootConfig:
    """Read the board's ``[boot]`` table (every key optional; mode defaults to "model")."""
    where = f"board {board.name}: [boot]"
    table = board.extra.get("boot", {})
    if not isinstance(table, dict):
        raise BoardError(f"{where} must be a table")
    mode = table.get("mode", "model")
    if mode not in MODES:
        raise BoardError(f"{where} mode must be one of {', '.join(MODES)}, not {mode!r}")
    header = table.get("header_size", DEFAULT_HEADER_SIZE)
    if not isinstance(header, int) or isinstance(header, bool) or not 32 <= header <= 0xFFFF:
        raise BoardError(f"{where} header_size must be an integer from 32 to 0xffff")
    return BootConfig(mode, _key_path(board, table, where),
                      _flag(table, "downgrade_prevention", False, where),
                      _flag(table, "erase_invalid", True, where), header)


def has_boot_model(board: Board) -> bool:
    """Tell whether the board declares slots and boots through the model."""
    return "slots" in board.extra and boot_config(board).mode == "model"


# -- helpers ---------------------------------------------------------------------------------

def _flash_memory(board: Board, table: dict[str, Any], where: str) -> Memory:
    name = table.get("flash")
    if not isinstance(name, str):
        raise BoardError(f"{where} needs flash = \"<name of a flash memory>\"")
    memory = board.memory(name)
    if memory.kind != "flash":
        raise BoardError(f"{where} memory {name!r} is {memory.kind}, not flash")
    return memory


def _area(table: dict[str, Any], name: str, where: str) -> Area:
    spec = table.get(name)
    if not isinstance(spec, dict):
        raise BoardError(f"{where} needs {name} = {{ offset = ..., size = ... }}")
    values = []
    for key in ("offset", "size"):
        value = spec.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BoardError(f"{where} {name}.{key} must be a non-negative integer")
        values.append(value)
    if values[1] == 0:
        raise BoardError(f"{where} {name}.size must not be 0")
    return Area(name, values[0], values[1])


def _check_area(memory: Memory, area: Area, where: str) -> None:
    """The area lies inside the memory and starts and ends on sector boundaries."""
    if area.end > memory.size:
        raise BoardError(f"{where} {area.name} ends at {area.end:#x}, past the "
                         f"{memory.size:#x} bytes of {memory.name}")
    bounds = _sector_bounds(memory)
    for edge in (area.offset, area.end):
        if edge not in bounds:
            raise BoardError(f"{where} {area.name} edge {edge:#x} is not a sector boundary")


def _check_disjoint(areas: list[Area], where: str) -> None:
    ordered = sorted(areas, key=lambda a: a.offset)
    for first, second in zip(ordered, ordered[1:], strict=False):
        if first.end > second.offset:
            raise BoardError(f"{where} {first.name} overlaps {second.name}")


def _max_sectors(table: dict[str, Any], memory: Memory, primary: Area, where: str) -> int:
    count = len(_sectors_in(memory, primary))
    value = table.get("max_sectors", count)
    if not isinstance(value, int) or isinstance(value, bool) or value < count:
        raise BoardError(f"{where} max_sectors must be an integer of at least {count}, the "
                         "sectors of a slot")
    return value


def _check_swappable(memory: Memory, slots: SlotMap, where: str) -> None:
    """What the swap with scratch needs: equal slots, a scratch that holds any sector and
    the trailer sectors, and slots big enough for a trailer."""
    primary, secondary = _sectors_in(memory, slots.primary), _sectors_in(memory, slots.secondary)
    if primary != secondary:
        raise BoardError(f"{where} primary and secondary must have the same sector layout")
    try:
        trailer = slots.slot_trailer()
        slots.scratch_trailer()
    except ImageError as e:
        raise BoardError(f"{where} {e}") from None
    trailer_span = 0
    for size in reversed(primary):
        trailer_span += size
        if trailer_span >= trailer.size:
            break
    if slots.scratch.size < max(max(primary), trailer_span):
        raise BoardError(f"{where} scratch ({slots.scratch.size:#x} bytes) must hold the "
                         f"largest slot sector and the {trailer_span:#x} bytes of trailer "
                         "sectors")


def _sectors_in(memory: Memory, area: Area) -> list[int]:
    """Sizes of the sectors that make up ``area``."""
    sizes = []
    offset = 0
    for count, size in memory.sectors:
        for _ in range(count):
            if area.offset <= offset < area.end:
                sizes.append(size)
            offset += size
    return sizes


def _sector_bounds(memory: Memory) -> set[int]:
    bounds = {0}
    offset = 0
    for count, size in memory.sectors:
        for _ in range(count):
            offset += size
            bounds.add(offset)
    return bounds


def _key_path(board: Board, table: dict[str, Any], where: str) -> Path | None:
    key = table.get("key")
    if key is None:
        return None
    if not isinstance(key, str) or not key:
        raise BoardError(f"{where} key must be the path of a PEM file")
    path = Path(key)
    if not path.is_absolute() and board.path is not None:
        path = board.path.parent / path
    return path


def _flag(table: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise BoardError(f"{where} {key} must be true or false")
    return value
