/*
 * The ARMv7-M exception model: priorities, preemption, entry with the basic
 * and the extended (FP) frame, return, tail-chaining and fault escalation.
 * Section numbers refer to the ARMv7-M Architecture Reference Manual.
 */
#include <string.h>

#include "cmcore.h"

#define XPSR_IPSR_MASK 0x1FFu
#define XPSR_T (1u << 24)
#define XPSR_APSR_MASK 0xF80F0000u   /* N Z C V Q and GE */
#define XPSR_ALIGN (1u << 9)

#define CONTROL_NPRIV 1u
#define CONTROL_SPSEL 2u
#define CONTROL_FPCA 4u

#define FPCCR_LSPACT (1u << 0)
#define FPCCR_USER (1u << 1)
#define FPCCR_THREAD (1u << 3)
#define FPCCR_HFRDY (1u << 4)
#define FPCCR_LSPEN (1u << 30)

#define CCR_NONBASETHRDENA (1u << 0)
#define CCR_STKALIGN (1u << 9)

#define ENTRY_CYCLES 12
#define RETURN_CYCLES 10

static uint32_t rd(cm_core *c, int reg)
{
    uint32_t v = 0;
    uc_reg_read(c->uc, reg, &v);
    return v;
}

static void wr(cm_core *c, int reg, uint32_t v)
{
    uc_reg_write(c->uc, reg, &v);
}

void cm_stop(cm_core *c, int reason)
{
    if (c->stop_reason == STOP_NONE || reason == STOP_LOCKUP)
        c->stop_reason = reason;
    uc_emu_stop(c->uc);
}

/* -- Priorities (B1.5.4) ---------------------------------------------------- */

static uint8_t group_mask(cm_core *c)
{
    /* PRIGROUP n puts the group priority in bits [7:n+1]. */
    return (uint8_t)(0xFFu << (c->prigroup + 1));
}

int cm_raw_prio(cm_core *c, int exc)
{
    switch (exc) {
    case EXC_RESET:
        return -3;
    case EXC_NMI:
        return -2;
    case EXC_HARDFAULT:
        return -1;
    default:
        return c->prio[exc];
    }
}

int cm_group_prio(cm_core *c, int exc)
{
    int p = cm_raw_prio(c, exc);
    return p < 0 ? p : (p & group_mask(c));
}

int cm_is_enabled(cm_core *c, int exc)
{
    switch (exc) {
    case EXC_MEMMANAGE:
        return (c->shcsr_ena >> 16) & 1;
    case EXC_BUSFAULT:
        return (c->shcsr_ena >> 17) & 1;
    case EXC_USAGEFAULT:
        return (c->shcsr_ena >> 18) & 1;
    default:
        return exc >= EXC_IRQ0 ? c->enabled[exc] : 1;
    }
}

/* The priority boost of the active exceptions alone. */
static void update_active_prio(cm_core *c)
{
    int best = 256;
    for (int e = EXC_NMI; e < EXC_IRQ0 + c->num_irq; e++) {
        if (c->active[e]) {
            int p = cm_group_prio(c, e);
            if (p < best)
                best = p;
        }
    }
    c->active_prio = best;
}

/* The pending, enabled exception that would be taken first. */
static void update_best_pending(cm_core *c)
{
    int best = 0, best_raw = 1000;
    for (int e = EXC_NMI; e < EXC_IRQ0 + c->num_irq; e++) {
        if (c->pending[e] && cm_is_enabled(c, e)) {
            int p = cm_raw_prio(c, e);
            if (p < best_raw) {
                best_raw = p;
                best = e;
            }
        }
    }
    c->best_exc = best;
    c->best_prio = best ? cm_group_prio(c, best) : 256;
}

void cm_update_check(cm_core *c)
{
    update_active_prio(c);
    update_best_pending(c);
}

/* ExecutionPriority() of B1.5.4, with the masks read from the core. */
static int masked_prio(cm_core *c, int ignore_primask)
{
    int prio = c->active_prio;
    uint32_t basepri = rd(c, UC_ARM_REG_BASEPRI) & 0xFF;
    if (basepri) {
        int b = basepri & group_mask(c);
        if (b < prio)
            prio = b;
    }
    if (!ignore_primask && (rd(c, UC_ARM_REG_PRIMASK) & 1) && prio > 0)
        prio = 0;
    if ((rd(c, UC_ARM_REG_FAULTMASK) & 1) && prio > -1)
        prio = -1;
    return prio;
}

