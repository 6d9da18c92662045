"""Fault and verdict reports: what a debugger would tell about a stopped Cortex-M core.

A fault report decodes the fault status registers (ARMv7-M ARM B3.2.15 to B3.2.18), names the
faulting instruction by function, offset and source line, prints the exception frame the
core stacked, unwinds the call stack with the DWARF call-frame information of `.debug_frame`
and disassembles the code around the faulting PC. A report is best effort: missing or
damaged debug information shortens it, never stops it.
"""

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

from capstone import CS_ARCH_ARM, CS_MODE_MCLASS, CS_MODE_THUMB, Cs

from emu.elf import Firmware
from emu.errors import ElfError

ReadMem = Callable[[int, int], bytes | None]

FAULT_KINDS = ("HardFault", "MemManage", "BusFault", "UsageFault", "Lockup")
FRAME_REGISTERS = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")
EXCEPTION_NAMES = {
    1: "Reset", 2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
    11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick",
}
MAX_FRAMES = 16


@dataclass
class FaultState:
    """The core's state when it took a fault (or locked up), as a report needs it.

    `frame` holds the eight words the core stacked (r0-r3, r12, lr, pc, xpsr) at
    `frame_addr`; both are None when no frame was stacked (a lockup). `regs` holds the
    current r0-r12, sp, lr, pc, xpsr, msp, psp and control. `read_mem` reads guest memory and
    returns None where nothing is mapped.
    """

    kind: str
    exception: int
    cfsr: int
    hfsr: int
    mmfar: int
    bfar: int
    shcsr: int
    frame: dict[str, int] | None
    frame_addr: int | None
    exc_return: int | None
    regs: dict[str, int]
    read_mem: ReadMem

    def __post_init__(self) -> None:
        assert self.kind in FAULT_KINDS, self.kind


# Configurable Fault Status Register (ARMv7-M ARM B3.2.15): MMFSR in bits 7:0, BFSR in
# bits 15:8, UFSR in bits 31:16. Rows are (bit, name, sub-register, meaning).
CFSR_BITS = (
    (0, "IACCVIOL", "MemManage", "instruction fetch from a region the MPU or XN forbids"),
    (1, "DACCVIOL", "MemManage", "data access to a region the MPU forbids"),
    (3, "MUNSTKERR", "MemManage", "MPU refused the unstacking on exception return"),
    (4, "MSTKERR", "MemManage", "MPU refused the stacking on exception entry"),
    (5, "MLSPERR", "MemManage", "MPU refused the lazy floating-point state save"),
    (7, "MMARVALID", "MemManage", "MMFAR holds the faulting address"),
    (8, "IBUSERR", "BusFault", "bus error on an instruction fetch"),
    (9, "PRECISERR", "BusFault", "precise bus error on a data access; PC is the culprit"),
    (10, "IMPRECISERR", "BusFault", "imprecise bus error; the culprit ran before PC"),
    (11, "UNSTKERR", "BusFault", "bus error while unstacking on exception return"),
    (12, "STKERR", "BusFault", "bus error while stacking on exception entry"),
    (13, "LSPERR", "BusFault", "bus error during the lazy floating-point state save"),
    (15, "BFARVALID", "BusFault", "BFAR holds the faulting address"),
    (16, "UNDEFINSTR", "UsageFault", "undefined instruction"),
    (17, "INVSTATE", "UsageFault", "execution in ARM state (a branch target without the "
     "Thumb bit) or a bad EPSR"),
    (18, "INVPC", "UsageFault", "bad EXC_RETURN or integrity check on exception return"),
    (19, "NOCP", "UsageFault", "coprocessor (FPU) access while it is disabled or absent"),
    (24, "UNALIGNED", "UsageFault", "unaligned access with CCR.UNALIGN_TRP set, or an "
     "unaligned LDM/STM/LDRD/STRD"),
    (25, "DIVBYZERO", "UsageFault", "division by zero with CCR.DIV_0_TRP set"),
)

