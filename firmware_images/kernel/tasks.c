/*
 * Tasks and the scheduler.
 *
 * Ready tasks sit in one FIFO list per priority; a bitmap with one bit per
 * non-empty list lets the scheduler find the highest priority with a single
 * CLZ. The running task stays at the front of its list: a yield or the end
 * of a time slice moves it behind its equals, preemption by a higher
 * priority does not. Delayed tasks sit in one list ordered by wake-up tick.
 *
 * Every list is changed only inside a critical section (or from the tick
 * interrupt, which raises BASEPRI), so interrupts may wake tasks directly,
 * even while the scheduler is suspended. Suspending the scheduler only
 * holds back context switches and tick processing; both are caught up in
 * xTaskResumeAll().
 */
#include <string.h>

#include "kernel_internal.h"

/* Fresh stacks are filled with this word to measure their use. */
#define STACK_FILL 0xA5A5A5A5u

_Static_assert(sizeof(StaticTask_t) >= sizeof(struct tcb),
               "StaticTask_t is too small");

struct tcb *volatile kernel_current_tcb;

static struct klist ready_lists[configMAX_PRIORITIES];
static uint32_t ready_bits;
static struct klist delayed;
static struct klist suspended;
static struct klist deleted;
static int lists_ready;

static volatile TickType_t tick_count;
static volatile UBaseType_t pended_ticks;
static volatile UBaseType_t suspend_depth;
static volatile BaseType_t yield_pending;
static volatile BaseType_t scheduler_started;
static volatile UBaseType_t task_count;

static void lists_init_once(void)
{
    if (lists_ready) {
        return;
    }
    for (unsigned i = 0; i < configMAX_PRIORITIES; i++) {
        klist_init(&ready_lists[i]);
    }
    klist_init(&delayed);
    klist_init(&suspended);
    klist_init(&deleted);
    lists_ready = 1;
}

static void ready_insert(struct tcb *t, int at_front)
{
    struct klist *l = &ready_lists[t->priority];

    if (at_front) {
        klist_prepend(l, &t->state_node);
    } else {
        klist_append(l, &t->state_node);
    }
    ready_bits |= 1u << t->priority;
}

static int is_ready(const struct tcb *t)
{
    return t->state_node.list == &ready_lists[t->priority];
}

/* Takes t off its ready, delayed or suspended list. */
static void state_detach(struct tcb *t)
{
    struct klist *l = t->state_node.list;

    klist_remove(&t->state_node);
    if (l == &ready_lists[t->priority] && klist_empty(l)) {
        ready_bits &= ~(1u << t->priority);
    }
}

static UBaseType_t top_ready_priority(void)
{
    configASSERT(ready_bits != 0);
    return 31u - (UBaseType_t)__builtin_clz(ready_bits);
}

static BaseType_t preempts(const struct tcb *t)
{
    struct tcb *cur = kernel_current_tcb;

    return cur != NULL && t->priority > cur->priority;
}

/* Waiter lists are ordered by this key: the highest priority first. */
static TickType_t event_key(UBaseType_t priority)
{
    return (TickType_t)(configMAX_PRIORITIES - 1u - priority);
}

/* Blocking and waking, shared with queues and notifications. */

void task_block_current(TickType_t ticks)
{
    struct tcb *cur = kernel_current_tcb;

    configASSERT(suspend_depth == 0);
    state_detach(cur);
    if (ticks == portMAX_DELAY) {
        return;
    }
    cur->state_node.key = tick_count + ticks;
    klist_insert_ordered(&delayed, &cur->state_node, tick_count);
}

void task_block_on(struct klist *waiters, TickType_t ticks)
{
    struct tcb *cur = kernel_current_tcb;

    cur->event_node.key = event_key(cur->priority);
    klist_insert_ordered(waiters, &cur->event_node, 0);
    task_block_current(ticks);
}

BaseType_t task_unblock(struct tcb *t)
{
    if (is_ready(t)) {
        return pdFALSE;
    }
    klist_remove(&t->event_node);
    state_detach(t);
    ready_insert(t, 0);
    if (!preempts(t)) {
        return pdFALSE;
    }
    /* Remembered for interrupts that do not ask for the switch. */
    yield_pending = pdTRUE;
    return pdTRUE;
}

