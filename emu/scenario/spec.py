"""Scenario files: one OTA run as data (scenarios/annotated-example.toml shows every key).

Parsing checks every key and type and refuses an unknown key, so that a typo never makes a
scenario pass by silently doing nothing. Problems raise ScenarioError with the file name and
the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emu.errors import ScenarioError

STATUSES = ("SUCCEEDED", "FAILED", "REJECTED", "CANCELED", "IN_PROGRESS", "QUEUED",
            "TIMED_OUT", "REMOVED")
SIGNERS = ("trusted", "untrusted", "none")
CORRUPTIONS = ("none", "before-signing", "after-signing", "signature")


@dataclass
class Faults:
    drop: list[int] = field(default_factory=list)
    duplicate: list[int] = field(default_factory=list)
    reorder: list[int] = field(default_factory=list)
    corrupt: list[int] = field(default_factory=list)
    disconnect_at: int = 0
    cancel_at: int = 0


@dataclass
class Expect:
    status: str
    reason: str = ""
    running_version: str = ""
    image_confirmed: bool | None = None
    console_contains: list[str] = field(default_factory=list)
    console_absent: list[str] = field(default_factory=list)


@dataclass
class Job:
    version: str
    expect: Expect
    image: str = ""
    variant: str = ""
    signer: str = "trusted"
    corrupt: str = "none"
    signature_key: str = "sig-sha256-ecdsa"
    filepath: str = "/firmware/ota_app.bin"
    protocols: list[str] = field(default_factory=lambda: ["MQTT"])
    size: int = 0
    pad_to: int = 0
    faults: Faults = field(default_factory=Faults)


@dataclass
class Device:
    image: str
    version: str
    confirmed: bool = True
    block_size: int = 4096
    blocks_per_request: int = 1
    request_timeout: int = 10


@dataclass
class Scenario:
    name: str
    device: Device
    jobs: list[Job]
    board: str = "ref-m4f"
    description: str = ""
    max_time: float = 300.0
    path: Path | None = None


class _Reader:
    """Typed access to one TOML table, naming the file and the table in every error."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: must be a table")
        self.data, self.where, self.used = data, where, set()

    def get(self, key: str, kind: type | tuple, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise ScenarioError(f"{self.where}: missing required key {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            name = getattr(kind, "__name__", "value")
            raise ScenarioError(f"{self.where}: {key} must be a {name}, not {value!r}")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in options:
            raise ScenarioError(f"{self.where}: {key} must be one of {', '.join(options)}")
        return value

    def ints(self, key: str) -> list[int]:
        values = self.get(key, list, [])
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise ScenarioError(f"{self.where}: {key} must be a list of block indices")
        return values

    def strings(self, key: str, default: list[str] | None = None) -> list[str]:
        values = self.get(key, list, default if default is not None else [])
        if not all(isinstance(v, str) for v in values):
            raise ScenarioError(f"{self.where}: {key} must be a list of strings")
        return values

    def table(self, key: str, required: bool = False) -> _Reader | None:
        if key not in self.data:
            if required:
                raise ScenarioError(f"{self.where}: missing required table [{key}]")
            self.used.add(key)
            return None
        self.used.add(key)
        return _Reader(self.data[key], f"{self.where} [{key}]")

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ScenarioError(f"{self.where}: unknown key {unknown[0]!r}")


def _version(r: _Reader, key: str, default: Any = ...) -> str:
    text = r.get(key, str, default)
    parts = text.split(".") if text else []
    if text and (len(parts) != 3 or not all(p.isdigit() for p in parts)):
        raise ScenarioError(f"{r.where}: {key} must look like 1.2.3, not {text!r}")
    return text


def _faults(r: _Reader | None) -> Faults:
    if r is None:
        return Faults()
    faults = Faults(r.ints("drop"), r.ints("duplicate"), r.ints("reorder"), r.ints("corrupt"),
                    r.get("disconnect_at", int, 0), r.get("cancel_at", int, 0))
    r.done()
    return faults


def _expect(r: _Reader) -> Expect:
    status = r.get("status", str)
    if status not in STATUSES:
        raise ScenarioError(f"{r.where}: status must be one of {', '.join(STATUSES)}")
    confirmed = r.get("image_confirmed", bool, None)
    expect = Expect(status, r.get("reason", str, ""), _version(r, "running_version", ""),
                    confirmed, r.strings("console_contains"), r.strings("console_absent"))
    r.done()
    return expect


def _job(r: _Reader) -> Job:
    job = Job(
        version=_version(r, "version"),
        expect=_expect(r.table("expect", required=True)),
        image=r.get("image", str, ""),
        variant=r.get("variant", str, ""),
        signer=r.choice("signer", SIGNERS, "trusted"),
        corrupt=r.choice("corrupt", CORRUPTIONS, "none"),
        signature_key=r.get("signature_key", str, "sig-sha256-ecdsa"),
        filepath=r.get("filepath", str, "/firmware/ota_app.bin"),
        protocols=r.strings("protocols", ["MQTT"]),
        size=r.get("size", int, 0),
        pad_to=r.get("pad_to", int, 0),
        faults=_faults(r.table("faults")),
    )
    r.done()
    return job


def _device(r: _Reader) -> Device:
    device = Device(r.get("image", str), _version(r, "version"), r.get("confirmed", bool, True),
                    r.get("block_size", int, 4096), r.get("blocks_per_request", int, 1),
                    r.get("request_timeout", int, 10))
    if device.block_size < 256 or device.block_size & (device.block_size - 1):
        raise ScenarioError(f"{r.where}: block_size must be a power of two of at least 256")
    if device.blocks_per_request < 1:
        raise ScenarioError(f"{r.where}: blocks_per_request must be at least 1")
    r.done()
    return device


def parse_scenario(data: dict[str, Any], where: str) -> Scenario:
    r = _Reader(data, where)
    jobs = r.get("job", list)
    if not jobs:
        raise ScenarioError(f"{where}: a scenario needs at least one [[job]]")
    scenario = Scenario(
        name=r.get("name", str),
        device=_device(r.table("device", required=True)),
        jobs=[_job(_Reader(j, f"{where} [[job]] #{i + 1}")) for i, j in enumerate(jobs)],
        board=r.get("board", str, "ref-m4f"),
        description=r.get("description", str, ""),
        max_time=float(r.get("max_time", (int, float), 300)),
    )
    r.done()
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path.name}: not valid TOML ({exc})") from None
    scenario = parse_scenario(data, path.name)
    scenario.path = path
    return scenario
