/*
 * The port layer for Cortex-M3 and Cortex-M4F (ARMv7-M).
 *
 * Critical sections mask by BASEPRI, never by PRIMASK, so interrupts
 * numerically below configMAX_SYSCALL_INTERRUPT_PRIORITY keep running.
 * A yield pends PendSV; the switch itself happens in PendSV_Handler
 * (kernel/port_switch.S) once no other exception is active.
 */
#ifndef PORT_H
#define PORT_H

#include <stdint.h>

#include "cortex_m.h"

typedef uint32_t StackType_t;
typedef long BaseType_t;
typedef unsigned long UBaseType_t;
typedef uint32_t TickType_t;

#define portMAX_DELAY ((TickType_t)0xFFFFFFFFu)
#define portBYTE_ALIGNMENT 8
#define portSTACK_GROWTH (-1)
#define portTICK_PERIOD_MS ((TickType_t)(1000 / configTICK_RATE_HZ))

void vPortEnterCritical(void);
void vPortExitCritical(void);
void vPortValidateInterruptPriority(void);

/* Masks every interrupt that may call the kernel. */
static inline void port_raise_basepri(void)
{
    cm_set_basepri(configMAX_SYSCALL_INTERRUPT_PRIORITY);
}

/* The same from an interrupt: returns the mask to put back afterwards. */
static inline UBaseType_t port_raise_basepri_from_isr(void)
{
    UBaseType_t old = cm_get_basepri();

    port_raise_basepri();
    return old;
}

/* Asks for a context switch: PendSV runs when nothing more urgent does. */
static inline void port_yield(void)
{
    SCB_ICSR = ICSR_PENDSVSET;
    cm_dsb();
    cm_isb();
}

#define portYIELD() port_yield()
#define portYIELD_WITHIN_API() port_yield()
#define portEND_SWITCHING_ISR(woken) \
    do {                             \
        if ((woken) != 0) {          \
            port_yield();            \
        }                            \
    } while (0)
#define portYIELD_FROM_ISR(woken) portEND_SWITCHING_ISR(woken)

#define portDISABLE_INTERRUPTS() port_raise_basepri()
#define portENABLE_INTERRUPTS() cm_set_basepri(0)
#define portENTER_CRITICAL() vPortEnterCritical()
#define portEXIT_CRITICAL() vPortExitCritical()
#define portSET_INTERRUPT_MASK_FROM_ISR() port_raise_basepri_from_isr()
#define portCLEAR_INTERRUPT_MASK_FROM_ISR(old) cm_set_basepri(old)
#define portASSERT_IF_INTERRUPT_PRIORITY_INVALID() \
    vPortValidateInterruptPriority()
#define portNOP() __asm__ volatile("nop")

/* Used by the kernel; not part of the application interface. */
StackType_t *port_init_stack(StackType_t *top, void (*entry)(void *),
                             void *param);
void port_start_scheduler(void) __attribute__((noreturn));

#endif
