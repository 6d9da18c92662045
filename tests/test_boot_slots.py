"""The ``[slots]`` and ``[boot]`` tables of a board: what the reference boards declare, and
one clear line for each mistake in a board file."""

import copy

import pytest

from emu.board import load_board
from emu.boot import boot_config, has_boot_model, slot_map
from emu.errors import BoardError

from fixtures.boot import SMALL_BOARD


def board_with(**changes):
    board = load_board("ref-m4f")
    slots = copy.deepcopy(board.extra["slots"])
    slots.update(changes)
    board.extra["slots"] = slots
    return board


def test_the_reference_boards_split_their_flash_as_documented():
    for name in ("ref-m3", "ref-m4f"):
        slots = slot_map(load_board(name))
        assert [(a.offset, a.size) for a in (slots.bootloader, slots.primary, slots.secondary,
                                             slots.scratch)] == [
            (0, 0x2_0000), (0x2_0000, 0x1E_0000), (0x20_0000, 0x1E_0000), (0x3E_0000, 0x2_0000)]
        assert (slots.align, slots.max_sectors) == (4, 480)


def test_the_trusted_key_path_is_relative_to_the_board_file():
    config = boot_config(load_board("ref-m4f"))
    assert config.key.name == "dev-ec-p256.pem" and config.key.exists()
    assert (config.mode, config.header_size, config.downgrade_prevention) == (
        "model", 0x200, False)


def test_a_board_declares_whether_it_boots_through_the_model():
    assert has_boot_model(load_board("ref-m3"))
    assert has_boot_model(load_board(str(SMALL_BOARD)))
    board = load_board("ref-m3")
    del board.extra["slots"]
    assert not has_boot_model(board)


@pytest.mark.parametrize(("changes", "message"), [
    ({"flash": "sram"}, "memory 'sram' is ram, not flash"),
    ({"flash": "nor"}, "no memory named 'nor'"),
    ({"scratch": {"offset": 0x3E_0000}}, "scratch.size must be a non-negative integer"),
    ({"scratch": {"offset": 0x3F_0000, "size": 0x2_0000}}, "past the 0x400000 bytes"),
    ({"primary": {"offset": 0x2_0100, "size": 0x1E_0000}}, "not a sector boundary"),
    ({"secondary": {"offset": 0x1F_0000, "size": 0x1E_0000}}, "overlaps"),
    ({"secondary": {"offset": 0x20_0000, "size": 0x1D_0000}}, "the same sector layout"),
    ({"scratch": {"offset": 0x3E_0000, "size": 0x1000}}, "scratch (0x1000 bytes) must hold"),
    ({"max_sectors": 10}, "max_sectors must be an integer of at least 480"),
])
def test_each_mistake_in_the_slots_table_is_one_board_error(changes, message):
    with pytest.raises(BoardError) as caught:
        slot_map(board_with(**changes))
    text = str(caught.value)
    assert message in text and "\n" not in text and text.startswith("board ref-m4f")


def test_a_board_without_slots_says_so():
    board = load_board("ref-m4f")
    del board.extra["slots"]
    with pytest.raises(BoardError, match="has no \\[slots\\] table"):
        slot_map(board)


@pytest.mark.parametrize(("table", "message"), [
    ({"mode": "rom"}, "mode must be one of model, elf"),
    ({"header_size": 8}, "header_size must be an integer from 32"),
    ({"downgrade_prevention": "yes"}, "downgrade_prevention must be true or false"),
    ({"key": ""}, "key must be the path of a PEM file"),
])
def test_each_mistake_in_the_boot_table_is_one_board_error(table, message):
    board = load_board("ref-m4f")
    board.extra["boot"] = table
    with pytest.raises(BoardError, match=message):
        boot_config(board)
