/*
 * The agent's operating-system needs (ota_os.h) met with the kernel and
 * the board console.
 */
#include "ota_os.h"

#include <stdarg.h>

#include "FreeRTOS.h"
#include "console.h"
#include "task.h"
#include "timers.h"

static TimerHandle_t self_test_timer;
static void (*self_test_expired)(void);

uint32_t ota_os_now_ms(void)
{
    uint64_t ticks = xTaskGetTickCount();

    return (uint32_t)(ticks * 1000u / configTICK_RATE_HZ);
}

void ota_os_sleep_ms(uint32_t ms)
{
    TickType_t ticks = pdMS_TO_TICKS(ms);

    vTaskDelay(ticks == 0u ? 1u : ticks);
}

void ota_os_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    console_write("[ota] ");
    console_vprintf(fmt, ap);
    console_putc('\n');
    va_end(ap);
}

static void on_timer(TimerHandle_t timer)
{
    (void)timer;
    if (self_test_expired != NULL) {
        self_test_expired();
    }
}

bool ota_os_timer_start(uint32_t ms, void (*expired)(void))
{
    TickType_t ticks = pdMS_TO_TICKS(ms);

    self_test_expired = expired;
    if (self_test_timer == NULL) {
        self_test_timer = xTimerCreate("selftest", ticks == 0u ? 1u : ticks,
                                       pdFALSE, NULL, on_timer);
        if (self_test_timer == NULL) {
            return false;
        }
    }
    return xTimerStart(self_test_timer, 0) == pdPASS;
}

void ota_os_timer_stop(void)
{
    if (self_test_timer != NULL) {
        (void)xTimerStop(self_test_timer, 0);
    }
}
