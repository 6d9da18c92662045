"""Firmware ELF files: the loadable image, symbols, source lines and call-frame rules.

`load_elf` reads a 32-bit little-endian ARM executable (ELF for the Arm Architecture, AAELF)
and returns a `Firmware`. Every problem with the file is raised as one `ElfError` line that
starts with the file's name; anything pyelftools raises while parsing becomes "truncated or
malformed". Symbols are read at load time; the DWARF line table and call-frame information
are read on first use, because they can be large and a run that never faults never needs
them.
"""

import io
import struct
import zlib
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct.core import ConstructError
from elftools.dwarf.callframe import FDE
from elftools.dwarf.dwarfinfo import DWARFInfo
from elftools.elf.elffile import ELFFile

from emu.dwarf import FrameIndex, FrameRow, LineTable, line_rows
from emu.elf_attributes import CpuHints, read_cpu_hints
from emu.errors import ElfError

__all__ = ["CpuHints", "Firmware", "FrameRow", "Segment", "Symbol", "check_fits",
           "load_elf", "vector_table"]

# ELF header fields (System V ABI, "ELF Header"; AAELF section 5.2).
ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
ELF32_HEADER_SIZE = 52
EM_ARM = 40
MACHINE_NAMES = {
    3: "x86 (EM_386)",
    8: "MIPS (EM_MIPS)",
    40: "ARM (EM_ARM)",
    62: "x86-64 (EM_X86_64)",
    94: "Xtensa (EM_XTENSA)",
    183: "AArch64 (EM_AARCH64)",
    243: "RISC-V (EM_RISCV)",
}

# Program header flags (System V ABI, "Segment Flag Bits").
PF_X, PF_W, PF_R = 1, 2, 4

# No Cortex-M memory is this large; a segment that claims more is damage, not firmware.
MAX_SEGMENT_SIZE = 0x1000_0000

# What pyelftools raises when the bytes do not hold what the headers promise. Beyond its own
# exceptions it checks some DWARF fields with assert statements, follows a CIE pointer that
# leads back to its FDE until RecursionError, and meets values of the wrong type (TypeError,
# AttributeError) in damaged DWARF, as the corruption test in tests/test_elf.py shows. The
# blocks that catch these hold parsing steps only, so that a fault of ours is not dressed up
# as a damaged file.
PARSE_ERRORS = (
    ELFError, DWARFError, ConstructError, AssertionError, struct.error, zlib.error,
    IndexError, KeyError, ValueError, ZeroDivisionError, UnicodeDecodeError, EOFError,
    OverflowError, RecursionError, TypeError, AttributeError,
)


class Segment(NamedTuple):
    """A loadable segment: its bytes go to `load_addr`, the LMA (p_paddr)."""

    load_addr: int
    data: bytes
    flags: int

    @property
    def end(self) -> int:
        """The first address after the segment."""
        return self.load_addr + len(self.data)


class Symbol(NamedTuple):
    """A function or data object from the symbol table.

    Function addresses have the Thumb bit cleared (AAELF 5.5.3: bit 0 of a Thumb function's
    st_value marks the instruction set, it is not part of the address).
    """

    name: str
    address: int
    size: int
    kind: str  # "function" or "object"
    binding: str  # "global", "weak" or "local"


