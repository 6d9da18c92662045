"""Wire faults on stream data blocks, for scenarios.

The stream service passes every data block it is about to publish through its hooks, in order.
A hook returns the blocks to publish in its place: none (drop), the block twice (duplicate),
another block first (reorder), a changed copy (corrupt). A hook may also run an action when a
given block comes by, such as cancelling the job or cutting the device's connection.

Faults are keyed by block index. Unless ``times`` says otherwise a fault strikes only the first
time its block passes, so the device's re-request of that block succeeds, as after a real
transient fault; ``times=None`` strikes every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from emu.cloud.errors import CloudError


@dataclass(frozen=True)
class DataBlock:
    """One block on its way to the device. ``fmt`` is ``"cbor"`` or ``"json"``."""

    thing: str
    stream_id: str
    file_id: int
    index: int
    payload: bytes
    client_token: str | None = None
    fmt: str = "cbor"


@dataclass(frozen=True)
class Deferred:
    """A hook's action that must run when ``block`` reaches the wire: after every message the
    service published before it, not while the blocks of a request are still being chosen."""

    action: Callable[[DataBlock], None]
    block: DataBlock


Emitted = DataBlock | Deferred


class BlockHook:
    """The identity hook; subclasses override :meth:`on_block`."""

    def on_block(self, block: DataBlock) -> list[Emitted]:
        """The blocks to publish in place of ``block``, and actions to run between them."""
        return [block]


class _IndexedFault(BlockHook):
    """A fault that strikes chosen block indices a limited number of times each."""

    def __init__(self, indices: Iterable[int], times: int | None = 1) -> None:
        self.indices = frozenset(indices)
        self.times = times
        self.struck: dict[int, int] = {}

    def _strikes(self, block: DataBlock) -> bool:
        """Whether the fault applies to this pass of ``block`` (and count it)."""
        if block.index not in self.indices:
            return False
        count = self.struck.get(block.index, 0)
        if self.times is not None and count >= self.times:
            return False
        self.struck[block.index] = count + 1
        return True

    def on_block(self, block: DataBlock) -> list[Emitted]:
        return self.fault(block) if self._strikes(block) else [block]

    def fault(self, block: DataBlock) -> list[Emitted]:
        """What the fault makes of a struck block."""
        raise NotImplementedError


class DropBlocks(_IndexedFault):
    """The block is lost on the wire."""

    def fault(self, block: DataBlock) -> list[Emitted]:
        return []


class DuplicateBlocks(_IndexedFault):
    """The block arrives twice."""

    def fault(self, block: DataBlock) -> list[Emitted]:
        return [block, block]


class CorruptBlocks(_IndexedFault):
    """One payload byte is XORed with ``mask`` (offset clamped to the last byte)."""

    def __init__(self, indices: Iterable[int], times: int | None = 1, offset: int = 0,
                 mask: int = 0xFF) -> None:
        super().__init__(indices, times)
        if not 0 < mask <= 0xFF:
            raise CloudError(f"corruption mask {mask:#x} must be 0x01..0xff")
        self.offset = offset
        self.mask = mask

    def fault(self, block: DataBlock) -> list[Emitted]:
        if not block.payload:
            return [block]
        data = bytearray(block.payload)
        at = min(self.offset, len(data) - 1)
        data[at] ^= self.mask
        return [replace(block, payload=bytes(data))]


class HoldBack(_IndexedFault):
    """The block is held and published right after the next block that passes this hook,
    so the two arrive swapped. If no block follows, the held one is never published."""

    def __init__(self, indices: Iterable[int], times: int | None = 1) -> None:
        super().__init__(indices, times)
        self.held: list[DataBlock] = []

    def on_block(self, block: DataBlock) -> list[Emitted]:
        if self._strikes(block):
            self.held.append(block)
            return []
        released, self.held = self.held, []
        return [block, *released]

    def fault(self, block: DataBlock) -> list[Emitted]:
        return []


class TriggerAt(_IndexedFault):
    """Run ``action(block)`` when the block reaches the wire, then publish it or not.

    The action runs after every earlier block has been delivered and before this one is. It
    typically cancels the job or cuts the device's link; with ``deliver=False`` the block
    itself is lost, as when the connection drops just before it.
    """

    def __init__(self, index: int, action: Callable[[DataBlock], None], deliver: bool = True,
                 times: int | None = 1) -> None:
        super().__init__([index], times)
        self.action = action
        self.deliver = deliver

    def fault(self, block: DataBlock) -> list[Emitted]:
        action = Deferred(self.action, block)
        return [action, block] if self.deliver else [action]


def apply_hooks(hooks: Iterable[BlockHook], block: DataBlock) -> list[Emitted]:
    """Pass one block through every hook in order; deferred actions pass through untouched."""
    items: list[Emitted] = [block]
    for hook in hooks:
        items = [out for item in items
                 for out in (hook.on_block(item) if isinstance(item, DataBlock) else [item])]
    return items
