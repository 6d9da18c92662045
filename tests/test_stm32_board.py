"""The stm32f4 board file: its memories, devices and slots, and an image booted on it."""

from __future__ import annotations

import logging

import pytest
from test_pal_suite import build_pal_suite

import emu.periph.stm32_usart  # noqa: F401  (the board's console model)
from emu.board import load_board
from emu.boot import boot_config, slot_map
from emu.core.machine import Machine
from emu.flash.layout import stm32f4_layout
from emu.pal_test import run_pal_test

KIB = 1024


@pytest.fixture(scope="module")
def board():
    return load_board("stm32f4")


@pytest.fixture(scope="module")
def suite_elf(tmp_path_factory):
    out = build_pal_suite(tmp_path_factory.mktemp("pal_stm32f4"), BOARD="stm32f4")
    return out / "m4f" / "pal_test_stm32f4.elf"


def test_board_is_a_cortex_m4f_at_16_mhz_with_82_lines_and_4_priority_bits(board):
    assert (board.cpu, board.clock_hz, board.systick_ref_hz) == ("cortex-m4f", 16_000_000,
                                                                 2_000_000)
    assert (board.irqs, board.priority_bits) == (82, 4)


def test_flash_has_the_rm0090_sector_table_and_a_one_byte_program_unit(board):
    flash = board.memory("flash")
    reference = stm32f4_layout()
    assert (flash.base, flash.size) == (0x0800_0000, 1024 * KIB)
    assert flash.sectors == reference.runs == ((4, 16 * KIB), (1, 64 * KIB), (7, 128 * KIB))
    assert flash.program_unit == 1


def test_ram_is_128_kib_of_sram_and_64_kib_of_ccm(board):
    assert (board.memory("sram").base, board.memory("sram").size) == (0x2000_0000, 128 * KIB)
    assert (board.memory("ccm").base, board.memory("ccm").size) == (0x1000_0000, 64 * KIB)


def test_devices_sit_at_their_rm0090_addresses_and_the_stand_ins_at_the_reference_ones(board):
    where = {p["name"]: (p["type"], p["base"]) for p in board.peripherals}
    assert where == {
        "usart2": ("stm32-usart", 0x4000_4400),
        "flashc": ("stm32f4-flash", 0x4002_3C00),
        "sysctl": ("ref-sysctl", 0x4002_1000),
        "crypto": ("crypto-engine", 0x4004_0000),
    }
    ref = {p["name"]: p["base"] for p in load_board("ref-m4f").peripherals}
    assert ref["sysctl"] == where["sysctl"][1] and ref["crypto"] == where["crypto"][1]


def test_slots_cut_the_flash_at_sectors_5_8_and_11(board):
    slots = slot_map(board)
    assert slots.address(slots.primary) == 0x0802_0000
    assert slots.address(slots.secondary) == 0x0808_0000
    assert slots.address(slots.scratch) == 0x080E_0000
    assert slots.primary.size == slots.secondary.size == 384 * KIB
    assert (slots.align, slots.max_sectors) == (1, 3)
    assert boot_config(board).mode == "model"


def test_every_device_of_the_board_builds_and_the_rest_is_unimplemented(board, caplog):
    machine = Machine(board)
    try:
        assert set(machine.peripherals) == {"usart2", "flashc", "sysctl", "crypto"}
        with caplog.at_level(logging.WARNING, logger="emu"):
            assert machine.uc.mem_read(0x4002_3800, 4) == b"\0\0\0\0"  # RCC
        assert "unmodelled peripherals: read of 4 bytes at 0x40023800" in caplog.text
    finally:
        machine.close()


def test_the_boot_model_boots_an_image_from_the_primary_slot(suite_elf):
    report = run_pal_test(suite_elf, max_seconds=1)
    boot, _, rest = report.transcript.partition("[boot] booting primary v1.0.0 "
                                                "(vector table 0x08020200)\n")
    assert "[boot] reset: power-on" in boot
    assert rest.startswith("PAL test suite: 19 cases, board stm32f4")


def test_an_image_also_boots_directly_without_a_flash_alias_at_0(suite_elf):
    report = run_pal_test(suite_elf, boot_model=False)
    assert report.board == "stm32f4"
    assert report.ok, report.transcript[-1500:]
