"""``ota-emu bench``: raw unicorn, the full emulator and QEMU on the same ELFs, in one run.

Speeds are instructions per second, with the instruction count taken from the emulator's own
count of the same run (the CPU-bound image executes the same instructions everywhere). Raw
unicorn runs the image with no hooks at all, the console mapped as plain memory, until the
semihosting exit breakpoint stops it; it cannot run an RTOS image (it has no exception
model), so its speed on the CPU-bound image is the ceiling both ratios are taken against.
QEMU's time is that of a whole ``qemu-system-arm`` process minus the time of the same
process on ``hello``, an image that prints three lines and exits.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import unicorn
from unicorn import arm_const as arm

from emu.board import CPUS, load_board
from emu.cli import command
from emu.core.machine import Machine
from emu.elf import load_elf, vector_table
from emu.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "firmware_images" / "build"
QEMU_MACHINES = {"m3": "mps2-an385", "m4f": "mps2-an386"}


@dataclass
class Figure:
    label: str
    seconds: float
    instructions: int
    exceptions: int = 0

    @property
    def mips(self) -> float:
        return self.instructions / self.seconds / 1e6 if self.seconds > 0 else 0.0


def run_emulator(elf: Path, board: str) -> tuple[float, int, int]:
    """(wall seconds, instructions, exceptions) of a full-emulator run to exit."""
    firmware = load_elf(elf)
    machine = Machine(load_board(board))
    machine.load(firmware)
    machine.reset()
    t0 = time.perf_counter()
    result = machine.run(max_seconds=600)
    wall = time.perf_counter() - t0
    if not result.ok:
        raise InputError(f"{elf.name} did not run to a clean exit: {result.message}")
    machine.close()
    return wall, result.instructions, result.exceptions


def run_raw_unicorn(elf: Path, board: str) -> float:
    """Wall seconds of bare unicorn, no hooks, from reset to the first breakpoint."""
    firmware = load_elf(elf)
    b = load_board(board)
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB)
    uc.ctl_set_cpu_model(getattr(arm, f"UC_CPU_ARM_{CPUS[b.cpu][0]}"))
    for mem in b.memories:
        uc.mem_map(mem.base, mem.size)
    for dev in b.peripherals:
        uc.mem_map(dev["base"] & ~0xFFF, 0x1000)
    uc.mem_map(0xE0000000, 0x100000)  # system registers as plain memory: startup writes land
    for seg in firmware.segments:
        uc.mem_write(seg.load_addr, seg.data)
    sp, pc = vector_table(firmware, min(s.load_addr for s in firmware.segments))
    uc.reg_write(arm.UC_ARM_REG_MSP, sp)
    t0 = time.perf_counter()
    try:
        uc.emu_start(pc | 1, 0xFFFFFFFF)
    except unicorn.UcError:
        pass  # the exit breakpoint: unicorn stops with an unhandled exception
    wall = time.perf_counter() - t0
    pc = uc.reg_read(arm.UC_ARM_REG_PC) & ~1
    if bytes(uc.mem_read(pc, 2)) != b"\xab\xbe":
        raise InputError(f"{elf.name}: raw unicorn stopped at {pc:#x}, not at the exit "
                         "breakpoint")
    return wall


def run_qemu(elf: Path, cpu: str) -> float | None:
    """Wall seconds of qemu-system-arm on the image, or None when QEMU is absent."""
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        return None
    cmd = [qemu, "-M", QEMU_MACHINES[cpu], "-nographic", "-monitor", "none",
           "-serial", "null", "-semihosting-config", "enable=on,target=native",
           "-kernel", str(elf)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True, timeout=600)
    return time.perf_counter() - t0


def _median(fn, repeat: int):
    return statistics.median(fn() for _ in range(repeat))


def bench(cpu: str = "m4f", repeat: int = 3) -> list[str]:
    """Measure and format the comparison table."""
    board = "ref-m4f" if cpu == "m4f" else "ref-m3"
    cpu_elf = IMAGES / cpu / "bench_cpu.elf"
    slice_elf = IMAGES / cpu / "bench_slice.elf"
    stress_elf = IMAGES / cpu / "bench_rtos.elf"
    null_elf = IMAGES / cpu / "hello.elf"  # QEMU's start-up and exit cost
    for path in (cpu_elf, slice_elf, stress_elf, null_elf):
        if not path.exists():
            raise InputError(f"{path} is missing: run `make firmware` first")

    full_cpu = _emulated("ota-emu, CPU-bound", cpu_elf, board, repeat)
    n_cpu = full_cpu.instructions
    raw_cpu = Figure("raw unicorn, CPU-bound", _median(lambda: run_raw_unicorn(cpu_elf, board),
                                                       repeat), n_cpu)
    full_rtos = _emulated("ota-emu, RTOS time-sliced", slice_elf, board, repeat)
    stress = _emulated("ota-emu, RTOS ping-pong", stress_elf, board, repeat)
    figures = [raw_cpu, full_cpu, full_rtos, stress]

    qemu_cpu = None
    q = _median(lambda: run_qemu(cpu_elf, cpu) or 0.0, repeat)
    if q:
        start = _median(lambda: run_qemu(null_elf, cpu) or 0.0, repeat)
        qemu_cpu = Figure("qemu-system-arm, CPU-bound", max(q - start, 1e-9), n_cpu)
        figures.insert(1, qemu_cpu)

    lines = [f"{'configuration':<30} {'instructions':>14} {'seconds':>9} {'MIPS':>9}"]
    lines += [f"{f.label:<30} {f.instructions:>14} {f.seconds:>9.4f} {f.mips:>9.1f}"
              for f in figures]
    lines.append("")
    lines.append(f"ota-emu / raw unicorn, CPU-bound : {full_cpu.mips / raw_cpu.mips:.2f} "
                 "(target >= 0.8)")
    if qemu_cpu is not None:
        lines.append(f"ota-emu / QEMU, CPU-bound        : {full_cpu.mips / qemu_cpu.mips:.2f}"
                     " (target >= 0.8)")
        lines.append(f"raw unicorn / QEMU, CPU-bound    : {raw_cpu.mips / qemu_cpu.mips:.2f}"
                     " (the ceiling: every guest store takes unicorn's slow path)")
    lines.append(f"ota-emu RTOS / raw unicorn       : {full_rtos.mips / raw_cpu.mips:.2f} "
                 f"(target >= 0.5; {full_rtos.exceptions} exceptions taken)")
    lines.append(f"ota-emu ping-pong / raw unicorn  : {stress.mips / raw_cpu.mips:.2f} "
                 f"(a context switch every {stress.instructions // stress.exceptions} "
                 "instructions)")
    return lines


def _emulated(label: str, elf: Path, board: str, repeat: int) -> Figure:
    runs = [run_emulator(elf, board) for _ in range(repeat)]
    return Figure(label, statistics.median(r[0] for r in runs), runs[0][1], runs[0][2])


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cpu", choices=("m3", "m4f"), default="m4f")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")


@command("bench", "compare raw unicorn, ota-emu and QEMU on the benchmark images")
def _bench(args: argparse.Namespace) -> int:
    for line in bench(args.cpu, max(1, args.repeat)):
        print(line)
    return 0


_bench.arguments = _arguments
