"""MCUboot's decision tables as the boot model reads them (emu/boot/decision.py)."""

import pytest

from emu.boot.decision import SOURCE_PRIMARY, SOURCE_SCRATCH, status_source, swap_type
from emu.image.trailer import Flag, Magic, SwapType, Trailer

GOOD, BAD_MAGIC, UNSET_MAGIC = Magic.GOOD, Magic.BAD, Magic.UNSET
SET, UNSET, BAD = Flag.SET, Flag.UNSET, Flag.BAD


def trailer(magic=UNSET_MAGIC, image_ok=UNSET, copy_done=UNSET) -> Trailer:
    return Trailer(magic, image_ok, copy_done, SwapType.NONE, 0, None)


ERASED = trailer()

# (primary trailer, secondary trailer, swap type): one case per row of the design
# document's "Boot swap types" table, and the states that match no row.
SWAP_ROWS = [
    pytest.param(ERASED, trailer(GOOD), SwapType.TEST, id="I: secondary magic, no image_ok"),
    pytest.param(trailer(GOOD, SET, SET), trailer(GOOD), SwapType.TEST,
                 id="I: the primary state does not matter"),
    pytest.param(ERASED, trailer(GOOD, SET), SwapType.PERM, id="II: secondary image_ok set"),
    pytest.param(trailer(GOOD, UNSET, SET), ERASED, SwapType.REVERT,
                 id="III: primary tested and never confirmed"),
    pytest.param(trailer(GOOD, UNSET, SET), trailer(GOOD), SwapType.TEST,
                 id="a new request wins over a revert"),
    pytest.param(trailer(GOOD, SET, SET), ERASED, SwapType.NONE, id="confirmed primary"),
    pytest.param(trailer(GOOD, UNSET, UNSET), ERASED, SwapType.NONE,
                 id="factory image without copy_done"),
    pytest.param(ERASED, ERASED, SwapType.NONE, id="no trailer at all"),
    pytest.param(ERASED, trailer(BAD_MAGIC), SwapType.NONE, id="bad secondary magic"),
    pytest.param(ERASED, trailer(GOOD, BAD), SwapType.NONE, id="bad secondary image_ok"),
    pytest.param(trailer(GOOD, BAD, SET), ERASED, SwapType.NONE,
                 id="a torn confirmation counts as confirmed"),
]


@pytest.mark.parametrize(("primary", "secondary", "expected"), SWAP_ROWS)
def test_the_swap_type_follows_the_design_table(primary, secondary, expected):
    assert swap_type(primary, secondary) is expected


def test_a_torn_copy_done_still_lets_an_unconfirmed_test_image_revert():
    assert swap_type(trailer(GOOD, UNSET, BAD), ERASED) is SwapType.REVERT


SOURCE_ROWS = [
    pytest.param(trailer(GOOD, copy_done=SET), ERASED, None, id="swap finished"),
    pytest.param(trailer(GOOD), ERASED, SOURCE_PRIMARY, id="swap under way in primary"),
    pytest.param(trailer(GOOD, copy_done=SET), trailer(GOOD), SOURCE_SCRATCH,
                 id="scratch magic wins"),
    pytest.param(ERASED, trailer(GOOD), SOURCE_SCRATCH, id="primary trailer erased"),
    pytest.param(ERASED, ERASED, SOURCE_PRIMARY, id="never swapped, or mid-revert"),
    pytest.param(trailer(BAD_MAGIC), ERASED, None, id="bad primary magic"),
]


@pytest.mark.parametrize(("primary", "scratch", "expected"), SOURCE_ROWS)
def test_the_status_source_follows_the_swap_scratch_table(primary, scratch, expected):
    assert status_source(primary, scratch) == expected
