"""The exception model as firmware sees it: order of handlers, preemption, masking.

The fixture `excmodel.c` logs which handlers ran and in what order; QEMU's mps2 machines are
the reference (the same ELF runs there unchanged).
"""

import pytest

from core_helpers import run_elf, run_qemu
from fixtures.build import CORTEX_M3, CORTEX_M4F, build_elf, have_compiler

EXPECTED = {
    "tail-chain": "123PT",   # equal priorities in IRQ-number order, PendSV last
    "preempt": "454T",       # a higher-priority IRQ pended by STIR runs before the next line
    "same-group": "667T",    # same group priority (PRIGROUP 6): no preemption
    "basepri": "a9b8c",      # BASEPRI masks 0x60 but not 0x20; lowering it takes IRQ 8 at once
    "svc": "TST",
}
BOARDS = {"ref-m3": CORTEX_M3, "ref-m4f": CORTEX_M4F}


@pytest.fixture(scope="module", params=sorted(BOARDS))
def excmodel(request, tmp_path_factory):
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed")
    board = request.param
    out = tmp_path_factory.mktemp(board)
    elf = build_elf(out, "excmodel", ["core/excmodel.c"], BOARDS[board], extra=("-e", "reset"))
    return board, elf


def _logs(transcript: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in transcript.splitlines() if ": " in line)


def test_handlers_run_in_architectural_order(excmodel):
    board, elf = excmodel
    result, transcript, _ = run_elf(elf, board)
    assert result.status == "exit" and result.exit_code == 0, result.message
    assert _logs(transcript) == EXPECTED


@pytest.mark.qemu
def test_handler_order_matches_qemu(excmodel):
    board, elf = excmodel
    _, transcript, _ = run_elf(elf, board)
    assert _logs(transcript) == _logs(run_qemu(elf, board))


def test_two_runs_give_identical_counts(excmodel):
    board, elf = excmodel
    first, text1, _ = run_elf(elf, board)
    second, text2, _ = run_elf(elf, board)
    assert text1 == text2
    assert (first.cycles, first.instructions, first.exceptions) == (
        second.cycles, second.instructions, second.exceptions)
