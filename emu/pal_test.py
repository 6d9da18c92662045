"""``ota-emu pal-test``: run the PAL test suite firmware and report its cases.

The suite (firmware_images/pal_tests/, docs/pal.md) is a bare-metal image linked with one
PAL. It prints ``PASS name`` or ``FAIL name: reason`` per case and ``N passed, N failed``
at the end, then exits through semihosting. One case activates the received file, which
resets the board; the suite reports that case on the boot that follows.

This runner:

1. reads from the ELF the board it was built for (``pal_test_board``), the signer's public
   key (``pal_test_signer_key``) and the key slot the PAL expects it in
   (``pal_test_key_slot``), and provisions the key into the board's crypto engine;
2. when the board boots through the boot model (``[slots]`` and ``[boot] mode = "model"``)
   and the image is linked at its primary slot, puts it there as a signed, confirmed MCUboot
   image under a key made for the run, and attaches the boot model trusting that key, so
   the activation's reset goes through the bootloader; otherwise the ELF is started directly
   and a software reset restarts the same image with its RAM kept;
3. runs to the suite's exit and prints the case lines and the summary on stdout.

Exit status: 0 when every case the suite announced passed, 1 otherwise (a failed case, a
fault, a hang, a budget used up), 2 for bad input (not a suite image, unknown board).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from emu.cli import EXIT_FIRMWARE, EXIT_OK, command, default_board
from emu.errors import BoardError, InputError

if TYPE_CHECKING:
    from emu.core.machine import Machine, RunResult
    from emu.elf import Firmware

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ELF = ROOT / "firmware_images" / "build" / "m4f" / "pal_test_ref.elf"

SYMBOL_BOARD = "pal_test_board"
SYMBOL_KEY = "pal_test_signer_key"
SYMBOL_SLOT = "pal_test_key_slot"
KEY_POINT_SIZE = 65  # 0x04 || X || Y

PLAN = re.compile(r"PAL test suite: (\d+) cases")
CASE = re.compile(r"(PASS|FAIL) ([A-Za-z0-9_]+)(?:: (.*))?")
SUMMARY = re.compile(r"(\d+) passed, (\d+) failed")

# The version given to the suite's image in the primary slot.
IMAGE_VERSION = "1.0.0"


@dataclass(frozen=True)
class Case:
    """One case line of the suite."""

    name: str
    passed: bool
    reason: str = ""

    def line(self) -> str:
        return f"PASS {self.name}" if self.passed else f"FAIL {self.name}: {self.reason}"


@dataclass
class PalTestReport:
    """What a run of the suite said, and how the run ended."""

    board: str
    run: RunResult
    transcript: str
    booted_by_model: bool
    planned: int | None = None
    cases: list[Case] = field(default_factory=list)
    summary: tuple[int, int] | None = None

    @property
    def passed(self) -> int:
        return sum(case.passed for case in self.cases)

    @property
    def failed(self) -> int:
        """Failed cases, counting those announced but never reported as failed."""
        reported = len(self.cases)
        missing = max(0, (self.planned or 0) - reported)
        return reported - self.passed + missing

    @property
    def complete(self) -> bool:
        """The suite reported every case it announced and printed its summary."""
        return (self.planned is not None and self.summary is not None
                and len(self.cases) == self.planned
                and self.summary == (self.passed, len(self.cases) - self.passed))

    @property
    def ok(self) -> bool:
        return (self.complete and self.failed == 0 and self.run.status == "exit"
                and self.run.exit_code == 0)


# -- reading the ELF -------------------------------------------------------------------------

def _symbol_bytes(firmware: Firmware, name: str) -> bytes:
    """The bytes of a data symbol of the suite, as the ELF loads them."""
    found = [sym for sym in firmware.symbols if sym.name == name]
    if not found:
        raise InputError(f"{firmware.name}: not a PAL test suite image (no symbol {name}); "
                         "build one with `make -C firmware_images -f pal.mk`")
    data = firmware.read(found[0].address, found[0].size)
    if not data:
        raise InputError(f"{firmware.name}: symbol {name} is not in a loadable segment")
    return data


def suite_board(firmware: Firmware) -> str:
    """The board name the suite was built for (``ref`` or ``stm32f4``)."""
    raw = _symbol_bytes(firmware, SYMBOL_BOARD)
    return raw.split(b"\0")[0].decode("ascii", errors="replace")


def board_for(firmware: Firmware) -> str:
    """The board to run the suite on when none is given."""
    name = suite_board(firmware)
    return name if name != "ref" else default_board(firmware)


def signer_key(firmware: Firmware) -> tuple[int, bytes]:
    """The key slot the PAL reads and the public key to put there."""
    point = _symbol_bytes(firmware, SYMBOL_KEY)
    raw_slot = _symbol_bytes(firmware, SYMBOL_SLOT)
    if len(point) != KEY_POINT_SIZE or point[0] != 4 or len(raw_slot) != 4:
        raise InputError(f"{firmware.name}: {SYMBOL_KEY} or {SYMBOL_SLOT} has the wrong size")
    return int.from_bytes(raw_slot, "little"), point


# -- setting the board up --------------------------------------------------------------------

def _provision(machine: Machine, slot: int, point: bytes) -> None:
    from emu.periph.crypto import CryptoEngine

    engines = [d for d in machine.peripherals.values() if isinstance(d, CryptoEngine)]
    if not engines:
        raise BoardError(f"board {machine.board.name} has no crypto-engine: the PAL checks "
                         "signatures with one")
    engines[0].provision(slot, point)


def _flash_body(firmware: Firmware, start: int, end: int) -> bytes | None:
    """The image bytes from ``start`` (the vector table), when the ELF is linked there."""
    pieces = [s for s in firmware.segments if start <= s.load_addr < end and s.data]
    if not pieces or min(s.load_addr for s in pieces) != start:
        return None
    body = bytearray(b"\xff" * (max(s.end for s in pieces) - start))
    for segment in pieces:
        offset = segment.load_addr - start
        body[offset:offset + len(segment.data)] = segment.data
    return bytes(body)


def _attach_boot_model(machine: Machine, firmware: Firmware) -> bool:
    """Install the suite as the primary image and boot through the model, when possible."""
    try:
        from emu.boot import attach_boot, boot_config, has_boot_model, slot_image, slot_map
    except ImportError:
        return False
    from emu.image.keys import generate_key

    board = machine.board
    if not has_boot_model(board):
        return False
    slots, config = slot_map(board), boot_config(board)
    primary = slots.address(slots.primary)
    body = _flash_body(firmware, primary + config.header_size, primary + slots.primary.size)
    if body is None:
        return False
    key = generate_key()
    image = slot_image(body, key, IMAGE_VERSION, slots, confirm=True,
                       header_size=config.header_size)
    machine.flash[slots.flash].write_raw(slots.primary.offset, image)
    attach_boot(machine, trusted_key=key)
    return True


# -- running ---------------------------------------------------------------------------------

def parse_transcript(report: PalTestReport) -> None:
    """Fill the plan, the cases and the summary from the console text."""
    for raw in report.transcript.splitlines():
        line = raw.strip()
        if (m := PLAN.fullmatch(line.split(",")[0])) and report.planned is None:
            report.planned = int(m.group(1))
        elif m := CASE.fullmatch(line):
            report.cases.append(Case(m.group(2), m.group(1) == "PASS", m.group(3) or ""))
        elif m := SUMMARY.fullmatch(line):
            report.summary = (int(m.group(1)), int(m.group(2)))


def run_pal_test(elf: str | Path, board: str | None = None, *, max_seconds: float = 600.0,
                 max_wall: float | None = None, boot_model: bool = True,
                 console=None) -> PalTestReport:
    """Run the suite in ``elf`` on ``board`` (default: the board it was built for)."""
    import emu.periph.stm32_usart  # noqa: F401  (the stm32f4 board's console)
    from emu.board import load_board
    from emu.core.machine import Machine
    from emu.elf import load_elf

    firmware = load_elf(elf)
    slot, point = signer_key(firmware)
    board_desc = load_board(board or board_for(firmware))
    machine = Machine(board_desc, console=console)
    try:
        _provision(machine, slot, point)
        machine.load(firmware)
        booted = boot_model and _attach_boot_model(machine, firmware)
        machine.reset()
        result = machine.run(max_seconds=max_seconds, max_wall=max_wall)
        report = PalTestReport(board_desc.name, result,
                               machine.transcript.decode(errors="replace"), booted)
    finally:
        machine.close()
    parse_transcript(report)
    return report


def print_report(report: PalTestReport, out=None, err=None) -> int:
    """The case lines and the summary on ``out``; how the run ended on ``err``."""
    out = out or sys.stdout
    err = err or sys.stderr
    for case in report.cases:
        print(case.line(), file=out)
    if not report.complete:
        run = report.run
        if run.report:
            err.write(run.report)
        print(f"[ota-emu] the suite did not finish: {run.status}: {run.message}", file=err)
        if report.planned is not None and len(report.cases) < report.planned:
            print(f"[ota-emu] {report.planned - len(report.cases)} announced case(s) were "
                  "never reported; they count as failed", file=err)
    print(f"{report.passed} passed, {report.failed} failed", file=out)
    return EXIT_OK if report.ok else EXIT_FIRMWARE


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("elf", type=Path, nargs="?", default=None,
                   help=f"the suite image (default: {DEFAULT_ELF.relative_to(ROOT)})")
    p.add_argument("--board", help="board name or TOML file (default: the one it was built for)")
    p.add_argument("--max-time", type=float, default=600.0, metavar="SECONDS",
                   help="virtual-time budget (default 600)")
    p.add_argument("--max-wall", type=float, default=None, metavar="SECONDS",
                   help="wall-clock budget (default none)")
    p.add_argument("--no-boot-model", action="store_true",
                   help="start the ELF directly even when the board has a boot model")
    p.add_argument("--console", action="store_true",
                   help="copy the firmware's console (boot log included) to stderr")


def _pal_test(args: argparse.Namespace) -> int:
    elf = args.elf or DEFAULT_ELF
    if args.elf is None and not elf.exists():
        raise InputError(f"{elf} is missing: run `make -C firmware_images -f pal.mk` first")

    def echo(data: bytes) -> None:
        sys.stderr.buffer.write(data)
        sys.stderr.flush()

    report = run_pal_test(elf, args.board, max_seconds=args.max_time, max_wall=args.max_wall,
                          boot_model=not args.no_boot_model,
                          console=echo if args.console else None)
    return print_report(report)


_pal_test.arguments = _arguments
command("pal-test", "run the PAL test suite firmware and report each case")(_pal_test)
