"""The PAL test suite firmware and ``ota-emu pal-test``, run against the reference PALs, PALs
with a planted bug, and the skeleton PAL.

Every image is built from source at test time with firmware_images/pal.mk into a temporary
folder, so each build has its own freshly generated signing key.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emu import cli
from emu.pal_test import PalTestReport, parse_transcript, print_report, run_pal_test

from fixtures.build import have_compiler

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware_images"
SKELETON = "../pal_stubs/skeleton/ota_pal_skeleton.c"

CASES = [
    "close_valid_signature", "close_invalid_signature_with_block",
    "close_invalid_signature_no_block", "close_unknown_signer_cert", "create_any_file",
    "abort_open_file", "abort_file_with_block", "abort_null_handle", "abort_nonexistent_file",
    "write_single_byte", "write_many_blocks", "set_state_testing", "set_state_invalid",
    "set_state_unknown", "set_state_rejected", "set_state_aborted",
    "set_state_accepted_without_close", "get_state_after_failed_close", "activate_new_image",
]

# What each planted bug (pal_stubs/common/ota_pal_common.c, PAL_PLANTED_BUG) must break.
PLANTED = {
    # No erase before a write: every case that writes where an earlier, closed file left
    # its bytes (aborted files are erased by the abort, so the cases after them are safe).
    1: {"close_invalid_signature_with_block", "abort_file_with_block", "activate_new_image"},
    # The signature check's result is ignored: every close that must fail succeeds.
    2: {"close_invalid_signature_with_block", "close_invalid_signature_no_block",
        "get_state_after_failed_close"},
    # The image state forgets a rejected file: every state read after a refusal is wrong.
    3: {"set_state_rejected", "set_state_aborted", "get_state_after_failed_close"},
}


def build_pal_suite(out: Path, **make_vars: str) -> Path:
    """Build the suite with pal.mk into ``out`` and return that build folder."""
    if not have_compiler() or shutil.which("make") is None:
        pytest.skip("arm-none-eabi-gcc and make are needed to build the PAL test suite")
    command = ["make", "-C", str(FIRMWARE), "-f", "pal.mk", "-j4", f"BUILD={out}",
               f"PYTHON={sys.executable}", *(f"{k}={v}" for k, v in make_vars.items())]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pal.mk failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The suite on every board with its reference PAL."""
    return build_pal_suite(tmp_path_factory.mktemp("pal_reference"))


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """Suite images with a planted bug or the skeleton PAL, built on first use."""
    built: dict[tuple[str, str], Path] = {}

    def get(name: str, board: str = "ref") -> Path:
        if (name, board) not in built:
            extra = ({"PAL": SKELETON} if name == "skeleton"
                     else {"PAL_DEFS": f"-DPAL_PLANTED_BUG={name}"})
            out = tmp_path_factory.mktemp(f"pal_{name}_{board}")
            build_pal_suite(out, BOARD=board, CPU="m4f", **extra)
            built[(name, board)] = out / "m4f" / f"pal_test_{board}.elf"
        return built[(name, board)]

    return get


def failed_cases(report: PalTestReport) -> set[str]:
    return {case.name for case in report.cases if not case.passed}


# -- the reference PALs ----------------------------------------------------------------------

@pytest.mark.parametrize(("cpu", "board"), [("m4f", "ref"), ("m3", "ref"), ("m4f", "stm32f4")])
def test_reference_pal_passes_every_case_through_the_boot_model(reference, cpu, board):
    report = run_pal_test(reference / cpu / f"pal_test_{board}.elf")
    assert report.booted_by_model
    assert [c.name for c in report.cases] == CASES, report.transcript[-1500:]
    assert failed_cases(report) == set(), report.transcript[-1500:]
    assert report.summary == (19, 0) and report.ok


def test_suite_picks_the_board_it_was_built_for(reference):
    assert run_pal_test(reference / "m3" / "pal_test_ref.elf").board == "ref-m3"
    assert run_pal_test(reference / "m4f" / "pal_test_stm32f4.elf").board == "stm32f4"


def test_activation_resets_into_the_bootloader_which_refuses_the_non_image(reference):
    report = run_pal_test(reference / "m4f" / "pal_test_ref.elf")
    after = report.transcript.split("[boot] reset: software", 1)
    assert len(after) == 2, "the activation did not reset the board"
    assert "swap type: test" in after[1]
    assert "secondary slot: erased" in after[1]
    assert "PASS activate_new_image" in after[1]


