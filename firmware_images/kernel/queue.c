/*
 * Queues, semaphores and mutexes.
 *
 * A queue is a ring of `length` slots of `item_size` bytes and two lists
 * of blocked tasks: those waiting for room and those waiting for an item.
 * An operation that cannot proceed puts the caller on one of the lists,
 * yields, and tries again when woken, until its timeout runs out. The whole
 * attempt, including the decision to block, happens in one critical
 * section, so no interrupt can slip an item in between.
 *
 * Semaphores are queues of items of size zero: only the count matters. A
 * mutex starts full; taking it records its holder, and a task that blocks
 * on a held mutex lends the holder its priority until the mutex is given.
 */
#include <string.h>

#include "kernel_internal.h"
#include "semphr.h"

struct kqueue {
    uint8_t *storage;
    UBaseType_t length;
    UBaseType_t item_size;
    volatile UBaseType_t count;
    /* The slot of the oldest item. */
    UBaseType_t head;
    struct klist senders;
    struct klist receivers;
    struct tcb *holder;
    UBaseType_t recursion;
    uint8_t type;
    uint8_t dynamic;
};

_Static_assert(sizeof(StaticQueue_t) >= sizeof(struct kqueue),
               "StaticQueue_t is too small");

static int is_mutex(const struct kqueue *q)
{
    return q->type == queueQUEUE_TYPE_MUTEX ||
           q->type == queueQUEUE_TYPE_RECURSIVE_MUTEX;
}

static void queue_init(struct kqueue *q, UBaseType_t length,
                       UBaseType_t item_size, uint8_t *storage, uint8_t type)
{
    configASSERT(length > 0);
    memset(q, 0, sizeof(*q));
    q->storage = storage;
    q->length = length;
    q->item_size = item_size;
    q->type = type;
    klist_init(&q->senders);
    klist_init(&q->receivers);
}

/* Creation and deletion. */

QueueHandle_t xQueueGenericCreate(UBaseType_t length, UBaseType_t item_size,
                                  uint8_t type)
{
    size_t bytes;
    struct kqueue *q;

    configASSERT(item_size == 0 || length <= SIZE_MAX / item_size);
    bytes = (size_t)length * item_size;
    q = pvPortMalloc(sizeof(*q) + bytes);
    if (q == NULL) {
        return NULL;
    }
    /* The slots follow the control block in the same allocation. */
    queue_init(q, length, item_size, bytes != 0 ? (uint8_t *)(q + 1) : NULL,
               type);
    q->dynamic = 1;
    return q;
}

QueueHandle_t xQueueGenericCreateStatic(UBaseType_t length,
                                        UBaseType_t item_size,
                                        uint8_t *storage,
                                        StaticQueue_t *queue_buffer,
                                        uint8_t type)
{
    struct kqueue *q = (struct kqueue *)queue_buffer;

    configASSERT(q != NULL);
    configASSERT((storage != NULL) == (item_size != 0));
    queue_init(q, length, item_size, storage, type);
    return q;
}

QueueHandle_t xQueueCreateMutex(uint8_t type)
{
    QueueHandle_t q = xQueueGenericCreate(1, 0, type);

    /* A mutex starts available. */
    if (q != NULL) {
        q->count = 1;
    }
    return q;
}

QueueHandle_t xQueueCreateMutexStatic(uint8_t type, StaticQueue_t *buffer)
{
    QueueHandle_t q = xQueueGenericCreateStatic(1, 0, NULL, buffer, type);

    q->count = 1;
    return q;
}

QueueHandle_t xQueueCreateCountingSemaphore(UBaseType_t max,
                                            UBaseType_t initial)
{
    QueueHandle_t q;

    configASSERT(initial <= max);
    q = xQueueGenericCreate(max, 0, queueQUEUE_TYPE_COUNTING_SEMAPHORE);
    if (q != NULL) {
        q->count = initial;
    }
    return q;
}

QueueHandle_t xQueueCreateCountingSemaphoreStatic(UBaseType_t max,
                                                  UBaseType_t initial,
                                                  StaticQueue_t *buffer)
{
    QueueHandle_t q;

    configASSERT(initial <= max);
    q = xQueueGenericCreateStatic(max, 0, NULL, buffer,
                                  queueQUEUE_TYPE_COUNTING_SEMAPHORE);
    q->count = initial;
    return q;
}

void vQueueDelete(QueueHandle_t q)
{
    configASSERT(q != NULL);
    configASSERT(klist_empty(&q->senders) && klist_empty(&q->receivers));
    if (q->dynamic) {
        vPortFree(q);
    }
}

BaseType_t xQueueReset(QueueHandle_t q)
{
    configASSERT(q != NULL);
    taskENTER_CRITICAL();
    q->count = 0;
    q->head = 0;
    if (task_wake_first(&q->senders)) {
        portYIELD_WITHIN_API();
    }
    taskEXIT_CRITICAL();
    return pdPASS;
}

