"""Fault reports: status bits, disassembly, and a backtrace from a fault run under unicorn."""

import re
import struct
from pathlib import Path

import pytest
from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, UcError, arm_const

from emu.elf import Firmware, load_elf, vector_table
from emu.report import (
    FaultState,
    backtrace,
    decode_cfsr,
    decode_hfsr,
    disassemble,
    format_fault_report,
    format_verdict,
    frame_size,
)

from fixtures.build import FIXTURES, run_tool

PRECISERR, BFARVALID, MMARVALID, DACCVIOL = 1 << 9, 1 << 15, 1 << 7, 1 << 1
FORCED = 1 << 30
THREAD_MSP, THREAD_MSP_FP = 0xFFFF_FFF9, 0xFFFF_FFE9
BAD_POINTER = 0x4000_0000
REGISTER_NAMES = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr"]


def marker_line(text: str) -> int:
    """The line of calls.c that carries the comment `marker: <text>`."""
    source = (FIXTURES / "calls.c").read_text().splitlines()
    return next(n for n, line in enumerate(source, 1) if f"marker: {text}" in line)


class Board:
    """The fixture run on bare unicorn: flash at 0, RAM at 0x20000000, nothing else mapped."""

    def __init__(self, firmware: Firmware) -> None:
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self.uc.ctl_set_cpu_model(arm_const.UC_CPU_ARM_CORTEX_M3)
        self.uc.mem_map(0, 0x4_0000)
        self.uc.mem_map(0x2000_0000, 0x1_0000)
        for segment in firmware.segments:
            self.uc.mem_write(segment.load_addr, segment.data)
        initial_sp, reset_pc = vector_table(firmware, 0)
        self.uc.reg_write(arm_const.UC_ARM_REG_SP, initial_sp)
        self.uc.reg_write(arm_const.UC_ARM_REG_LR, 0xFFFF_FFFF)  # LR at reset
        self.reset_pc = reset_pc
        self.handler = firmware.symbol_address("fault_handler")

    def run_until_fault(self) -> None:
        """Run from reset until level_b stores through the bad pointer (unmapped memory)."""
        with pytest.raises(UcError):
            self.uc.emu_start(self.reset_pc, 0xFFFF_FFFE, count=10_000)

    def regs(self) -> dict[str, int]:
        return {n: self.uc.reg_read(getattr(arm_const, f"UC_ARM_REG_{n.upper()}"))
                for n in REGISTER_NAMES}

    def read_mem(self, addr: int, size: int) -> bytes | None:
        try:
            return bytes(self.uc.mem_read(addr, size))
        except UcError:
            return None

    def take_exception(self, exc_return: int = THREAD_MSP, **status: int) -> FaultState:
        """Stack the exception frame as the core does on entry and describe the fault."""
        regs = self.regs()
        frame = {name: regs[name] for name in ("r0", "r1", "r2", "r3", "r12", "lr", "pc")}
        frame["xpsr"] = regs["xpsr"]
        size = frame_size(exc_return, frame["xpsr"])
        frame_addr = regs["sp"] - size
        self.uc.mem_write(frame_addr, struct.pack("<8I", *frame.values()))
        current = dict(regs, sp=frame_addr, lr=exc_return, pc=self.handler, msp=frame_addr,
                       psp=0, control=0)
        fields = dict(cfsr=0, hfsr=FORCED, mmfar=0, bfar=0, shcsr=0) | status
        return FaultState("HardFault", 3, frame=frame, frame_addr=frame_addr,
                          exc_return=exc_return, regs=current, read_mem=self.read_mem,
                          **fields)


@pytest.fixture(scope="module")
def firmware(calls_elf: Path) -> Firmware:
    return load_elf(calls_elf)


@pytest.fixture
def faulted(firmware) -> Board:
    board = Board(firmware)
    board.run_until_fault()
    return board


def precise_bus_fault(board: Board, **changes) -> FaultState:
    return board.take_exception(cfsr=PRECISERR | BFARVALID, bfar=BAD_POINTER, **changes)


# Status registers ----------------------------------------------------------------------------


@pytest.mark.parametrize("bit, name", [
    (0, "IACCVIOL"), (1, "DACCVIOL"), (3, "MUNSTKERR"), (4, "MSTKERR"), (5, "MLSPERR"),
    (7, "MMARVALID"), (8, "IBUSERR"), (9, "PRECISERR"), (10, "IMPRECISERR"),
    (11, "UNSTKERR"), (12, "STKERR"), (13, "LSPERR"), (15, "BFARVALID"), (16, "UNDEFINSTR"),
    (17, "INVSTATE"), (18, "INVPC"), (19, "NOCP"), (24, "UNALIGNED"), (25, "DIVBYZERO"),
])
def test_each_cfsr_bit_is_named_with_a_meaning(bit, name):
    [line] = decode_cfsr(1 << bit)

    assert line.startswith(f"{name} (")
    assert len(line.split(": ", 1)[1]) > 10


