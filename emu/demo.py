"""``ota-emu demo``: the main job of the README."""

from __future__ import annotations

import argparse

from emu.bench import IMAGES
from emu.cli import _stream_console, command, report_result
from emu.errors import InputError


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cpu", choices=("m3", "m4f"), default="m4f")


@command("demo", "run the bundled demo firmware end to end")
def _demo(args: argparse.Namespace) -> int:
    from emu.board import load_board
    from emu.core.machine import Machine
    from emu.elf import load_elf

    elf = IMAGES / args.cpu / "rtos_demo.elf"
    if not elf.exists():
        raise InputError(f"{elf} is missing: run `make firmware` first")
    machine = Machine(load_board(f"ref-{args.cpu}"), console=_stream_console)
    machine.load(load_elf(elf))
    machine.reset()
    return report_result(machine.run(max_seconds=30))


_demo.arguments = _arguments
