"""Real firmware booted through the boot model: reverts across resets, confirmation, power
cuts inside a run, and the flash kept across power cycles and processes."""

import subprocess
import sys

import pytest

from emu.board import load_board
from emu.boot import attach_boot, slot_image, slot_map, write_slot
from emu.core.machine import Machine
from emu.flash import filestore
from emu.flash.power import PowerCut
from emu.image.commands import load_body
from emu.image.keys import load_private_key
from emu.image.trailer import Flag

from fixtures.boot import (
    DEV_KEY,
    END_EXIT,
    END_SWRESET,
    END_SYSRESET,
    END_WATCHDOG,
    ROOT,
    build_app,
)
from fixtures.build import have_compiler

BOARD = "ref-m3"
SLOTS = slot_map(load_board(BOARD))
IMAGE_OK = SLOTS.address(SLOTS.primary) + SLOTS.slot_trailer().image_ok_off
APPS = {
    "v1": dict(version="1.0.0", end=END_EXIT),
    "v2-sysreset": dict(version="1.0.1", end=END_SYSRESET),
    "v2-watchdog": dict(version="1.0.1", end=END_WATCHDOG),
    "v2-confirm": dict(version="1.0.1", end=END_SWRESET, confirm=True, image_ok_addr=IMAGE_OK),
}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Each application built, signed with the development key and sized to a slot."""
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed: fixture ELFs are built at test time")
    out = tmp_path_factory.mktemp("boot-apps")
    key = load_private_key(DEV_KEY)
    signed = {}
    for name, defines in APPS.items():
        elf = build_app(out, name, **defines)
        confirmed = name == "v1"
        signed[name] = slot_image(load_body(elf), key, defines["version"], SLOTS,
                                  confirm=confirmed)
    return signed


def machine_with(images, update: str) -> Machine:
    """v1 confirmed in the primary slot, ``update`` pending in the secondary slot."""
    machine = Machine(load_board(BOARD))
    attach_boot(machine)
    write_slot(machine, SLOTS, "primary", images["v1"])
    write_slot(machine, SLOTS, "secondary", images[update])
    return machine


def console(machine: Machine) -> list[str]:
    return machine.transcript.decode().splitlines()


def app_lines(machine: Machine) -> list[str]:
    return [line for line in console(machine) if line.startswith(("app ", "confirmed"))]


def test_an_unconfirmed_image_that_resets_itself_is_reverted(images):
    machine = machine_with(images, "v2-sysreset")
    machine.reset()
    result = machine.run(max_seconds=2)
    assert (result.status, result.exit_code) == ("exit", 0)
    assert app_lines(machine) == ["app 1.0.1 rstinfo=00000001", "app 1.0.0 rstinfo=00000002"]
    assert "[boot] reset: software" in console(machine)
    assert "[boot] swap type: revert" in console(machine)


def test_an_unconfirmed_image_that_lets_the_watchdog_bite_is_reverted(images):
    machine = machine_with(images, "v2-watchdog")
    machine.reset()
    result = machine.run(max_seconds=2)
    assert (result.status, result.exit_code) == ("exit", 0)
    assert app_lines(machine) == ["app 1.0.1 rstinfo=00000001", "app 1.0.0 rstinfo=00000004"]
    lines = console(machine)
    assert lines.index("[boot] reset: watchdog") < lines.index("[boot] swap type: revert")
    assert 0.002 <= result.seconds < 0.01


def test_a_confirmed_image_stays_across_its_own_reset(images):
    machine = machine_with(images, "v2-confirm")
    machine.reset()
    result = machine.run(max_seconds=2)
    assert (result.status, result.exit_code) == ("exit", 0)
    assert app_lines(machine) == ["app 1.0.1 rstinfo=00000001", "confirmed",
                                  "app 1.0.1 rstinfo=00000002"]
    assert console(machine).count("[boot] swap type: none") == 1


def test_the_confirmed_image_stays_after_a_power_cycle(images):
    machine = machine_with(images, "v2-confirm")
    machine.reset()
    machine.run(max_seconds=2)
    machine.power_cycle()
    assert machine.reset_hooks[-1].lines[-1].startswith("booting primary v1.0.1 (")


def test_a_power_cut_during_the_revert_inside_a_run_is_resumed(images):
    machine = machine_with(images, "v2-sysreset")
    machine.reset()
    machine.cut_power_at(machine.flash["flash"].op_count + 6, "during", seed=7)
    result = machine.run(max_seconds=2)
    assert (result.status, result.exit_code) == ("exit", 0)
    assert len(machine.power_cuts) == 1
    assert app_lines(machine)[-1] == "app 1.0.0 rstinfo=00000001"
    assert any(line.startswith("[boot] resuming an interrupted revert swap")
               or "swap was starting" in line for line in console(machine))


def test_a_swap_cut_by_a_power_loss_resumes_in_a_later_process(images, tmp_path):
    machine = machine_with(images, "v2-confirm")
    arrays = list(machine.flash.values())
    machine.cut_power_at(12, "during", seed=3)
    with pytest.raises(PowerCut):
        machine.reset()
    flash_file = tmp_path / "flash.bin"
    filestore.save(flash_file, BOARD, arrays)

    script = (
        "import sys\n"
        "from emu.board import load_board\n"
        "from emu.boot import attach_boot\n"
        "from emu.core.machine import Machine\n"
        "from emu.flash import filestore\n"
        f"machine = Machine(load_board({BOARD!r}))\n"
        "model = attach_boot(machine)\n"
        "filestore.load(sys.argv[1], machine.board.name, list(machine.flash.values()))\n"
        "machine.reset()\n"
        "result = machine.run(max_seconds=2)\n"
        "filestore.save(sys.argv[1], machine.board.name, list(machine.flash.values()))\n"
        "print(machine.transcript.decode(), result.status, result.exit_code)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(flash_file)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    assert "[boot] resuming an interrupted test swap" in done.stdout
    assert "app 1.0.1 rstinfo=00000001\nconfirmed\n" in done.stdout
    assert "app 1.0.1 rstinfo=00000002\n" in done.stdout
    assert done.stdout.rstrip().endswith("exit 0")

    again = Machine(load_board(BOARD))
    model = attach_boot(again)
    filestore.load(flash_file, BOARD, list(again.flash.values()))
    again.reset()
    assert "swap type: none" in model.lines and str(model.booted.version) == "1.0.1+0"
    assert model.primary.trailer().image_ok is Flag.SET
