"""Flash controllers driven through their registers, one behaviour per test.

The machine is a small fake with a virtual clock (1 MHz, so a cycle is a microsecond),
interrupt lines and the guest-error log: enough for device models, nothing of the CPU.
"""


import pytest

from emu.board import Memory
from emu.flash import FlashArray, FlashLayout, PowerCut, cut_at, stm32f4_layout
from emu.flash.controllers import (
    F4_KEY1,
    F4_KEY2,
    F4_OPTKEY1,
    F4_OPTKEY2,
    REF_KEY1,
    REF_KEY2,
    RefFlashController,
    Stm32f4FlashController,
)
from emu.periph.base import PERIPHERAL_TYPES

import fake_machine

KIB = 1024


class FakeMachine(fake_machine.FakeMachine):
    """64 KiB of guest RAM at 0x2000_0000, the source of DMA programs."""

    ram_base = 0x2000_0000

    def __init__(self) -> None:
        super().__init__([Memory("sram", "ram", self.ram_base, 64 * KIB)])
        self.ram = self.memory[self.ram_base]

    def clear_irq_pending(self, irq: int) -> None:
        pass


def test_both_models_are_registered_for_board_files():
    assert PERIPHERAL_TYPES["ref-flashc"] is RefFlashController
    assert PERIPHERAL_TYPES["stm32f4-flash"] is Stm32f4FlashController


# ---------------------------------------------------------------------------------------------
# ref-flashc
# ---------------------------------------------------------------------------------------------

REF = {"KEY": 0x00, "CR": 0x04, "ADDR": 0x08, "LEN": 0x0C, "SR": 0x10, "GEOM": 0x14,
       "SECTSZ": 0x18, "SRC": 0x1C, "BUF": 0x40}
PG, SER, START, DMA, IE, LOCK = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 8, 1 << 31
BSY, EOP, MISALIGNED, NOTERASED, WRPROT, LOCKED, RANGE, BADCMD, SRCERR = (
    1 << 0, 1 << 1, 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9, 1 << 10)
FLASH_BASE = 0x0000_0000


@pytest.fixture
def ref():
    machine = FakeMachine()
    array = FlashArray(FlashLayout.uniform("flash", FLASH_BASE, 4 * KIB, 16, 8))
    ctrl = RefFlashController(machine, "flashc", 0x4001_0000, flash=array, irq=9,
                              program_cycles=100, erase_cycles=5_000, protect=(15,))
    return machine, array, ctrl


def ref_write(ctrl, name: str, value: int, index: int = 0) -> None:
    ctrl.write(REF[name] + 4 * index, 4, value)


def ref_read(ctrl, name: str) -> int:
    return ctrl.read(REF[name], 4)


def ref_unlock(ctrl) -> None:
    ref_write(ctrl, "KEY", REF_KEY1)
    ref_write(ctrl, "KEY", REF_KEY2)


