"""The bundled firmware images on both reference boards: transcripts, faults, determinism.

Golden transcripts in firmware_images/expected/<cpu>/ were recorded under QEMU's mps2 machines;
the same ELF must print the same lines under ota-emu.
"""

import re
from pathlib import Path

import pytest

from core_helpers import ROOT, image, run_elf, run_qemu

CPUS = {"m3": "ref-m3", "m4f": "ref-m4f"}
EXPECTED = ROOT / "firmware_images" / "expected"
SOURCES = ROOT / "firmware_images" / "images"
PASSING = ["rtos_demo", "test_sched", "test_irq", "test_fp", "bench_cpu", "bench_rtos"]
FAULTS = {
    "fault_badptr": ("BusFault", "PRECISERR"),
    "fault_undef": ("UsageFault", "UNDEFINSTR"),
    "fault_div0": ("UsageFault", "DIVBYZERO"),
    "fault_stack": ("BusFault", "STKERR"),
}


def _cases(names):
    return [(n, c) for n in names for c in CPUS if not (n == "test_fp" and c == "m3")]


@pytest.mark.parametrize(("name", "cpu"), _cases(PASSING))
def test_image_runs_to_a_clean_exit(name, cpu):
    result, transcript, _ = run_elf(image(cpu, name), CPUS[cpu], max_seconds=120)
    assert result.status == "exit" and result.exit_code == 0, result.message + transcript[-400:]
    golden = EXPECTED / cpu / f"{name}.txt"
    if golden.exists():
        assert transcript == golden.read_text()


@pytest.mark.qemu
@pytest.mark.parametrize(("name", "cpu"), [(n, c) for n, c in _cases(["bench_cpu", "test_irq"])])
def test_cpu_only_image_prints_what_qemu_prints(name, cpu):
    elf = image(cpu, name)
    _, transcript, _ = run_elf(elf, CPUS[cpu], max_seconds=120)
    assert transcript == run_qemu(elf, CPUS[cpu], timeout=120)


def _fault_line(name: str) -> tuple[str, int]:
    for source in sorted((SOURCES / name).glob("*.c")):
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            if "FAULT-HERE" in line:
                return source.name, number
    pytest.fail(f"no FAULT-HERE marker in {SOURCES / name}")


@pytest.mark.parametrize(("name", "cpu"), _cases(FAULTS))
def test_fault_image_reports_fault_function_and_line(name, cpu):
    result, _, _ = run_elf(image(cpu, name), CPUS[cpu])
    assert result.status == "fault", result.message
    kind, bit = FAULTS[name]
    source, line = _fault_line(name)
    report = result.report
    assert bit in report
    assert kind in report.splitlines()[0] or f"{kind}" in report
    assert f"{source}:{line}" in report.split("Backtrace:")[0], report


@pytest.mark.parametrize("cpu", sorted(CPUS))
def test_rtos_image_is_deterministic(cpu):
    elf = image(cpu, "rtos_demo")
    first, text1, _ = run_elf(elf, CPUS[cpu])
    second, text2, _ = run_elf(elf, CPUS[cpu])
    assert text1 == text2
    assert (first.cycles, first.instructions, first.exceptions) == (
        second.cycles, second.instructions, second.exceptions)
    assert re.search(r"rtos_demo: done", text1)


def test_expected_files_name_built_images():
    for golden in EXPECTED.glob("*/*.txt"):
        assert (SOURCES / golden.stem).is_dir() or Path(golden).stem in PASSING, golden
