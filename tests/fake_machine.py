"""A stand-in for the machine, for driving one device model through its registers.

It keeps the part of the machine contract (docs/architecture.md) that device models use:
virtual time with events, interrupt lines, guest errors, and memories that a DMA-like model
reads and writes.
"""

from __future__ import annotations

import heapq
import itertools
from types import SimpleNamespace

import unicorn

from emu.board import Memory


class FakeMachine:
    hz = 1_000_000

    def __init__(self, memories: list[Memory], board_path=None) -> None:
        self.board = SimpleNamespace(path=board_path, memories=list(memories))
        self.now = 0
        self._events: list = []
        self._seq = itertools.count()
        self.irqs: list[int] = []
        self.guest_errors: list[str] = []
        self.memory = {m.base: bytearray(m.size) for m in memories}

    def schedule(self, delay: int, callback):
        event = [self.now + delay, next(self._seq), callback]
        heapq.heappush(self._events, event)
        return event

    def cancel(self, event) -> None:
        if event in self._events:
            self._events.remove(event)
            heapq.heapify(self._events)

    def advance(self, cycles: int) -> None:
        """Run every event due in the next ``cycles`` cycles, then stop there."""
        target = self.now + cycles
        while self._events and self._events[0][0] <= target:
            deadline, _, callback = heapq.heappop(self._events)
            self.now = deadline
            callback()
        self.now = target

    def set_irq_pending(self, irq: int) -> None:
        self.irqs.append(irq)

    def guest_error(self, device: str, message: str) -> None:
        self.guest_errors.append(message)

    def unmodelled(self, device, address, size, value) -> None:
        raise AssertionError(f"unmodelled access at {address:#x}")

    def _locate(self, addr: int, n: int, error: int) -> tuple[bytearray, int]:
        for base, buf in self.memory.items():
            if base <= addr and addr + n <= base + len(buf):
                return buf, addr - base
        raise unicorn.UcError(error)

    def mem_read(self, addr: int, n: int) -> bytes:
        buf, at = self._locate(addr, n, unicorn.UC_ERR_READ_UNMAPPED)
        return bytes(buf[at:at + n])

    def mem_write(self, addr: int, data: bytes) -> None:
        buf, at = self._locate(addr, len(data), unicorn.UC_ERR_WRITE_UNMAPPED)
        buf[at:at + len(data)] = data


class DeviceRig:
    """One device model on a fake machine, with shorthands for its registers (by mnemonic)
    and a bump allocator for the guest-RAM buffers a DMA-like model reads."""

    def __init__(self, machine: FakeMachine, dev, ram_base: int) -> None:
        self.machine = machine
        self.dev = dev
        self._offsets = {r.mnemonic: r.offset for r in dev.REGISTERS}
        self._next = ram_base

    def rd(self, mnemonic: str) -> int:
        return self.dev.read(self._offsets[mnemonic], 4)

    def wr(self, mnemonic: str, value: int) -> None:
        self.dev.write(self._offsets[mnemonic], 4, value)

    def put(self, data: bytes) -> int:
        """Place bytes in guest RAM (word-aligned) and return their address."""
        addr = self._next
        self.machine.mem_write(addr, data)
        self._next += (len(data) + 3) & ~3 or 4
        return addr
