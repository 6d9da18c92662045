"""MCUboot images: round trip, refusal reasons, the trailer, and imgtool interoperability."""

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from emu.errors import ImageError, InputError, VerificationError
from emu.image import mcuboot
from emu.image.mcuboot import Flag, Magic, SwapType, Version

BODY = bytes(range(256)) * 12 + b"tail"
SLOT = 0x2_0000


@pytest.fixture(scope="module")
def key():
    return mcuboot.generate_key()


@pytest.fixture(scope="module")
def other_key():
    return mcuboot.generate_key()


@pytest.fixture(scope="module")
def signed(key):
    return mcuboot.sign(BODY, key, "1.2.3+7")


def imgtool(*args: str) -> subprocess.CompletedProcess:
    """Run imgtool from this environment (skip when it is not installed)."""
    tool = Path(sys.executable).with_name("imgtool")
    if not tool.exists():
        found = shutil.which("imgtool")
        if found is None:
            pytest.skip("imgtool is not installed: it is the reference for this test")
        tool = Path(found)
    return subprocess.run([str(tool), *args], capture_output=True, text=True, check=False)


# -- round trip ------------------------------------------------------------------------------

def test_a_signed_image_parses_back_to_its_fields(signed):
    image = mcuboot.parse(signed)
    h = image.header
    assert (h.magic, h.load_addr, h.hdr_size, h.protect_tlv_size) == (0x96F3B83D, 0, 0x200, 0)
    assert h.img_size == len(BODY) and h.version == Version(1, 2, 3, 7)
    assert image.body == BODY
    assert [t.name for t in image.tlvs] == ["SHA256", "KEYHASH", "ECDSA_SIG"]
    assert image.end == len(signed)


def test_the_header_is_32_bytes_and_padded_with_erased_bytes(signed):
    assert struct.unpack_from("<I", signed)[0] == 0x96F3B83D
    assert signed[32:0x200] == b"\xff" * (0x200 - 32)


def test_a_signed_image_verifies_with_its_key(signed, key):
    image = mcuboot.verify(signed, key.public_key())
    assert image.body == BODY


def test_a_security_counter_goes_into_the_protected_area_and_is_hashed(key):
    raw = mcuboot.sign(BODY, key, "2.0.0", security_counter=9)
    image = mcuboot.parse(raw)
    assert image.header.protect_tlv_size == 12
    assert [(t.name, t.value) for t in image.protected] == [("SEC_CNT", b"\x09\0\0\0")]
    mcuboot.verify(raw, key)
    tampered = bytearray(raw)
    tampered[0x200 + len(BODY) + 8] = 10
    with pytest.raises(VerificationError, match="hash mismatch"):
        mcuboot.verify(bytes(tampered), key)


@pytest.mark.parametrize(("text", "version"), [
    ("1", Version(1)), ("1.2", Version(1, 2)), ("1.2.3", Version(1, 2, 3)),
    ("255.255.65535+4294967295", Version(255, 255, 65535, 4294967295))])
def test_versions_are_read_as_imgtool_reads_them(text, version):
    assert Version.parse(text) == version


@pytest.mark.parametrize("text", ["1.2.3.4", "v1", "256.0.0", "1.2.3+", ""])
def test_a_version_the_header_cannot_hold_is_refused(text):
    with pytest.raises(ImageError, match="version"):
        Version.parse(text)


# -- refusals --------------------------------------------------------------------------------

def corrupt(raw: bytes, offset: int) -> bytes:
    out = bytearray(raw)
    out[offset] ^= 0x01
    return bytes(out)


def tlv_offset(raw: bytes, name: str) -> int:
    """Offset of a TLV's value in ``raw``."""
    image = mcuboot.parse(raw)
    pos = image.header.hdr_size + image.header.img_size + image.header.protect_tlv_size + 4
    for tlv in image.tlvs:
        if tlv.name == name:
            return pos + 4
        pos += 4 + len(tlv.value)
    raise AssertionError(name)


def test_bad_magic_is_refused_with_its_reason(signed, key):
    with pytest.raises(VerificationError, match="bad magic"):
        mcuboot.verify(corrupt(signed, 0), key)
    with pytest.raises(ImageError, match="bad magic"):
        mcuboot.parse(corrupt(signed, 0))


