"""Compile the OTA agent's C sources with the host compiler into small test programs.

The programs are built once per test session in a temporary folder, with the warnings of the
firmware build turned into errors, and with AddressSanitizer and UndefinedBehaviorSanitizer
when the compiler has them, so that a parser reading past its buffer fails the test that fed it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

HOST_DIR = Path(__file__).resolve().parent
ROOT = HOST_DIR.parent.parent
OTA_DIR = ROOT / "firmware_images" / "ota"
PAL_DIR = ROOT / "pal_stubs"
NET_DIR = ROOT / "firmware_images" / "drivers"

# The parts of the agent that need no kernel, network or PAL.
PURE_SOURCES = ("ota_json.c", "ota_cbor.c", "ota_base64.c", "ota_bitmap.c", "ota_jobdoc.c",
                "ota_text.c", "ota_status.c")
# The state machine, which reaches the network, the PAL and the clock through seams.
AGENT_SOURCES = (*PURE_SOURCES, "ota_agent.c", "ota_download.c", "ota_selftest.c")

WARNINGS = ("-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1")
SANITIZERS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
              "-fno-omit-frame-pointer")


def host_compiler() -> str:
    """The host C compiler; skips the calling test when there is none."""
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no host C compiler (cc, gcc or clang) is installed")


@functools.cache
def _sanitizers_work(compiler: str, scratch: Path) -> bool:
    """Tell whether the compiler can build and run a sanitized program."""
    src = scratch / "probe.c"
    exe = scratch / "probe"
    src.write_text("int main(void) { return 0; }\n")
    built = subprocess.run([compiler, *SANITIZERS, str(src), "-o", str(exe)],
                           capture_output=True, check=False)
    return built.returncode == 0 and subprocess.run([str(exe)], check=False).returncode == 0


def build_program(out_dir: Path, name: str, driver: str, agent_sources: tuple[str, ...],
                  extra: tuple[str, ...] = ()) -> Path:
    """Compile ``driver`` (a file of this folder) with ``agent_sources`` (files of
    firmware_images/ota) into ``out_dir/name``. A failed build raises RuntimeError with the
    compiler's messages."""
    compiler = host_compiler()
    exe = out_dir / name
    flags = list(WARNINGS)
    if _sanitizers_work(compiler, out_dir):
        flags += SANITIZERS
    command = [compiler, *flags, *extra, f"-I{OTA_DIR}", f"-I{PAL_DIR}", f"-I{NET_DIR}",
               f"-I{HOST_DIR}", str(HOST_DIR / driver),
               *(str(OTA_DIR / src) for src in agent_sources), "-o", str(exe)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"host build of {name} failed:\n{done.stderr}")
    return exe
