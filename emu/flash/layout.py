"""Geometry of a NOR flash array: where it sits, its sectors and its program unit.

The vocabulary is the one of docs/glossary.md: a *sector* is the unit of erase, the *program
unit* is the smallest block that one program operation may write, aligned on its own size.
Sectors may differ in size (the STM32F4 table of RM0090 §3.3, Table 5) or be uniform.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from emu.errors import BoardError

ERASED = 0xFF
"""Value of every byte after an erase. Programming can only clear bits of it."""

PROGRAM_UNITS = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class Sector:
    """One erase unit: its index in the array, its offset from the array base, its size."""

    index: int
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class FlashLayout:
    """Where an array sits on the bus and how it is cut into sectors.

    ``runs`` lists the sector table as (count, size) pairs in address order, the way
    reference manuals print it; ``[(4, 16 KiB), (1, 64 KiB), (7, 128 KiB)]`` is a 1 MiB
    STM32F405/407.
    """

    name: str
    base: int
    runs: tuple[tuple[int, int], ...]
    program_unit: int = 4

    def __post_init__(self) -> None:
        if self.program_unit not in PROGRAM_UNITS:
            raise BoardError(f"flash {self.name}: program unit {self.program_unit} is not one "
                             f"of {', '.join(map(str, PROGRAM_UNITS))}")
        if not self.runs or any(n <= 0 or s <= 0 for n, s in self.runs):
            raise BoardError(f"flash {self.name}: the sector table must list positive counts "
                             "and sizes")
        if any(s % self.program_unit for _, s in self.runs):
            raise BoardError(f"flash {self.name}: every sector size must be a multiple of the "
                             "program unit")
        object.__setattr__(self, "runs", tuple((int(n), int(s)) for n, s in self.runs))

    # -- constructors ----------------------------------------------------------------------

    @classmethod
    def uniform(cls, name: str, base: int, sector_size: int, count: int,
                program_unit: int = 4) -> FlashLayout:
        return cls(name, base, ((count, sector_size),), program_unit)

    @classmethod
    def from_runs(cls, name: str, base: int, runs: Iterable[tuple[int, int]],
                  program_unit: int = 4) -> FlashLayout:
        return cls(name, base, tuple(tuple(r) for r in runs), program_unit)

    # -- geometry --------------------------------------------------------------------------

    @property
    def sectors(self) -> tuple[Sector, ...]:
        out: list[Sector] = []
        offset = 0
        for count, size in self.runs:
            for _ in range(count):
                out.append(Sector(len(out), offset, size))
                offset += size
        return tuple(out)

    @property
    def size(self) -> int:
        return sum(n * s for n, s in self.runs)

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def uniform_sector_size(self) -> int | None:
        """The sector size when all sectors are equal, else None."""
        return self.runs[0][1] if len(self.runs) == 1 else None

    def contains(self, address: int, size: int = 1) -> bool:
        return self.base <= address and address + size <= self.end

    def describe(self) -> str:
        table = ", ".join(f"{n}x{_kib(s)}" for n, s in self.runs)
        return (f"{self.name} at {self.base:#010x}: {table}, program unit "
                f"{self.program_unit} B")


class SectorMap:
    """Fast offset-to-sector lookup over a layout."""

    def __init__(self, layout: FlashLayout) -> None:
        self.sectors = layout.sectors
        self._starts = [s.offset for s in self.sectors]

    def at(self, offset: int) -> Sector:
        """The sector holding ``offset`` (which the caller has checked is inside the array)."""
        return self.sectors[bisect.bisect_right(self._starts, offset) - 1]

    def spanning(self, offset: int, size: int) -> list[Sector]:
        """Every sector that the range touches."""
        first = self.at(offset).index
        last = self.at(offset + max(size, 1) - 1).index
        return list(self.sectors[first:last + 1])


def stm32f4_layout(base: int = 0x0800_0000, size_kib: int = 1024,
                   program_unit: int = 1) -> FlashLayout:
    """The single-bank STM32F405/407/415/417 main memory of RM0090 §3.3, Table 5.

    Four 16 KiB sectors, one of 64 KiB, then 128 KiB sectors up to the part size (7 of them
    on a 1 MiB part). The program unit is one byte: x8 parallelism is the narrowest.
    """
    big = (size_kib - 128) // 128
    if size_kib < 256 or (size_kib - 128) % 128:
        raise BoardError(f"no STM32F4 part has {size_kib} KiB of flash")
    runs = ((4, 16 * 1024), (1, 64 * 1024), (big, 128 * 1024))
    return FlashLayout("flash", base, runs, program_unit)


def _kib(n: int) -> str:
    return f"{n // 1024}K" if n % 1024 == 0 else f"{n}B"
