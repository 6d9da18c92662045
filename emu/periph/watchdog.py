"""The Arm CMSDK APB watchdog (Cortex-M System Design Kit Technical Reference Manual, ARM DDI
0479, "APB watchdog"), the watchdog of the mps2 boards at 0x4000_8000.

A 32-bit counter counts down from WDOGLOAD at the watchdog clock while WDOGCONTROL.INTEN is
set. When it reaches zero it raises the interrupt (WDOGRIS) and reloads; if the interrupt is
still raised the next time it reaches zero and RESEN is set, it resets the system. Writing
WDOGLOAD or WDOGINTCLR reloads the counter; WDOGINTCLR also clears the interrupt. Turning
INTEN on reloads it, turning it off stops it. Writes to every register but WDOGLOCK are
ignored while WDOGLOCK is locked (any value but 0x1ACCE551 locks it).

Board parameters: ``irq`` (the NVIC line, or ``"nmi"``: on mps2 the watchdog drives NMI),
``clock_hz`` (the watchdog clock, default the core clock).

Time is virtual: the counter is computed from ``machine.now`` and one event is scheduled at
its next zero. The interrupt is pended when it is raised and again at each zero while it
stays raised, which is how the level line would re-pend after the handler returns; clearing
it does not un-pend an interrupt the NVIC already latched, as on the hardware. In
integration test mode (WDOGITCR.ENABLE) the outputs follow WDOGITOP and the counter drives
none.
"""

from __future__ import annotations

from typing import Any

from emu.periph.base import RO, RW, WO, Field, Peripheral, Reg, register

UNLOCK_KEY = 0x1ACC_E551
INTEN, RESEN = 1 << 0, 1 << 1
ITOP_WDOGRES, ITOP_WDOGINT = 1 << 0, 1 << 1
NMI_EXCEPTION = 2


def _registers() -> tuple[Reg, ...]:
    ids = ((0xFD0, "WDOGPERIPHID4", 0x04), (0xFE0, "WDOGPERIPHID0", 0x24),
           (0xFE4, "WDOGPERIPHID1", 0xB8), (0xFE8, "WDOGPERIPHID2", 0x1B),
           (0xFEC, "WDOGPERIPHID3", 0x00), (0xFF0, "WDOGPCELLID0", 0x0D),
           (0xFF4, "WDOGPCELLID1", 0xF0), (0xFF8, "WDOGPCELLID2", 0x05),
           (0xFFC, "WDOGPCELLID3", 0xB1))
    return (
        Reg(0x000, "WDOGLOAD", "load value", reset=0xFFFF_FFFF),
        Reg(0x004, "WDOGVALUE", "current count", reset=0xFFFF_FFFF, access=RO),
        Reg(0x008, "WDOGCONTROL", "control", fields=(
            Field("INTEN", 0, doc="count, and raise the interrupt at zero"),
            Field("RESEN", 1, doc="reset when the interrupt is still raised at zero"))),
        Reg(0x00C, "WDOGINTCLR", "interrupt clear (any value), reloads", access=WO),
        Reg(0x010, "WDOGRIS", "raw interrupt status", access=RO,
            fields=(Field("RAWINT", 0, access=RO),)),
        Reg(0x014, "WDOGMIS", "masked interrupt status", access=RO,
            fields=(Field("INT", 0, access=RO),)),
        Reg(0xC00, "WDOGLOCK", "lock: 0x1ACCE551 unlocks, reads 1 while locked", access=RW,
            fields=(Field("LOCKED", 0, access=RO),)),
        Reg(0xF00, "WDOGITCR", "integration test control",
            fields=(Field("ENABLE", 0, doc="outputs follow WDOGITOP"),)),
        Reg(0xF04, "WDOGITOP", "integration test output set", access=WO,
            fields=(Field("WDOGRES", 0), Field("WDOGINT", 1))),
        *(Reg(offset, name, "identification", reset=value, access=RO)
          for offset, name, value in ids),
    )


