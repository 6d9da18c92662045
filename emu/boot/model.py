"""The boot model: what MCUboot (swap using scratch, one image) does at every reset.

It runs as a reset hook of the machine (``Machine.reset_hooks``), before the core fetches its
reset vector, and acts on the flash through flash operations (emu/boot/area.py). At each
reset, as ``context_boot_go`` in MCUboot's loader.c does:

1. read the swap status; a swap that a reset interrupted is finished first (and nothing
   else is decided at that boot);
2. otherwise decide the swap type from both trailers (emu/boot/decision.py); a requested
   swap needs a valid secondary image, else the swap type is *fail*: the image is erased (or
   left, when the board says ``erase_invalid = false``) and image_ok is set in the primary
   slot so that nothing is retried; a downgrade is refused when the board asks for it;
3. swap (emu/boot/swap.py), then set image_ok after a permanent swap or a revert, and
   copy_done after any swap;
4. validate the primary slot and point VTOR at its vector table; with no valid image the
   run stops with the verdict "no bootable image".

Each step is one line on the console, prefixed ``[boot]``, like a bootloader's UART log.
A flash operation that the NOR rules refuse is MCUboot's *panic*: the run stops.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from emu.boot.area import FlashArea
from emu.boot.decision import SWAP_NAMES, copy_done, swap_type
from emu.boot.slots import BootConfig, SlotMap, boot_config, slot_map
from emu.boot.swap import STEPS_PER_REGION, Swap, SwapStatus, read_status
from emu.boot.validate import (
    SlotImage,
    find_image,
    is_newer_or_equal,
    validate,
    version_text,
)
from emu.errors import BoardError, VerificationError
from emu.flash.nor import FlashOpError
from emu.image.keys import PrivateKey, PublicKey, load_public_key, public_key
from emu.image.trailer import Flag, Magic, SwapType, Trailer

if TYPE_CHECKING:
    from emu.core.machine import Machine

KeySource = str | os.PathLike[str] | PublicKey | PrivateKey
NO_IMAGE = "no bootable image"
UPGRADES = (SwapType.TEST, SwapType.PERM, SwapType.REVERT)


class BootPanic(Exception):
    """The trailers describe a state the bootloader cannot go on from (MCUboot asserts)."""


class BootModel:
    """MCUboot's decisions and swap for one machine, run at each of its resets.

    ``lines`` holds the log of the last boot (without the prefix), ``booted`` the image that
    boot started, or None.
    """

    def __init__(self, machine: Machine, slots: SlotMap, key: PublicKey, *,
                 downgrade_prevention: bool = False, erase_invalid: bool = True) -> None:
        self.machine = machine
        self.slots = slots
        self.key = key
        self.downgrade_prevention = downgrade_prevention
        self.erase_invalid = erase_invalid
        array = machine.flash[slots.flash]
        self.primary = FlashArea(array, slots.primary, slots.slot_trailer())
        self.secondary = FlashArea(array, slots.secondary, slots.slot_trailer())
        self.scratch = FlashArea(array, slots.scratch, slots.scratch_trailer())
        self.swap = Swap(self.primary, self.secondary, self.scratch)
        self.lines: list[str] = []
        self.booted: SlotImage | None = None

    def __call__(self, machine: Machine, reason: str) -> None:
        self.boot(reason)

    # -- one boot --------------------------------------------------------------------------

    def boot(self, reason: str) -> None:
        """Everything the bootloader does between a reset and the jump to the image."""
        self.lines = []
        self.booted = None
        self.say(f"reset: {reason}")
        try:
            self._update()
            self._launch()
        except (FlashOpError, BootPanic) as e:
            self._halt(f"{e}: panic", f"boot panic: {e}")

    def say(self, text: str) -> None:
        """One line of the boot log on the console."""
        self.lines.append(text)
        self.machine.console_write(f"[boot] {text}\n".encode())

    def _update(self) -> None:
        status = read_status(self.primary, self.scratch)
        if status.inconsistent:
            self.say("swap status: a written entry follows an erased one; resuming at the gap")
        if status.in_progress:
            self._resume(status)
            return
        self._describe(self.primary, self.primary.trailer())
        self._describe(self.secondary, self.secondary.trailer())
        kind = status.swap_type
        if kind is SwapType.NONE:
            kind = swap_type(self.primary.trailer(), self.secondary.trailer())
        else:
            self.say(f"swap status: a {SWAP_NAMES[kind]} swap was starting; starting it again")
        self.say(f"swap type: {SWAP_NAMES[kind]}")
        if kind in UPGRADES:
            self._upgrade(kind)

    def _upgrade(self, kind: SwapType) -> None:
        candidate = self._check_secondary()
        if candidate is None:
            self._fail()
            return
        if kind is not SwapType.REVERT and self._refuse_downgrade(candidate):
            return
        size = candidate.size
        try:
            size = max(size, find_image(self.primary).size)
        except VerificationError:
            pass
        regions = len(self.swap.regions(size))
        self.say(f"swap: {size} bytes in {regions} region(s) through scratch")
        self.swap.run(kind, size)
        self._finish(kind)

    def _resume(self, status: SwapStatus) -> None:
        if status.swap_size is None:
            raise BootPanic("an interrupted swap left no swap size in its trailer")
        total = STEPS_PER_REGION * len(self.swap.regions(status.swap_size))
        self.say(f"resuming an interrupted {SWAP_NAMES[status.swap_type]} swap: "
                 f"{min(status.done, total)} of {total} steps done (status in "
                 f"{status.source})")
        self.swap.run(status.swap_type, status.swap_size, status.done)
        self._finish(status.swap_type)

    def _finish(self, kind: SwapType) -> None:
        """image_ok after a permanent swap or a revert (or a new revert would follow), then
        copy_done: MCUboot's ``swap_set_image_ok`` and ``swap_set_copy_done``."""
        trailer = self.primary.trailer()
        if kind in (SwapType.PERM, SwapType.REVERT) and trailer.image_ok is Flag.UNSET:
            self.primary.write_fields(image_ok=True)
        if kind in UPGRADES and trailer.copy_done is Flag.UNSET:
            self.primary.write_fields(copy_done=True)
        self.say("swap: done")

    # -- secondary slot --------------------------------------------------------------------

    def _check_secondary(self) -> SlotImage | None:
        """The secondary image when it validates; else log why, erase it or leave it."""
        try:
            image = validate(self.secondary, self.key, self.primary)
        except VerificationError as e:
            self.say(f"secondary slot: {e}: refusing image")
            self._drop_secondary()
            return None
        self.say(f"secondary slot: v{version_text(image.version)}: hash and signature ok")
        return image

    def _drop_secondary(self) -> None:
        if self.erase_invalid:
            self.secondary.erase(0, self.secondary.size, backwards=True)
            self.say("secondary slot: erased")
        else:
            self.say("secondary slot: left as it is (erase_invalid = false)")

    def _fail(self) -> None:
        """Swap type fail: as if a revert had just finished, the primary gets image_ok."""
        self.say("swap type: fail")
        if self.primary.trailer().image_ok is Flag.UNSET:
            self.primary.write_fields(image_ok=True)
            self.say("primary slot: image_ok set (after a failed update the running image stays)")

    def _refuse_downgrade(self, candidate: SlotImage) -> bool:
        """MCUboot's ``check_downgrade_prevention`` by version (major.minor.revision)."""
        if not self.downgrade_prevention:
            return False
        try:
            current = find_image(self.primary)
        except VerificationError:
            return False
        if is_newer_or_equal(candidate.version, current.version):
            return False
        self.say(f"secondary slot: v{version_text(candidate.version)} is older than primary "
                 f"v{version_text(current.version)}: downgrade refused")
        self._drop_secondary()
        self.say("swap type: none")
        return True

    # -- primary slot ----------------------------------------------------------------------

    def _launch(self) -> None:
        try:
            image = validate(self.primary, self.key, self.primary)
        except VerificationError as e:
            self.say(f"primary slot: {e}")
            self._halt(f"{NO_IMAGE}: halting", NO_IMAGE)
            return
        vtor = self.primary.address + image.header.hdr_size
        self.machine.vtor = vtor
        self.booted = image
        self.say(f"booting primary v{version_text(image.version)}{self._state_note()} "
                 f"(vector table {vtor:#010x})")

    def _state_note(self) -> str:
        trailer = self.primary.trailer()
        if (trailer.magic is Magic.GOOD and trailer.image_ok is Flag.UNSET
                and copy_done(trailer) is Flag.SET):
            return ", a test image: confirm it or the next reset reverts it"
        return ""

    def _describe(self, area: FlashArea, trailer: Trailer) -> None:
        try:
            image = f"v{version_text(find_image(area).version)}"
        except VerificationError as e:
            image = str(e)
        self.say(f"{area.name} slot: {image}; trailer magic {trailer.magic.value}, "
                 f"image_ok {trailer.image_ok.value}, copy_done {trailer.copy_done.value}")

    def _halt(self, line: str, verdict: str) -> None:
        self.say(line)
        self.machine.request_stop(verdict)


