/*
 * SysTick (ARMv7-M ARM B3.3) and the DWT cycle counter (C1.8.8), both
 * counted in step with virtual time rather than ticked.
 */
#include "scs.h"

/* -- SysTick (B3.3) ------------------------------------------------------------ */

static uint64_t systick_period(cm_core *c)
{
    uint64_t div = (c->st_csr & CSR_CLKSOURCE) ? 1 : c->ref_divider;
    return ((uint64_t)c->st_rvr + 1) * div;
}

static int systick_running(cm_core *c)
{
    return (c->st_csr & CSR_ENABLE) &&
           ((c->st_csr & CSR_CLKSOURCE) || c->ref_divider);
}

void cm_reschedule(cm_core *c)
{
    uint64_t next = c->deadline;
    if (c->st_next_zero < next && (c->st_csr & CSR_TICKINT))
        next = c->st_next_zero;
    c->next_check = next;
}

/* Account for every 1-to-0 step of the counter up to now. */
void cm_systick_sync(cm_core *c)
{
    if (c->st_next_zero > c->now)
        return;
    c->st_csr |= CSR_COUNTFLAG;
    if (c->st_csr & CSR_TICKINT)
        cm_set_pending_exc(c, EXC_SYSTICK);
    if (c->st_rvr == 0) {
        c->st_cvr = 0;
        c->st_next_zero = CM_NEVER;
    } else {
        uint64_t period = systick_period(c);
        uint64_t late = c->now - c->st_next_zero;
        c->st_next_zero += (late / period + 1) * period;
    }
    cm_reschedule(c);
}

static uint32_t systick_value(cm_core *c)
{
    cm_systick_sync(c);
    if (c->st_next_zero == CM_NEVER)
        return c->st_cvr;
    /* At the instant of a 1-to-0 step the counter reads 0; it reloads on the
     * next clock, so a full period ahead also reads 0. */
    uint64_t div = (c->st_csr & CSR_CLKSOURCE) ? 1 : c->ref_divider;
    uint64_t left = (c->st_next_zero - c->now + div - 1) / div;
    return (uint32_t)(left % ((uint64_t)c->st_rvr + 1));
}

/* Start counting down from value (0 reloads first) at the current time. */
static void systick_start(cm_core *c, uint32_t value)
{
    if (!systick_running(c)) {
        c->st_cvr = value;
        c->st_next_zero = CM_NEVER;
    } else if (value == 0) {
        c->st_next_zero = c->st_rvr ? c->now + systick_period(c) : CM_NEVER;
    } else {
        uint64_t div = (c->st_csr & CSR_CLKSOURCE) ? 1 : c->ref_divider;
        c->st_next_zero = c->now + (uint64_t)value * div;
    }
    cm_reschedule(c);
}

uint32_t rd_syst_csr(cm_core *c, const scs_reg *r, int i)
{
    (void)r, (void)i;
    cm_systick_sync(c);
    uint32_t v = c->st_csr;
    c->st_csr &= ~CSR_COUNTFLAG;
    return v;
}

void wr_syst_csr(cm_core *c, const scs_reg *r, int i, uint32_t v,
                        uint32_t m)
{
    (void)r, (void)i;
    uint32_t value = systick_value(c);
    c->st_csr = (c->st_csr & CSR_COUNTFLAG) | (merge(c->st_csr, v, m) & 7u);
    if (!c->ref_divider)
        c->st_csr |= CSR_CLKSOURCE;     /* no reference clock: RAO */
    systick_start(c, value);
}

uint32_t rd_syst_rvr(cm_core *c, const scs_reg *r, int i)
{
    (void)r, (void)i;
    return c->st_rvr;
}

void wr_syst_rvr(cm_core *c, const scs_reg *r, int i, uint32_t v,
                        uint32_t m)
{
    (void)r, (void)i;
    cm_systick_sync(c);
    c->st_rvr = merge(c->st_rvr, v, m) & 0xFFFFFFu;
    if (systick_running(c) && c->st_next_zero == CM_NEVER)
        systick_start(c, 0);
}

uint32_t rd_syst_cvr(cm_core *c, const scs_reg *r, int i)
{
    (void)r, (void)i;
    return systick_value(c);
}

/* Any write clears the counter and COUNTFLAG (B3.3.5). */
void wr_syst_cvr(cm_core *c, const scs_reg *r, int i, uint32_t v,
                        uint32_t m)
{
    (void)r, (void)i, (void)v, (void)m;
    cm_systick_sync(c);
    c->st_csr &= ~CSR_COUNTFLAG;
    systick_start(c, 0);
}

uint32_t rd_syst_calib(cm_core *c, const scs_reg *r, int i)
{
    (void)r, (void)i;
    return c->systick_calib;
}

/* -- DWT cycle counter (C1.8.8) --------------------------------------------------- */

static int cyccnt_running(cm_core *c)
{
    return (c->dwt_ctrl & 1) && (c->demcr & (1u << 24));
}

uint32_t rd_cyccnt(cm_core *c, const scs_reg *r, int i)
{
    (void)r, (void)i;
    if (!cyccnt_running(c))
        return c->cyccnt_base;
    return c->cyccnt_base + (uint32_t)(c->now - c->cyccnt_since);
}

void wr_cyccnt(cm_core *c, const scs_reg *r, int i, uint32_t v,
                      uint32_t m)
{
    c->cyccnt_base = merge(rd_cyccnt(c, r, i), v, m);
    c->cyccnt_since = c->now;
}

void wr_dwt_ctrl(cm_core *c, const scs_reg *r, int i, uint32_t v,
                        uint32_t m)
{
    c->cyccnt_base = rd_cyccnt(c, r, i);
    c->cyccnt_since = c->now;
    c->dwt_ctrl = 0x40000000u | (merge(c->dwt_ctrl, v, m) & 0x0FFFFFFFu);
}