def ref_program(ctrl, address: int, data: bytes) -> None:
    padded = data + b"\xff" * (-len(data) % 4)
    for i in range(0, len(padded), 4):
        ref_write(ctrl, "BUF", int.from_bytes(padded[i:i + 4], "little"), i // 4)
    ref_write(ctrl, "ADDR", address)
    ref_write(ctrl, "LEN", len(data))
    ref_write(ctrl, "CR", PG | START | IE)


def ref_dma_program(ctrl, address: int, source: int, length: int) -> None:
    ref_write(ctrl, "SRC", source)
    ref_write(ctrl, "ADDR", address)
    ref_write(ctrl, "LEN", length)
    ref_write(ctrl, "CR", PG | DMA | START | IE)


def test_ref_controller_starts_locked_and_two_keys_unlock_it(ref):
    _, _, ctrl = ref
    assert ref_read(ctrl, "CR") == LOCK
    ref_unlock(ctrl)
    assert ref_read(ctrl, "CR") & LOCK == 0


def test_ref_wrong_key_keeps_it_locked_and_restarts_the_sequence(ref):
    _, _, ctrl = ref
    ref_write(ctrl, "KEY", REF_KEY1)
    ref_write(ctrl, "KEY", 0xDEAD_BEEF)
    ref_write(ctrl, "KEY", REF_KEY2)
    assert ref_read(ctrl, "CR") & LOCK
    ref_unlock(ctrl)
    assert ref_read(ctrl, "CR") & LOCK == 0


def test_ref_start_while_locked_sets_locked_and_does_nothing(ref):
    machine, array, ctrl = ref
    ref_program(ctrl, 0x100, b"\x00" * 8)
    assert ref_read(ctrl, "SR") == LOCKED
    machine.advance(10_000)
    assert array.read(0x100, 8) == b"\xff" * 8 and array.op_count == 0


def test_ref_program_is_busy_for_its_time_then_signals_eop_and_interrupts(ref):
    machine, array, ctrl = ref
    ref_unlock(ctrl)
    ref_program(ctrl, 0x100, bytes(range(16)))
    assert ref_read(ctrl, "SR") == BSY
    machine.advance(199)
    assert ref_read(ctrl, "SR") == BSY and array.read(0x100, 1) == b"\xff"
    machine.advance(1)
    assert ref_read(ctrl, "SR") == EOP and machine.irqs == [9]
    assert array.read(0x100, 16) == bytes(range(16))


def test_ref_status_flags_clear_by_writing_one(ref):
    machine, _, ctrl = ref
    ref_unlock(ctrl)
    ref_program(ctrl, 0x100, b"\x00" * 8)
    machine.advance(1_000)
    ref_write(ctrl, "SR", MISALIGNED)
    assert ref_read(ctrl, "SR") == EOP
    ref_write(ctrl, "SR", EOP | BSY)
    assert ref_read(ctrl, "SR") == 0


@pytest.mark.parametrize(("address", "data", "flag"), [
    (0x104, b"\x00" * 8, MISALIGNED),
    (0x100, b"\x00" * 12, MISALIGNED),
    (15 * 4 * KIB, b"\x00" * 8, WRPROT),
    (0x10_0000, b"\x00" * 8, RANGE),
])
def test_ref_refused_program_sets_its_error_flag_at_once(ref, address, data, flag):
    machine, array, ctrl = ref
    ref_unlock(ctrl)
    ref_program(ctrl, address, data)
    assert ref_read(ctrl, "SR") == flag and machine.irqs == [9]
    assert array.op_count == 0


def test_ref_programming_an_unerased_unit_sets_noterased(ref):
    machine, _, ctrl = ref
    ref_unlock(ctrl)
    ref_program(ctrl, 0x100, b"\x00" * 8)
    machine.advance(1_000)
    ref_write(ctrl, "SR", EOP)
    ref_program(ctrl, 0x100, b"\x00" * 8)
    assert ref_read(ctrl, "SR") == NOTERASED


def test_ref_sector_erase_erases_the_sector_holding_addr(ref):
    machine, array, ctrl = ref
    array.write_raw(0, b"\x00" * 3 * 4 * KIB)
    ref_unlock(ctrl)
    ref_write(ctrl, "ADDR", 4 * KIB + 123)
    ref_write(ctrl, "CR", SER | START)
    machine.advance(4_999)
    assert ref_read(ctrl, "SR") == BSY
    machine.advance(1)
    assert ref_read(ctrl, "SR") == EOP and machine.irqs == []
    assert array.read(4 * KIB, 4 * KIB) == b"\xff" * 4 * KIB
    assert array.read(0, 1) == b"\x00" and array.read(8 * KIB, 1) == b"\x00"


def test_ref_start_with_both_or_neither_command_sets_badcmd(ref):
    _, _, ctrl = ref
    ref_unlock(ctrl)
    ref_write(ctrl, "CR", START)
    ref_write(ctrl, "CR", PG | SER | START)
    assert ref_read(ctrl, "SR") == BADCMD


def test_ref_cr_write_while_busy_is_ignored_and_logged(ref):
    machine, _, ctrl = ref
    ref_unlock(ctrl)
    ref_write(ctrl, "CR", SER | START)
    ref_write(ctrl, "CR", LOCK)
    assert ref_read(ctrl, "CR") & LOCK == 0
    assert machine.guest_errors == ["CR written while BSY; ignored"]


def test_ref_writing_lock_locks_again(ref):
    _, _, ctrl = ref
    ref_unlock(ctrl)
    ref_write(ctrl, "CR", LOCK)
    assert ref_read(ctrl, "CR") == LOCK


def test_ref_geometry_registers_describe_the_array(ref):
    _, _, ctrl = ref
    assert ref_read(ctrl, "GEOM") == 8 | (16 << 8)
    assert ref_read(ctrl, "SECTSZ") == 4 * KIB


def test_ref_power_cut_is_raised_from_the_completion_event(ref):
    machine, array, ctrl = ref
    array.add_listener(cut_at(0, "before"))
    ref_unlock(ctrl)
    ref_program(ctrl, 0x100, b"\x00" * 8)
    with pytest.raises(PowerCut):
        machine.advance(1_000)
    assert array.read(0x100, 8) == b"\xff" * 8


def test_ref_dma_program_writes_a_whole_sector_from_guest_memory(ref):
    machine, array, ctrl = ref
    data = bytes(i * 7 & 0xFF for i in range(4 * KIB))
    machine.ram[0x100:0x100 + len(data)] = data
    ref_unlock(ctrl)
    ref_dma_program(ctrl, 2 * 4 * KIB, machine.ram_base + 0x100, len(data))
    # The source is read when START is written: later changes to it do not matter.
    machine.ram[0x100:0x200] = b"\x00" * 0x100
    assert ref_read(ctrl, "SR") == BSY
    machine.advance(1_000_000)
    assert ref_read(ctrl, "SR") == EOP and machine.irqs == [9]
    assert array.read(2 * 4 * KIB, 4 * KIB) == data
    assert array.op_count == 1


def test_ref_dma_program_follows_the_nor_rules(ref):
    machine, array, ctrl = ref
    machine.ram[:16] = b"\x0f" * 16
    ref_unlock(ctrl)
    ref_dma_program(ctrl, 0x200, machine.ram_base, 16)
    machine.advance(1_000)
    ref_write(ctrl, "SR", EOP)
    ref_dma_program(ctrl, 0x200, machine.ram_base, 16)
    assert ref_read(ctrl, "SR") == NOTERASED
    ref_write(ctrl, "SR", NOTERASED)
    ref_dma_program(ctrl, 0x204, machine.ram_base, 16)
    assert ref_read(ctrl, "SR") == MISALIGNED
    ref_write(ctrl, "SR", MISALIGNED)
    ref_dma_program(ctrl, 15 * 4 * KIB, machine.ram_base, 16)
    assert ref_read(ctrl, "SR") == WRPROT
    assert array.read(0x200, 16) == b"\x0f" * 16 and array.op_count == 1


@pytest.mark.parametrize(("address", "length"), [
    (4 * KIB - 8, 16),       # crosses into the next sector
    (0, 4 * KIB + 8),        # longer than a sector
    (0x100, 0),              # nothing to program
    (16 * 4 * KIB, 8),       # outside the array
])
def test_ref_dma_program_leaving_the_sector_sets_range(ref, address, length):
    machine, array, ctrl = ref
    ref_unlock(ctrl)
    ref_dma_program(ctrl, address, machine.ram_base, length)
    assert ref_read(ctrl, "SR") == RANGE and machine.irqs == [9]
    machine.advance(10_000_000)
    assert array.op_count == 0


@pytest.mark.parametrize("source", [0x1000_0000, 0x2000_0000 + 64 * KIB - 8])
def test_ref_dma_program_from_unreadable_memory_sets_srcerr(ref, source):
    machine, array, ctrl = ref
    ref_unlock(ctrl)
    ref_dma_program(ctrl, 0x100, source, 16)
    assert ref_read(ctrl, "SR") == SRCERR and machine.irqs == [9]
    machine.advance(10_000)
    assert array.op_count == 0 and array.read(0x100, 16) == b"\xff" * 16
    ref_write(ctrl, "SR", SRCERR)
    assert ref_read(ctrl, "SR") == 0


@pytest.mark.parametrize("length", [8, 256, 4 * KIB])
def test_ref_dma_program_is_busy_for_program_cycles_per_unit(ref, length):
    machine, _, ctrl = ref
    ref_unlock(ctrl)
    ref_dma_program(ctrl, 0, machine.ram_base, length)
    busy = 100 * length // 8  # program_cycles per unit of 8 bytes
    machine.advance(busy - 1)
    assert ref_read(ctrl, "SR") == BSY
    machine.advance(1)
    assert ref_read(ctrl, "SR") == EOP


def test_ref_without_dma_len_beyond_the_buffer_still_sets_range(ref):
    machine, _, ctrl = ref
    ref_unlock(ctrl)
    ref_write(ctrl, "ADDR", 0)
    ref_write(ctrl, "LEN", 128)
    ref_write(ctrl, "CR", PG | START)
    assert ref_read(ctrl, "SR") == RANGE


# ---------------------------------------------------------------------------------------------
# stm32f4-flash (RM0090 §3)
# ---------------------------------------------------------------------------------------------

ACR, KEYR, OPTKEYR, SR, CR, OPTCR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14
F_PG, F_SER, F_MER, F_STRT, F_EOPIE, F_ERRIE, F_LOCK = (
    1 << 0, 1 << 1, 1 << 2, 1 << 16, 1 << 24, 1 << 25, 1 << 31)
F_EOP, F_OPERR, F_WRPERR, F_PGAERR, F_PGPERR, F_PGSERR, F_BSY = (
    1 << 0, 1 << 1, 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 16)
X8, X16, X32, X64 = (p << 8 for p in range(4))
F4_FLASH = 0x0800_0000


def snb(n: int) -> int:
    return n << 3


@pytest.fixture
def f4():
    machine = FakeMachine()
    array = FlashArray(stm32f4_layout(), allow_overwrite_and=True)
    ctrl = Stm32f4FlashController(machine, "flash", 0x4002_3C00, flash=array,
                                  wrp_sectors=(1,))
    return machine, array, ctrl


def f4_unlock(ctrl) -> None:
    ctrl.write(KEYR, 4, F4_KEY1)
    ctrl.write(KEYR, 4, F4_KEY2)


def test_f4_reset_values_are_those_of_rm0090(f4):
    _, _, ctrl = f4
    assert ctrl.read(CR, 4) == 0x8000_0000
    assert ctrl.read(SR, 4) == 0
    assert ctrl.read(ACR, 4) == 0
    assert ctrl.read(OPTCR, 4) == 0x0FFF_AAED & ~(1 << 17)


def test_f4_keyr_sequence_clears_lock(f4):
    _, _, ctrl = f4
    f4_unlock(ctrl)
    assert ctrl.read(CR, 4) == 0


def test_f4_wrong_key_locks_cr_until_reset(f4):
    machine, _, ctrl = f4
    ctrl.write(KEYR, 4, 0x1234_5678)
    f4_unlock(ctrl)
    assert ctrl.read(CR, 4) & F_LOCK
    assert "wrong key 0x12345678 in KEYR: CR locked until reset" in machine.guest_errors
    ctrl.reset()
    f4_unlock(ctrl)
    assert ctrl.read(CR, 4) & F_LOCK == 0


def test_f4_cr_write_while_locked_is_ignored(f4):
    machine, _, ctrl = f4
    ctrl.write(CR, 4, F_PG | X32)
    assert ctrl.read(CR, 4) == F_LOCK
    assert machine.guest_errors


def test_f4_sector_erase_by_snb_takes_the_datasheet_time(f4):
    machine, array, ctrl = f4
    array.write_raw(0, b"\x00" * 0x6_0000)
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_SER | snb(5) | X32 | F_EOPIE)
    ctrl.write(CR, 4, F_SER | snb(5) | X32 | F_EOPIE | F_STRT)
    assert ctrl.read(SR, 4) == F_BSY and ctrl.read(CR, 4) & F_STRT
    machine.advance(999_999)
    assert ctrl.read(SR, 4) == F_BSY
    machine.advance(1)
    assert ctrl.read(SR, 4) == F_EOP and ctrl.read(CR, 4) & F_STRT == 0
    assert machine.irqs == [4]
    assert array.read(0x2_0000, 128 * KIB) == b"\xff" * 128 * KIB
    assert array.read(0x1_FFFF, 1) == b"\x00" and array.read(0x4_0000, 1) == b"\x00"