@dataclass(eq=False)
class Firmware:
    """A loaded firmware ELF; build it with `load_elf`."""

    path: Path
    entry: int
    cpu: CpuHints
    segments: list[Segment]
    symbols: list[Symbol]
    elf: ELFFile
    _functions: "_RangeIndex" = field(repr=False)
    _objects: "_RangeIndex" = field(repr=False)
    _mapping: "_MappingIndex" = field(repr=False)
    _lines: "LineTable | None" = field(default=None, repr=False)
    _frames: "FrameIndex | None" = field(default=None, repr=False)
    _dwarf: DWARFInfo | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The file's base name, which starts every error message about it."""
        return self.path.name

    def symbolize(self, addr: int) -> tuple[str, int] | None:
        """Name the function (or else the data object) holding `addr`, with the offset."""
        return self._functions.find(addr) or self._objects.find(addr)

    def function_at(self, addr: int) -> tuple[str, int] | None:
        """Name the function holding `addr`, with the offset; data objects are not looked at."""
        return self._functions.find(addr)

    def is_data(self, addr: int) -> bool:
        """Tell whether `addr` holds data, such as a literal pool, by the mapping symbols."""
        return self._mapping.is_data(addr)

    def symbol_address(self, name: str) -> int:
        """The address of the function or object `name`; a global wins over a local.

        Raises ElfError when no such symbol exists.
        """
        found = [s for s in self.symbols if s.name == name]
        if not found:
            raise ElfError(f"{self.name}: no symbol named {name!r}")
        found.sort(key=lambda s: _BINDING_RANK[s.binding])
        return found[0].address

    def line_for(self, addr: int) -> tuple[str, int] | None:
        """The source (file, line) of the instruction at `addr`, from the DWARF line table.

        The file is the full path as the line table records it, joined to the compilation
        directory as addr2line does. Raises ElfError if the debug information is damaged.
        """
        if self._lines is None:
            self._lines = self._parse("the line table", self._read_lines)
        return self._lines.find(addr)

    def frame_row(self, addr: int) -> FrameRow | None:
        """The call-frame rules (`.debug_frame`) at `addr`, or None where there are none."""
        if self._frames is None:
            self._frames = self._parse("the call-frame information", self._read_frames)
        return self._parse("the call-frame information", lambda: self._frames.find(addr))

    @property
    def has_frame_info(self) -> bool:
        """Tell whether the file carries DWARF call-frame information (`.debug_frame`)."""
        return self.elf.get_section_by_name(".debug_frame") is not None

    def read(self, addr: int, size: int) -> bytes | None:
        """The `size` bytes at `addr` as loaded, or None unless one segment holds them all."""
        for segment in self.segments:
            if segment.load_addr <= addr and addr + size <= segment.end:
                start = addr - segment.load_addr
                return segment.data[start:start + size]
        return None

    def _parse(self, what: str, step):
        """Run a lazy parsing step, turning pyelftools' failures into one ElfError line."""
        with _parsing(self.path, what):
            return step()

    def _dwarf_info(self) -> DWARFInfo | None:
        """The DWARF sections, or None when the file has neither lines nor frame rules."""
        if self._dwarf is None and (self.elf.has_dwarf_info() or self.has_frame_info):
            self._dwarf = self.elf.get_dwarf_info(follow_links=False)
        return self._dwarf

    def _read_lines(self) -> "LineTable":
        """Build the line table of every compilation unit (empty without DWARF)."""
        dwarf = self._dwarf_info()
        if dwarf is None or not self.elf.has_dwarf_info(strict=True):
            return LineTable([])
        starts = {f.address for f in self.symbols if f.kind == "function"}
        return LineTable(line_rows(dwarf, keep_zero=0 in starts))

    def _read_frames(self) -> "FrameIndex":
        """Index the FDEs of `.debug_frame` by the address ranges they cover."""
        dwarf = self._dwarf_info()
        if dwarf is None or not dwarf.has_CFI():
            return FrameIndex([])
        return FrameIndex([e for e in dwarf.CFI_entries() if isinstance(e, FDE)])


_BINDING_RANK = {"global": 0, "weak": 1, "local": 2}


@contextmanager
def _parsing(path: Path, what: str) -> Iterator[None]:
    """Turn a parse failure inside the block into ElfError("<name>: truncated or malformed")."""
    try:
        yield
    except PARSE_ERRORS as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ElfError(f"{path.name}: truncated or malformed ({what}: {detail})") from exc


def load_elf(path: str | Path) -> Firmware:
    """Load a firmware ELF: check it is one a Cortex-M board can run, read its image and symbols.

    Refused with ElfError: a path that is not a readable file, bad magic, a truncated or
    malformed file, a 64-bit ELF, a big-endian ELF, a machine other than EM_ARM, and a file
    without a PT_LOAD segment that has file contents.
    """
    path = Path(path)
    raw = _read_file(path)
    _check_identity(path, raw)

    with _parsing(path, "headers"):
        elf = ELFFile(io.BytesIO(raw))
        entry = elf["e_entry"]
        headers = [segment.header for segment in elf.iter_segments()]
    segments = _load_segments(path, raw, headers)

    with _parsing(path, "symbol table"):
        entries = _symbol_entries(elf)
    symbols = _symbols_of(entries)
    with _parsing(path, "build attributes"):
        cpu = read_cpu_hints(elf)

    functions = [s for s in symbols if s.kind == "function"]
    return Firmware(
        path=path,
        entry=entry,
        cpu=cpu,
        segments=segments,
        symbols=symbols,
        elf=elf,
        _functions=_RangeIndex.of_functions(functions, segments),
        _objects=_RangeIndex.of_objects([s for s in symbols if s.kind == "object"]),
        _mapping=_MappingIndex(entries),
    )


