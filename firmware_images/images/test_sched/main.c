/*
 * test_sched: the scheduler's promises, checked one by one.
 *
 * A main task at priority 5 creates helper tasks above and below itself
 * and checks what order things happen in. Every line of the transcript is
 * fixed by priorities, blocking calls and tick counts measured across
 * delays, never by how many instructions fit in a tick, so the transcript
 * is the same on any core speed (QEMU or the emulator). Steps that could
 * race a tick start right after one.
 *
 * This file: priorities, time slicing, yields, delays and suspension.
 * sync.c: queues, semaphores and mutexes. services.c: notifications,
 * timers and the heap.
 */
#include <string.h>

#include "console.h"
#include "semihost.h"
#include "test_sched.h"

SemaphoreHandle_t helper_done;
static int failures;

void check(int ok, const char *what)
{
    if (!ok) {
        failures++;
        console_printf("FAIL: %s\n", what);
    }
}

void wait_helpers(int n)
{
    for (int i = 0; i < n; i++) {
        check(xSemaphoreTake(helper_done, 1000) == pdPASS, "helper finished");
    }
}

void align_to_tick(void)
{
    vTaskDelay(1);
}

void helper_exit(void)
{
    (void)xSemaphoreGive(helper_done);
    vTaskDelete(NULL);
    for (;;) {
    }
}

/* A record of which task ran when, appended under a critical section. */
static char trace[32];
static unsigned trace_len;

static void trace_add(char c)
{
    taskENTER_CRITICAL();
    if (trace_len < sizeof(trace) - 1u) {
        trace[trace_len++] = c;
        trace[trace_len] = '\0';
    }
    taskEXIT_CRITICAL();
}

static void trace_clear(void)
{
    trace_len = 0;
    trace[0] = '\0';
}

/* Priorities: the highest ready task runs, at once if it is created. */

static void numbered_task(void *arg)
{
    int n = (int)(intptr_t)arg;

    console_printf("T%d start\n", n);
    trace_add((char)('0' + n));
    helper_exit();
}

static void test_priorities(void)
{
    trace_clear();
    for (int n = 1; n <= 3; n++) {
        xTaskCreate(numbered_task, "T", STACK_WORDS, (void *)(intptr_t)n,
                    (UBaseType_t)n, NULL);
    }
    console_puts("prio: created T1, T2, T3 below main");
    wait_helpers(3);
    check(strcmp(trace, "321") == 0, "T3, T2, T1 in that order");
    console_puts("prio: higher priorities ran first");

    trace_clear();
    xTaskCreate(numbered_task, "T", STACK_WORDS, (void *)(intptr_t)6,
                PRIO_ABOVE, NULL);
    check(strcmp(trace, "6") == 0, "T6 ran inside xTaskCreate");
    console_puts("prio: T6 ran before xTaskCreate returned");
    wait_helpers(1);
}

/* Time slicing: a busy task shares the CPU with its equal on each tick. */

static volatile int second_ran;
static volatile int first_saw_second;

static void busy_first(void *arg)
{
    TickType_t start = xTaskGetTickCount();

    (void)arg;
    while (!second_ran && xTaskGetTickCount() - start < 100u) {
        continue;
    }
    first_saw_second = second_ran;
    helper_exit();
}

static void busy_second(void *arg)
{
    (void)arg;
    second_ran = 1;
    helper_exit();
}

static void test_time_slicing(void)
{
    xTaskCreate(busy_first, "busy1", STACK_WORDS, NULL, 2, NULL);
    xTaskCreate(busy_second, "busy2", STACK_WORDS, NULL, 2, NULL);
    wait_helpers(2);
    check(first_saw_second, "the second busy task ran while the first spun");
    console_puts("rr: a spinning task was time-sliced with its equal");
}

/* taskYIELD hands the CPU to the next task of the same priority. */