def test_f4_eop_is_set_only_when_eopie_is_on(f4):
    machine, _, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_SER | snb(0) | X32 | F_STRT)
    machine.advance(1_000_000)
    assert ctrl.read(SR, 4) == 0 and machine.irqs == []


@pytest.mark.parametrize(("psize", "size", "value"), [
    (X8, 1, 0x5A), (X16, 2, 0x1234), (X32, 4, 0xDEAD_BEEF)])
def test_f4_program_by_store_with_matching_psize(f4, psize, size, value):
    machine, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_PG | psize)
    ctrl.bus_store(F4_FLASH + 0x8010, size, value)
    assert ctrl.read(SR, 4) == F_BSY
    machine.advance(16)
    assert ctrl.read(SR, 4) == 0
    assert array.read(0x8010, size) == value.to_bytes(size, "little")


def test_f4_x64_programs_a_double_word_from_two_word_stores(f4):
    machine, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_PG | X64)
    ctrl.bus_store(F4_FLASH + 0x8008, 4, 0x1111_1111)
    assert ctrl.read(SR, 4) == 0 and array.op_count == 0
    ctrl.bus_store(F4_FLASH + 0x800C, 4, 0x2222_2222)
    machine.advance(16)
    assert array.read(0x8008, 8) == bytes.fromhex("1111111122222222")
    assert [op.size for op in array.log] == [8]


