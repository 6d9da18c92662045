"""The MCUboot image format: header, TLV areas, signing, parsing and verification.

An image is laid out as MCUboot's design document (docs/design.md, "Image format") and
``bootutil/image.h`` describe it, all integers little-endian::

    header (32 bytes, padded to hdr_size) | body (img_size) | protected TLVs | TLVs | ...

The header carries the magic 0x96f3b83d, the load address, the header size, the size of the
protected TLV area, the body size, flags and the version (major, minor u8; revision u16;
build u32). Each TLV area starts with an info word (magic 0x6908 protected, 0x6907 not, then
the area's total size including the info word); each TLV is a 16-bit type, a 16-bit length
and the value. The SHA-256 TLV covers header, body and protected TLVs; the ECDSA signature
is over that SHA-256 digest; KEYHASH names the signing key by the SHA-256 of its DER
SubjectPublicKeyInfo. This is what imgtool 2.x writes and MCUboot checks.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from emu.errors import ImageError, VerificationError
from emu.image import keys as _keys
from emu.image.keys import (  # noqa: F401 - part of this module's API
    PrivateKey,
    PublicKey,
    generate_key,
    load_private_key,
    load_public_key,
    save_private_key,
    save_public_key,
)
from emu.image.trailer import (  # noqa: F401 - part of this module's API
    DEFAULT_MAX_SECTORS,
    ERASED,
    FLAG_SET,
    Flag,
    Magic,
    SwapType,
    Trailer,
    TrailerLayout,
    read_trailer,
    trailer_magic,
    trailer_writes,
    write_trailer,
)

IMAGE_MAGIC = 0x96F3B83D
HEADER_SIZE = 32
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908

_HEADER = struct.Struct("<IIHHIIBBHII")
_WORD = struct.Struct("<HH")
assert _HEADER.size == HEADER_SIZE

TLV_KEYHASH = 0x01
TLV_PUBKEY = 0x02
TLV_SHA256 = 0x10
TLV_ECDSA_SIG = 0x22
TLV_SEC_CNT = 0x50

TLV_NAMES = {
    0x01: "KEYHASH", 0x02: "PUBKEY", 0x10: "SHA256", 0x11: "SHA384", 0x12: "SHA512",
    0x20: "RSA2048_PSS", 0x22: "ECDSA_SIG", 0x23: "RSA3072_PSS", 0x24: "ED25519",
    0x25: "SIG_PURE", 0x30: "ENC_RSA2048", 0x31: "ENC_KW", 0x32: "ENC_EC256",
    0x33: "ENC_X25519", 0x40: "DEPENDENCY", 0x50: "SEC_CNT", 0x60: "BOOT_RECORD",
}

IMAGE_F_RAM_LOAD = 0x20
FLAG_NAMES = {0x01: "PIC", 0x04: "ENCRYPTED_AES128", 0x08: "ENCRYPTED_AES256",
              0x10: "NON_BOOTABLE", 0x20: "RAM_LOAD", 0x100: "ROM_FIXED"}


@dataclass(frozen=True, order=True)
class Version:
    """An image version: major.minor.revision+build."""

    major: int = 0
    minor: int = 0
    revision: int = 0
    build: int = 0

    @classmethod
    def parse(cls, text: str | Version) -> Version:
        """Read ``1``, ``1.2``, ``1.2.3`` or ``1.2.3+4`` as imgtool's ``--version`` does."""
        if isinstance(text, Version):
            return text
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\+(\d+))?", text.strip())
        if m is None:
            raise ImageError(f"version '{text}' is not major[.minor[.revision]][+build]")
        v = cls(*(int(g) if g else 0 for g in m.groups()))
        if v.major > 0xFF or v.minor > 0xFF or v.revision > 0xFFFF or v.build > 0xFFFF_FFFF:
            raise ImageError(f"version '{text}' does not fit the header (u8.u8.u16+u32)")
        return v

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.revision}+{self.build}"


@dataclass(frozen=True)
class Header:
    """The 32-byte image header (``struct image_header``)."""

    magic: int
    load_addr: int
    hdr_size: int
    protect_tlv_size: int
    img_size: int
    flags: int
    version: Version

    def pack(self) -> bytes:
        v = self.version
        return _HEADER.pack(self.magic, self.load_addr, self.hdr_size, self.protect_tlv_size,
                            self.img_size, self.flags, v.major, v.minor, v.revision, v.build,
                            0)

    @classmethod
    def unpack(cls, data: bytes) -> Header:
        f = _HEADER.unpack_from(data)
        return cls(f[0], f[1], f[2], f[3], f[4], f[5], Version(f[6], f[7], f[8], f[9]))


@dataclass(frozen=True)
class Tlv:
    """One type-length-value record."""

    type: int
    value: bytes

    @property
    def name(self) -> str:
        return TLV_NAMES.get(self.type, f"TLV_{self.type:#04x}")


