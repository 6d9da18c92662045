/*
 * bench_slice: CPU-bound tasks time-sliced by the 1 kHz tick, for timing
 * the emulator on the load an RTOS application usually puts on a core.
 *
 * Three tasks of equal priority each hash a buffer with CRC-32 and SHA-256
 * for a fixed number of passes; the tick switches between them at every
 * tick, and each pass ends with a message to the main task through a
 * queue. The results depend only on the data, so the transcript is the
 * same whatever the core speed.
 */
#include <stdint.h>
#include <string.h>

#include "FreeRTOS.h"
#include "console.h"
#include "queue.h"
#include "semihost.h"
#include "sha256.h"
#include "task.h"

#define WORKERS 3
#define PASSES 80u
#define BUFFER_BYTES 2048u
#define PRIO_MAIN 3
#define PRIO_WORKERS 2

static QueueHandle_t results;
static uint32_t crc_table[256];

static void crc_table_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;

    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* One worker: PASSES rounds of CRC-32 and SHA-256 over its own buffer. */
static void worker(void *arg)
{
    static uint8_t buffers[WORKERS][BUFFER_BYTES];
    uint32_t id = (uint32_t)(uintptr_t)arg;
    uint8_t *buf = buffers[id];
    uint8_t digest[32];

    for (uint32_t i = 0; i < BUFFER_BYTES; i++)
        buf[i] = (uint8_t)(i * (id + 3u) + id);
    for (uint32_t pass = 0; pass < PASSES; pass++) {
        uint32_t crc = crc32(buf, BUFFER_BYTES);
        sha256(buf, BUFFER_BYTES, digest);
        memcpy(buf, digest, sizeof digest);
        buf[32] ^= (uint8_t)crc;
        uint32_t word = crc ^ ((uint32_t)digest[0] << 24);
        (void)xQueueSend(results, &word, portMAX_DELAY);
    }
    vTaskDelete(NULL);
}

static void main_task(void *arg)
{
    uint32_t sum = 0;

    (void)arg;
    console_printf("bench_slice: %u workers, %u passes each\n", WORKERS,
                   PASSES);
    for (uint32_t i = 0; i < WORKERS * PASSES; i++) {
        uint32_t word;
        (void)xQueueReceive(results, &word, portMAX_DELAY);
        sum += word;
    }
    console_printf("bench_slice: checksum 0x%08lx\n", (unsigned long)sum);
    console_puts("bench_slice: done");
    semihost_exit(EXIT_OK);
}

int main(void)
{
    crc_table_init();
    results = xQueueCreate(4, sizeof(uint32_t));
    for (uint32_t id = 0; id < WORKERS; id++)
        xTaskCreate(worker, "work", 512, (void *)(uintptr_t)id, PRIO_WORKERS,
                    NULL);
    xTaskCreate(main_task, "main", 512, NULL, PRIO_MAIN, NULL);
    vTaskStartScheduler();
    return EXIT_TEST_FAILED;
}
