"""The project's error tree.

Three channels are kept apart (docs/architecture.md):

* firmware misbehaviour is modelled like hardware (faults, ignored writes, a log line) and
  never raises one of these;
* bad input or configuration raises a subclass of :class:`EmuError`, shown to the user as one
  line and exit status 2;
* emulator bugs are assertions.
"""


class EmuError(Exception):
    """Base of every error ota-emu reports to a user as one line."""


class InputError(EmuError):
    """A file given by the user cannot be used (ELF, board, scenario, flash file, image)."""


class ElfError(InputError):
    """The firmware ELF is not one that the board can run."""


class BoardError(InputError):
    """A board description is malformed or inconsistent."""


class FlashFileError(InputError):
    """A persisted flash file is foreign, damaged or does not fit the board."""


class ImageError(InputError):
    """An image (MCUboot format) is malformed."""


class VerificationError(EmuError):
    """A hash or signature check failed; the message says which and why."""


class ScenarioError(InputError):
    """A scenario file is malformed."""


class UsageError(EmuError):
    """The command line is inconsistent."""
