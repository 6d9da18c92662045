"""NOR flash: arrays and their rules, power cuts, the flash file, and flash controllers.

Importing :mod:`emu.flash.controllers` registers the controller models with the peripheral
registry; the machine does that when it builds a board.
"""

from emu.flash.layout import ERASED, FlashLayout, Sector, stm32f4_layout
from emu.flash.nor import FlashArray, FlashOpError, Operation
from emu.flash.power import PowerCut, cut_at

__all__ = [
    "ERASED", "FlashArray", "FlashLayout", "FlashOpError", "Operation", "PowerCut", "Sector",
    "cut_at", "stm32f4_layout",
]