@dataclass(frozen=True)
class Image:
    """A parsed image. ``raw`` is everything given to :func:`parse`, trailer included."""

    header: Header
    raw: bytes
    protected: tuple[Tlv, ...]
    tlvs: tuple[Tlv, ...]
    end: int

    @property
    def body(self) -> bytes:
        start = self.header.hdr_size
        return self.raw[start:start + self.header.img_size]

    @property
    def hashed(self) -> bytes:
        """Header, body and protected TLVs: what the SHA-256 TLV covers."""
        h = self.header
        return self.raw[:h.hdr_size + h.img_size + h.protect_tlv_size]

    def find(self, tlv_type: int) -> list[Tlv]:
        return [t for t in self.tlvs if t.type == tlv_type]


# -- parsing ---------------------------------------------------------------------------------

def parse(image: bytes) -> Image:
    """Split an image into header and TLVs; ImageError with the reason if it is malformed."""
    image = bytes(image)
    if len(image) < HEADER_SIZE:
        raise ImageError(f"{len(image)} bytes: shorter than an image header")
    header = Header.unpack(image)
    if header.magic != IMAGE_MAGIC:
        raise ImageError(f"bad magic {header.magic:#010x}: not an MCUboot image")
    if header.hdr_size < HEADER_SIZE:
        raise ImageError(f"header size {header.hdr_size:#x} is below {HEADER_SIZE}")
    start = header.hdr_size + header.img_size
    if start > len(image):
        raise ImageError(f"truncated: the header promises {start} bytes, the file has "
                         f"{len(image)}")
    protected, pos = _protected_area(image, start, header.protect_tlv_size)
    tlvs, end = _tlv_area(image, pos, TLV_INFO_MAGIC, "TLV")
    return Image(header, image, protected, tlvs, end)


def _protected_area(image: bytes, start: int, size: int) -> tuple[tuple[Tlv, ...], int]:
    if size == 0:
        if _info_magic(image, start) == TLV_PROT_INFO_MAGIC:
            raise ImageError("protected TLV area present but the header counts 0 bytes")
        return (), start
    tlvs, end = _tlv_area(image, start, TLV_PROT_INFO_MAGIC, "protected TLV")
    if end - start != size:
        raise ImageError(f"protected TLV area is {end - start} bytes, the header says {size}")
    return tlvs, end


def _info_magic(image: bytes, pos: int) -> int | None:
    return _WORD.unpack_from(image, pos)[0] if pos + _WORD.size <= len(image) else None


def _tlv_area(image: bytes, pos: int, magic: int, what: str) -> tuple[tuple[Tlv, ...], int]:
    """Read the TLV area at ``pos``; returns its records and the offset after it."""
    if pos + _WORD.size > len(image):
        raise ImageError(f"truncated: no {what} area after the image body")
    info_magic, total = _WORD.unpack_from(image, pos)
    if info_magic != magic:
        raise ImageError(f"bad {what} info magic {info_magic:#06x} (expected {magic:#06x})")
    end = pos + total
    if total < _WORD.size:
        raise ImageError(f"{what} area of {total} bytes is shorter than its info word")
    if end > len(image):
        raise ImageError(f"truncated: the {what} area needs {total} bytes, "
                         f"{len(image) - pos} remain")
    records = []
    cur = pos + _WORD.size
    while cur < end:
        if cur + _WORD.size > end:
            raise ImageError(f"{what} record header runs past the end of its area")
        kind, length = _WORD.unpack_from(image, cur)
        cur += _WORD.size
        if cur + length > end:
            raise ImageError(f"{what} {TLV_NAMES.get(kind, hex(kind))} runs past the end "
                             "of its area")
        records.append(Tlv(kind, image[cur:cur + length]))
        cur += length
    return tuple(records), end


# -- verification ----------------------------------------------------------------------------

def verify_hash(image: bytes | Image) -> Image:
    """Check the SHA-256 TLV against header, body and protected TLVs.

    Raises VerificationError ("bad magic", "no SHA256 TLV", "hash mismatch", ...); returns
    the parsed image so that callers need not parse twice.
    """
    img = _parse_for_verification(image)
    tlvs = img.find(TLV_SHA256)
    if not tlvs:
        raise VerificationError("no SHA256 TLV: the image carries no hash")
    digest = hashlib.sha256(img.hashed).digest()
    if tlvs[0].value != digest:
        raise VerificationError(f"hash mismatch: the image hashes to {digest.hex()[:16]}..., "
                                f"its SHA256 TLV says {tlvs[0].value.hex()[:16]}...")
    return img


def verify(image: bytes | Image, public_key: PublicKey | PrivateKey) -> Image:
    """Check the hash, that the image names ``public_key``, and the ECDSA P-256 signature.

    Follows MCUboot's ``bootutil_img_validate`` for a single trusted key: the hash must
    match, a KEYHASH (or PUBKEY) TLV must name the key, and an ECDSA_SIG TLV must verify over
    the digest. Raises VerificationError with the first failed check.
    """
    img = verify_hash(image)
    _check_key_named(img, public_key)
    signatures = img.find(TLV_ECDSA_SIG)
    if not signatures:
        raise VerificationError("no signature: the image has no ECDSA_SIG TLV")
    digest = img.find(TLV_SHA256)[0].value
    pub = _keys.public_key(public_key)
    for tlv in signatures:
        if _signature_holds(pub, _strip_der_padding(tlv.value), digest):
            return img
    raise VerificationError("signature does not verify with the given key")


