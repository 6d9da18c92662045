"""The Arm CMSDK APB UART (Cortex-M System Design Kit Technical Reference Manual, ARM DDI
0479, section 4.3), the console of the mps2 boards.

Transmission completes at once: a byte written to DATA reaches the console in the same
instant, so the TX buffer is never full. Received bytes come from :meth:`CmsdkUart.feed`.
"""

from __future__ import annotations

from collections import deque

from emu.periph.base import RO, RW, W1C, Field, Peripheral, Reg, register

STATE_TXFULL = 1 << 0
STATE_RXFULL = 1 << 1
STATE_TXOVR = 1 << 2
STATE_RXOVR = 1 << 3
CTRL_TXEN = 1 << 0
CTRL_RXEN = 1 << 1
CTRL_TXIE = 1 << 2
CTRL_RXIE = 1 << 3
INT_TX = 1 << 0
INT_RX = 1 << 1


@register("cmsdk-uart")
class CmsdkUart(Peripheral):
    SIZE = 0x1000
    REGISTERS = (
        Reg(0x000, "DATA", "data", access=RW, fields=(Field("DATA", 0, 8),)),
        Reg(0x004, "STATE", "status", fields=(
            Field("TXFULL", 0, access=RO, doc="transmit buffer full"),
            Field("RXFULL", 1, access=RO, doc="receive buffer full"),
            Field("TXOVR", 2, access=W1C, doc="transmit overrun"),
            Field("RXOVR", 3, access=W1C, doc="receive overrun"),
        )),
        Reg(0x008, "CTRL", "control", fields=(
            Field("TXEN", 0), Field("RXEN", 1), Field("TXIE", 2), Field("RXIE", 3),
            Field("TXOVRIE", 4), Field("RXOVRIE", 5), Field("HSTEST", 6),
        )),
        Reg(0x00C, "INTSTATUS", "interrupt status / clear", access=W1C, fields=(
            Field("TXINT", 0), Field("RXINT", 1), Field("TXOVRINT", 2), Field("RXOVRINT", 3),
        )),
        Reg(0x010, "BAUDDIV", "baud rate divider", fields=(Field("BAUDDIV", 0, 20),)),
        Reg(0xFD0, "PID4", "peripheral ID 4", reset=0x04, access=RO),
        Reg(0xFE0, "PID0", "peripheral ID 0", reset=0x21, access=RO),
        Reg(0xFE4, "PID1", "peripheral ID 1", reset=0xB8, access=RO),
        Reg(0xFE8, "PID2", "peripheral ID 2", reset=0x1B, access=RO),
        Reg(0xFEC, "PID3", "peripheral ID 3", reset=0x00, access=RO),
        Reg(0xFF0, "CID0", "component ID 0", reset=0x0D, access=RO),
        Reg(0xFF4, "CID1", "component ID 1", reset=0xF0, access=RO),
        Reg(0xFF8, "CID2", "component ID 2", reset=0x05, access=RO),
        Reg(0xFFC, "CID3", "component ID 3", reset=0xB1, access=RO),
    )

    def reset(self) -> None:
        super().reset()
        self.rx: deque[int] = deque()

    def snapshot(self) -> dict:
        return {**super().snapshot(), "rx": list(self.rx)}

    def restore(self, state: dict) -> None:
        super().restore(state)
        self.rx = deque(state["rx"])

    # -- transmit ----------------------------------------------------------------------

    def write_DATA(self, value: int) -> None:
        if not self.regs["CTRL"] & CTRL_TXEN:
            self.guest_error("byte written to DATA while the transmitter is disabled")
            return
        if self.machine is not None:
            self.machine.console_write(bytes([value & 0xFF]))
        if self.regs["CTRL"] & CTRL_TXIE:
            self._interrupt(INT_TX, "irq_tx")

    # -- receive -----------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes arriving on the RX line; a second byte before a read overruns."""
        for byte in data:
            if self.regs["STATE"] & STATE_RXFULL:
                self.regs["STATE"] |= STATE_RXOVR
                continue
            self.rx.append(byte)
            self.regs["STATE"] |= STATE_RXFULL
            if self.regs["CTRL"] & CTRL_RXIE:
                self._interrupt(INT_RX, "irq_rx")

    def read_DATA(self) -> int:
        if not self.rx:
            return 0
        byte = self.rx.popleft()
        if not self.rx:
            self.regs["STATE"] &= ~STATE_RXFULL
        return byte

    def write_STATE(self, value: int) -> None:
        self.regs["STATE"] &= ~(value & (STATE_TXOVR | STATE_RXOVR))

    def write_CTRL(self, value: int) -> None:
        self.regs["CTRL"] = value & 0x7F

    def _interrupt(self, bit: int, line: str) -> None:
        self.regs["INTSTATUS"] |= bit
        irq = self.params.get(line)
        if irq is not None:
            self.raise_irq(int(irq))
