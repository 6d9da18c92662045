"""Shared fixtures: firmware ELFs compiled from tests/fixtures at test time."""

from pathlib import Path

import pytest

from fixtures.build import CORTEX_M4F, FIXTURES, build_elf, have_compiler

CALLS_SOURCES = ["vectors.c", "calls.c", "spin.S"]


def _need_compiler() -> None:
    """Skip the calling test when the fixtures cannot be built."""
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed: fixture ELFs are built at test time")


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The folder of the fixture sources."""
    return FIXTURES


@pytest.fixture(scope="session")
def calls_elf(tmp_path_factory) -> Path:
    """Cortex-M3 firmware where main calls level_a, which calls level_b, which faults."""
    _need_compiler()
    return build_elf(tmp_path_factory.mktemp("calls"), "calls", CALLS_SOURCES)


@pytest.fixture(scope="session")
def calls_m4f_elf(tmp_path_factory) -> Path:
    """The same firmware built for a Cortex-M4 with its single-precision FPU."""
    _need_compiler()
    return build_elf(tmp_path_factory.mktemp("m4f"), "calls_m4f", CALLS_SOURCES, CORTEX_M4F)


@pytest.fixture(scope="session")
def calls_nodebug_elf(tmp_path_factory) -> Path:
    """The same firmware without debug information: symbols but no lines or frame rules."""
    _need_compiler()
    out = tmp_path_factory.mktemp("nodebug")
    return build_elf(out, "calls_nodebug", CALLS_SOURCES, extra=("-g0",))