def test_a_changed_body_byte_is_a_hash_mismatch(signed, key):
    with pytest.raises(VerificationError, match="hash mismatch"):
        mcuboot.verify(corrupt(signed, 0x200 + 100), key)


def test_a_changed_header_field_is_a_hash_mismatch(signed, key):
    with pytest.raises(VerificationError, match="hash mismatch"):
        mcuboot.verify(corrupt(signed, 20), key)


def test_an_unsigned_image_has_no_signature(key):
    raw = mcuboot.sign(BODY, None, "1.0.0")
    mcuboot.verify_hash(raw)
    with pytest.raises(VerificationError, match="no key hash"):
        mcuboot.verify(raw, key)


def test_an_image_without_its_signature_tlv_has_no_signature(signed, key):
    raw = bytearray(signed)
    pos = tlv_offset(signed, "ECDSA_SIG") - 4
    raw[pos:pos + 2] = b"\xa0\x00"
    with pytest.raises(VerificationError, match="no signature"):
        mcuboot.verify(bytes(raw), key)


def test_a_changed_signature_does_not_verify(signed, key):
    with pytest.raises(VerificationError, match="signature does not verify"):
        mcuboot.verify(corrupt(signed, tlv_offset(signed, "ECDSA_SIG") + 10), key)


def test_another_key_does_not_match_the_key_hash(signed, other_key):
    with pytest.raises(VerificationError, match="key hash does not match"):
        mcuboot.verify(signed, other_key.public_key())


def test_a_key_hash_swapped_for_another_key_leaves_a_signature_that_does_not_verify(
        signed, other_key):
    raw = bytearray(signed)
    pos = tlv_offset(signed, "KEYHASH")
    raw[pos:pos + 32] = mcuboot._keys.key_hash(other_key)
    with pytest.raises(VerificationError, match="signature does not verify"):
        mcuboot.verify(bytes(raw), other_key)


def test_a_truncated_image_is_refused(signed, key):
    with pytest.raises(ImageError, match="truncated"):
        mcuboot.parse(signed[:0x200 + 10])
    with pytest.raises(VerificationError, match="truncated"):
        mcuboot.verify(signed[:-20], key)


def test_a_wrong_tlv_info_magic_is_refused(signed):
    with pytest.raises(ImageError, match="bad TLV info magic"):
        mcuboot.parse(corrupt(signed, 0x200 + len(BODY)))


def test_a_tlv_running_past_its_area_is_refused(signed):
    raw = bytearray(signed)
    pos = tlv_offset(signed, "SHA256") - 2
    raw[pos:pos + 2] = (0x4000).to_bytes(2, "little")
    with pytest.raises(ImageError, match="runs past the end"):
        mcuboot.parse(bytes(raw))


def test_a_protected_size_that_disagrees_with_the_area_is_refused(key):
    raw = bytearray(mcuboot.sign(BODY, key, "1.0.0", security_counter=1))
    raw[10:12] = (16).to_bytes(2, "little")
    with pytest.raises(ImageError, match="protected TLV area is 12 bytes"):
        mcuboot.parse(bytes(raw))


@pytest.mark.parametrize("size", [0, 31, 0x200 + 40])
def test_parsing_never_crashes_on_a_prefix(signed, size):
    with pytest.raises(ImageError):
        mcuboot.parse(signed[:size])


# -- trailer ---------------------------------------------------------------------------------

def test_a_padded_image_ends_with_the_trailer_magic_and_is_pending(key):
    slot = mcuboot.sign(BODY, key, "1.0.0", pad_to_slot=SLOT)
    assert len(slot) == SLOT and slot[-16:] == mcuboot.trailer_magic()
    trailer = mcuboot.read_trailer(slot)
    assert trailer.magic is Magic.GOOD and trailer.image_ok is Flag.UNSET
    assert trailer.copy_done is Flag.UNSET and trailer.swap_type is SwapType.NONE


def test_a_confirmed_image_has_image_ok_set_24_bytes_before_the_end(key):
    slot = mcuboot.sign(BODY, key, "1.0.0", pad_to_slot=SLOT, confirm=True)
    assert slot[SLOT - 24] == 0x01
    assert mcuboot.read_trailer(slot).image_ok is Flag.SET


