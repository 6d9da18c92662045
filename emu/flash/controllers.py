"""Flash controllers: the register interfaces through which firmware erases and programs.

Two models share one mechanism (:class:`FlashController`): an operation is checked when the
firmware starts it (a refusal sets error flags at once and nothing is scheduled), then the
controller is busy for the operation's time on the virtual clock, and the array operation
itself happens when that time is up. A power cut injected by an array listener is therefore
raised from a machine event, between translated blocks, never inside a bus access.

* ``ref-flashc``: the reference board's controller, of our own design (docs/flash.md).
* ``stm32f4-flash``: the STM32F405/407 FLASH interface of RM0090 §3 (docs/flash.md lists what
  is not modelled).

Both take the array from the machine: ``Controller(machine, name, base, flash=array, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import unicorn

from emu.flash.nor import (
    MISALIGNED,
    NOT_ERASED,
    OUT_OF_RANGE,
    WRITE_PROTECTED,
    FlashArray,
    FlashOpError,
)
from emu.periph.base import RO, W1C, WO, Field, Peripheral, Reg, register

if TYPE_CHECKING:
    from emu.core.machine import Machine


class FlashController(Peripheral):
    """Busy time, completion and deferred accesses shared by the flash controller models."""

    def __init__(self, machine: Machine | None, name: str, base: int, *,
                 flash: FlashArray, **params: Any) -> None:
        self.flash = flash
        self._event: Any = None
        self._action: Callable[[], None] | None = None
        self._deferred: list[Callable[[], None]] = []
        super().__init__(machine, name, base, **params)

    def reset(self) -> None:
        """Registers to reset values; an operation in flight is completed first."""
        self._deferred = []
        if self._action is not None:
            self._cancel_event()
            self._finish()
        super().reset()

    # -- busy machinery --------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._action is not None

    def _begin(self, cycles: int, action: Callable[[], None]) -> None:
        """Mark the controller busy and apply ``action`` to the array after ``cycles``."""
        assert self._action is None
        self._action = action
        self._set_busy(True)
        if self.machine is None:
            self._finish()
        else:
            self._event = self.machine.schedule(max(1, int(cycles)), self._finish)

    def _finish(self) -> None:
        action, self._action, self._event = self._action, None, None
        assert action is not None
        try:
            action()
        except FlashOpError as e:
            self._set_busy(False)
            self._refused(e)
        else:
            self._set_busy(False)
            self._completed()
        self._drain()

    def _defer(self, access: Callable[[], None]) -> None:
        """Hold an access that would stall the bus until the operation ends."""
        self._deferred.append(access)

    def _drain(self) -> None:
        while self._deferred and not self.busy:
            self._deferred.pop(0)()

    def _cancel_event(self) -> None:
        if self._event is not None and self.machine is not None:
            self.machine.cancel(self._event)
        self._event = None

    def _bit(self, mnemonic: str, field_name: str) -> int:
        return self.reg(mnemonic).field(field_name).mask

    def _cycles(self, microseconds: float) -> int:
        hz = getattr(self.machine, "hz", 1_000_000)
        return max(1, round(microseconds * hz / 1_000_000))

    # -- hooks for models ------------------------------------------------------------------

    def _set_busy(self, on: bool) -> None:
        raise NotImplementedError

    def _refused(self, error: FlashOpError) -> None:
        raise NotImplementedError

    def _completed(self) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# ref-flashc: the reference board's controller (docs/flash.md, "ref-flashc")
# ---------------------------------------------------------------------------------------------

REF_KEY1 = 0x4B45_5931  # "KEY1"
REF_KEY2 = 0x4B45_5932  # "KEY2"
REF_BUF_WORDS = 16

_REF_ERRORS = {MISALIGNED: "MISALIGNED", NOT_ERASED: "NOTERASED",
               WRITE_PROTECTED: "WRPROT", OUT_OF_RANGE: "RANGE"}


def _ref_registers() -> tuple[Reg, ...]:
    sr_fields = (
        Field("BSY", 0, access=RO, doc="an operation is in progress"),
        Field("EOP", 1, access=W1C, doc="the last operation completed"),
        Field("MISALIGNED", 4, access=W1C, doc="ADDR or LEN not a multiple of the unit"),
        Field("NOTERASED", 5, access=W1C, doc="a program unit was not erased"),
        Field("WRPROT", 6, access=W1C, doc="the sector is write-protected"),
        Field("LOCKED", 7, access=W1C, doc="START while CR is locked"),
        Field("RANGE", 8, access=W1C, doc="ADDR/LEN outside the array or buffer"),
        Field("BADCMD", 9, access=W1C, doc="START with neither or both of PG and SER"),
        Field("SRCERR", 10, access=W1C, doc="DMA program: SRC..SRC+LEN is not readable"),
    )
    cr_fields = (
        Field("PG", 0, doc="program LEN bytes of BUF (or of SRC with DMA) at ADDR"),
        Field("SER", 1, doc="erase the sector holding ADDR"),
        Field("START", 2, doc="write 1 to start; reads 0"),
        Field("DMA", 3, doc="with PG: take the data from guest memory at SRC, not BUF"),
        Field("IE", 8, doc="interrupt at the end of every operation"),
        Field("LOCK", 31, doc="1: CR is locked; write 1 to lock, KEY sequence to unlock"),
    )
    regs = [
        Reg(0x00, "KEY", "unlock key", access=WO),
        Reg(0x04, "CR", "control", reset=1 << 31, fields=cr_fields),
        Reg(0x08, "ADDR", "target bus address"),
        Reg(0x0C, "LEN", "bytes to program"),
        Reg(0x10, "SR", "status", access=W1C, fields=sr_fields),
        Reg(0x14, "GEOM", "geometry", access=RO,
            fields=(Field("PUNIT", 0, 8, RO), Field("NSECT", 8, 16, RO))),
        Reg(0x18, "SECTSZ", "uniform sector size, 0 if not uniform", access=RO),
        Reg(0x1C, "SRC", "DMA program: guest address of the data"),
    ]
    regs += [Reg(0x40 + 4 * i, f"BUF{i}", f"program buffer word {i}")
             for i in range(REF_BUF_WORDS)]
    return tuple(regs)


@register("ref-flashc")
class RefFlashController(FlashController):
    """The reference board's flash controller (our design, documented in docs/flash.md).

    Parameters: ``irq`` (interrupt line, optional), ``program_cycles`` (busy cycles per
    program unit), ``erase_cycles`` (busy cycles per sector erase), ``protect`` (indexes of
    write-protected sectors, fixed at construction like factory-set protection).
    """

    REGISTERS = _ref_registers()
    SIZE = 0x100

    def __init__(self, machine: Machine | None, name: str, base: int, *,
                 flash: FlashArray, irq: int | None = None, program_cycles: int = 1_000,
                 erase_cycles: int = 200_000, protect: tuple[int, ...] = (),
                 **params: Any) -> None:
        self.irq = irq
        self.program_cycles = program_cycles
        self.erase_cycles = erase_cycles
        self._key_stage = 0
        super().__init__(machine, name, base, flash=flash, **params)
        flash.set_protected(protect)

    def reset(self) -> None:
        super().reset()
        self._key_stage = 0

    # -- registers -------------------------------------------------------------------------

    def read_GEOM(self) -> int:
        return self.flash.program_unit | (len(self.flash.sectors) << 8)

    def read_SECTSZ(self) -> int:
        return self.flash.layout.uniform_sector_size or 0

    def write_KEY(self, value: int) -> None:
        if not self._locked():
            self.guest_error("KEY written while CR is unlocked; ignored")
        elif self._key_stage == 0 and value == REF_KEY1:
            self._key_stage = 1
        elif self._key_stage == 1 and value == REF_KEY2:
            self._key_stage = 0
            self.regs["CR"] &= ~self._bit("CR", "LOCK")
        else:
            # A wrong value restarts the sequence; the controller stays locked.
            self._key_stage = 0

    def write_SR(self, value: int) -> None:
        self.regs["SR"] &= ~(value & ~self._bit("SR", "BSY"))

    def write_CR(self, value: int) -> None:
        if self.busy:
            self.guest_error("CR written while BSY; ignored")
            return
        lock, start = self._bit("CR", "LOCK"), self._bit("CR", "START")
        if self._locked():
            if value & start:
                self._flag("LOCKED")
            return
        self.regs["CR"] = value & ~start
        if value & start and not value & lock:
            self._start()

    # -- operations ------------------------------------------------------------------------

    def _start(self) -> None:
        pg, ser = self.get_field("CR", "PG"), self.get_field("CR", "SER")
        if pg == ser:
            self._flag("BADCMD")
            return
        try:
            if pg:
                self._start_program()
            else:
                self._start_erase()
        except FlashOpError as e:
            self._refused(e)

    def _start_program(self) -> None:
        length = self.regs["LEN"]
        offset = self.regs["ADDR"] - self.flash.base
        if self.get_field("CR", "DMA"):
            data = self._dma_data(offset, length)
            if data is None:
                self._flag("SRCERR")
                return
        else:
            if not 0 < length <= 4 * REF_BUF_WORDS:
                raise FlashOpError(OUT_OF_RANGE, self.regs["ADDR"], f"LEN {length}")
            data = self._buffer()[:length]
        self.flash.check_program(offset, data)
        units = length // self.flash.program_unit
        self._begin(self.program_cycles * units, lambda: self.flash.program(offset, data))

    def _start_erase(self) -> None:
        sector = self.flash.sector_at(self.regs["ADDR"] - self.flash.base)
        self.flash.check_erase(sector.index)
        self._begin(self.erase_cycles, lambda: self.flash.erase_sector(sector.index))

    def _dma_data(self, offset: int, length: int) -> bytes | None:
        """The LEN bytes at SRC, read once at START; None when SRC is not readable.

        The range must be 1 byte or more and stay inside the sector holding ADDR, otherwise
        FlashOpError(OUT_OF_RANGE) is raised (RANGE).
        """
        sector = self.flash.sector_at(offset)
        if not 0 < length <= sector.end - offset:
            raise FlashOpError(OUT_OF_RANGE, self.regs["ADDR"],
                               f"LEN {length} leaves sector {sector.index}")
        if self.machine is None:
            return None
        try:
            return self.machine.mem_read(self.regs["SRC"], length)
        except unicorn.UcError:
            return None

    def _buffer(self) -> bytes:
        return b"".join(self.regs[f"BUF{i}"].to_bytes(4, "little")
                        for i in range(REF_BUF_WORDS))

    # -- FlashController hooks -------------------------------------------------------------

    def _set_busy(self, on: bool) -> None:
        self.set_field("SR", "BSY", int(on))

    def _refused(self, error: FlashOpError) -> None:
        self._flag(_REF_ERRORS[error.code])

    def _completed(self) -> None:
        self.set_field("SR", "EOP", 1)
        self._interrupt()

    def _flag(self, name: str) -> None:
        self.set_field("SR", name, 1)
        self._interrupt()

    def _interrupt(self) -> None:
        if self.get_field("CR", "IE") and self.irq is not None:
            self.raise_irq(self.irq)

    def _locked(self) -> bool:
        return bool(self.get_field("CR", "LOCK"))

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "key_stage": self._key_stage}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self._key_stage = state["key_stage"]



# ---------------------------------------------------------------------------------------------
# stm32f4-flash: the FLASH interface of STM32F405/407/415/417 (RM0090 §3)
# ---------------------------------------------------------------------------------------------

F4_KEY1, F4_KEY2 = 0x4567_0123, 0xCDEF_89AB  # RM0090 §3.6.1
F4_OPTKEY1, F4_OPTKEY2 = 0x0819_2A3B, 0x4C5D_6E7F  # RM0090 §3.7.2
F4_OPTCR_RESET = 0x0FFF_AAED  # RM0090 §3.9, FLASH_OPTCR: no WRP, RDP 0
F4_ROW = 16  # bytes in a flash row: programs must not cross one (RM0090 §3.6.4)

# Typical times of the STM32F405/407 datasheet (DS8626, "Flash memory programming"), by
# PSIZE (x8, x16, x32, x64; x64 needs VPP and is given the x32 figures).
F4_PROGRAM_US = 16
F4_ERASE_MS = {
    16 * 1024: (400, 300, 250, 250),
    64 * 1024: (1200, 700, 550, 550),
    128 * 1024: (2000, 1300, 1000, 1000),
}
F4_MASS_ERASE_MS = (16000, 11000, 8000, 8000)

# SR error flags that also set OPERR when ERRIE is on (RM0090 §3.9, FLASH_SR.OPERR).
_F4_OPERR_SOURCES = ("WRPERR", "PGAERR", "PGPERR")


def _f4_registers() -> tuple[Reg, ...]:
    acr = (Field("LATENCY", 0, 3), Field("PRFTEN", 8), Field("ICEN", 9), Field("DCEN", 10),
           Field("ICRST", 11), Field("DCRST", 12))
    sr = (Field("EOP", 0, access=W1C), Field("OPERR", 1, access=W1C),
          Field("WRPERR", 4, access=W1C), Field("PGAERR", 5, access=W1C),
          Field("PGPERR", 6, access=W1C), Field("PGSERR", 7, access=W1C),
          Field("BSY", 16, access=RO))
    cr = (Field("PG", 0), Field("SER", 1), Field("MER", 2), Field("SNB", 3, 4),
          Field("PSIZE", 8, 2), Field("STRT", 16), Field("EOPIE", 24), Field("ERRIE", 25),
          Field("LOCK", 31))
    optcr = (Field("OPTLOCK", 0), Field("OPTSTRT", 1), Field("BOR_LEV", 2, 2),
             Field("WDG_SW", 5), Field("nRST_STOP", 6), Field("nRST_STDBY", 7),
             Field("RDP", 8, 8), Field("nWRP", 16, 12))
    return (
        Reg(0x00, "ACR", "access control", fields=acr),
        Reg(0x04, "KEYR", "key", access=WO),
        Reg(0x08, "OPTKEYR", "option key", access=WO),
        Reg(0x0C, "SR", "status", access=W1C, fields=sr),
        Reg(0x10, "CR", "control", reset=1 << 31, fields=cr),
        Reg(0x14, "OPTCR", "option control", reset=F4_OPTCR_RESET, fields=optcr),
    )


@register("stm32f4-flash")
class Stm32f4FlashController(FlashController):
    """The STM32F405/407 embedded flash interface, RM0090 §3.6 to §3.9.

    Sections are numbered as in RM0090 revision 19 and also named in docs/flash.md.

    The machine routes guest stores into the flash region to :meth:`bus_store`. Parameters:
    ``irq`` (the FLASH global interrupt, 4 on these parts), ``wrp_sectors`` (sectors whose
    nWRP option bit is 0 at power-on), ``time_scale`` (multiplies every busy time; 1.0 keeps
    the datasheet's typical values).
    """

    REGISTERS = _f4_registers()
    SIZE = 0x400

    def __init__(self, machine: Machine | None, name: str, base: int, *,
                 flash: FlashArray, irq: int | None = 4, wrp_sectors: tuple[int, ...] = (),
                 time_scale: float = 1.0, **params: Any) -> None:
        self.irq = irq
        self.time_scale = time_scale
        nwrp = 0xFFF & ~sum(1 << i for i in wrp_sectors)
        # The option bytes are flash: they survive resets and start as the board says.
        self.option_bytes = (F4_OPTCR_RESET & ~(0xFFF << 16)) | (nwrp << 16)
        self._key_stage = self._optkey_stage = 0
        self._keyr_dead = False
        self._half: tuple[int, int] | None = None
        super().__init__(machine, name, base, flash=flash, **params)

    def reset(self) -> None:
        """Reset values of RM0090 §3.9; OPTCR is reloaded from the option bytes."""
        super().reset()
        self.regs["OPTCR"] = self.option_bytes | self._bit("OPTCR", "OPTLOCK")
        self._key_stage = self._optkey_stage = 0
        self._keyr_dead = False
        self._half = None
        self._apply_protection()

    # -- unlocking (RM0090 §3.6.1, §3.7.2) --------------------------------------------------

    def write_KEYR(self, value: int) -> None:
        if self._keyr_dead:
            self.guest_error("KEYR written after a wrong key; CR stays locked until reset")
        elif not self.get_field("CR", "LOCK"):
            self.guest_error("KEYR written while CR is unlocked; ignored")
        elif value == (F4_KEY1, F4_KEY2)[self._key_stage]:
            self._key_stage ^= 1
            if self._key_stage == 0:
                self.set_field("CR", "LOCK", 0)
        else:
            # RM0090: a wrong sequence locks CR until reset and returns a bus error; the
            # bus error is reported as a guest error because a model cannot fault the bus.
            self._keyr_dead = True
            self.guest_error(f"wrong key {value:#010x} in KEYR: CR locked until reset")

    def write_OPTKEYR(self, value: int) -> None:
        if not self.get_field("OPTCR", "OPTLOCK"):
            self.guest_error("OPTKEYR written while OPTCR is unlocked; ignored")
        elif value == (F4_OPTKEY1, F4_OPTKEY2)[self._optkey_stage]:
            self._optkey_stage ^= 1
            if self._optkey_stage == 0:
                self.set_field("OPTCR", "OPTLOCK", 0)
        else:
            self._optkey_stage = 0
            self.guest_error(f"wrong key {value:#010x} in OPTKEYR; OPTCR stays locked")

    # -- status and control ----------------------------------------------------------------

    def write_SR(self, value: int) -> None:
        self.regs["SR"] &= ~(value & ~self._bit("SR", "BSY"))

    def write_CR(self, value: int) -> None:
        """RM0090 §3.9, FLASH_CR; a write while BSY stalls the bus: it acts when BSY clears."""
        if self.busy:
            self._defer(lambda: self.write_CR(value))
            return
        if self.get_field("CR", "LOCK"):
            self.guest_error(f"CR write {value:#010x} while locked; ignored")
            return
        self.regs["CR"] = value
        self._half = None
        if value & self._bit("CR", "STRT") and not value & self._bit("CR", "LOCK"):
            self._start_erase()
        else:
            self.set_field("CR", "STRT", 0)

    def write_OPTCR(self, value: int) -> None:
        """RM0090 §3.7.2: option bytes are written by OPTSTRT while OPTCR is unlocked."""
        if self.busy:
            self._defer(lambda: self.write_OPTCR(value))
            return
        if self.get_field("OPTCR", "OPTLOCK"):
            self.guest_error(f"OPTCR write {value:#010x} while locked; ignored")
            return
        self.regs["OPTCR"] = value & ~self._bit("OPTCR", "OPTSTRT")
        if value & self._bit("OPTCR", "OPTSTRT"):
            self.set_field("OPTCR", "OPTSTRT", 1)
            self._begin(self._erase_cycles(16 * 1024), self._commit_options)

    # -- erase (RM0090 §3.6.3) -------------------------------------------------------------

    def _start_erase(self) -> None:
        ser, mer = self.get_field("CR", "SER"), self.get_field("CR", "MER")
        if ser and mer:
            self._abandon("STRT with both SER and MER: neither erase is performed")
        elif mer:
            self._try(self._begin_mass_erase)
        elif ser:
            self._try(lambda: self._begin_sector_erase(self.get_field("CR", "SNB")))
        else:
            self._abandon("STRT without SER or MER; nothing to start")

    def _begin_sector_erase(self, snb: int) -> None:
        if snb >= len(self.flash.sectors):
            self._abandon(f"SNB {snb} names no sector of this part")
            return
        self.flash.check_erase(snb)
        cycles = self._erase_cycles(self.flash.sectors[snb].size)
        self._begin(cycles, lambda: self.flash.erase_sector(snb))

    def _begin_mass_erase(self) -> None:
        if self.flash.protected:
            first = min(self.flash.protected)
            raise FlashOpError(WRITE_PROTECTED, self.flash.base + self.flash.sectors[first].offset)
        cycles = self._cycles(F4_MASS_ERASE_MS[self._psize()] * 1000 * self.time_scale)
        self._begin(cycles, self.flash.erase_all)

    def _abandon(self, message: str) -> None:
        self.set_field("CR", "STRT", 0)
        self.guest_error(message)

    # -- program (RM0090 §3.6.4) -----------------------------------------------------------

    def bus_store(self, address: int, size: int, value: int) -> None:
        """A guest store of ``size`` bytes to the flash region."""
        if self.busy:
            self._defer(lambda: self.bus_store(address, size, value))
            return
        data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        if self.get_field("CR", "LOCK") or not self.get_field("CR", "PG"):
            self._error("PGSERR", f"store to {address:#010x} without CR.PG")
        elif self._psize() == 3 and size == 4:
            self._store_half(address, data)
        else:
            self._program(address, data)

    def _store_half(self, address: int, data: bytes) -> None:
        """x64 from a 32-bit bus: the two words of a double word, low address first."""
        if self._half is None and address % 8 == 0:
            self._half = (address, int.from_bytes(data, "little"))
        elif self._half is not None and address == self._half[0] + 4:
            first, low = self._half
            self._half = None
            self._program(first, low.to_bytes(4, "little") + data)
        else:
            self._half = None
            self._error("PGSERR", f"x64 word at {address:#010x} out of sequence")

    def _program(self, address: int, data: bytes) -> None:
        size = len(data)
        if address % F4_ROW + size > F4_ROW:
            self._error("PGAERR", f"{size} bytes at {address:#010x} cross a 128-bit row")
        elif size != 1 << self._psize() or address % size:
            self._error("PGPERR", f"{size}-byte store at {address:#010x} under "
                                  f"PSIZE x{8 << self._psize()}")
        else:
            offset = address - self.flash.base
            self._try(lambda: self._begin_program(offset, data))

    def _begin_program(self, offset: int, data: bytes) -> None:
        self.flash.check_program(offset, data)
        cycles = self._cycles(F4_PROGRAM_US * self.time_scale)
        self._begin(cycles, lambda: self.flash.program(offset, data))

    # -- option bytes ----------------------------------------------------------------------

    def _commit_options(self) -> None:
        keep = ~(self._bit("OPTCR", "OPTLOCK") | self._bit("OPTCR", "OPTSTRT"))
        self.option_bytes = self.regs["OPTCR"] & keep & 0x0FFF_FFFF
        self.set_field("OPTCR", "OPTSTRT", 0)
        self._apply_protection()

    def _apply_protection(self) -> None:
        nwrp = (self.option_bytes >> 16) & 0xFFF
        count = min(12, len(self.flash.sectors))
        self.flash.set_protected(i for i in range(count) if not nwrp >> i & 1)

    # -- FlashController hooks -------------------------------------------------------------

    def _set_busy(self, on: bool) -> None:
        self.set_field("SR", "BSY", int(on))
        if not on:
            self.set_field("CR", "STRT", 0)

    def _try(self, start: Callable[[], None]) -> None:
        try:
            start()
        except FlashOpError as e:
            self._refused(e)

    def _refused(self, error: FlashOpError) -> None:
        self.set_field("CR", "STRT", 0)
        if error.code == WRITE_PROTECTED:
            self._error("WRPERR", str(error))
        elif error.code == MISALIGNED:
            self._error("PGAERR", str(error))
        else:
            # RM0090 has no flag for a program over unerased cells (the part ANDs them in);
            # a board that refuses them gets a guest error and unchanged cells.
            self.guest_error(f"program refused: {error}")

    def _completed(self) -> None:
        if self.get_field("CR", "EOPIE"):
            self.set_field("SR", "EOP", 1)
            self._raise()

    def _error(self, flag: str, message: str) -> None:
        self.set_field("SR", flag, 1)
        if self.get_field("CR", "ERRIE") and flag in _F4_OPERR_SOURCES:
            self.set_field("SR", "OPERR", 1)
            self._raise()

    def _raise(self) -> None:
        if self.irq is not None:
            self.raise_irq(self.irq)

    # -- helpers ---------------------------------------------------------------------------

    def _psize(self) -> int:
        return self.get_field("CR", "PSIZE")

    def _erase_cycles(self, sector_size: int) -> int:
        table = F4_ERASE_MS.get(sector_size)
        ms = table[self._psize()] if table else F4_ERASE_MS[128 * 1024][self._psize()]
        return self._cycles(ms * 1000 * self.time_scale)

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "option_bytes": self.option_bytes,
                "keys": (self._key_stage, self._optkey_stage, self._keyr_dead),
                "half": self._half}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self.option_bytes = state["option_bytes"]
        self._key_stage, self._optkey_stage, self._keyr_dead = state["keys"]
        self._half = state["half"]
        self._apply_protection()
