"""The NOR array: layouts, the program/erase rules, the operation log and power cuts."""

import ctypes

import pytest

from emu.errors import BoardError
from emu.flash import FlashArray, FlashLayout, FlashOpError, PowerCut, cut_at, stm32f4_layout
from emu.flash.power import TornStream, torn_erase, torn_program

KIB = 1024


def small(program_unit: int = 4, **kwargs) -> FlashArray:
    """Four 1 KiB sectors at 0x1000_0000."""
    return FlashArray(FlashLayout.uniform("flash", 0x1000_0000, KIB, 4, program_unit), **kwargs)


# -- layouts ---------------------------------------------------------------------------------

def test_stm32f4_layout_follows_the_rm0090_sector_table():
    layout = stm32f4_layout()
    sectors = layout.sectors
    assert layout.size == 1024 * KIB
    assert [s.size for s in sectors] == [16 * KIB] * 4 + [64 * KIB] + [128 * KIB] * 7
    assert sectors[4].offset == 0x1_0000 and sectors[5].offset == 0x2_0000
    assert sectors[11].offset == 0xE_0000


def test_layout_refuses_a_program_unit_that_no_part_has():
    with pytest.raises(BoardError, match="program unit 3"):
        FlashLayout.uniform("flash", 0, KIB, 4, program_unit=3)


def test_sector_lookup_finds_the_sector_holding_an_offset():
    array = FlashArray(stm32f4_layout())
    assert array.sector_at(0x1_FFFF).index == 4
    assert array.sector_at(0x2_0000).index == 5


# -- contents --------------------------------------------------------------------------------

def test_a_new_array_is_erased():
    assert small().read(0, 4 * KIB) == b"\xff" * 4 * KIB


def test_the_buffer_is_the_memory_that_read_returns():
    array = small()
    array.program(8, b"\x12\x34\x56\x78")
    assert bytes(array.buffer[8:12]) == b"\x12\x34\x56\x78"
    ctypes.memmove(ctypes.addressof(array.buffer) + 16, b"\xaa", 1)
    assert array.read(16, 1) == b"\xaa"


def test_program_cannot_set_bits():
    array = small(allow_overwrite_and=True)
    array.program(0, b"\x0f\xf0\x00\xff")
    array.program(0, b"\xff\xff\xff\x3c")
    assert array.read(0, 4) == b"\x0f\xf0\x00\x3c"


def test_programming_an_unerased_unit_is_refused_by_default():
    array = small()
    array.program(4, b"\x00\xff\xff\xff")
    with pytest.raises(FlashOpError) as e:
        array.program(0, b"\x00" * 8)
    assert e.value.code == "not-erased" and e.value.address == 0x1000_0004
    assert array.read(0, 4) == b"\xff" * 4


def test_misaligned_offset_is_refused():
    with pytest.raises(FlashOpError) as e:
        small(program_unit=8).program(4, b"\x00" * 8)
    assert e.value.code == "misaligned" and e.value.address == 0x1000_0004


def test_length_that_is_not_whole_program_units_is_refused():
    with pytest.raises(FlashOpError, match="misaligned"):
        small(program_unit=4).program(0, b"\x00" * 6)


def test_write_protected_sector_refuses_program_and_erase():
    array = small()
    array.set_protected({2})
    with pytest.raises(FlashOpError) as e:
        array.program(2 * KIB + 8, b"\x00" * 4)
    assert e.value.code == "write-protected" and e.value.address == 0x1000_0808
    with pytest.raises(FlashOpError, match="write-protected"):
        array.erase_sector(2)
    with pytest.raises(FlashOpError, match="write-protected"):
        array.erase_all()
    array.program(KIB, b"\x00" * 4)


def test_program_outside_the_array_is_refused():
    with pytest.raises(FlashOpError, match="out-of-range"):
        small().program(4 * KIB - 4, b"\x00" * 8)


def test_erase_sets_one_whole_sector_and_nothing_else():
    array = FlashArray(stm32f4_layout(), allow_overwrite_and=True)
    array.write_raw(0, b"\x00" * 0x3_0000)
    array.erase_sector(4)
    assert array.read(0x1_0000, 64 * KIB) == b"\xff" * 64 * KIB
    assert array.read(0xFFFF, 1) == b"\x00" and array.read(0x2_0000, 1) == b"\x00"


def test_changed_reports_the_range_an_operation_touched():
    array = small()
    seen = []
    array.changed = lambda offset, size: seen.append((offset, size))
    array.program(12, b"\x00" * 4)
    array.erase_sector(3)
    assert seen == [(12, 4), (3 * KIB, KIB)]


