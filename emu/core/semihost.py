"""Arm semihosting (the "Semihosting for AArch32 and AArch64" specification, Arm IHI 0058):
the calls a firmware makes with ``bkpt 0xab`` to print and to exit.

Supported: SYS_WRITEC, SYS_WRITE0, SYS_WRITE to the console handles, SYS_EXIT and
SYS_EXIT_EXTENDED, SYS_CLOCK and SYS_TIME from virtual time, SYS_ERRNO, SYS_ISTTY and
SYS_GET_CMDLINE. Any other call answers -1 and is logged once. A ``bkpt`` with another
immediate is a debug event: with no debugger attached it escalates to HardFault.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from unicorn import arm_const as arm

from emu.core import native

if TYPE_CHECKING:
    from emu.core.machine import Machine, RunResult

log = logging.getLogger("emu")

SYS_OPEN, SYS_CLOSE, SYS_WRITEC, SYS_WRITE0, SYS_WRITE = 0x01, 0x02, 0x03, 0x04, 0x05
SYS_ISTTY, SYS_CLOCK, SYS_TIME, SYS_ERRNO = 0x09, 0x10, 0x11, 0x13
SYS_GET_CMDLINE, SYS_EXIT, SYS_EXIT_EXTENDED = 0x15, 0x18, 0x20
ADP_STOPPED_APPLICATION_EXIT = 0x20026
CONSOLE = (1, 2)


class Semihosting:
    """The host side of semihosting. ``cmdline`` is what SYS_GET_CMDLINE answers: a test or
    scenario passes settings to the firmware through it, as a debugger's command line would.
    """

    def __init__(self, machine: Machine) -> None:
        self.m = machine
        self.cmdline = ""

    def handle(self) -> RunResult | None:
        """Serve the bkpt at PC; a result when the firmware exited, else None."""
        m = self.m
        pc = m.reg("pc")
        insn = int.from_bytes(m.mem_read(pc, 2), "little")
        if insn != 0xBEAB:
            m._lib.cm_fault(m.cm, native.FAULT_DEBUGEVT, 0)
            reason = m._lib.cm_take_stop_reason(m.cm)
            return m._stop_reason(reason)
        op, arg = m.reg("r0"), m.reg("r1")
        outcome = self._call(op, arg)
        if isinstance(outcome, int):
            m.uc.reg_write(arm.UC_ARM_REG_R0, outcome & 0xFFFFFFFF)
            m.uc.reg_write(arm.UC_ARM_REG_PC, (pc + 2) | 1)
            return None
        return outcome

    def _call(self, op: int, arg: int) -> int | RunResult:
        m = self.m
        if op == SYS_WRITEC:
            m.console_write(m.mem_read(arg, 1))
            return 0
        if op == SYS_WRITE0:
            m.console_write(self._cstring(arg))
            return 0
        if op == SYS_WRITE:
            handle, ptr, length = self._words(arg, 3)
            if handle not in CONSOLE:
                return length
            m.console_write(m.mem_read(ptr, length))
            return 0
        if op == SYS_EXIT:
            code = 0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1
            return m._result("exit", f"firmware exited with status {code}", exit_code=code)
        if op == SYS_EXIT_EXTENDED:
            reason, sub = self._words(arg, 2)
            code = sub if reason == ADP_STOPPED_APPLICATION_EXIT else (sub or 1)
            return m._result("exit", f"firmware exited with status {code}", exit_code=code)
        return self._query(op, arg)

    def _query(self, op: int, arg: int) -> int:
        m = self.m
        if op == SYS_CLOCK:
            return int(m.seconds * 100)
        if op == SYS_TIME:
            return int(m.seconds)
        if op in (SYS_ERRNO, SYS_CLOSE):
            return 0
        if op == SYS_ISTTY:
            return 1
        if op == SYS_OPEN:
            ptr, _mode, length = self._words(arg, 3)
            return 1 if m.mem_read(ptr, length) == b":tt" else -1
        if op == SYS_GET_CMDLINE:
            ptr, size = self._words(arg, 2)
            text = self.cmdline.encode()
            if len(text) + 1 > size:
                return -1
            m.uc.mem_write(ptr, text + b"\0")
            m.uc.mem_write(arg + 4, len(text).to_bytes(4, "little"))
            return 0
        m.guest_error("semihosting", f"call {op:#x} is not supported; answered -1")
        return -1

    def _words(self, addr: int, n: int) -> list[int]:
        raw = self.m.mem_read(addr, 4 * n)
        return [int.from_bytes(raw[4 * i:4 * i + 4], "little") for i in range(n)]

    def _cstring(self, addr: int, limit: int = 4096) -> bytes:
        out = bytearray()
        while len(out) < limit:
            chunk = self.m.mem_read(addr + len(out), 64)
            end = chunk.find(b"\0")
            if end >= 0:
                return bytes(out + chunk[:end])
            out += chunk
        return bytes(out)
