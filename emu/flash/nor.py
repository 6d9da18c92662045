"""The NOR flash array: guest-visible bytes plus the rules that program and erase obey.

The rules reproduced here are the ones every NOR part and MCUboot's simulated flash share
(docs/flash.md, "NOR rules"):

* an erase works on a whole sector and sets every byte to ``0xFF``;
* a program can only clear bits: the new contents are ``old & data``;
* a program must start on a program-unit boundary and cover whole program units;
* by default a program unit must be erased before it is programmed again, as MCUboot's
  simulator and Zephyr's flash simulator require; a board may instead allow overwriting with
  AND (``allow_overwrite_and``), which is what RM0090 §3.6.4 says the STM32F4 array does;
* a write-protected sector refuses both operations.

Refusals are raised as :class:`FlashOpError` carrying a short code and the bus address. The
controllers catch it and set the status flags of their hardware; host code that calls the
array directly gets the exception. This is the single error convention of the flash layer.

Every accepted operation is numbered, appended to :attr:`FlashArray.log` and shown to the
listeners *before* it is applied, which is where power cuts are injected
(:mod:`emu.flash.power`).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from emu.flash.layout import ERASED, FlashLayout, Sector, SectorMap
from emu.flash.power import PowerCut, TornStream, torn_erase, torn_program

# Refusal codes of FlashOpError.
MISALIGNED = "misaligned"
NOT_ERASED = "not-erased"
WRITE_PROTECTED = "write-protected"
OUT_OF_RANGE = "out-of-range"

# Kinds of Operation.
PROGRAM = "program"
ERASE = "erase"
ERASE_ALL = "erase-all"


class FlashOpError(Exception):
    """A program or erase refused by the NOR rules.

    ``code`` is one of ``misaligned``, ``not-erased``, ``write-protected``, ``out-of-range``;
    ``address`` is the bus address where the rule was broken. This is firmware misbehaviour
    seen by a controller, not a user error, so it is not an :class:`emu.errors.EmuError`.
    """

    def __init__(self, code: str, address: int, detail: str = "") -> None:
        text = f"{code} at {address:#010x}" + (f": {detail}" if detail else "")
        super().__init__(text)
        self.code = code
        self.address = address


@dataclass(frozen=True)
class Operation:
    """One accepted flash operation: its number, kind, bus address and byte count."""

    index: int
    kind: str
    address: int
    size: int


Listener = Callable[[Operation], None]


class FlashArray:
    """A NOR flash array whose bytes are guest memory.

    ``buffer`` is a ctypes byte array that the machine maps into unicorn, so reads by the guest
    need no hook. Everything that changes it goes through :meth:`program`, :meth:`erase_sector`,
    :meth:`erase_all` (operations: checked, logged, announced) or the host-side loaders
    :meth:`load_contents` and :meth:`write_raw` (no rules, no log: for fixtures and files).
    After any change :attr:`changed` is called with ``(offset, size)`` so that the machine can
    drop translated code of that range.
    """

    def __init__(self, layout: FlashLayout, *, allow_overwrite_and: bool = False) -> None:
        self.layout = layout
        self.allow_overwrite_and = allow_overwrite_and
        self.size = layout.size
        self.buffer = (ctypes.c_ubyte * self.size)()
        ctypes.memset(self.buffer, ERASED, self.size)
        self._map = SectorMap(layout)
        self.sectors: tuple[Sector, ...] = self._map.sectors
        self.protected: frozenset[int] = frozenset()
        self.log: list[Operation] = []
        self.changed: Callable[[int, int], None] | None = None
        self._listeners: list[Listener] = []
        self._next_index = 0

    # -- geometry --------------------------------------------------------------------------

    @property
    def base(self) -> int:
        return self.layout.base

    @property
    def program_unit(self) -> int:
        return self.layout.program_unit

    @property
    def op_count(self) -> int:
        """How many operations have been accepted since the array was built."""
        return self._next_index

    def sector_at(self, offset: int) -> Sector:
        self._check_range(offset, 1)
        return self._map.at(offset)

    def offset_of(self, address: int) -> int:
        """Offset of a bus address inside the array (FlashOpError when outside)."""
        self._check_range(address - self.base, 1)
        return address - self.base

    # -- host access -----------------------------------------------------------------------

    def read(self, offset: int, n: int) -> bytes:
        self._check_range(offset, n)
        return ctypes.string_at(ctypes.addressof(self.buffer) + offset, n)

    def load_contents(self, data: bytes) -> None:
        """Replace the whole contents, as loading a flash file does. Not an operation."""
        assert len(data) == self.size, (len(data), self.size)
        self._store(0, data)

    def write_raw(self, offset: int, data: bytes) -> None:
        """Write bytes ignoring the NOR rules, as a debug probe preparing a fixture would."""
        self._check_range(offset, len(data))
        self._store(offset, data)

    def set_protected(self, indexes: Iterable[int]) -> None:
        """Set the write-protected sectors (the controller derives them from option bytes)."""
        self.protected = frozenset(indexes)

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(operation)`` before each accepted operation is applied."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        self._listeners.remove(fn)

    # -- rules -----------------------------------------------------------------------------

    def check_program(self, offset: int, data: bytes) -> None:
        """Raise FlashOpError if programming ``data`` at ``offset`` breaks a NOR rule."""
        unit = self.program_unit
        if offset % unit or len(data) % unit or not data:
            raise FlashOpError(MISALIGNED, self.base + offset,
                               f"{len(data)} bytes, program unit {unit}")
        self._check_range(offset, len(data))
        self._check_unprotected(offset, len(data))
        if not self.allow_overwrite_and:
            self._check_erased(offset, len(data))

    def check_erase(self, index: int) -> None:
        """Raise FlashOpError if sector ``index`` cannot be erased."""
        if not 0 <= index < len(self.sectors):
            raise FlashOpError(OUT_OF_RANGE, self.base, f"no sector {index}")
        self._check_unprotected(self.sectors[index].offset, 1)

    # -- operations ------------------------------------------------------------------------

    def program(self, offset: int, data: bytes) -> Operation:
        """Program ``data`` at ``offset``: each byte becomes ``old & new``."""
        data = bytes(data)
        self.check_program(offset, data)
        old = self.read(offset, len(data))
        return self._perform(
            PROGRAM, offset, len(data),
            lambda: _and(old, data),
            lambda stream: torn_program(old, data, stream))

    def erase_sector(self, index: int) -> Operation:
        """Erase sector ``index``: every byte becomes 0xFF."""
        self.check_erase(index)
        sector = self.sectors[index]
        return self._erase_range(ERASE, sector.offset, sector.size)

    def erase_all(self) -> Operation:
        """Erase the whole array as one operation (a mass erase)."""
        self._check_unprotected(0, self.size)
        return self._erase_range(ERASE_ALL, 0, self.size)

    # -- lifecycle -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {"data": self.read(0, self.size), "protected": sorted(self.protected),
                "next_index": self._next_index}

    def restore(self, state: dict[str, Any]) -> None:
        self.load_contents(state["data"])
        self.set_protected(state["protected"])
        self._next_index = state["next_index"]

    # -- internals -------------------------------------------------------------------------

    def _erase_range(self, kind: str, offset: int, size: int) -> Operation:
        old = self.read(offset, size)
        return self._perform(kind, offset, size, lambda: bytes([ERASED]) * size,
                             lambda stream: torn_erase(old, stream))

    def _perform(self, kind: str, offset: int, size: int,
                 complete: Callable[[], bytes],
                 torn: Callable[[TornStream], bytes]) -> Operation:
        op = Operation(self._next_index, kind, self.base + offset, size)
        self._next_index += 1
        self.log.append(op)

        # Announce first: a listener may cut the power before or inside the operation.
        try:
            for fn in list(self._listeners):
                fn(op)
        except PowerCut as cut:
            cut.operation = op
            if cut.when == "during":
                self._store(offset, torn(TornStream(cut.seed, op.index)))
            raise
        self._store(offset, complete())
        return op

    def _store(self, offset: int, data: bytes) -> None:
        ctypes.memmove(ctypes.addressof(self.buffer) + offset, data, len(data))
        if self.changed is not None:
            self.changed(offset, len(data))

    def _check_range(self, offset: int, n: int) -> None:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise FlashOpError(OUT_OF_RANGE, self.base + offset,
                               f"{n} bytes outside {self.layout.describe()}")

    def _check_unprotected(self, offset: int, n: int) -> None:
        for sector in self._map.spanning(offset, n):
            if sector.index in self.protected:
                raise FlashOpError(WRITE_PROTECTED, self.base + max(offset, sector.offset),
                                   f"sector {sector.index} is write-protected")

    def _check_erased(self, offset: int, n: int) -> None:
        old = self.read(offset, n)
        if old.count(ERASED) == n:
            return
        first = next(i for i, b in enumerate(old) if b != ERASED)
        unit = (offset + first) - (offset + first) % self.program_unit
        raise FlashOpError(NOT_ERASED, self.base + unit,
                           f"program unit holds {self.read(unit, self.program_unit).hex()}")


def _and(old: bytes, new: bytes) -> bytes:
    n = len(old)
    return (int.from_bytes(old, "little") & int.from_bytes(new, "little")).to_bytes(n, "little")
