"""The flash file from the command line: ``run --flash`` keeps the flash between runs, and
``inspect`` shows the slots of a flash file with the board's layout."""

import subprocess
import sys

import pytest

from emu.board import load_board
from emu.boot import attach_boot, slot_image, slot_map, write_slot
from emu.cli import main
from emu.core.machine import Machine
from emu.flash import filestore
from emu.image.keys import generate_key, load_private_key, save_private_key

from fixtures.boot import DEV_KEY, END_EXIT, END_FAULT, ROOT, SMALL_BOARD, body, build_app
from fixtures.build import have_compiler

COUNTER = 0x0010_0000


@pytest.fixture(scope="module")
def counter_apps(tmp_path_factory):
    """An application at 0 that counts its boots in flash; one that then faults."""
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed: fixture ELFs are built at test time")
    out = tmp_path_factory.mktemp("counter")
    return {end: build_app(out, f"count{end}", slot=False, counter_addr=COUNTER, end=end)
            for end in (END_EXIT, END_FAULT)}


def run(elf, flash_file, capfd, board="ref-m3"):
    code = main(["run", str(elf), "--board", board, "--flash", str(flash_file),
                 "--max-time", "1"])
    return code, capfd.readouterr()


def test_the_flash_file_keeps_what_the_firmware_wrote_between_runs(counter_apps, tmp_path,
                                                                   capfd):
    flash_file = tmp_path / "flash.bin"
    code, first = run(counter_apps[END_EXIT], flash_file, capfd)
    assert code == 0 and "count=00000001" in first.out and flash_file.exists()
    code, second = run(counter_apps[END_EXIT], flash_file, capfd)
    assert code == 0 and "count=00000002" in second.out


def test_a_new_process_continues_from_the_flash_file(counter_apps, tmp_path, capfd):
    flash_file = tmp_path / "flash.bin"
    run(counter_apps[END_EXIT], flash_file, capfd)
    done = subprocess.run(
        [sys.executable, "-m", "emu", "run", str(counter_apps[END_EXIT]), "--board", "ref-m3",
         "--flash", str(flash_file)], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False)
    assert done.returncode == 0 and "count=00000002" in done.stdout


def test_the_flash_is_saved_when_the_run_ends_by_a_fault(counter_apps, tmp_path, capfd):
    flash_file = tmp_path / "flash.bin"
    code, _ = run(counter_apps[END_FAULT], flash_file, capfd)
    assert code == 1
    _, second = run(counter_apps[END_EXIT], flash_file, capfd)
    assert "count=00000002" in second.out


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda raw: b"NOTOURS!" + raw[8:], "not an ota-emu flash file"),
    (lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]), "damaged (SHA-256 checksum does not match)"),
    (lambda raw: raw[:1000], "truncated"),
])
def test_a_foreign_or_damaged_flash_file_is_refused_and_left_untouched(
        counter_apps, tmp_path, capfd, damage, reason):
    flash_file = tmp_path / "flash.bin"
    run(counter_apps[END_EXIT], flash_file, capfd)
    spoiled = damage(flash_file.read_bytes())
    flash_file.write_bytes(spoiled)
    code, out = run(counter_apps[END_EXIT], flash_file, capfd)
    assert code == 2 and out.err.count("\n") == 1 and reason in out.err
    assert flash_file.read_bytes() == spoiled


def test_a_flash_file_of_another_board_is_refused(counter_apps, tmp_path, capfd):
    flash_file = tmp_path / "flash.bin"
    run(counter_apps[END_EXIT], flash_file, capfd, board="ref-m3")
    code, out = run(counter_apps[END_EXIT], flash_file, capfd, board="ref-m4f")
    assert code == 2 and "saved for board 'ref-m3', not 'ref-m4f'" in out.err


def test_a_flash_file_in_a_missing_folder_is_a_usage_error(counter_apps, tmp_path, capfd):
    code, out = run(counter_apps[END_EXIT], tmp_path / "no" / "flash.bin", capfd)
    assert code == 2 and "the folder does not exist" in out.err


def flash_file_after_a_test_swap(path, key=None):
    """v1.0.0 confirmed and v1.1.0 pending, booted once: v1.1.0 runs under test."""
    machine = Machine(load_board("ref-m4f"))
    signer = key or load_private_key(DEV_KEY)
    attach_boot(machine, trusted_key=signer)
    slots = slot_map(machine.board)
    write_slot(machine, slots, "primary",
               slot_image(body(slots, 900, 1), signer, "1.0.0", slots, confirm=True))
    write_slot(machine, slots, "secondary", slot_image(body(slots, 1200, 2), signer, "1.1.0",
                                                       slots))
    machine.reset()
    filestore.save(path, "ref-m4f", list(machine.flash.values()))


def test_inspect_shows_the_slots_of_a_flash_file(tmp_path, capsys):
    flash_file = tmp_path / "flash.bin"
    flash_file_after_a_test_swap(flash_file)
    assert main(["inspect", str(flash_file)]) == 0
    text = capsys.readouterr().out
    assert "  primary slot at 0x00020000 (0x1e0000 bytes):" in text
    assert "    image: v1.1.0, " in text and "    image: v1.0.0, " in text
    assert text.count("verdict: hash and signature ok") == 2
    assert ("    trailer: magic good, image_ok unset, copy_done set, swap type test, swap "
            "size ") in text
    assert "    state: pending commit: a test image, reverted at the next reset" in text
    assert "  next reset: swap type revert" in text


def test_inspect_checks_signatures_with_the_key_given(tmp_path, capsys):
    flash_file = tmp_path / "flash.bin"
    flash_file_after_a_test_swap(flash_file)
    stranger = tmp_path / "stranger.pem"
    save_private_key(generate_key(), stranger)
    assert main(["inspect", str(flash_file), "--key", str(stranger)]) == 0
    assert capsys.readouterr().out.count("verdict: FAILED: key hash does not match") == 2


def test_inspect_refuses_a_damaged_flash_file_with_one_line(tmp_path, capsys):
    flash_file = tmp_path / "flash.bin"
    flash_file_after_a_test_swap(flash_file)
    raw = flash_file.read_bytes()
    flash_file.write_bytes(raw[:-5] + b"\x00" * 5)
    assert main(["inspect", str(flash_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged" in err


def test_inspect_refuses_a_board_whose_flash_does_not_match_the_file(tmp_path, capsys):
    flash_file = tmp_path / "flash.bin"
    flash_file_after_a_test_swap(flash_file)
    assert main(["inspect", str(flash_file), "--board", str(SMALL_BOARD)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not match board boot-small" in err
