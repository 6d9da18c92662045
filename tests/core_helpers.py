"""Helpers for the core tests: run an ELF on a reference board, or under QEMU."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from emu.board import load_board
from emu.core.machine import Machine, RunResult
from emu.elf import load_elf

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "firmware_images" / "build"
QEMU_MACHINES = {"ref-m3": "mps2-an385", "ref-m4f": "mps2-an386"}


def run_elf(elf: Path, board: str = "ref-m4f", **run_args) -> tuple[RunResult, str, Machine]:
    machine = Machine(load_board(board))
    machine.load(load_elf(elf))
    machine.reset()
    run_args.setdefault("max_seconds", 30)
    result = machine.run(**run_args)
    return result, machine.transcript.decode(errors="replace"), machine


def run_qemu(elf: Path, board: str = "ref-m4f", timeout: float = 60) -> str:
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        pytest.skip("qemu-system-arm is not installed: it is the reference for this test")
    cmd = [qemu, "-M", QEMU_MACHINES[board], "-nographic", "-monitor", "none",
           "-icount", "shift=5,align=off,sleep=off",
           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
    done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    return done.stdout.decode(errors="replace").replace("\r\n", "\n")


def image(cpu: str, name: str) -> Path:
    path = IMAGES / cpu / f"{name}.elf"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} was not built by `make firmware`")
        pytest.skip(f"{path} is not built: run `make firmware`")
    return path