def test_cfsr_bits_are_decoded_together_in_bit_order():
    lines = decode_cfsr(PRECISERR | BFARVALID | DACCVIOL)

    assert [line.split()[0] for line in lines] == ["DACCVIOL", "PRECISERR", "BFARVALID"]


def test_clear_cfsr_decodes_to_nothing():
    assert decode_cfsr(0) == []


def test_reserved_cfsr_bit_is_shown_not_hidden():
    assert decode_cfsr(1 << 2) == ["bit 2 (reserved) set"]


@pytest.mark.parametrize("bit, name", [(1, "VECTTBL"), (30, "FORCED"), (31, "DEBUGEVT")])
def test_each_hfsr_bit_is_named(bit, name):
    [line] = decode_hfsr(1 << bit)

    assert line.startswith(f"{name} (HardFault): ")


def test_frame_size_counts_the_fp_extension_and_the_alignment_word():
    assert frame_size(THREAD_MSP, 0) == 0x20
    assert frame_size(THREAD_MSP_FP, 0) == 0x68
    assert frame_size(THREAD_MSP, 1 << 9) == 0x24
    assert frame_size(None, 0) == 0x20


# Disassembly ---------------------------------------------------------------------------------

LINE = re.compile(r"^([> ]) 0x([0-9a-f]{8})  ([0-9a-f ]{10}) (.*)$")
BRANCHES = {"b", "bl", "bne", "beq", "bcs", "bcc", "cbz", "cbnz"}


def normalise(mnemonic: str, operands: str) -> str:
    """One spelling for objdump's and capstone's text of an instruction.

    They differ in presentation only: width suffixes (.n, .w), bhs/bcs, decimal or hex
    immediates, "[r3, #0]" against "[r3]", and objdump's bare-hex branch targets and
    comments.
    """
    mnemonic = re.sub(r"\.[nw]$", "", mnemonic)
    mnemonic = {"bhs": "bcs", "blo": "bcc"}.get(mnemonic, mnemonic)
    operands = re.sub(r"\s*(@.*|<[^>]*>)", "", operands).strip()
    if mnemonic in BRANCHES and re.fullmatch(r"[0-9a-f]+", operands.split(", ")[-1]):
        head, _, target = operands.rpartition(", ")
        operands = f"{head}, #0x{target}" if head else f"#0x{target}"
    operands = re.sub(r"#(0x[0-9a-f]+|\d+)", lambda m: f"#{int(m.group(1), 0)}", operands)
    operands = operands.replace(", #0]", "]").replace(" ", "")
    return f"{mnemonic} {operands}"


def objdump_instructions(path: Path, functions: set[str]) -> dict[int, tuple[str, str]]:
    """address -> (halfwords, normalised text) for the instructions of `functions`."""
    found, current = {}, None
    for line in run_tool("arm-none-eabi-objdump", "-d", str(path)).splitlines():
        heading = re.match(r"^[0-9a-f]+ <(\w+)>:", line)
        if heading:
            current = heading.group(1)
            continue
        row = line.split("\t")
        if current in functions and len(row) >= 3 and not row[2].startswith("."):
            address = int(row[0].strip().rstrip(":"), 16)
            found[address] = (row[1].strip(), normalise(row[2], " ".join(row[3:])))
    return found


def test_disassembly_agrees_with_objdump(firmware, calls_elf):
    expected = objdump_instructions(calls_elf, {"level_b", "level_a", "main"})
    assert len(expected) > 20

    for address, (halfwords, text) in expected.items():
        [line] = disassemble(firmware.read, address, before=0, after=0)
        marker, at, code, ours = LINE.match(line).groups()
        mnemonic, _, operands = ours.partition(" ")
        assert (marker, int(at, 16), code.strip()) == (">", address, halfwords)
        assert normalise(mnemonic, operands) == text


def test_disassembly_marks_only_the_faulting_line_between_its_neighbours(firmware):
    call = firmware.symbol_address("main") + 6  # the bl to level_a, after push/ldr/ldr

    lines = [LINE.match(line).groups() for line in disassemble(firmware.read, call, 3, 2)]

    assert [marker for marker, *_ in lines] == [" ", " ", " ", ">", " ", " "]
    addresses = [int(at, 16) for _, at, _, _ in lines]
    assert addresses[3] == call
    assert addresses[:3] == [call - 6, call - 4, call - 2]
    assert addresses[4] == call + 4  # bl is a 32-bit instruction


