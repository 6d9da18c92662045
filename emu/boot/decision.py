"""MCUboot's two decision tables: what to swap, and where an interrupted swap kept its status.

The swap type comes from the trailers of both slots, MCUboot's design document, "Boot swap
types" (``boot_swap_tables`` in bootutil_public.c). The rows are tried in order; the
secondary slot's request wins over the primary's state:

=========  ==================  =================  ====================  ===========
row        secondary magic     secondary image_ok primary magic,        swap type
                                                  image_ok, copy_done
=========  ==================  =================  ====================  ===========
I          good                unset              any                   test
II         good                set                any                   permanent
III        any                 any                good, unset, set      revert
(other)                                                                 none
=========  ==================  =================  ====================  ===========

*Fail* is not a row: it is the outcome of a requested swap whose image does not validate.

The status source (``boot_status_tables`` in swap_scratch.c, design document "Boot status")
says which trailer holds the progress of a swap that a reset interrupted:

=========================================  ================
primary magic, primary copy_done, scratch  source
=========================================  ================
good, set, scratch magic not good           none
good, unset, scratch magic not good         primary slot
any, any, scratch magic good                scratch
unset, unset, any                           primary slot
(other)                                     none
=========================================  ================

One reading differs from MCUboot's, on purpose: a primary ``copy_done`` that reads *bad*
(neither erased nor 0x01) counts as set. Only the bootloader writes copy_done, after the
last step of a swap, so a bad value can only be that write torn by a power cut; MCUboot
would then match no row and never revert a test image (docs/boot.md, "Power cuts").
"""

from __future__ import annotations

from emu.image.trailer import Flag, Magic, SwapType, Trailer

SOURCE_PRIMARY = "primary"
SOURCE_SCRATCH = "scratch"

SWAP_NAMES = {
    SwapType.NONE: "none", SwapType.TEST: "test", SwapType.PERM: "permanent",
    SwapType.REVERT: "revert", SwapType.FAIL: "fail", SwapType.PANIC: "panic",
}


def copy_done(trailer: Trailer) -> Flag:
    """The primary's copy_done as the model reads it: bad counts as set (see above)."""
    return Flag.SET if trailer.copy_done is Flag.BAD else trailer.copy_done


def swap_type(primary: Trailer, secondary: Trailer) -> SwapType:
    """The swap the trailers ask for, rows I to III of the table above."""
    if secondary.magic is Magic.GOOD:
        if secondary.image_ok is Flag.UNSET:
            return SwapType.TEST
        if secondary.image_ok is Flag.SET:
            return SwapType.PERM
    if (primary.magic is Magic.GOOD and primary.image_ok is Flag.UNSET
            and copy_done(primary) is Flag.SET):
        return SwapType.REVERT
    return SwapType.NONE


def status_source(primary: Trailer, scratch: Trailer) -> str | None:
    """Where the status of an interrupted swap is kept, or None when no swap is under way."""
    scratch_good = scratch.magic is Magic.GOOD
    done = copy_done(primary)
    if primary.magic is Magic.GOOD and not scratch_good:
        if done is Flag.SET:
            return None
        if done is Flag.UNSET:
            return SOURCE_PRIMARY
    if scratch_good:
        return SOURCE_SCRATCH
    if primary.magic is Magic.UNSET and done is Flag.UNSET:
        return SOURCE_PRIMARY
    return None
