"""Checking the image in a slot before it is swapped or booted.

The checks follow MCUboot's ``boot_validate_slot`` and ``bootutil_img_validate``: an erased
header means no image; the header magic, the TLV areas, the SHA-256 over header, body and
protected TLVs, the key hash and the ECDSA P-256 signature against the one trusted key
(emu/image/mcuboot.py does those). Three more checks catch images that could not run from
the primary slot, which MCUboot leaves to the image author (``MCUBOOT_VERIFY_IMG_ADDRESS``
does the last one for the secondary slot):

* the image with its TLVs must end before the slot's trailer;
* the vector table at ``slot + header size`` must be 128-byte aligned (VTOR.TBLOFF, ARMv7-M
  ARM B3.2.5);
* its reset vector must point into the primary slot, or the image was linked for another
  address.

Every refusal is a :class:`emu.errors.VerificationError` whose message is the reason.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from emu.boot.area import FlashArea
from emu.errors import VerificationError
from emu.image import mcuboot
from emu.image.mcuboot import HEADER_SIZE, Header, PublicKey, Version

VTOR_ALIGN = 128
IMAGE_F_NON_BOOTABLE = 0x10


@dataclass(frozen=True)
class SlotImage:
    """An image found in a slot: its header and its size through the TLV area."""

    header: Header
    size: int

    @property
    def version(self) -> Version:
        return self.header.version


def version_text(version: Version) -> str:
    """``1.2.3``, or ``1.2.3+4`` when the build number is not 0."""
    text = f"{version.major}.{version.minor}.{version.revision}"
    return f"{text}+{version.build}" if version.build else text


def is_newer_or_equal(candidate: Version, current: Version) -> bool:
    """MCUboot's ``boot_compare_version`` without the build number (the default build)."""
    return (candidate.major, candidate.minor, candidate.revision) >= (
        current.major, current.minor, current.revision)


def find_image(area: FlashArea) -> SlotImage:
    """The image header and size in ``area``; VerificationError if there is none."""
    raw = area.read(0, HEADER_SIZE)
    if raw[:4] == b"\xff" * 4:
        raise VerificationError("no image (the header is erased)")
    header = Header.unpack(raw)
    if header.magic != mcuboot.IMAGE_MAGIC:
        raise VerificationError(f"bad magic {header.magic:#010x}: not an MCUboot image")
    tlv_start = header.hdr_size + header.img_size + header.protect_tlv_size
    limit = area.layout.status_off
    if tlv_start + 4 > limit:
        raise VerificationError(f"the header promises {tlv_start} bytes; the slot holds "
                                f"{limit} before its trailer")
    magic, length = struct.unpack("<HH", area.read(tlv_start, 4))
    if magic != mcuboot.TLV_INFO_MAGIC:
        raise VerificationError(f"bad TLV info magic {magic:#06x} after the image body")
    if tlv_start + length > limit:
        raise VerificationError(f"the image ({tlv_start + length} bytes) runs into the "
                                f"trailer at {limit:#x}")
    return SlotImage(header, tlv_start + length)


def validate(area: FlashArea, key: PublicKey, primary: FlashArea) -> SlotImage:
    """Every check of the module docstring; the image when all pass."""
    found = find_image(area)
    raw = area.read(0, found.size)
    mcuboot.verify(raw, key)
    _check_bootable(found, raw, primary)
    return found


def _check_bootable(found: SlotImage, raw: bytes, primary: FlashArea) -> None:
    header = found.header
    if header.flags & IMAGE_F_NON_BOOTABLE:
        raise VerificationError("the image is flagged NON_BOOTABLE")
    if header.flags & mcuboot.IMAGE_F_RAM_LOAD:
        raise VerificationError("RAM-load images are not booted by the swap model")
    if header.hdr_size % VTOR_ALIGN:
        raise VerificationError(f"header size {header.hdr_size:#x} puts the vector table "
                                f"off a {VTOR_ALIGN}-byte boundary")
    if header.img_size < 8:
        raise VerificationError("the body is too short to hold a vector table")
    reset = int.from_bytes(raw[header.hdr_size + 4:header.hdr_size + 8], "little") & ~1
    if not primary.address <= reset < primary.address + primary.size:
        raise VerificationError(f"reset vector {reset:#010x} is outside the primary slot: "
                                "the image was linked for another address")