def test_f4_store_without_pg_sets_pgserr(f4):
    _, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.bus_store(F4_FLASH + 0x8000, 4, 0)
    assert ctrl.read(SR, 4) == F_PGSERR and array.op_count == 0


def test_f4_store_while_locked_sets_pgserr(f4):
    _, _, ctrl = f4
    ctrl.bus_store(F4_FLASH + 0x8000, 4, 0)
    assert ctrl.read(SR, 4) == F_PGSERR


def test_f4_store_whose_size_differs_from_psize_sets_pgperr(f4):
    _, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_PG | X32)
    ctrl.bus_store(F4_FLASH + 0x8000, 2, 0)
    assert ctrl.read(SR, 4) == F_PGPERR and array.op_count == 0


def test_f4_store_crossing_a_128_bit_row_sets_pgaerr(f4):
    _, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_PG | X32)
    ctrl.bus_store(F4_FLASH + 0x800E, 4, 0)
    assert ctrl.read(SR, 4) == F_PGAERR and array.op_count == 0


def test_f4_program_into_a_protected_sector_sets_wrperr_and_operr_with_errie(f4):
    machine, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_PG | X32 | F_ERRIE)
    ctrl.bus_store(F4_FLASH + 0x4000, 4, 0)
    assert ctrl.read(SR, 4) == F_WRPERR | F_OPERR and machine.irqs == [4]
    assert array.op_count == 0


