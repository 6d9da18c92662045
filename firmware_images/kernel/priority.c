/*
 * Task priorities: changes by the application and the loans that mutexes
 * make (priority inheritance).
 *
 * A task that blocks on a mutex lends its priority to the holder if the
 * holder's is lower. The holder keeps the loan until it has given back
 * every mutex it holds; if the lender stops waiting first (timeout), the
 * holder falls back to the highest priority still waiting, or its own.
 */
#include "kernel_internal.h"

void task_mutex_taken(void)
{
    kernel_current_tcb->mutexes_held++;
}

void task_inherit_priority(struct tcb *holder)
{
    UBaseType_t wanted = kernel_current_tcb->priority;

    if (holder->priority < wanted) {
        task_change_priority(holder, wanted);
    }
}

BaseType_t task_mutex_given(void)
{
    struct tcb *cur = kernel_current_tcb;

    configASSERT(cur->mutexes_held > 0);
    cur->mutexes_held--;
    if (cur->mutexes_held != 0 || cur->priority == cur->base_priority) {
        return pdFALSE;
    }
    task_change_priority(cur, cur->base_priority);
    return pdTRUE;
}

void task_disinherit_after_timeout(struct tcb *holder,
                                   UBaseType_t highest_waiter)
{
    UBaseType_t target = holder->base_priority;

    if (highest_waiter > target) {
        target = highest_waiter;
    }
    /* With other mutexes held, other waiters may still need the boost. */
    if (holder->mutexes_held == 1 && holder->priority != target) {
        task_change_priority(holder, target);
    }
}

UBaseType_t uxTaskPriorityGet(TaskHandle_t task)
{
    UBaseType_t p;

    taskENTER_CRITICAL();
    p = (task != NULL ? task : kernel_current_tcb)->priority;
    taskEXIT_CRITICAL();
    return p;
}

/* Whether t's new priority means another task should run now. */
static int change_needs_switch(const struct tcb *t)
{
    const struct tcb *cur = kernel_current_tcb;

    if (xTaskGetSchedulerState() == taskSCHEDULER_NOT_STARTED) {
        return 0;
    }
    if (t == cur) {
        return task_top_ready_priority() > t->priority;
    }
    return task_is_ready(t) && t->priority > cur->priority;
}

void vTaskPrioritySet(TaskHandle_t task, UBaseType_t priority)
{
    struct tcb *t;
    BaseType_t boosted;

    configASSERT(priority < configMAX_PRIORITIES);
    taskENTER_CRITICAL();
    t = task != NULL ? task : kernel_current_tcb;
    boosted = t->priority != t->base_priority;
    t->base_priority = priority;

    /* An inherited priority stays until the mutex is given back. */
    if (!boosted || priority > t->priority) {
        task_change_priority(t, priority);
    }
    if (change_needs_switch(t)) {
        portYIELD_WITHIN_API();
    }
    taskEXIT_CRITICAL();
}