static void yielder(void *arg)
{
    char name = *(const char *)arg;

    for (int i = 0; i < 3; i++) {
        trace_add(name);
        trace_add((char)('0' + i));
        taskYIELD();
    }
    helper_exit();
}

static void test_yield(void)
{
    trace_clear();
    align_to_tick();
    xTaskCreate(yielder, "yieldA", STACK_WORDS, "A", 2, NULL);
    xTaskCreate(yielder, "yieldB", STACK_WORDS, "B", 2, NULL);
    wait_helpers(2);
    check(strcmp(trace, "A0B0A1B1A2B2") == 0, "yields alternate A and B");
    console_printf("yield: %s\n", trace);
}

/* Delays count ticks from the call, or from the previous wake-up. */

static void test_delays(void)
{
    TickType_t start;
    TickType_t last;
    TickType_t took;

    align_to_tick();
    start = xTaskGetTickCount();
    vTaskDelay(10);
    took = xTaskGetTickCount() - start;
    check(took == 10, "vTaskDelay(10) takes 10 ticks");
    console_printf("delay: vTaskDelay(10) took %lu ticks\n",
                   (unsigned long)took);

    console_write("delay_until: woke at");
    align_to_tick();
    last = xTaskGetTickCount();
    start = last;
    for (int i = 1; i <= 4; i++) {
        vTaskDelayUntil(&last, 5);
        took = xTaskGetTickCount() - start;
        check(took == (TickType_t)(5 * i), "vTaskDelayUntil period 5");
        console_printf(" +%lu", (unsigned long)took);
    }
    console_putc('\n');

    /* Busy past two periods: the next call must not wait at all. */
    while (xTaskGetTickCount() - last < 12u) {
        continue;
    }
    check(xTaskDelayUntil(&last, 5) == pdFALSE, "a missed period: no wait");
    check(last - start == 25, "the wake time still advances by one period");
    console_puts("delay_until: a missed period returns at once");
}

/* Suspension: of the scheduler, and of one task. */

static void suspend_helper(void *arg)
{
    (void)arg;
    console_puts("suspend: high task ran after xTaskResumeAll");
    helper_exit();
}

static void self_suspender(void *arg)
{
    (void)arg;
    console_puts("vsuspend: task suspends itself");
    vTaskSuspend(NULL);
    console_puts("vsuspend: task resumed");
    helper_exit();
}

static void test_suspension(void)
{
    TaskHandle_t t;

    vTaskSuspendAll();
    check(xTaskGetSchedulerState() == taskSCHEDULER_SUSPENDED, "suspended");
    xTaskCreate(suspend_helper, "susp", STACK_WORDS, NULL, PRIO_ABOVE, NULL);
    console_puts("suspend: created a high task with the scheduler suspended");
    check(xTaskResumeAll() == pdTRUE, "xTaskResumeAll switched");
    console_puts("suspend: main runs again");
    wait_helpers(1);

    xTaskCreate(self_suspender, "vsusp", STACK_WORDS, NULL, PRIO_ABOVE, &t);
    console_puts("vsuspend: main resumes it");
    vTaskResume(t);
    wait_helpers(1);
}

static void main_task(void *arg)
{
    (void)arg;
    console_puts("test_sched: start");
    test_priorities();
    test_time_slicing();
    test_yield();
    test_delays();
    test_suspension();
    test_queues();
    test_semaphores();
    test_mutexes();
    test_notifications();
    test_timers();
    test_heap();

    if (failures != 0) {
        console_printf("test_sched: FAIL (%d checks)\n", failures);
        semihost_exit(EXIT_TEST_FAILED);
    }
    console_puts("test_sched: PASS");
    semihost_exit(EXIT_OK);
}

int main(void)
{
    helper_done = xSemaphoreCreateCounting(16, 0);
    xTaskCreate(main_task, "main", 1024, NULL, PRIO_MAIN, NULL);
    vTaskStartScheduler();
    return EXIT_TEST_FAILED;
}
