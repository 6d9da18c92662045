"""The image commands the CLI calls: keygen, sign (from .bin or ELF) and inspect."""

import struct

import pytest

from emu.errors import ImageError, InputError
from emu.flash import FlashArray, FlashLayout, filestore
from emu.image import commands, mcuboot

from fixtures.build import run_tool

BODY = b"\x00\x10\x00\x20" + bytes(range(200))


def make_elf(path, segments: list[tuple[int, bytes]]) -> None:
    """A minimal ARM ELF32 executable: one PT_LOAD per (address, bytes), no sections."""
    count = len(segments)
    header = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9) + struct.pack(
        "<HHIIIIIHHHHHH", 2, 40, 1, segments[0][0] | 1, 52, 0, 0x0500_0200, 52, 32, count,
        40, 0, 0)
    offset = 52 + 32 * count
    phdrs, blobs = b"", b""
    for address, data in segments:
        phdrs += struct.pack("<IIIIIIII", 1, offset + len(blobs), address, address, len(data),
                             len(data), 5, 4)
        blobs += data
    path.write_bytes(header + phdrs + blobs)


@pytest.fixture
def key_path(tmp_path):
    return commands.keygen(tmp_path / "k.pem")


def test_keygen_writes_a_p256_key_that_signing_accepts(key_path):
    key = mcuboot.load_private_key(key_path)
    assert key.curve.name == "secp256r1"
    assert key_path.stat().st_mode & 0o077 == 0


def test_keygen_never_overwrites_a_file(key_path):
    before = key_path.read_bytes()
    with pytest.raises(InputError, match="already exists"):
        commands.keygen(key_path)
    assert key_path.read_bytes() == before


def test_sign_a_raw_binary_into_a_verifiable_slot_image(tmp_path, key_path):
    (tmp_path / "fw.bin").write_bytes(BODY)
    commands.sign(tmp_path / "fw.bin", tmp_path / "fw.signed", key_path, "3.1.4",
                  slot_size=0x1_0000, confirm=True)
    raw = (tmp_path / "fw.signed").read_bytes()
    image = mcuboot.verify(raw, mcuboot.load_public_key(key_path))
    assert image.body == BODY and str(image.header.version) == "3.1.4+0"
    assert len(raw) == 0x1_0000 and mcuboot.read_trailer(raw).image_ok is mcuboot.Flag.SET


def test_sign_without_a_key_makes_an_unsigned_image(tmp_path):
    (tmp_path / "fw.bin").write_bytes(BODY)
    image = commands.sign(tmp_path / "fw.bin", tmp_path / "out", None, "1.0.0")
    assert [t.name for t in image.tlvs] == ["SHA256"]


def test_an_elf_body_is_its_segments_with_erased_gaps(tmp_path):
    make_elf(tmp_path / "fw.elf", [(0x0802_0200, b"\x01" * 8), (0x0802_0210, b"\x02" * 4)])
    body = commands.load_body(tmp_path / "fw.elf")
    assert body == b"\x01" * 8 + b"\xff" * 8 + b"\x02" * 4


def test_an_elf_body_starts_at_the_given_base(tmp_path):
    make_elf(tmp_path / "fw.elf", [(0x0802_0204, b"\x01" * 4)])
    assert commands.load_body(tmp_path / "fw.elf", base=0x0802_0200) == b"\xff" * 4 + b"\x01" * 4


def test_an_elf_segment_below_the_base_is_refused(tmp_path):
    make_elf(tmp_path / "fw.elf", [(0x0802_0000, b"\x01" * 4)])
    with pytest.raises(ImageError, match="below the base"):
        commands.load_body(tmp_path / "fw.elf", base=0x0802_0200)


def test_a_base_for_a_raw_binary_is_refused(tmp_path):
    (tmp_path / "fw.bin").write_bytes(BODY)
    with pytest.raises(ImageError, match="ELF input only"):
        commands.load_body(tmp_path / "fw.bin", base=0)


def test_an_elf_body_equals_objcopy_binary_output(tmp_path, calls_elf):
    out = tmp_path / "ref.bin"
    run_tool("arm-none-eabi-objcopy", "-O", "binary", "--gap-fill", "0xff", str(calls_elf),
             str(out))
    assert commands.load_body(calls_elf) == out.read_bytes()


def test_inspect_shows_fields_tlvs_and_verdicts(tmp_path, key_path):
    (tmp_path / "fw.bin").write_bytes(BODY)
    commands.sign(tmp_path / "fw.bin", tmp_path / "fw.signed", key_path, "1.2.3+9",
                  slot_size=0x1_0000)
    text = commands.inspect(tmp_path / "fw.signed", key_path)
    assert "version: 1.2.3+9" in text
    assert f"body: {len(BODY)} bytes" in text
    assert "TLV KEYHASH (32 bytes)" in text
    assert "hash: ok" in text and "signature: ok" in text
    assert "trailer: magic good, image_ok unset" in text


def test_inspect_reports_a_wrong_key_and_a_broken_hash_without_raising(tmp_path, key_path):
    (tmp_path / "fw.bin").write_bytes(BODY)
    commands.sign(tmp_path / "fw.bin", tmp_path / "fw.signed", key_path, "1.0.0")
    raw = bytearray((tmp_path / "fw.signed").read_bytes())
    raw[0x200] ^= 0xFF
    (tmp_path / "bad.signed").write_bytes(raw)
    other = commands.keygen(tmp_path / "other.pem")
    text = commands.inspect(tmp_path / "bad.signed", other)
    assert "hash: FAILED: hash mismatch" in text
    assert "signature: FAILED: hash mismatch" in text
    good = commands.inspect(tmp_path / "fw.signed", other)
    assert "signature: FAILED: key hash does not match" in good
    assert "trailer: none" in good


def test_inspect_without_a_key_does_not_check_the_signature(tmp_path, key_path):
    (tmp_path / "fw.bin").write_bytes(BODY)
    commands.sign(tmp_path / "fw.bin", tmp_path / "fw.signed", key_path, "1.0.0")
    assert "signature: not checked" in commands.inspect(tmp_path / "fw.signed")


def test_inspect_refuses_a_file_that_is_no_image(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"\x00" * 64)
    with pytest.raises(ImageError, match="bad magic"):
        commands.inspect(tmp_path / "x.bin")


def test_inspect_hands_flash_files_to_the_installed_inspector(tmp_path):
    array = FlashArray(FlashLayout.uniform("flash", 0, 1024, 4, 4))
    filestore.save(tmp_path / "b.flash", "ref-m3", [array])
    assert "board: ref-m3" in commands.inspect(tmp_path / "b.flash")
    commands.set_flash_file_inspector(lambda path: f"custom view of {path.name}")
    try:
        assert commands.inspect(tmp_path / "b.flash") == "custom view of b.flash"
    finally:
        commands.set_flash_file_inspector(None)
