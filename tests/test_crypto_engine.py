"""The crypto engine driven through its registers, one behaviour per test.

SHA-256 answers are checked against hashlib on the NIST FIPS 180-2 example messages and
against one-shot hashing; signatures are made with the ``cryptography`` package. The fake
machine has a 1 MHz clock (1,000 cycles per millisecond), interrupt lines, the guest-error
log and two memories. The last test runs the C driver on the real machine.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

from emu.board import Memory, parse_board
from emu.errors import BoardError, InputError
from emu.periph import crypto as ce
from emu.periph.base import PERIPHERAL_TYPES
from emu.periph.crypto import CryptoEngine

import fake_machine
from fixtures.build import build_elf, have_compiler

ROOT = Path(__file__).resolve().parent.parent
DRIVERS = ROOT / "firmware_images" / "drivers"
FLASH, RAM, SIZE = 0x0000_0000, 0x2000_0000, 0x2_0000
MS = 1000
OFF = {r.mnemonic: r.offset for r in CryptoEngine.REGISTERS}

NIST_ABC = b"abc"
NIST_TWO_BLOCKS = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"


class FakeMachine(fake_machine.FakeMachine):
    def __init__(self, board_path: Path | None = None) -> None:
        super().__init__([Memory("flash", "flash", FLASH, SIZE), Memory("sram", "ram", RAM, SIZE)],
                         board_path)


class Rig(fake_machine.DeviceRig):
    """The engine on a fake machine, with register shorthands."""

    def __init__(self, machine: FakeMachine | None = None, **params) -> None:
        machine = machine or FakeMachine()
        super().__init__(machine, CryptoEngine(machine, "ce0", 0x4000_9000, irq=11, **params),
                         RAM)

    def command(self, op: int, settle: bool = True) -> int:
        self.wr("CMD", op)
        while settle and self.rd("STATUS") & ce.BUSY:
            self.machine.advance(100)
        return self.rd("ERR")

    def update(self, data: bytes) -> int:
        self.wr("DATA_ADDR", self.put(data))
        self.wr("DATA_LEN", len(data))
        return self.command(ce.SHA_UPDATE)

    def digest(self) -> bytes:
        return b"".join(self.rd(f"DIGEST{i}").to_bytes(4, "big") for i in range(8))

    def sha256(self, *chunks: bytes) -> bytes:
        self.command(ce.SHA_INIT)
        for chunk in chunks:
            assert self.update(chunk) == ce.ERR_NONE
        assert self.command(ce.SHA_FINAL) == ce.ERR_NONE
        return self.digest()

    def verify(self, slot: int, digest: bytes, sig: bytes) -> int:
        """VERIFY_MEM with the digest and signature in RAM; returns RESULT."""
        self.wr("SLOT", slot)
        self.wr("DIGEST_ADDR", self.put(digest))
        self.wr("SIG_ADDR", self.put(sig))
        self.wr("SIG_LEN", len(sig))
        assert self.command(ce.VERIFY_MEM) == ce.ERR_NONE
        return self.rd("RESULT")


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _sign(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """A DER signature of ``digest``."""
    return key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def _raw(der: bytes) -> bytes:
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _certificate(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ota signer")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


DIGEST = hashlib.sha256(b"firmware image").digest()


# -- identity -----------------------------------------------------------------------------------

def test_model_is_registered_for_board_files():
    assert PERIPHERAL_TYPES["crypto-engine"] is CryptoEngine


def test_registers_start_at_their_documented_reset_values(rig):
    assert rig.rd("ID") == 0x4352_5931
    assert rig.rd("STATUS") == 0
    assert rig.rd("SLOTS") == 16
    assert rig.rd("KEYMAP") == 0
    assert rig.rd("RESULT") == ce.RESULT_NONE


# -- SHA-256 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("message", [b"", NIST_ABC, NIST_TWO_BLOCKS, bytes(range(256)) * 200],
                         ids=["empty", "abc", "two-blocks", "51200-bytes"])
def test_sha256_matches_the_reference(rig, message):
    assert rig.sha256(message) == hashlib.sha256(message).digest()


def test_sha256_of_abc_is_the_fips_180_2_value(rig):
    assert rig.sha256(NIST_ABC).hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_several_updates_give_the_one_shot_digest(rig):
    message = bytes(range(256)) * 9
    cuts = [0, 1, 63, 64, 65, 0, 1000, len(message)]
    chunks = [message[a:b] for a, b in itertools.pairwise(sorted(cuts))]
    assert rig.sha256(*chunks) == hashlib.sha256(message).digest()


def test_update_hashes_bytes_in_flash(rig):
    rig.machine.mem_write(FLASH + 0x400, b"vector table and code")
    rig.command(ce.SHA_INIT)
    rig.wr("DATA_ADDR", FLASH + 0x400)
    rig.wr("DATA_LEN", 21)
    rig.command(ce.SHA_UPDATE)
    rig.command(ce.SHA_FINAL)
    assert rig.digest() == hashlib.sha256(b"vector table and code").digest()


def test_update_is_busy_one_cycle_per_byte_plus_the_overhead(rig):
    rig.command(ce.SHA_INIT)
    rig.wr("DATA_ADDR", rig.put(bytes(1000)))
    rig.wr("DATA_LEN", 1000)
    rig.command(ce.SHA_UPDATE, settle=False)
    rig.machine.advance(1000 + 64 - 1)
    assert rig.rd("STATUS") & ce.BUSY
    rig.machine.advance(1)
    assert rig.rd("STATUS") & (ce.BUSY | ce.DONE) == ce.DONE


def test_digest_registers_change_only_when_final_completes(rig):
    rig.command(ce.SHA_INIT)
    rig.command(ce.SHA_FINAL, settle=False)
    assert rig.digest() == bytes(32)
    rig.machine.advance(64)
    assert rig.digest() == hashlib.sha256(b"").digest()


def test_update_without_init_is_refused_with_no_hash(rig):
    assert rig.update(b"x") == ce.ERR_NO_HASH
    assert rig.rd("STATUS") & (ce.DONE | ce.ERROR | ce.BUSY) == ce.DONE | ce.ERROR


def test_final_closes_the_hash(rig):
    rig.sha256(b"x")
    assert not rig.rd("STATUS") & ce.SHA_ACTIVE
    assert rig.command(ce.SHA_FINAL) == ce.ERR_NO_HASH


def test_update_from_unmapped_memory_is_bad_address_and_keeps_the_hash(rig):
    rig.command(ce.SHA_INIT)
    rig.update(b"ab")
    rig.wr("DATA_ADDR", 0x6000_0000)
    rig.wr("DATA_LEN", 4)
    assert rig.command(ce.SHA_UPDATE) == ce.ERR_BAD_ADDRESS
    rig.update(b"c")
    rig.command(ce.SHA_FINAL)
    assert rig.digest() == hashlib.sha256(b"abc").digest()


def test_reset_drops_an_open_hash(rig):
    rig.command(ce.SHA_INIT)
    rig.dev.reset()
    assert rig.rd("STATUS") == 0
    assert rig.update(b"x") == ce.ERR_NO_HASH


def test_snapshot_and_restore_resume_an_open_hash(rig):
    rig.command(ce.SHA_INIT)
    rig.update(b"ab")
    state = rig.dev.snapshot()
    rig.update(b"zzz")
    rig.dev.restore(state)
    rig.update(b"c")
    rig.command(ce.SHA_FINAL)
    assert rig.digest() == hashlib.sha256(b"abc").digest()


def test_command_written_while_busy_is_ignored_and_logged(rig):
    rig.command(ce.SHA_INIT, settle=False)
    rig.wr("CMD", ce.SHA_FINAL)
    assert rig.machine.guest_errors == ["CMD written while BUSY; ignored"]


def test_unknown_command_is_bad_command(rig):
    assert rig.command(0xE) == ce.ERR_BAD_COMMAND


# -- ECDSA P-256 --------------------------------------------------------------------------------

def test_valid_der_signature_verifies(rig, key):
    rig.dev.provision(0, _pem(key))
    assert rig.verify(0, DIGEST, _sign(key, DIGEST)) == ce.RESULT_VALID


def test_valid_raw_signature_verifies(rig, key):
    rig.dev.provision(0, _pem(key))
    assert rig.verify(0, DIGEST, _raw(_sign(key, DIGEST))) == ce.RESULT_VALID


def test_signature_with_one_flipped_bit_is_invalid(rig, key):
    rig.dev.provision(0, _pem(key))
    raw = bytearray(_raw(_sign(key, DIGEST)))
    raw[40] ^= 0x01
    assert rig.verify(0, DIGEST, bytes(raw)) == ce.RESULT_INVALID


def test_signature_of_another_digest_is_invalid(rig, key):
    rig.dev.provision(0, _pem(key))
    other = hashlib.sha256(b"another image").digest()
    assert rig.verify(0, DIGEST, _sign(key, other)) == ce.RESULT_INVALID


def test_raw_signature_with_r_zero_is_invalid(rig, key):
    rig.dev.provision(0, _pem(key))
    assert rig.verify(0, DIGEST, bytes(32) + b"\x01" * 32) == ce.RESULT_INVALID


def test_empty_slot_gives_no_key(rig, key):
    rig.dev.provision(0, _pem(key))
    assert rig.verify(1, DIGEST, _sign(key, DIGEST)) == ce.RESULT_NO_KEY


def test_slot_beyond_the_last_gives_no_key(rig, key):
    assert rig.verify(99, DIGEST, _sign(key, DIGEST)) == ce.RESULT_NO_KEY


@pytest.mark.parametrize("sig", [
    bytes.fromhex("3006020101020102ff"),  # trailing byte after the SEQUENCE
    bytes.fromhex("30070202000102010200"),  # r with a needless leading zero
    bytes.fromhex("3106020101020101"),  # a SET, not a SEQUENCE
    b"\x30" * 70,
    b"",
    b"\x01" * 73,
], ids=["trailing-byte", "non-minimal-integer", "set-tag", "garbage", "empty", "too-long"])
def test_malformed_der_gives_bad_signature_format(rig, key, sig):
    rig.dev.provision(0, _pem(key))
    assert rig.verify(0, DIGEST, sig) == ce.RESULT_BAD_SIGNATURE_FORMAT


def test_verify_against_the_digest_registers_after_hashing(rig, key):
    rig.dev.provision(3, _pem(key))
    digest = rig.sha256(b"firmware image")
    sig = _raw(_sign(key, digest))
    rig.wr("SLOT", 3)
    rig.wr("SIG_ADDR", rig.put(sig))
    rig.wr("SIG_LEN", 64)
    rig.command(ce.VERIFY)
    assert rig.rd("RESULT") == ce.RESULT_VALID


def test_verify_is_busy_for_50_ms_and_then_raises_done_interrupt(rig, key):
    rig.dev.provision(0, _pem(key))
    rig.wr("INTEN", ce.IE_DONE)
    rig.wr("DIGEST_ADDR", rig.put(DIGEST))
    sig = _sign(key, DIGEST)
    rig.wr("SIG_ADDR", rig.put(sig))
    rig.wr("SIG_LEN", len(sig))
    rig.command(ce.VERIFY_MEM, settle=False)
    rig.machine.advance(50 * MS - 1)
    assert (rig.rd("STATUS") & ce.BUSY, rig.rd("RESULT"), rig.machine.irqs) == (
        ce.BUSY, ce.RESULT_NONE, [])
    rig.machine.advance(1)
    assert (rig.rd("RESULT"), rig.machine.irqs) == (ce.RESULT_VALID, [11])


def test_signature_in_unmapped_memory_is_bad_address(rig, key):
    rig.dev.provision(0, _pem(key))
    rig.wr("DIGEST_ADDR", rig.put(DIGEST))
    rig.wr("SIG_ADDR", 0x6000_0000)
    rig.wr("SIG_LEN", 64)
    assert rig.command(ce.VERIFY_MEM) == ce.ERR_BAD_ADDRESS


# -- keys ---------------------------------------------------------------------------------------

def test_provisioned_keys_show_in_keymap_and_survive_reset(rig, key):
    rig.dev.provision(0, _pem(key))
    rig.dev.provision(5, _pem(key))
    rig.dev.reset()
    assert rig.rd("KEYMAP") == 0b10_0001


@pytest.mark.parametrize("form", ["der", "point", "xy", "certificate", "object"])
def test_a_key_is_accepted_in_every_documented_form(rig, key, form):
    public = key.public_key()
    material = {
        "der": lambda: public.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo),
        "point": lambda: public.public_bytes(serialization.Encoding.X962,
                                             serialization.PublicFormat.UncompressedPoint),
        "xy": lambda: public.public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)[1:],
        "certificate": lambda: _certificate(key).decode(),
        "object": lambda: public,
    }[form]()
    rig.dev.provision(2, material)
    assert rig.verify(2, DIGEST, _sign(key, DIGEST)) == ce.RESULT_VALID


def test_provisioning_a_p384_key_is_an_input_error(rig):
    other = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(InputError, match="not P-256"):
        rig.dev.provision(0, _pem(other))


def test_provisioning_a_private_key_is_an_input_error(rig, key):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with pytest.raises(InputError, match="private key"):
        rig.dev.provision(0, pem)


def test_provisioning_a_missing_slot_is_an_input_error(rig, key):
    with pytest.raises(InputError, match="outside 0..15"):
        rig.dev.provision(16, _pem(key))


def _from_board(tmp_path: Path, keys: dict) -> CryptoEngine:
    machine = FakeMachine(board_path=tmp_path / "board.toml")
    spec = {"name": "ce0", "type": "crypto-engine", "base": 0x4000_9000, "keys": keys}
    return CryptoEngine.from_board(machine, spec)


def test_board_keys_accept_inline_pem_and_paths_relative_to_the_board_file(tmp_path, key):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "signer.pem").write_bytes(_certificate(key))
    dev = _from_board(tmp_path, {"0": _pem(key).decode(), "7": "keys/signer.pem"})
    assert dev.read(OFF["KEYMAP"], 4) == (1 << 0) | (1 << 7)


def test_board_key_file_that_does_not_exist_is_a_board_error(tmp_path):
    with pytest.raises(BoardError, match="cannot read key file"):
        _from_board(tmp_path, {"0": "missing.pem"})


def test_board_key_that_is_not_a_key_is_a_board_error(tmp_path):
    (tmp_path / "junk.pem").write_text("hello")
    with pytest.raises(BoardError, match="not a public key"):
        _from_board(tmp_path, {"0": "junk.pem"})


def test_board_key_slot_that_is_not_a_number_is_a_board_error(tmp_path, key):
    with pytest.raises(BoardError, match="not a number"):
        _from_board(tmp_path, {"first": _pem(key).decode()})


def test_unknown_parameter_is_a_board_error():
    with pytest.raises(BoardError, match="verify_msec"):
        CryptoEngine(FakeMachine(), "ce0", 0x4000_9000, verify_msec=3)


# -- the C driver on the machine ----------------------------------------------------------------

CRYPTO_BASE = 0x4000_9000


def _c_array(name: str, data: bytes) -> str:
    body = ", ".join(f"0x{b:02x}" for b in data)
    return f"static const unsigned char {name}[{len(data)}] = {{{body}}};\n"


DRIVER_MAIN = r"""
#include "crypto.h"