def test_literal_pool_at_the_end_of_a_function_is_shown_as_a_data_word(firmware):
    [level_b] = [symbol for symbol in firmware.symbols if symbol.name == "level_b"]
    pool = level_b.address + level_b.size - 4  # level_b loads &counter from its pool
    counter = firmware.symbol_address("counter")

    lines = disassemble(firmware.read, pool, before=0, after=0, is_data=firmware.is_data)

    assert lines == [f"> 0x{pool:08x}  {counter:08x}   .word 0x{counter:08x}"]


def test_disassembly_of_unreadable_memory_says_so():
    assert disassemble(lambda addr, size: None, 0x1234) == ["> 0x00001234  <unreadable>"]


def test_undecodable_halfword_is_shown_as_data():
    memory = {0x100: b"\xff\xff\xff\xff"}

    def read(addr: int, size: int) -> bytes | None:
        return memory.get(addr, b"")[:size] or None

    lines = disassemble(read, 0x100, before=0, after=0)

    assert lines == ["> 0x00000100  ffff       .short 0xffff"]


# The fault report ----------------------------------------------------------------------------


def test_unicorn_run_faults_at_the_marked_store(firmware, faulted):
    pc = faulted.regs()["pc"]

    assert firmware.line_for(pc)[1] == marker_line("fault")
    assert firmware.symbolize(pc)[0] == "level_b"


def test_report_names_the_faulting_function_then_each_caller_with_its_source_line(
    firmware, faulted
):
    frames, _ = backtrace(precise_bus_fault(faulted), firmware)

    assert re.fullmatch(rf"#0  0x[0-9a-f]{{8}} level_b\+0x[0-9a-f]+ "
                        rf"\(calls\.c:{marker_line('fault')}\)", frames[0])
    assert re.fullmatch(rf"#1  0x[0-9a-f]{{8}} level_a\+0x[0-9a-f]+ "
                        rf"\(calls\.c:{marker_line('call b')}\)", frames[1])
    assert re.fullmatch(rf"#2  0x[0-9a-f]{{8}} main\+0x[0-9a-f]+ "
                        rf"\(calls\.c:{marker_line('call a')}\)", frames[2])
    assert "reset_handler" in frames[3]
    assert frames[4] == "#4  <end of stack> (LR reset value)"


def test_caller_frames_show_the_return_address_addr2line_places_at_the_call(
    firmware, faulted, calls_elf
):
    frames, _ = backtrace(precise_bus_fault(faulted), firmware)
    returns = [int(frame.split()[1], 16) for frame in frames[1:3]]

    out = run_tool("arm-none-eabi-addr2line", "-e", str(calls_elf), *(hex(r - 1) for r in returns))

    lines = [int(row.split(":")[-1].split()[0]) for row in out.splitlines()]
    assert lines == [marker_line("call b"), marker_line("call a")]


def test_report_heading_gives_fault_kind_and_where_it_happened(firmware, faulted):
    report = format_fault_report(precise_bus_fault(faulted), firmware)

    heading = report.splitlines()[0]
    assert re.fullmatch(rf"HardFault \(exception 3\) at 0x[0-9a-f]{{8}} level_b\+0x[0-9a-f]+ "
                        rf"\(calls\.c:{marker_line('fault')}\)", heading)


def test_report_decodes_the_status_registers_and_gives_the_valid_fault_address(
    firmware, faulted
):
    report = format_fault_report(precise_bus_fault(faulted), firmware)

    assert "HFSR  0x40000000  FORCED (HardFault)" in report
    assert "CFSR  0x00008200  PRECISERR (BusFault)" in report
    assert "BFARVALID (BusFault)" in report
    assert "BFAR  0x40000000" in report
    assert "MMFAR" not in report


def test_report_names_the_data_object_a_valid_mmfar_points_into(firmware, faulted):
    counter = firmware.symbol_address("counter")
    state = faulted.take_exception(cfsr=DACCVIOL | MMARVALID, mmfar=counter)

    assert f"MMFAR 0x{counter:08x}  (counter+0x0)" in format_fault_report(state, firmware)


def test_report_shows_the_stacked_frame(firmware, faulted):
    state = precise_bus_fault(faulted)
    report = format_fault_report(state, firmware)

    assert (f"Stacked frame at 0x{state.frame_addr:08x} (EXC_RETURN 0xfffffff9: thread mode, "
            "main stack, basic frame):") in report
    assert f"r2   0x{BAD_POINTER:08x}" in report
    assert f"pc   0x{state.frame['pc']:08x}" in report


