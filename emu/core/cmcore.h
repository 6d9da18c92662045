/*
 * cmcore: the ARMv7-M system level (exception model, NVIC, SCB, SysTick, DWT
 * cycle counter) for a unicorn Thumb core, in native code so that exception
 * entry and return cost no Python.
 *
 * Terms follow the ARMv7-M Architecture Reference Manual (ARM DDI 0403E):
 * B1.5 (exception model), B3.2 (system control block), B3.3 (SysTick),
 * B3.4 (NVIC), C1.8 (DWT).
 */
#ifndef CMCORE_H
#define CMCORE_H

#include <stdint.h>
#include <unicorn/unicorn.h>

#define CM_MAX_IRQ 240
#define CM_NUM_EXC (16 + CM_MAX_IRQ)
#define CM_NEVER UINT64_MAX

/* Exception numbers (B1.5.2). */
enum {
    EXC_RESET = 1,
    EXC_NMI = 2,
    EXC_HARDFAULT = 3,
    EXC_MEMMANAGE = 4,
    EXC_BUSFAULT = 5,
    EXC_USAGEFAULT = 6,
    EXC_SVCALL = 11,
    EXC_DEBUGMON = 12,
    EXC_PENDSV = 14,
    EXC_SYSTICK = 15,
    EXC_IRQ0 = 16,
};

/* Why native code stopped unicorn; read by the Python run loop. */
enum {
    STOP_NONE = 0,
    STOP_EVENT = 1,     /* the Python deadline was reached */
    STOP_FAULT = 2,     /* a fault exception was taken (report policy) */
    STOP_LOCKUP = 3,    /* a fault at HardFault priority or above */
    STOP_BKPT = 4,      /* a bkpt instruction; PC is on it */
    STOP_RESET = 5,     /* AIRCR.SYSRESETREQ or VECTRESET */
    STOP_HANG = 6,      /* a branch-to-self with nothing left to wake it */
    STOP_SLEEP = 7,     /* WFE with no event; Python runs the sleep */
    STOP_SLEEP_HANG = 8, /* WFI with nothing left that can wake the core */
};

/* Fault causes that Python reports into the core. */
enum {
    FAULT_BUS_PRECISE = 1,  /* data access to unmapped memory; addr valid */
    FAULT_BUS_IFETCH = 2,   /* instruction fetch from unmapped memory */
    FAULT_BUS_IMPRECISE = 3,
    FAULT_UNDEF = 4,
    FAULT_MEM_DACC = 5,     /* data access violation; addr valid */
    FAULT_MEM_IACC = 6,
    FAULT_UNALIGNED = 7,
    FAULT_DEBUGEVT = 8,     /* bkpt with no debugger attached */
};

/* CFSR bits (B3.2.15). */
#define CFSR_IACCVIOL (1u << 0)
#define CFSR_DACCVIOL (1u << 1)
#define CFSR_MUNSTKERR (1u << 3)
#define CFSR_MSTKERR (1u << 4)
#define CFSR_MMARVALID (1u << 7)
#define CFSR_IBUSERR (1u << 8)
#define CFSR_PRECISERR (1u << 9)
#define CFSR_IMPRECISERR (1u << 10)
#define CFSR_UNSTKERR (1u << 11)
#define CFSR_STKERR (1u << 12)
#define CFSR_BFARVALID (1u << 15)
#define CFSR_UNDEFINSTR (1u << 16)
#define CFSR_INVSTATE (1u << 17)
#define CFSR_INVPC (1u << 18)
#define CFSR_NOCP (1u << 19)
#define CFSR_UNALIGNED (1u << 24)
#define CFSR_DIVBYZERO (1u << 25)

#define HFSR_VECTTBL (1u << 1)
#define HFSR_FORCED (1u << 30)
#define HFSR_DEBUGEVT (1u << 31)

/* An access to an address no model handles, queued for Python to log. */
typedef struct cm_access {
    uint32_t addr;
    uint32_t value;
    uint32_t pc;
    uint8_t size;
    uint8_t is_write;
} cm_access;

/* A translated block's instruction count, cached by its address. */
typedef struct cm_block {
    uint32_t addr;
    uint16_t size;
    uint16_t count;
} cm_block;

#define CM_ACCESS_QUEUE 64
#define CM_MAX_DIV_SITES 1024
#define CM_COUNT_CACHE 65536