int cm_exec_priority(cm_core *c)
{
    return masked_prio(c, 0);
}

/* Whether the best pending exception preempts now; 0 or its number. */
int cm_pending_best(cm_core *c, int *prio_out)
{
    if (prio_out)
        *prio_out = c->best_prio;
    if (!c->best_exc || c->best_prio >= c->active_prio)
        return 0;
    return c->best_prio < masked_prio(c, 0) ? c->best_exc : 0;
}

/* WFI wakes for what would preempt if PRIMASK were clear (B1.5.19). */
int cm_wakeup_pending(cm_core *c)
{
    return c->best_exc && c->best_prio < masked_prio(c, 1);
}

void cm_set_pending_exc(cm_core *c, int exc)
{
    c->pending[exc] = 1;
    update_best_pending(c);
}

void cm_clear_pending_exc(cm_core *c, int exc)
{
    c->pending[exc] = 0;
    update_best_pending(c);
}

/* -- Mode switching in unicorn ------------------------------------------------ */

/*
 * Put the core in the mode given by IPSR and CONTROL. QEMU, under unicorn,
 * ignores CONTROL.SPSEL writes in Handler mode and every CONTROL write from
 * unprivileged Thread mode, so the sequence passes through privileged Thread
 * mode, where all of CONTROL is writable. The XPSR write also banks the SP.
 */
static void set_mode_unprivileged(cm_core *c, uint32_t xpsr, uint32_t control,
                                  uint32_t cur)
{
    uint32_t ipsr = xpsr & XPSR_IPSR_MASK;
    uint32_t priv = control & ~(CONTROL_NPRIV | CONTROL_SPSEL);

    wr(c, UC_ARM_REG_XPSR, (xpsr & ~XPSR_IPSR_MASK) | EXC_HARDFAULT);
    wr(c, UC_ARM_REG_CONTROL, priv | (cur & CONTROL_SPSEL));
    wr(c, UC_ARM_REG_XPSR, xpsr & ~XPSR_IPSR_MASK);
    wr(c, UC_ARM_REG_CONTROL, ipsr ? priv : control);
    if (ipsr) {
        wr(c, UC_ARM_REG_XPSR, xpsr);
        wr(c, UC_ARM_REG_CONTROL, priv | (control & CONTROL_NPRIV));
    }
}

/*
 * Put the core in the mode given by IPSR and CONTROL. QEMU, under unicorn,
 * ignores CONTROL.SPSEL writes in Handler mode and every CONTROL write from
 * unprivileged Thread mode; the XPSR write banks the SP. Between privileged
 * modes, CONTROL is written while in Thread mode (before leaving it, or
 * after entering it); otherwise the sequence passes through privileged
 * Thread mode, where all of CONTROL is writable.
 */
static void set_mode(cm_core *c, uint32_t xpsr, uint32_t control)
{
    uint32_t cur = rd(c, UC_ARM_REG_CONTROL);
    int in_handler = (rd(c, UC_ARM_REG_XPSR) & XPSR_IPSR_MASK) != 0;

    if ((cur | control) & CONTROL_NPRIV) {
        set_mode_unprivileged(c, xpsr, control, cur);
    } else if (in_handler) {
        wr(c, UC_ARM_REG_XPSR, xpsr);
        if (cur != control)
            wr(c, UC_ARM_REG_CONTROL, control);
    } else {
        if (cur != control)
            wr(c, UC_ARM_REG_CONTROL, control);
        wr(c, UC_ARM_REG_XPSR, xpsr);
    }
    /* Writing the flags makes unicorn rebuild its cached mode flags. */
    wr(c, UC_ARM_REG_APSR_NZCV, xpsr);
}

/* -- Entry (B1.5.6, B1.5.7) ------------------------------------------------------ */

static const int frame_regs[6] = {
    UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2,
    UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_LR,
};

static void read_regs(cm_core *c, const int *ids, uint32_t *vals, int n)
{
    void *ptrs[32];
    for (int i = 0; i < n; i++)
        ptrs[i] = &vals[i];
    uc_reg_read_batch(c->uc, (int *)ids, ptrs, n);
}

static void write_regs(cm_core *c, const int *ids, uint32_t *vals, int n)
{
    void *ptrs[32];
    for (int i = 0; i < n; i++)
        ptrs[i] = &vals[i];
    uc_reg_write_batch(c->uc, (int *)ids, ptrs, n);
}

