"""NVIC, SCB and SysTick driven through their registers, on a bare machine."""

import logging
from pathlib import Path

import pytest

from emu.board import load_board
from emu.core.machine import Machine

ICSR, VTOR, AIRCR, SHPR3, SHCSR, CFSR = (0xE000ED04, 0xE000ED08, 0xE000ED0C, 0xE000ED20,
                                         0xE000ED24, 0xE000ED28)
SYST_CSR, SYST_RVR, SYST_CVR, SYST_CALIB = 0xE000E010, 0xE000E014, 0xE000E018, 0xE000E01C
ISER0, ICER0, ISPR0, ICPR0, IPR0, STIR = (0xE000E100, 0xE000E180, 0xE000E200, 0xE000E280,
                                          0xE000E400, 0xE000EF00)


@pytest.fixture(params=["ref-m3", "ref-m4f"])
def machine(request):
    m = Machine(load_board(request.param))
    yield m
    m.close()


def test_priority_byte_keeps_only_implemented_bits(machine):
    machine.scs_write(IPR0, 0xFF, size=1)
    assert machine.scs_read(IPR0, 1) == 0xE0  # three priority bits, as the board says
    machine.scs_write(IPR0 + 1, 0x5F, size=1)
    assert machine.scs_read(IPR0) == 0x40E0


def test_stir_ispr_and_icpr_set_and_clear_pending(machine):
    machine.scs_write(STIR, 3)
    assert machine.scs_read(ISPR0) == 1 << 3
    machine.scs_write(ISPR0, 1 << 5)
    assert machine.scs_read(ISPR0) == (1 << 3) | (1 << 5)
    machine.scs_write(ICPR0, 1 << 3)
    assert machine.scs_read(ISPR0) == 1 << 5


def test_iser_and_icer_enable_and_disable(machine):
    machine.scs_write(ISER0, 0b1011)
    machine.scs_write(ICER0, 0b0010)
    assert machine.scs_read(ISER0) == 0b1001
    assert machine.exception_state(16 + 3)["enabled"] == 1


def test_icsr_shows_pending_pendsv_and_vectpending(machine):
    machine.scs_write(ICSR, 1 << 28)
    icsr = machine.scs_read(ICSR)
    assert icsr & (1 << 28)
    assert (icsr >> 12) & 0x1FF == 14
    machine.scs_write(ICSR, 1 << 27)
    assert not machine.scs_read(ICSR) & (1 << 28)


def test_vectpending_names_highest_priority_enabled_irq(machine):
    machine.scs_write(ISER0, 0b110)
    machine.scs_write(IPR0, 0x00_40_80_00)  # IRQ1 0x80, IRQ2 0x40
    machine.scs_write(ISPR0, 0b110)
    assert (machine.scs_read(ICSR) >> 12) & 0x1FF == 16 + 2
    assert machine.scs_read(ICSR) & (1 << 22)  # ISRPENDING


def test_aircr_ignores_writes_without_vectkey(machine):
    machine.scs_write(AIRCR, 5 << 8)
    assert machine.scs_read(AIRCR) == 0xFA050000
    machine.scs_write(AIRCR, 0x05FA0000 | (5 << 8))
    assert machine.scs_read(AIRCR) == 0xFA050000 | (5 << 8)


def test_vtor_ignores_low_seven_bits(machine):
    machine.scs_write(VTOR, 0x0001_23FF)
    assert machine.scs_read(VTOR) == 0x0001_2380


def test_shpr3_holds_pendsv_and_systick_priorities(machine):
    machine.scs_write(SHPR3, 0xFFFF_FFFF)
    assert machine.scs_read(SHPR3) == 0xE0E0_0000
    assert machine.exception_state(14)["priority"] == 0xE0


def test_cfsr_bits_clear_by_writing_one(machine):
    machine.scs_write(SHCSR, 1 << 18)
    assert machine.scs_read(SHCSR) == 1 << 18
    machine._lib.cm_fault(machine.cm, 4, 0)  # an undefined instruction, reported natively
    assert machine.scs_read(CFSR) & (1 << 16)
    machine.scs_write(CFSR + 2, 1, size=1)  # byte write to UFSR
    assert not machine.scs_read(CFSR) & (1 << 16)