@register("cmsdk-watchdog")
class CmsdkWatchdog(Peripheral):
    """CMSDK APB watchdog; see the module docstring for what is modelled."""

    SIZE = 0x1000
    REGISTERS = _registers()

    def __init__(self, machine: Any, name: str, base: int, *, irq: int | str | None = None,
                 clock_hz: int | None = None, **params: Any) -> None:
        self.irq = irq
        self.clock_hz = clock_hz
        super().__init__(machine, name, base, **params)

    def reset(self) -> None:
        super().reset()
        self._cancel()
        self._start = 0
        self._count = self.regs["WDOGLOAD"]
        self._running = False
        self._locked = False

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "count": self._value(), "running": self._running,
                "locked": self._locked}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self._locked = state["locked"]
        self._cancel()
        self._running = state["running"]
        self._load(state["count"])

    # -- clock -------------------------------------------------------------------------------

    def _now(self) -> int:
        return self.machine.now if self.machine is not None else 0

    def _hz(self) -> tuple[int, int]:
        """(core clock, watchdog clock) in Hz."""
        core = getattr(self.machine, "hz", 1)
        return core, int(self.clock_hz or core)

    def _value(self) -> int:
        if not self._running:
            return self._count
        core, clock = self._hz()
        ticks = (self._now() - self._start) * clock // core
        return max(0, self._count - ticks)

    def _load(self, count: int) -> None:
        """Restart the count from ``count`` and schedule its zero when it runs."""
        self._cancel()
        self._start = self._now()
        self._count = count
        if self._running and self.machine is not None:
            core, clock = self._hz()
            delay = -(-max(count, 1) * core // clock)
            self._event = self.machine.schedule(delay, self._at_zero)

    def _cancel(self) -> None:
        event = getattr(self, "_event", None)
        if event is not None and self.machine is not None:
            self.machine.cancel(event)
        self._event = None

    def _at_zero(self) -> None:
        """The counter reached zero: reset if the interrupt was never cleared, else raise
        it; then reload."""
        self._event = None
        still_raised = self.regs["WDOGRIS"] & 1
        testing = self.regs["WDOGITCR"] & 1
        if still_raised and self.regs["WDOGCONTROL"] & RESEN and not testing:
            self._running = False
            self.machine.request_reset("watchdog")
            return
        self.regs["WDOGRIS"] = 1
        if not testing:
            self._drive_interrupt()
        self._load(self.regs["WDOGLOAD"])

    def _drive_interrupt(self) -> None:
        if self.machine is None or self.irq is None:
            return
        if self.irq == "nmi":
            self.machine._lib.cm_pend(self.machine.cm, NMI_EXCEPTION, 1)
        else:
            self.machine.set_irq_pending(int(self.irq))

    # -- registers ---------------------------------------------------------------------------

    def _writable(self, register: str) -> bool:
        if self._locked:
            self.guest_error(f"write to {register} while WDOGLOCK is locked; ignored")
        return not self._locked

    def read_WDOGVALUE(self) -> int:
        return self._value()

    def read_WDOGMIS(self) -> int:
        return self.regs["WDOGRIS"] & self.regs["WDOGCONTROL"] & INTEN

    def read_WDOGLOCK(self) -> int:
        return int(self._locked)

    def write_WDOGLOCK(self, value: int) -> None:
        self._locked = value != UNLOCK_KEY

    def write_WDOGLOAD(self, value: int) -> None:
        if self._writable("WDOGLOAD"):
            self.regs["WDOGLOAD"] = value
            self._load(value)

    def write_WDOGINTCLR(self, value: int) -> None:
        if self._writable("WDOGINTCLR"):
            self.regs["WDOGRIS"] = 0
            self._load(self.regs["WDOGLOAD"])

    def write_WDOGCONTROL(self, value: int) -> None:
        if not self._writable("WDOGCONTROL"):
            return
        was = self.regs["WDOGCONTROL"] & INTEN
        self.regs["WDOGCONTROL"] = value & (INTEN | RESEN)
        if value & INTEN and not was:
            self._running = True
            self._load(self.regs["WDOGLOAD"])
        elif was and not value & INTEN:
            self._count = self._value()
            self._running = False
            self._cancel()

    def write_WDOGITCR(self, value: int) -> None:
        if self._writable("WDOGITCR"):
            self.regs["WDOGITCR"] = value & 1

    def write_WDOGITOP(self, value: int) -> None:
        if not self._writable("WDOGITOP") or not self.regs["WDOGITCR"] & 1:
            return
        if value & ITOP_WDOGINT:
            self._drive_interrupt()
        if value & ITOP_WDOGRES and self.machine is not None:
            self.machine.request_reset("watchdog")
