"""One area of a flash array (a slot or the scratch area) as the boot model sees it.

Every change goes through :class:`emu.flash.nor.FlashArray` operations (``erase_sector`` and
``program``), so the boot model's work is counted, checked against the NOR rules and open to
power cuts like the firmware's own. Two economies differ from MCUboot, which erases and
writes unconditionally: a sector that already reads erased is not erased again, and a chunk
of erased bytes is not programmed. The flash ends up holding the same bytes either way.

The trailer helpers read and write the fields MCUboot keeps at the end of a slot
(emu/image/trailer.py has the layout) and the swap-status entries: entry ``i`` is one
program unit at ``status_off + i * align`` whose first byte is written non-erased when step
``i`` of the swap is done (MCUboot's ``boot_write_status``).
"""

from __future__ import annotations

from emu.boot.slots import Area
from emu.flash.layout import ERASED
from emu.flash.nor import FlashArray
from emu.image.trailer import SwapType, Trailer, TrailerLayout, read_trailer, trailer_writes

COPY_CHUNK = 4096
"""Bytes per program operation when the boot model copies (one bounce buffer)."""


class FlashArea:
    """A slot or the scratch area: offsets are relative to the area's first byte."""

    def __init__(self, array: FlashArray, area: Area, trailer: TrailerLayout) -> None:
        self.array = array
        self.area = area
        self.name = area.name
        self.size = area.size
        self.layout = trailer
        first = array.sector_at(area.offset).index
        last = array.sector_at(area.end - 1).index
        self.sectors = array.sectors[first:last + 1]

    @property
    def address(self) -> int:
        """Bus address of the area's first byte."""
        return self.array.base + self.area.offset

    # -- bytes -----------------------------------------------------------------------------

    def read(self, offset: int, size: int) -> bytes:
        assert 0 <= offset and offset + size <= self.size, (self.name, offset, size)
        return self.array.read(self.area.offset + offset, size)

    def is_erased(self, offset: int, size: int) -> bool:
        return self.read(offset, size).count(ERASED) == size

    def erase(self, offset: int, size: int, *, backwards: bool = False) -> None:
        """Erase the sectors covering ``[offset, offset + size)``, which must be whole."""
        sectors = [s for s in self.sectors
                   if self.area.offset + offset <= s.offset < self.area.offset + offset + size]
        assert sum(s.size for s in sectors) == size, (self.name, offset, size)
        for sector in reversed(sectors) if backwards else sectors:
            if self.array.read(sector.offset, sector.size).count(ERASED) != sector.size:
                self.array.erase_sector(sector.index)

    def program(self, offset: int, data: bytes) -> None:
        """Program ``data`` in chunks, leaving out chunks that are all erased bytes."""
        for pos in range(0, len(data), COPY_CHUNK):
            chunk = data[pos:pos + COPY_CHUNK]
            if chunk.count(ERASED) != len(chunk):
                self.array.program(self.area.offset + offset + pos, chunk)

    def copy_from(self, source: FlashArea, src_offset: int, dst_offset: int,
                  size: int) -> None:
        """Copy ``size`` bytes of ``source`` into this (erased) area."""
        for pos in range(0, size, COPY_CHUNK):
            n = min(COPY_CHUNK, size - pos)
            self.program(dst_offset + pos, source.read(src_offset + pos, n))

    # -- trailer ---------------------------------------------------------------------------

    def trailer(self) -> Trailer:
        """The decoded trailer, by MCUboot's reading rules (erased is unset, 0x01 set,
        anything else bad)."""
        return read_trailer(self.read(0, self.size), self.layout.align, self.layout.amax,
                            self.layout.max_sectors)

    def trailer_bytes(self) -> bytes:
        """The raw trailer: status area, fields and magic."""
        return self.read(self.layout.status_off, self.size - self.layout.status_off)

    def trailer_sectors(self) -> int:
        """Bytes of the last sectors that hold the trailer (what MCUboot erases to clear it:
        ``swap_erase_trailer_sectors`` goes back from the last sector until it covers the
        trailer)."""
        span = 0
        for sector in reversed(self.sectors):
            span += sector.size
            if span >= self.layout.size:
                break
        return span

    def erase_trailer(self) -> None:
        span = self.trailer_sectors()
        self.erase(self.size - span, span, backwards=True)

    def write_fields(self, *, magic: bool = False, image_ok: bool = False,
                     copy_done: bool = False, swap_type: SwapType | None = None,
                     swap_size: int | None = None) -> None:
        """Program trailer fields, the magic last, each on its own program units."""
        for offset, data in trailer_writes(self.layout, magic=magic, image_ok=image_ok,
                                           copy_done=copy_done, swap_type=swap_type,
                                           swap_size=swap_size):
            self.program(offset, data)

    def swap_size(self) -> int | None:
        raw = self.read(self.layout.swap_size_off, 4)
        return None if raw == b"\xff" * 4 else int.from_bytes(raw, "little")

    # -- swap status -----------------------------------------------------------------------

    @property
    def status_entries(self) -> int:
        """How many status entries the area holds: three per region."""
        return 3 * self.layout.max_sectors

    def status_offset(self, entry: int) -> int:
        return self.layout.status_off + entry * self.layout.align

    def status_written(self, entry: int) -> bool:
        return self.read(self.status_offset(entry), 1)[0] != ERASED

    def write_status(self, entry: int, value: int) -> None:
        """Mark step ``entry`` done: MCUboot writes the step's state (1, 2 or 3) in the first
        byte of the entry and leaves the rest of the program unit erased."""
        unit = bytes([value]) + bytes([ERASED]) * (self.layout.align - 1)
        self.program(self.status_offset(entry), unit)
