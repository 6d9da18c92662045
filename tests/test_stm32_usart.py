"""The STM32F4 USART model driven through its registers (RM0090 section 30.6), one behaviour
per test, on a fake machine with a 16 MHz clock, a console and an interrupt log."""

from __future__ import annotations

import heapq
import itertools

import pytest

from emu.periph.base import PERIPHERAL_TYPES
from emu.periph.stm32_usart import (
    CR1_M,
    CR1_OVER8,
    CR1_PCE,
    CR1_RE,
    CR1_RXNEIE,
    CR1_SBK,
    CR1_TCIE,
    CR1_TE,
    CR1_TXEIE,
    CR1_UE,
    CR3_DMAR,
    CR3_EIE,
    SR_IDLE,
    SR_ORE,
    SR_RXNE,
    SR_TC,
    SR_TXE,
    Stm32Usart,
)

OFF = {r.mnemonic: r.offset for r in Stm32Usart.REGISTERS}
IRQ = 38
BRR_115200 = 0x8B  # 16 MHz / (16 * 8.6875)
ON = CR1_UE | CR1_TE | CR1_RE


class FakeMachine:
    hz = 16_000_000

    def __init__(self) -> None:
        self.now = 0
        self.events: list = []
        self.seq = itertools.count()
        self.console = bytearray()
        self.irqs: list[int] = []
        self.guest_errors: list[str] = []
        self.unmodelled_accesses: list[int] = []

    def schedule(self, delay: int, callback):
        event = [self.now + delay, next(self.seq), callback]
        heapq.heappush(self.events, event)
        return event

    def cancel(self, event) -> None:
        if event in self.events:
            self.events.remove(event)
            heapq.heapify(self.events)

    def advance(self, cycles: int) -> None:
        target = self.now + cycles
        while self.events and self.events[0][0] <= target:
            when, _, callback = heapq.heappop(self.events)
            self.now = when
            callback()
        self.now = target

    def console_write(self, data: bytes) -> None:
        self.console += data

    def set_irq_pending(self, irq: int) -> None:
        self.irqs.append(irq)

    def guest_error(self, device: str, message: str) -> None:
        self.guest_errors.append(message)

    def unmodelled(self, device, address, size, value) -> None:
        self.unmodelled_accesses.append(address)


@pytest.fixture
def machine() -> FakeMachine:
    return FakeMachine()


@pytest.fixture
def usart(machine) -> Stm32Usart:
    return Stm32Usart(machine, "usart2", 0x4000_4400, irq=IRQ)


def rd(dev: Stm32Usart, mnemonic: str) -> int:
    return dev.read(OFF[mnemonic], 4)


def wr(dev: Stm32Usart, mnemonic: str, value: int) -> None:
    dev.write(OFF[mnemonic], 4, value)


def enable(dev: Stm32Usart, extra: int = 0) -> None:
    wr(dev, "BRR", BRR_115200)
    wr(dev, "CR1", ON | extra)


# -- registers and reset ---------------------------------------------------------------------

def test_board_files_name_the_model_stm32_usart():
    assert PERIPHERAL_TYPES["stm32-usart"] is Stm32Usart


def test_reset_values_follow_rm0090(usart):
    assert rd(usart, "SR") == SR_TXE | SR_TC
    for name in ("BRR", "CR1", "CR2", "CR3", "GTPR"):
        assert rd(usart, name) == 0, name


def test_register_offsets_follow_rm0090():
    assert OFF == {"SR": 0x00, "DR": 0x04, "BRR": 0x08, "CR1": 0x0C, "CR2": 0x10,
                   "CR3": 0x14, "GTPR": 0x18}


def test_reserved_bits_and_sbk_read_back_as_zero(usart):
    wr(usart, "CR1", 0xFFFF_FFFF)
    assert rd(usart, "CR1") == 0xBFFF & ~CR1_SBK
    wr(usart, "CR2", 0xFFFF_FFFF)
    assert rd(usart, "CR2") == 0x7F6F
    wr(usart, "CR3", 0xFFFF_FFFF)
    assert rd(usart, "CR3") == 0x0FFF
    wr(usart, "BRR", 0xFFFF_FFFF)
    assert rd(usart, "BRR") == 0xFFFF


