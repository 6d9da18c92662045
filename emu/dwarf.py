"""DWARF readers for firmware ELFs: the line table (address to file and line) and the
call-frame information (``.debug_frame``) used to unwind a fault's stack.
"""

import posixpath
from bisect import bisect_right
from typing import NamedTuple

from elftools.dwarf.callframe import FDE
from elftools.dwarf.dwarfinfo import DWARFInfo


class FrameRow(NamedTuple):
    """The call-frame rules in force at one address (DWARF 5, section 6.4.1).

    `cfa` is (register, offset), or None when the CFA is a DWARF expression. `rules` maps a
    register number to (rule type, argument) with the types of pyelftools' RegisterRule
    ("OFFSET", "VAL_OFFSET", "REGISTER", "SAME_VALUE", "UNDEFINED", ...).
    """

    cfa: tuple[int, int] | None
    rules: dict[int, tuple[str, int | None]]
    return_register: int


class LineTable:
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


def line_rows(dwarf: DWARFInfo, keep_zero: bool) -> list[tuple[int, int, int, str | None, int]]:
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


class FrameIndex:
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


