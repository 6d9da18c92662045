"""Firmware ELF files: the loadable image, symbols, source lines and call-frame rules.

`load_elf` reads a 32-bit little-endian ARM executable (ELF for the Arm Architecture, AAELF)
and returns a `Firmware`. Every problem with the file is raised as one `ElfError` line that
starts with the file's name; anything pyelftools raises while parsing becomes "truncated or
malformed". Symbols are read at load time; the DWARF line table and call-frame information
are read on first use, because they can be large and a run that never faults never needs
them.
"""

import io
import posixpath
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

from emu.errors import ElfError

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


class CpuHints(NamedTuple):
    """What the build attributes say about the target (Arm ABI addenda, build attributes).

    Every field is None when the file has no `.ARM.attributes` section or lacks the tag.
    """

    name: str | None = None  # Tag_CPU_name, such as "7E-M" or "cortex-m4"
    arch: str | None = None  # Tag_CPU_arch, such as "v7-M"
    fp_arch: str | None = None  # Tag_FP_arch, such as "VFPv4-D16"
    vfp_args: bool = False  # Tag_ABI_VFP_args: arguments passed in FP registers

    @property
    def has_fpu(self) -> bool:
        """Tell whether the code was built to use a floating-point unit."""
        return self.fp_arch is not None


class FrameRow(NamedTuple):
    """The call-frame rules in force at one address (DWARF 5, section 6.4.1).

    `cfa` is (register, offset), or None when the CFA is a DWARF expression. `rules` maps a
    register number to (rule type, argument) with the types of pyelftools' RegisterRule
    ("OFFSET", "VAL_OFFSET", "REGISTER", "SAME_VALUE", "UNDEFINED", ...).
    """

    cfa: tuple[int, int] | None
    rules: dict[int, tuple[str, int | None]]
    return_register: int


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
    _lines: "_LineTable | None" = field(default=None, repr=False)
    _frames: "_FrameIndex | None" = field(default=None, repr=False)
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

    def _read_lines(self) -> "_LineTable":
        """Build the line table of every compilation unit (empty without DWARF)."""
        dwarf = self._dwarf_info()
        if dwarf is None or not self.elf.has_dwarf_info(strict=True):
            return _LineTable([])
        starts = {f.address for f in self.symbols if f.kind == "function"}
        return _LineTable(_line_rows(dwarf, keep_zero=0 in starts))

    def _read_frames(self) -> "_FrameIndex":
        """Index the FDEs of `.debug_frame` by the address ranges they cover."""
        dwarf = self._dwarf_info()
        if dwarf is None or not dwarf.has_CFI():
            return _FrameIndex([])
        return _FrameIndex([e for e in dwarf.CFI_entries() if isinstance(e, FDE)])


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
        cpu = _read_cpu_hints(elf)

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


def _read_cpu_hints(elf: ELFFile) -> CpuHints:
    """The CPU hints from the "aeabi" file attributes of `.ARM.attributes`."""
    section = elf.get_section_by_name(".ARM.attributes")
    if section is None or section["sh_type"] == "SHT_NOBITS":
        return CpuHints()
    tags = read_aeabi_attributes(section.data())
    return CpuHints(
        name=tags.get(TAG_CPU_NAME),
        arch=CPU_ARCH_NAMES.get(tags.get(TAG_CPU_ARCH)),
        fp_arch=FP_ARCH_NAMES.get(tags.get(TAG_FP_ARCH)),
        vfp_args=tags.get(TAG_ABI_VFP_ARGS) == 1,
    )