def test_report_disassembly_marks_the_faulting_store(firmware, faulted):
    state = precise_bus_fault(faulted)
    report = format_fault_report(state, firmware)

    marked = [line for line in report.splitlines() if line.startswith("  > ")]
    assert marked == [f"  > 0x{state.frame['pc']:08x}  6010       str r0, [r2]"]


def test_backtrace_reads_through_an_extended_floating_point_frame(firmware, faulted):
    frames, _ = backtrace(precise_bus_fault(faulted, exc_return=THREAD_MSP_FP), firmware)

    assert [frame.split()[2].split("+")[0] for frame in frames[:3]] == [
        "level_b", "level_a", "main"]


def test_backtrace_stops_at_an_exception_return(firmware, faulted):
    state = precise_bus_fault(faulted)
    state.frame["pc"] = firmware.symbol_address("level_b")  # leaf entry: lr is the return
    state.frame["lr"] = THREAD_MSP

    frames, _ = backtrace(state, firmware)

    assert frames[1:] == ["#1  <exception frame> (EXC_RETURN 0xfffffff9)"]


def test_backtrace_stops_when_a_frame_repeats(firmware, faulted):
    state = precise_bus_fault(faulted)
    entry = firmware.symbol_address("level_b")
    state.frame["pc"] = entry
    state.frame["lr"] = entry | 1  # returns to itself with the same stack pointer

    frames, notes = backtrace(state, firmware)

    assert len(frames) == 2
    assert any("loop" in note for note in notes)


def test_backtrace_stops_after_sixteen_frames(firmware, faulted):
    # A stack where every saved LR returns into level_a just after its call: each unwound
    # frame is level_a again, one frame (8 bytes) higher, so only the frame limit stops it.
    after_call = firmware.symbol_address("level_a") + 8
    state = precise_bus_fault(faulted)
    state.frame["pc"] = after_call
    state.read_mem = lambda addr, size: struct.pack("<I", after_call | 1)[:size]

    frames, notes = backtrace(state, firmware)

    assert len(frames) == 16
    assert all("level_a" in frame for frame in frames)
    assert "stopped after 16 frames" in notes


def test_backtrace_stops_where_the_stack_cannot_be_read(firmware, faulted):
    state = precise_bus_fault(faulted)
    state.frame["pc"] = firmware.symbol_address("level_a") + 4  # after push {r3, lr}
    state.frame_addr = 0x3000_0000
    state.read_mem = lambda addr, size: None

    frames, notes = backtrace(state, firmware)

    assert len(frames) == 1
    assert any("stack unreadable at 0x3000002" in note for note in notes)


def test_backtrace_from_a_jump_into_nowhere_still_shows_the_caller_in_lr(firmware, faulted):
    state = faulted.take_exception(cfsr=1)  # IACCVIOL
    state.frame["pc"] = 0x0003_0000
    state.frame["lr"] = firmware.symbol_address("level_a") + 9

    frames, notes = backtrace(state, firmware)

    assert frames[0] == "#0  0x00030000 ??"
    assert frames[1].startswith("#1  ") and "level_a" in frames[1]
    assert any("frame #1 is LR" in note for note in notes)


def test_without_call_frame_information_the_backtrace_is_pc_and_lr(calls_nodebug_elf):
    firmware = load_elf(calls_nodebug_elf)
    board = Board(firmware)
    board.run_until_fault()

    frames, notes = backtrace(precise_bus_fault(board), firmware)

    assert [frame.split()[2].split("+")[0] for frame in frames] == ["level_b", "level_a"]
    assert notes == ["no call-frame information (.debug_frame): pc and lr only"]


def test_lockup_report_without_a_stacked_frame_uses_the_current_registers(firmware, faulted):
    regs = dict(faulted.regs(), msp=0x2000_FF00, psp=0, control=0)
    state = FaultState("Lockup", 3, 0, FORCED, 0, 0, 0, None, None, None, regs,
                       faulted.read_mem)

    report = format_fault_report(state, firmware)

    assert report.startswith("Lockup (exception 3, HardFault) at ")
    assert "No exception frame was stacked." in report
    assert "level_b" in report.splitlines()[0]


def test_verdict_gives_a_heading_and_the_pc_location(firmware):
    pc = firmware.symbol_address("main") + 2

    verdict = format_verdict("budget exhausted", "10000 instructions", firmware, {"pc": pc})

    assert verdict.splitlines() == [
        "budget exhausted: 10000 instructions",
        f"  at 0x{pc:08x} main+0x2 (calls.c:{marker_line('call a')})",
    ]