# HardFault Status Register (ARMv7-M ARM B3.2.16).
HFSR_BITS = (
    (1, "VECTTBL", "HardFault", "bus error reading the vector table"),
    (30, "FORCED", "HardFault", "a configurable fault escalated to HardFault (see CFSR)"),
    (31, "DEBUGEVT", "HardFault", "debug event while halting debug is off"),
)

MMARVALID, BFARVALID = 1 << 7, 1 << 15


def decode_cfsr(cfsr: int) -> list[str]:
    """Name every bit set in CFSR, with its sub-register and meaning (B3.2.15)."""
    return _decode_bits(cfsr, CFSR_BITS)


def decode_hfsr(hfsr: int) -> list[str]:
    """Name every bit set in HFSR, with its meaning (B3.2.16)."""
    return _decode_bits(hfsr, HFSR_BITS)


def _decode_bits(value: int, table: tuple) -> list[str]:
    """One line per set bit; bits the table does not define are shown as reserved."""
    lines = []
    known = 0
    for bit, name, register, meaning in table:
        known |= 1 << bit
        if value & (1 << bit):
            lines.append(f"{name} ({register}): {meaning}")
    for bit in range(32):
        if value & ~known & (1 << bit):
            lines.append(f"bit {bit} (reserved) set")
    return lines


# Disassembly --------------------------------------------------------------------------------


class _Insn(NamedTuple):
    address: int
    code: bytes
    text: str | None  # None: not decodable
    data: bool = False


class _Decoder:
    """Thumb decoding of guest memory for M-profile cores (the only state they execute)."""

    def __init__(self, read_mem: ReadMem, is_data: Callable[[int], bool] | None) -> None:
        self.capstone = Cs(CS_ARCH_ARM, CS_MODE_THUMB | CS_MODE_MCLASS)
        self.read_mem = read_mem
        self.is_data = is_data or (lambda addr: False)

    def one(self, addr: int) -> _Insn | None:
        """Decode one instruction: None where memory cannot be read, a `.word` where the
        mapping symbols mark data, text None for an undecodable halfword."""
        code = self.read_mem(addr, 4) or self.read_mem(addr, 2)
        if code is None:
            return None
        if len(code) == 4 and self.is_data(addr):
            return _Insn(addr, code, f".word 0x{struct.unpack('<I', code)[0]:08x}", True)
        for _, size, mnemonic, operands in self.capstone.disasm_lite(code, addr, count=1):
            return _Insn(addr, code[:size], f"{mnemonic} {operands}".strip())
        return _Insn(addr, code[:2], None)

    def run(self, start: int, stop: int) -> list[_Insn] | None:
        """Decode from `start` up to `stop`; None unless the last instruction ends exactly
        at `stop` with all of them decodable."""
        run, addr = [], start
        while addr < stop:
            insn = self.one(addr)
            if insn is None or insn.text is None:
                return None
            run.append(insn)
            addr += len(insn.code)
        return run if addr == stop else None

    def lead_in(self, addr: int, before: int) -> list[_Insn]:
        """Up to `before` instructions ending just before `addr`.

        Thumb code cannot be decoded backwards, so start points are tried from the farthest
        (4 bytes per wanted instruction) to the nearest, and the first whose decoding lands
        exactly on `addr` wins: a longer run has more chances to fall into step with the
        real instruction boundaries.
        """
        for distance in range(4 * before, 0, -2):
            run = self.run(addr - distance, addr)
            if run is not None:
                return run[-before:]
        return []


def disassemble(
    read_mem: ReadMem,
    addr: int,
    before: int = 4,
    after: int = 4,
    is_data: Callable[[int], bool] | None = None,
) -> list[str]:
    """Disassemble around `addr` in Thumb/M-class mode, marking the line at `addr` with '>'.

    Each line reads `> 0x0000008a  6010       str r0, [r2]`: the address, the halfwords as
    objdump shows them, then the instruction. `is_data` (such as `Firmware.is_data`) turns
    literal pools into `.word` lines. An unreadable `addr` gives a single line.
    """
    decoder = _Decoder(read_mem, is_data)
    first = decoder.one(addr)
    if first is None:
        return [f"> 0x{addr:08x}  <unreadable>"]

    lines = [_insn_line(insn, False) for insn in decoder.lead_in(addr, before)]
    lines.append(_insn_line(first, True))
    next_addr = addr + len(first.code)
    for _ in range(after):
        insn = decoder.one(next_addr)
        if insn is None:
            break
        lines.append(_insn_line(insn, False))
        next_addr += len(insn.code)
    return lines


