/*
 * Tasks, the scheduler, the tick and task notifications.
 */
#ifndef TASK_H
#define TASK_H

#include "FreeRTOS.h"

struct tcb;
typedef struct tcb *TaskHandle_t;
typedef void (*TaskFunction_t)(void *);

#define tskIDLE_PRIORITY ((UBaseType_t)0)

#define taskSCHEDULER_SUSPENDED ((BaseType_t)0)
#define taskSCHEDULER_NOT_STARTED ((BaseType_t)1)
#define taskSCHEDULER_RUNNING ((BaseType_t)2)

typedef enum {
    eNoAction = 0,
    eSetBits,
    eIncrement,
    eSetValueWithOverwrite,
    eSetValueWithoutOverwrite,
} eNotifyAction;

#define taskYIELD() portYIELD()
#define taskENTER_CRITICAL() portENTER_CRITICAL()
#define taskEXIT_CRITICAL() portEXIT_CRITICAL()
#define taskENTER_CRITICAL_FROM_ISR() portSET_INTERRUPT_MASK_FROM_ISR()
#define taskEXIT_CRITICAL_FROM_ISR(old) portCLEAR_INTERRUPT_MASK_FROM_ISR(old)
#define taskDISABLE_INTERRUPTS() portDISABLE_INTERRUPTS()
#define taskENABLE_INTERRUPTS() portENABLE_INTERRUPTS()

/* Creation and deletion. Stack depths are in words. */
BaseType_t xTaskCreate(TaskFunction_t code, const char *name,
                       uint32_t stack_depth, void *param,
                       UBaseType_t priority, TaskHandle_t *created);
TaskHandle_t xTaskCreateStatic(TaskFunction_t code, const char *name,
                               uint32_t stack_depth, void *param,
                               UBaseType_t priority, StackType_t *stack,
                               StaticTask_t *tcb_buffer);
void vTaskDelete(TaskHandle_t task);

/* Delays. */
void vTaskDelay(TickType_t ticks);
BaseType_t xTaskDelayUntil(TickType_t *previous_wake, TickType_t period);
#define vTaskDelayUntil(prev, period) ((void)xTaskDelayUntil((prev), (period)))

/* Suspension of one task, or of the scheduler as a whole. */
void vTaskSuspend(TaskHandle_t task);
void vTaskResume(TaskHandle_t task);
void vTaskSuspendAll(void);
BaseType_t xTaskResumeAll(void);

void vTaskStartScheduler(void);
BaseType_t xTaskGetSchedulerState(void);
TickType_t xTaskGetTickCount(void);
TickType_t xTaskGetTickCountFromISR(void);

/* Information. */
TaskHandle_t xTaskGetCurrentTaskHandle(void);
char *pcTaskGetName(TaskHandle_t task);
UBaseType_t uxTaskPriorityGet(TaskHandle_t task);
void vTaskPrioritySet(TaskHandle_t task, UBaseType_t priority);
UBaseType_t uxTaskGetNumberOfTasks(void);
UBaseType_t uxTaskGetStackHighWaterMark(TaskHandle_t task);

/* Notifications: one 32-bit value and one pending flag per task. */
BaseType_t xTaskNotify(TaskHandle_t task, uint32_t value,
                       eNotifyAction action);
BaseType_t xTaskNotifyFromISR(TaskHandle_t task, uint32_t value,
                              eNotifyAction action, BaseType_t *woken);
BaseType_t xTaskNotifyWait(uint32_t clear_on_entry, uint32_t clear_on_exit,
                           uint32_t *value, TickType_t ticks);
BaseType_t xTaskNotifyStateClear(TaskHandle_t task);
#define xTaskNotifyGive(task) xTaskNotify((task), 0, eIncrement)
void vTaskNotifyGiveFromISR(TaskHandle_t task, BaseType_t *woken);
uint32_t ulTaskNotifyTake(BaseType_t clear_on_exit, TickType_t ticks);

/* Hooks an application may define; weak defaults live in the board code. */
void vApplicationIdleHook(void);
void vApplicationTickHook(void);
void vApplicationStackOverflowHook(TaskHandle_t task, char *name);
void vApplicationMallocFailedHook(void);

#endif