/* Moving items. */

static void copy_in(struct kqueue *q, const void *item, BaseType_t position)
{
    UBaseType_t slot;

    if (position == queueOVERWRITE && q->count == q->length) {
        /* Replace the newest item; the count stays. */
        slot = (q->head + q->count - 1u) % q->length;
    } else if (position == queueSEND_TO_FRONT) {
        q->head = (q->head + q->length - 1u) % q->length;
        slot = q->head;
        q->count++;
    } else {
        slot = (q->head + q->count) % q->length;
        q->count++;
    }
    if (q->item_size != 0) {
        memcpy(q->storage + slot * q->item_size, item, q->item_size);
    }
}

static void copy_out(struct kqueue *q, void *buffer, int consume)
{
    if (q->item_size != 0) {
        memcpy(buffer, q->storage + q->head * q->item_size, q->item_size);
    }
    if (consume) {
        q->head = (q->head + 1u) % q->length;
        q->count--;
    }
}

/* Puts an item in (a give, for mutexes); pdTRUE asks for a switch. */
static BaseType_t deposit(struct kqueue *q, const void *item,
                          BaseType_t position)
{
    BaseType_t yield = pdFALSE;

    if (is_mutex(q)) {
        configASSERT(q->holder == kernel_current_tcb);
        yield = task_mutex_given();
        q->holder = NULL;
    }
    copy_in(q, item, position);
    if (task_wake_first(&q->receivers)) {
        yield = pdTRUE;
    }
    return yield;
}

/* Takes the oldest item out (a take, for mutexes). */
static BaseType_t withdraw(struct kqueue *q, void *buffer)
{
    copy_out(q, buffer, 1);
    if (is_mutex(q)) {
        q->holder = kernel_current_tcb;
        task_mutex_taken();
    }
    return task_wake_first(&q->senders);
}

static UBaseType_t highest_waiter(const struct kqueue *q)
{
    const struct tcb *t = klist_head(&q->receivers);

    return t != NULL ? t->priority : tskIDLE_PRIORITY;
}

BaseType_t xQueueGenericSend(QueueHandle_t q, const void *item,
                             TickType_t ticks, BaseType_t position)
{
    struct ktimeout timeout;

    configASSERT(q != NULL);
    configASSERT(item != NULL || q->item_size == 0);
    configASSERT(position != queueOVERWRITE || q->length == 1);
    configASSERT(ticks == 0 ||
                 xTaskGetSchedulerState() != taskSCHEDULER_SUSPENDED);
    timeout_begin(&timeout, ticks);
    for (;;) {
        TickType_t left;

        taskENTER_CRITICAL();
        if (q->count < q->length || position == queueOVERWRITE) {
            if (deposit(q, item, position)) {
                portYIELD_WITHIN_API();
            }
            taskEXIT_CRITICAL();
            return pdPASS;
        }
        if (timeout_expired(&timeout, &left)) {
            taskEXIT_CRITICAL();
            return errQUEUE_FULL;
        }
        task_block_on(&q->senders, left);
        portYIELD_WITHIN_API();
        taskEXIT_CRITICAL();
    }
}

/* Receive, peek and take: wait for an item until the timeout runs out. */
static BaseType_t wait_for_item(struct kqueue *q, void *buffer,
                                const struct ktimeout *timeout, int peek)
{
    for (;;) {
        TickType_t left;
        BaseType_t yield;

        taskENTER_CRITICAL();
        if (q->count > 0) {
            if (peek) {
                /* The item stays: another waiter may have it. */
                copy_out(q, buffer, 0);
                yield = task_wake_first(&q->receivers);
            } else {
                yield = withdraw(q, buffer);
            }
            if (yield) {
                portYIELD_WITHIN_API();
            }
            taskEXIT_CRITICAL();
            return pdPASS;
        }
        if (timeout_expired(timeout, &left)) {
            if (is_mutex(q) && q->holder != NULL) {
                task_disinherit_after_timeout(q->holder, highest_waiter(q));
            }
            taskEXIT_CRITICAL();
            return errQUEUE_EMPTY;
        }
        if (is_mutex(q) && q->holder != NULL) {
            task_inherit_priority(q->holder);
        }
        task_block_on(&q->receivers, left);
        portYIELD_WITHIN_API();
        taskEXIT_CRITICAL();
    }
}

static BaseType_t receive(QueueHandle_t q, void *buffer, TickType_t ticks,
                          int peek)
{
    struct ktimeout timeout;

    configASSERT(q != NULL);
    configASSERT(buffer != NULL || q->item_size == 0);
    configASSERT(ticks == 0 ||
                 xTaskGetSchedulerState() != taskSCHEDULER_SUSPENDED);
    timeout_begin(&timeout, ticks);
    return wait_for_item(q, buffer, &timeout, peek);
}

