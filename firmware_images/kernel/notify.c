/*
 * Task notifications: a 32-bit value and a pending flag in every task,
 * which other tasks and interrupts update without any queue object.
 */
#include "kernel_internal.h"

/* Applies the action; returns pdFAIL if it must not overwrite. */
static BaseType_t notify_apply(struct tcb *t, uint32_t value,
                               eNotifyAction action)
{
    switch (action) {
    case eSetBits:
        t->notify_value |= value;
        break;
    case eIncrement:
        t->notify_value++;
        break;
    case eSetValueWithOverwrite:
        t->notify_value = value;
        break;
    case eSetValueWithoutOverwrite:
        if (t->notify_state == NOTIFY_PENDING) {
            return pdFAIL;
        }
        t->notify_value = value;
        break;
    case eNoAction:
    default:
        break;
    }
    return pdPASS;
}

/* Updates the slot and wakes a waiting task; pdTRUE means preempt. */
static BaseType_t notify_locked(struct tcb *t, uint32_t value,
                                eNotifyAction action, BaseType_t *ok)
{
    uint8_t before = t->notify_state;

    *ok = notify_apply(t, value, action);
    if (*ok != pdPASS) {
        return pdFALSE;
    }
    t->notify_state = NOTIFY_PENDING;
    if (before != NOTIFY_WAITING) {
        return pdFALSE;
    }
    return task_unblock(t);
}

BaseType_t xTaskNotify(TaskHandle_t task, uint32_t value,
                       eNotifyAction action)
{
    BaseType_t ok;

    configASSERT(task != NULL);
    taskENTER_CRITICAL();
    if (notify_locked(task, value, action, &ok)) {
        portYIELD_WITHIN_API();
    }
    taskEXIT_CRITICAL();
    return ok;
}

BaseType_t xTaskNotifyFromISR(TaskHandle_t task, uint32_t value,
                              eNotifyAction action, BaseType_t *woken)
{
    BaseType_t ok;
    UBaseType_t mask;

    configASSERT(task != NULL);
    portASSERT_IF_INTERRUPT_PRIORITY_INVALID();
    mask = portSET_INTERRUPT_MASK_FROM_ISR();
    if (notify_locked(task, value, action, &ok) && woken != NULL) {
        *woken = pdTRUE;
    }
    portCLEAR_INTERRUPT_MASK_FROM_ISR(mask);
    return ok;
}

void vTaskNotifyGiveFromISR(TaskHandle_t task, BaseType_t *woken)
{
    (void)xTaskNotifyFromISR(task, 0, eIncrement, woken);
}

/* Blocks the caller until notified or `ticks` pass, unless ready is set. */
static void wait_for_notification(BaseType_t ready, TickType_t ticks)
{
    struct tcb *cur = kernel_current_tcb;

    if (ready) {
        return;
    }
    cur->notify_state = NOTIFY_WAITING;
    if (ticks > 0) {
        task_block_current(ticks);
        portYIELD_WITHIN_API();
    }
}

BaseType_t xTaskNotifyWait(uint32_t clear_on_entry, uint32_t clear_on_exit,
                           uint32_t *value, TickType_t ticks)
{
    struct tcb *cur = kernel_current_tcb;
    BaseType_t received;

    taskENTER_CRITICAL();
    if (cur->notify_state != NOTIFY_PENDING) {
        cur->notify_value &= ~clear_on_entry;
    }
    wait_for_notification(cur->notify_state == NOTIFY_PENDING, ticks);
    taskEXIT_CRITICAL();

    /* Here the switch has happened and we have been woken again. */
    taskENTER_CRITICAL();
    if (value != NULL) {
        *value = cur->notify_value;
    }
    received = cur->notify_state == NOTIFY_PENDING;
    if (received) {
        cur->notify_value &= ~clear_on_exit;
    }
    cur->notify_state = NOTIFY_IDLE;
    taskEXIT_CRITICAL();
    return received;
}

uint32_t ulTaskNotifyTake(BaseType_t clear_on_exit, TickType_t ticks)
{
    struct tcb *cur = kernel_current_tcb;
    uint32_t count;

    taskENTER_CRITICAL();
    wait_for_notification(cur->notify_value != 0, ticks);
    taskEXIT_CRITICAL();

    taskENTER_CRITICAL();
    count = cur->notify_value;
    if (count != 0) {
        cur->notify_value = clear_on_exit ? 0 : count - 1u;
    }
    cur->notify_state = NOTIFY_IDLE;
    taskEXIT_CRITICAL();
    return count;
}

BaseType_t xTaskNotifyStateClear(TaskHandle_t task)
{
    struct tcb *t = task != NULL ? task : kernel_current_tcb;
    BaseType_t was_pending;

    taskENTER_CRITICAL();
    was_pending = t->notify_state == NOTIFY_PENDING;
    if (was_pending) {
        t->notify_state = NOTIFY_IDLE;
    }
    taskEXIT_CRITICAL();
    return was_pending;
}