def _read_file(path: Path) -> bytes:
    """The whole file, or ElfError when it is missing, not a file or unreadable."""
    if not path.exists():
        raise ElfError(f"{path.name}: no such file ({path})")
    if not path.is_file():
        raise ElfError(f"{path.name}: not a regular file ({path})")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ElfError(f"{path.name}: cannot read the file ({exc.strerror})") from exc


def _check_identity(path: Path, raw: bytes) -> None:
    """Refuse anything but a 32-bit little-endian EM_ARM ELF, from e_ident and e_machine.

    Checked on the bytes before pyelftools sees them, so that a foreign file is named for
    what it is rather than reported as damaged (System V ABI, "ELF Identification").
    """
    name = path.name
    if raw[:4] != ELF_MAGIC:
        raise ElfError(f"{name}: not an ELF file (bad magic {raw[:4].hex() or 'in empty file'})")
    if len(raw) < 20:
        raise ElfError(f"{name}: truncated or malformed (ELF header cut at {len(raw)} bytes)")

    elf_class, data = raw[4], raw[5]
    if data not in (ELFDATA2LSB, ELFDATA2MSB) or elf_class not in (ELFCLASS32, ELFCLASS64):
        raise ElfError(f"{name}: truncated or malformed (EI_CLASS {elf_class}, EI_DATA {data})")
    order = "<" if data == ELFDATA2LSB else ">"
    machine = struct.unpack_from(order + "H", raw, 18)[0]
    machine_name = MACHINE_NAMES.get(machine, f"machine {machine}")

    if elf_class == ELFCLASS64:
        raise ElfError(f"{name}: 64-bit ELF for {machine_name}; the board runs 32-bit ARM code")
    if data == ELFDATA2MSB:
        raise ElfError(f"{name}: big-endian ELF; only little-endian Cortex-M code is supported")
    if machine != EM_ARM:
        raise ElfError(f"{name}: ELF for {machine_name}, not for ARM (EM_ARM)")
    if len(raw) < ELF32_HEADER_SIZE:
        raise ElfError(f"{name}: truncated or malformed (ELF header cut at {len(raw)} bytes)")


def _load_segments(path: Path, raw: bytes, headers: list) -> list[Segment]:
    """The PT_LOAD segments with file contents, at their LMA (p_paddr), sorted by address.

    The bytes past p_filesz up to p_memsz are zero-filled only when the segment runs where
    it is loaded (p_paddr == p_vaddr). When they differ, the tail is the .bss of a RAM
    segment whose initial values are copied from flash by the start-up code: the zeros
    belong in RAM, which that code clears, not after the copy in flash.
    """
    segments = []
    for header in headers:
        if header["p_type"] != "PT_LOAD" or header["p_filesz"] == 0:
            continue
        segments.append(_one_segment(path, raw, header))
    if not segments:
        raise ElfError(f"{path.name}: no loadable segment (no PT_LOAD with file contents)")
    return sorted(segments)


def _one_segment(path: Path, raw: bytes, header) -> Segment:
    """Cut one PT_LOAD segment out of the file, refusing one the file does not hold."""
    offset, filesz, memsz = header["p_offset"], header["p_filesz"], header["p_memsz"]
    load_addr = header["p_paddr"]
    described = f"segment at 0x{load_addr:08x}"
    if offset + filesz > len(raw):
        raise ElfError(f"{path.name}: truncated or malformed ({described} ends past the file)")
    if memsz > MAX_SEGMENT_SIZE or load_addr + max(memsz, filesz) > 1 << 32:
        raise ElfError(f"{path.name}: truncated or malformed ({described} claims {memsz} bytes)")

    data = raw[offset:offset + filesz]
    if header["p_paddr"] == header["p_vaddr"] and memsz > filesz:
        data += bytes(memsz - filesz)
    return Segment(load_addr, data, header["p_flags"])


def _symbol_entries(elf: ELFFile) -> list:
    """Every entry of `.symtab` (none when the file is stripped)."""
    table = elf.get_section_by_name(".symtab")
    if table is None or not hasattr(table, "iter_symbols"):
        return []
    return list(table.iter_symbols())


def _symbols_of(entries: list) -> list[Symbol]:
    """The defined functions and data objects, sorted by address."""
    symbols = []
    for entry in entries:
        kind = {"STT_FUNC": "function", "STT_OBJECT": "object"}.get(entry["st_info"]["type"])
        if kind is None or entry["st_shndx"] == "SHN_UNDEF" or not entry.name:
            continue
        address = entry["st_value"] & ~1 if kind == "function" else entry["st_value"]
        binding = _binding(entry["st_info"]["bind"])
        symbols.append(Symbol(entry.name, address, entry["st_size"], kind, binding))
    symbols.sort(key=lambda s: (s.address, _BINDING_RANK[s.binding], s.name))
    return symbols


