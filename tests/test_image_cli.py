"""``ota-emu keygen``, ``sign`` and ``inspect``: round trips, with imgtool as the reference."""

import subprocess
import sys
from pathlib import Path

import pytest

from emu.cli import main
from emu.image import mcuboot

from fixtures.boot import build_app
from fixtures.build import have_compiler

IMGTOOL = Path(sys.executable).parent / "imgtool"
BODY = b"\x00\x80\x00\x20\x09\x02\x02\x00" + bytes(range(256)) * 3


def imgtool(*args: str) -> subprocess.CompletedProcess:
    if not IMGTOOL.exists():
        pytest.skip("imgtool is not installed: it is the reference for this test")
    return subprocess.run([str(IMGTOOL), *args], capture_output=True, text=True, check=False)


@pytest.fixture
def key(tmp_path, capsys):
    path = tmp_path / "key.pem"
    assert main(["keygen", str(path)]) == 0
    capsys.readouterr()
    return path


@pytest.fixture
def firmware(tmp_path):
    path = tmp_path / "fw.bin"
    path.write_bytes(BODY)
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ota-emu: error: ")
    return err


def test_keygen_writes_a_key_and_says_where(tmp_path, capsys):
    assert main(["keygen", str(tmp_path / "k.pem")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {tmp_path / 'k.pem'}: ECDSA P-256 private key, key hash ")
    assert mcuboot.load_private_key(tmp_path / "k.pem").curve.name == "secp256r1"


def test_keygen_refuses_to_overwrite_with_one_line_and_status_2(key, capsys):
    assert main(["keygen", str(key)]) == 2
    assert "already exists" in one_error_line(capsys)


def test_a_signed_padded_confirmed_image_passes_imgtool_verify(tmp_path, key, firmware):
    out = tmp_path / "fw.signed"
    assert main(["sign", str(firmware), str(out), "--key", str(key), "--version", "1.2.3+4",
                 "--slot-size", "0x20000", "--align", "4", "--confirm"]) == 0
    done = imgtool("verify", "-k", str(key), str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Image version: 1.2.3+4" in done.stdout
    trailer = mcuboot.read_trailer(out.read_bytes(), 4)
    assert (trailer.magic, trailer.image_ok) == (mcuboot.Magic.GOOD, mcuboot.Flag.SET)


def test_an_unpadded_image_passes_imgtool_verify(tmp_path, key, firmware):
    out = tmp_path / "fw.signed"
    assert main(["sign", str(firmware), str(out), "--key", str(key), "--version", "0.1"]) == 0
    assert imgtool("verify", "-k", str(key), str(out)).returncode == 0
    assert len(out.read_bytes()) < 0x200 + len(BODY) + 200


def test_an_image_signed_by_imgtool_is_verified_by_inspect(tmp_path, key, firmware, capsys):
    out = tmp_path / "fw.imgtool"
    done = imgtool("sign", "--key", str(key), "--version", "2.0.1", "--header-size", "0x200",
                   "--pad-header", "--slot-size", "0x20000", "--align", "4", "--pad",
                   str(firmware), str(out))
    assert done.returncode == 0, done.stderr
    assert main(["inspect", str(out), "--key", str(key), "--align", "4"]) == 0
    text = capsys.readouterr().out
    assert "  version: 2.0.1+0" in text and "  hash: ok" in text and "  signature: ok" in text
    assert "trailer: magic good, image_ok unset" in text


def test_inspect_names_a_failed_signature_check(tmp_path, key, firmware, capsys):
    out = tmp_path / "fw.signed"
    main(["sign", str(firmware), str(out), "--key", str(key), "--version", "1.0.0"])
    other = tmp_path / "other.pem"
    main(["keygen", str(other)])
    capsys.readouterr()
    assert main(["inspect", str(out), "--key", str(other)]) == 0
    assert "signature: FAILED: key hash does not match" in capsys.readouterr().out


def test_an_elf_is_signed_from_its_vector_table(tmp_path, key, capsys):
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed: fixture ELFs are built at test time")
    elf = build_app(tmp_path, "app", version="3.0.0")
    out = tmp_path / "app.signed"
    assert main(["sign", str(elf), str(out), "--key", str(key), "--version", "3.0.0"]) == 0
    image = mcuboot.verify(out.read_bytes(), mcuboot.load_public_key(key))
    reset_vector = int.from_bytes(image.body[4:8], "little")
    assert 0x2_0200 < reset_vector < 0x2_1000
    assert imgtool("verify", "-k", str(key), str(out)).returncode == 0


def test_a_missing_key_is_one_line_and_status_2(tmp_path, firmware, capsys):
    code = main(["sign", str(firmware), str(tmp_path / "out"), "--key",
                 str(tmp_path / "absent.pem"), "--version", "1.0.0"])
    assert code == 2
    assert "absent.pem: cannot read the key" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_sign_without_a_key_option_is_a_usage_error(tmp_path, firmware, capsys):
    assert main(["sign", str(firmware), str(tmp_path / "out"), "--version", "1.0.0"]) == 2
    assert "--key" in one_error_line(capsys)


def test_a_malformed_image_is_one_line_naming_the_file_and_status_2(tmp_path, capsys):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x12\x34\x56\x78" * 16)
    assert main(["inspect", str(junk)]) == 2
    line = one_error_line(capsys)
    assert str(junk) in line and "not an MCUboot image" in line


def test_a_bad_number_is_a_usage_error(tmp_path, key, firmware, capsys):
    assert main(["sign", str(firmware), str(tmp_path / "o"), "--key", str(key), "--version",
                 "1", "--slot-size", "big"]) == 2
    assert "'big' is not an integer" in one_error_line(capsys)
