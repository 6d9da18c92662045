"""``ota-emu scenario FILE...``: one line per scenario, a summary line, optional JUnit XML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from emu.cli import command
from emu.errors import UsageError
from emu.scenario.runner import Outcome, run_scenario
from emu.scenario.spec import load_scenario


def write_junit(path: Path, outcomes: list[Outcome]) -> None:
    """A JUnit XML report, written to a temporary file first so that it is never torn."""
    failed = sum(not o.passed for o in outcomes)
    suite = ET.Element("testsuite", name="ota-emu scenarios", tests=str(len(outcomes)),
                       failures=str(failed), time=f"{sum(o.wall for o in outcomes):.3f}")
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", classname="scenarios", name=o.name,
                             time=f"{o.wall:.3f}")
        ET.SubElement(case, "properties").append(
            ET.Element("property", name="virtual_seconds", value=f"{o.virtual:.3f}"))
        if not o.passed:
            failure = ET.SubElement(case, "failure", message=o.reason)
            failure.text = o.transcript[-4000:]
    tmp = path.with_name(path.name + ".tmp")
    ET.ElementTree(suite).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)


def _broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--broker {text}: expected HOST:PORT")
    return host, int(port)


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, help="scenario TOML files")
    p.add_argument("--junit", type=Path, help="also write a JUnit XML report here")
    p.add_argument("--console", action="store_true", help="stream the device console")
    p.add_argument("--broker", metavar="HOST:PORT",
                   help="talk through this MQTT broker (e.g. Mosquitto) instead of in-process")


@command("scenario", "run OTA scenarios and check their outcomes")
def _scenario(args: argparse.Namespace) -> int:
    scenarios = [load_scenario(f) for f in args.files]  # every file is checked before any run
    broker = _broker(args.broker) if args.broker else None
    console = (lambda b: sys.stdout.buffer.write(b)) if args.console else None
    outcomes = []
    for scenario in scenarios:
        outcome = run_scenario(scenario, console, broker)
        outcomes.append(outcome)
        print(outcome.line(), flush=True)
    failed = sum(not o.passed for o in outcomes)
    print(f"{len(outcomes) - failed} passed, {failed} failed")
    if args.junit:
        write_junit(args.junit, outcomes)
    return 0 if failed == 0 else 1


_scenario.arguments = _arguments