def _insn_line(insn: _Insn, marked: bool) -> str:
    """One disassembly line, code shown as objdump shows it (halfwords, or a data word)."""
    halfwords = struct.unpack(f"<{len(insn.code) // 2}H", insn.code)
    code = " ".join(f"{h:04x}" for h in halfwords)
    if insn.data:
        code = f"{struct.unpack('<I', insn.code)[0]:08x}"
    text = insn.text if insn.text is not None else f".short 0x{halfwords[0]:04x}"
    return f"{'>' if marked else ' '} 0x{insn.address:08x}  {code:<10} {text}"


# Source locations ---------------------------------------------------------------------------


class _Locator:
    """Names addresses with a firmware's symbols and lines, collecting why it could not."""

    def __init__(self, firmware: Firmware | None) -> None:
        self.firmware = firmware
        self.notes: list[str] = []

    def where(self, addr: int, caller: bool = False) -> str:
        """`function+0xoff (file:line)` for an address, or "??".

        For a caller frame the address is a return address, which may already belong to the
        next line or function; as debuggers do, the lookup uses the byte before it.
        """
        probe = addr - 1 if caller else addr
        name = self.firmware.symbolize(probe) if self.firmware else None
        text = f"{name[0]}+0x{name[1] + addr - probe:x}" if name else "??"
        line = self._line(probe)
        return f"{text} ({line})" if line else text

    def _line(self, addr: int) -> str | None:
        """`file:line` with the file's base name, or None."""
        if self.firmware is None:
            return None
        try:
            found = self.firmware.line_for(addr)
        except ElfError as exc:
            self._note(f"no source lines: {exc}")
            return None
        return f"{PurePosixPath(found[0]).name}:{found[1]}" if found else None

    def data_name(self, addr: int) -> str:
        """`  (counter+0x4)` for an address inside a known symbol, else ""."""
        name = self.firmware.symbolize(addr) if self.firmware else None
        return f"  ({name[0]}+0x{name[1]:x})" if name else ""

    def known(self, addr: int) -> bool:
        """Tell whether a function symbol covers `addr`."""
        return self.firmware is not None and self.firmware.function_at(addr) is not None

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


# Exception frames and unwinding ---------------------------------------------------------------


def frame_size(exc_return: int | None, stacked_xpsr: int) -> int:
    """Bytes between the stacked frame's address and the SP before exception entry.

    ARMv7-M ARM B1.5.7: the basic frame is 8 words; EXC_RETURN bit 4 clear means the
    extended frame with S0-S15, FPSCR and a reserved word (26 words); stacked xPSR bit 9 set
    means the core inserted a padding word to align the frame to 8 bytes.
    """
    size = 0x20
    if exc_return is not None and is_exc_return(exc_return) and not exc_return & 0x10:
        size = 0x68
    if stacked_xpsr & (1 << 9):
        size += 4
    return size


def is_exc_return(value: int) -> bool:
    """Tell whether an LR value is an EXC_RETURN (0xFFFFFFxx; B1.5.8), not an address.

    0xFFFFFFFF is excluded: it is the LR value at reset, the end of the call chain.
    """
    return value & 0xFFFFFF00 == 0xFFFFFF00 and value != 0xFFFFFFFF


def describe_exc_return(value: int) -> str:
    """What an EXC_RETURN value says about the interrupted context (B1.5.8, Table B1-8)."""
    mode = "thread mode" if value & 0x8 else "handler mode"
    stack = "process stack" if value & 0x4 else "main stack"
    frame = "basic frame" if value & 0x10 else "extended (FP) frame"
    return f"{mode}, {stack}, {frame}"