# -- operation log and listeners -------------------------------------------------------------

def test_operations_are_numbered_logged_and_announced_before_they_apply():
    array = small()
    seen = []
    array.add_listener(lambda op: seen.append((op, array.read(0, 4))))
    array.program(0, b"\x00" * 4)
    array.erase_sector(0)
    ops = [op for op, _ in seen]
    assert [(o.index, o.kind, o.address, o.size) for o in ops] == [
        (0, "program", 0x1000_0000, 4), (1, "erase", 0x1000_0000, KIB)]
    assert seen[0][1] == b"\xff" * 4 and seen[1][1] == b"\x00" * 4
    assert array.log == ops and array.op_count == 2


def test_a_refused_operation_is_neither_logged_nor_announced():
    array = small()
    array.add_listener(lambda op: pytest.fail("a refused operation was announced"))
    with pytest.raises(FlashOpError):
        array.program(1, b"\x00" * 4)
    assert array.log == [] and array.op_count == 0


# -- power cuts ------------------------------------------------------------------------------

def programmed(array: FlashArray) -> FlashArray:
    array.write_raw(0, bytes(range(256)) * 16)
    return array


def test_a_cut_before_an_operation_leaves_the_array_untouched():
    array = programmed(small())
    before = array.read(0, 4 * KIB)
    array.add_listener(cut_at(0, "before"))
    with pytest.raises(PowerCut) as e:
        array.erase_sector(1)
    assert e.value.operation.index == 0 and e.value.operation.kind == "erase"
    assert array.read(0, 4 * KIB) == before


def test_cut_at_lets_earlier_operations_complete():
    array = small()
    array.add_listener(cut_at(1))
    array.program(0, b"\x00" * 4)
    with pytest.raises(PowerCut):
        array.program(4, b"\x00" * 4)
    assert array.read(0, 8) == b"\x00" * 4 + b"\xff" * 4


def torn_erase_of_sector_1(seed: int) -> bytes:
    array = programmed(small())
    array.add_listener(cut_at(0, "during", seed))
    with pytest.raises(PowerCut):
        array.erase_sector(1)
    return array.read(0, 4 * KIB)


def test_a_torn_erase_is_the_same_for_the_same_seed_and_differs_for_another():
    first, again, other = (torn_erase_of_sector_1(s) for s in (7, 7, 8))
    assert first == again
    assert first != other


def test_a_torn_erase_erases_a_prefix_and_leaves_each_later_byte_old_or_erased():
    old = programmed(small()).read(KIB, KIB)
    torn = torn_erase_of_sector_1(7)
    sector = torn[KIB:2 * KIB]
    assert all(b in (o, 0xFF) for b, o in zip(sector, old, strict=True))
    assert sector != old and sector != b"\xff" * KIB
    assert torn[:KIB] == programmed(small()).read(0, KIB)
    assert torn[2 * KIB:] == programmed(small()).read(2 * KIB, 2 * KIB)


def test_a_torn_erase_erases_the_prefix_its_seed_draws():
    done = TornStream(seed=1, index=0).below(64)
    torn = torn_erase(b"\x00" * 64, TornStream(seed=1, index=0))
    assert 0 < done < 63
    assert torn[:done] == b"\xff" * done
    assert set(torn[done:]) == {0x00, 0xFF}


def test_a_torn_program_clears_only_bits_it_was_asked_to_clear():
    old = bytes([0xFF, 0xF0, 0x0F, 0xAA] * 16)
    data = bytes([0x00, 0x00, 0xFF, 0x55] * 16)
    torn = torn_program(old, data, TornStream(3, 0))
    complete = bytes(o & d for o, d in zip(old, data, strict=True))
    assert all(t & ~o == 0 for t, o in zip(torn, old, strict=True))
    assert all(t & c == c for t, c in zip(torn, complete, strict=True))
    assert torn not in (old, complete)


def test_a_torn_program_through_the_array_is_reproducible():
    def run(seed: int) -> bytes:
        array = small()
        array.add_listener(cut_at(0, "during", seed))
        with pytest.raises(PowerCut):
            array.program(0, b"\x00" * 64)
        return array.read(0, 64)

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_a_snapshot_restores_contents_protection_and_numbering():
    array = small()
    array.program(0, b"\x00" * 4)
    array.set_protected({3})
    state = array.snapshot()
    array.erase_sector(0)
    array.set_protected(())
    array.restore(state)
    assert array.read(0, 4) == b"\x00" * 4
    assert array.protected == {3} and array.op_count == 1