static int fp_regs[17];

static void note_fault(cm_core *c, int exc);

void cm_init_tables(void)
{
    for (int i = 0; i < 16; i++)
        fp_regs[i] = UC_ARM_REG_S0 + i;
    fp_regs[16] = UC_ARM_REG_FPSCR;
}

/* Record FPCCR as lazy preservation would leave it (B3.2.23). */
static void note_lazy_state(cm_core *c, uint32_t frame, int in_handler,
                            uint32_t control)
{
    if (!(c->fpccr & FPCCR_LSPEN))
        return;
    c->fpcar = frame + 0x20;
    c->fpccr &= ~(FPCCR_LSPACT | FPCCR_USER | FPCCR_THREAD | FPCCR_HFRDY);
    c->fpccr |= FPCCR_LSPACT | FPCCR_HFRDY;
    if (!in_handler)
        c->fpccr |= FPCCR_THREAD;
    if (!in_handler && (control & CONTROL_NPRIV))
        c->fpccr |= FPCCR_USER;
}

/*
 * PushStack: write the frame of the current context. The FP part is written
 * at once; software cannot tell this from lazy preservation, because the
 * values saved are those the registers hold until the handler uses them.
 * Returns the new value of LR (EXC_RETURN), or 0 if stacking failed.
 */
static uint32_t push_stack(cm_core *c, uint32_t return_addr)
{
    uint32_t v[6], ctl[4], words[26];
    static const int ctl_ids[4] = {
        UC_ARM_REG_XPSR, UC_ARM_REG_CONTROL, UC_ARM_REG_MSP, UC_ARM_REG_PSP,
    };
    read_regs(c, frame_regs, v, 6);
    read_regs(c, ctl_ids, ctl, 4);
    uint32_t xpsr = ctl[0], control = ctl[1];
    int in_handler = (xpsr & XPSR_IPSR_MASK) != 0;
    int use_psp = !in_handler && (control & CONTROL_SPSEL);
    int fpca = c->has_fpu && (control & CONTROL_FPCA);
    uint32_t sp = use_psp ? ctl[3] : ctl[2];
    uint32_t size = fpca ? 0x68 : 0x20;
    uint32_t force = fpca ? 1 : ((c->ccr & CCR_STKALIGN) != 0);
    uint32_t realign = (sp >> 2) & 1 & force;
    uint32_t frame = (sp - size) & ~(force << 2);

    memcpy(words, v, sizeof(v));
    words[6] = return_addr & ~1u;
    words[7] = (xpsr & ~XPSR_ALIGN) | (realign << 9);
    if (fpca) {
        read_regs(c, fp_regs, &words[8], 17);
        words[25] = 0;
        note_lazy_state(c, frame, in_handler, control);
    }
    wr(c, use_psp ? UC_ARM_REG_PSP : UC_ARM_REG_MSP, frame);
    if (uc_mem_write(c->uc, frame, words, size) != UC_ERR_OK)
        return 0;
    if (in_handler)
        return 0xFFFFFFE1u | ((uint32_t)!fpca << 4);
    return 0xFFFFFFE9u | ((uint32_t)!fpca << 4) | ((uint32_t)use_psp << 2);
}

/* ExceptionTaken: branch to the handler in Handler mode. 0 on success. */
static int enter_handler(cm_core *c, int exc, uint32_t exc_return)
{
    uint32_t vector;
    if (uc_mem_read(c->uc, c->vtor + 4u * (uint32_t)exc, &vector, 4)) {
        c->hfsr |= HFSR_VECTTBL;
        return -1;
    }
    uint32_t xpsr = rd(c, UC_ARM_REG_XPSR);
    uint32_t control = rd(c, UC_ARM_REG_CONTROL);
    set_mode(c, (xpsr & XPSR_APSR_MASK) | XPSR_T | (uint32_t)exc,
             control & CONTROL_NPRIV);
    wr(c, UC_ARM_REG_LR, exc_return);
    wr(c, UC_ARM_REG_PC, vector);
    c->pending[exc] = 0;
    c->active[exc] = 1;
    c->now += ENTRY_CYCLES;
    c->idle_cycles += ENTRY_CYCLES;
    c->exceptions_taken++;
    c->last_exc_taken = exc;
    cm_update_check(c);
    if (exc >= EXC_HARDFAULT && exc <= EXC_USAGEFAULT)
        note_fault(c, exc);
    return 0;
}