# Build attribute tags and values (Arm ABI "Addenda to, and Errata in, the ABI for the Arm
# Architecture", section 2.5). The names follow what arm-none-eabi-readelf -A prints.
TAG_FILE = 1
TAG_CPU_RAW_NAME, TAG_CPU_NAME, TAG_CPU_ARCH = 4, 5, 6
TAG_FP_ARCH = 10
TAG_ABI_VFP_ARGS = 28
TAG_COMPATIBILITY = 32
STRING_TAGS = {TAG_CPU_RAW_NAME, TAG_CPU_NAME, 65, 67}
CPU_ARCH_NAMES = {
    10: "v7", 11: "v6-M", 12: "v6S-M", 13: "v7E-M", 16: "v8-M.baseline",
    17: "v8-M.mainline", 21: "v8.1-M.mainline",
}
FP_ARCH_NAMES = {
    1: "VFPv1", 2: "VFPv2", 3: "VFPv3", 4: "VFPv3-D16", 5: "VFPv4", 6: "VFPv4-D16",
    7: "FP-ARMv8", 8: "FPv5/FP-D16 for ARMv8",
}


def read_aeabi_attributes(data: bytes) -> dict[int, int | str]:
    """Decode the file-scope attributes of the "aeabi" subsection of `.ARM.attributes`.

    Layout (build attributes addenda, 2.2): the format byte 'A', then subsections of
    <u32 length><vendor NUL-terminated><sub-subsections>; a sub-subsection is <uleb tag>
    <u32 length><attributes>. Tags 4, 5, 65, 67 and odd tags above 32 hold a NUL-terminated
    string, tag 32 a ULEB128 then a string, the others a ULEB128. Bounds are checked at every
    step; damage raises ValueError.
    """
    if data[:1] != b"A":
        raise ValueError("unknown attributes format")
    pos = 1
    while pos + 4 <= len(data):
        length = struct.unpack_from("<I", data, pos)[0]
        if length < 5 or pos + length > len(data):
            raise ValueError("attribute subsection length out of range")
        vendor_end = data.index(b"\0", pos + 4, pos + length)
        if data[pos + 4:vendor_end] == b"aeabi":
            return _file_attributes(data[vendor_end + 1:pos + length])
        pos += length
    return {}


def _file_attributes(data: bytes) -> dict[int, int | str]:
    """The attributes of the first file-scope sub-subsection of an "aeabi" subsection."""
    pos = 0
    while pos < len(data):
        tag, body = _uleb128(data, pos)
        length = struct.unpack_from("<I", data, body)[0]
        if length < 5 or pos + length > len(data):
            raise ValueError("attribute sub-subsection length out of range")
        if tag == TAG_FILE:
            return _attribute_list(data[body + 4:pos + length])
        pos += length
    return {}


def _attribute_list(data: bytes) -> dict[int, int | str]:
    """Decode a run of (tag, value) attributes."""
    found: dict[int, int | str] = {}
    pos = 0
    while pos < len(data):
        tag, pos = _uleb128(data, pos)
        if tag == TAG_COMPATIBILITY:
            found[tag], pos = _uleb128(data, pos)
            _, pos = _string(data, pos)
        elif tag in STRING_TAGS or (tag > 32 and tag % 2 == 1):
            found[tag], pos = _string(data, pos)
        else:
            found[tag], pos = _uleb128(data, pos)
    return found