BaseType_t task_wake_first(struct klist *waiters)
{
    if (klist_empty(waiters)) {
        return pdFALSE;
    }
    return task_unblock(klist_head(waiters));
}

void timeout_begin(struct ktimeout *t, TickType_t ticks)
{
    t->start = tick_count;
    t->ticks = ticks;
}

BaseType_t timeout_expired(const struct ktimeout *t, TickType_t *left)
{
    TickType_t spent = tick_count - t->start;

    if (t->ticks == portMAX_DELAY) {
        *left = portMAX_DELAY;
        return pdFALSE;
    }
    if (spent >= t->ticks) {
        *left = 0;
        return pdTRUE;
    }
    *left = t->ticks - spent;
    return pdFALSE;
}

/* Priority changes (policy in priority.c). */

void task_change_priority(struct tcb *t, UBaseType_t priority)
{
    struct klist *waiters = t->event_node.list;

    if (is_ready(t)) {
        state_detach(t);
        t->priority = priority;
        ready_insert(t, t == kernel_current_tcb);
    } else {
        t->priority = priority;
    }
    if (waiters != NULL) {
        klist_remove(&t->event_node);
        t->event_node.key = event_key(priority);
        klist_insert_ordered(waiters, &t->event_node, 0);
    }
}

int task_is_ready(const struct tcb *t)
{
    return is_ready(t);
}

UBaseType_t task_top_ready_priority(void)
{
    return top_ready_priority();
}

/* Creation and deletion. */

static void tcb_setup(struct tcb *t, const char *name, UBaseType_t priority,
                      StackType_t *stack, uint32_t words)
{
    configASSERT(priority < configMAX_PRIORITIES);
    memset(t, 0, sizeof(*t));
    knode_init(&t->state_node, t);
    knode_init(&t->event_node, t);
    t->priority = priority;
    t->base_priority = priority;
    t->stack_low = stack;
    t->stack_words = words;
    if (name != NULL) {
        strncpy(t->name, name, sizeof(t->name) - 1u);
    }
    for (uint32_t i = 0; i < words; i++) {
        stack[i] = STACK_FILL;
    }
}

static void task_start(struct tcb *t, TaskFunction_t code, void *param)
{
    uintptr_t top = (uintptr_t)(t->stack_low + t->stack_words);

    /* The exception frame needs an 8-byte aligned stack. */
    top &= ~(uintptr_t)(portBYTE_ALIGNMENT - 1);
    t->sp = port_init_stack((StackType_t *)top, code, param);

    taskENTER_CRITICAL();
    lists_init_once();
    task_count++;
    ready_insert(t, 0);
    if (scheduler_started && preempts(t)) {
        portYIELD_WITHIN_API();
    }
    taskEXIT_CRITICAL();
}

static void tcb_release(struct tcb *t)
{
    if (t->dynamic) {
        vPortFree(t->stack_low);
        vPortFree(t);
    }
}

BaseType_t xTaskCreate(TaskFunction_t code, const char *name,
                       uint32_t stack_depth, void *param,
                       UBaseType_t priority, TaskHandle_t *created)
{
    StackType_t *stack = pvPortMalloc(stack_depth * sizeof(StackType_t));
    struct tcb *t = stack != NULL ? pvPortMalloc(sizeof(*t)) : NULL;

    if (t == NULL) {
        vPortFree(stack);
        return errCOULD_NOT_ALLOCATE_REQUIRED_MEMORY;
    }
    tcb_setup(t, name, priority, stack, stack_depth);
    t->dynamic = 1;

    /* The new task may run before we return: give out its handle first. */
    if (created != NULL) {
        *created = t;
    }
    task_start(t, code, param);
    return pdPASS;
}

TaskHandle_t xTaskCreateStatic(TaskFunction_t code, const char *name,
                               uint32_t stack_depth, void *param,
                               UBaseType_t priority, StackType_t *stack,
                               StaticTask_t *tcb_buffer)
{
    struct tcb *t = (struct tcb *)tcb_buffer;

    configASSERT(stack != NULL && tcb_buffer != NULL);
    tcb_setup(t, name, priority, stack, stack_depth);
    task_start(t, code, param);
    return t;
}

