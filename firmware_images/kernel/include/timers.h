/*
 * Software timers. Commands go through a queue to the timer service task,
 * which runs the callbacks; a callback must therefore never block.
 */
#ifndef TIMERS_H
#define TIMERS_H

#include "FreeRTOS.h"

#include "task.h"

struct ktimer;
typedef struct ktimer *TimerHandle_t;
typedef void (*TimerCallbackFunction_t)(TimerHandle_t timer);

/* Command codes carried by the timer queue. */
#define tmrCOMMAND_START ((BaseType_t)0)
#define tmrCOMMAND_RESET ((BaseType_t)1)
#define tmrCOMMAND_STOP ((BaseType_t)2)
#define tmrCOMMAND_CHANGE_PERIOD ((BaseType_t)3)
#define tmrCOMMAND_DELETE ((BaseType_t)4)

TimerHandle_t xTimerCreate(const char *name, TickType_t period,
                           BaseType_t auto_reload, void *id,
                           TimerCallbackFunction_t callback);
TimerHandle_t xTimerCreateStatic(const char *name, TickType_t period,
                                 BaseType_t auto_reload, void *id,
                                 TimerCallbackFunction_t callback,
                                 StaticTimer_t *buffer);

/*
 * Sends a command; `value` is the tick the command was issued at, or the
 * new period. With woken non-NULL it is the interrupt-safe form.
 */
BaseType_t xTimerGenericCommand(TimerHandle_t timer, BaseType_t command,
                                TickType_t value, BaseType_t *woken,
                                TickType_t ticks);
BaseType_t xTimerGenericCommandFromISR(TimerHandle_t timer,
                                       BaseType_t command, TickType_t value,
                                       BaseType_t *woken);

#define xTimerStart(t, ticks)                                              \
    xTimerGenericCommand((t), tmrCOMMAND_START, xTaskGetTickCount(), NULL, \
                         (ticks))
#define xTimerReset(t, ticks)                                              \
    xTimerGenericCommand((t), tmrCOMMAND_RESET, xTaskGetTickCount(), NULL, \
                         (ticks))
#define xTimerStop(t, ticks) \
    xTimerGenericCommand((t), tmrCOMMAND_STOP, 0, NULL, (ticks))
#define xTimerChangePeriod(t, period, ticks)                           \
    xTimerGenericCommand((t), tmrCOMMAND_CHANGE_PERIOD, (period), NULL, \
                         (ticks))
#define xTimerDelete(t, ticks) \
    xTimerGenericCommand((t), tmrCOMMAND_DELETE, 0, NULL, (ticks))

#define xTimerStartFromISR(t, woken)                     \
    xTimerGenericCommandFromISR((t), tmrCOMMAND_START,   \
                                xTaskGetTickCountFromISR(), (woken))
#define xTimerResetFromISR(t, woken)                     \
    xTimerGenericCommandFromISR((t), tmrCOMMAND_RESET,   \
                                xTaskGetTickCountFromISR(), (woken))
#define xTimerStopFromISR(t, woken) \
    xTimerGenericCommandFromISR((t), tmrCOMMAND_STOP, 0, (woken))
#define xTimerChangePeriodFromISR(t, period, woken)                   \
    xTimerGenericCommandFromISR((t), tmrCOMMAND_CHANGE_PERIOD, (period), \
                                (woken))

void *pvTimerGetTimerID(TimerHandle_t timer);
void vTimerSetTimerID(TimerHandle_t timer, void *id);
const char *pcTimerGetName(TimerHandle_t timer);
TickType_t xTimerGetPeriod(TimerHandle_t timer);
TickType_t xTimerGetExpiryTime(TimerHandle_t timer);
BaseType_t xTimerIsTimerActive(TimerHandle_t timer);
void vTimerSetReloadMode(TimerHandle_t timer, BaseType_t auto_reload);
TaskHandle_t xTimerGetTimerDaemonTaskHandle(void);

#endif
