/*
 * Queues of fixed-size items, copied in and out. Semaphores and mutexes
 * (semphr.h) are queues whose items have no size.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include "FreeRTOS.h"

struct kqueue;
typedef struct kqueue *QueueHandle_t;

/* Where a send puts its item. */
#define queueSEND_TO_BACK ((BaseType_t)0)
#define queueSEND_TO_FRONT ((BaseType_t)1)
#define queueOVERWRITE ((BaseType_t)2)

/* What a queue object is used as. */
#define queueQUEUE_TYPE_BASE ((uint8_t)0)
#define queueQUEUE_TYPE_MUTEX ((uint8_t)1)
#define queueQUEUE_TYPE_COUNTING_SEMAPHORE ((uint8_t)2)
#define queueQUEUE_TYPE_BINARY_SEMAPHORE ((uint8_t)3)
#define queueQUEUE_TYPE_RECURSIVE_MUTEX ((uint8_t)4)

QueueHandle_t xQueueGenericCreate(UBaseType_t length, UBaseType_t item_size,
                                  uint8_t type);
QueueHandle_t xQueueGenericCreateStatic(UBaseType_t length,
                                        UBaseType_t item_size,
                                        uint8_t *storage,
                                        StaticQueue_t *queue_buffer,
                                        uint8_t type);
void vQueueDelete(QueueHandle_t queue);
BaseType_t xQueueReset(QueueHandle_t queue);

#define xQueueCreate(length, item_size) \
    xQueueGenericCreate((length), (item_size), queueQUEUE_TYPE_BASE)
#define xQueueCreateStatic(length, item_size, storage, buffer)        \
    xQueueGenericCreateStatic((length), (item_size), (storage), (buffer), \
                              queueQUEUE_TYPE_BASE)

BaseType_t xQueueGenericSend(QueueHandle_t queue, const void *item,
                             TickType_t ticks, BaseType_t position);
BaseType_t xQueueGenericSendFromISR(QueueHandle_t queue, const void *item,
                                    BaseType_t *woken, BaseType_t position);
BaseType_t xQueueReceive(QueueHandle_t queue, void *buffer, TickType_t ticks);
BaseType_t xQueuePeek(QueueHandle_t queue, void *buffer, TickType_t ticks);
BaseType_t xQueueReceiveFromISR(QueueHandle_t queue, void *buffer,
                                BaseType_t *woken);

#define xQueueSend(q, item, ticks) \
    xQueueGenericSend((q), (item), (ticks), queueSEND_TO_BACK)
#define xQueueSendToBack(q, item, ticks) \
    xQueueGenericSend((q), (item), (ticks), queueSEND_TO_BACK)
#define xQueueSendToFront(q, item, ticks) \
    xQueueGenericSend((q), (item), (ticks), queueSEND_TO_FRONT)
#define xQueueOverwrite(q, item) \
    xQueueGenericSend((q), (item), 0, queueOVERWRITE)
#define xQueueSendFromISR(q, item, woken) \
    xQueueGenericSendFromISR((q), (item), (woken), queueSEND_TO_BACK)
#define xQueueSendToBackFromISR(q, item, woken) \
    xQueueGenericSendFromISR((q), (item), (woken), queueSEND_TO_BACK)
#define xQueueSendToFrontFromISR(q, item, woken) \
    xQueueGenericSendFromISR((q), (item), (woken), queueSEND_TO_FRONT)
#define xQueueOverwriteFromISR(q, item, woken) \
    xQueueGenericSendFromISR((q), (item), (woken), queueOVERWRITE)

UBaseType_t uxQueueMessagesWaiting(QueueHandle_t queue);
UBaseType_t uxQueueMessagesWaitingFromISR(QueueHandle_t queue);
UBaseType_t uxQueueSpacesAvailable(QueueHandle_t queue);

/* Semaphore and mutex entry points; use the macros of semphr.h. */
QueueHandle_t xQueueCreateMutex(uint8_t type);
QueueHandle_t xQueueCreateMutexStatic(uint8_t type, StaticQueue_t *buffer);
QueueHandle_t xQueueCreateCountingSemaphore(UBaseType_t max,
                                            UBaseType_t initial);
QueueHandle_t xQueueCreateCountingSemaphoreStatic(UBaseType_t max,
                                                  UBaseType_t initial,
                                                  StaticQueue_t *buffer);
BaseType_t xQueueSemaphoreTake(QueueHandle_t queue, TickType_t ticks);
BaseType_t xQueueGiveFromISR(QueueHandle_t queue, BaseType_t *woken);
BaseType_t xQueueTakeMutexRecursive(QueueHandle_t mutex, TickType_t ticks);
BaseType_t xQueueGiveMutexRecursive(QueueHandle_t mutex);
void *xQueueGetMutexHolder(QueueHandle_t mutex);

#endif
