"""Memory-mapped peripherals whose registers are declared as tables.

A peripheral class lists its registers in ``REGISTERS``: offset, the datasheet mnemonic, a
readable name, the reset value, the access, and optional bit fields. The base class stores the
values, applies the access rules, and calls ``read_<MNEMONIC>`` / ``write_<MNEMONIC>`` methods
when a model defines them, so that behaviour attaches to the table instead of replacing it.

An access that hits no declared register is reported once per (device, offset) through
:meth:`Bus.unmodelled`; the machine logs it and, in strict mode, turns it into a bus fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from emu.core.machine import Machine

# Access kinds of a register or field.
RW = "rw"  # read and write
RO = "ro"  # read only: writes are ignored (and logged as a guest error)
WO = "wo"  # write only: reads return 0
W1C = "w1c"  # write one to clear


@dataclass(frozen=True)
class Field:
    """A bit field of a register: ``width`` bits from bit ``lsb``."""

    name: str
    lsb: int
    width: int = 1
    access: str = RW
    doc: str = ""

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Reg:
    """One register of a peripheral, named as in its reference manual."""

    offset: int
    mnemonic: str
    name: str
    reset: int = 0
    access: str = RW
    fields: tuple[Field, ...] = field(default_factory=tuple)
    width: int = 32

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.mnemonic} has no field {name}")


class Peripheral:
    """Base of every memory-mapped device model.

    Subclasses set ``REGISTERS`` and ``SIZE`` (bytes of address space) and may define
    ``read_<MNEMONIC>(self) -> int`` and ``write_<MNEMONIC>(self, value: int) -> None``. A
    write hook receives the new value (already merged for narrow accesses) and decides what is
    stored; the default stores it under the access rules of the table.
    """

    REGISTERS: ClassVar[tuple[Reg, ...]] = ()
    SIZE: ClassVar[int] = 0x1000
    KIND: ClassVar[str] = ""

    def __init__(self, machine: Machine | None, name: str, base: int, **params: Any) -> None:
        self.machine = machine
        self.name = name
        self.base = base
        self.params = params
        self._by_offset = {r.offset: r for r in self.REGISTERS}
        self._readers = {r.offset: getattr(self, f"read_{r.mnemonic}", None)
                         for r in self.REGISTERS}
        self._writers = {r.offset: getattr(self, f"write_{r.mnemonic}", None)
                         for r in self.REGISTERS}
        self.regs: dict[str, int] = {}
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Return every register to its documented reset value."""
        self.regs = {r.mnemonic: r.reset for r in self.REGISTERS}

    def snapshot(self) -> dict[str, Any]:
        """Dynamic state only; configuration is rebuilt from the board."""
        return {"regs": dict(self.regs)}

    def restore(self, state: dict[str, Any]) -> None:
        self.regs = dict(state["regs"])

    # -- bus side --------------------------------------------------------------------------

    def reg(self, mnemonic: str) -> Reg:
        for r in self.REGISTERS:
            if r.mnemonic == mnemonic:
                return r
        raise KeyError(mnemonic)

    def read(self, offset: int, size: int) -> int:
        """Bus read of ``size`` bytes at ``offset`` from the device base."""
        aligned = offset & ~3
        reg = self._by_offset.get(aligned)
        if reg is None:
            self.unmodelled(offset, size, None)
            return 0
        reader = self._readers[aligned]
        if reader is not None:
            value = reader()
        elif reg.access == WO:
            value = 0
        else:
            value = self.regs[reg.mnemonic]
        shift = (offset & 3) * 8
        return (value >> shift) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        """Bus write of ``size`` bytes at ``offset`` from the device base."""
        aligned = offset & ~3
        reg = self._by_offset.get(aligned)
        if reg is None:
            self.unmodelled(offset, size, value)
            return
        if size < 4:
            shift = (offset & 3) * 8
            mask = ((1 << (size * 8)) - 1) << shift
            value = (self.regs[reg.mnemonic] & ~mask) | ((value << shift) & mask)
        value &= (1 << reg.width) - 1 if reg.width < 32 else 0xFFFFFFFF
        writer = self._writers[aligned]
        if writer is not None:
            writer(value)
        elif reg.access == RO:
            self.guest_error(f"write of {value:#x} to read-only {reg.mnemonic}")
        elif reg.access == W1C:
            self.regs[reg.mnemonic] &= ~value
        else:
            self.regs[reg.mnemonic] = value

    # -- helpers for models ----------------------------------------------------------------

    def get_field(self, mnemonic: str, field_name: str) -> int:
        f = self.reg(mnemonic).field(field_name)
        return (self.regs[mnemonic] & f.mask) >> f.lsb

    def set_field(self, mnemonic: str, field_name: str, value: int) -> None:
        f = self.reg(mnemonic).field(field_name)
        self.regs[mnemonic] = (self.regs[mnemonic] & ~f.mask) | ((value << f.lsb) & f.mask)

    def unmodelled(self, offset: int, size: int, value: int | None) -> None:
        if self.machine is not None:
            self.machine.unmodelled(self.name, self.base + offset, size, value)

    def guest_error(self, message: str) -> None:
        """The firmware did something the hardware ignores; log it once per message."""
        if self.machine is not None:
            self.machine.guest_error(self.name, message)

    def raise_irq(self, irq: int) -> None:
        if self.machine is not None:
            self.machine.set_irq_pending(irq)

    # -- board description -----------------------------------------------------------------

    @classmethod
    def from_board(cls, machine: Machine, spec: dict[str, Any]) -> Peripheral:
        params = {k: v for k, v in spec.items() if k not in ("name", "type", "base")}
        return cls(machine, spec["name"], spec["base"], **params)


# Registry of peripheral types by the name a board file uses.
PERIPHERAL_TYPES: dict[str, type[Peripheral]] = {}


def register(kind: str):
    """Class decorator: make a model available to board files as ``type = kind``."""

    def wrap(cls: type[Peripheral]) -> type[Peripheral]:
        cls.KIND = kind
        PERIPHERAL_TYPES[kind] = cls
        return cls

    return wrap
