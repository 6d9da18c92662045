/*
 * The Cortex-M3 / Cortex-M4F port: start-up of the scheduler, the tick,
 * critical sections and the interrupt priority checks. The context switch
 * and the first task start are in port_switch.S.
 *
 * It drives the core the way the FreeRTOS ARM_CM3 and ARM_CM4F ports do,
 * so that an emulator able to run our images can run theirs:
 * - SysTick is stopped, cleared, loaded and started from the core clock;
 * - PendSV and SysTick get the lowest priority by read-modify-write of
 *   SHPR3, SVCall the highest by writing SHPR2;
 * - the number of implemented priority bits is probed on IRQ0's priority
 *   byte, and FromISR calls check their caller's priority against it;
 * - critical sections raise BASEPRI, which stays raised from the first
 *   kernel call until the first task starts;
 * - on the Cortex-M4F, CP10/CP11 get full access and FPCCR gets automatic
 *   and lazy state preservation.
 */
#include "kernel_internal.h"

#define INITIAL_XPSR 0x01000000u
#define INITIAL_EXC_RETURN 0xFFFFFFFDu

/* Cortex-M7 r0p0 and r0p1 need a different port. */
#define CPUID_CM7_R0P0 0x410FC270u
#define CPUID_CM7_R0P1 0x410FC271u

/*
 * Not zero before the scheduler starts, so that leaving a critical
 * section never unmasks interrupts until the first task runs.
 */
#define NESTING_BEFORE_START 0x55555555u

void SVC_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);
void port_start_first_task(void) __attribute__((noreturn));

static UBaseType_t critical_nesting = NESTING_BEFORE_START;
static uint8_t max_syscall_priority;
static uint32_t max_prigroup;

static void task_exit_trap(void)
{
    /* A task function returned; it must end with vTaskDelete(NULL). */
    const int task_function_returned = 1;

    configASSERT(!task_function_returned);
    portDISABLE_INTERRUPTS();
    for (;;) {
    }
}

StackType_t *port_init_stack(StackType_t *top, void (*entry)(void *),
                             void *param)
{
    StackType_t *sp = top;

    /* The frame that exception return pops: xPSR, pc, lr, r12, r3-r0. */
    *--sp = INITIAL_XPSR;
    *--sp = (StackType_t)(uintptr_t)entry & ~1u;
    *--sp = (StackType_t)(uintptr_t)task_exit_trap;
    sp -= 4;
    *--sp = (StackType_t)(uintptr_t)param;

#ifdef __ARM_FP
    /* Each task keeps its EXC_RETURN: thread mode, PSP, no FP frame yet. */
    *--sp = INITIAL_EXC_RETURN;
#endif

    /* r11-r4, restored by software. */
    sp -= 8;
    return sp;
}

/* With asserts on, the table at VTOR must hold our SVC and PendSV. */
static void check_vector_table(void)
{
    const uint32_t *table = (const uint32_t *)(uintptr_t)SCB_VTOR;

    configASSERT(table[EXC_SVCALL] == (uint32_t)(uintptr_t)SVC_Handler);
    configASSERT(table[EXC_PENDSV] == (uint32_t)(uintptr_t)PendSV_Handler);
    (void)table;
}

/*
 * Writes all ones to IRQ0's priority byte and reads back which bits
 * exist, then puts the byte back as it was.
 */
static void probe_priority_bits(void)
{
    volatile uint8_t *const irq0 = &NVIC_IPR_BYTE(0);
    uint8_t saved = *irq0;
    uint8_t implemented;
    unsigned bits = 0;

    *irq0 = 0xFFu;
    implemented = *irq0;
    *irq0 = saved;

    max_syscall_priority =
        (uint8_t)(configMAX_SYSCALL_INTERRUPT_PRIORITY & implemented);
    configASSERT(max_syscall_priority != 0);
    configASSERT((configMAX_SYSCALL_INTERRUPT_PRIORITY & ~implemented) == 0);

    /* A larger PRIGROUP would turn implemented bits into subpriority. */
    while (bits < 8u && (implemented & (0x80u >> bits)) != 0) {
        bits++;
    }
    max_prigroup = bits >= 7u ? 0u : 7u - bits;
}

static void tick_start(void)
{
    SYST_CSR = 0;
    SYST_CVR = 0;
    SYST_RVR = configCPU_CLOCK_HZ / configTICK_RATE_HZ - 1u;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

#ifdef __ARM_FP
static void fpu_start(void)
{
    SCB_CPACR |= CPACR_FPU_FULL;
    cm_dsb();
    cm_isb();
    FPU_FPCCR |= FPCCR_ASPEN | FPCCR_LSPEN;
}
#endif

void port_start_scheduler(void)
{
    check_vector_table();
#ifdef __ARM_FP
    configASSERT(SCB_CPUID != CPUID_CM7_R0P0);
    configASSERT(SCB_CPUID != CPUID_CM7_R0P1);
#endif
    probe_priority_bits();

    SCB_SHPR3 |= (uint32_t)configKERNEL_INTERRUPT_PRIORITY << 16;
    SCB_SHPR3 |= (uint32_t)configKERNEL_INTERRUPT_PRIORITY << 24;
    SCB_SHPR2 = 0;

    tick_start();
    critical_nesting = 0;
#ifdef __ARM_FP
    fpu_start();
#endif
    port_start_first_task();
}

void SysTick_Handler(void)
{
    portDISABLE_INTERRUPTS();
    if (kernel_tick()) {
        SCB_ICSR = ICSR_PENDSVSET;
    }
    portENABLE_INTERRUPTS();
}

void vPortEnterCritical(void)
{
    portDISABLE_INTERRUPTS();
    critical_nesting++;

    /* Interrupts must use the FromISR forms, which do not nest. */
    if (critical_nesting == 1) {
        configASSERT((SCB_ICSR & 0xFFu) == 0);
    }
}

void vPortExitCritical(void)
{
    configASSERT(critical_nesting != 0);
    critical_nesting--;
    if (critical_nesting == 0) {
        portENABLE_INTERRUPTS();
    }
}

void vPortValidateInterruptPriority(void)
{
    uint32_t exc = cm_get_ipsr() & ICSR_VECTACTIVE_MASK;

    /* An interrupt the kernel cannot mask must not call the kernel. */
    if (exc >= EXC_FIRST_IRQ) {
        configASSERT(NVIC_IPR_BYTE(exc - EXC_FIRST_IRQ) >=
                     max_syscall_priority);
    }
    configASSERT(((SCB_AIRCR & AIRCR_PRIGROUP_MASK) >>
                  AIRCR_PRIGROUP_SHIFT) <= max_prigroup);
}
