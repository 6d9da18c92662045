/*
 * test_sched, part two: queues, semaphores and mutexes.
 */
#include "console.h"
#include "queue.h"
#include "test_sched.h"

static QueueHandle_t pipe;

/* Queues. */

static void receiver(void *arg)
{
    uint32_t v = 0;

    (void)arg;
    console_puts("queue: R waits on an empty queue");
    check(xQueueReceive(pipe, &v, portMAX_DELAY) == pdPASS, "R received");
    console_printf("queue: R got %lu\n", (unsigned long)v);
    helper_exit();
}

static void sender(void *arg)
{
    uint32_t v = 3;

    (void)arg;
    console_puts("queue: S sends 3 to a full queue");
    check(xQueueSend(pipe, &v, portMAX_DELAY) == pdPASS, "S sent");
    console_puts("queue: S unblocked, 3 sent");
    helper_exit();
}

/* A blocked receiver runs as soon as an item arrives. */
static void queue_wakes_receiver(void)
{
    uint32_t v = 11;

    xTaskCreate(receiver, "R", STACK_WORDS, NULL, PRIO_ABOVE, NULL);
    console_puts("queue: main sends 11");
    check(xQueueSend(pipe, &v, 0) == pdPASS, "send to a waiting receiver");
    console_puts("queue: main's send returned");
    wait_helpers(1);
}

static void queue_order(void)
{
    QueueHandle_t q = xQueueCreate(3, sizeof(uint32_t));
    uint32_t v;
    uint32_t got[3] = { 9, 9, 9 };

    v = 1;
    (void)xQueueSendToBack(q, &v, 0);
    v = 2;
    (void)xQueueSendToBack(q, &v, 0);
    v = 0;
    (void)xQueueSendToFront(q, &v, 0);
    check(xQueuePeek(q, &v, 0) == pdPASS && v == 0, "peek sees the front");
    for (int i = 0; i < 3; i++) {
        (void)xQueueReceive(q, &got[i], 0);
    }
    check(got[0] == 0 && got[1] == 1 && got[2] == 2, "front/back order");
    console_printf("queue: front/back order %lu %lu %lu\n",
                   (unsigned long)got[0], (unsigned long)got[1],
                   (unsigned long)got[2]);
    vQueueDelete(q);

    q = xQueueCreate(1, sizeof(uint32_t));
    v = 5;
    (void)xQueueOverwrite(q, &v);
    v = 7;
    (void)xQueueOverwrite(q, &v);
    check(uxQueueMessagesWaiting(q) == 1, "overwrite keeps one item");
    check(xQueueReceive(q, &v, 0) == pdPASS && v == 7, "overwrite wins");
    console_printf("queue: overwrite left %lu\n", (unsigned long)v);
    vQueueDelete(q);
}

static void queue_timeouts(void)
{
    uint32_t v = 1;
    TickType_t start;
    TickType_t took;

    (void)xQueueSend(pipe, &v, 0);
    v = 2;
    (void)xQueueSend(pipe, &v, 0);
    check(uxQueueMessagesWaiting(pipe) == 2, "two items waiting");
    check(uxQueueSpacesAvailable(pipe) == 0, "no space left");

    align_to_tick();
    start = xTaskGetTickCount();
    check(xQueueSend(pipe, &v, 5) == errQUEUE_FULL, "send to full fails");
    took = xTaskGetTickCount() - start;
    check(took == 5, "send timeout of 5 ticks");
    console_printf("queue: full, send timed out after %lu ticks\n",
                   (unsigned long)took);
}

/* A blocked sender runs as soon as an item is taken out. */
static void queue_wakes_sender(void)
{
    uint32_t v = 0;

    xTaskCreate(sender, "S", STACK_WORDS, NULL, PRIO_ABOVE, NULL);
    console_puts("queue: main receives one item");
    check(xQueueReceive(pipe, &v, 0) == pdPASS && v == 1, "received 1");
    console_printf("queue: main received %lu\n", (unsigned long)v);
    wait_helpers(1);

    check(xQueueReceive(pipe, &v, 0) == pdPASS && v == 2, "then 2");
    check(xQueueReceive(pipe, &v, 0) == pdPASS && v == 3, "then 3");
    check(xQueueReceive(pipe, &v, 0) == errQUEUE_EMPTY, "then empty");
}

static void queue_empty_timeout(void)
{
    uint32_t v;
    TickType_t start;
    TickType_t took;

    align_to_tick();
    start = xTaskGetTickCount();
    check(xQueueReceive(pipe, &v, 3) == errQUEUE_EMPTY, "empty receive");
    took = xTaskGetTickCount() - start;
    check(took == 3, "receive timeout of 3 ticks");
    console_printf("queue: empty, receive timed out after %lu ticks\n",
                   (unsigned long)took);
}

void test_queues(void)
{
    pipe = xQueueCreate(2, sizeof(uint32_t));
    queue_wakes_receiver();
    queue_order();
    queue_timeouts();
    queue_wakes_sender();
    queue_empty_timeout();
    vQueueDelete(pipe);
}

/* Semaphores. */

static SemaphoreHandle_t signal;

