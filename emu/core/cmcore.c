/*
 * Native hooks that tie the system level to unicorn, and the functions the
 * Python side calls through ctypes.
 *
 * Virtual time: each translated block adds its instruction count when it
 * begins. The block hook runs before the block's first instruction, so an
 * exception taken there (by writing PC) or a stop requested there happens
 * before the block executes.
 */
#include <stdlib.h>
#include <string.h>

#include "cmcore.h"

/* QEMU exception numbers that unicorn passes to interrupt hooks. */
enum {
    EXCP_UDEF = 1,
    EXCP_SWI = 2,
    EXCP_PREFETCH_ABORT = 3,
    EXCP_DATA_ABORT = 4,
    EXCP_BKPT = 7,
    EXCP_EXCEPTION_EXIT = 8,
    EXCP_NOCP = 17,
    EXCP_INVSTATE = 18,
    EXCP_UNALIGNED = 22,
};

#define SCS_BASE 0xE0000000u
#define SCS_SIZE 0x00100000u
#define COUNT_SELF_LOOP 0x8000u

static uint32_t rd(cm_core *c, int reg)
{
    uint32_t v = 0;
    uc_reg_read(c->uc, reg, &v);
    return v;
}

static uint16_t read16(cm_core *c, uint32_t addr)
{
    uint16_t v = 0;
    if (uc_mem_read(c->uc, addr, &v, 2) != UC_ERR_OK)
        return 0;
    return v;
}

static int is_wide(uint16_t hw)
{
    return (hw >> 11) >= 0x1D;
}

/* -- Instruction counts ---------------------------------------------------------- */

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Decode the Thumb instruction lengths of a block and remember them. */
static unsigned count_block(cm_core *c, cm_block *b, uint32_t addr,
                            uint32_t size)
{
    uint8_t buf[8192];
    uint32_t n = size < sizeof buf ? size : sizeof buf;
    unsigned count = 0;
    if (uc_mem_read(c->uc, addr, buf, n) != UC_ERR_OK)
        return (size + 1) / 2;
    for (uint32_t i = 0; i + 1 < n; count++) {
        uint16_t hw = (uint16_t)(buf[i] | (buf[i + 1] << 8));
        i += is_wide(hw) ? 4 : 2;
    }
    if (n == 2 && buf[0] == 0xFE && buf[1] == 0xE7)
        count |= COUNT_SELF_LOOP;
    b->addr = addr;
    b->size = (uint16_t)size;
    b->count = (uint16_t)count;
    return count;
}

static inline unsigned block_count(cm_core *c, uint32_t addr, uint32_t size)
{
    cm_block *b = &c->blocks[(addr >> 1) & (CM_COUNT_CACHE - 1)];
    if (likely(b->addr == addr && b->size == size))
        return b->count;
    return count_block(c, b, addr, size);
}

/* Forget the counts of blocks that start inside [addr, addr + size). */
void cm_invalidate_range(cm_core *c, uint32_t addr, uint32_t size)
{
    if (size >= 2u * CM_COUNT_CACHE) {
        cm_invalidate_counts(c);
        return;
    }
    for (uint32_t a = addr & ~1u; a < addr + size; a += 2) {
        cm_block *b = &c->blocks[(a >> 1) & (CM_COUNT_CACHE - 1)];
        if (b->addr == a)
            b->addr = 1;
    }
    /* A block that starts before addr may reach into the range. */
    for (uint32_t back = 2; back <= 4096 && back <= addr; back += 2) {
        cm_block *b = &c->blocks[((addr - back) >> 1) & (CM_COUNT_CACHE - 1)];
        if (b->addr == addr - back && b->addr + b->size > addr)
            b->addr = 1;
    }
}

void cm_invalidate_counts(cm_core *c)
{
    for (int i = 0; i < CM_COUNT_CACHE; i++)
        c->blocks[i].addr = 1;     /* odd: matches no Thumb block */
}

/* -- Hooks ------------------------------------------------------------------------- */

/* A branch to itself that nothing can interrupt any more. */
static int hopeless(cm_core *c)
{
    uint64_t wake = c->event_deadline;
    if (c->st_next_zero < wake && (c->st_csr & 2))
        wake = c->st_next_zero;
    return wake == CM_NEVER && !cm_wakeup_pending(c);
}

