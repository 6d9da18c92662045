"""The machine: a unicorn Thumb core, the native system level, memories and device models,
and the run loop that drives them on a virtual clock.

The run loop gives unicorn control until the native core stops it: at the next event on the
virtual clock, at a fault, a breakpoint (semihosting), a reset request, WFI, or a hang. Python
handles that stop and resumes. Nothing on the hot path (blocks, exception entry and return,
SysTick, NVIC and SCB registers) runs Python.
"""

from __future__ import annotations

import ctypes
import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import unicorn
from unicorn import arm_const as arm

import emu.flash.controllers  # noqa: F401  (registers the models)
import emu.periph.crypto  # noqa: F401
import emu.periph.netlink  # noqa: F401
import emu.periph.stm32_usart  # noqa: F401
import emu.periph.sysctl  # noqa: F401
import emu.periph.uart  # noqa: F401
import emu.periph.watchdog  # noqa: F401
from emu.board import CPUS, Board, Memory
from emu.core import native
from emu.core.semihost import Semihosting
from emu.errors import BoardError
from emu.flash.layout import FlashLayout
from emu.flash.nor import FlashArray
from emu.flash.power import PowerCut, cut_at
from emu.periph.base import PERIPHERAL_TYPES, Peripheral

log = logging.getLogger("emu")
trace = logging.getLogger("emu.trace")

NEVER = native.NEVER
PAGE = 0x1000

# How often the run loop regains control even when no event is due (virtual seconds).
SLICE_SECONDS = 0.05


@dataclass(order=True)
class Event:
    """A callback at a point of virtual time (cycles)."""

    when: int
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


@dataclass
class RunResult:
    """How a run ended.

    ``status`` is one of: ``exit`` (semihosting exit), ``until`` (the awaited console text
    appeared), ``fault``, ``lockup``, ``hang``, ``stall`` (no console output for the stall
    budget), ``time`` (virtual-time budget used up), ``wall`` (wall-clock budget used up),
    ``stopped`` (a model or the caller asked to stop).
    """

    status: str
    message: str
    exit_code: int | None = None
    report: str | None = None
    cycles: int = 0
    instructions: int = 0
    seconds: float = 0.0
    wall: float = 0.0
    exceptions: int = 0

    @property
    def ok(self) -> bool:
        return self.status in ("until",) or (self.status == "exit" and self.exit_code == 0)


# Thumb encodings the native core hooks, little-endian: WFI (BF30 or F3AF 8003) and the 32-bit
# SDIV/UDIV (FB9n/FBBn F0Fm). bytes.find keeps the scan of a mostly erased 4 MiB flash cheap.
_WFI_CODES = (b"\x30\xbf", b"\xaf\xf3\x03\x80")


def _find_all(code: bytes, needle: bytes):
    at = code.find(needle)
    while at >= 0:
        yield at
        at = code.find(needle, at + 1)


def find_wfis(code: bytes, base: int) -> list[int]:
    """Addresses of WFI instructions (data that looks like one only costs an unused hook)."""
    return sorted(base + i for needle in _WFI_CODES for i in _find_all(code, needle)
                  if i % 2 == 0)


def find_divides(code: bytes, base: int) -> list[int]:
    """Addresses of 32-bit SDIV/UDIV encodings, at halfword steps."""
    out = []
    for i in _find_all(code, b"\xfb"):
        start = i - 1
        if (start >= 0 and start % 2 == 0 and code[start] & 0xD0 == 0x90
                and i + 2 < len(code) and code[i + 1] >= 0xF0 and code[i + 2] >= 0xF0):
            out.append(base + start)
    return out


