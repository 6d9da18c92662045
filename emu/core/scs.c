/*
 * The System Control Space (0xE000E000) and the DWT cycle counter, declared
 * as a register table. Sections: B3.2 SCB, B3.3 SysTick, B3.4 NVIC, B3.5
 * MPU (registers only), C1.6 debug registers, C1.8 DWT, B3.2.20-22 FP.
 */
#include <stddef.h>
#include <string.h>

#include "cmcore.h"

#include "scs.h"

void cm_queue_access(cm_core *c, uint32_t addr, unsigned size,
                     uint32_t value, int is_write)
{
    if (c->queue_len >= CM_ACCESS_QUEUE) {
        c->queue_lost++;
        return;
    }
    cm_access *a = &c->queue[c->queue_len++];
    a->addr = addr;
    a->size = (uint8_t)size;
    a->value = value;
    a->is_write = (uint8_t)is_write;
    uc_reg_read(c->uc, UC_ARM_REG_PC, &a->pc);
}

/* -- NVIC (B3.4) --------------------------------------------------------------- */

static uint32_t irq_bits(cm_core *c, const uint8_t *state, int word)
{
    uint32_t v = 0;
    for (int b = 0; b < 32; b++) {
        int irq = word * 32 + b;
        if (irq < c->num_irq && state[EXC_IRQ0 + irq])
            v |= 1u << b;
    }
    return v;
}

static void set_irq_bits(cm_core *c, uint8_t *state, int word, uint32_t bits,
                         uint8_t to)
{
    for (int b = 0; b < 32; b++) {
        int irq = word * 32 + b;
        if ((bits >> b) & 1 && irq < c->num_irq)
            state[EXC_IRQ0 + irq] = to;
    }
    cm_update_check(c);
}

static uint32_t rd_iser(cm_core *c, const scs_reg *r, int i)
{
    (void)r;
    return irq_bits(c, c->enabled, i);
}

static void wr_iser(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    set_irq_bits(c, c->enabled, i, v & m, r->name[6] == 'S');
}

static uint32_t rd_ispr(cm_core *c, const scs_reg *r, int i)
{
    (void)r;
    return irq_bits(c, c->pending, i);
}

static void wr_ispr(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    set_irq_bits(c, c->pending, i, v & m, r->name[6] == 'S');
}

static uint32_t rd_iabr(cm_core *c, const scs_reg *r, int i)
{
    (void)r;
    return irq_bits(c, c->active, i);
}

/* Priority bytes: unimplemented low bits read as zero (B3.4.9). */
static uint32_t prio_word(cm_core *c, int first_exc, int limit)
{
    uint32_t v = 0;
    for (int b = 0; b < 4; b++) {
        int e = first_exc + b;
        if (e < limit)
            v |= (uint32_t)c->prio[e] << (8 * b);
    }
    return v;
}

static void set_prio_word(cm_core *c, int first_exc, int limit, uint32_t v,
                          uint32_t m)
{
    for (int b = 0; b < 4; b++) {
        int e = first_exc + b;
        if (e < limit && ((m >> (8 * b)) & 0xFF))
            c->prio[e] = (uint8_t)((v >> (8 * b)) & cm_prio_mask(c));
    }
    cm_update_check(c);
}

static uint32_t rd_ipr(cm_core *c, const scs_reg *r, int i)
{
    (void)r;
    return prio_word(c, EXC_IRQ0 + 4 * i, EXC_IRQ0 + c->num_irq);
}

static void wr_ipr(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    (void)r;
    set_prio_word(c, EXC_IRQ0 + 4 * i, EXC_IRQ0 + c->num_irq, v, m);
}

static void wr_stir(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    (void)r, (void)i, (void)m;
    int irq = (int)(v & 0x1FF);
    if (irq < c->num_irq)
        cm_set_pending_exc(c, EXC_IRQ0 + irq);
}

/* -- SCB (B3.2) ------------------------------------------------------------------ */

static int count_active_exc(cm_core *c)
{
    int n = 0;
    for (int e = EXC_NMI; e < EXC_IRQ0 + c->num_irq; e++)
        n += c->active[e];
    return n;
}

static uint32_t rd_icsr(cm_core *c, const scs_reg *r, int i)
{
    (void)r, (void)i;
    uint32_t xpsr = 0, v;
    uc_reg_read(c->uc, UC_ARM_REG_XPSR, &xpsr);
    v = xpsr & 0x1FF;
    if (count_active_exc(c) <= 1)
        v |= 1u << 11;
    v |= (uint32_t)(c->best_exc & 0x1FF) << 12;
    for (int e = EXC_IRQ0; e < EXC_IRQ0 + c->num_irq; e++)
        if (c->pending[e])
            v |= 1u << 22;
    v |= (uint32_t)c->pending[EXC_SYSTICK] << 26;
    v |= (uint32_t)c->pending[EXC_PENDSV] << 28;
    v |= (uint32_t)c->pending[EXC_NMI] << 31;
    return v;
}