def _parse_for_verification(image: bytes | Image) -> Image:
    if isinstance(image, Image):
        return image
    try:
        return parse(image)
    except ImageError as e:
        raise VerificationError(str(e)) from None


def _check_key_named(img: Image, key: PublicKey | PrivateKey) -> None:
    hashes_ = img.find(TLV_KEYHASH)
    full = img.find(TLV_PUBKEY)
    if hashes_:
        if hashes_[0].value != _keys.key_hash(key):
            raise VerificationError("key hash does not match: the image was signed for "
                                    "another key")
    elif full:
        if full[0].value != _keys.public_der(key):
            raise VerificationError("public key does not match the PUBKEY TLV")
    else:
        raise VerificationError("no key hash: the image names no signing key")


def _signature_holds(pub: PublicKey, signature: bytes, digest: bytes) -> bool:
    try:
        pub.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        return False
    return True


def _strip_der_padding(signature: bytes) -> bytes:
    """Drop zero padding after a DER signature (old imgtool padded ECDSA to 72 bytes)."""
    if len(signature) >= 2 and signature[0] == 0x30 and signature[1] + 2 < len(signature):
        return signature[:signature[1] + 2]
    return signature


# -- signing ---------------------------------------------------------------------------------

def sign(body: bytes, key: PrivateKey | None, version: str | Version = "0.0.0", *,
         header_size: int = 0x200, align: int = 8, pad_to_slot: int | None = None,
         confirm: bool = False, load_addr: int = 0, security_counter: int | None = None,
         max_sectors: int = DEFAULT_MAX_SECTORS) -> bytes:
    """Build a signed image from a firmware body, as ``imgtool sign --pad-header`` does.

    The header is padded to ``header_size`` with 0xFF. The TLV area holds SHA256, then
    KEYHASH and ECDSA_SIG when ``key`` is given (``key=None`` gives an unsigned image).
    ``security_counter`` adds a protected SEC_CNT TLV. With ``pad_to_slot`` the image is
    padded to the slot size with the trailer magic at the end (imgtool ``--pad``); ``confirm``
    also sets image_ok (imgtool ``--confirm``). ``align`` is the flash write alignment.
    """
    version = Version.parse(version)
    _check_sign_args(header_size, pad_to_slot, confirm)
    protected = _protected_tlvs(security_counter)
    header = Header(IMAGE_MAGIC, load_addr, header_size, len(protected), len(body),
                    IMAGE_F_RAM_LOAD if load_addr else 0, version)
    hashed = header.pack() + bytes([ERASED]) * (header_size - HEADER_SIZE) + body + protected
    image = hashed + _tlv_block(TLV_INFO_MAGIC, _signature_tlvs(hashed, key))
    if pad_to_slot is not None:
        image = pad_image(image, pad_to_slot, align, confirm=confirm, max_sectors=max_sectors)
    return image


def pad_image(image: bytes, slot_size: int, align: int = 8, *, confirm: bool = False,
              max_sectors: int = DEFAULT_MAX_SECTORS) -> bytes:
    """Pad an image to its slot: erased bytes, then the trailer magic (and image_ok)."""
    layout = TrailerLayout(slot_size, align, None, max_sectors)
    if len(image) > layout.status_off:
        raise ImageError(f"image ({len(image):#x} bytes) and trailer ({layout.size:#x}) "
                         f"exceed the slot ({slot_size:#x})")
    slot = bytearray(image) + bytes([ERASED]) * (slot_size - len(image))
    write_trailer(slot, align, max_sectors=max_sectors, magic=True, image_ok=confirm)
    return bytes(slot)


def _check_sign_args(header_size: int, pad_to_slot: int | None, confirm: bool) -> None:
    if not HEADER_SIZE <= header_size <= 0xFFFF:
        raise ImageError(f"header size {header_size:#x} must be between {HEADER_SIZE} and "
                         "0xffff")
    if confirm and pad_to_slot is None:
        raise ImageError("confirming an image needs its slot size (pad_to_slot)")


def _protected_tlvs(security_counter: int | None) -> bytes:
    if security_counter is None:
        return b""
    return _tlv_block(TLV_PROT_INFO_MAGIC,
                      [Tlv(TLV_SEC_CNT, security_counter.to_bytes(4, "little"))])


def _signature_tlvs(hashed: bytes, key: PrivateKey | None) -> list[Tlv]:
    digest = hashlib.sha256(hashed).digest()
    tlvs = [Tlv(TLV_SHA256, digest)]
    if key is not None:
        # RFC 6979: the same key and image always give the same signature.
        signing = ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True)
        signature = key.sign(digest, signing)
        tlvs += [Tlv(TLV_KEYHASH, _keys.key_hash(key)), Tlv(TLV_ECDSA_SIG, signature)]
    return tlvs


def _tlv_block(magic: int, tlvs: list[Tlv]) -> bytes:
    records = b"".join(_WORD.pack(t.type, len(t.value)) + t.value for t in tlvs)
    return _WORD.pack(magic, _WORD.size + len(records)) + records