def test_an_offset_past_the_table_is_reported_unmodelled(usart, machine):
    assert usart.read(0x1C, 4) == 0
    assert machine.unmodelled_accesses == [0x4000_441C]


def test_reset_drops_bytes_still_on_the_line(usart, machine):
    enable(usart)
    usart.feed(b"abc")
    usart.reset()
    machine.advance(100_000)
    assert rd(usart, "SR") & SR_RXNE == 0
    assert rd(usart, "CR1") == 0


# -- transmit --------------------------------------------------------------------------------

def test_a_byte_written_to_dr_reaches_the_console_at_once(usart, machine):
    enable(usart)
    for byte in b"hi\n":
        assert rd(usart, "SR") & SR_TXE
        wr(usart, "DR", byte)
    assert machine.console == b"hi\n"
    assert rd(usart, "SR") & (SR_TXE | SR_TC) == SR_TXE | SR_TC


@pytest.mark.parametrize("cr1", [CR1_TE, CR1_UE, 0])
def test_dr_writes_without_ue_and_te_are_dropped_and_logged(usart, machine, cr1):
    wr(usart, "CR1", cr1)
    wr(usart, "DR", ord("x"))
    assert machine.console == b""
    assert machine.guest_errors == ["byte written to DR while UE or TE is clear; not sent"]


def test_the_parity_bit_is_not_sent_to_the_console(usart, machine):
    enable(usart, CR1_PCE)
    wr(usart, "DR", 0xC1)  # 7 data bits and parity: 0x41
    wr(usart, "CR1", ON | CR1_PCE | CR1_M)
    wr(usart, "DR", 0x1C1)  # 8 data bits and parity: 0xC1
    assert machine.console == b"\x41\xc1"


def test_tc_clears_when_written_zero_and_sets_again_with_the_next_byte(usart):
    enable(usart)
    wr(usart, "SR", ~SR_TC & 0xFFFF)
    assert rd(usart, "SR") & SR_TC == 0
    wr(usart, "DR", ord("a"))
    assert rd(usart, "SR") & SR_TC


def test_writing_ones_to_sr_changes_nothing(usart):
    wr(usart, "SR", 0xFFFF)
    assert rd(usart, "SR") == SR_TXE | SR_TC


def test_txeie_raises_the_interrupt_while_txe_is_set(usart, machine):
    enable(usart)
    assert machine.irqs == []
    wr(usart, "CR1", ON | CR1_TXEIE)
    assert machine.irqs == [IRQ]
    wr(usart, "DR", ord("a"))
    assert machine.irqs == [IRQ, IRQ]


def test_tcie_raises_the_interrupt_after_a_byte_is_sent(usart, machine):
    enable(usart)
    wr(usart, "SR", ~SR_TC & 0xFFFF)
    wr(usart, "CR1", ON | CR1_TCIE)
    assert machine.irqs == []
    wr(usart, "DR", ord("a"))
    assert machine.irqs == [IRQ]


# -- receive ---------------------------------------------------------------------------------

def test_a_received_byte_sets_rxne_and_reading_dr_clears_it(usart, machine):
    enable(usart)
    usart.feed(b"Z")
    machine.advance(usart.frame_cycles())
    assert rd(usart, "SR") & SR_RXNE
    assert rd(usart, "DR") == ord("Z")
    assert rd(usart, "SR") & SR_RXNE == 0


def test_rxne_also_clears_when_written_zero(usart, machine):
    enable(usart)
    usart.feed(b"Z")
    machine.advance(usart.frame_cycles())
    wr(usart, "SR", ~SR_RXNE & 0xFFFF)
    assert rd(usart, "SR") & SR_RXNE == 0


