"""ECDSA P-256 signing keys for MCUboot images, kept as PEM files.

Private keys are written as unencrypted PKCS#8 PEM and public keys as SubjectPublicKeyInfo
PEM, the two forms ``imgtool keygen -t ecdsa-p256`` and ``imgtool getpub`` exchange, so keys
move freely between ota-emu and imgtool. The key hash that images carry (TLV KEYHASH) is the
SHA-256 of the DER SubjectPublicKeyInfo, as MCUboot's built-in key table stores it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from emu.errors import InputError

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey


def generate_key() -> PrivateKey:
    """A new ECDSA P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def save_private_key(key: PrivateKey, path: str | os.PathLike[str]) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM, readable by its owner only."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def save_public_key(key: PrivateKey | PublicKey, path: str | os.PathLike[str]) -> None:
    """Write the public half of ``key`` as SubjectPublicKeyInfo PEM."""
    Path(path).write_bytes(public_der(key, pem=True))


def load_private_key(path: str | os.PathLike[str]) -> PrivateKey:
    """Read a PEM private key; InputError unless it is an unencrypted P-256 key."""
    pem = _read(path)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise InputError(f"{path}: not an unencrypted PEM private key ({e})") from None
    _require_p256(key, path)
    return key  # type: ignore[return-value]


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """Read a PEM public key, or the public half of a PEM private key."""
    pem = _read(path)
    if b"PRIVATE KEY" in pem:
        return load_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as e:
        raise InputError(f"{path}: not a PEM public key ({e})") from None
    _require_p256(key, path)
    return key  # type: ignore[return-value]


def public_key(key: PrivateKey | PublicKey) -> PublicKey:
    return key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key


def public_der(key: PrivateKey | PublicKey, pem: bool = False) -> bytes:
    """The SubjectPublicKeyInfo of ``key``, DER (or PEM)."""
    encoding = serialization.Encoding.PEM if pem else serialization.Encoding.DER
    return public_key(key).public_bytes(encoding,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)


def key_hash(key: PrivateKey | PublicKey) -> bytes:
    """SHA-256 of the DER SubjectPublicKeyInfo: the payload of TLV KEYHASH."""
    return hashlib.sha256(public_der(key)).digest()


def _read(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the key ({e.strerror})") from None


def _require_p256(key: object, path: str | os.PathLike[str]) -> None:
    if not isinstance(getattr(key, "curve", None), ec.SECP256R1):
        raise InputError(f"{path}: not an ECDSA P-256 key; images are signed with "
                         "ECDSA P-256 only")