/* The rare work of a block boundary: events, pending exceptions, hangs. */
static int block_slow_path(cm_core *c, uint32_t addr)
{
    if (c->now >= c->next_check) {
        cm_systick_sync(c);
        if (c->now >= c->deadline) {
            cm_stop(c, STOP_EVENT);
            return 1;
        }
        cm_reschedule(c);
    }
    return c->best_exc && cm_try_take_pending(c, addr, 0);
}

static void hook_block(uc_engine *uc, uint64_t address, uint32_t size,
                       void *user)
{
    cm_core *c = user;
    uint32_t addr = (uint32_t)address;

    if (unlikely(c->resync)) {
        /*
         * A PC written from an interrupt hook leaves unicorn believing the
         * PC was synced by us, so a later memory fault would report the
         * start of its block instead of the faulting instruction. Writing
         * the PC from a block hook ends with the exit that clears that
         * belief; execution resumes at this same block.
         */
        c->resync = 0;
        uc_reg_write(uc, UC_ARM_REG_PC, &(uint32_t){addr | 1u});
        return;
    }
    if (unlikely(c->now >= c->next_check || c->best_exc)) {
        if (block_slow_path(c, addr))
            return;
    }
    unsigned count = block_count(c, addr, size);
    if (unlikely(count & COUNT_SELF_LOOP)) {
        count &= ~COUNT_SELF_LOOP;
        if (hopeless(c)) {
            cm_stop(c, STOP_HANG);
            return;
        }
    }
    c->now += count;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
    cm_core *c = user;
    uint32_t pc = rd(c, UC_ARM_REG_PC);
    (void)uc;

    c->resync = 1;
    switch (intno) {
    case EXCP_SWI:
        cm_take_svc(c, pc);
        break;
    case EXCP_EXCEPTION_EXIT:
        cm_exception_return(c, pc | 1u);
        break;
    case EXCP_BKPT:
        /* An exception that became pending inside this block (an imprecise
         * bus fault, say) is taken before the breakpoint executes. */
        if (!(c->best_exc && cm_try_take_pending(c, pc, 0)))
            cm_stop(c, STOP_BKPT);
        break;
    case EXCP_PREFETCH_ABORT:
        c->cfsr |= CFSR_IACCVIOL;
        cm_raise_fault(c, EXC_MEMMANAGE, pc);
        break;
    case EXCP_NOCP:
        c->cfsr |= CFSR_NOCP;
        cm_raise_fault(c, EXC_USAGEFAULT, pc);
        break;
    case EXCP_INVSTATE:
        c->cfsr |= CFSR_INVSTATE;
        cm_raise_fault(c, EXC_USAGEFAULT, pc);
        break;
    case EXCP_DATA_ABORT:
    case EXCP_UNALIGNED:
        c->cfsr |= CFSR_UNALIGNED;
        cm_raise_fault(c, EXC_USAGEFAULT, pc);
        break;
    default:
        c->cfsr |= CFSR_UNDEFINSTR;
        cm_raise_fault(c, EXC_USAGEFAULT, pc);
        break;
    }
}

static int is_udf(cm_core *c, uint32_t pc)
{
    uint16_t hw = read16(c, pc);
    if ((hw & 0xFF00) == 0xDE00)
        return 1;
    return (hw & 0xFFF0) == 0xF7F0 && (read16(c, pc + 2) & 0xF000) == 0xA000;
}

/* The hint that QEMU raised as EXCP_YIELD, found just before PC. */
static int hint_before(cm_core *c, uint32_t pc, uint16_t narrow, uint16_t wide)
{
    if (read16(c, pc - 2) == narrow)
        return 1;
    return read16(c, pc - 4) == 0xF3AF && read16(c, pc - 2) == wide;
}

/*
 * UDF, the WFE/YIELD hints and interworking errors arrive here. Hints
 * carry on; WFE sleeps unless the event register is set (B1.5.18).
 */
static bool hook_insn_invalid(uc_engine *uc, void *user)
{
    cm_core *c = user;
    uint32_t pc = rd(c, UC_ARM_REG_PC);
    (void)uc;

    c->resync = 1;
    if (!(rd(c, UC_ARM_REG_XPSR) & (1u << 24))) {
        c->cfsr |= CFSR_INVSTATE;
        cm_raise_fault(c, EXC_USAGEFAULT, pc);
        return true;
    }
    if (!is_udf(c, pc)) {
        if (hint_before(c, pc, 0xBF10, 0x8001))
            return true;
        if (hint_before(c, pc, 0xBF20, 0x8002)) {
            if (c->event_reg)
                c->event_reg = 0;
            else
                cm_stop(c, STOP_SLEEP);
            return true;
        }
    }
    c->cfsr |= CFSR_UNDEFINSTR;
    cm_raise_fault(c, EXC_USAGEFAULT, pc);
    return true;
}

