/*
 * Context switch and first task start for the Cortex-M3 and Cortex-M4F.
 *
 * A task's saved context lives on its own stack (PSP): the hardware stacks
 * r0-r3, r12, lr, pc and xPSR (plus s0-s15 and FPSCR in an FP frame) on
 * exception entry, and PendSV_Handler adds r4-r11 below them. On the
 * Cortex-M4F it also saves the EXC_RETURN value, and s16-s31 whenever
 * EXC_RETURN bit 4 is clear (the task had live FP state), so task stacks
 * hold a mix of basic and FP frames. The first word of the task control
 * block holds the stack pointer after saving.
 */
#include "FreeRTOSConfig.h"

    .syntax unified
    .thumb
    .text

/*
 * Called once from thread mode on MSP with BASEPRI raised. The main stack
 * is reset to the initial value from the vector table: nothing that ran
 * before the scheduler is needed any more. SVCall has priority 0, so the
 * svc is taken at once despite BASEPRI.
 */
    .global port_start_first_task
    .type port_start_first_task, %function
    .thumb_func
port_start_first_task:
    ldr r0, =0xE000ED08
    ldr r0, [r0]
    ldr r0, [r0]
    msr msp, r0
#ifdef __ARM_FP
    /* Forget any FP use before this point (clears CONTROL.FPCA). */
    movs r0, #0
    msr control, r0
#endif
    cpsie i
    cpsie f
    dsb
    isb
    svc 0
    nop
    .ltorg
    .size port_start_first_task, . - port_start_first_task

/* Restores the first task's software-saved registers and enters it. */
    .global SVC_Handler
    .type SVC_Handler, %function
    .thumb_func
SVC_Handler:
    ldr r3, =kernel_current_tcb
    ldr r1, [r3]
    ldr r0, [r1]
#ifdef __ARM_FP
    ldmia r0!, {r4-r11, lr}
#else
    ldmia r0!, {r4-r11}
    /* Return to thread mode on the process stack. */
    mvn lr, #2
#endif
    msr psp, r0
    isb
    movs r0, #0
    msr basepri, r0
    bx lr
    .ltorg
    .size SVC_Handler, . - SVC_Handler

/*
 * Saves the running task, lets the scheduler pick the next one with
 * BASEPRI raised, and restores that one. PendSV has the lowest priority,
 * so it only runs when no other handler is active.
 */
    .global PendSV_Handler
    .type PendSV_Handler, %function
    .thumb_func
PendSV_Handler:
    mrs r0, psp
    isb
    ldr r3, =kernel_current_tcb
    ldr r2, [r3]
#ifdef __ARM_FP
    tst lr, #0x10
    it eq
    vstmdbeq r0!, {s16-s31}
    stmdb r0!, {r4-r11, lr}
#else
    stmdb r0!, {r4-r11}
#endif
    str r0, [r2]

    push {r3, lr}
    mov r0, #configMAX_SYSCALL_INTERRUPT_PRIORITY
    msr basepri, r0
    dsb
    isb
    bl kernel_switch_context
    movs r0, #0
    msr basepri, r0
    pop {r3, lr}

    ldr r1, [r3]
    ldr r0, [r1]
#ifdef __ARM_FP
    ldmia r0!, {r4-r11, lr}
    tst lr, #0x10
    it eq
    vldmiaeq r0!, {s16-s31}
#else
    ldmia r0!, {r4-r11}
#endif
    msr psp, r0
    isb
    bx lr
    .ltorg
    .size PendSV_Handler, . - PendSV_Handler