static void wr_icsr(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    (void)r, (void)i;
    v &= m;
    if (v & (1u << 31))
        c->pending[EXC_NMI] = 1;
    if (v & (1u << 28))
        c->pending[EXC_PENDSV] = 1;
    else if (v & (1u << 27))
        c->pending[EXC_PENDSV] = 0;
    if (v & (1u << 26))
        c->pending[EXC_SYSTICK] = 1;
    else if (v & (1u << 25))
        c->pending[EXC_SYSTICK] = 0;
    cm_update_check(c);
}

static uint32_t rd_field(cm_core *c, const scs_reg *r, int i);
static void wr_field(cm_core *c, const scs_reg *r, int i, uint32_t v,
                     uint32_t m);

static uint32_t rd_aircr(cm_core *c, const scs_reg *r, int i)
{
    (void)r, (void)i;
    return 0xFA050000u | (c->prigroup << 8);
}

static void wr_aircr(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    (void)r, (void)i;
    if (m != 0xFFFFFFFFu || (v >> 16) != 0x05FA)
        return;     /* writes without VECTKEY are ignored */
    c->prigroup = (v >> 8) & 7;
    cm_update_check(c);
    if (v & 5)      /* SYSRESETREQ, or VECTRESET */
        cm_stop(c, STOP_RESET);
}

static uint32_t rd_shpr(cm_core *c, const scs_reg *r, int i)
{
    (void)r;
    uint32_t v = prio_word(c, 4 + 4 * i, EXC_IRQ0);
    static const uint32_t implemented[3] = {0x00FFFFFF, 0xFF000000, 0xFFFF0000};
    return v & implemented[i];
}

static void wr_shpr(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    (void)r;
    static const uint32_t implemented[3] = {0x00FFFFFF, 0xFF000000, 0xFFFF0000};
    set_prio_word(c, 4 + 4 * i, EXC_IRQ0, v, m & implemented[i]);
}

/* SHCSR: enables, pended and active bits of the system handlers. */
static const struct { int bit; int exc; int active; } shcsr_bits[] = {
    {0, EXC_MEMMANAGE, 1}, {1, EXC_BUSFAULT, 1}, {3, EXC_USAGEFAULT, 1},
    {7, EXC_SVCALL, 1}, {8, EXC_DEBUGMON, 1}, {10, EXC_PENDSV, 1},
    {11, EXC_SYSTICK, 1}, {12, EXC_USAGEFAULT, 0}, {13, EXC_MEMMANAGE, 0},
    {14, EXC_BUSFAULT, 0}, {15, EXC_SVCALL, 0},
};

static uint32_t rd_shcsr(cm_core *c, const scs_reg *r, int i)
{
    (void)r, (void)i;
    uint32_t v = c->shcsr_ena;
    for (size_t k = 0; k < sizeof shcsr_bits / sizeof shcsr_bits[0]; k++) {
        const uint8_t *s = shcsr_bits[k].active ? c->active : c->pending;
        if (s[shcsr_bits[k].exc])
            v |= 1u << shcsr_bits[k].bit;
    }
    return v;
}

static void wr_shcsr(cm_core *c, const scs_reg *r, int i, uint32_t v,
                     uint32_t m)
{
    (void)r, (void)i;
    v = merge(rd_shcsr(c, r, i), v, m);
    c->shcsr_ena = v & (7u << 16);
    for (size_t k = 0; k < sizeof shcsr_bits / sizeof shcsr_bits[0]; k++) {
        uint8_t *s = shcsr_bits[k].active ? c->active : c->pending;
        s[shcsr_bits[k].exc] = (v >> shcsr_bits[k].bit) & 1;
    }
    cm_update_check(c);
}

static void wr_w1c(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m);
static uint32_t rd_const(cm_core *c, const scs_reg *r, int i);
static uint32_t rd_mpu(cm_core *c, const scs_reg *r, int i);
static void wr_mpu(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m);