void vTaskDelete(TaskHandle_t task)
{
    struct tcb *t;
    BaseType_t self;

    taskENTER_CRITICAL();
    t = task != NULL ? task : kernel_current_tcb;
    configASSERT(t != NULL);
    state_detach(t);
    klist_remove(&t->event_node);
    task_count--;
    self = t == kernel_current_tcb;

    /* A task cannot free the stack it runs on: the idle task will. */
    if (self) {
        configASSERT(suspend_depth == 0);
        klist_append(&deleted, &t->state_node);
        portYIELD_WITHIN_API();
    }
    taskEXIT_CRITICAL();
    if (!self) {
        tcb_release(t);
    }
}

/* Delays and suspension. */

void vTaskDelay(TickType_t ticks)
{
    if (ticks == 0) {
        taskYIELD();
        return;
    }
    taskENTER_CRITICAL();
    task_block_current(ticks);
    portYIELD_WITHIN_API();
    taskEXIT_CRITICAL();
}

BaseType_t xTaskDelayUntil(TickType_t *previous_wake, TickType_t period)
{
    BaseType_t should_wait;

    configASSERT(previous_wake != NULL && period > 0);
    taskENTER_CRITICAL();
    {
        TickType_t now = tick_count;
        TickType_t wake = *previous_wake + period;

        /* Still ahead unless a whole period has passed since the last. */
        should_wait = (TickType_t)(now - *previous_wake) < period;
        *previous_wake = wake;
        if (should_wait) {
            task_block_current(wake - now);
            portYIELD_WITHIN_API();
        }
    }
    taskEXIT_CRITICAL();
    return should_wait;
}

void vTaskSuspend(TaskHandle_t task)
{
    struct tcb *t;

    taskENTER_CRITICAL();
    t = task != NULL ? task : kernel_current_tcb;
    state_detach(t);
    klist_remove(&t->event_node);
    klist_append(&suspended, &t->state_node);
    if (t->notify_state == NOTIFY_WAITING) {
        t->notify_state = NOTIFY_IDLE;
    }
    if (t == kernel_current_tcb) {
        configASSERT(suspend_depth == 0);
        portYIELD_WITHIN_API();
    }
    taskEXIT_CRITICAL();
}

void vTaskResume(TaskHandle_t task)
{
    configASSERT(task != NULL);
    taskENTER_CRITICAL();
    if (task->state_node.list == &suspended) {
        klist_remove(&task->state_node);
        ready_insert(task, 0);
        if (preempts(task)) {
            portYIELD_WITHIN_API();
        }
    }
    taskEXIT_CRITICAL();
}

void vTaskSuspendAll(void)
{
    suspend_depth++;
    __asm__ volatile("" ::: "memory");
}

BaseType_t xTaskResumeAll(void)
{
    BaseType_t yielded = pdFALSE;

    taskENTER_CRITICAL();
    configASSERT(suspend_depth > 0);
    suspend_depth--;
    if (suspend_depth == 0 && scheduler_started) {
        /* Replay the ticks that arrived while suspended. */
        while (pended_ticks > 0) {
            if (kernel_tick()) {
                yield_pending = pdTRUE;
            }
            pended_ticks--;
        }
        if (yield_pending) {
            yielded = pdTRUE;
            portYIELD_WITHIN_API();
        }
    }
    taskEXIT_CRITICAL();
    return yielded;
}

/* The idle task and the scheduler. */

static void reap_deleted(void)
{
    for (;;) {
        struct tcb *t;

        taskENTER_CRITICAL();
        t = klist_head(&deleted);
        if (t != NULL) {
            klist_remove(&t->state_node);
        }
        taskEXIT_CRITICAL();
        if (t == NULL) {
            return;
        }
        tcb_release(t);
    }
}