def test_without_the_boot_model_a_software_reset_restarts_the_same_image(reference):
    report = run_pal_test(reference / "m4f" / "pal_test_ref.elf", boot_model=False)
    assert not report.booted_by_model
    assert "[boot]" not in report.transcript
    assert report.ok, report.transcript[-1500:]


# -- planted bugs and the skeleton -----------------------------------------------------------

@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_planted_bug_fails_exactly_the_cases_that_catch_it(variants, bug):
    report = run_pal_test(variants(str(bug)))
    assert failed_cases(report) == PLANTED[bug], report.transcript[-2000:]
    assert report.summary == (19 - len(PLANTED[bug]), len(PLANTED[bug]))
    assert not report.ok


def test_missing_erase_is_caught_on_the_stm32f4_where_the_flash_raises_no_flag(variants):
    report = run_pal_test(variants("1", "stm32f4"))
    assert failed_cases(report) == PLANTED[1]
    reasons = {c.reason for c in report.cases if not c.passed}
    assert all("otaPal_WriteBlock" in r and "returned -1" in r for r in reasons)


def test_skeleton_pal_fails_every_case_naming_the_missing_function(variants):
    report = run_pal_test(variants("skeleton"))
    assert [c.name for c in report.cases] == CASES
    assert failed_cases(report) == set(CASES)
    for case in report.cases:
        assert "OtaPalUninitialized" in case.reason, case.line()
        assert case.reason.startswith(("otaPal_CreateFileForRx returned 0xe0000002",
                                       "otaPal_Abort returned 0xe0000001")), case.line()
    assert report.summary == (0, 19)


# -- the command -----------------------------------------------------------------------------

def _pal_test_cli(*args: str) -> int:
    import emu.pal_test  # noqa: F401  (registers the command)

    return cli.main(["pal-test", *args])


def test_command_prints_one_line_per_case_then_the_summary_and_exits_0(reference, capsys):
    status = _pal_test_cli(str(reference / "m4f" / "pal_test_ref.elf"))
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines == [f"PASS {name}" for name in CASES] + ["19 passed, 0 failed"]


def test_command_exits_1_when_a_case_fails(variants, capsys):
    status = _pal_test_cli(str(variants("2")))
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL close_invalid_signature_no_block: otaPal_CloseFile returned" in out
    assert out.splitlines()[-1] == "16 passed, 3 failed"


def test_a_run_cut_short_counts_the_unreported_cases_as_failed(reference, capsys):
    status = _pal_test_cli(str(reference / "m4f" / "pal_test_stm32f4.elf"),
                           "--max-time", "1")
    captured = capsys.readouterr()
    passed = captured.out.count("PASS ")
    assert status == 1
    assert 0 < passed < 19
    assert captured.out.splitlines()[-1] == f"{passed} passed, {19 - passed} failed"
    assert "the suite did not finish: time" in captured.err


def test_command_exits_2_for_an_elf_that_is_not_the_suite(calls_elf, capsys):
    assert _pal_test_cli(str(calls_elf)) == 2
    assert "not a PAL test suite image (no symbol pal_test_signer_key)" in capsys.readouterr().err


def test_command_exits_2_for_an_unknown_board(reference, capsys):
    assert _pal_test_cli(str(reference / "m4f" / "pal_test_ref.elf"), "--board", "nope") == 2
    assert "no board named 'nope'" in capsys.readouterr().err


def test_transcript_parsing_skips_boot_lines_and_reads_the_plan_and_summary(reference):
    report = run_pal_test(reference / "m4f" / "pal_test_ref.elf")
    fresh = PalTestReport(report.board, report.run, "[boot] reset: power-on\n"
                          "PAL test suite: 2 cases, board ref, signer key slot 0\n"
                          "PASS one\n[boot] reset: software\nFAIL two: it broke: badly\n"
                          "1 passed, 1 failed\n", True)
    parse_transcript(fresh)
    assert fresh.planned == 2 and fresh.summary == (1, 1)
    assert [c.line() for c in fresh.cases] == ["PASS one", "FAIL two: it broke: badly"]
    assert fresh.complete and not fresh.ok


def test_report_printer_returns_1_for_an_incomplete_run(reference, capsys):
    report = run_pal_test(reference / "m4f" / "pal_test_ref.elf", max_seconds=0.001)
    assert print_report(report) == 1
    assert capsys.readouterr().out.splitlines()[-1].endswith(" failed")
