"""The boot model at a reset of the reference board: its decisions, refusals and log."""

from dataclasses import dataclass

import pytest

from emu.board import load_board
from emu.boot import NO_IMAGE, BootModel, SlotMap, attach_boot, slot_image, slot_map, write_slot
from emu.core.machine import Machine
from emu.errors import BoardError
from emu.image import mcuboot
from emu.image.keys import generate_key
from emu.image.trailer import Flag, Magic

from fixtures.boot import body


@dataclass
class Rig:
    machine: Machine
    model: BootModel
    slots: SlotMap

    def install(self, slot, version, key, *, confirm=False, pending=True, seed=0, size=1000):
        data = body(self.slots, size, seed)
        image = slot_image(data, key, version, self.slots, confirm=confirm, pending=pending)
        write_slot(self.machine, self.slots, slot, image)
        return image

    def boot(self, reason="power-on"):
        self.machine.reset(reason)
        return self.model.lines

    def slot(self, name):
        area = self.slots.area(name)
        return self.machine.flash["flash"].read(area.offset, area.size)

    def trailer(self, name):
        return mcuboot.read_trailer(self.slot(name), self.slots.align,
                                    max_sectors=self.slots.max_sectors)

    def confirm(self):
        """What a PAL does: program image_ok in the primary trailer."""
        offset = self.slots.primary.offset + self.slots.slot_trailer().image_ok_off
        self.machine.flash["flash"].program(offset, b"\x01\xff\xff\xff")


@pytest.fixture(scope="module")
def key():
    return generate_key()


@pytest.fixture
def rig(key):
    return make_rig(key)


def make_rig(key, board=None, **attach):
    machine = Machine(board or load_board("ref-m4f"))
    return Rig(machine, attach_boot(machine, trusted_key=key, **attach),
               slot_map(machine.board))


def factory(rig, key):
    """v1.0.0 confirmed in the primary slot, the usual state after production."""
    return rig.install("primary", "1.0.0", key, confirm=True, seed=1)


def test_a_pending_image_is_swapped_in_for_a_test(rig, key):
    old = factory(rig, key)
    new = rig.install("secondary", "1.0.1", key, seed=2)
    lines = rig.boot()
    assert "swap type: test" in lines and str(rig.model.booted.version) == "1.0.1+0"
    assert lines[-1].startswith("booting primary v1.0.1, a test image")
    primary, secondary = rig.trailer("primary"), rig.trailer("secondary")
    assert (primary.magic, primary.image_ok, primary.copy_done) == (
        Magic.GOOD, Flag.UNSET, Flag.SET)
    assert secondary.magic is Magic.UNSET
    size = mcuboot.parse(new).end
    assert rig.slot("primary")[:size] == new[:size]
    assert rig.slot("secondary")[:mcuboot.parse(old).end] == old[:mcuboot.parse(old).end]


def test_a_pending_confirmed_image_is_swapped_in_for_good(rig, key):
    factory(rig, key)
    rig.install("secondary", "2.0.0", key, confirm=True, seed=2)
    assert "swap type: permanent" in rig.boot()
    primary = rig.trailer("primary")
    assert (primary.image_ok, primary.copy_done) == (Flag.SET, Flag.SET)
    assert "swap type: none" in rig.boot("software")
    assert str(rig.model.booted.version) == "2.0.0+0"


def test_an_unconfirmed_test_image_is_reverted_at_the_next_reset(rig, key):
    factory(rig, key)
    rig.install("secondary", "1.0.1", key, seed=2)
    rig.boot()
    lines = rig.boot("software")
    assert "swap type: revert" in lines and lines[-1].startswith("booting primary v1.0.0 (")
    assert rig.trailer("primary").image_ok is Flag.SET
    assert "swap type: none" in rig.boot("software")


def test_a_confirmed_test_image_stays(rig, key):
    factory(rig, key)
    rig.install("secondary", "1.0.1", key, seed=2)
    rig.boot()
    rig.confirm()
    assert "swap type: none" in rig.boot("software")
    assert str(rig.model.booted.version) == "1.0.1+0"


def test_with_nothing_requested_the_primary_boots_at_its_vector_table(rig, key):
    factory(rig, key)
    lines = rig.boot()
    assert "swap type: none" in lines
    assert rig.machine.vtor == rig.slots.address(rig.slots.primary) + 0x200
    assert rig.machine.reg("pc") == rig.machine.vtor + 8


def tamper_signature(image: bytes) -> bytes:
    signature = mcuboot.parse(image).find(mcuboot.TLV_ECDSA_SIG)[0].value
    at = image.index(signature) + len(signature) // 2
    return image[:at] + bytes([image[at] ^ 0x01]) + image[at + 1:]


def tamper_body(image: bytes) -> bytes:
    return image[:0x300] + bytes([image[0x300] ^ 0xFF]) + image[0x301:]


