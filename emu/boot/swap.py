"""The swap using scratch: exchanging the images of the two slots so that a reset at any
flash operation can be resumed.

This follows MCUboot's swap-using-scratch algorithm (design document "Image swapping",
``boot_swap_sectors`` and ``swap_run`` in swap_scratch.c), written again here:

* The bytes to move (the *swap size*) are those of the larger image, header to last TLV. The
  sectors holding them are cut into *regions*, from the end of the slot backwards, each as
  many whole sectors as the scratch area holds. When the image reaches the sectors of the
  trailer, the first region also takes every trailer sector (MCUboot takes only the sector
  of the last byte; taking them all keeps the primary trailer whole in one region).
* Each region is moved in three steps, and each step ends by writing one status entry:
  0. erase scratch, copy the secondary's region into it;
  1. erase the secondary's region, copy the primary's region into it;
  2. erase the primary's region, copy the scratch into it.
* Before step 0 of the first region the status is initialised: the swap type, the swap size,
  image_ok when the secondary's is set, then the magic, first in the scratch trailer, then
  (after erasing the primary's trailer sectors) in the primary trailer; the temporary copy in
  scratch is erased again. The secondary's trailer sectors are erased in step 1 of that
  region, so that only the primary keeps the state.
* When the first region holds the primary trailer (*use scratch*), its steps 0 and 1 keep
  the status in the scratch trailer, because step 2 erases the primary's trailer sectors;
  step 2 then rebuilds the primary trailer from the scratch one and erases the scratch.
* The scratch area is always erased from its last sector backwards (MCUboot erases it as one
  range): its trailer goes first, so a cut in the middle of that erase never leaves a
  scratch status that points at data already erased.

A step is repeatable from its start: it only reads areas the previous steps finished, and its
status entry is written after its copy. That is what makes a cut anywhere resumable.
"""

from __future__ import annotations

from dataclasses import dataclass

from emu.boot.area import FlashArea
from emu.boot.decision import SOURCE_PRIMARY, status_source
from emu.flash.layout import ERASED
from emu.image.trailer import Flag, SwapType

STEPS_PER_REGION = 3


@dataclass(frozen=True)
class Region:
    """Sectors moved together: ``index`` 0 is the one at the end of the slot, moved first."""

    index: int
    offset: int
    size: int
    copy_size: int

    @property
    def use_scratch(self) -> bool:
        """The region holds the primary trailer, which is not copied with the data."""
        return self.copy_size != self.size


@dataclass(frozen=True)
class SwapStatus:
    """The progress of a swap as the trailers record it (MCUboot's ``boot_status``)."""

    source: str | None
    done: int
    swap_type: SwapType
    swap_size: int | None
    inconsistent: bool = False

    @property
    def in_progress(self) -> bool:
        return self.done > 0


def read_status(primary: FlashArea, scratch: FlashArea) -> SwapStatus:
    """Find where the status is kept and how many steps it records as done."""
    source = status_source(primary.trailer(), scratch.trailer())
    if source is None:
        return SwapStatus(None, 0, SwapType.NONE, None)
    area = primary if source == SOURCE_PRIMARY else scratch
    done, inconsistent = _steps_done(area)
    return SwapStatus(source, done, area.trailer().swap_type, area.swap_size(), inconsistent)


def _steps_done(area: FlashArea) -> tuple[int, bool]:
    """MCUboot's ``swap_read_status_bytes``: the entries from the first written one up to the
    first erased one after it are done; a written entry after that gap is inconsistent."""
    align = area.layout.align
    raw = area.read(area.layout.status_off, area.status_entries * align)
    written = [raw[i * align] != ERASED for i in range(area.status_entries)]
    if True not in written:
        return 0, False
    first = written.index(True)
    if False not in written[first:]:
        return area.status_entries, False
    gap = written.index(False, first)
    return gap, True in written[gap:]