static void stacking_fault(cm_core *c, int original, uint32_t return_addr);

int cm_take_exception(cm_core *c, int exc, uint32_t return_addr)
{
    uint32_t exc_return = push_stack(c, return_addr);
    c->entry_return_addr = return_addr;
    if (!exc_return) {
        stacking_fault(c, exc, return_addr);
        return -1;
    }
    if (enter_handler(c, exc, exc_return)) {
        c->stop_reason = STOP_LOCKUP;
        uc_emu_stop(c->uc);
        return -1;
    }
    return 0;
}

int cm_try_take_pending(cm_core *c, uint32_t return_addr, int unused)
{
    (void)unused;
    int exc = cm_pending_best(c, NULL);
    if (!exc)
        return 0;
    cm_take_exception(c, exc, return_addr);
    return 1;
}

/* -- Faults (B1.5.15, B3.2.15) -------------------------------------------------- */

/* Which exception a fault becomes, or 0 for lockup. */
static int escalate(cm_core *c, int exc)
{
    int prio = cm_exec_priority(c);
    if (exc != EXC_HARDFAULT && exc != EXC_NMI) {
        if (!cm_is_enabled(c, exc) || cm_group_prio(c, exc) >= prio) {
            c->hfsr |= HFSR_FORCED;
            exc = EXC_HARDFAULT;
        }
    }
    if (exc == EXC_HARDFAULT && prio <= -1)
        return 0;
    return exc;
}

/* What a report needs: the frame (0 when stacking failed) and where the
 * interrupted code was. */
static void note_fault(cm_core *c, int exc)
{
    c->fault_exc = exc;
    c->fault_frame = c->stacking_failed ? 0 : rd(c, UC_ARM_REG_SP);
    c->fault_exc_return = rd(c, UC_ARM_REG_LR);
    c->fault_return_addr = c->entry_return_addr;
    c->stacking_failed = 0;
    if (c->report_faults)
        cm_stop(c, STOP_FAULT);
}

void cm_raise_fault(cm_core *c, int exc, uint32_t return_addr)
{
    int target = escalate(c, exc);
    if (!target) {
        c->fault_exc = exc;
        cm_stop(c, STOP_LOCKUP);
        return;
    }
    cm_take_exception(c, target, return_addr);
}

/*
 * A bus fault while pushing the frame: the derived exception is entered
 * with the frame left where it was being written (B1.5.6, DerivedLateArrival).
 */
static void stacking_fault(cm_core *c, int original, uint32_t return_addr)
{
    uint32_t control = rd(c, UC_ARM_REG_CONTROL);
    uint32_t xpsr = rd(c, UC_ARM_REG_XPSR);
    int in_handler = (xpsr & XPSR_IPSR_MASK) != 0;
    int use_psp = !in_handler && (control & CONTROL_SPSEL);
    uint32_t exc_return = in_handler ? 0xFFFFFFF1u
                                     : (0xFFFFFFF9u | (use_psp << 2));
    if (original >= EXC_NMI && original != EXC_SVCALL && original > EXC_USAGEFAULT)
        c->pending[original] = 1;
    c->cfsr |= CFSR_STKERR;
    c->stacking_failed = 1;
    c->entry_return_addr = return_addr;
    int target = escalate(c, EXC_BUSFAULT);
    if (!target || enter_handler(c, target, exc_return)) {
        c->fault_exc = EXC_BUSFAULT;
        cm_stop(c, STOP_LOCKUP);
        return;
    }
}

/* -- Return (B1.5.8) ---------------------------------------------------------- */

static int count_active(cm_core *c)
{
    int n = 0;
    for (int e = EXC_NMI; e < EXC_IRQ0 + c->num_irq; e++)
        n += c->active[e];
    return n;
}

/* An illegal EXC_RETURN: UsageFault INVPC entered without a new frame. */
static void invalid_return(cm_core *c, uint32_t exc_return)
{
    c->cfsr |= CFSR_INVPC;
    c->entry_return_addr = exc_return;
    int target = escalate(c, EXC_USAGEFAULT);
    if (!target || enter_handler(c, target, 0xF0000000u + exc_return)) {
        c->fault_exc = EXC_USAGEFAULT;
        cm_stop(c, STOP_LOCKUP);
        return;
    }
}