static uint64_t scs_mmio_read(uc_engine *uc, uint64_t offset, unsigned size,
                              void *user)
{
    (void)uc;
    return cm_scs_read(user, SCS_BASE + (uint32_t)offset, size);
}

static void scs_mmio_write(uc_engine *uc, uint64_t offset, unsigned size,
                           uint64_t value, void *user)
{
    (void)uc;
    cm_scs_write(user, SCS_BASE + (uint32_t)offset, size, (uint32_t)value);
}

/*
 * SDIV and UDIV trap a zero divisor when CCR.DIV_0_TRP is set (B3.2.8).
 * Unicorn returns 0 instead, so each divide instruction of the image gets a
 * code hook of its own, which checks the divisor before the instruction.
 */
static void hook_divide(uc_engine *uc, uint64_t address, uint32_t size,
                        void *user)
{
    cm_core *c = user;
    (void)uc, (void)size;
    if (!(c->ccr & (1u << 4)))
        return;
    if ((read16(c, (uint32_t)address) & 0xFFD0) != 0xFB90)
        return;     /* the code here changed since the hook was placed */
    uint32_t xpsr = rd(c, UC_ARM_REG_XPSR);
    if (xpsr & 0x0600FC00u)
        return;     /* inside an IT block: not modelled, see docs/core.md */
    uint16_t hw2 = read16(c, (uint32_t)address + 2);
    unsigned m = hw2 & 0xF;
    uint32_t divisor = rd(c, m == 14 ? UC_ARM_REG_LR : UC_ARM_REG_R0 + (int)m);
    if (m == 13 || m == 15)
        return;     /* UNPREDICTABLE encodings: left to unicorn */
    if (divisor == 0) {
        c->cfsr |= CFSR_DIVBYZERO;
        cm_raise_fault(c, EXC_USAGEFAULT, (uint32_t)address);
    }
}

/*
 * WFI (B1.5.19) handled before it executes: time jumps to the next wake-up
 * source and execution goes on after the instruction, with no return to
 * Python. Unicorn would otherwise end emu_start at every WFI. A wake-up
 * that is a Python event stops at the next block boundary as usual.
 */
static void hook_wfi(uc_engine *uc, uint64_t address, uint32_t size,
                     void *user)
{
    cm_core *c = user;
    uint16_t hw = read16(c, (uint32_t)address);
    if (hw != 0xBF30 && !(hw == 0xF3AF && read16(c, (uint32_t)address + 2) == 0x8003))
        return;     /* the code here changed since the hook was placed */
    if (rd(c, UC_ARM_REG_XPSR) & 0x0600FC00u)
        return;     /* inside an IT block: left to unicorn and Python */
    if (cm_sleep(c, 0) == 2) {
        cm_stop(c, STOP_SLEEP_HANG);
        return;
    }
    uint32_t next = ((uint32_t)address + size) | 1u;
    c->resync = 1;
    uc_reg_write(uc, UC_ARM_REG_PC, &next);
}

static int add_site(cm_core *c, uint32_t addr, void *callback)
{
    uc_hook h;
    if (c->div_hooks >= CM_MAX_DIV_SITES)
        return -1;
    if (uc_hook_add(c->uc, &h, UC_HOOK_CODE, callback, c, addr, addr)
        != UC_ERR_OK)
        return -1;
    c->div_hook[c->div_hooks++] = h;
    return 0;
}

int cm_add_divide_site(cm_core *c, uint32_t addr)
{
    return add_site(c, addr, (void *)hook_divide);
}

int cm_add_wfi_site(cm_core *c, uint32_t addr)
{
    return add_site(c, addr, (void *)hook_wfi);
}

/* -- Faults reported from Python --------------------------------------------------- */

/* An access to an unmodelled system address under --strict. */
void cm_raise_bus_error(cm_core *c, uint32_t addr)
{
    (void)addr;
    c->cfsr |= CFSR_IMPRECISERR;
    if (cm_is_enabled(c, EXC_BUSFAULT)) {
        cm_set_pending_exc(c, EXC_BUSFAULT);
    } else {
        c->hfsr |= HFSR_FORCED;
        cm_set_pending_exc(c, EXC_HARDFAULT);
    }
}

/* A fault that unicorn reported by returning an error; PC is the faulting
 * instruction (or the unreachable branch target for a fetch). */
