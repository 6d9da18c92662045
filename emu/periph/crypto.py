"""The crypto engine: a stand-in for a secure element such as the Microchip ATECC608A, which
boards of the FreeRTOS OTA demos use to check image signatures.

This is a device of our own design, documented register by register in docs/crypto.md. It
offers streaming SHA-256 over guest memory and ECDSA P-256 verification of a 32-byte digest
against a public key held in a key slot. Keys are provisioned by the board file (they live in
the element, so a reset keeps them) or by machine code through :meth:`CryptoEngine.provision`.
Work is done with the ``cryptography`` package when a command is written; the results appear
when the command's busy time on the virtual clock is over.

Not modelled: private keys, signing, key generation, slot locking and the element's I2C
transport. A snapshot keeps the registers and an open hash, not a command in flight.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import unicorn
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from emu.errors import BoardError, InputError
from emu.periph.base import RO, W1C, WO, Field, Peripheral, Reg, register

if TYPE_CHECKING:
    from collections.abc import Callable

    from emu.core.machine import Machine

CRYPTO_ID = 0x4352_5931  # "CRY1"

# Command codes (CMD.OP).
SHA_INIT, SHA_UPDATE, SHA_FINAL, VERIFY, VERIFY_MEM = range(1, 6)

# Error codes (ERR.CODE): the command was refused and did nothing.
ERR_NONE, ERR_BAD_COMMAND, ERR_BAD_ADDRESS, ERR_NO_HASH = range(4)

# RESULT values of VERIFY and VERIFY_MEM.
RESULT_NONE, RESULT_VALID, RESULT_INVALID, RESULT_NO_KEY, RESULT_BAD_SIGNATURE_FORMAT = range(5)

# STATUS bits.
BUSY, SHA_ACTIVE, DONE, ERROR = 1 << 0, 1 << 1, 1 << 8, 1 << 9
IE_DONE = 1 << 0

RAW_SIGNATURE_LEN = 64  # r || s, 32 bytes each, big-endian
MAX_DER_SIGNATURE_LEN = 72  # SEQUENCE of two INTEGERs of at most 33 bytes each
MIN_DER_SIGNATURE_LEN = 8
DIGEST_LEN = 32
MAX_SLOTS = 32

PublicKey = ec.EllipticCurvePublicKey


def load_p256_public_key(material: str | bytes | PublicKey, where: str,
                         error: type[InputError] = InputError) -> PublicKey:
    """A P-256 public key from PEM text (a public key or a certificate), DER (either), an
    uncompressed point (65 bytes, 0x04 X Y), a bare X || Y (64 bytes, the ATECC608A form) or
    a key object. Anything else raises ``error`` naming ``where``."""
    if isinstance(material, ec.EllipticCurvePublicKey):
        key = material
    else:
        data = material.encode("utf-8") if isinstance(material, str) else bytes(material)
        key = _parse_key(data, where, error)
    if not isinstance(key.curve, ec.SECP256R1):
        raise error(f"{where}: the key is on curve {key.curve.name}, not P-256")
    return key


def _parse_key(data: bytes, where: str, error: type[InputError]) -> PublicKey:
    if b"PRIVATE KEY" in data:
        raise error(f"{where}: a private key is not accepted; give its public key")
    try:
        if b"-----BEGIN" in data:
            key: Any = (x509.load_pem_x509_certificate(data).public_key()
                        if b"CERTIFICATE" in data else serialization.load_pem_public_key(data))
        elif len(data) in (64, 65):
            point = data if len(data) == 65 else b"\x04" + data
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        else:
            key = _parse_der(data)
    except ValueError as e:
        raise error(f"{where}: not a public key or certificate ({e})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise error(f"{where}: the key is not an elliptic-curve key")
    return key


def _parse_der(data: bytes) -> Any:
    try:
        return serialization.load_der_public_key(data)
    except ValueError:
        return x509.load_der_x509_certificate(data).public_key()


def _registers() -> tuple[Reg, ...]:
    status = (
        Field("BUSY", 0, access=RO, doc="a command is in progress"),
        Field("SHA_ACTIVE", 1, access=RO, doc="a hash is open (after SHA_INIT, until FINAL)"),
        Field("DONE", 8, access=W1C, doc="the last command has ended"),
        Field("ERROR", 9, access=W1C, doc="the last command was refused; ERR says why"),
    )
    regs = [
        Reg(0x00, "ID", "identification", reset=CRYPTO_ID, access=RO),
        Reg(0x04, "CMD", "command", access=WO, fields=(Field("OP", 0, 4),)),
        Reg(0x08, "STATUS", "status", fields=status),
        Reg(0x0C, "ERR", "why the last command was refused", access=RO,
            fields=(Field("CODE", 0, 8, RO),)),
        Reg(0x10, "INTEN", "interrupt enable", fields=(Field("DONE", 0),)),
        Reg(0x14, "DATA_ADDR", "address of the bytes SHA_UPDATE hashes"),
        Reg(0x18, "DATA_LEN", "number of bytes SHA_UPDATE hashes"),
        Reg(0x1C, "SLOT", "key slot of VERIFY"),
        Reg(0x20, "SIG_ADDR", "address of the signature"),
        Reg(0x24, "SIG_LEN", "signature length: 64 for raw r||s, else DER"),
        Reg(0x28, "DIGEST_ADDR", "address of the 32-byte digest of VERIFY_MEM"),
        Reg(0x2C, "RESULT", "outcome of the last verification", access=RO),
        Reg(0x30, "SLOTS", "number of key slots", access=RO),
        Reg(0x34, "KEYMAP", "bit n set: slot n holds a key", access=RO),
    ]
    regs += [Reg(0x40 + 4 * i, f"DIGEST{i}", f"digest word {i} (H{i})") for i in range(8)]
    return tuple(regs)


@register("crypto-engine")
class CryptoEngine(Peripheral):
    """The crypto engine (docs/crypto.md).

    Parameters: ``irq`` (interrupt line, optional), ``keys`` (slot number to a PEM public key
    or certificate, inline or as a path relative to the board file), ``slots`` (16),
    ``sha_cycles_per_byte`` (1), ``sha_overhead_cycles`` (64, added to every SHA command),
    ``verify_ms`` (50).
    """

    REGISTERS = _registers()
    SIZE = 0x100

    def __init__(self, machine: Machine | None, name: str, base: int, *,
                 irq: int | None = None, keys: dict[Any, Any] | None = None, slots: int = 16,
                 sha_cycles_per_byte: float = 1, sha_overhead_cycles: int = 64,
                 verify_ms: float = 50.0, key_dir: str | Path | None = None,
                 **params: Any) -> None:
        if params:
            raise BoardError(f"{name}: unknown crypto-engine parameter(s) {', '.join(params)}")
        if not isinstance(slots, int) or not 1 <= slots <= MAX_SLOTS:
            raise BoardError(f"{name}: slots must be 1..{MAX_SLOTS}, not {slots!r}")
        for label, value in (("sha_cycles_per_byte", sha_cycles_per_byte),
                             ("sha_overhead_cycles", sha_overhead_cycles),
                             ("verify_ms", verify_ms)):
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise BoardError(f"{name}: {label} must be a number >= 0, not {value!r}")
        self.irq = irq
        self.slots = slots
        self.sha_cycles_per_byte = sha_cycles_per_byte
        self.sha_overhead_cycles = sha_overhead_cycles
        self.verify_ms = verify_ms
        self.keys: dict[int, PublicKey] = {}
        self._sha: hashes.Hash | None = None
        self._command: Any = None
        super().__init__(machine, name, base)
        self._provision_from_board(keys or {}, Path(key_dir) if key_dir else None)

    @classmethod
    def from_board(cls, machine: Machine, spec: dict[str, Any]) -> Peripheral:
        """As the base class, with key paths taken relative to the board file."""
        params = {k: v for k, v in spec.items() if k not in ("name", "type", "base")}
        board_path = getattr(getattr(machine, "board", None), "path", None)
        if board_path is not None:
            params["key_dir"] = Path(board_path).parent
        return cls(machine, spec["name"], spec["base"], **params)

    # -- keys ------------------------------------------------------------------------------

    def provision(self, slot: int, key: str | bytes | PublicKey) -> None:
        """Store a public key (PEM, DER, certificate, point or key object) in ``slot``;
        InputError when the slot does not exist or the key is not a P-256 public key."""
        self._check_slot(slot, InputError)
        self.keys[slot] = load_p256_public_key(key, f"{self.name} slot {slot}")

    def _provision_from_board(self, keys: dict[Any, Any], key_dir: Path | None) -> None:
        if not isinstance(keys, dict):
            raise BoardError(f"{self.name}: keys must be a table of slot = key")
        for raw_slot, value in keys.items():
            try:
                slot = int(raw_slot)
            except ValueError:
                raise BoardError(f"{self.name}: key slot {raw_slot!r} is not a number") from None
            self._check_slot(slot, BoardError)
            where = f"{self.name} slot {slot}"
            if not isinstance(value, str):
                raise BoardError(f"{where}: give PEM text or a file path")
            material = value if "-----BEGIN" in value else self._read_key_file(value, key_dir)
            self.keys[slot] = load_p256_public_key(material, where, BoardError)

    def _read_key_file(self, value: str, key_dir: Path | None) -> bytes:
        path = Path(value)
        if not path.is_absolute() and key_dir is not None:
            path = key_dir / path
        try:
            return path.read_bytes()
        except OSError as e:
            raise BoardError(f"{self.name}: cannot read key file {path} ({e.strerror})") from None

    def _check_slot(self, slot: int, error: type[InputError]) -> None:
        if not isinstance(slot, int) or not 0 <= slot < self.slots:
            raise error(f"{self.name}: key slot {slot!r} outside 0..{self.slots - 1}")

    # -- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Registers to reset values and any open hash dropped; the keys stay."""
        if self._command is not None and self.machine is not None:
            self.machine.cancel(self._command)
        self._command = None
        self._sha = None
        super().reset()
        self.regs["SLOTS"] = self.slots

    def snapshot(self) -> dict[str, Any]:
        sha = self._sha.copy() if self._sha is not None else None
        return {**super().snapshot(), "sha": sha}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self._sha = state["sha"].copy() if state["sha"] is not None else None

    # -- registers -------------------------------------------------------------------------

    def read_KEYMAP(self) -> int:
        return sum(1 << slot for slot in self.keys)

    def read_STATUS(self) -> int:
        active = SHA_ACTIVE if self._sha is not None else 0
        return (self.regs["STATUS"] & ~SHA_ACTIVE) | active

    def write_STATUS(self, value: int) -> None:
        self.regs["STATUS"] &= ~(value & (DONE | ERROR))

    def write_INTEN(self, value: int) -> None:
        self.regs["INTEN"] = value & IE_DONE

    def write_CMD(self, value: int) -> None:
        if self._command is not None:
            self.guest_error("CMD written while BUSY; ignored")
            return
        self.regs["STATUS"] &= ~(DONE | ERROR)
        self.regs["ERR"] = ERR_NONE
        starters: dict[int, Callable[[], tuple[int, Callable[[], None]] | int]] = {
            SHA_INIT: self._start_init, SHA_UPDATE: self._start_update,
            SHA_FINAL: self._start_final, VERIFY: lambda: self._start_verify(False),
            VERIFY_MEM: lambda: self._start_verify(True)}
        starter = starters.get(value & 0xF)
        outcome = starter() if starter is not None else ERR_BAD_COMMAND
        if isinstance(outcome, int):
            self._refuse(outcome)
        else:
            self._begin(*outcome)

    # -- command machinery -----------------------------------------------------------------

    def _begin(self, cycles: int, action: Callable[[], None]) -> None:
        """BUSY for ``cycles``, then ``action`` stores the results and DONE is raised."""
        self.regs["STATUS"] |= BUSY
        if self.machine is None:
            self._complete(action)
        else:
            self._command = self.machine.schedule(max(1, int(cycles)),
                                                  lambda: self._complete(action))

    def _complete(self, action: Callable[[], None]) -> None:
        self._command = None
        action()
        self.regs["STATUS"] = (self.regs["STATUS"] & ~BUSY) | DONE
        self._interrupt()

    def _refuse(self, code: int) -> None:
        self.regs["STATUS"] |= DONE | ERROR
        self.regs["ERR"] = code
        self._interrupt()

    def _interrupt(self) -> None:
        if self.regs["INTEN"] & IE_DONE and self.irq is not None:
            self.raise_irq(int(self.irq))

    def _sha_cycles(self, length: int) -> int:
        return round(self.sha_overhead_cycles + self.sha_cycles_per_byte * length)

    def _dma(self, addr: int, length: int) -> bytes | None:
        """Guest bytes, or None when the range is not readable memory."""
        if length == 0:
            return b""
        if self.machine is None:
            return None
        try:
            return self.machine.mem_read(addr, length)
        except unicorn.UcError:
            return None

    # -- SHA-256 ---------------------------------------------------------------------------

    def _start_init(self) -> tuple[int, Callable[[], None]]:
        self._sha = hashes.Hash(hashes.SHA256())
        return self._sha_cycles(0), lambda: None

    def _start_update(self) -> tuple[int, Callable[[], None]] | int:
        if self._sha is None:
            return ERR_NO_HASH
        length = self.regs["DATA_LEN"]
        data = self._dma(self.regs["DATA_ADDR"], length)
        if data is None:
            return ERR_BAD_ADDRESS
        self._sha.update(data)
        return self._sha_cycles(length), lambda: None

    def _start_final(self) -> tuple[int, Callable[[], None]] | int:
        if self._sha is None:
            return ERR_NO_HASH
        digest = self._sha.finalize()
        self._sha = None
        return self._sha_cycles(0), lambda: self._store_digest(digest)

    def _store_digest(self, digest: bytes) -> None:
        for i in range(8):
            self.regs[f"DIGEST{i}"] = int.from_bytes(digest[4 * i:4 * i + 4], "big")

    def _digest_registers(self) -> bytes:
        return b"".join(self.regs[f"DIGEST{i}"].to_bytes(4, "big") for i in range(8))

    # -- ECDSA P-256 -----------------------------------------------------------------------

    def _start_verify(self, from_memory: bool) -> tuple[int, Callable[[], None]] | int:
        if from_memory:
            digest = self._dma(self.regs["DIGEST_ADDR"], DIGEST_LEN)
        else:
            digest = self._digest_registers()
        sig_len = self.regs["SIG_LEN"]
        sig = b""
        if sig_len == RAW_SIGNATURE_LEN or MIN_DER_SIGNATURE_LEN <= sig_len <= (
                MAX_DER_SIGNATURE_LEN):
            sig = self._dma(self.regs["SIG_ADDR"], sig_len)
        if digest is None or sig is None:
            return ERR_BAD_ADDRESS
        self.regs["RESULT"] = RESULT_NONE
        result = self._verify(self.regs["SLOT"], digest, sig)
        cycles = round(self.verify_ms * getattr(self.machine, "hz", 1_000_000) / 1000)
        return cycles, lambda: self._store_result(result)

    def _store_result(self, result: int) -> None:
        self.regs["RESULT"] = result

    def _verify(self, slot: int, digest: bytes, sig: bytes) -> int:
        key = self.keys.get(slot)
        if key is None:
            return RESULT_NO_KEY
        der = _der_signature(sig)
        if der is None:
            return RESULT_BAD_SIGNATURE_FORMAT
        try:
            key.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        except InvalidSignature:
            return RESULT_INVALID
        return RESULT_VALID


def _der_signature(sig: bytes) -> bytes | None:
    """The DER form of a raw (64-byte) or DER signature, or None when it is malformed."""
    if len(sig) == RAW_SIGNATURE_LEN:
        r = int.from_bytes(sig[:32], "big")
        s = int.from_bytes(sig[32:], "big")
        return utils.encode_dss_signature(r, s)
    if not MIN_DER_SIGNATURE_LEN <= len(sig) <= MAX_DER_SIGNATURE_LEN:
        return None
    try:
        r, s = utils.decode_dss_signature(sig)
    except ValueError:
        return None
    # Re-encoding must give the same bytes: only the strict DER form is accepted.
    der = utils.encode_dss_signature(r, s)
    return der if der == sig else None
