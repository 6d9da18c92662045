"""ota-emu: a software-in-the-loop emulator for Cortex-M OTA firmware."""

__version__ = "0.1.0"
