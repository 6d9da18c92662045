"""``ref-sysctl``: the reference boards' reset controller, of our own design (docs/boot.md,
"Reset controller").

====== ======== ====== ============================================================
offset register access meaning
====== ======== ====== ============================================================
0x000  RSTINFO  w1c    causes of the resets since power-on or since the firmware last
                       cleared them: POR (bit 0), SOFTWARE (bit 1: SYSRESETREQ or
                       SWRESET), WATCHDOG (bit 2), LOCKUP (bit 3)
0x004  SWRESET  wo     write 0x5253_5451 ("RSTQ") to reset the system; other values are
                       ignored and logged
0xFFC  ID       ro     0x5359_5343 ("SYSC")
====== ======== ====== ============================================================

Each reset sets the bit of its cause, which the machine gives as ``machine.reset_reason``
("power-on", "software", "watchdog", "lockup"); a power-on reset clears the other bits, a
warm reset keeps them, so firmware reads the register at start-up and clears what it has
seen. LOCKUP is never set by this emulator: a lockup ends the run with a report instead of
resetting.
"""

from __future__ import annotations

from emu.periph.base import RO, W1C, WO, Field, Peripheral, Reg, register

SWRESET_KEY = 0x5253_5451
ID_VALUE = 0x5359_5343
POR, SOFTWARE, WATCHDOG, LOCKUP = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REASON_BITS = {"power-on": POR, "software": SOFTWARE, "watchdog": WATCHDOG, "lockup": LOCKUP}


@register("ref-sysctl")
class RefSysctl(Peripheral):
    """Reset causes and a software reset register; see the module docstring."""

    SIZE = 0x1000
    REGISTERS = (
        Reg(0x000, "RSTINFO", "reset information", access=W1C, fields=(
            Field("POR", 0, access=W1C, doc="power-on reset"),
            Field("SOFTWARE", 1, access=W1C, doc="SYSRESETREQ or SWRESET"),
            Field("WATCHDOG", 2, access=W1C, doc="watchdog reset"),
            Field("LOCKUP", 3, access=W1C, doc="lockup reset (never set here)"))),
        Reg(0x004, "SWRESET", "software reset request", access=WO),
        Reg(0xFFC, "ID", "identification", reset=ID_VALUE, access=RO),
    )

    def reset(self) -> None:
        kept = getattr(self, "regs", {}).get("RSTINFO", 0)
        super().reset()
        reason = getattr(self.machine, "reset_reason", "power-on")
        bit = REASON_BITS.get(reason, 0)
        self.regs["RSTINFO"] = POR if bit == POR else kept | bit

    def write_SWRESET(self, value: int) -> None:
        if value != SWRESET_KEY:
            self.guest_error(f"SWRESET written with {value:#x}, not the key; ignored")
        elif self.machine is not None:
            self.machine.request_reset("software")
