"""The flash file: round trip, crash-safe saving, and refusal of foreign or damaged files."""

import os
from pathlib import Path

import pytest

from emu.errors import FlashFileError
from emu.flash import FlashArray, FlashLayout, filestore, stm32f4_layout

BOARD = "ref-m3"


def arrays() -> list[FlashArray]:
    code = FlashArray(FlashLayout.uniform("flash", 0x0, 4096, 8, 8))
    data = FlashArray(FlashLayout.from_runs("data", 0x6000_0000, [(2, 1024), (1, 2048)], 4))
    code.program(0, b"firmware")
    data.program(1024, b"cfg!")
    return [code, data]


def saved(tmp_path) -> Path:
    path = tmp_path / "board.flash"
    filestore.save(path, BOARD, arrays())
    return path


def test_saved_contents_load_back_into_fresh_arrays(tmp_path):
    path = saved(tmp_path)
    fresh = [FlashArray(a.layout) for a in arrays()]
    filestore.load(path, BOARD, fresh)
    assert fresh[0].read(0, 8) == b"firmware" and fresh[0].read(8, 8) == b"\xff" * 8
    assert fresh[1].read(1024, 4) == b"cfg!"


def test_save_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    path = saved(tmp_path)
    two = arrays()
    two[0].erase_sector(0)
    filestore.save(path, BOARD, two)
    assert sorted(os.listdir(tmp_path)) == ["board.flash"]
    fresh = [FlashArray(a.layout) for a in two]
    filestore.load(path, BOARD, fresh)
    assert fresh[0].read(0, 8) == b"\xff" * 8


def test_a_save_that_fails_before_the_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = saved(tmp_path)
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(filestore.os, "replace", crash)
    with pytest.raises(OSError):
        filestore.save(path, BOARD, [FlashArray(a.layout) for a in arrays()])
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["board.flash"]


def refused(path, expected: str, board: str = BOARD, targets=None) -> None:
    """Loading must fail with ``expected`` and leave both the file and the arrays alone."""
    before = path.read_bytes()
    stamp = os.stat(path).st_mtime_ns
    targets = targets if targets is not None else [FlashArray(a.layout) for a in arrays()]
    with pytest.raises(FlashFileError, match=expected) as e:
        filestore.load(path, board, targets)
    assert "\n" not in str(e.value)
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == stamp
    assert all(t.read(0, t.size) == b"\xff" * t.size for t in targets)


def test_a_foreign_file_is_refused_by_its_magic(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, this is not flash\n" * 4)
    refused(path, "not an ota-emu flash file")


def test_a_damaged_file_is_refused_by_its_checksum(tmp_path):
    path = saved(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(raw)
    refused(path, "checksum")


def test_a_truncated_file_is_refused(tmp_path):
    path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])
    refused(path, r"truncated \(\d+ of \d+ bytes\)")


def test_a_file_cut_inside_its_header_is_refused(tmp_path):
    path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[:12])
    refused(path, "truncated")


def test_a_file_of_another_board_is_refused(tmp_path):
    refused(saved(tmp_path), "saved for board 'ref-m3', not 'stm32f407'", board="stm32f407")


def test_a_file_whose_layout_differs_from_the_board_is_refused(tmp_path):
    path = saved(tmp_path)
    other = [FlashArray(FlashLayout.uniform("flash", 0x0, 2048, 16, 8)),
             FlashArray(arrays()[1].layout)]
    refused(path, "region 'flash' does not match the board", targets=other)


def test_a_file_with_a_missing_region_is_refused(tmp_path):
    path = saved(tmp_path)
    refused(path, "holds 2 flash regions", targets=[FlashArray(stm32f4_layout())])


def test_a_missing_file_is_reported_in_one_line(tmp_path):
    with pytest.raises(FlashFileError, match="cannot read"):
        filestore.load(tmp_path / "absent.flash", BOARD, arrays())


def test_describe_names_the_board_and_regions(tmp_path):
    text = filestore.describe(saved(tmp_path))
    assert "board: ref-m3" in text
    assert "flash at 0x00000000: 8x4K, program unit 8 B" in text
    assert "data at 0x60000000: 2x1K, 1x2K" in text