static void finish(unsigned code)
{
    unsigned block[2] = {0x20026u, code};
    register unsigned r0 __asm__("r0") = 0x20u;
    register unsigned *r1 __asm__("r1") = block;

    __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
}

static int same(const unsigned char *a, const unsigned char *b, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (a[i] != b[i]) return 0;
    }
    return 1;
}

static unsigned char flipped[64];
static uint8_t digest[32];

int main(void)
{
    unsigned i;

    if (crypto_init(0x40009000u, 0) != CRYPTO_OK) finish(1);
    if (crypto_sha256_init() != CRYPTO_OK) finish(2);
    if (crypto_sha256_update(message, 5) != CRYPTO_OK) finish(3);
    if (crypto_sha256_update(message + 5, sizeof message - 5) != CRYPTO_OK)
        finish(4);
    if (crypto_sha256_final(digest) != CRYPTO_OK) finish(5);
    if (!same(digest, expected, 32)) finish(6);
    if (crypto_verify_p256(0, digest, raw, 64) != CRYPTO_VALID) finish(7);
    if (crypto_verify_p256(0, digest, der, sizeof der) != CRYPTO_VALID)
        finish(8);
    for (i = 0; i < 64; i++) flipped[i] = raw[i];
    flipped[63] ^= 0x80u;
    if (crypto_verify_p256(0, digest, flipped, 64) != CRYPTO_INVALID)
        finish(9);
    if (crypto_verify_p256(4, digest, raw, 64) != CRYPTO_NO_KEY) finish(10);
    if (crypto_key_map() != 1u) finish(11);
    finish(0);
    return 0;
}
"""


def test_c_driver_hashes_and_verifies_on_the_machine(tmp_path, key):
    if not have_compiler():
        pytest.skip("arm-none-eabi-gcc is not installed")
    from emu.core.machine import Machine
    from emu.elf import load_elf

    message = b"an image of many bytes, hashed in two pieces"
    digest = hashlib.sha256(message).digest()
    der = _sign(key, digest)
    main = tmp_path / "main.c"
    main.write_text("#include <stdint.h>\n" + _c_array("message", message)
                    + _c_array("expected", digest) + _c_array("raw", _raw(der))
                    + _c_array("der", der) + DRIVER_MAIN)
    elf = build_elf(tmp_path, "crypto", ["vectors.c", str(main), str(DRIVERS / "crypto.c")],
                    extra=("-I", str(DRIVERS)))
    board = parse_board({
        "name": "crypto-test", "cpu": "cortex-m3", "clock_hz": 25_000_000,
        "memory": [{"name": "flash", "kind": "flash", "base": 0, "size": 0x4_0000},
                   {"name": "sram", "kind": "ram", "base": RAM, "size": 0x1_0000}],
        "peripheral": [{"name": "ce0", "type": "crypto-engine", "base": CRYPTO_BASE,
                        "keys": {"0": _pem(key).decode()}}],
    })
    machine = Machine(board)
    machine.load(load_elf(elf))
    machine.reset()

    result = machine.run(max_seconds=2)

    assert (result.status, result.exit_code) == ("exit", 0), result.message
    assert 0.2 < result.seconds < 0.21  # four verifications of 50 ms each
