/*
 * Our own small kernel with the FreeRTOS application interface: the subset
 * that an OTA agent and our test images need. Include this header first,
 * then task.h, queue.h, semphr.h or timers.h.
 */
#ifndef FREERTOS_H
#define FREERTOS_H

#include <stddef.h>
#include <stdint.h>

#include "FreeRTOSConfig.h"

/* Options an image configuration may leave out. */
#ifndef configUSE_TIME_SLICING
#define configUSE_TIME_SLICING 1
#endif
#ifndef configIDLE_SHOULD_YIELD
#define configIDLE_SHOULD_YIELD 1
#endif
#ifndef configUSE_IDLE_WFI
#define configUSE_IDLE_WFI 0
#endif
#ifndef configUSE_IDLE_HOOK
#define configUSE_IDLE_HOOK 0
#endif
#ifndef configUSE_TICK_HOOK
#define configUSE_TICK_HOOK 0
#endif
#ifndef configCHECK_FOR_STACK_OVERFLOW
#define configCHECK_FOR_STACK_OVERFLOW 0
#endif
#ifndef configUSE_MALLOC_FAILED_HOOK
#define configUSE_MALLOC_FAILED_HOOK 0
#endif
#ifndef configUSE_MUTEXES
#define configUSE_MUTEXES 1
#endif
#ifndef configUSE_RECURSIVE_MUTEXES
#define configUSE_RECURSIVE_MUTEXES 1
#endif
#ifndef configUSE_COUNTING_SEMAPHORES
#define configUSE_COUNTING_SEMAPHORES 1
#endif
#ifndef configUSE_TIMERS
#define configUSE_TIMERS 0
#endif
#ifndef configMAX_TASK_NAME_LEN
#define configMAX_TASK_NAME_LEN 12
#endif
#ifndef configASSERT
#define configASSERT(x) ((void)0)
#else
#define configASSERT_DEFINED 1
#endif

#if configMAX_PRIORITIES > 32
#error "the ready bitmap holds at most 32 priorities"
#endif
#if !defined(configMAX_SYSCALL_INTERRUPT_PRIORITY) || \
    configMAX_SYSCALL_INTERRUPT_PRIORITY == 0
#error "configMAX_SYSCALL_INTERRUPT_PRIORITY must be set and non-zero"
#endif

#include "port.h"

#define pdFALSE ((BaseType_t)0)
#define pdTRUE ((BaseType_t)1)
#define pdFAIL pdFALSE
#define pdPASS pdTRUE
#define errQUEUE_EMPTY ((BaseType_t)0)
#define errQUEUE_FULL ((BaseType_t)0)
#define errCOULD_NOT_ALLOCATE_REQUIRED_MEMORY ((BaseType_t)-1)

#define pdMS_TO_TICKS(ms) \
    ((TickType_t)(((uint64_t)(ms) * configTICK_RATE_HZ) / 1000u))

/*
 * Storage for objects created with the ...Static functions. The sizes are
 * checked against the real structures where those are defined.
 */
typedef struct {
    uint64_t opaque[12];
} StaticTask_t;

typedef struct {
    uint64_t opaque[12];
} StaticQueue_t;

typedef StaticQueue_t StaticSemaphore_t;

typedef struct {
    uint64_t opaque[6];
} StaticTimer_t;

/* The heap: first fit over a static array of configTOTAL_HEAP_SIZE bytes. */
void *pvPortMalloc(size_t size);
void vPortFree(void *block);
size_t xPortGetFreeHeapSize(void);
size_t xPortGetMinimumEverFreeHeapSize(void);

#endif
