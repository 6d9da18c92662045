"""The ``ota-emu`` command.

Exit status: 0 success; 1 the firmware faulted, hung, failed or used up a budget (report on
stderr); 2 bad input or usage (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from emu.errors import EmuError, UsageError

log = logging.getLogger("emu")

EXIT_OK, EXIT_FIRMWARE, EXIT_INPUT = 0, 1, 2

# Subcommands registered by other modules: name -> (handler, help text).
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {}


def command(name: str, help_text: str):
    """Register ``fn(args) -> exit status`` as a subcommand; ``fn.arguments(parser)``, when
    set (before or after decoration), adds its options."""

    def wrap(fn):
        COMMANDS[name] = (fn, help_text)
        return fn

    return wrap


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit status 2
        where = self.prog.removeprefix("ota-emu").strip()
        raise UsageError(f"{where}: {message}" if where else message)


def default_board(firmware) -> str:
    """The reference board that fits an ELF: the M4F one when the code uses the FPU."""
    return "ref-m4f" if firmware.cpu.has_fpu else "ref-m3"


def _stream_console(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("elf", type=Path, help="firmware ELF to run")
    p.add_argument("--board", help="board name or board TOML file (default: from the ELF)")
    p.add_argument("--until", help="stop with success when this text appears on the console")
    p.add_argument("--max-time", type=float, default=60.0, metavar="SECONDS",
                   help="virtual-time budget (default 60)")
    p.add_argument("--max-wall", type=float, default=None, metavar="SECONDS",
                   help="wall-clock budget (default none)")
    p.add_argument("--stall", type=float, default=None, metavar="SECONDS",
                   help="fail after this much virtual time with no console output")
    p.add_argument("--strict", action="store_true",
                   help="accesses to unmodelled addresses are bus faults")
    p.add_argument("--faults", choices=("report", "deliver"), default="report",
                   help="stop with a report at a fault (default) or run the firmware's handler")
    p.add_argument("--flash", type=Path, metavar="PATH",
                   help="flash file: its contents are loaded before the ELF when it exists, "
                   "and the flash is saved to it when the run ends (docs/flash.md)")


def _run(args: argparse.Namespace) -> int:
    from emu.board import load_board
    from emu.core.machine import Machine
    from emu.elf import load_elf
    from emu.flash import filestore

    firmware = load_elf(args.elf)
    board = load_board(args.board or default_board(firmware))
    machine = Machine(board, strict=args.strict, fault_policy=args.faults,
                      console=_stream_console)
    arrays = list(machine.flash.values())
    if args.flash is not None and not args.flash.parent.is_dir():
        raise UsageError(f"--flash {args.flash}: the folder does not exist")
    if args.flash is not None and args.flash.exists():
        filestore.load(args.flash, board.name, arrays)
    machine.load(firmware)
    try:
        machine.reset()
        result = machine.run(until=args.until, max_seconds=args.max_time,
                             max_wall=args.max_wall, stall_seconds=args.stall)
    finally:
        if args.flash is not None:
            filestore.save(args.flash, board.name, arrays)
    return report_result(result)


def report_result(result) -> int:
    """Print how a run ended on stderr; the exit status for it."""
    summary = (f"[ota-emu] {result.status}: {result.message} "
               f"(virtual {result.seconds:.3f} s, {result.instructions} instructions, "
               f"wall {result.wall:.3f} s)")
    if result.report:
        sys.stderr.write(result.report)
    print(summary, file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FIRMWARE


_run.arguments = _add_run_arguments
command("run", "run a firmware ELF, streaming its console")(_run)


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = _Parser(prog="ota-emu", description="Cortex-M OTA firmware emulator")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv traces device accesses)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (fn, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        getattr(fn, "arguments", lambda p: None)(sub_parser)
    return parser


def _load_commands() -> None:
    """Import the modules that register further subcommands."""
    import emu.bench  # noqa: F401
    import emu.demo  # noqa: F401
    import emu.image.cli_commands  # noqa: F401
    import emu.pal_test  # noqa: F401
    import emu.scenario.command  # noqa: F401


def _setup_logging(verbose: int) -> None:
    """Log lines go to the current stderr, prefixed like every line of ours."""
    logger = logging.getLogger("emu")
    for old in [h for h in logger.handlers if getattr(h, "ota_emu", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[ota-emu] %(message)s"))
    handler.ota_emu = True
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING - 10 * min(verbose, 1))
    logging.getLogger("emu.trace").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        _setup_logging(args.verbose)
        return COMMANDS[args.command][0](args)
    except EmuError as exc:
        print(f"ota-emu: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("ota-emu: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