/* The table. Registers marked FPU exist only on a core with an FPU. */
static const scs_reg scs_regs[] = {
    {0xE000E004, "ICTR", 1, RO, rd_field, NULL},
    {0xE000E008, "ACTLR", 1, RW, rd_field, wr_field},
    {0xE000E010, "SYST_CSR", 1, RW, rd_syst_csr, wr_syst_csr},
    {0xE000E014, "SYST_RVR", 1, RW, rd_syst_rvr, wr_syst_rvr},
    {0xE000E018, "SYST_CVR", 1, RW, rd_syst_cvr, wr_syst_cvr},
    {0xE000E01C, "SYST_CALIB", 1, RO, rd_syst_calib, NULL},
    {0xE000E100, "NVIC_ISER", 8, RW, rd_iser, wr_iser},
    {0xE000E180, "NVIC_ICER", 8, RW, rd_iser, wr_iser},
    {0xE000E200, "NVIC_ISPR", 8, RW, rd_ispr, wr_ispr},
    {0xE000E280, "NVIC_ICPR", 8, RW, rd_ispr, wr_ispr},
    {0xE000E300, "NVIC_IABR", 8, RO, rd_iabr, NULL},
    {0xE000E400, "NVIC_IPR", 60, RW, rd_ipr, wr_ipr},
    {0xE000ED00, "CPUID", 1, RO, rd_field, NULL},
    {0xE000ED04, "ICSR", 1, RW, rd_icsr, wr_icsr},
    {0xE000ED08, "VTOR", 1, RW, rd_field, wr_field},
    {0xE000ED0C, "AIRCR", 1, RW, rd_aircr, wr_aircr},
    {0xE000ED10, "SCR", 1, RW, rd_field, wr_field},
    {0xE000ED14, "CCR", 1, RW, rd_field, wr_field},
    {0xE000ED18, "SHPR", 3, RW, rd_shpr, wr_shpr},
    {0xE000ED24, "SHCSR", 1, RW, rd_shcsr, wr_shcsr},
    {0xE000ED28, "CFSR", 1, RW, rd_field, wr_w1c},
    {0xE000ED2C, "HFSR", 1, RW, rd_field, wr_w1c},
    {0xE000ED30, "DFSR", 1, RW, rd_field, wr_w1c},
    {0xE000ED34, "MMFAR", 1, RW, rd_field, wr_field},
    {0xE000ED38, "BFAR", 1, RW, rd_field, wr_field},
    {0xE000ED3C, "AFSR", 1, RW, rd_field, wr_w1c},
    {0xE000ED40, "ID_PFR", 2, RO, rd_const, NULL},
    {0xE000ED48, "ID_DFR0", 1, RO, rd_const, NULL},
    {0xE000ED4C, "ID_AFR0", 1, RO, rd_const, NULL},
    {0xE000ED50, "ID_MMFR", 4, RO, rd_const, NULL},
    {0xE000ED60, "ID_ISAR", 5, RO, rd_const, NULL},
    {0xE000ED88, "CPACR", 1, RW, rd_field, wr_field},
    {0xE000ED90, "MPU_TYPE", 1, RO, rd_mpu, NULL},
    {0xE000ED94, "MPU_CTRL", 1, RW, rd_mpu, wr_mpu},
    {0xE000ED98, "MPU_RNR", 1, RW, rd_mpu, wr_mpu},
    {0xE000ED9C, "MPU_RBAR", 1, RW, rd_mpu, wr_mpu},
    {0xE000EDA0, "MPU_RASR", 1, RW, rd_mpu, wr_mpu},
    {0xE000EDA4, "MPU_RBAR_A", 6, RW, rd_mpu, wr_mpu},
    {0xE000EDF0, "DHCSR", 1, RW, rd_const, wr_field},
    {0xE000EDF4, "DCRSR", 1, WO, rd_const, wr_field},
    {0xE000EDF8, "DCRDR", 1, RW, rd_const, wr_field},
    {0xE000EDFC, "DEMCR", 1, RW, rd_field, wr_field},
    {0xE000EF00, "STIR", 1, WO, rd_const, wr_stir},
    {0xE000EF34, "FPCCR", 1, RW, rd_field, wr_field},
    {0xE000EF38, "FPCAR", 1, RW, rd_field, wr_field},
    {0xE000EF3C, "FPDSCR", 1, RW, rd_field, wr_field},
    {0xE000EF40, "MVFR", 2, RO, rd_const, NULL},
    {0xE000EFD0, "PID", 12, RO, rd_const, NULL},
    {0xE0001000, "DWT_CTRL", 1, RW, rd_field, wr_dwt_ctrl},
    {0xE0001004, "DWT_CYCCNT", 1, RW, rd_cyccnt, wr_cyccnt},
    {0xE0001FB0, "DWT_LAR", 1, WO, rd_const, wr_field},
};