class Swap:
    """Moves images between the slots through scratch, recording each step."""

    def __init__(self, primary: FlashArea, secondary: FlashArea, scratch: FlashArea) -> None:
        self.primary = primary
        self.secondary = secondary
        self.scratch = scratch

    # -- geometry --------------------------------------------------------------------------

    def regions(self, swap_size: int) -> list[Region]:
        """The regions that move ``swap_size`` bytes, in the order they are moved."""
        sectors = [(s.offset - self.primary.area.offset, s.size) for s in self.primary.sectors]
        trailer_start = self.primary.size - self.primary.trailer_sectors()
        last = max(i for i, (offset, _) in enumerate(sectors) if offset < max(swap_size, 1))
        if sectors[last][0] >= trailer_start:
            last = len(sectors) - 1
        out: list[Region] = []
        while last >= 0:
            first, total = last, 0
            while first >= 0 and total + sectors[first][1] <= self.scratch.size:
                total += sectors[first][1]
                first -= 1
            offset = sectors[first + 1][0]
            copy = min(total, self.primary.layout.status_off - offset)
            out.append(Region(len(out), offset, total, copy))
            last = first
        return out

    # -- running ---------------------------------------------------------------------------

    def run(self, swap_type: SwapType, swap_size: int, done: int = 0) -> None:
        """Do every step after the first ``done`` ones."""
        steps = (self._step_to_scratch, self._step_to_secondary, self._step_to_primary)
        for region in self.regions(swap_size):
            for state, step in enumerate(steps):
                if STEPS_PER_REGION * region.index + state >= done:
                    step(region, swap_type, swap_size)

    def _step_to_scratch(self, region: Region, swap_type: SwapType, swap_size: int) -> None:
        """Step 0: the secondary's region goes to scratch (after the status is set up)."""
        self._erase_scratch()
        if region.index == 0:
            self._init_status(self.scratch, swap_type, swap_size)
            if not region.use_scratch:
                self.primary.erase_trailer()
                self._init_status(self.primary, swap_type, swap_size)
                self._erase_scratch()
        self.scratch.copy_from(self.secondary, region.offset, 0, region.copy_size)
        self._mark(region, 0)

    def _step_to_secondary(self, region: Region, swap_type: SwapType, swap_size: int) -> None:
        """Step 1: the primary's region goes to the secondary slot."""
        self.secondary.erase(region.offset, region.size)
        self.secondary.copy_from(self.primary, region.offset, region.offset, region.copy_size)
        if region.index == 0 and not region.use_scratch:
            self.secondary.erase_trailer()
        self._mark(region, 1)

    def _step_to_primary(self, region: Region, swap_type: SwapType, swap_size: int) -> None:
        """Step 2: the scratch copy goes to the primary slot."""
        self.primary.erase(region.offset, region.size)
        self.primary.copy_from(self.scratch, 0, region.offset, region.copy_size)
        if region.use_scratch:
            self._trailer_from_scratch(swap_size)
        self._mark(region, 2)
        if region.use_scratch:
            self._erase_scratch()

    def _erase_scratch(self) -> None:
        """Erase the scratch area from its last sector: its trailer goes before the data it
        describes, so a cut half-way never leaves a status that points at erased data."""
        self.scratch.erase(0, self.scratch.size, backwards=True)

    # -- status ----------------------------------------------------------------------------

    def _init_status(self, area: FlashArea, swap_type: SwapType, swap_size: int) -> None:
        """MCUboot's ``swap_status_init``: swap type, image_ok copied from the secondary,
        swap size, and the magic last."""
        confirmed = self.secondary.trailer().image_ok is Flag.SET
        area.write_fields(swap_type=None if swap_type is SwapType.NONE else swap_type,
                          image_ok=confirmed, swap_size=swap_size, magic=True)

    def _trailer_from_scratch(self, swap_size: int) -> None:
        """Rebuild the primary trailer from the scratch one: the two status entries kept
        there, image_ok, swap type, swap size and the magic."""
        kept = (STEPS_PER_REGION - 1) * self.scratch.layout.align
        entries = self.scratch.read(self.scratch.layout.status_off, kept)
        self.primary.program(self.primary.layout.status_off, entries)
        state = self.scratch.trailer()
        kind = None if state.swap_type is SwapType.NONE else state.swap_type
        self.primary.write_fields(image_ok=state.image_ok is Flag.SET, swap_type=kind,
                                  swap_size=swap_size, magic=True)

    def _mark(self, region: Region, state: int) -> None:
        """Write the status entry of a finished step: in scratch while the primary trailer
        is about to be erased (steps 0 and 1 of a use-scratch region), else in the primary."""
        area = self.scratch if region.use_scratch and state < 2 else self.primary
        area.write_status(STEPS_PER_REGION * region.index + state, state + 1)