def test_bytes_arrive_one_frame_apart_at_the_baud_rate(usart, machine):
    enable(usart)
    frame = usart.frame_cycles()
    assert frame == 10 * BRR_115200  # start, 8 data bits, 1 stop bit of 139 cycles
    usart.feed(b"ab")
    machine.advance(frame - 1)
    assert rd(usart, "SR") & SR_RXNE == 0
    machine.advance(1)
    assert rd(usart, "DR") == ord("a")
    machine.advance(frame)
    assert rd(usart, "DR") == ord("b")


def test_frame_time_follows_over8_nine_bits_and_two_stop_bits(usart):
    wr(usart, "BRR", (8 << 4) | 5)
    wr(usart, "CR1", ON | CR1_OVER8 | CR1_M)
    wr(usart, "CR2", 2 << 12)
    assert usart.frame_cycles() == (8 * 8 + 5) * 12  # start, 9 data bits, 2 stop bits


def test_a_byte_arriving_while_rxne_is_set_is_lost_and_sets_ore(usart, machine):
    enable(usart)
    usart.feed(b"12")
    machine.advance(3 * usart.frame_cycles())
    assert rd(usart, "SR") & (SR_RXNE | SR_ORE) == SR_RXNE | SR_ORE
    assert rd(usart, "DR") == ord("1")


def test_ore_and_idle_clear_after_a_read_of_sr_then_dr(usart, machine):
    enable(usart)
    usart.feed(b"12")
    machine.advance(4 * usart.frame_cycles())
    assert usart.regs["SR"] & (SR_ORE | SR_IDLE) == SR_ORE | SR_IDLE
    rd(usart, "DR")  # a DR read alone clears RXNE only
    assert usart.regs["SR"] & (SR_ORE | SR_IDLE) == SR_ORE | SR_IDLE
    rd(usart, "SR")
    rd(usart, "DR")
    assert usart.regs["SR"] & (SR_ORE | SR_IDLE | SR_RXNE) == 0


def test_idle_is_set_one_frame_after_the_last_byte(usart, machine):
    enable(usart)
    usart.feed(b"x")
    frame = usart.frame_cycles()
    machine.advance(2 * frame - 1)
    assert rd(usart, "SR") & SR_IDLE == 0
    machine.advance(1)
    assert rd(usart, "SR") & SR_IDLE


def test_bytes_arriving_while_the_receiver_is_off_are_lost(usart, machine):
    wr(usart, "BRR", BRR_115200)
    wr(usart, "CR1", CR1_UE | CR1_TE)
    usart.feed(b"lost")
    machine.advance(10 * usart.frame_cycles())
    assert rd(usart, "SR") & (SR_RXNE | SR_IDLE) == 0


def test_rxneie_raises_the_interrupt_when_a_byte_arrives(usart, machine):
    enable(usart, CR1_RXNEIE)
    usart.feed(b"!")
    assert machine.irqs == []
    machine.advance(usart.frame_cycles())
    assert machine.irqs == [IRQ]


def test_the_error_interrupt_needs_eie_and_dma_reception(usart, machine):
    enable(usart)
    wr(usart, "CR3", CR3_EIE)
    usart.feed(b"12")
    machine.advance(2 * usart.frame_cycles())
    assert machine.irqs == []
    wr(usart, "CR3", CR3_EIE | CR3_DMAR)
    assert machine.irqs == [IRQ]


def test_without_a_machine_fed_bytes_arrive_at_once():
    dev = Stm32Usart(None, "usart2", 0x4000_4400)
    enable(dev)
    dev.feed(b"q")
    assert rd(dev, "DR") == ord("q")


def test_snapshot_and_restore_keep_registers_and_the_line(usart, machine):
    enable(usart)
    usart.feed(b"xyz")
    state = usart.snapshot()
    other = Stm32Usart(machine, "copy", 0x4000_4400)
    other.restore(state)
    assert other.regs == usart.regs and list(other.line) == list(b"xyz")