def _start_registers(state: FaultState) -> dict[int, int]:
    """The registers of the interrupted code: the stacked frame over the current r4-r11.

    At exception entry the core stacks r0-r3, r12, lr, pc and xpsr and leaves r4-r11 as
    they were, so the frame plus the current r4-r11 is the faulting context (B1.5.6).
    """
    regs = {n: state.regs[f"r{n}"] for n in range(13) if f"r{n}" in state.regs}
    if state.frame is None or state.frame_addr is None:
        for number, name in ((13, "sp"), (14, "lr"), (15, "pc")):
            regs[number] = state.regs[name]
        return regs
    for number, name in ((0, "r0"), (1, "r1"), (2, "r2"), (3, "r3"), (12, "r12")):
        regs[number] = state.frame[name]
    regs[14] = state.frame["lr"]
    regs[15] = state.frame["pc"] & ~1
    regs[13] = state.frame_addr + frame_size(state.exc_return, state.frame["xpsr"])
    return regs


def _read_word(read_mem: ReadMem, addr: int) -> int | None:
    """A little-endian word of guest memory, or None."""
    data = read_mem(addr & 0xFFFFFFFF, 4)
    return struct.unpack("<I", data)[0] if data and len(data) == 4 else None


def _caller(row, regs: dict[int, int], read_mem: ReadMem) -> dict[int, int] | str:
    """Apply one row of call-frame rules; return the caller's registers or why not.

    DWARF 5 section 6.4.1: the CFA is a register plus an offset; OFFSET(n) means the
    register was saved at CFA+n, VAL_OFFSET(n) that its value is CFA+n, REGISTER(r) that it
    lives in register r. Registers without a rule keep their value (GCC's convention for
    callee-saved registers); the caller's SP is the CFA.
    """
    if row.cfa is None or row.cfa[0] not in regs:
        return "CFA rule not supported"
    cfa = (regs[row.cfa[0]] + row.cfa[1]) & 0xFFFFFFFF
    caller = dict(regs)
    caller[13] = cfa
    for reg, (kind, arg) in row.rules.items():
        if kind == "OFFSET":
            value = _read_word(read_mem, cfa + arg)
            if value is None:
                return f"stack unreadable at 0x{(cfa + arg) & 0xFFFFFFFF:08x}"
            caller[reg] = value
        elif kind == "VAL_OFFSET":
            caller[reg] = (cfa + arg) & 0xFFFFFFFF
        elif kind == "REGISTER" and arg in regs:
            caller[reg] = regs[arg]
        elif kind == "UNDEFINED":
            caller.pop(reg, None)
        elif kind != "SAME_VALUE":
            return f"register rule {kind} not supported"
    return_address = caller.get(row.return_register)
    if return_address is None:
        return "outermost frame"
    caller[15] = return_address
    return caller


class _Backtrace:
    """The frames of a backtrace as text lines, and why it stopped."""

    def __init__(self, locator: _Locator) -> None:
        self.locator = locator
        self.lines: list[str] = []
        self.stop: str | None = None

    def add(self, pc: int, caller: bool) -> None:
        self.lines.append(f"#{len(self.lines)}  0x{pc:08x} {self.locator.where(pc, caller)}")

    def add_marker(self, text: str) -> None:
        self.lines.append(f"#{len(self.lines)}  {text}")

    def add_return(self, lr: int) -> None:
        """Add the frame a return address leads to, or the marker that ends the chain."""
        if is_exc_return(lr):
            self.add_marker(f"<exception frame> (EXC_RETURN 0x{lr:08x})")
        elif lr == 0xFFFFFFFF:
            self.add_marker("<end of stack> (LR reset value)")
        else:
            self.add(lr & ~1, True)


