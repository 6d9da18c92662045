/*
 * rtos_demo: a short tour of the kernel with a readable transcript.
 *
 * A supervisor task runs three scenes one after the other: a producer and
 * a consumer passing numbers through a queue, two workers sharing a
 * counter under a mutex, and an auto-reload software timer. Each scene is
 * driven by blocking calls (queues, delays, semaphores, notifications), so
 * the transcript does not depend on how fast the core runs; the only tick
 * counts printed are differences fixed by delays and timer periods.
 */
#include "FreeRTOS.h"
#include "console.h"
#include "queue.h"
#include "semihost.h"
#include "semphr.h"
#include "task.h"
#include "timers.h"

#ifdef __ARM_FP
#define CORE_NAME "cortex-m4f"
#else
#define CORE_NAME "cortex-m3"
#endif

#define STACK_WORDS 512
#define PRIO_SUPERVISOR 3
#define PRIO_CONSUMER 2
#define PRIO_WORKER 2
#define PRIO_PRODUCER 1

#define ITEMS 5
#define ROUNDS 3
#define BEATS 3
#define BEAT_PERIOD 10

static TaskHandle_t supervisor;
static QueueHandle_t numbers;
static SemaphoreHandle_t finished;
static SemaphoreHandle_t counter_lock;
static uint32_t counter;
static uint32_t beats;

/* Scene 1: a queue between a producer and a higher-priority consumer. */

static void producer(void *arg)
{
    (void)arg;
    for (uint32_t i = 1; i <= ITEMS; i++) {
        uint32_t value = i * i;

        console_printf("producer: sending %lu\n", (unsigned long)value);
        (void)xQueueSend(numbers, &value, portMAX_DELAY);
        if (i < ITEMS) {
            vTaskDelay(5);
        }
    }
    console_puts("producer: finished");
    (void)xSemaphoreGive(finished);
    vTaskDelete(NULL);
}

static void consumer(void *arg)
{
    uint32_t sum = 0;

    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        uint32_t value;

        (void)xQueueReceive(numbers, &value, portMAX_DELAY);
        sum += value;
        console_printf("consumer: received %lu, sum %lu\n",
                       (unsigned long)value, (unsigned long)sum);
    }
    console_printf("consumer: finished, sum %lu\n", (unsigned long)sum);
    (void)xSemaphoreGive(finished);
    vTaskDelete(NULL);
}

static void queue_scene(void)
{
    console_puts("supervisor: scene 1, producer and consumer");
    numbers = xQueueCreate(4, sizeof(uint32_t));
    xTaskCreate(consumer, "consumer", STACK_WORDS, NULL, PRIO_CONSUMER, NULL);
    xTaskCreate(producer, "producer", STACK_WORDS, NULL, PRIO_PRODUCER, NULL);
    for (int i = 0; i < 2; i++) {
        (void)xSemaphoreTake(finished, portMAX_DELAY);
    }
    vQueueDelete(numbers);
    console_puts("supervisor: both tasks finished");
}

/*
 * Scene 2: two workers update one counter under a mutex. Worker A holds
 * the mutex before worker B exists, and each give is followed by a yield,
 * so the two alternate however the ticks fall.
 */

struct worker_role {
    const char *name;
    int announce_first_take;
};

static void worker(void *arg)
{
    const struct worker_role *role = arg;

    for (int round = 0; round < ROUNDS; round++) {
        uint32_t seen;

        (void)xSemaphoreTake(counter_lock, portMAX_DELAY);
        if (round == 0 && role->announce_first_take) {
            (void)xTaskNotifyGive(supervisor);
        }
        seen = counter;

        /* Hold the mutex across a delay: the other worker must wait. */
        vTaskDelay(1);
        counter = seen + 1u;
        console_printf("worker %s: counter %lu -> %lu\n", role->name,
                       (unsigned long)seen, (unsigned long)counter);
        (void)xSemaphoreGive(counter_lock);
        taskYIELD();
    }
    (void)xSemaphoreGive(finished);
    vTaskDelete(NULL);
}

static void mutex_scene(void)
{
    static const struct worker_role first = { "A", 1 };
    static const struct worker_role second = { "B", 0 };

    console_puts("supervisor: scene 2, two workers and a mutex");
    counter_lock = xSemaphoreCreateMutex();
    xTaskCreate(worker, "worker A", STACK_WORDS, (void *)&first, PRIO_WORKER,
                NULL);
    (void)ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
    xTaskCreate(worker, "worker B", STACK_WORDS, (void *)&second,
                PRIO_WORKER, NULL);
    for (int i = 0; i < 2; i++) {
        (void)xSemaphoreTake(finished, portMAX_DELAY);
    }
    vSemaphoreDelete(counter_lock);
    console_printf("supervisor: counter is %lu\n", (unsigned long)counter);
}

/* Scene 3: an auto-reload timer that stops itself. */

static void on_beat(TimerHandle_t timer)
{
    beats++;
    console_printf("timer %s: beat %lu\n", pcTimerGetName(timer),
                   (unsigned long)beats);
    if (beats == BEATS) {
        (void)xTimerStop(timer, 0);
        (void)xTaskNotifyGive(supervisor);
    }
}

static void timer_scene(void)
{
    TimerHandle_t beat;
    TickType_t start;

    console_puts("supervisor: scene 3, an auto-reload timer");
    beat = xTimerCreate("beat", BEAT_PERIOD, pdTRUE, NULL, on_beat);
    start = xTaskGetTickCount();
    (void)xTimerStart(beat, 0);
    (void)ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
    console_printf("supervisor: %lu beats of %d ticks took %lu ticks\n",
                   (unsigned long)beats, BEAT_PERIOD,
                   (unsigned long)(xTaskGetTickCount() - start));
    (void)xTimerDelete(beat, 0);
}

static void supervisor_task(void *arg)
{
    (void)arg;
    console_printf("supervisor: running with %lu tasks\n",
                   (unsigned long)uxTaskGetNumberOfTasks());
    finished = xSemaphoreCreateCounting(2, 0);

    queue_scene();
    mutex_scene();
    timer_scene();

    /* Let the idle task free what the finished tasks left behind. */
    vTaskDelay(2);
    console_printf("supervisor: %lu tasks left\n",
                   (unsigned long)uxTaskGetNumberOfTasks());
    console_puts("rtos_demo: done");
    semihost_exit(EXIT_OK);
}

int main(void)
{
    console_puts("rtos_demo: start on " CORE_NAME ", tick 1000 Hz");
    xTaskCreate(supervisor_task, "supervisor", STACK_WORDS, NULL,
                PRIO_SUPERVISOR, &supervisor);
    vTaskStartScheduler();
    return EXIT_TEST_FAILED;
}