static void idle_task(void *param)
{
    (void)param;
    for (;;) {
        reap_deleted();
#if configIDLE_SHOULD_YIELD
        if (ready_lists[tskIDLE_PRIORITY].count > 1) {
            taskYIELD();
        }
#endif
#if configUSE_IDLE_HOOK
        vApplicationIdleHook();
#endif
#if configUSE_IDLE_WFI
        /* Sleep until the next interrupt when nothing else can run. */
        if (ready_lists[tskIDLE_PRIORITY].count == 1) {
            __asm__ volatile("wfi" ::: "memory");
        }
#endif
    }
}

void vTaskStartScheduler(void)
{
    BaseType_t ok = xTaskCreate(idle_task, "IDLE", configMINIMAL_STACK_SIZE,
                                NULL, tskIDLE_PRIORITY, NULL);

    configASSERT(ok == pdPASS);
#if configUSE_TIMERS
    timers_start_service();
#endif
    portDISABLE_INTERRUPTS();
    tick_count = 0;
    kernel_current_tcb = klist_head(&ready_lists[top_ready_priority()]);
    scheduler_started = pdTRUE;
    port_start_scheduler();
}

#if configCHECK_FOR_STACK_OVERFLOW
static void check_stack(struct tcb *t)
{
    const StackType_t *low = t->stack_low;

    /* The saved context went below the stack, or wrote its last words. */
    if (t->sp < low || low[0] != STACK_FILL || low[1] != STACK_FILL) {
        vApplicationStackOverflowHook(t, t->name);
    }
}
#endif

void kernel_switch_context(void)
{
    struct tcb *cur = kernel_current_tcb;
    struct klist *l;

    if (suspend_depth != 0) {
        yield_pending = pdTRUE;
        return;
    }
    yield_pending = pdFALSE;
#if configCHECK_FOR_STACK_OVERFLOW
    check_stack(cur);
#endif
    l = &ready_lists[top_ready_priority()];

    /* Still ready at the top priority: a yield or an expired time slice. */
    if (cur->state_node.list == l && l->count > 1) {
        klist_remove(&cur->state_node);
        klist_append(l, &cur->state_node);
    }
    kernel_current_tcb = klist_head(l);
}

BaseType_t kernel_tick(void)
{
    BaseType_t switch_needed = pdFALSE;
    TickType_t now;

    if (suspend_depth != 0) {
        pended_ticks++;
        return pdFALSE;
    }
    now = ++tick_count;
    while (!klist_empty(&delayed)) {
        struct tcb *t = klist_head(&delayed);

        if ((int32_t)(t->state_node.key - now) > 0) {
            break;
        }
        if (task_unblock(t)) {
            switch_needed = pdTRUE;
        }
    }
#if configUSE_TIME_SLICING
    if (ready_lists[kernel_current_tcb->priority].count > 1) {
        switch_needed = pdTRUE;
    }
#endif
#if configUSE_TICK_HOOK
    vApplicationTickHook();
#endif
    return switch_needed || yield_pending;
}

/* Information. */

BaseType_t xTaskGetSchedulerState(void)
{
    if (!scheduler_started) {
        return taskSCHEDULER_NOT_STARTED;
    }
    return suspend_depth == 0 ? taskSCHEDULER_RUNNING
                              : taskSCHEDULER_SUSPENDED;
}

TickType_t xTaskGetTickCount(void)
{
    return tick_count;
}

TickType_t xTaskGetTickCountFromISR(void)
{
    portASSERT_IF_INTERRUPT_PRIORITY_INVALID();
    return tick_count;
}

TaskHandle_t xTaskGetCurrentTaskHandle(void)
{
    return kernel_current_tcb;
}

char *pcTaskGetName(TaskHandle_t task)
{
    return (task != NULL ? task : kernel_current_tcb)->name;
}

UBaseType_t uxTaskGetNumberOfTasks(void)
{
    return task_count;
}

UBaseType_t uxTaskGetStackHighWaterMark(TaskHandle_t task)
{
    const struct tcb *t = task != NULL ? task : kernel_current_tcb;
    UBaseType_t unused = 0;

    while (unused < t->stack_words && t->stack_low[unused] == STACK_FILL) {
        unused++;
    }
    return unused;
}