def backtrace(state: FaultState, firmware: Firmware | None) -> tuple[list[str], list[str]]:
    """Unwind from the faulting context: (frame lines, notes on how and where it stopped).

    The faulting function comes first, then its callers. Unwinding stops at a PC outside
    every known function, at a frame seen before, after 16 frames, or at an EXC_RETURN.
    Without call-frame information only the PC and LR are shown.
    """
    locator = _Locator(firmware)
    trace = _Backtrace(locator)
    regs = _start_registers(state)
    if firmware is None or not firmware.has_frame_info:
        _pc_and_lr(trace, regs)
        trace.stop = "no call-frame information (.debug_frame): pc and lr only"
    else:
        _unwind(trace, locator, regs, state.read_mem)
    notes = ([trace.stop] if trace.stop else []) + locator.notes
    return trace.lines, notes


def _pc_and_lr(trace: _Backtrace, regs: dict[int, int]) -> None:
    """The fallback backtrace: the faulting PC and the return address in LR."""
    trace.add(regs[15], False)
    if 14 in regs:
        trace.add_return(regs[14])


def _unwind(trace: _Backtrace, locator: _Locator, regs: dict[int, int], read_mem) -> None:
    """Walk the call-frame rules from the faulting frame towards the reset handler."""
    seen: set[tuple[int, int]] = set()
    caller = False
    while len(trace.lines) < MAX_FRAMES:
        pc, sp = regs[15] & ~1, regs.get(13, 0)
        trace.add(pc, caller)
        if (pc, sp) in seen:
            trace.stop = "stopped: the same frame came back (a loop)"
            return
        seen.add((pc, sp))
        probe = pc - 1 if caller else pc
        outcome = _next_frame(locator, pc, probe, regs, read_mem)
        if isinstance(outcome, _Stop):
            _stop_early(trace, regs, caller, outcome)
            return
        regs, caller = outcome, True
        if is_exc_return(regs[15]) or regs[15] == 0xFFFFFFFF:
            trace.add_return(regs[15])
            return
    trace.stop = f"stopped after {MAX_FRAMES} frames"


class _Stop(NamedTuple):
    """Why the walk ends; `no_rules` when the PC has no call-frame rules at all."""

    reason: str
    no_rules: bool = False


def _next_frame(locator: _Locator, pc: int, probe: int, regs, read_mem) -> dict[int, int] | _Stop:
    """The caller's registers, or why the walk cannot go on from `pc`.

    `probe` is the address looked up: the PC itself, or the byte before a return address.
    """
    if not locator.known(probe):
        return _Stop(f"stopped: 0x{pc:08x} is in no known function", no_rules=True)
    try:
        row = locator.firmware.frame_row(probe)
    except ElfError as exc:
        return _Stop(f"stopped: {exc}", no_rules=True)
    if row is None:
        return _Stop(f"stopped: no call-frame rules for 0x{pc:08x}", no_rules=True)
    outcome = _caller(row, regs, read_mem)
    return outcome if isinstance(outcome, dict) else _Stop(f"stopped: {outcome}")


def _stop_early(trace: _Backtrace, regs: dict[int, int], caller: bool, stop: _Stop) -> None:
    """End the walk. When the faulting frame has no rules (a jump into nowhere, code without
    debug information) LR still names the caller: nothing can have saved or changed it yet
    as far as the rules can tell, so it is shown as frame #1."""
    trace.stop = stop.reason
    if not caller and stop.no_rules and 14 in regs:
        trace.add_return(regs[14])
        trace.stop = f"{stop.reason}; frame #1 is LR"


# Reports ----------------------------------------------------------------------------------


def format_fault_report(state: FaultState, firmware: Firmware | None) -> str:
    """The full fault report as text: heading, status registers, frame, backtrace, code."""
    locator = _Locator(firmware)
    pc = _fault_pc(state)
    lines = [f"{_heading(state)} at 0x{pc:08x} {locator.where(pc)}"]
    lines += _status_lines(state, locator)
    lines += _frame_lines(state)
    lines += _register_lines(state)

    frames, notes = backtrace(state, firmware)
    lines += ["", "Backtrace:", *(f"  {line}" for line in frames)]
    lines += [f"  ({note})" for note in notes]

    is_data = firmware.is_data if firmware else None
    code = disassemble(state.read_mem, pc, is_data=is_data)
    lines += ["", "Disassembly:", *(f"  {line}" for line in code)]
    lines += [f"({note})" for note in locator.notes if note not in notes]
    return "\n".join(lines) + "\n"


