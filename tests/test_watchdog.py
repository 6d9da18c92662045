"""The CMSDK APB watchdog driven through its registers on the reference board, with a core
that only sleeps (the counter runs on virtual time)."""

import pytest

from emu.board import load_board
from emu.core.machine import Machine
from emu.periph.watchdog import UNLOCK_KEY

from fixtures.boot import idle_flash

LOAD, VALUE, CONTROL, INTCLR, RIS, MIS = 0x000, 0x004, 0x008, 0x00C, 0x010, 0x014
LOCK, ITCR, ITOP = 0xC00, 0xF00, 0xF04
INTEN, RESEN = 1, 2
HZ = 25_000_000


def machine_with(irq="nmi", clock_hz=None) -> Machine:
    board = load_board("ref-m4f")
    for spec in board.peripherals:
        if spec["type"] == "cmsdk-watchdog":
            spec["irq"] = irq
            if clock_hz is not None:
                spec["clock_hz"] = clock_hz
    machine = Machine(board)
    machine.flash["flash"].write_raw(0, idle_flash())
    machine.reset()
    return machine


@pytest.fixture
def machine():
    return machine_with()


def wdog(machine):
    return machine.peripherals["watchdog"]


def run_cycles(machine, cycles):
    machine.run(max_seconds=cycles / HZ)


def test_the_registers_reset_to_the_values_of_the_trm(machine):
    dev = wdog(machine)
    assert [dev.read(offset, 4) for offset in (LOAD, VALUE, CONTROL, RIS, MIS, LOCK)] == [
        0xFFFF_FFFF, 0xFFFF_FFFF, 0, 0, 0, 0]
    ids = [dev.read(offset, 4) for offset in (0xFE0, 0xFE4, 0xFE8, 0xFEC, 0xFD0)]
    cells = [dev.read(offset, 4) for offset in (0xFF0, 0xFF4, 0xFF8, 0xFFC)]
    assert ids == [0x24, 0xB8, 0x1B, 0x00, 0x04] and cells == [0x0D, 0xF0, 0x05, 0xB1]


def test_the_counter_stands_still_until_the_interrupt_is_enabled(machine):
    wdog(machine).write(LOAD, 4, 100_000)
    run_cycles(machine, 25_000)
    assert wdog(machine).read(VALUE, 4) == 100_000


def test_the_counter_counts_down_at_the_core_clock(machine):
    dev = wdog(machine)
    dev.write(LOAD, 4, 100_000)
    dev.write(CONTROL, 4, INTEN)
    run_cycles(machine, 25_000)
    assert 74_990 <= dev.read(VALUE, 4) <= 75_000


def test_a_slower_watchdog_clock_counts_slower():
    machine = machine_with(clock_hz=HZ // 5)
    dev = wdog(machine)
    dev.write(LOAD, 4, 100_000)
    dev.write(CONTROL, 4, INTEN)
    run_cycles(machine, 25_000)
    assert 94_990 <= dev.read(VALUE, 4) <= 95_000


def test_zero_raises_the_interrupt_on_its_nvic_line_and_reloads():
    machine = machine_with(irq=7)
    dev = wdog(machine)
    dev.write(LOAD, 4, 10_000)
    dev.write(CONTROL, 4, INTEN)
    run_cycles(machine, 12_000)
    assert (dev.read(RIS, 4), dev.read(MIS, 4)) == (1, 1)
    assert machine.exception_state(16 + 7)["pending"] == 1
    assert 7_900 <= dev.read(VALUE, 4) <= 8_000


def test_on_mps2_the_interrupt_is_an_nmi_that_the_core_takes(machine):
    dev = wdog(machine)
    dev.write(LOAD, 4, 10_000)
    dev.write(CONTROL, 4, INTEN)
    result = machine.run(max_seconds=12_000 / HZ)
    assert dev.read(RIS, 4) == 1 and result.exceptions == 1


def test_an_interrupt_still_raised_at_the_next_zero_resets_the_system(machine):
    dev = wdog(machine)
    dev.write(LOAD, 4, 10_000)
    dev.write(CONTROL, 4, INTEN | RESEN)
    run_cycles(machine, 15_000)
    assert machine.resets == 1
    run_cycles(machine, 10_000)
    assert (machine.resets, machine.reset_reason) == (2, "watchdog")
    assert dev.read(CONTROL, 4) == 0 and dev.read(LOAD, 4) == 0xFFFF_FFFF


def test_clearing_the_interrupt_in_time_keeps_the_system_running(machine):
    dev = wdog(machine)
    dev.write(LOAD, 4, 10_000)
    dev.write(CONTROL, 4, INTEN | RESEN)

    def feed():
        dev.write(INTCLR, 4, 1)
        machine.schedule(15_000, feed)

    machine.schedule(15_000, feed)
    run_cycles(machine, 200_000)
    assert machine.resets == 1


def test_without_resen_the_interrupt_stays_raised_and_nothing_resets(machine):
    dev = wdog(machine)
    dev.write(LOAD, 4, 10_000)
    dev.write(CONTROL, 4, INTEN)
    run_cycles(machine, 100_000)
    assert machine.resets == 1 and dev.read(RIS, 4) == 1


def test_writing_load_restarts_the_count(machine):
    dev = wdog(machine)
    dev.write(LOAD, 4, 10_000)
    dev.write(CONTROL, 4, INTEN | RESEN)
    for _ in range(10):
        run_cycles(machine, 8_000)
        dev.write(LOAD, 4, 10_000)
    assert machine.resets == 1 and dev.read(RIS, 4) == 0


def test_turning_the_interrupt_off_stops_the_count(machine):
    dev = wdog(machine)
    dev.write(LOAD, 4, 100_000)
    dev.write(CONTROL, 4, INTEN)
    run_cycles(machine, 10_000)
    dev.write(CONTROL, 4, 0)
    held = dev.read(VALUE, 4)
    run_cycles(machine, 200_000)
    assert dev.read(VALUE, 4) == held and dev.read(RIS, 4) == 0


def test_a_locked_watchdog_ignores_writes_until_the_key_unlocks_it(machine):
    dev = wdog(machine)
    dev.write(LOCK, 4, 0)
    assert dev.read(LOCK, 4) == 1
    dev.write(LOAD, 4, 1234)
    dev.write(CONTROL, 4, INTEN)
    assert (dev.read(LOAD, 4), dev.read(CONTROL, 4)) == (0xFFFF_FFFF, 0)
    dev.write(LOCK, 4, UNLOCK_KEY)
    dev.write(LOAD, 4, 1234)
    assert (dev.read(LOCK, 4), dev.read(LOAD, 4)) == (0, 1234)


def test_integration_test_mode_drives_the_outputs_from_itop():
    machine = machine_with(irq=9)
    dev = wdog(machine)
    dev.write(ITOP, 4, 3)
    assert machine.exception_state(16 + 9)["pending"] == 0
    dev.write(ITCR, 4, 1)
    dev.write(ITOP, 4, 2)
    assert machine.exception_state(16 + 9)["pending"] == 1
    dev.write(ITOP, 4, 1)
    run_cycles(machine, 1_000)
    assert (machine.resets, machine.reset_reason) == (2, "watchdog")