void cm_fault(cm_core *c, int kind, uint32_t addr)
{
    uint32_t pc = rd(c, UC_ARM_REG_PC);
    switch (kind) {
    case FAULT_BUS_PRECISE:
        c->cfsr |= CFSR_PRECISERR | CFSR_BFARVALID;
        c->bfar = addr;
        cm_raise_fault(c, EXC_BUSFAULT, pc);
        break;
    case FAULT_BUS_IFETCH:
        c->cfsr |= CFSR_IBUSERR;
        cm_raise_fault(c, EXC_BUSFAULT, pc);
        break;
    case FAULT_BUS_IMPRECISE:
        cm_raise_bus_error(c, addr);
        break;
    case FAULT_MEM_DACC:
        c->cfsr |= CFSR_DACCVIOL | CFSR_MMARVALID;
        c->mmfar = addr;
        cm_raise_fault(c, EXC_MEMMANAGE, pc);
        break;
    case FAULT_MEM_IACC:
        c->cfsr |= CFSR_IACCVIOL;
        cm_raise_fault(c, EXC_MEMMANAGE, pc);
        break;
    case FAULT_UNALIGNED:
        c->cfsr |= CFSR_UNALIGNED;
        cm_raise_fault(c, EXC_USAGEFAULT, pc);
        break;
    case FAULT_DEBUGEVT:
        c->hfsr |= HFSR_DEBUGEVT;
        cm_raise_fault(c, EXC_HARDFAULT, pc);
        break;
    default:
        c->cfsr |= CFSR_UNDEFINSTR;
        cm_raise_fault(c, EXC_USAGEFAULT, pc);
        break;
    }
}

/* -- The Python interface ---------------------------------------------------------- */

cm_core *cm_create(uc_engine *uc, int has_fpu, int num_irq, int prio_bits,
                   uint32_t cpuid, uint32_t calib, uint32_t ref_divider)
{
    cm_core *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->uc = uc;
    c->has_fpu = has_fpu;
    c->num_irq = num_irq > CM_MAX_IRQ ? CM_MAX_IRQ : num_irq;
    c->prio_bits = prio_bits < 2 ? 2 : (prio_bits > 8 ? 8 : prio_bits);
    c->cpuid = cpuid;
    c->systick_calib = calib;
    c->ref_divider = ref_divider;
    c->report_faults = 1;
    c->deadline = c->event_deadline = c->next_check = CM_NEVER;
    cm_init_tables();
    cm_invalidate_counts(c);
    cm_scs_reset(c);

    uc_err err = uc_mmio_map(uc, SCS_BASE, SCS_SIZE, scs_mmio_read, c,
                             scs_mmio_write, c);
    err |= uc_hook_add(uc, &c->hooks[0], UC_HOOK_BLOCK, (void *)hook_block,
                       c, 1, 0);
    err |= uc_hook_add(uc, &c->hooks[1], UC_HOOK_INTR, (void *)hook_intr,
                       c, 1, 0);
    err |= uc_hook_add(uc, &c->hooks[2], UC_HOOK_INSN_INVALID,
                       (void *)hook_insn_invalid, c, 1, 0);
    if (err != UC_ERR_OK) {
        free(c);
        return NULL;
    }
    return c;
}

void cm_free(cm_core *c)
{
    if (!c)
        return;
    for (int i = 0; i < 3; i++)
        uc_hook_del(c->uc, c->hooks[i]);
    for (int i = 0; i < c->div_hooks; i++)
        uc_hook_del(c->uc, c->div_hook[i]);
    free(c);
}

/* Reset the system level and enter the reset handler (B1.5.5). */
int cm_reset(cm_core *c, uint32_t vtor)
{
    uint32_t vec[2];
    cm_scs_reset(c);
    c->vtor = vtor & 0xFFFFFF80u;
    c->stop_reason = STOP_NONE;
    if (uc_mem_read(c->uc, vtor, vec, sizeof vec) != UC_ERR_OK)
        return -1;
    uint32_t zero = 0, xpsr = 1u << 24;
    uc_reg_write(c->uc, UC_ARM_REG_XPSR, &xpsr);
    uc_reg_write(c->uc, UC_ARM_REG_CONTROL, &zero);
    uc_reg_write(c->uc, UC_ARM_REG_PRIMASK, &zero);
    uc_reg_write(c->uc, UC_ARM_REG_BASEPRI, &zero);
    uc_reg_write(c->uc, UC_ARM_REG_FAULTMASK, &zero);
    uint32_t psp = 0, lr = 0xFFFFFFFFu, sp = vec[0] & ~3u;
    uc_reg_write(c->uc, UC_ARM_REG_PSP, &psp);
    uc_reg_write(c->uc, UC_ARM_REG_MSP, &sp);
    uc_reg_write(c->uc, UC_ARM_REG_LR, &lr);
    uc_reg_write(c->uc, UC_ARM_REG_APSR_NZCV, &zero);
    uc_reg_write(c->uc, UC_ARM_REG_PC, &vec[1]);
    return 0;
}