def test_cpuid_names_the_core(machine):
    cpuid = machine.scs_read(0xE000ED00)
    assert cpuid == (0x410FC241 if machine.board.has_fpu else 0x412FC231)


def test_systick_counts_down_in_step_with_virtual_time(machine):
    machine.scs_write(SYST_RVR, 999)
    machine.scs_write(SYST_CVR, 0)
    machine.scs_write(SYST_CSR, 0b101)  # processor clock, no interrupt
    machine._lib.cm_advance(machine.cm, 1000)  # the reload step, then 999 counts
    assert machine.scs_read(SYST_CVR) == 0
    assert machine.scs_read(SYST_CSR) & (1 << 16)  # COUNTFLAG at the 1 -> 0 step
    assert not machine.scs_read(SYST_CSR) & (1 << 16)  # and reading cleared it
    machine._lib.cm_advance(machine.cm, 250)
    assert machine.scs_read(SYST_CVR) == 750


def test_writing_cvr_clears_counter_and_countflag(machine):
    machine.scs_write(SYST_RVR, 99)
    machine.scs_write(SYST_CSR, 0b101)
    machine._lib.cm_advance(machine.cm, 150)
    machine.scs_write(SYST_CVR, 1234)
    assert not machine.scs_read(SYST_CSR) & (1 << 16)
    machine._lib.cm_advance(machine.cm, 10)
    assert machine.scs_read(SYST_CVR) == 90


def test_systick_pends_its_exception_when_tickint_is_set(machine):
    machine.scs_write(SYST_RVR, 9)
    machine.scs_write(SYST_CSR, 0b111)
    machine._lib.cm_advance(machine.cm, 10)
    assert machine.scs_read(ICSR) & (1 << 26)  # PENDSTSET


def test_calib_reports_no_reference_clock(machine):
    calib = machine.scs_read(SYST_CALIB)
    assert calib >> 31 == 1  # NOREF: the board has no external reference clock
    assert calib & 0xFFFFFF == 25_000_000 // 100 - 1


def test_unmodelled_system_register_is_logged_once(machine, caplog):
    with caplog.at_level(logging.WARNING, logger="emu"):
        for _ in range(3):
            machine.scs_read(0xE000ED80)
        machine._drain_accesses()
    lines = [r for r in caplog.records if "0xe000ed80" in r.getMessage()]
    assert len(lines) == 1


def test_annotated_example_board_loads_with_every_key():
    board = load_board(Path(__file__).resolve().parent.parent / "emu" / "boards"
                       / "annotated-example.toml")
    m = Machine(board)
    assert sorted(m.peripherals) == ["crypto", "flashc", "net", "sysctl", "uart0", "watchdog"]
    assert m.flash["flash"].program_unit == 4
    m.close()


def test_dwt_cyccnt_counts_virtual_cycles_once_enabled(machine):
    demcr, dwt_ctrl, cyccnt = 0xE000EDFC, 0xE0001000, 0xE0001004
    machine._lib.cm_advance(machine.cm, 500)
    assert machine.scs_read(cyccnt) == 0  # TRCENA and CYCCNTENA are off out of reset
    machine.scs_write(demcr, 1 << 24)
    machine.scs_write(dwt_ctrl, machine.scs_read(dwt_ctrl) | 1)
    machine._lib.cm_advance(machine.cm, 1234)
    assert machine.scs_read(cyccnt) == 1234
    machine.scs_write(cyccnt, 10)
    machine._lib.cm_advance(machine.cm, 5)
    assert machine.scs_read(cyccnt) == 15


def test_fp_context_registers_exist_only_with_an_fpu(machine):
    fpccr = machine.scs_read(0xE000EF34)
    if machine.board.has_fpu:
        assert fpccr == 0xC0000000  # ASPEN and LSPEN set out of reset
        machine.scs_write(0xE000ED88, 0xF << 20)
        assert machine.scs_read(0xE000ED88) == 0xF << 20  # CP10/CP11 full access
    else:
        assert fpccr == 0 and machine.scs_read(0xE000ED88) == 0
