"""ref-sysctl: the reset causes firmware reads, and the software reset it offers."""

import pytest

from emu.board import load_board
from emu.core.machine import Machine
from emu.periph.sysctl import ID_VALUE, LOCKUP, POR, SOFTWARE, SWRESET_KEY, WATCHDOG

from fixtures.boot import idle_flash

RSTINFO, SWRESET, ID = 0x000, 0x004, 0xFFC
AIRCR, SYSRESETREQ = 0xE000_ED0C, 0x05FA_0004
HZ = 25_000_000


@pytest.fixture
def machine():
    machine = Machine(load_board("ref-m3"))
    machine.flash["flash"].write_raw(0, idle_flash())
    machine.reset()
    return machine


def sysctl(machine):
    return machine.peripherals["sysctl"]


def settle(machine):
    machine.run(max_seconds=1_000 / HZ)


def test_after_power_on_only_por_is_set(machine):
    assert sysctl(machine).read(RSTINFO, 4) == POR
    assert machine.reset_reason == "power-on"


def test_sysresetreq_adds_the_software_cause(machine):
    machine.scs_write(AIRCR, SYSRESETREQ)
    settle(machine)
    assert (machine.resets, machine.reset_reason) == (2, "software")
    assert sysctl(machine).read(RSTINFO, 4) == POR | SOFTWARE


def test_the_causes_are_cleared_by_writing_ones(machine):
    dev = sysctl(machine)
    dev.write(RSTINFO, 4, POR)
    assert dev.read(RSTINFO, 4) == 0
    machine.scs_write(AIRCR, SYSRESETREQ)
    settle(machine)
    assert dev.read(RSTINFO, 4) == SOFTWARE


def test_swreset_with_the_key_resets_the_system(machine):
    sysctl(machine).write(SWRESET, 4, SWRESET_KEY)
    settle(machine)
    assert (machine.resets, machine.reset_reason) == (2, "software")


def test_swreset_with_another_value_is_ignored_and_logged(machine, caplog):
    sysctl(machine).write(SWRESET, 4, 0x1234)
    settle(machine)
    assert machine.resets == 1
    assert "SWRESET written with 0x1234, not the key; ignored" in caplog.text


def test_a_watchdog_reset_adds_the_watchdog_cause(machine):
    watchdog = machine.peripherals["watchdog"]
    watchdog.write(0x000, 4, 1_000)
    watchdog.write(0x008, 4, 3)
    machine.run(max_seconds=3_000 / HZ)
    assert machine.reset_reason == "watchdog"
    assert sysctl(machine).read(RSTINFO, 4) == POR | WATCHDOG


def test_a_power_cycle_leaves_only_por(machine):
    sysctl(machine).write(SWRESET, 4, SWRESET_KEY)
    settle(machine)
    machine.power_cycle()
    assert sysctl(machine).read(RSTINFO, 4) == POR


def test_a_reset_for_lockup_would_add_the_lockup_cause(machine):
    machine.reset("lockup")
    assert sysctl(machine).read(RSTINFO, 4) == POR | LOCKUP


def test_the_id_register_names_the_block(machine):
    assert sysctl(machine).read(ID, 4) == ID_VALUE
