"""Turn the core's fault state into a report (:mod:`emu.report`) for a run verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

import unicorn

from emu.report import FaultState, format_fault_report

if TYPE_CHECKING:
    from emu.core.machine import Machine

KINDS = {3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault"}
FRAME_WORDS = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")
REGISTERS = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp",
                                             "control"]


def _reader(machine: Machine):
    def read(addr: int, n: int) -> bytes | None:
        try:
            return machine.mem_read(addr, n)
        except unicorn.UcError:
            return None

    return read


def fault_state(machine: Machine, lockup: bool = False) -> FaultState:
    """The state of the last fault, with the frame the core stacked for it."""
    info = machine.fault_info()
    read = _reader(machine)
    regs = {name: machine.reg(name) for name in REGISTERS}
    frame = frame_addr = exc_return = None
    if not lockup and info["exception"] in KINDS and not info["frame"]:
        # Stacking failed (STKERR): there is no frame; the interrupted code was here.
        regs = {**regs, "pc": info["return_address"], "lr": info["exc_return"]}
    elif not lockup and info["exception"] in KINDS:
        frame_addr = info["frame"]
        exc_return = info["exc_return"]
        raw = read(frame_addr, 32)
        if raw is not None:
            frame = {n: int.from_bytes(raw[4 * i:4 * i + 4], "little")
                     for i, n in enumerate(FRAME_WORDS)}
    kind = "Lockup" if lockup else KINDS.get(info["exception"], "HardFault")
    return FaultState(kind=kind, exception=info["exception"], cfsr=info["cfsr"],
                      hfsr=info["hfsr"], mmfar=info["mmfar"], bfar=info["bfar"],
                      shcsr=info["shcsr"], frame=frame, frame_addr=frame_addr,
                      exc_return=exc_return, regs=regs, read_mem=read)


def describe_fault(machine: Machine, lockup: bool = False) -> tuple[str, str]:
    """(full report, one-line headline) for the fault that ended a run."""
    state = fault_state(machine, lockup)
    report = format_fault_report(state, machine.firmware)
    headline = report.splitlines()[0] if report else state.kind
    return report, headline