BaseType_t xQueueReceive(QueueHandle_t q, void *buffer, TickType_t ticks)
{
    return receive(q, buffer, ticks, 0);
}

BaseType_t xQueuePeek(QueueHandle_t q, void *buffer, TickType_t ticks)
{
    return receive(q, buffer, ticks, 1);
}

BaseType_t xQueueSemaphoreTake(QueueHandle_t q, TickType_t ticks)
{
    configASSERT(q != NULL && q->item_size == 0);
    return receive(q, NULL, ticks, 0);
}

BaseType_t queue_receive_since(QueueHandle_t q, void *buffer,
                               TickType_t start, TickType_t ticks)
{
    struct ktimeout timeout = { start, ticks };

    return wait_for_item(q, buffer, &timeout, 0);
}

/* From interrupts: never block, report a woken task through *woken. */

BaseType_t xQueueGenericSendFromISR(QueueHandle_t q, const void *item,
                                    BaseType_t *woken, BaseType_t position)
{
    BaseType_t ok = errQUEUE_FULL;
    UBaseType_t mask;

    configASSERT(q != NULL && !is_mutex(q));
    configASSERT(item != NULL || q->item_size == 0);
    configASSERT(position != queueOVERWRITE || q->length == 1);
    portASSERT_IF_INTERRUPT_PRIORITY_INVALID();
    mask = portSET_INTERRUPT_MASK_FROM_ISR();
    if (q->count < q->length || position == queueOVERWRITE) {
        copy_in(q, item, position);
        if (task_wake_first(&q->receivers) && woken != NULL) {
            *woken = pdTRUE;
        }
        ok = pdPASS;
    }
    portCLEAR_INTERRUPT_MASK_FROM_ISR(mask);
    return ok;
}

BaseType_t xQueueGiveFromISR(QueueHandle_t q, BaseType_t *woken)
{
    return xQueueGenericSendFromISR(q, NULL, woken, queueSEND_TO_BACK);
}

BaseType_t xQueueReceiveFromISR(QueueHandle_t q, void *buffer,
                                BaseType_t *woken)
{
    BaseType_t ok = errQUEUE_EMPTY;
    UBaseType_t mask;

    configASSERT(q != NULL && !is_mutex(q));
    configASSERT(buffer != NULL || q->item_size == 0);
    portASSERT_IF_INTERRUPT_PRIORITY_INVALID();
    mask = portSET_INTERRUPT_MASK_FROM_ISR();
    if (q->count > 0) {
        copy_out(q, buffer, 1);
        if (task_wake_first(&q->senders) && woken != NULL) {
            *woken = pdTRUE;
        }
        ok = pdPASS;
    }
    portCLEAR_INTERRUPT_MASK_FROM_ISR(mask);
    return ok;
}

/* Recursive mutexes count nested takes by their holder. */

BaseType_t xQueueTakeMutexRecursive(QueueHandle_t m, TickType_t ticks)
{
    configASSERT(m != NULL && m->type == queueQUEUE_TYPE_RECURSIVE_MUTEX);

    /* Only the holder itself can see itself as the holder. */
    if (m->holder == kernel_current_tcb) {
        m->recursion++;
        return pdPASS;
    }
    if (xQueueSemaphoreTake(m, ticks) != pdPASS) {
        return pdFAIL;
    }
    m->recursion = 1;
    return pdPASS;
}

BaseType_t xQueueGiveMutexRecursive(QueueHandle_t m)
{
    configASSERT(m != NULL && m->type == queueQUEUE_TYPE_RECURSIVE_MUTEX);
    if (m->holder != kernel_current_tcb) {
        return pdFAIL;
    }
    m->recursion--;
    if (m->recursion == 0) {
        (void)xQueueGenericSend(m, NULL, 0, queueSEND_TO_BACK);
    }
    return pdPASS;
}

/* Information. */

void *xQueueGetMutexHolder(QueueHandle_t m)
{
    void *holder;

    taskENTER_CRITICAL();
    holder = m->holder;
    taskEXIT_CRITICAL();
    return holder;
}

UBaseType_t uxQueueMessagesWaiting(QueueHandle_t q)
{
    UBaseType_t n;

    configASSERT(q != NULL);
    taskENTER_CRITICAL();
    n = q->count;
    taskEXIT_CRITICAL();
    return n;
}

UBaseType_t uxQueueMessagesWaitingFromISR(QueueHandle_t q)
{
    configASSERT(q != NULL);
    return q->count;
}

UBaseType_t uxQueueSpacesAvailable(QueueHandle_t q)
{
    UBaseType_t n;

    configASSERT(q != NULL);
    taskENTER_CRITICAL();
    n = q->length - q->count;
    taskEXIT_CRITICAL();
    return n;
}