def attach_boot(machine: Machine, *, trusted_key: KeySource | None = None,
                allow_downgrade: bool | None = None) -> BootModel:
    """Boot ``machine`` through the model at each reset from now on.

    The board must have ``[slots]`` and ``[boot] mode = "model"``. ``trusted_key`` (a PEM
    path or a key) replaces the board's ``[boot] key``; ``allow_downgrade`` overrides the
    board's ``downgrade_prevention``.
    """
    board = machine.board
    config = boot_config(board)
    if config.mode != "model":
        raise BoardError(f"board {board.name} boots a bootloader ELF ([boot] mode = "
                         f"\"{config.mode}\"): run that ELF instead of the boot model")
    slots = slot_map(board)
    prevention = config.downgrade_prevention if allow_downgrade is None else not allow_downgrade
    model = BootModel(machine, slots, _trusted_key(trusted_key, config, board.name),
                      downgrade_prevention=prevention, erase_invalid=config.erase_invalid)
    machine.reset_hooks.append(model)
    return model


def _trusted_key(given: KeySource | None, config: BootConfig, board: str) -> PublicKey:
    if given is None:
        if config.key is None:
            raise BoardError(f"board {board}: [boot] names no key and none was given")
        given = config.key
    if isinstance(given, str | os.PathLike):
        return load_public_key(given)
    return public_key(given)