def test_f4_erase_of_a_protected_sector_sets_wrperr_without_operr_when_errie_is_off(f4):
    machine, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_SER | snb(1) | X32 | F_STRT)
    assert ctrl.read(SR, 4) == F_WRPERR and ctrl.read(CR, 4) & F_STRT == 0
    assert machine.irqs == [] and array.op_count == 0


def test_f4_pending_errors_clear_by_writing_one(f4):
    _, _, ctrl = f4
    ctrl.bus_store(F4_FLASH, 4, 0)
    ctrl.write(SR, 4, F_PGSERR)
    assert ctrl.read(SR, 4) == 0


def test_f4_mass_erase_is_refused_while_a_sector_is_protected(f4):
    _, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_MER | X32 | F_STRT)
    assert ctrl.read(SR, 4) == F_WRPERR and array.op_count == 0


def test_f4_mass_erase_erases_everything_in_one_operation():
    machine = FakeMachine()
    array = FlashArray(stm32f4_layout())
    array.write_raw(0, b"\x00" * array.size)
    ctrl = Stm32f4FlashController(machine, "flash", 0x4002_3C00, flash=array)
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_MER | X32 | F_STRT)
    machine.advance(8_000_000)
    assert array.read(0, array.size) == b"\xff" * array.size
    assert [op.kind for op in array.log] == ["erase-all"]