#define NUM_SCS_REGS (sizeof scs_regs / sizeof scs_regs[0])

/* Plain storage registers, by address: where each one lives in the core. */
static uint32_t *field_ptr(cm_core *c, uint32_t addr)
{
    switch (addr) {
    case 0xE000E008: return &c->actlr;
    case 0xE000ED08: return &c->vtor;
    case 0xE000ED10: return &c->scr;
    case 0xE000ED14: return &c->ccr;
    case 0xE000ED28: return &c->cfsr;
    case 0xE000ED2C: return &c->hfsr;
    case 0xE000ED30: return &c->dfsr;
    case 0xE000ED34: return &c->mmfar;
    case 0xE000ED38: return &c->bfar;
    case 0xE000ED3C: return &c->afsr;
    case 0xE000ED88: return &c->cpacr;
    case 0xE000EDFC: return &c->demcr;
    case 0xE000EF34: return &c->fpccr;
    case 0xE000EF38: return &c->fpcar;
    case 0xE000EF3C: return &c->fpdscr;
    case 0xE0001000: return &c->dwt_ctrl;
    default: return NULL;
    }
}

/* Writable bits of the storage registers. */
static uint32_t field_mask(cm_core *c, uint32_t addr)
{
    switch (addr) {
    case 0xE000ED08: return 0xFFFFFF80u;
    case 0xE000ED10: return 0x16u;
    case 0xE000ED14: return 0x31Bu;
    case 0xE000ED88: return c->has_fpu ? 0x00F00000u : 0;
    case 0xE000EDFC: return 0x010F07F1u;
    case 0xE000EF34: return 0xC000017Bu;
    case 0xE000EF38: return 0xFFFFFFF8u;
    case 0xE000EF3C: return 0x07C00000u;
    case 0xE0001000: return 0x0FFFFFFFu;
    default: return 0xFFFFFFFFu;
    }
}

static uint32_t rd_field(cm_core *c, const scs_reg *r, int i)
{
    (void)i;
    if (r->addr == 0xE000ED00)
        return c->cpuid;
    if (r->addr == 0xE000E004)
        return (uint32_t)((c->num_irq + 31) / 32 - 1);
    uint32_t *p = field_ptr(c, r->addr);
    return p ? *p : 0;
}

static void wr_field(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    (void)i;
    uint32_t *p = field_ptr(c, r->addr);
    if (p)
        *p = merge(*p, v, m & field_mask(c, r->addr));
}

static void wr_w1c(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    (void)i;
    uint32_t *p = field_ptr(c, r->addr);
    if (p)
        *p &= ~(v & m);
}

/* Identification values of the Cortex-M3 r2p1 and Cortex-M4 r0p1. */
static uint32_t rd_const(cm_core *c, const scs_reg *r, int i)
{
    static const uint32_t m4_isar[5] = {
        0x01101110, 0x02111000, 0x21112231, 0x01111110, 0x01310132,
    };
    static const uint32_t m3_isar[5] = {
        0x01141110, 0x02111000, 0x21112231, 0x01111110, 0x01310102,
    };
    static const uint32_t mmfr[4] = {0x00100030, 0, 0x01000000, 0};
    static const uint32_t pid[12] = {
        0x04, 0, 0, 0, 0x00, 0xB0, 0x0B, 0x00, 0x0D, 0xE0, 0x05, 0xB1,
    };
    switch (r->addr) {
    case 0xE000ED40: return i == 0 ? 0x30 : 0x200;
    case 0xE000ED48: return 0x00100000;
    case 0xE000ED50: return mmfr[i];
    case 0xE000ED60: return c->has_fpu ? m4_isar[i] : m3_isar[i];
    case 0xE000EF40: return c->has_fpu ? (i ? 0x11000011 : 0x10110021) : 0;
    case 0xE000EFD0: return pid[i];
    default: return 0;
    }
}

/* -- MPU registers (B3.5); regions are stored, not enforced ------------------------ */

static int mpu_regions(cm_core *c)
{
    (void)c;
    return 8;
}

static uint32_t rd_mpu(cm_core *c, const scs_reg *r, int i)
{
    uint32_t addr = r->addr + 4u * (uint32_t)i;
    int n = (int)(c->mpu_rnr & 15);
    switch (addr) {
    case 0xE000ED90: return (uint32_t)mpu_regions(c) << 8;
    case 0xE000ED94: return c->mpu_ctrl;
    case 0xE000ED98: return c->mpu_rnr;
    default:
        if ((addr - 0xE000ED9C) % 8 == 0)
            return c->mpu_rbar[n] | (uint32_t)n;
        return c->mpu_rasr[n];
    }
}