def _uleb128(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 at `pos`; return (value, position after it)."""
    value = shift = 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if byte < 0x80:
            return value, pos


def _string(data: bytes, pos: int) -> tuple[str, int]:
    """Decode a NUL-terminated string at `pos`; return (text, position after the NUL)."""
    end = data.index(b"\0", pos)
    return data[pos:end].decode("utf-8", errors="replace"), end + 1


class _LineTable:
    """Every row of every line-number sequence, sorted by address for bisection.

    A row (address, file, line) holds from its address to the next row; a row with file None
    marks the end of a sequence. At one address, end markers sort before rows and rows keep
    program order, so a lookup finds the last row written for that address.
    """

    def __init__(self, rows: list[tuple[int, int, int, str | None, int]]) -> None:
        rows.sort(key=lambda row: row[:3])
        self._addresses = [row[0] for row in rows]
        self._rows = [(row[3], row[4]) for row in rows]

    def find(self, addr: int) -> tuple[str, int] | None:
        """(file, line) of the row in force at `addr`, or None outside every sequence."""
        index = bisect_right(self._addresses, addr) - 1
        if index < 0 or self._rows[index][0] is None:
            return None
        return self._rows[index]


def _line_rows(dwarf: DWARFInfo, keep_zero: bool) -> list[tuple[int, int, int, str | None, int]]:
    """Rows (address, kind, order, file, line) of all line programs; kind 0 ends a sequence.

    A sequence starting at address 0 is dropped unless a function starts there: a linker
    that garbage-collects a function (--gc-sections) leaves its sequence relocated to 0,
    where a Cortex-M image holds its vector table.
    """
    rows: list[tuple[int, int, int, str | None, int]] = []
    order = 0
    for unit in dwarf.iter_CUs():
        program = dwarf.line_program_for_CU(unit)
        if program is None:
            continue
        files = _file_names(program, _comp_dir(unit))
        sequence: list[tuple[int, int, int, str | None, int]] = []
        for entry in program.get_entries():
            state = entry.state
            if state is None:
                continue
            order += 1
            if state.end_sequence:
                sequence.append((state.address, 0, order, None, 0))
                if sequence[0][0] != 0 or keep_zero:
                    rows.extend(sequence)
                sequence = []
            else:
                sequence.append((state.address, 1, order, files.get(state.file, "??"), state.line))
    return rows


def _comp_dir(unit) -> str:
    """The compilation directory of a unit (DW_AT_comp_dir), or "" when absent."""
    attribute = unit.get_top_DIE().attributes.get("DW_AT_comp_dir")
    return _text(attribute.value) if attribute is not None else ""


def _file_names(program, comp_dir: str) -> dict[int, str]:
    """Map line-program file numbers to paths, as addr2line shows them.

    DWARF 5 (6.2.4) numbers files and directories from 0, directory 0 being the compilation
    directory; earlier versions number files from 1 and use directory 0 for the compilation
    directory. Relative directories are joined to the compilation directory.
    """
    version = program["version"]
    directories = [_text(d) for d in program["include_directory"] or []]
    if version < 5:
        directories = [comp_dir, *directories]
    first = 0 if version >= 5 else 1
    names = {}
    for number, entry in enumerate(program["file_entry"] or [], start=first):
        index = entry["dir_index"]
        known = isinstance(index, int) and 0 <= index < len(directories)
        directory = directories[index] if known else ""
        directory = posixpath.join(comp_dir, directory)
        names[number] = posixpath.join(directory, _text(entry["name"]))
    return names


def _text(value) -> str:
    """A DWARF string attribute as text (pyelftools returns bytes)."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class _FrameIndex:
    """The FDEs of `.debug_frame` sorted by start address, with their decoded tables."""

    def __init__(self, fdes: list[FDE]) -> None:
        ranges = []
        for fde in fdes:
            start = fde["initial_location"]
            ranges.append((start, start + fde["address_range"], fde))
        ranges.sort(key=lambda r: r[0])
        self._starts = [r[0] for r in ranges]
        self._ranges = ranges

    def find(self, addr: int) -> FrameRow | None:
        """The rules of the last table row at or before `addr` in the FDE covering it."""
        index = bisect_right(self._starts, addr) - 1
        if index < 0 or addr >= self._ranges[index][1]:
            return None
        fde = self._ranges[index][2]
        table = fde.get_decoded().table
        rows = [row for row in table if row["pc"] <= addr]
        if not rows:
            return None
        return _frame_row(rows[-1], fde.cie["return_address_register"])


def _frame_row(row: dict, return_register: int) -> FrameRow:
    """Copy one decoded CFI row into a FrameRow."""
    rule = row["cfa"]
    cfa = None if rule.expr is not None else (rule.reg, rule.offset)
    rules = {
        reg: (value.type, value.arg if isinstance(value.arg, int) else None)
        for reg, value in row.items()
        if isinstance(reg, int)
    }
    return FrameRow(cfa, rules, return_register)


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
