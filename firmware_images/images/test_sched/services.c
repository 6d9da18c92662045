/*
 * test_sched, part three: task notifications, software timers and the
 * heap.
 */
#include "console.h"
#include "queue.h"
#include "test_sched.h"
#include "timers.h"

/* Notifications. */

static void notified(void *arg)
{
    uint32_t first;
    uint32_t second;
    uint32_t third;
    uint32_t bits = 0;

    (void)arg;

    /* Main gave twice before this task first ran. */
    first = ulTaskNotifyTake(pdFALSE, portMAX_DELAY);
    second = ulTaskNotifyTake(pdFALSE, 0);
    third = ulTaskNotifyTake(pdFALSE, 0);
    check(first == 2 && second == 1 && third == 0, "take counts down");
    console_printf("notify: takes returned %lu, %lu, %lu\n",
                   (unsigned long)first, (unsigned long)second,
                   (unsigned long)third);
    (void)xSemaphoreGive(helper_done);

    check(xTaskNotifyWait(0, 0xFFFFFFFFu, &bits, portMAX_DELAY) == pdTRUE,
          "wait got a notification");
    check(bits == 0x5u, "bits 0x1 and 0x4");
    console_printf("notify: wait got bits 0x%lx\n", (unsigned long)bits);
    helper_exit();
}

void test_notifications(void)
{
    TaskHandle_t t;
    TickType_t start;
    TickType_t took;

    xTaskCreate(notified, "N", STACK_WORDS, NULL, 4, &t);
    (void)xTaskNotifyGive(t);
    (void)xTaskNotifyGive(t);
    wait_helpers(1);

    /* The task now waits; set two bits before it gets to run. */
    (void)xTaskNotify(t, 0x1u, eSetBits);
    check(xTaskNotify(t, 9u, eSetValueWithoutOverwrite) == pdFAIL,
          "no overwrite of a pending value");
    (void)xTaskNotify(t, 0x4u, eSetBits);
    wait_helpers(1);

    align_to_tick();
    start = xTaskGetTickCount();
    check(ulTaskNotifyTake(pdTRUE, 4) == 0, "nothing to take");
    took = xTaskGetTickCount() - start;
    check(took == 4, "take timeout of 4 ticks");
    console_printf("notify: take timed out after %lu ticks\n",
                   (unsigned long)took);
}

/* Software timers: callbacks print the ticks since their timer started. */

struct probe {
    TickType_t start;
    int expiries;
    int stop_after;
};

static void on_expiry(TimerHandle_t timer)
{
    struct probe *p = pvTimerGetTimerID(timer);

    p->expiries++;
    console_printf("timer %s: expiry %d at +%lu\n", pcTimerGetName(timer),
                   p->expiries,
                   (unsigned long)(xTaskGetTickCount() - p->start));
    if (p->expiries == p->stop_after) {
        (void)xTimerStop(timer, 0);
    }
}

static TimerHandle_t make_timer(const char *name, TickType_t period,
                                BaseType_t reload, struct probe *p)
{
    TimerHandle_t t = xTimerCreate(name, period, reload, p, on_expiry);

    check(t != NULL, "timer created");
    check(pvTimerGetTimerID(t) == p, "timer id");
    return t;
}

static void timers_reload_and_once(void)
{
    struct probe every = { 0, 0, 3 };
    struct probe once = { 0, 0, 0 };
    TimerHandle_t a = make_timer("auto", 5, pdTRUE, &every);
    TimerHandle_t o = make_timer("once", 30, pdFALSE, &once);

    align_to_tick();
    every.start = xTaskGetTickCount();
    once.start = every.start;
    (void)xTimerStart(a, 0);
    (void)xTimerStart(o, 0);
    check(xTimerIsTimerActive(a) && xTimerIsTimerActive(o), "both active");
    vTaskDelay(40);
    check(every.expiries == 3 && once.expiries == 1, "3 and 1 expiries");
    check(!xTimerIsTimerActive(a) && !xTimerIsTimerActive(o), "both idle");
    console_puts("timer: auto-reload stopped itself after 3, one-shot "
                 "fired once");
    (void)xTimerDelete(a, 0);
    (void)xTimerDelete(o, 0);
}

static void timers_reset_and_period(void)
{
    struct probe r = { 0, 0, 0 };
    struct probe c = { 0, 0, 0 };
    TimerHandle_t rt = make_timer("reset", 10, pdFALSE, &r);
    TimerHandle_t ct = make_timer("period", 50, pdFALSE, &c);

    align_to_tick();
    r.start = xTaskGetTickCount();
    (void)xTimerStart(rt, 0);
    vTaskDelay(5);
    (void)xTimerReset(rt, 0);
    console_puts("timer reset: restarted at +5");
    vTaskDelay(20);
    check(r.expiries == 1, "reset timer fired once, at +15");

    c.start = xTaskGetTickCount();
    (void)xTimerChangePeriod(ct, 3, 0);
    check(xTimerGetPeriod(ct) == 3, "new period");
    vTaskDelay(10);
    check(c.expiries == 1, "changed timer fired once, at +3");
    (void)xTimerDelete(rt, 0);
    (void)xTimerDelete(ct, 0);
}

void test_timers(void)
{
    timers_reload_and_once();
    timers_reset_and_period();
}

/* Heap: what tasks and queues take is all given back. */

static void short_lived(void *arg)
{
    (void)arg;
    helper_exit();
}

void test_heap(void)
{
    size_t before;
    size_t after;
    QueueHandle_t q;

    /* Let the idle task free every task that ended before now. */
    vTaskDelay(2);
    before = xPortGetFreeHeapSize();
    for (int i = 0; i < 3; i++) {
        xTaskCreate(short_lived, "short", STACK_WORDS, NULL, 1, NULL);
    }
    q = xQueueCreate(8, 16);
    check(xPortGetFreeHeapSize() < before, "allocations use the heap");
    wait_helpers(3);
    vQueueDelete(q);
    vTaskDelay(2);
    after = xPortGetFreeHeapSize();
    check(after == before, "all freed");
    console_printf("heap: %s after creating and deleting 3 tasks\n",
                   after == before ? "no leak" : "LEAK");
}
