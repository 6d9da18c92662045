"""``ota-emu demo``: the main job of the README.

Builds nothing itself (``make demo`` builds the firmware first): it takes the bundled OTA
application, signs version 1.0.0 into the primary slot of a fresh flash, boots it through the
boot model, offers version 1.0.1 as an AWS IoT OTA job over the emulated network, and runs
until the job is final, streaming the device console. Then it prints the job's final status,
the version the device runs and the time it took.
"""

from __future__ import annotations

import argparse
import sys

from emu.cli import command
from emu.scenario.runner import ScenarioRun
from emu.scenario.spec import Device, Expect, Job, Scenario


def demo_scenario(board: str) -> Scenario:
    job = Job(version="1.0.1", expect=Expect(status="SUCCEEDED", running_version="1.0.1",
                                             image_confirmed=True))
    return Scenario(name="demo", board=board, device=Device("ota_app", "1.0.0"), jobs=[job])


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--board", default="ref-m4f", help="reference board (default ref-m4f)")
    p.add_argument("--quiet", action="store_true", help="do not stream the device console")


@command("demo", "emulated OTA update of the bundled firmware, end to end")
def _demo(args: argparse.Namespace) -> int:
    console = None if args.quiet else (lambda b: sys.stdout.buffer.write(b))
    run = ScenarioRun(demo_scenario(args.board), console)
    outcome = run.run()
    job_id = next(iter(run.service.updates))
    print()
    print(f"[demo] job {job_id}: {run.service.final_status(job_id)}"
          f" ({run.last_reason(job_id) or 'no reason given'})")
    print(f"[demo] the device runs v{run.running_version() or '?'}"
          f" (image {'confirmed' if run.image_confirmed() else 'not confirmed'})")
    print(f"[demo] virtual time {outcome.virtual:.2f} s, wall time {outcome.wall:.2f} s")
    print(f"[demo] {'PASS' if outcome.passed else 'FAIL: ' + outcome.reason}")
    return 0 if outcome.passed else 1


_demo.arguments = _arguments