void cm_set_deadlines(cm_core *c, uint64_t deadline, uint64_t event_deadline)
{
    c->deadline = deadline;
    c->event_deadline = event_deadline;
    cm_reschedule(c);
}

uint64_t cm_now(cm_core *c) { return c->now; }
uint64_t cm_instructions(cm_core *c) { return c->now - c->idle_cycles; }
uint64_t cm_exceptions_taken(cm_core *c) { return c->exceptions_taken; }
void cm_set_policy(cm_core *c, int report_faults, int strict)
{
    c->report_faults = report_faults;
    c->strict = strict;
}

/* Where emu_start should resume: PC with the Thumb bit of EPSR. */
uint32_t cm_resume_address(cm_core *c)
{
    uint32_t pc = rd(c, UC_ARM_REG_PC), xpsr = rd(c, UC_ARM_REG_XPSR);
    return pc | ((xpsr >> 24) & 1u);
}

int cm_queued_accesses(cm_core *c)
{
    return c->queue_len + c->queue_lost;
}

int cm_take_stop_reason(cm_core *c)
{
    int r = c->stop_reason;
    c->stop_reason = STOP_NONE;
    return r;
}

void cm_pend(cm_core *c, int exc, int on)
{
    if (exc <= 0 || exc >= EXC_IRQ0 + c->num_irq)
        return;
    if (on)
        cm_set_pending_exc(c, exc);
    else
        cm_clear_pending_exc(c, exc);
}

/* prio, enabled, pending, active of one exception, for tests and reports */
void cm_exc_state(cm_core *c, int exc, int32_t out[4])
{
    out[0] = cm_raw_prio(c, exc);
    out[1] = cm_is_enabled(c, exc);
    out[2] = c->pending[exc];
    out[3] = c->active[exc];
}

/* fault_exc, frame, exc_return, cfsr, hfsr, mmfar, bfar, shcsr, return */
void cm_fault_info(cm_core *c, uint32_t out[9])
{
    out[0] = (uint32_t)c->fault_exc;
    out[1] = c->fault_frame;
    out[2] = c->fault_exc_return;
    out[3] = c->cfsr;
    out[4] = c->hfsr;
    out[5] = c->mmfar;
    out[6] = c->bfar;
    out[7] = cm_scs_read(c, 0xE000ED24u, 4);
    out[8] = c->fault_return_addr;
}

/*
 * WFI or WFE: 0 if something wakes the core now, 1 if time jumped to the
 * next wake-up source, 2 if nothing can ever wake it.
 */
int cm_sleep(cm_core *c, int is_wfe)
{
    if (is_wfe && c->event_reg) {
        c->event_reg = 0;
        return 0;
    }
    cm_systick_sync(c);
    if (cm_wakeup_pending(c))
        return 0;
    uint64_t wake = c->event_deadline;
    if (c->st_next_zero < wake && (c->st_csr & 2))
        wake = c->st_next_zero;
    if (wake == CM_NEVER)
        return 2;
    if (wake > c->now) {
        c->idle_cycles += wake - c->now;
        c->now = wake;
    }
    return 1;
}

void cm_advance(cm_core *c, uint64_t cycles)
{
    c->now += cycles;
    c->idle_cycles += cycles;
}

int cm_drain_accesses(cm_core *c, cm_access *out, int max, int *lost)
{
    int n = c->queue_len < max ? c->queue_len : max;
    memcpy(out, c->queue, (size_t)n * sizeof *out);
    memmove(c->queue, c->queue + n, (size_t)(c->queue_len - n) * sizeof *out);
    c->queue_len -= n;
    *lost = c->queue_lost;
    c->queue_lost = 0;
    return n;
}

uint32_t cm_read_reg(cm_core *c, uint32_t addr, unsigned size)
{
    return cm_scs_read(c, addr, size);
}

void cm_write_reg(cm_core *c, uint32_t addr, unsigned size, uint32_t value)
{
    cm_scs_write(c, addr, size, value);
}