/* Check EXC_RETURN against the active state; 0 if it is legal. */
static int check_return(cm_core *c, uint32_t exc_return, int returning)
{
    int nested = count_active(c);
    int mode = exc_return & 0xF;
    if ((exc_return & 0x0FFFFFE0u) != 0x0FFFFFE0u || !c->active[returning])
        return -1;
    if (!(exc_return & 0x10) && !c->has_fpu)
        return -1;
    if (mode == 0x1)
        return nested > 1 ? 0 : -1;
    if (mode == 0x9 || mode == 0xD)
        return (nested == 1 || (c->ccr & CCR_NONBASETHRDENA)) ? 0 : -1;
    return -1;
}

/* PopStack into the registers; returns the stacked PC, or 1 on failure. */
static uint32_t pop_stack(cm_core *c, uint32_t exc_return, uint32_t *psr)
{
    static const int sp_ids[2] = { UC_ARM_REG_MSP, UC_ARM_REG_PSP };
    uint32_t sps[2], words[26];
    int use_psp = (exc_return & 0xF) == 0xD;
    int fp = !(exc_return & 0x10);
    uint32_t size = fp ? 0x68 : 0x20;
    uint32_t force = fp ? 1 : ((c->ccr & CCR_STKALIGN) != 0);

    read_regs(c, sp_ids, sps, 2);
    uint32_t frame = use_psp ? sps[1] : sps[0];
    if (uc_mem_read(c->uc, frame, words, size) != UC_ERR_OK)
        return 1;
    write_regs(c, frame_regs, words, 6);
    if (fp) {
        write_regs(c, fp_regs, &words[8], 17);
        c->fpccr &= ~FPCCR_LSPACT;
    }
    *psr = words[7];
    uint32_t sp = (frame + size) | (((words[7] >> 9) & 1 & force) << 2);
    wr(c, use_psp ? UC_ARM_REG_PSP : UC_ARM_REG_MSP, sp);
    return words[6];
}

void cm_exception_return(cm_core *c, uint32_t exc_return)
{
    uint32_t xpsr = rd(c, UC_ARM_REG_XPSR);
    int returning = (int)(xpsr & XPSR_IPSR_MASK);
    if (check_return(c, exc_return, returning)) {
        invalid_return(c, exc_return);
        return;
    }

    /* DeActivate: FAULTMASK clears on return from anything but NMI. */
    c->active[returning] = 0;
    if (returning != EXC_NMI)
        wr(c, UC_ARM_REG_FAULTMASK, 0);
    update_active_prio(c);

    uint32_t psr = 0;
    uint32_t pc = pop_stack(c, exc_return, &psr);
    if (pc == 1) {
        c->cfsr |= CFSR_UNSTKERR;
        cm_raise_fault(c, EXC_BUSFAULT, exc_return);
        return;
    }
    int to_thread = (exc_return & 0x8) != 0;
    if (to_thread != ((psr & XPSR_IPSR_MASK) == 0)) {
        invalid_return(c, exc_return);
        return;
    }
    uint32_t control = rd(c, UC_ARM_REG_CONTROL) & CONTROL_NPRIV;
    if ((exc_return & 0xF) == 0xD)
        control |= CONTROL_SPSEL;
    if (c->has_fpu && !(exc_return & 0x10))
        control |= CONTROL_FPCA;
    set_mode(c, psr, control);
    wr(c, UC_ARM_REG_PC, (pc & ~1u) | ((psr & XPSR_T) ? 1u : 0u));
    c->now += RETURN_CYCLES;
    c->idle_cycles += RETURN_CYCLES;

    /* A pending exception that preempts the context returned to is taken
     * at once; with the same frame contents this is a tail-chain. */
    if (cm_try_take_pending(c, pc, 0))
        return;
    if (to_thread && (c->scr & 2))
        cm_stop(c, STOP_SLEEP);
}

/* SVCall is synchronous: if it cannot preempt it escalates (B1.5.15). */
void cm_take_svc(cm_core *c, uint32_t return_addr)
{
    int target = escalate(c, EXC_SVCALL);
    if (target == EXC_SVCALL) {
        cm_take_exception(c, EXC_SVCALL, return_addr);
        return;
    }
    cm_raise_fault(c, EXC_HARDFAULT, return_addr);
}
