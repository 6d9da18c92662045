/*
 * bench_rtos: the kernel under constant load, for timing the emulator.
 *
 * Three tasks of equal priority switch all the time: "ping" sends a number
 * to "pong" through a queue and waits for the answer on a second queue,
 * while "spin" hashes a counter and yields after every step. The 1 kHz
 * SysTick time-slices them on top. A fixed number of round trips (about
 * 25 million instructions, one second of the board's 25 MHz) is done and
 * the checksums depend only on the data exchanged, never on where the
 * switches fell, so the transcript is the same on any core speed.
 */
#include "FreeRTOS.h"
#include "console.h"
#include "queue.h"
#include "semihost.h"
#include "semphr.h"
#include "task.h"

#define STACK_WORDS 256
#define PRIO_MAIN 3
#define PRIO_WORKERS 2
#define ROUND_TRIPS 23000u
#define SPIN_STEPS 23000u

static QueueHandle_t to_pong;
static QueueHandle_t to_ping;
static SemaphoreHandle_t finished;
static uint32_t ping_sum;
static uint32_t spin_sum;

/* FNV-1a step over one 32-bit word. */
static uint32_t mix(uint32_t sum, uint32_t v)
{
    return (sum ^ v) * 16777619u;
}

static void ping(void *arg)
{
    uint32_t sum = 2166136261u;

    (void)arg;
    for (uint32_t i = 0; i < ROUND_TRIPS; i++) {
        uint32_t answer;

        (void)xQueueSend(to_pong, &i, portMAX_DELAY);
        (void)xQueueReceive(to_ping, &answer, portMAX_DELAY);
        sum = mix(sum, answer);
    }
    ping_sum = sum;
    (void)xSemaphoreGive(finished);
    vTaskDelete(NULL);
}

static void pong(void *arg)
{
    (void)arg;
    for (uint32_t i = 0; i < ROUND_TRIPS; i++) {
        uint32_t v;

        (void)xQueueReceive(to_pong, &v, portMAX_DELAY);
        v = (v * 2654435761u) ^ (v >> 7);
        (void)xQueueSend(to_ping, &v, portMAX_DELAY);
    }
    (void)xSemaphoreGive(finished);
    vTaskDelete(NULL);
}

static void spin(void *arg)
{
    uint32_t sum = 2166136261u;

    (void)arg;
    for (uint32_t i = 0; i < SPIN_STEPS; i++) {
        sum = mix(sum, i);
        taskYIELD();
    }
    spin_sum = sum;
    (void)xSemaphoreGive(finished);
    vTaskDelete(NULL);
}

static void main_task(void *arg)
{
    (void)arg;
    console_printf("bench_rtos: %u round trips, %u yields\n", ROUND_TRIPS,
                   SPIN_STEPS);
    to_pong = xQueueCreate(1, sizeof(uint32_t));
    to_ping = xQueueCreate(1, sizeof(uint32_t));
    xTaskCreate(ping, "ping", STACK_WORDS, NULL, PRIO_WORKERS, NULL);
    xTaskCreate(pong, "pong", STACK_WORDS, NULL, PRIO_WORKERS, NULL);
    xTaskCreate(spin, "spin", STACK_WORDS, NULL, PRIO_WORKERS, NULL);
    for (int i = 0; i < 3; i++) {
        (void)xSemaphoreTake(finished, portMAX_DELAY);
    }
    console_printf("bench_rtos: checksum 0x%08lx 0x%08lx\n",
                   (unsigned long)ping_sum, (unsigned long)spin_sum);
    console_puts("bench_rtos: done");
    semihost_exit(EXIT_OK);
}

int main(void)
{
    finished = xSemaphoreCreateCounting(3, 0);
    xTaskCreate(main_task, "main", 512, NULL, PRIO_MAIN, NULL);
    vTaskStartScheduler();
    return EXIT_TEST_FAILED;
}
