/*
 * Software timers, run by one service task.
 *
 * Applications never touch the active list: they send commands through a
 * queue, and the service task, at configTIMER_TASK_PRIORITY, applies them
 * and runs the callbacks. The active list is ordered by expiry tick. A
 * start or reset counts its period from the tick at which it was issued,
 * not from when the service task gets to it.
 */
#include "kernel_internal.h"
#include "timers.h"

struct ktimer {
    const char *name;
    /* Place in the active list; the key is the next expiry tick. */
    struct knode node;
    TickType_t period;
    void *id;
    TimerCallbackFunction_t callback;
    uint8_t auto_reload;
    volatile uint8_t active;
    uint8_t dynamic;
};

_Static_assert(sizeof(StaticTimer_t) >= sizeof(struct ktimer),
               "StaticTimer_t is too small");

struct timer_command {
    BaseType_t code;
    struct ktimer *timer;
    TickType_t value;
};

static struct klist active_timers;
static QueueHandle_t command_queue;
static TaskHandle_t service_task;

static void service_init_once(void)
{
    static StaticQueue_t queue_buffer;
    static uint8_t storage[configTIMER_QUEUE_LENGTH *
                           sizeof(struct timer_command)];

    vTaskSuspendAll();
    if (command_queue == NULL) {
        klist_init(&active_timers);
        command_queue = xQueueCreateStatic(configTIMER_QUEUE_LENGTH,
                                           sizeof(struct timer_command),
                                           storage, &queue_buffer);
    }
    (void)xTaskResumeAll();
}

/* Expiry. */

static void expire(struct ktimer *t, TickType_t now)
{
    klist_remove(&t->node);
    if (t->auto_reload) {
        TickType_t due = t->node.key + t->period;

        /* Periods missed while the service task was held up still count. */
        while ((int32_t)(due - now) <= 0) {
            t->callback(t);
            due += t->period;
        }
        t->node.key = due;
        klist_insert_ordered(&active_timers, &t->node, now);
    } else {
        t->active = 0;
    }
    t->callback(t);
}

static void arm(struct ktimer *t, TickType_t due, TickType_t now)
{
    t->node.key = due;
    t->active = 1;
    if ((int32_t)(due - now) <= 0) {
        expire(t, now);
        return;
    }
    klist_insert_ordered(&active_timers, &t->node, now);
}

static void run_command(const struct timer_command *cmd)
{
    struct ktimer *t = cmd->timer;
    TickType_t now = xTaskGetTickCount();

    klist_remove(&t->node);
    switch (cmd->code) {
    case tmrCOMMAND_START:
    case tmrCOMMAND_RESET:
        arm(t, cmd->value + t->period, now);
        break;
    case tmrCOMMAND_CHANGE_PERIOD:
        configASSERT(cmd->value > 0);
        t->period = cmd->value;
        arm(t, now + t->period, now);
        break;
    case tmrCOMMAND_STOP:
        t->active = 0;
        break;
    case tmrCOMMAND_DELETE:
        t->active = 0;
        if (t->dynamic) {
            vPortFree(t);
        }
        break;
    default:
        configASSERT(cmd->code <= tmrCOMMAND_DELETE);
        break;
    }
}

static void timer_service(void *param)
{
    (void)param;
    for (;;) {
        TickType_t now = xTaskGetTickCount();
        struct ktimer *next = klist_head(&active_timers);
        TickType_t wait = portMAX_DELAY;
        struct timer_command cmd;

        if (next != NULL) {
            if ((int32_t)(next->node.key - now) <= 0) {
                expire(next, now);
                continue;
            }
            wait = next->node.key - now;
        }

        /* Sleep until a command arrives or the next timer is due. */
        if (queue_receive_since(command_queue, &cmd, now, wait) == pdPASS) {
            run_command(&cmd);
        }
    }
}

void timers_start_service(void)
{
    BaseType_t ok;

    service_init_once();
    ok = xTaskCreate(timer_service, "Tmr Svc", configTIMER_TASK_STACK_DEPTH,
                     NULL, configTIMER_TASK_PRIORITY, &service_task);
    configASSERT(ok == pdPASS);
}

/* Creation and commands. */

static void timer_setup(struct ktimer *t, const char *name, TickType_t period,
                        BaseType_t auto_reload, void *id,
                        TimerCallbackFunction_t callback)
{
    configASSERT(period > 0 && callback != NULL);
    service_init_once();
    t->name = name;
    knode_init(&t->node, t);
    t->period = period;
    t->id = id;
    t->callback = callback;
    t->auto_reload = auto_reload != pdFALSE;
    t->active = 0;
    t->dynamic = 0;
}

TimerHandle_t xTimerCreate(const char *name, TickType_t period,
                           BaseType_t auto_reload, void *id,
                           TimerCallbackFunction_t callback)
{
    struct ktimer *t = pvPortMalloc(sizeof(*t));

    if (t != NULL) {
        timer_setup(t, name, period, auto_reload, id, callback);
        t->dynamic = 1;
    }
    return t;
}

TimerHandle_t xTimerCreateStatic(const char *name, TickType_t period,
                                 BaseType_t auto_reload, void *id,
                                 TimerCallbackFunction_t callback,
                                 StaticTimer_t *buffer)
{
    struct ktimer *t = (struct ktimer *)buffer;

    configASSERT(t != NULL);
    timer_setup(t, name, period, auto_reload, id, callback);
    return t;
}

BaseType_t xTimerGenericCommand(TimerHandle_t timer, BaseType_t command,
                                TickType_t value, BaseType_t *woken,
                                TickType_t ticks)
{
    struct timer_command cmd = { command, timer, value };

    configASSERT(timer != NULL);
    if (woken != NULL) {
        return xTimerGenericCommandFromISR(timer, command, value, woken);
    }

    /* Nobody can make room while the scheduler is not running. */
    if (xTaskGetSchedulerState() != taskSCHEDULER_RUNNING) {
        ticks = 0;
    }
    return xQueueSendToBack(command_queue, &cmd, ticks);
}

BaseType_t xTimerGenericCommandFromISR(TimerHandle_t timer,
                                       BaseType_t command, TickType_t value,
                                       BaseType_t *woken)
{
    struct timer_command cmd = { command, timer, value };

    configASSERT(timer != NULL);
    return xQueueSendToBackFromISR(command_queue, &cmd, woken);
}

/* Information. */

void *pvTimerGetTimerID(TimerHandle_t timer)
{
    return timer->id;
}

void vTimerSetTimerID(TimerHandle_t timer, void *id)
{
    timer->id = id;
}

const char *pcTimerGetName(TimerHandle_t timer)
{
    return timer->name;
}

TickType_t xTimerGetPeriod(TimerHandle_t timer)
{
    return timer->period;
}

TickType_t xTimerGetExpiryTime(TimerHandle_t timer)
{
    return timer->node.key;
}

BaseType_t xTimerIsTimerActive(TimerHandle_t timer)
{
    return timer->active ? pdTRUE : pdFALSE;
}

void vTimerSetReloadMode(TimerHandle_t timer, BaseType_t auto_reload)
{
    timer->auto_reload = auto_reload != pdFALSE;
}

TaskHandle_t xTimerGetTimerDaemonTaskHandle(void)
{
    return service_task;
}