typedef struct cm_core {
    uc_engine *uc;

    /* Configuration, fixed at creation. */
    int has_fpu;
    int num_irq;
    int prio_bits;
    uint32_t cpuid;
    uint32_t systick_calib;
    uint32_t ref_divider;       /* core cycles per SysTick reference tick */
    int report_faults;          /* stop at a fault instead of running on */
    int strict;                 /* unmodelled system accesses bus-fault */

    /* Virtual time. */
    uint64_t now;               /* core cycles since power-on */
    uint64_t deadline;          /* Python's next stop: event or time slice */
    uint64_t event_deadline;    /* Python's next event that can wake the core */
    uint64_t next_check;        /* min(deadline, SysTick's next wrap) */
    uint64_t idle_cycles;       /* cycles not spent on instructions: sleep, exception entry */

    /* Why the last emu_start returned early. */
    int stop_reason;

    /* Exception state (B1.5). */
    uint8_t prio[CM_NUM_EXC];   /* configured priority byte */
    uint8_t enabled[CM_NUM_EXC];
    uint8_t pending[CM_NUM_EXC];
    uint8_t active[CM_NUM_EXC];
    int best_exc;               /* pending and enabled, taken first; 0 none */
    int best_prio;              /* its group priority (256 when none) */
    int active_prio;            /* the boost of the active exceptions */
    int event_reg;              /* the WFE event register */
    uint64_t exceptions_taken;
    int last_exc_taken;
    int sleeping_on_exit;

    /* System control block registers (B3.2). */
    uint32_t vtor;
    uint32_t prigroup;
    uint32_t scr;
    uint32_t ccr;
    uint32_t shcsr_ena;         /* MEMFAULTENA, BUSFAULTENA, USGFAULTENA */
    uint32_t cfsr, hfsr, dfsr, mmfar, bfar, afsr;
    uint32_t cpacr;
    uint32_t fpccr, fpcar, fpdscr;
    uint32_t actlr;
    uint32_t demcr;
    uint32_t mpu_ctrl, mpu_rnr, mpu_rbar[16], mpu_rasr[16];

    /* SysTick (B3.3). */
    uint32_t st_csr;            /* ENABLE, TICKINT, CLKSOURCE, COUNTFLAG */
    uint32_t st_rvr;
    uint32_t st_cvr;            /* value while stopped */
    uint64_t st_next_zero;      /* cycle of the next 1->0 step, if running */

    /* DWT cycle counter (C1.8). */
    uint32_t dwt_ctrl;
    uint32_t cyccnt_base;
    uint64_t cyccnt_since;

    /* Unmodelled accesses not yet drained by Python. */
    cm_access queue[CM_ACCESS_QUEUE];
    int queue_len;
    int queue_lost;

    /* The last fault: what Python needs for a report. */
    int fault_exc;              /* exception number taken for the fault */
    uint32_t fault_frame;       /* address of the stacked frame */
    uint32_t fault_exc_return;
    uint32_t fault_return_addr;     /* where the interrupted code was */
    uint32_t entry_return_addr;     /* return address of the last entry */
    int stacking_failed;            /* the last entry could not push a frame */
    int resync;                     /* a hook other than the block hook wrote PC */

    /* Per-block instruction counts, keyed by block address. */
    cm_block blocks[CM_COUNT_CACHE];


    uc_hook hooks[6];
    uc_hook div_hook[CM_MAX_DIV_SITES];
    int div_hooks;
} cm_core;

/* exceptions.c */
void cm_init_tables(void);
void cm_fault(cm_core *c, int kind, uint32_t addr);
void cm_invalidate_counts(cm_core *c);
void cm_invalidate_range(cm_core *c, uint32_t addr, uint32_t size);
int cm_sleep(cm_core *c, int is_wfe);
int cm_exec_priority(cm_core *c);
int cm_pending_best(cm_core *c, int *prio_out);
int cm_try_take_pending(cm_core *c, uint32_t return_addr, int unused);
int cm_wakeup_pending(cm_core *c);
void cm_take_svc(cm_core *c, uint32_t return_addr);
int cm_take_exception(cm_core *c, int exc, uint32_t return_addr);
void cm_exception_return(cm_core *c, uint32_t exc_return);
void cm_raise_fault(cm_core *c, int exc, uint32_t return_addr);
void cm_set_pending_exc(cm_core *c, int exc);
void cm_clear_pending_exc(cm_core *c, int exc);
void cm_update_check(cm_core *c);
int cm_group_prio(cm_core *c, int exc);
int cm_raw_prio(cm_core *c, int exc);
int cm_is_enabled(cm_core *c, int exc);
void cm_stop(cm_core *c, int reason);
void cm_raise_bus_error(cm_core *c, uint32_t addr);

/* scs.c */
uint32_t cm_scs_read(cm_core *c, uint32_t addr, unsigned size);
void cm_scs_write(cm_core *c, uint32_t addr, unsigned size, uint32_t value);
void cm_scs_reset(cm_core *c);
void cm_systick_sync(cm_core *c);
void cm_reschedule(cm_core *c);
const char *cm_scs_reg_name(int k, uint32_t *addr, int *count);
void cm_queue_access(cm_core *c, uint32_t addr, unsigned size,
                     uint32_t value, int is_write);

#endif