static void wr_mpu(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m)
{
    uint32_t addr = r->addr + 4u * (uint32_t)i;
    v = merge(rd_mpu(c, r, i), v, m);
    if (addr == 0xE000ED94) {
        c->mpu_ctrl = v & 7;
    } else if (addr == 0xE000ED98) {
        c->mpu_rnr = v & 0xFF;
    } else if ((addr - 0xE000ED9C) % 8 == 0) {
        if (v & 0x10)
            c->mpu_rnr = v & 15;
        c->mpu_rbar[c->mpu_rnr & 15] = v & 0xFFFFFFE0u;
    } else {
        c->mpu_rasr[c->mpu_rnr & 15] = v;
    }
}

/* -- Dispatch ---------------------------------------------------------------------- */

static const scs_reg *find_reg(cm_core *c, uint32_t addr, int *idx)
{
    uint32_t word = addr & ~3u;
    for (size_t k = 0; k < NUM_SCS_REGS; k++) {
        const scs_reg *r = &scs_regs[k];
        if (word >= r->addr && word < r->addr + 4u * (uint32_t)r->count) {
            int fpu_only = (r->addr >= 0xE000EF34 && r->addr <= 0xE000EF40) ||
                           r->addr == 0xE000ED88;
            if (fpu_only && !c->has_fpu)
                return NULL;
            *idx = (int)((word - r->addr) / 4);
            return r;
        }
    }
    return NULL;
}

uint32_t cm_scs_read(cm_core *c, uint32_t addr, unsigned size)
{
    int idx = 0;
    cm_systick_sync(c);
    const scs_reg *r = find_reg(c, addr, &idx);
    if (!r || r->access == WO) {
        cm_queue_access(c, addr, size, 0, 0);
        if (c->strict)
            cm_raise_bus_error(c, addr);
        return 0;
    }
    uint32_t v = r->read(c, r, idx);
    uint32_t shift = (addr & 3u) * 8;
    return size >= 4 ? v : (v >> shift) & ((1u << (size * 8)) - 1);
}

void cm_scs_write(cm_core *c, uint32_t addr, unsigned size, uint32_t value)
{
    int idx = 0;
    const scs_reg *r = find_reg(c, addr, &idx);
    if (!r || r->access == RO || !r->write) {
        cm_queue_access(c, addr, size, value, 1);
        if (c->strict)
            cm_raise_bus_error(c, addr);
        return;
    }
    uint32_t shift = (addr & 3u) * 8;
    uint32_t mask = size >= 4 ? 0xFFFFFFFFu
                              : ((1u << (size * 8)) - 1) << shift;
    r->write(c, r, idx, (value << shift) & mask, mask);
}

const char *cm_scs_reg_name(int k, uint32_t *addr, int *count)
{
    if (k < 0 || (size_t)k >= NUM_SCS_REGS)
        return NULL;
    *addr = scs_regs[k].addr;
    *count = scs_regs[k].count;
    return scs_regs[k].name;
}

/* -- Reset --------------------------------------------------------------------------- */

void cm_scs_reset(cm_core *c)
{
    memset(c->prio, 0, sizeof c->prio);
    memset(c->enabled, 0, sizeof c->enabled);
    memset(c->pending, 0, sizeof c->pending);
    memset(c->active, 0, sizeof c->active);
    c->vtor = 0;
    c->prigroup = 0;
    c->scr = 0;
    c->ccr = 0x200;             /* STKALIGN set out of reset */
    c->shcsr_ena = 0;
    c->cfsr = c->hfsr = c->dfsr = c->mmfar = c->bfar = c->afsr = 0;
    c->cpacr = 0;
    c->fpccr = c->has_fpu ? 0xC0000000u : 0;
    c->fpcar = c->fpdscr = 0;
    c->actlr = 0;
    c->demcr = 0;
    c->mpu_ctrl = c->mpu_rnr = 0;
    memset(c->mpu_rbar, 0, sizeof c->mpu_rbar);
    memset(c->mpu_rasr, 0, sizeof c->mpu_rasr);
    c->st_csr = c->ref_divider ? 0 : CSR_CLKSOURCE;
    c->st_rvr = 0;
    c->st_cvr = 0;
    c->st_next_zero = CM_NEVER;
    c->dwt_ctrl = 0x40000000u;
    c->cyccnt_base = 0;
    c->cyccnt_since = c->now;
    c->event_reg = 0;
    c->fault_exc = 0;
    cm_update_check(c);
    cm_reschedule(c);
}
