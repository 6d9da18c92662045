/*
 * Binary and counting semaphores, mutexes and recursive mutexes, all built
 * on queues with items of size zero. Mutexes lend their holder the
 * priority of the highest task waiting for them.
 */
#ifndef SEMPHR_H
#define SEMPHR_H

#include "queue.h"

typedef QueueHandle_t SemaphoreHandle_t;

/* A binary semaphore starts empty: the first take blocks. */
#define xSemaphoreCreateBinary() \
    xQueueGenericCreate(1, 0, queueQUEUE_TYPE_BINARY_SEMAPHORE)
#define xSemaphoreCreateBinaryStatic(buffer)              \
    xQueueGenericCreateStatic(1, 0, NULL, (buffer),       \
                              queueQUEUE_TYPE_BINARY_SEMAPHORE)
#define xSemaphoreCreateCounting(max, initial) \
    xQueueCreateCountingSemaphore((max), (initial))
#define xSemaphoreCreateCountingStatic(max, initial, buffer) \
    xQueueCreateCountingSemaphoreStatic((max), (initial), (buffer))
#define xSemaphoreCreateMutex() xQueueCreateMutex(queueQUEUE_TYPE_MUTEX)
#define xSemaphoreCreateMutexStatic(buffer) \
    xQueueCreateMutexStatic(queueQUEUE_TYPE_MUTEX, (buffer))
#define xSemaphoreCreateRecursiveMutex() \
    xQueueCreateMutex(queueQUEUE_TYPE_RECURSIVE_MUTEX)

#define xSemaphoreTake(sem, ticks) xQueueSemaphoreTake((sem), (ticks))
#define xSemaphoreGive(sem) \
    xQueueGenericSend((sem), NULL, 0, queueSEND_TO_BACK)
#define xSemaphoreTakeRecursive(mutex, ticks) \
    xQueueTakeMutexRecursive((mutex), (ticks))
#define xSemaphoreGiveRecursive(mutex) xQueueGiveMutexRecursive(mutex)
#define xSemaphoreGiveFromISR(sem, woken) xQueueGiveFromISR((sem), (woken))
#define xSemaphoreTakeFromISR(sem, woken) \
    xQueueReceiveFromISR((sem), NULL, (woken))
#define xSemaphoreGetMutexHolder(mutex) xQueueGetMutexHolder(mutex)
#define uxSemaphoreGetCount(sem) uxQueueMessagesWaiting(sem)
#define vSemaphoreDelete(sem) vQueueDelete(sem)

#endif