class Machine:
    """One emulated board.

    ``fault_policy`` is ``"report"`` (a fault ends the run with a report, the default) or
    ``"deliver"`` (the firmware's fault handler runs). ``strict`` turns accesses to unmodelled
    addresses into bus faults.
    """

    def __init__(self, board: Board, *, strict: bool = False, fault_policy: str = "report",
                 console: Callable[[bytes], None] | None = None) -> None:
        self.board = board
        self.hz = board.clock_hz
        self.strict = strict
        self.fault_policy = fault_policy
        self._lib = native.load()
        self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB)
        self.uc.ctl_set_cpu_model(getattr(arm, f"UC_CPU_ARM_{CPUS[board.cpu][0]}"))
        self.buffers: dict[str, ctypes.Array] = {}
        self._map_memories()
        self.peripherals: dict[str, Peripheral] = {}
        self._store_handlers: list[tuple[int, int, Callable[[int, int, int], None]]] = []
        self._map_peripherals()
        self._map_unimplemented()
        self.cm = self._create_core()
        self.uc.hook_add(unicorn.UC_HOOK_MEM_UNMAPPED, self._on_unmapped)
        self.uc.hook_add(unicorn.UC_HOOK_MEM_WRITE_PROT, self._on_write_prot)
        self.semihosting = Semihosting(self)
        self.events: list[Event] = []
        self._seq = 0
        self._slice_end = NEVER
        self._wall0 = time.perf_counter()
        self.transcript = bytearray()
        self.console_sinks: list[Callable[[bytes], None]] = [console] if console else []
        self._logged: set[Any] = set()
        self._bad_access: tuple[int, int] | None = None
        self._stop_request: str | None = None
        self._until: bytes | None = None
        self._last_output = 0
        self.reset_reason = "power-on"
        self.resets = 0
        self.firmware = None
        self.vtor = 0
        self.reset_hooks: list[Callable[[Machine, str], None]] = []
        self._code_sites: set[tuple[str, int]] = set()
        self.power_cycles = 0
        self.power_cuts: list[PowerCut] = []

    # -- construction ----------------------------------------------------------------------

    def _map_memories(self) -> None:
        self.flash: dict[str, FlashArray] = {}
        for mem in self.board.memories:
            if mem.kind == "flash":
                buf = self._flash_array(mem).buffer
            else:
                buf = (ctypes.c_ubyte * mem.size)()
            if mem.kind == "rom":
                ctypes.memset(buf, 0xFF, mem.size)
            perms = unicorn.UC_PROT_ALL if mem.kind == "ram" else (
                unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)
            self.uc.mem_map_ptr(mem.base, mem.size, perms, ctypes.addressof(buf))
            self.buffers[mem.name] = buf

    def _flash_array(self, mem: Memory) -> FlashArray:
        layout = FlashLayout.from_runs(mem.name, mem.base, mem.sectors, mem.program_unit)
        array = FlashArray(layout, allow_overwrite_and=mem.allow_overwrite_and)
        array.changed = lambda offset, size: self.code_changed(mem.base + offset, size)
        self.flash[mem.name] = array
        return array

    def _map_peripherals(self) -> None:
        for spec in self.board.peripherals:
            cls = PERIPHERAL_TYPES.get(spec["type"])
            if cls is None:
                known = ", ".join(sorted(PERIPHERAL_TYPES))
                raise BoardError(f"board {self.board.name}: unknown peripheral type "
                                 f"{spec['type']!r} (known: {known})")
            if "flash" in spec:
                if spec["flash"] not in self.flash:
                    raise BoardError(f"board {self.board.name}: peripheral {spec['name']} "
                                     f"names no flash memory {spec['flash']!r}")
                spec = {**spec, "flash": self.flash[spec["flash"]]}
            dev = cls.from_board(self, spec)
            self.add_peripheral(dev)

    def add_peripheral(self, dev: Peripheral) -> None:
        """Map a device model at its base address."""
        size = max(PAGE, (dev.SIZE + PAGE - 1) // PAGE * PAGE)

        def read(uc: unicorn.Uc, offset: int, sz: int, user: Any) -> int:
            return dev.read(offset, sz)

        def write(uc: unicorn.Uc, offset: int, sz: int, value: int, user: Any) -> None:
            dev.write(offset, sz, value)

        self.uc.mmio_map(dev.base, size, read, None, write, None)
        self.peripherals[dev.name] = dev
        flash = getattr(dev, "flash", None)
        if flash is not None and hasattr(dev, "bus_store"):
            self.add_store_handler(flash.base, flash.base + flash.size, dev.bus_store)

    def _map_unimplemented(self) -> None:
        """Map each unimplemented region, minus the devices that sit inside it."""
        taken = sorted((d.base, d.base + max(PAGE, d.SIZE)) for d in self.peripherals.values())
        for region in self.board.unimplemented:
            pos, end = region.base, region.base + region.size
            for base, top in taken:
                if top <= pos or base >= end:
                    continue
                if base > pos:
                    self._map_unimplemented_piece(region.name, pos, base)
                pos = max(pos, top)
            if pos < end:
                self._map_unimplemented_piece(region.name, pos, end)

    def _map_unimplemented_piece(self, name: str, start: int, end: int) -> None:
        def read(uc: unicorn.Uc, offset: int, size: int, user: Any) -> int:
            self.unmodelled(name, start + offset, size, None)
            return 0

        def write(uc: unicorn.Uc, offset: int, size: int, value: int, user: Any) -> None:
            self.unmodelled(name, start + offset, size, value)

        self.uc.mmio_map(start, end - start, read, None, write, None)

    def _create_core(self) -> int:
        b = self.board
        ref_div = b.clock_hz // b.systick_ref_hz if b.systick_ref_hz else 0
        tenms = (b.systick_ref_hz or b.clock_hz) // 100 - 1
        calib = (tenms & 0xFFFFFF) | (0 if b.systick_ref_hz else 1 << 31)
        if ((b.systick_ref_hz or b.clock_hz) % 100) != 0:
            calib |= 1 << 30  # SKEW: TENMS is not exact
        cm = self._lib.cm_create(native.uc_handle(self.uc), int(b.has_fpu), b.irqs,
                                 b.priority_bits, b.cpuid, calib, ref_div)
        if not cm:
            raise BoardError(f"board {b.name}: the native core could not be attached")
        self._lib.cm_set_policy(cm, int(self.fault_policy == "report"), int(self.strict))
        return cm

    def close(self) -> None:
        """Release the native core; the machine cannot run or be inspected afterwards."""
        if self.cm:
            self._lib.cm_free(self.cm)
            self.cm = 0

    # -- the contract for device models (docs/architecture.md) ---------------------------

    @property
    def now(self) -> int:
        assert self.cm, "the machine was closed"
        return self._lib.cm_now(self.cm)

    @property
    def seconds(self) -> float:
        return self.now / self.hz

    @property
    def instructions(self) -> int:
        return self._lib.cm_instructions(self.cm)

    def cycles(self, seconds: float) -> int:
        return max(0, round(seconds * self.hz))

    def schedule(self, delay_cycles: int, callback: Callable[[], None]) -> Event:
        self._seq += 1
        ev = Event(self.now + max(0, int(delay_cycles)), self._seq, callback)
        heapq.heappush(self.events, ev)
        self._push_deadlines()
        return ev

    def cancel(self, event: Event) -> None:
        event.cancelled = True

    def set_irq_pending(self, irq: int) -> None:
        self._lib.cm_pend(self.cm, 16 + irq, 1)

    def clear_irq_pending(self, irq: int) -> None:
        self._lib.cm_pend(self.cm, 16 + irq, 0)

    def unmodelled(self, device: str, address: int, size: int, value: int | None) -> None:
        key = ("unmodelled", address)
        if key not in self._logged:
            self._logged.add(key)
            what = "read" if value is None else f"write of {value:#x}"
            log.warning("unmodelled %s: %s of %d bytes at %#010x (near pc %#010x)",
                        device, what, size, address, self._pc())
        if self.strict:
            self._lib.cm_fault(self.cm, native.FAULT_BUS_IMPRECISE, address)

    def guest_error(self, device: str, message: str) -> None:
        key = ("guest", device, message)
        if key not in self._logged:
            self._logged.add(key)
            log.warning("%s: %s (pc %#010x)", device, message, self._pc())

    def console_write(self, data: bytes) -> None:
        self.transcript += data
        self._last_output = self.now
        for sink in self.console_sinks:
            sink(data)
        if self._until is not None and self._until in self.transcript[-len(self._until) - 64:]:
            self.request_stop("until")

    def request_reset(self, reason: str) -> None:
        self.reset_reason = reason
        self.request_stop("reset")

    def request_stop(self, why: str = "stopped") -> None:
        """Stop before the next translated block (never inside the current access)."""
        if self._stop_request is None or why == "reset":
            self._stop_request = why
        self._lib.cm_set_deadlines(self.cm, 0, 0)

    def mem_read(self, addr: int, n: int) -> bytes:
        return bytes(self.uc.mem_read(addr, n))

    def mem_write(self, addr: int, data: bytes) -> None:
        """Host write; into flash it bypasses the NOR rules (like a debugger's loader)."""
        self.uc.mem_write(addr, bytes(data))
        self.code_changed(addr, len(data))

    def code_changed(self, addr: int, size: int) -> None:
        """Drop translated code and instruction counts for a range whose bytes changed."""
        end = min(addr + max(1, size), 1 << 32)
        self.uc.ctl_remove_cache(addr, end)
        self._lib.cm_invalidate_range(self.cm, addr, end - addr)

    def add_store_handler(self, base: int, end: int, fn: Callable[[int, int, int], None]):
        """Route guest stores into a read-only range (flash) to a controller model."""
        self._store_handlers.append((base, end, fn))

    # -- registers ------------------------------------------------------------------------

    def _pc(self) -> int:
        return self.uc.reg_read(arm.UC_ARM_REG_PC)

    def reg(self, name: str) -> int:
        return self.uc.reg_read(getattr(arm, f"UC_ARM_REG_{name.upper()}"))

    def set_reg(self, name: str, value: int) -> None:
        self.uc.reg_write(getattr(arm, f"UC_ARM_REG_{name.upper()}"), value)

    def scs_read(self, addr: int, size: int = 4) -> int:
        """Read a system register (0xE000xxxx) as the core would, without side effects
        beyond those of the register itself."""
        return self._lib.cm_read_reg(self.cm, addr, size)

    def scs_write(self, addr: int, value: int, size: int = 4) -> None:
        self._lib.cm_write_reg(self.cm, addr, size, value)

    def exception_state(self, exc: int) -> dict[str, int]:
        out = (ctypes.c_int32 * 4)()
        self._lib.cm_exc_state(self.cm, exc, out)
        return {"priority": out[0], "enabled": out[1], "pending": out[2], "active": out[3]}

    # -- loading and reset ----------------------------------------------------------------

    def load(self, firmware: Any) -> None:
        """Place an ELF's loadable segments (see :mod:`emu.elf`) into the memories."""
        from emu.elf import check_fits

        regions = [(m.name, m.base, m.size) for m in self.board.memories]
        check_fits(firmware, regions)
        for seg in firmware.segments:
            self.mem_write(seg.load_addr, seg.data)
        self.firmware = firmware
        for seg in firmware.segments:
            if seg.flags & 1:  # PF_X: only executable segments hold code
                self.hook_code(seg.data, seg.load_addr)
        flash_like = [s.load_addr for s in firmware.segments
                      if any(m.base <= s.load_addr < m.end and m.kind != "ram"
                             for m in self.board.memories)]
        self.vtor = min(flash_like) if flash_like else min(s.load_addr for s in firmware.segments)

    def power_cycle(self) -> None:
        """Power off and on: SRAM loses its contents, flash keeps what was programmed (torn
        where a cut interrupted an operation), every device and the core reset."""
        for mem in self.board.memories:
            if mem.kind == "ram":
                ctypes.memset(self.buffers[mem.name], 0, mem.size)
        self.code_changed(0, 0xFFFFFFFF)
        self.power_cycles += 1
        self.reset("power-on")

    def cut_power_at(self, index: int, when: str = "before", seed: int = 0) -> None:
        """Cut the power at the flash operation with this index (counted over the run, across
        every flash array): before it starts, or half-way with a seeded torn result. The run
        then powers on again from the flash as it was left."""
        listener = cut_at(index, when, seed)
        for array in self.flash.values():
            array.add_listener(listener)

    def hook_code(self, code: bytes, base: int) -> None:
        """Give the SDIV/UDIV instructions of this code a divide-by-zero check (DIV_0_TRP)
        and its WFIs a native sleep. Called for every image placed in memory."""
        for addr in find_divides(code, base):
            if ("div", addr) not in self._code_sites:
                self._code_sites.add(("div", addr))
                self._lib.cm_add_divide_site(self.cm, addr)
        for addr in find_wfis(code, base):
            if ("wfi", addr) not in self._code_sites:
                self._code_sites.add(("wfi", addr))
                self._lib.cm_add_wfi_site(self.cm, addr)

    def reset(self, reason: str = "power-on") -> None:
        """A system reset: devices to their reset values, the core through its reset vector.
        Memories keep their contents (SRAM is not cleared by a warm reset)."""
        self.reset_reason = reason
        self.resets += 1
        self.events = [e for e in self.events if getattr(e.callback, "survives_reset", False)]
        for dev in self.peripherals.values():
            dev.reset()
        for hook in self.reset_hooks:
            hook(self, reason)
        for mem in self.board.memories:
            if mem.kind != "ram":  # code that a boot model may have swapped in
                self.hook_code(bytes(self.buffers[mem.name]), mem.base)
        if self._lib.cm_reset(self.cm, self.vtor) != 0:
            raise BoardError(f"vector table at {self.vtor:#010x} is not in any memory")

    # -- the run loop ----------------------------------------------------------------------

    def _next_event_time(self) -> int:
        while self.events and self.events[0].cancelled:
            heapq.heappop(self.events)
        return self.events[0].when if self.events else NEVER

    def _push_deadlines(self) -> None:
        if self._stop_request is not None:
            return
        nxt = self._next_event_time()
        self._lib.cm_set_deadlines(self.cm, min(nxt, self._slice_end), nxt)

    def _fire_due_events(self) -> None:
        now = self.now
        while self.events and (self.events[0].cancelled or self.events[0].when <= now):
            ev = heapq.heappop(self.events)
            if not ev.cancelled:
                ev.callback()

    def run(self, *, until: str | bytes | None = None, max_seconds: float | None = None,
            max_wall: float | None = None, stall_seconds: float | None = None) -> RunResult:
        """Run until the firmware exits, faults, hangs, prints ``until``, or a budget ends."""
        self._until = until.encode() if isinstance(until, str) else until
        if self._until is not None and self._until in self.transcript:
            return self._result("until", f"{self._until.decode(errors='replace')!r} appeared")
        limit = self.now + self.cycles(max_seconds) if max_seconds is not None else NEVER
        stall = self.cycles(stall_seconds) if stall_seconds else None
        self._last_output = max(self._last_output, self.now)
        self._wall0 = time.perf_counter()
        slice_cycles = max(1, self.cycles(SLICE_SECONDS))
        while True:
            try:
                self._fire_due_events()
                if self._stop_request is not None:
                    outcome = self._handle_request()
                    if outcome is not None:
                        return outcome
            except PowerCut as cut:
                self._power_cut(cut)
                continue
            self._slice_end = min(self.now + slice_cycles, limit)
            self._push_deadlines()
            outcome = self._step()
            if outcome is not None:
                return outcome
            if self.now >= limit:
                return self._result("time", f"virtual-time budget of {max_seconds} s used up")
            if max_wall is not None and time.perf_counter() - self._wall0 > max_wall:
                return self._result("wall", f"wall-clock budget of {max_wall} s used up")
            if stall is not None and self.now - self._last_output > stall:
                return self._result("stall", f"no console output for {stall_seconds} s "
                                    "of virtual time")

    def _power_cut(self, cut: PowerCut) -> None:
        """Power on again after a cut; a cut during the power-on itself (the boot model
        resuming a swap) starts over."""
        while True:
            log.info("power cut %s flash operation %s", cut.when, cut.operation)
            self.power_cuts.append(cut)
            self._stop_request = None
            try:
                self.power_cycle()
                return
            except PowerCut as again:
                cut = again

    def _handle_request(self) -> RunResult | None:
        why, self._stop_request = self._stop_request, None
        if why == "until":
            return self._result("until", f"{self._until.decode(errors='replace')!r} appeared")
        if why == "reset":
            self.reset(self.reset_reason)
            # A reset hook may have stopped the run (the boot model finding no image).
            return self._handle_request() if self._stop_request is not None else None
        return self._result("stopped", why)

    def _step(self) -> RunResult | None:
        """One emu_start call and the handling of why it returned."""
        begin = self._lib.cm_resume_address(self.cm)
        try:
            self.uc.emu_start(begin, 0xFFFFFFFF)
        except unicorn.UcError as exc:
            self._memory_error(exc)
        if self._lib.cm_queued_accesses(self.cm):
            self._drain_accesses()
        reason = self._lib.cm_take_stop_reason(self.cm)
        if reason in (native.STOP_NONE, native.STOP_SLEEP) and self._stop_request is None:
            return self._sleep(is_wfe=reason == native.STOP_SLEEP)
        return self._stop_reason(reason)

    def _stop_reason(self, reason: int) -> RunResult | None:
        if reason == native.STOP_FAULT:
            return self._fault_result("fault")
        if reason == native.STOP_LOCKUP:
            return self._fault_result("lockup")
        if reason == native.STOP_RESET:
            try:
                self.reset("software")
            except PowerCut as cut:
                self._power_cut(cut)
        elif reason == native.STOP_SLEEP_HANG:
            return self._result("hang", "the core sleeps in WFI and nothing can wake it")
        elif reason == native.STOP_HANG:
            return self._result("hang", "the core branches to itself and nothing can "
                                "interrupt it")
        elif reason == native.STOP_BKPT:
            return self.semihosting.handle()
        return None

    def _sleep(self, is_wfe: bool) -> RunResult | None:
        """WFE, or a WFI the native hook did not catch (code placed in RAM at run time)."""
        if not is_wfe and not self._after_wfi():
            return None
        state = self._lib.cm_sleep(self.cm, int(is_wfe))
        if state == 2:
            return self._result("hang", "the core sleeps in WFI and nothing can wake it")
        return None

    def _after_wfi(self) -> bool:
        pc = self._pc()
        try:
            before = self.uc.mem_read(pc - 4, 4)
        except unicorn.UcError:
            return False
        narrow = int.from_bytes(before[2:4], "little") == 0xBF30
        wide = before == bytes.fromhex("aff30380")
        return narrow or wide

    def _memory_error(self, exc: unicorn.UcError) -> None:
        code = exc.errno
        bad = self._bad_access
        self._bad_access = None
        addr = bad[1] if bad else 0
        if code in (unicorn.UC_ERR_FETCH_UNMAPPED, unicorn.UC_ERR_FETCH_PROT):
            self._lib.cm_fault(self.cm, native.FAULT_BUS_IFETCH, addr)
        elif code in (unicorn.UC_ERR_READ_UNMAPPED, unicorn.UC_ERR_WRITE_UNMAPPED,
                      unicorn.UC_ERR_READ_PROT, unicorn.UC_ERR_WRITE_PROT):
            self._lib.cm_fault(self.cm, native.FAULT_BUS_PRECISE, addr)
        elif code in (unicorn.UC_ERR_READ_UNALIGNED, unicorn.UC_ERR_WRITE_UNALIGNED):
            self._lib.cm_fault(self.cm, native.FAULT_UNALIGNED, addr)
        else:
            self._lib.cm_fault(self.cm, native.FAULT_UNDEF, 0)

    def _on_unmapped(self, uc: unicorn.Uc, access: int, address: int, size: int, value: int,
                     user: Any) -> bool:
        self._bad_access = (access, address)
        return False

    def _on_write_prot(self, uc: unicorn.Uc, access: int, address: int, size: int,
                       value: int, user: Any) -> bool:
        for base, end, fn in self._store_handlers:
            if base <= address < end:
                fn(address, size, value & ((1 << (8 * size)) - 1))
                return True
        self.guest_error("bus", f"store of {size} bytes to read-only memory at {address:#010x}"
                         " ignored")
        return True

    def _drain_accesses(self) -> None:
        buf = (native.Access * 64)()
        lost = ctypes.c_int32()
        while True:
            n = self._lib.cm_drain_accesses(self.cm, buf, 64, ctypes.byref(lost))
            for a in buf[:n]:
                key = ("unmodelled", a.addr)
                if key in self._logged:
                    continue
                self._logged.add(key)
                what = f"write of {a.value:#x}" if a.is_write else "read"
                log.warning("unmodelled system register: %s of %d bytes at %#010x "
                            "(near pc %#010x)", what, a.size, a.addr, a.pc)
            if n < 64:
                return

    # -- results ----------------------------------------------------------------------------

    def _result(self, status: str, message: str, exit_code: int | None = None,
                report: str | None = None) -> RunResult:
        return RunResult(status, message, exit_code, report, self.now, self.instructions,
                         self.seconds, time.perf_counter() - self._wall0,
                         self._lib.cm_exceptions_taken(self.cm))

    def fault_info(self) -> dict[str, int]:
        out = (ctypes.c_uint32 * 9)()
        self._lib.cm_fault_info(self.cm, out)
        keys = ("exception", "frame", "exc_return", "cfsr", "hfsr", "mmfar", "bfar", "shcsr",
                "return_address")
        return dict(zip(keys, out, strict=True))

    def _fault_result(self, status: str) -> RunResult:
        from emu.faults import describe_fault

        report, headline = describe_fault(self, lockup=status == "lockup")
        return self._result(status, headline, report=report)