def test_an_erased_slot_has_an_unset_trailer():
    trailer = mcuboot.read_trailer(b"\xff" * SLOT)
    assert trailer.magic is Magic.UNSET and not trailer.magic_ok
    assert trailer.image_ok is Flag.UNSET and trailer.swap_size is None


@pytest.mark.parametrize(("align", "image_ok", "copy_done", "swap_info", "swap_size"), [
    (8, 24, 32, 40, 48), (16, 32, 48, 64, 80), (32, 64, 96, 128, 160)])
def test_trailer_fields_sit_where_mcuboot_reads_them(align, image_ok, copy_done, swap_info,
                                                      swap_size):
    layout = mcuboot.TrailerLayout(SLOT, align)
    assert (SLOT - layout.image_ok_off, SLOT - layout.copy_done_off,
            SLOT - layout.swap_info_off, SLOT - layout.swap_size_off) == (
        image_ok, copy_done, swap_info, swap_size)


def test_written_trailer_fields_read_back():
    slot = bytearray(b"\xff" * SLOT)
    mcuboot.write_trailer(slot, 4, magic=True, copy_done=True, swap_type=SwapType.REVERT,
                          image_num=1, swap_size=0x1_2345)
    trailer = mcuboot.read_trailer(bytes(slot), 4)
    assert trailer.magic_ok and trailer.copy_done is Flag.SET
    assert trailer.image_ok is Flag.UNSET
    assert (trailer.swap_type, trailer.image_num, trailer.swap_size) == (
        SwapType.REVERT, 1, 0x1_2345)


def test_trailer_writes_are_padded_to_the_write_alignment():
    layout = mcuboot.TrailerLayout(SLOT, 4)
    writes = dict(mcuboot.trailer_writes(layout, image_ok=True, swap_size=7))
    assert writes[SLOT - 24] == b"\x01\xff\xff\xff"
    assert writes[SLOT - 48] == b"\x07\x00\x00\x00"


def test_a_flag_that_is_neither_erased_nor_one_reads_bad():
    slot = bytearray(b"\xff" * SLOT)
    slot[SLOT - 24] = 0x00
    slot[SLOT - 40] = 0x09
    trailer = mcuboot.read_trailer(bytes(slot))
    assert trailer.image_ok is Flag.BAD and trailer.swap_type is SwapType.NONE


def test_an_image_too_big_for_its_slot_with_the_trailer_is_refused(key):
    with pytest.raises(ImageError, match="exceed the slot"):
        mcuboot.sign(BODY, key, "1.0.0", pad_to_slot=0x1000)


def test_confirming_without_a_slot_is_refused(key):
    with pytest.raises(ImageError, match="slot size"):
        mcuboot.sign(BODY, key, "1.0.0", confirm=True)


# -- keys ------------------------------------------------------------------------------------

def test_a_key_round_trips_through_pem(tmp_path, key):
    mcuboot.save_private_key(key, tmp_path / "k.pem")
    mcuboot.save_public_key(key, tmp_path / "k.pub.pem")
    loaded = mcuboot.load_private_key(tmp_path / "k.pem")
    assert loaded.private_numbers() == key.private_numbers()
    assert mcuboot.load_public_key(tmp_path / "k.pub.pem").public_numbers() == \
        key.public_key().public_numbers()
    assert mcuboot.load_public_key(tmp_path / "k.pem").public_numbers() == \
        key.public_key().public_numbers()


@pytest.mark.parametrize("make", [
    lambda: ec.generate_private_key(ec.SECP384R1()),
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)])
def test_a_key_that_is_not_p256_is_refused(tmp_path, make):
    pem = make().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    (tmp_path / "k.pem").write_bytes(pem)
    with pytest.raises(InputError, match="not an ECDSA P-256 key"):
        mcuboot.load_private_key(tmp_path / "k.pem")


def test_a_file_that_is_not_a_key_is_refused(tmp_path):
    (tmp_path / "k.pem").write_text("hello\n")
    with pytest.raises(InputError, match="not an unencrypted PEM private key"):
        mcuboot.load_private_key(tmp_path / "k.pem")


# -- imgtool, both ways ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def imgtool_key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imgtool")
    done = imgtool("keygen", "-k", str(folder / "k.pem"), "-t", "ecdsa-p256")
    assert done.returncode == 0, done.stderr
    return folder / "k.pem"


