"""Power cuts: the exception that interrupts a flash operation and the torn results it leaves.

A flash array announces every operation to its listeners before applying it
(:meth:`emu.flash.nor.FlashArray.add_listener`). A listener that raises :class:`PowerCut`
stops the machine there:

* ``when="before"``: the operation never started; the array is untouched.
* ``when="during"``: the operation was cut half-way. The array keeps a *torn* result that
  obeys the NOR rules (docs/flash.md, "Power cuts"): an erase can only have set bits, a program
  can only have cleared bits it was asked to clear. Which bytes and bits are affected is chosen
  by a generator seeded with ``seed`` and the operation index, so a run is reproducible.

The array re-raises the cut once the torn result is in place, with ``operation`` filled in; the
machine catches it and powers the board off.

MCUboot's simulator only cuts between whole operations; cutting inside one is what the
``during`` mode adds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from emu.flash.layout import ERASED

if TYPE_CHECKING:
    from emu.flash.nor import Operation

WHEN = ("before", "during")


class PowerCut(Exception):
    """Raised by a flash listener to cut the power at the operation it was shown."""

    def __init__(self, when: str = "before", seed: int = 0) -> None:
        assert when in WHEN, when
        super().__init__(f"power cut {when} a flash operation (seed {seed})")
        self.when = when
        self.seed = seed
        self.operation: Operation | None = None


def cut_at(index: int, when: str = "before", seed: int = 0) -> Callable[[Operation], None]:
    """A listener that cuts the power at the operation whose index is ``index``.

    This is the step of the MCUboot simulator's method: count the operations of a clean run,
    then run again once per index with a cut there.
    """

    def listener(op: Operation) -> None:
        if op.index == index:
            raise PowerCut(when, seed)

    return listener


class TornStream:
    """Deterministic bytes for one torn operation: SHA-256 of (seed, index, counter)."""

    def __init__(self, seed: int, index: int) -> None:
        self._key = f"ota-emu torn {seed} {index}".encode()
        self._counter = 0
        self._pool = b""

    def take(self, n: int) -> bytes:
        blocks = [self._pool]
        have = len(self._pool)
        while have < n:
            blocks.append(self._block())
            have += 32
        pool = b"".join(blocks)
        out, self._pool = pool[:n], pool[n:]
        return out

    def _block(self) -> bytes:
        self._counter += 1
        return hashlib.sha256(self._key + self._counter.to_bytes(8, "little")).digest()

    def below(self, bound: int) -> int:
        """An integer in ``[0, bound)``; ``bound`` is at most 2**32."""
        return int.from_bytes(self.take(8), "little") % bound


def torn_erase(old: bytes, stream: TornStream) -> bytes:
    """An erase cut part-way: a prefix is erased, then each later byte is erased or left.

    The prefix length is drawn from the stream; the bytes after it are erased where a drawn
    byte is odd. Erasing only sets bits, so every byte is either its old value or ``ERASED``.
    """
    done = stream.below(len(old))
    coins = stream.take(len(old) - done)
    tail = bytes(ERASED if c & 1 else b for b, c in zip(old[done:], coins, strict=True))
    return bytes([ERASED]) * done + tail


def torn_program(old: bytes, data: bytes, stream: TornStream) -> bytes:
    """A program cut part-way: only some of the bits it had to clear are cleared.

    ``old & data`` is the complete result; the bits that differ from ``old`` are cleared where a
    drawn mask has a one. Programming never sets a bit, so the result lies between the old
    contents and the complete result bit by bit.
    """
    n = len(old)
    before = int.from_bytes(old, "little")
    to_clear = before & ~int.from_bytes(data, "little")
    mask = int.from_bytes(stream.take(n), "little")
    return (before & ~(to_clear & mask)).to_bytes(n, "little")
