"""Board descriptions: one TOML file per board, read into a :class:`Board`.

A board names its CPU and clock, its memories, its peripherals (by model type and base
address, with the model's parameters) and the address ranges of the SoC that exist but are not
modelled. ``emu/boards/annotated-example.toml`` shows every key with a comment. Adding a board
never touches the CPU core.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emu.errors import BoardError

BOARDS_DIR = Path(__file__).resolve().parent / "boards"

# CPU names a board may use: (unicorn CPU model name, has FPU, CPUID value).
CPUS = {
    "cortex-m3": ("CORTEX_M3", False, 0x412FC231),
    "cortex-m4": ("CORTEX_M4", False, 0x410FC241),
    "cortex-m4f": ("CORTEX_M4", True, 0x410FC241),
}
MEMORY_KINDS = ("flash", "ram", "rom")


@dataclass(frozen=True)
class Memory:
    """A memory of the board. A ``flash`` memory also has its sector table (``sectors`` as
    (count, size) runs, or a uniform ``sector_size``) and its program unit in bytes."""

    name: str
    kind: str
    base: int
    size: int
    sectors: tuple[tuple[int, int], ...] = ()
    program_unit: int = 4
    allow_overwrite_and: bool = False

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass(frozen=True)
class Region:
    """An address range the SoC decodes but no model handles."""

    name: str
    base: int
    size: int


@dataclass
class Board:
    name: str
    cpu: str
    clock_hz: int
    systick_ref_hz: int
    irqs: int
    priority_bits: int
    memories: list[Memory]
    peripherals: list[dict[str, Any]]
    unimplemented: list[Region]
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def has_fpu(self) -> bool:
        return CPUS[self.cpu][1]

    @property
    def cpuid(self) -> int:
        return CPUS[self.cpu][2]

    def memory(self, name: str) -> Memory:
        for m in self.memories:
            if m.name == name:
                return m
        raise BoardError(f"board {self.name}: no memory named {name!r}")

    def memories_of(self, kind: str) -> list[Memory]:
        return [m for m in self.memories if m.kind == kind]


def _int(spec: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = spec.get(key, default)
    if value is None:
        raise BoardError(f"{where}: missing key {key!r}")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BoardError(f"{where}: {key} must be a non-negative integer, not {value!r}")
    return value


def _str(spec: dict[str, Any], key: str, where: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value:
        raise BoardError(f"{where}: missing or empty text key {key!r}")
    return value


def _memories(data: dict[str, Any], where: str) -> list[Memory]:
    out = []
    for i, spec in enumerate(data.get("memory", [])):
        w = f"{where}: memory #{i + 1}"
        kind = _str(spec, "kind", w)
        if kind not in MEMORY_KINDS:
            raise BoardError(f"{w}: kind must be one of {', '.join(MEMORY_KINDS)}")
        base, size = _int(spec, "base", w), _int(spec, "size", w)
        if size == 0 or base % 0x1000 or size % 0x1000:
            raise BoardError(f"{w}: base and size must be non-zero multiples of 4 KiB")
        out.append(Memory(_str(spec, "name", w), kind, base, size, *_flash_geometry(spec, w,
                                                                                   size)))
    if not out:
        raise BoardError(f"{where}: a board needs at least one [[memory]]")
    return out


def _flash_geometry(spec: dict[str, Any], where: str,
                    size: int) -> tuple[tuple[tuple[int, int], ...], int, bool]:
    """The sector table, program unit and overwrite rule of a flash memory."""
    if spec.get("kind") != "flash":
        return (), 4, False
    if "sectors" in spec:
        try:
            runs = tuple((int(n), int(s)) for n, s in spec["sectors"])
        except (TypeError, ValueError):
            raise BoardError(f"{where}: sectors must be a list of [count, size] pairs") from None
    else:
        sector = _int(spec, "sector_size", where, 0x1000)
        if sector == 0 or size % sector:
            raise BoardError(f"{where}: sector_size must divide the memory size")
        runs = ((size // sector, sector),)
    if sum(n * s for n, s in runs) != size:
        raise BoardError(f"{where}: the sector table does not add up to the memory size")
    unit = _int(spec, "program_unit", where, 4)
    return runs, unit, bool(spec.get("allow_overwrite_and", False))


def _check_overlaps(ranges: list[tuple[str, int, int]], where: str) -> None:
    ordered = sorted(ranges, key=lambda r: r[1])
    for (n1, b1, s1), (n2, b2, _) in zip(ordered, ordered[1:], strict=False):
        if b1 + s1 > b2:
            raise BoardError(f"{where}: {n1} overlaps {n2} at {b2:#010x}")


def parse_board(data: dict[str, Any], where: str = "board") -> Board:
    """Validate a board's TOML data; every problem is a BoardError naming the key."""
    name = _str(data, "name", where)
    cpu = _str(data, "cpu", where)
    if cpu not in CPUS:
        raise BoardError(f"{where}: cpu must be one of {', '.join(CPUS)}, not {cpu!r}")
    nvic = data.get("nvic", {})
    irqs = _int(nvic, "irqs", f"{where}: [nvic]", 32)
    prio_bits = _int(nvic, "priority_bits", f"{where}: [nvic]", 3)
    if not 1 <= irqs <= 240 or not 2 <= prio_bits <= 8:
        raise BoardError(f"{where}: [nvic] irqs must be 1..240 and priority_bits 2..8")
    memories = _memories(data, where)
    peripherals = []
    for i, spec in enumerate(data.get("peripheral", [])):
        w = f"{where}: peripheral #{i + 1}"
        _str(spec, "name", w), _str(spec, "type", w), _int(spec, "base", w)
        peripherals.append(dict(spec))
    regions = [
        Region(_str(s, "name", where), _int(s, "base", where), _int(s, "size", where))
        for s in data.get("unimplemented", [])
    ]
    _check_overlaps([(m.name, m.base, m.size) for m in memories]
                    + [(r.name, r.base, r.size) for r in regions], where)
    known = {"name", "cpu", "clock_hz", "systick_ref_hz", "nvic", "memory", "peripheral",
             "unimplemented", "description"}
    return Board(
        name=name,
        cpu=cpu,
        clock_hz=_int(data, "clock_hz", where),
        systick_ref_hz=_int(data, "systick_ref_hz", where, 0),
        irqs=irqs,
        priority_bits=prio_bits,
        memories=memories,
        peripherals=peripherals,
        unimplemented=regions,
        extra={k: v for k, v in data.items() if k not in known},
    )


def load_board(name_or_path: str | Path) -> Board:
    """A board by name (``emu/boards/NAME.toml``) or by the path of a TOML file."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = BOARDS_DIR / f"{name_or_path}.toml"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in BOARDS_DIR.glob("*.toml")))
            raise BoardError(f"no board named {name_or_path!r} (known: {known})")
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise BoardError(f"{path}: cannot read board file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BoardError(f"{path}: not valid TOML ({exc})") from None
    board = parse_board(data, where=path.name)
    board.path = path
    return board
