/*
 * Kernel configuration shared by every RTOS image.
 *
 * An image may carry its own FreeRTOSConfig.h in its folder; the Makefile
 * puts that folder first on the include path. This file is also read by
 * the port's assembly source, so everything outside the C-only block must
 * stay a plain number.
 */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#define configCPU_CLOCK_HZ 25000000
#define configTICK_RATE_HZ 1000

#define configMAX_PRIORITIES 8
#define configMINIMAL_STACK_SIZE 256
#define configMAX_TASK_NAME_LEN 12
#define configTOTAL_HEAP_SIZE (64 * 1024)

/*
 * Interrupt priorities as the NVIC sees them (8-bit values; the board keeps
 * the top 3 bits, QEMU 7.2 keeps all 8). The kernel's own exceptions run
 * at the lowest priority. Interrupts at 0xA0 or numerically higher may call
 * FromISR functions; 0x00-0x80 are never masked by the kernel. The number
 * of implemented bits is probed at start-up, not configured.
 */
#define configKERNEL_INTERRUPT_PRIORITY 0xFF
#define configMAX_SYSCALL_INTERRUPT_PRIORITY (5 << 5)

#define configUSE_TIME_SLICING 1
#define configIDLE_SHOULD_YIELD 1
#define configUSE_IDLE_WFI 1
#define configCHECK_FOR_STACK_OVERFLOW 1
#define configUSE_MALLOC_FAILED_HOOK 0

#define configUSE_MUTEXES 1
#define configUSE_RECURSIVE_MUTEXES 1
#define configUSE_COUNTING_SEMAPHORES 1

#define configUSE_TIMERS 1
#define configTIMER_TASK_PRIORITY (configMAX_PRIORITIES - 1)
#define configTIMER_QUEUE_LENGTH 10
#define configTIMER_TASK_STACK_DEPTH 512

#ifndef __ASSEMBLER__
void vAssertCalled(const char *file, int line) __attribute__((noreturn));
#define configASSERT(x)                          \
    do {                                         \
        if (!(x)) {                              \
            vAssertCalled(__FILE__, __LINE__);   \
        }                                        \
    } while (0)
#endif

#endif