def _binding(bind: str | int) -> str:
    """"global", "weak" or "local"; pyelftools gives a number for processor-specific values,
    which are read as local (System V ABI, "Symbol Binding")."""
    name = bind.removeprefix("STB_").lower() if isinstance(bind, str) else "local"
    return name if name in _BINDING_RANK else "local"


class _MappingIndex:
    """The mapping symbols, which mark where code and data start (AAELF 5.5.5).

    `$a` starts ARM code, `$t` Thumb code and `$d` data; a suffix such as `$d.7` may follow.
    """

    def __init__(self, entries: list) -> None:
        marks = []
        for entry in entries:
            kind = entry.name.split(".")[0]
            if kind in ("$a", "$t", "$d") and entry["st_shndx"] != "SHN_UNDEF":
                marks.append((entry["st_value"], kind == "$d"))
        marks.sort()
        self._starts = [address for address, _ in marks]
        self._data = [data for _, data in marks]

    def is_data(self, addr: int) -> bool:
        """Tell whether the last mapping symbol at or before `addr` is `$d`."""
        index = bisect_right(self._starts, addr) - 1
        return index >= 0 and self._data[index]


class _RangeIndex:
    """Sorted address ranges with names, searched by bisection."""

    def __init__(self, ranges: list[tuple[int, int, str]]) -> None:
        self._starts = [start for start, _, _ in ranges]
        self._ranges = ranges

    @classmethod
    def of_functions(cls, functions: list[Symbol], segments: list[Segment]) -> "_RangeIndex":
        """Functions cover st_size bytes; a size-0 function (assembly) runs to the next one.

        Aliases at one address (weak IRQ handlers sharing a default handler) keep the first
        name in (global, weak, local, alphabetical) order.
        """
        starts = sorted({f.address for f in functions})
        ranges, seen = [], set()
        for symbol in functions:
            if symbol.address in seen:
                continue
            seen.add(symbol.address)
            end = symbol.address + symbol.size
            if symbol.size == 0:
                end = _next_start(starts, symbol.address, segments)
            ranges.append((symbol.address, end, symbol.name))
        return cls(ranges)

    @classmethod
    def of_objects(cls, objects: list[Symbol]) -> "_RangeIndex":
        """Data objects cover st_size bytes (at least their first byte)."""
        ranges, seen = [], set()
        for symbol in objects:
            if symbol.address not in seen:
                seen.add(symbol.address)
                ranges.append((symbol.address, symbol.address + max(symbol.size, 1), symbol.name))
        return cls(ranges)

    def find(self, addr: int) -> tuple[str, int] | None:
        """(name, offset) of the range holding `addr`, or None."""
        index = bisect_right(self._starts, addr) - 1
        if index < 0:
            return None
        start, end, name = self._ranges[index]
        return (name, addr - start) if addr < end else None


def _next_start(starts: list[int], addr: int, segments: list[Segment]) -> int:
    """Where a size-0 function ends: the next function, or else the end of its segment."""
    index = bisect_right(starts, addr)
    if index < len(starts):
        return starts[index]
    holders = [s.end for s in segments if s.load_addr <= addr < s.end]
    return holders[0] if holders else addr + 1


def check_fits(firmware: Firmware, regions: list[tuple[str, int, int]]) -> None:
    """Refuse a loadable segment that does not lie wholly inside one memory region.

    `regions` holds (name, base, size) rows, such as the memories of a board.
    """
    for segment in firmware.segments:
        if any(base <= segment.load_addr and segment.end <= base + size
               for _, base, size in regions):
            continue
        known = ", ".join(f"{n} 0x{b:08x}-0x{b + s - 1:08x}" for n, b, s in regions) or "none"
        raise ElfError(
            f"{firmware.name}: segment 0x{segment.load_addr:08x}-0x{segment.end - 1:08x} "
            f"({len(segment.data)} bytes) is outside every memory region ({known})"
        )


def vector_table(firmware: Firmware, base: int) -> tuple[int, int]:
    """(initial SP, reset PC): the first two words of the vector table at `base`.

    ARMv7-M ARM B1.5.3: on reset the core loads SP_main from the table's word 0 and the PC
    (with the Thumb bit in bit 0) from word 1. The words are returned as stored.
    """
    words = firmware.read(base, 8)
    if words is None:
        raise ElfError(f"{firmware.name}: no vector table at 0x{base:08x} (no segment loads it)")
    initial_sp, reset_pc = struct.unpack("<II", words)
    return initial_sp, reset_pc
