"""The USART of the STM32F4 (RM0090 revision 19, section 30 "Universal synchronous
asynchronous receiver transmitter", registers in section 30.6), as the console of a board.

Modelled: the asynchronous mode with its status flags and interrupts.

* Transmit is immediate: a byte written to DR while UE and TE are set reaches the console at
  once, so TXE never reads 0 and TC is set again by every write (``machine.console_write``).
  With PCE the top data bit is the parity bit and is not sent to the console.
* Receive: :meth:`Stm32Usart.feed` puts bytes on the RX line. They arrive one frame apart at
  the baud rate of BRR (start bit, 8 or 9 data bits, the stop bits of CR2), counted in
  cycles of ``pclk_hz`` (default: the core clock, as on a part whose APB prescaler is 1).
  A byte arriving while RXNE is set is lost and sets ORE; a byte arriving while UE or RE is
  clear is lost. One idle frame after the last byte, IDLE is set.
* Flags clear as RM0090 says: RXNE by a read of DR or by writing 0; TC, LBD and CTS by
  writing 0 (rc_w0); PE, FE, NF, ORE and IDLE by a read of SR followed by a read of DR.
* Interrupt: the one line ``irq`` (USART2 is line 38) is pended whenever an enabled source
  holds after a register access or a received byte: TXE with TXEIE, TC with TCIE, RXNE or
  ORE with RXNEIE, IDLE with IDLEIE, PE with PEIE, and FE, NF or ORE with CR3.EIE when
  CR3.DMAR is set (the error interrupt of DMA reception).

Not modelled, and why: synchronous mode (CK pin), LIN break detection, smartcard, IrDA,
half-duplex, hardware flow control (CTS/RTS), mute mode and address wake-up, DMA requests:
no board of ota-emu wires them, so CR2, CR3 and GTPR only store their bits. Noise and
framing errors never happen on an emulated line, so NF and FE stay 0. The line is level
sensitive on silicon: a source that stays enabled and set re-enters the handler at once; here
it is pended again only at the next access to the USART, which every handler that serves
the source makes.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from emu.periph.base import RO, RW, Field, Peripheral, Reg, register

if TYPE_CHECKING:
    from emu.core.machine import Machine

# USART_SR bits (RM0090 section 30.6.1).
SR_PE, SR_FE, SR_NF, SR_ORE, SR_IDLE = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4
SR_RXNE, SR_TC, SR_TXE, SR_LBD, SR_CTS = 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9
SR_RESET = SR_TXE | SR_TC
SR_RC_W0 = SR_CTS | SR_LBD | SR_TC | SR_RXNE  # cleared by writing 0
SR_READ_THEN_DR = SR_PE | SR_FE | SR_NF | SR_ORE | SR_IDLE  # cleared by SR read, DR read

# USART_CR1 bits (section 30.6.4).
CR1_SBK, CR1_RWU, CR1_RE, CR1_TE = 1 << 0, 1 << 1, 1 << 2, 1 << 3
CR1_IDLEIE, CR1_RXNEIE, CR1_TCIE, CR1_TXEIE = 1 << 4, 1 << 5, 1 << 6, 1 << 7
CR1_PEIE, CR1_PS, CR1_PCE, CR1_WAKE = 1 << 8, 1 << 9, 1 << 10, 1 << 11
CR1_M, CR1_UE, CR1_OVER8 = 1 << 12, 1 << 13, 1 << 15
CR1_MASK = 0xBFFF  # bit 14 is reserved

CR2_MASK = 0x7F6F  # bits 4 and 7 are reserved
CR2_STOP_SHIFT = 12
CR3_EIE, CR3_DMAR = 1 << 0, 1 << 6
CR3_MASK = 0x0FFF

# Stop bits by CR2.STOP, in half bits: 1, 0.5, 2, 1.5.
STOP_HALF_BITS = (2, 1, 4, 3)


def _registers() -> tuple[Reg, ...]:
    sr = (
        Field("PE", 0, access=RO, doc="parity error"),
        Field("FE", 1, access=RO, doc="framing error"),
        Field("NF", 2, access=RO, doc="noise detected"),
        Field("ORE", 3, access=RO, doc="overrun: a byte arrived while RXNE was set"),
        Field("IDLE", 4, access=RO, doc="idle line detected"),
        Field("RXNE", 5, doc="read data register not empty (rc_w0)"),
        Field("TC", 6, doc="transmission complete (rc_w0)"),
        Field("TXE", 7, access=RO, doc="transmit data register empty"),
        Field("LBD", 8, doc="LIN break detected (rc_w0)"),
        Field("CTS", 9, doc="CTS toggled (rc_w0)"),
    )
    cr1 = (
        Field("SBK", 0, doc="send break"), Field("RWU", 1, doc="receiver in mute mode"),
        Field("RE", 2, doc="receiver enable"), Field("TE", 3, doc="transmitter enable"),
        Field("IDLEIE", 4), Field("RXNEIE", 5), Field("TCIE", 6), Field("TXEIE", 7),
        Field("PEIE", 8), Field("PS", 9, doc="odd parity"), Field("PCE", 10, doc="parity"),
        Field("WAKE", 11), Field("M", 12, doc="9 data bits"),
        Field("UE", 13, doc="USART enable"), Field("OVER8", 15, doc="oversampling by 8"),
    )
    cr2 = (
        Field("ADD", 0, 4), Field("LBDL", 5), Field("LBDIE", 6), Field("LBCL", 8),
        Field("CPHA", 9), Field("CPOL", 10), Field("CLKEN", 11), Field("STOP", 12, 2),
        Field("LINEN", 14),
    )
    cr3 = (
        Field("EIE", 0), Field("IREN", 1), Field("IRLP", 2), Field("HDSEL", 3),
        Field("NACK", 4), Field("SCEN", 5), Field("DMAR", 6), Field("DMAT", 7),
        Field("RTSE", 8), Field("CTSE", 9), Field("CTSIE", 10), Field("ONEBIT", 11),
    )
    return (
        Reg(0x00, "SR", "status", reset=SR_RESET, access=RW, fields=sr),
        Reg(0x04, "DR", "data", fields=(Field("DR", 0, 9),)),
        Reg(0x08, "BRR", "baud rate",
            fields=(Field("DIV_Fraction", 0, 4), Field("DIV_Mantissa", 4, 12))),
        Reg(0x0C, "CR1", "control 1", fields=cr1),
        Reg(0x10, "CR2", "control 2", fields=cr2),
        Reg(0x14, "CR3", "control 3", fields=cr3),
        Reg(0x18, "GTPR", "guard time and prescaler",
            fields=(Field("PSC", 0, 8), Field("GT", 8, 8))),
    )


@register("stm32-usart")
class Stm32Usart(Peripheral):
    """One USART of an STM32F4; see the module docstring.

    Parameters: ``irq`` (the USART's global interrupt line, optional) and ``pclk_hz`` (the
    APB clock that BRR divides; default the core clock).
    """

    SIZE = 0x400
    REGISTERS = _registers()

    def __init__(self, machine: Machine | None, name: str, base: int, *,
                 irq: int | None = None, pclk_hz: int | None = None, **params: Any) -> None:
        self.irq = irq
        self.pclk_hz = pclk_hz
        self.line: deque[int] = deque()
        self._event: Any = None
        self._seen = 0
        super().__init__(machine, name, base, **params)

    # -- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Reset values of RM0090 section 30.6; bytes still on the line are dropped."""
        super().reset()
        if self._event is not None and self.machine is not None:
            self.machine.cancel(self._event)
        self._event = None
        self._seen = 0
        self.line = deque()

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "line": list(self.line), "seen": self._seen}

    def restore(self, state: dict[str, Any]) -> None:
        """Registers and the bytes on the line; their delivery starts again from now."""
        super().restore(state)
        self.line = deque(state["line"])
        self._seen = state["seen"]
        self._event = None
        self._schedule_delivery()

    # -- registers -------------------------------------------------------------------------

    def read_SR(self) -> int:
        self._seen = self.regs["SR"] & SR_READ_THEN_DR
        return self.regs["SR"]

    def write_SR(self, value: int) -> None:
        """rc_w0 bits clear when written 0; every other bit ignores the write."""
        self.regs["SR"] &= ~(SR_RC_W0 & ~value)
        self._update_irq()

    def read_DR(self) -> int:
        self.regs["SR"] &= ~(SR_RXNE | self._seen)
        self._seen = 0
        return self.regs["DR"]

    def write_DR(self, value: int) -> None:
        cr1 = self.regs["CR1"]
        if not (cr1 & CR1_UE and cr1 & CR1_TE):
            self.guest_error("byte written to DR while UE or TE is clear; not sent")
            return
        data_bits = (9 if cr1 & CR1_M else 8) - (1 if cr1 & CR1_PCE else 0)
        byte = value & ((1 << data_bits) - 1) & 0xFF
        if self.machine is not None:
            self.machine.console_write(bytes([byte]))
        self.regs["SR"] |= SR_TXE | SR_TC
        self._update_irq()

    def write_BRR(self, value: int) -> None:
        self.regs["BRR"] = value & 0xFFFF

    def write_CR1(self, value: int) -> None:
        # A break is sent at once, so SBK reads back 0.
        self.regs["CR1"] = value & CR1_MASK & ~CR1_SBK
        self._update_irq()
        self._schedule_delivery()

    def write_CR2(self, value: int) -> None:
        self.regs["CR2"] = value & CR2_MASK

    def write_CR3(self, value: int) -> None:
        self.regs["CR3"] = value & CR3_MASK
        self._update_irq()

    def write_GTPR(self, value: int) -> None:
        self.regs["GTPR"] = value & 0xFFFF

    # -- receive ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes arriving on the RX line, one frame time apart."""
        self.line.extend(data)
        self._schedule_delivery()

    def frame_cycles(self) -> int:
        """Core cycles one frame takes on the line at the current BRR, CR1 and CR2."""
        cr1, brr = self.regs["CR1"], self.regs["BRR"]
        if brr == 0:
            return 1
        if cr1 & CR1_OVER8:
            bit = 8 * (brr >> 4) + (brr & 0x7)
        else:
            bit = brr
        data_bits = 9 if cr1 & CR1_M else 8
        stop_half = STOP_HALF_BITS[(self.regs["CR2"] >> CR2_STOP_SHIFT) & 3]
        half_bits = 2 * (1 + data_bits) + stop_half
        core_hz = getattr(self.machine, "hz", None)
        scale = core_hz / self.pclk_hz if core_hz and self.pclk_hz else 1.0
        return max(1, round(bit * half_bits * scale / 2))

    def _schedule_delivery(self) -> None:
        if not self.line or self._event is not None:
            return
        if self.machine is None:
            while self.line:
                self._deliver(self.line.popleft())
            return
        if self.regs["BRR"] == 0:
            self.guest_error("bytes on the RX line while BRR is 0; taking one per cycle")
        self._event = self.machine.schedule(self.frame_cycles(), self._on_frame)

    def _on_frame(self) -> None:
        self._event = None
        if self.line:
            self._deliver(self.line.popleft())
            if self.line:
                self._schedule_delivery()
            elif self.machine is not None:
                self._event = self.machine.schedule(self.frame_cycles(), self._on_idle)

    def _on_idle(self) -> None:
        self._event = None
        if self.line:
            self._schedule_delivery()
            return
        if self._receiving():
            self.regs["SR"] |= SR_IDLE
            self._update_irq()

    def _receiving(self) -> bool:
        cr1 = self.regs["CR1"]
        return bool(cr1 & CR1_UE and cr1 & CR1_RE)

    def _deliver(self, byte: int) -> None:
        if not self._receiving():
            return
        if self.regs["SR"] & SR_RXNE:
            self.regs["SR"] |= SR_ORE
        else:
            self.regs["DR"] = byte
            self.regs["SR"] |= SR_RXNE
        self._update_irq()

    # -- interrupt -------------------------------------------------------------------------

    def pending_sources(self) -> int:
        """The SR bits whose interrupt is enabled and that are set now."""
        sr, cr1, cr3 = self.regs["SR"], self.regs["CR1"], self.regs["CR3"]
        sources = 0
        if cr1 & CR1_TXEIE:
            sources |= sr & SR_TXE
        if cr1 & CR1_TCIE:
            sources |= sr & SR_TC
        if cr1 & CR1_RXNEIE:
            sources |= sr & (SR_RXNE | SR_ORE)
        if cr1 & CR1_IDLEIE:
            sources |= sr & SR_IDLE
        if cr1 & CR1_PEIE:
            sources |= sr & SR_PE
        if cr3 & CR3_EIE and cr3 & CR3_DMAR:
            sources |= sr & (SR_FE | SR_NF | SR_ORE)
        return sources

    def _update_irq(self) -> None:
        if self.irq is not None and self.pending_sources():
            self.raise_irq(int(self.irq))
