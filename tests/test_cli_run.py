"""`ota-emu run` as a user sees it: console on stdout, one verdict, the exit status."""

import pytest

from emu.cli import main

from fixtures.build import CORTEX_M3, build_elf, have_compiler


@pytest.fixture(scope="module")
def verdict_elf(tmp_path_factory):
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed")
    out = tmp_path_factory.mktemp("verdicts")

    def build(mode: int):
        return build_elf(out, f"mode{mode}", ["core/verdicts.c"], CORTEX_M3,
                         extra=(f"-DMODE={mode}", "-e", "reset"))

    return build


def run(capsys, *args):
    status = main(["run", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def test_semihosting_output_reaches_stdout_and_exit_code_decides(verdict_elf, capsys):
    status, out, err = run(capsys, verdict_elf(1))
    assert out == "hello from semihosting\n!"
    assert status == 1
    assert "exit: firmware exited with status 3" in err


def test_branch_to_self_is_a_hang(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(2))
    assert status == 1 and "hang:" in err


def test_wfi_with_nothing_to_wake_it_is_a_hang(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(3))
    assert status == 1 and "nothing can wake it" in err


def test_virtual_time_budget_ends_a_run_that_never_stops(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(4), "--max-time", "0.5")
    assert status == 1
    assert "virtual-time budget of 0.5 s used up" in err
    assert "virtual 0.500 s" in err


def test_unmapped_read_is_a_precise_bus_fault_naming_function_and_line(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(5))
    assert status == 1
    assert "PRECISERR" in err and "BFAR  0x60000000" in err
    assert "read_unmapped" in err and "verdicts.c:" in err


def test_unimplemented_peripheral_is_logged_once_and_reads_zero(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(6))
    assert status == 0
    assert err.count("0x40050000") == 1


def test_strict_mode_turns_unimplemented_access_into_a_bus_fault(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(6), "--strict")
    assert status == 1 and "IMPRECISERR" in err


def test_fault_in_hardfault_handler_is_a_lockup(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(7), "--faults", "deliver")
    assert status == 1 and "lockup" in err


def test_undefined_instruction_is_reported_as_usage_fault(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(8))
    assert status == 1
    assert "UNDEFINSTR" in err and "undefined" in err


@pytest.mark.parametrize("content", [b"", b"\x7fELF", b"not an elf at all" * 10])
def test_bad_elf_gives_one_line_and_status_2(tmp_path, capsys, content):
    bad = tmp_path / "bad.elf"
    bad.write_bytes(content)
    status, out, err = run(capsys, bad)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "bad.elf" in err
    assert "Traceback" not in err


def test_unknown_board_gives_one_line_and_status_2(verdict_elf, capsys):
    status, _, err = run(capsys, verdict_elf(1), "--board", "no-such-board")
    assert status == 2 and len(err.strip().splitlines()) == 1


def test_bad_option_gives_one_line_and_status_2(capsys):
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
