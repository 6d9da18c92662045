"""Build and load the native exception core (``cmcore``).

The C sources ship with the package and are compiled on first use with the system C compiler
against the headers and library of the installed ``unicorn`` wheel, into a cache folder keyed
by a hash of the sources. ``make`` builds it ahead of time.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import unicorn

from emu.errors import EmuError

_SOURCES = ("cmcore.c", "exceptions.c", "scs.c", "systick.c", "cmcore.h", "scs.h")
_HERE = Path(__file__).resolve().parent

# Stop reasons, fault kinds and exception numbers shared with cmcore.h.
STOP_NONE, STOP_EVENT, STOP_FAULT, STOP_LOCKUP = 0, 1, 2, 3
STOP_BKPT, STOP_RESET, STOP_HANG, STOP_SLEEP, STOP_SLEEP_HANG = 4, 5, 6, 7, 8
FAULT_BUS_PRECISE, FAULT_BUS_IFETCH, FAULT_BUS_IMPRECISE = 1, 2, 3
FAULT_UNDEF, FAULT_MEM_DACC, FAULT_MEM_IACC, FAULT_UNALIGNED = 4, 5, 6, 7
FAULT_DEBUGEVT = 8
NEVER = (1 << 64) - 1


class NativeBuildError(EmuError):
    """The native core could not be compiled (no C compiler, or a compiler error)."""


class Access(ctypes.Structure):
    """One queued access to an unmodelled system address (``cm_access``)."""

    _fields_ = [
        ("addr", ctypes.c_uint32),
        ("value", ctypes.c_uint32),
        ("pc", ctypes.c_uint32),
        ("size", ctypes.c_uint8),
        ("is_write", ctypes.c_uint8),
    ]


def _unicorn_dirs() -> tuple[Path, Path]:
    root = Path(unicorn.__file__).resolve().parent
    return root / "include", root / "lib"


def _source_hash() -> str:
    h = hashlib.sha256()
    for name in _SOURCES:
        h.update((_HERE / name).read_bytes())
    h.update(str(_unicorn_dirs()[1]).encode())
    return h.hexdigest()[:16]


def _cache_dir() -> Path:
    override = os.environ.get("OTA_EMU_NATIVE_DIR")
    if override:
        return Path(override)
    local = _HERE / "_build"
    if os.access(_HERE, os.W_OK):
        return local
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ota-emu"


def library_path() -> Path:
    return _cache_dir() / f"libcmcore-{_source_hash()}.so"


def build(force: bool = False) -> Path:
    """Compile the native core if it is missing or stale; return the library path."""
    target = library_path()
    if target.exists() and not force:
        return target
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise NativeBuildError("no C compiler found (install gcc) to build the native core")
    include, lib = _unicorn_dirs()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    cmd = [
        compiler, "-O2", "-shared", "-fPIC", "-std=gnu11", "-Wall", "-Wextra",
        f"-I{include}", "-o", str(tmp),
        *(str(_HERE / n) for n in _SOURCES if n.endswith(".c")),
        f"-L{lib}", "-l:libunicorn.so.2", f"-Wl,-rpath,{lib}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["unknown error"])[0]
        raise NativeBuildError(f"building the native core failed: {first}")
    os.replace(tmp, target)
    return target


_lib: ctypes.CDLL | None = None


def _declare(lib: ctypes.CDLL) -> None:
    p, u32, u64, i32 = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int
    sigs = {
        "cm_create": (p, [p, i32, i32, i32, u32, u32, u32]),
        "cm_free": (None, [p]),
        "cm_reset": (i32, [p, u32]),
        "cm_set_deadlines": (None, [p, u64, u64]),
        "cm_now": (u64, [p]),
        "cm_instructions": (u64, [p]),
        "cm_exceptions_taken": (u64, [p]),
        "cm_set_policy": (None, [p, i32, i32]),
        "cm_take_stop_reason": (i32, [p]),
        "cm_pend": (None, [p, i32, i32]),
        "cm_exc_state": (None, [p, i32, ctypes.POINTER(ctypes.c_int32)]),
        "cm_fault_info": (None, [p, ctypes.POINTER(u32)]),
        "cm_fault": (None, [p, i32, u32]),
        "cm_sleep": (i32, [p, i32]),
        "cm_advance": (None, [p, u64]),
        "cm_drain_accesses": (i32, [p, ctypes.POINTER(Access), i32, ctypes.POINTER(i32)]),
        "cm_read_reg": (u32, [p, u32, ctypes.c_uint]),
        "cm_write_reg": (None, [p, u32, ctypes.c_uint, u32]),
        "cm_invalidate_counts": (None, [p]),
        "cm_invalidate_range": (None, [p, u32, u32]),
        "cm_resume_address": (u32, [p]),
        "cm_queued_accesses": (i32, [p]),
        "cm_add_divide_site": (i32, [p, u32]),
        "cm_add_wfi_site": (i32, [p, u32]),
        "cm_scs_reg_name": (ctypes.c_char_p, [i32, ctypes.POINTER(u32), ctypes.POINTER(i32)]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def load() -> ctypes.CDLL:
    """The loaded native core, built first if needed."""
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(str(build()))
        _declare(lib)
        _lib = lib
    return _lib


def uc_handle(uc: unicorn.Uc) -> int:
    """The ``uc_engine *`` behind a Python ``Uc`` object."""
    return ctypes.cast(uc._uch, ctypes.c_void_p).value  # noqa: SLF001


def scs_registers() -> list[tuple[str, int, int]]:
    """(name, address, word count) of every register of the native SCS table."""
    lib = load()
    out = []
    addr, count = ctypes.c_uint32(), ctypes.c_int32()
    k = 0
    while True:
        name = lib.cm_scs_reg_name(k, ctypes.byref(addr), ctypes.byref(count))
        if name is None:
            return out
        out.append((name.decode(), addr.value, count.value))
        k += 1