def imgtool_sign(tmp_path: Path, key_path: Path, *extra: str) -> bytes:
    (tmp_path / "fw.bin").write_bytes(BODY)
    done = imgtool("sign", "--key", str(key_path), "--version", "1.2.3",
                   "--header-size", "0x200", "--slot-size", hex(SLOT), "--pad-header",
                   *extra, str(tmp_path / "fw.bin"), str(tmp_path / "out.bin"))
    assert done.returncode == 0, done.stderr
    return (tmp_path / "out.bin").read_bytes()


def test_an_image_signed_by_imgtool_parses_and_verifies(tmp_path, imgtool_key):
    raw = imgtool_sign(tmp_path, imgtool_key, "--align", "8")
    image = mcuboot.verify(raw, mcuboot.load_public_key(imgtool_key))
    assert image.body == BODY and image.header.version == Version(1, 2, 3, 0)


def test_an_image_signed_by_imgtool_with_a_security_counter_verifies(tmp_path, imgtool_key):
    raw = imgtool_sign(tmp_path, imgtool_key, "--align", "8", "-s", "5")
    image = mcuboot.verify(raw, mcuboot.load_public_key(imgtool_key))
    assert [(t.name, t.value) for t in image.protected] == [("SEC_CNT", b"\x05\0\0\0")]


def test_an_image_signed_by_imgtool_for_another_key_is_refused(tmp_path, imgtool_key, key):
    raw = imgtool_sign(tmp_path, imgtool_key, "--align", "8")
    with pytest.raises(VerificationError, match="key hash does not match"):
        mcuboot.verify(raw, key)


def test_an_image_we_sign_passes_imgtool_verify(tmp_path, imgtool_key):
    key = mcuboot.load_private_key(imgtool_key)
    (tmp_path / "ours.bin").write_bytes(mcuboot.sign(BODY, key, "1.2.3", security_counter=3))
    done = imgtool("verify", "-k", str(imgtool_key), str(tmp_path / "ours.bin"))
    assert done.returncode == 0 and "correctly validated" in done.stdout, done.stdout


def test_an_image_we_corrupt_fails_imgtool_verify(tmp_path, imgtool_key):
    key = mcuboot.load_private_key(imgtool_key)
    raw = corrupt(mcuboot.sign(BODY, key, "1.2.3"), 0x200 + 5)
    (tmp_path / "bad.bin").write_bytes(raw)
    done = imgtool("verify", "-k", str(imgtool_key), str(tmp_path / "bad.bin"))
    assert done.returncode != 0


def test_a_key_we_generate_signs_with_imgtool(tmp_path):
    mcuboot.save_private_key(mcuboot.generate_key(), tmp_path / "ours.pem")
    raw = imgtool_sign(tmp_path, tmp_path / "ours.pem", "--align", "8")
    mcuboot.verify(raw, mcuboot.load_public_key(tmp_path / "ours.pem"))


@pytest.mark.parametrize("align", [1, 4, 8, 16, 32])
@pytest.mark.parametrize("mode", ["--pad", "--confirm"])
def test_our_padded_image_matches_imgtool_except_for_the_signature(tmp_path, imgtool_key,
                                                                   align, mode):
    theirs = imgtool_sign(tmp_path, imgtool_key, "--align", str(align), mode)
    ours = mcuboot.sign(BODY, mcuboot.load_private_key(imgtool_key), "1.2.3",
                        align=align, pad_to_slot=SLOT, confirm=mode == "--confirm")
    a, b = mcuboot.parse(theirs), mcuboot.parse(ours)
    assert a.hashed == b.hashed
    assert a.tlvs[:2] == b.tlvs[:2]
    assert len(theirs) == len(ours) == SLOT
    # ECDSA signatures vary in length, so the padding starts one or two bytes apart.
    start = max(a.end, b.end)
    assert theirs[start:] == ours[start:]
    assert set(theirs[a.end:start] + ours[b.end:start]) <= {0xFF}
    assert mcuboot.read_trailer(theirs, align) == mcuboot.read_trailer(ours, align)
    assert mcuboot.read_trailer(theirs, align).image_ok is (
        Flag.SET if mode == "--confirm" else Flag.UNSET)
