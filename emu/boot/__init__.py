"""The boot model run at every reset: MCUboot's decisions and its swap using scratch.

* :mod:`emu.boot.slots` reads a board's ``[slots]`` and ``[boot]`` tables;
* :mod:`emu.boot.area` acts on a slot through flash operations and reads its trailer;
* :mod:`emu.boot.decision` holds MCUboot's swap-type and status-source tables;
* :mod:`emu.boot.swap` is the resumable swap;
* :mod:`emu.boot.validate` checks the image of a slot;
* :mod:`emu.boot.model` ties them together as a reset hook (:func:`attach_boot`);
* :mod:`emu.boot.install` writes images into slots from the host;
* :mod:`emu.boot.inspect` describes the slots of a flash file.

docs/boot.md describes the model, its board tables and the trailer offsets a PAL writes.
"""

from emu.boot.install import slot_image, write_slot
from emu.boot.model import NO_IMAGE, BootModel, attach_boot
from emu.boot.slots import Area, BootConfig, SlotMap, boot_config, has_boot_model, slot_map
from emu.boot.swap import SwapStatus, read_status

__all__ = [
    "NO_IMAGE", "Area", "BootConfig", "BootModel", "SlotMap", "SwapStatus", "attach_boot",
    "boot_config", "has_boot_model", "read_status", "slot_image", "slot_map", "write_slot",
]