static void signal_waiter(void *arg)
{
    (void)arg;
    check(xSemaphoreTake(signal, portMAX_DELAY) == pdPASS, "binary take");
    console_puts("sem: waiter woke on the binary give");
    helper_exit();
}

void test_semaphores(void)
{
    SemaphoreHandle_t counting = xSemaphoreCreateCounting(3, 0);
    int taken = 0;

    for (int i = 0; i < 3; i++) {
        check(xSemaphoreGive(counting) == pdPASS, "counting give");
    }
    check(xSemaphoreGive(counting) == pdFAIL, "give past the maximum");
    check(uxSemaphoreGetCount(counting) == 3, "count is 3");
    while (xSemaphoreTake(counting, 0) == pdPASS) {
        taken++;
    }
    check(taken == 3, "three takes");
    console_printf("sem: counting semaphore gave %d takes\n", taken);
    vSemaphoreDelete(counting);

    signal = xSemaphoreCreateBinary();
    check(xSemaphoreTake(signal, 0) == pdFAIL, "binary starts empty");
    xTaskCreate(signal_waiter, "W", STACK_WORDS, NULL, PRIO_ABOVE, NULL);
    console_puts("sem: main gives the binary semaphore");
    (void)xSemaphoreGive(signal);
    console_puts("sem: main's give returned");
    wait_helpers(1);
    vSemaphoreDelete(signal);
}

/* Mutexes and priority inheritance. */

static SemaphoreHandle_t lock;
static TaskHandle_t low;

static void low_holder(void *arg)
{
    (void)arg;
    (void)xSemaphoreTake(lock, portMAX_DELAY);
    console_puts("mutex: L took the mutex");

    /* Wait, holding the mutex, until main has set the stage. */
    (void)ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
    console_printf("mutex: L runs at priority %lu\n",
                   (unsigned long)uxTaskPriorityGet(NULL));
    check(uxTaskPriorityGet(NULL) == 4, "L inherited priority 4");
    (void)xSemaphoreGive(lock);
    console_printf("mutex: L back at priority %lu\n",
                   (unsigned long)uxTaskPriorityGet(NULL));
    check(uxTaskPriorityGet(NULL) == 2, "L disinherited");
    helper_exit();
}

static void high_taker(void *arg)
{
    (void)arg;
    console_puts("mutex: H waits for the mutex");
    check(xSemaphoreTake(lock, portMAX_DELAY) == pdPASS, "H took it");
    console_puts("mutex: H took the mutex");
    (void)xSemaphoreGive(lock);
    helper_exit();
}

static void medium_runner(void *arg)
{
    (void)arg;
    console_puts("mutex: M runs");
    helper_exit();
}

static void impatient_taker(void *arg)
{
    (void)arg;
    check(xSemaphoreTake(lock, 5) == pdFAIL, "H2 times out");
    console_printf("mutex: H2 timed out, holder back at priority %lu\n",
                   (unsigned long)uxTaskPriorityGet(low));
    check(uxTaskPriorityGet(low) == 2, "holder disinherited on timeout");
    helper_exit();
}

static void inheritance(void)
{
    xTaskCreate(low_holder, "L", STACK_WORDS, NULL, 2, &low);
    vTaskDelay(2);
    xTaskCreate(high_taker, "H", STACK_WORDS, NULL, 4, NULL);
    xTaskCreate(medium_runner, "M", STACK_WORDS, NULL, 3, NULL);
    console_puts("mutex: main created H (4) and M (3), wakes L (2)");
    (void)xTaskNotifyGive(low);
    wait_helpers(3);
}

static void inheritance_timeout(void)
{
    (void)xSemaphoreTake(lock, portMAX_DELAY);
    vTaskPrioritySet(NULL, 2);
    low = xTaskGetCurrentTaskHandle();
    xTaskCreate(impatient_taker, "H2", STACK_WORDS, NULL, 4, NULL);
    check(uxTaskPriorityGet(NULL) == 4, "main lent priority 4");
    console_printf("mutex: main holds the mutex at priority %lu\n",
                   (unsigned long)uxTaskPriorityGet(NULL));
    wait_helpers(1);
    (void)xSemaphoreGive(lock);
    vTaskPrioritySet(NULL, PRIO_MAIN);
}

static void recursion(void)
{
    SemaphoreHandle_t rec = xSemaphoreCreateRecursiveMutex();
    TaskHandle_t me = xTaskGetCurrentTaskHandle();

    check(xSemaphoreTakeRecursive(rec, 0) == pdPASS, "first take");
    check(xSemaphoreTakeRecursive(rec, 0) == pdPASS, "nested take");
    check(xSemaphoreGetMutexHolder(rec) == me, "main holds it");
    check(xSemaphoreGiveRecursive(rec) == pdPASS, "inner give");
    check(xSemaphoreGetMutexHolder(rec) == me, "still held");
    check(xSemaphoreGiveRecursive(rec) == pdPASS, "outer give");
    check(xSemaphoreGetMutexHolder(rec) == NULL, "released");
    console_puts("mutex: recursive mutex taken twice, given twice");
    vSemaphoreDelete(rec);
}

void test_mutexes(void)
{
    lock = xSemaphoreCreateMutex();
    inheritance();
    inheritance_timeout();
    recursion();
    vSemaphoreDelete(lock);
}