def _fault_pc(state: FaultState) -> int:
    """The faulting instruction: the stacked PC, or the current PC without a frame."""
    pc = state.frame["pc"] if state.frame is not None else state.regs["pc"]
    return pc & ~1


def _heading(state: FaultState) -> str:
    """`HardFault (exception 3)`, naming the active exception when it is another one."""
    number = state.exception
    if number == 0:
        return f"{state.kind} (thread mode)"
    name = EXCEPTION_NAMES.get(number) or (f"IRQ {number - 16}" if number >= 16 else None)
    if name is None or name == state.kind:
        return f"{state.kind} (exception {number})"
    return f"{state.kind} (exception {number}, {name})"


def _status_lines(state: FaultState, locator: _Locator) -> list[str]:
    """HFSR, CFSR with their decoded bits, the valid fault addresses, SHCSR."""
    lines = _register_with_bits("HFSR", state.hfsr, decode_hfsr(state.hfsr))
    lines += _register_with_bits("CFSR", state.cfsr, decode_cfsr(state.cfsr))
    if state.cfsr & MMARVALID:
        lines.append(f"  MMFAR 0x{state.mmfar:08x}{locator.data_name(state.mmfar)}")
    if state.cfsr & BFARVALID:
        lines.append(f"  BFAR  0x{state.bfar:08x}{locator.data_name(state.bfar)}")
    lines.append(f"  SHCSR 0x{state.shcsr:08x}")
    return lines


def _register_with_bits(name: str, value: int, bits: list[str]) -> list[str]:
    """`  CFSR  0x00000200  PRECISERR (...)`, further bits aligned under the first."""
    head = f"  {name:<5} 0x{value:08x}"
    if not bits:
        return [head]
    return [f"{head}  {bits[0]}", *(f"{'':<{len(head) + 2}}{bit}" for bit in bits[1:])]


def _frame_lines(state: FaultState) -> list[str]:
    """The stacked exception frame and the EXC_RETURN that describes it."""
    if state.frame is None or state.frame_addr is None:
        return ["", "No exception frame was stacked."]
    heading = f"Stacked frame at 0x{state.frame_addr:08x}"
    if state.exc_return is not None:
        heading += f" (EXC_RETURN 0x{state.exc_return:08x}: "
        heading += f"{describe_exc_return(state.exc_return)})"
    return ["", heading + ":", *_register_rows(state.frame, FRAME_REGISTERS)]


def _register_lines(state: FaultState) -> list[str]:
    """The current registers the frame does not show."""
    names = [f"r{n}" for n in range(4, 12)] + ["sp", "msp", "psp", "control"]
    if state.frame is None:
        names = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp",
                                                 "control"]
    return ["", "Registers:", *_register_rows(state.regs, names)]


def _register_rows(values: dict[str, int], names) -> list[str]:
    """Registers four to a row: `  r0   0x00000000  r1   0x...`."""
    cells = [f"{name:<4} 0x{values[name]:08x}" for name in names if name in values]
    return ["  " + "  ".join(cells[i:i + 4]) for i in range(0, len(cells), 4)]


def format_verdict(kind: str, detail: str, firmware: Firmware | None,
                   regs: dict[str, int]) -> str:
    """A verdict without a fault (Lockup, no progress, budget exhausted): a heading line and
    the PC's location."""
    locator = _Locator(firmware)
    pc = regs["pc"] & ~1
    heading = f"{kind}: {detail}" if detail else kind
    lines = [heading, f"  at 0x{pc:08x} {locator.where(pc)}"]
    lines += [f"  ({note})" for note in locator.notes]
    return "\n".join(lines) + "\n"
