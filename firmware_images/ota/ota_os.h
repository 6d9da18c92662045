/*
 * What the agent needs from its operating system: a millisecond clock, a
 * sleep, console lines and one timer. ota_os_rtos.c provides them with the
 * kernel and the board console; the host tests provide their own, so the
 * whole agent can run against the cloud model without an emulator.
 */
#ifndef OTA_OS_H
#define OTA_OS_H

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds since start; wraps at 2^32. */
uint32_t ota_os_now_ms(void);

/* Blocks the calling task for at least ms milliseconds (0 yields). */
void ota_os_sleep_ms(uint32_t ms);

/* Writes one console line: "[ota] ", the formatted text and a newline. */
void ota_os_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Starts the one-shot self-test timer; expired runs in the timer's own
 * context when it fires and must not block. Returns false on failure.
 */
bool ota_os_timer_start(uint32_t ms, void (*expired)(void));

/* Stops the self-test timer; harmless when it is not running. */
void ota_os_timer_stop(void);

#endif
