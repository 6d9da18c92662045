"""The image subcommands of ``ota-emu``: ``keygen``, ``sign`` and ``inspect``.

Each parses its arguments and calls :mod:`emu.image.commands`; bad input there raises an
:class:`emu.errors.EmuError`, which the CLI prints as one line with exit status 2. For the
time of one ``inspect``, the board-aware view of :mod:`emu.boot.inspect` is installed as the
flash-file inspector, with the command's ``--board`` and ``--key``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emu.boot.inspect import inspector
from emu.cli import EXIT_OK, command
from emu.errors import ImageError
from emu.image import commands
from emu.image.keys import key_hash, load_private_key
from emu.image.mcuboot import IMAGE_F_RAM_LOAD

ALIGNMENTS = (1, 2, 4, 8, 16, 32)


def integer(text: str) -> int:
    """A non-negative integer in decimal or with a 0x, 0o or 0b prefix."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


# -- keygen ---------------------------------------------------------------------------------

def _keygen_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", type=Path, help="PEM file to create (never overwritten)")


def _keygen(args: argparse.Namespace) -> int:
    path = commands.keygen(args.out)
    digest = key_hash(load_private_key(path)).hex()
    print(f"wrote {path}: ECDSA P-256 private key, key hash {digest[:16]}...")
    return EXIT_OK


_keygen.arguments = _keygen_arguments
command("keygen", "create an ECDSA P-256 signing key (PEM)")(_keygen)


# -- sign -----------------------------------------------------------------------------------

def _sign_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="firmware: a raw binary or an ELF")
    p.add_argument("output", type=Path, help="signed MCUboot image to write")
    p.add_argument("--key", type=Path, required=True, help="PEM private key")
    p.add_argument("--version", required=True, metavar="X.Y.Z[+B]", help="image version")
    p.add_argument("--header-size", type=integer, default=0x200, metavar="N",
                   help="header size, where the vector table starts (default 0x200)")
    p.add_argument("--slot-size", type=integer, metavar="N",
                   help="pad to the slot size and write the trailer magic (imgtool --pad)")
    p.add_argument("--align", type=int, choices=ALIGNMENTS, default=8,
                   help="flash write alignment of the trailer (default 8)")
    p.add_argument("--confirm", action="store_true",
                   help="also set image_ok in the trailer (needs --slot-size)")


def _sign(args: argparse.Namespace) -> int:
    image = commands.sign(args.input, args.output, args.key, args.version,
                          header_size=args.header_size, slot_size=args.slot_size,
                          align=args.align, confirm=args.confirm)
    header = image.header
    ram = " (RAM load)" if header.flags & IMAGE_F_RAM_LOAD else ""
    print(f"wrote {args.output}: version {header.version}, body {header.img_size} bytes, "
          f"image {image.end} bytes{ram}")
    return EXIT_OK


_sign.arguments = _sign_arguments
command("sign", "sign a binary or an ELF into an MCUboot image")(_sign)


# -- inspect --------------------------------------------------------------------------------

def _inspect_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="an MCUboot image or an ota-emu flash file")
    p.add_argument("--key", type=Path, help="PEM key to check signatures with")
    p.add_argument("--board", help="board whose slots a flash file is read with (default: "
                   "the board the file was saved for)")
    p.add_argument("--align", type=int, choices=ALIGNMENTS, default=8,
                   help="trailer write alignment of an image file (default 8)")


def _inspect(args: argparse.Namespace) -> int:
    commands.set_flash_file_inspector(inspector(args.board, args.key))
    try:
        text = commands.inspect(args.file, args.key, align=args.align)
    except ImageError as e:
        message = str(e)
        named = message if str(args.file) in message else f"{args.file}: {message}"
        raise ImageError(named) from None
    finally:
        commands.set_flash_file_inspector(None)
    print(text)
    return EXIT_OK


_inspect.arguments = _inspect_arguments
command("inspect", "describe an image, or the slots of a flash file")(_inspect)