def test_f4_ser_and_mer_together_erase_nothing(f4):
    machine, array, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_SER | F_MER | snb(2) | F_STRT)
    machine.advance(20_000_000)
    assert array.op_count == 0 and ctrl.read(SR, 4) == 0
    assert "neither erase is performed" in machine.guest_errors[-1]


def test_f4_cr_write_during_an_erase_takes_effect_when_bsy_clears(f4):
    machine, _, ctrl = f4
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_SER | snb(0) | X32 | F_STRT)
    ctrl.write(CR, 4, F_LOCK)
    assert ctrl.read(CR, 4) & F_LOCK == 0
    machine.advance(250_000)
    assert ctrl.read(CR, 4) == F_LOCK


def test_f4_option_bytes_write_protect_a_sector_across_reset(f4):
    machine, array, ctrl = f4
    ctrl.write(OPTKEYR, 4, F4_OPTKEY1)
    ctrl.write(OPTKEYR, 4, F4_OPTKEY2)
    assert ctrl.read(OPTCR, 4) & 1 == 0
    ctrl.write(OPTCR, 4, (ctrl.read(OPTCR, 4) & ~(1 << (16 + 3))) | 2)
    machine.advance(1_000_000)
    ctrl.reset()
    assert ctrl.read(OPTCR, 4) & (1 << 19) == 0
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_SER | snb(3) | X32 | F_STRT)
    assert ctrl.read(SR, 4) == F_WRPERR and array.protected == {1, 3}


def test_f4_program_over_unerased_cells_is_refused_when_the_board_says_so():
    machine = FakeMachine()
    array = FlashArray(stm32f4_layout())
    array.write_raw(0x4000, b"\x0f" * 4)
    ctrl = Stm32f4FlashController(machine, "flash", 0x4002_3C00, flash=array)
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_PG | X32)
    ctrl.bus_store(F4_FLASH + 0x4000, 4, 0)
    assert ctrl.read(SR, 4) == 0 and array.read(0x4000, 4) == b"\x0f" * 4
    assert "not-erased" in machine.guest_errors[-1]


def test_f4_power_cut_during_a_sector_erase_leaves_a_torn_sector(f4):
    machine, array, ctrl = f4
    array.write_raw(0, b"\x00" * 16 * KIB)
    array.add_listener(cut_at(0, "during", seed=11))
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_SER | snb(0) | X32 | F_STRT)
    with pytest.raises(PowerCut):
        machine.advance(250_000)
    sector = array.read(0, 16 * KIB)
    assert sector.count(0xFF) not in (0, 16 * KIB)


def test_f4_reset_during_an_erase_completes_the_erase_first(f4):
    machine, array, ctrl = f4
    array.write_raw(0, b"\x00" * 16)
    f4_unlock(ctrl)
    ctrl.write(CR, 4, F_SER | snb(0) | X32 | F_STRT)
    ctrl.reset()
    assert array.read(0, 16) == b"\xff" * 16
    assert ctrl.read(SR, 4) == 0 and ctrl.read(CR, 4) == F_LOCK
    machine.advance(1_000_000)
    assert array.op_count == 1