@pytest.mark.parametrize(("spoil", "signer", "reason"), [
    (tamper_signature, "trusted", "signature does not verify"),
    (None, "stranger", "key hash does not match"),
    (tamper_body, "trusted", "hash mismatch"),
])
def test_an_invalid_update_is_refused_with_its_reason_and_erased(rig, key, spoil, signer,
                                                                 reason):
    factory(rig, key)
    image = rig.install("secondary", "1.0.1", key if signer == "trusted" else generate_key())
    if spoil is not None:
        write_slot(rig.machine, rig.slots, "secondary", spoil(image))
    lines = rig.boot()
    refusal = next(line for line in lines if line.endswith(": refusing image"))
    assert refusal.startswith("secondary slot: ") and reason in refusal
    assert lines[lines.index(refusal) + 1:lines.index(refusal) + 3] == [
        "secondary slot: erased", "swap type: fail"]
    assert rig.slot("secondary") == b"\xff" * rig.slots.secondary.size
    assert str(rig.model.booted.version) == "1.0.0+0"


def test_a_refused_update_can_be_left_in_place_when_the_board_says_so(key):
    board = load_board("ref-m4f")
    board.extra["boot"] = {**board.extra["boot"], "erase_invalid": False}
    rig = make_rig(key, board)
    factory(rig, key)
    image = tamper_body(rig.install("secondary", "1.0.1", key))
    write_slot(rig.machine, rig.slots, "secondary", image)
    lines = rig.boot()
    assert "secondary slot: left as it is (erase_invalid = false)" in lines
    assert rig.slot("secondary")[:len(image)] == image


def test_a_failed_update_confirms_the_running_test_image(rig, key):
    factory(rig, key)
    rig.install("secondary", "1.0.1", key, seed=2)
    rig.boot()
    write_slot(rig.machine, rig.slots, "secondary",
               tamper_body(slot_image(body(rig.slots, seed=3), key, "1.0.2", rig.slots)))
    lines = rig.boot("software")
    assert "swap type: fail" in lines and "swap type: revert" not in lines
    assert rig.trailer("primary").image_ok is Flag.SET
    assert "swap type: none" in rig.boot("software")


def test_a_downgrade_is_refused_when_the_board_prevents_it(key):
    rig = make_rig(key, allow_downgrade=False)
    factory(rig, key)
    rig.install("secondary", "0.9.0", key, seed=2)
    lines = rig.boot()
    assert "secondary slot: v0.9.0 is older than primary v1.0.0: downgrade refused" in lines
    assert rig.trailer("secondary").magic is Magic.UNSET
    assert str(rig.model.booted.version) == "1.0.0+0"


def test_a_downgrade_is_swapped_in_when_allowed(rig, key):
    factory(rig, key)
    rig.install("secondary", "0.9.0", key, seed=2)
    assert "swap type: test" in rig.boot()
    assert str(rig.model.booted.version) == "0.9.0+0"


def test_the_board_setting_turns_downgrade_prevention_on(key):
    board = load_board("ref-m4f")
    board.extra["boot"] = {**board.extra["boot"], "downgrade_prevention": True}
    assert make_rig(key, board).model.downgrade_prevention


def test_an_image_linked_for_another_address_is_not_booted(rig, key):
    image = slot_image(b"\x00\x80\x00\x20\x01\x01\x00\x00" + bytes(100), key, "1.0.0",
                       rig.slots, confirm=True)
    write_slot(rig.machine, rig.slots, "primary", image)
    lines = rig.boot()
    assert "outside the primary slot: the image was linked for another address" in lines[-2]


def test_with_no_valid_image_the_run_stops_with_a_verdict(rig):
    rig.machine.reset()
    result = rig.machine.run(max_seconds=1)
    assert (result.status, result.message) == ("stopped", NO_IMAGE)
    assert rig.model.lines[-2:] == ["primary slot: no image (the header is erased)",
                                    "no bootable image: halting"]


def test_a_reset_during_a_run_that_finds_no_image_stops_before_the_core_runs(rig, key):
    factory(rig, key)
    rig.machine.reset()

    def erase_and_reset():
        rig.machine.flash["flash"].write_raw(rig.slots.primary.offset, b"\xff" * 64)
        rig.machine.request_reset("software")

    rig.machine.schedule(10_000, erase_and_reset)
    result = rig.machine.run(max_seconds=1)
    assert (result.status, result.message) == ("stopped", NO_IMAGE)


def test_the_log_is_on_the_console_one_prefixed_line_per_step(rig, key):
    factory(rig, key)
    rig.boot()
    lines = rig.machine.transcript.decode().splitlines()
    assert lines == [f"[boot] {line}" for line in rig.model.lines]
    assert lines[0] == "[boot] reset: power-on"


def test_the_trusted_key_can_come_from_the_board_file(tmp_path):
    machine = Machine(load_board("ref-m3"))
    model = attach_boot(machine)
    assert model.key.curve.name == "secp256r1"


def test_a_board_without_a_key_needs_one_from_the_caller():
    board = load_board("ref-m4f")
    board.extra["boot"] = {"mode": "model"}
    with pytest.raises(BoardError, match="names no key and none was given"):
        attach_boot(Machine(board))


def test_a_board_that_boots_a_bootloader_elf_refuses_the_model():
    board = load_board("ref-m4f")
    board.extra["boot"] = {"mode": "elf"}
    with pytest.raises(BoardError, match='mode = "elf"'):
        attach_boot(Machine(board))


def test_image_ok_of_the_reference_primary_slot_is_where_docs_boot_md_says():
    slots = slot_map(load_board("ref-m4f"))
    layout = slots.slot_trailer()
    assert slots.address(slots.primary) + layout.image_ok_off == 0x001F_FFE8
    assert slots.address(slots.secondary) + layout.magic_off == 0x003D_FFF0
