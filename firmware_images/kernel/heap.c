/*
 * The kernel heap: first fit over one static array.
 *
 * Every block starts with a header holding its size (header included) and,
 * while it is free, the next free block. The free list is kept in address
 * order so that a freed block merges with free neighbours on both sides.
 * The top bit of the size marks a block as allocated. The scheduler is
 * suspended around every change, so tasks may allocate concurrently;
 * interrupts must not allocate.
 */
#include "FreeRTOS.h"
#include "task.h"

struct block {
    struct block *next_free;
    size_t size;
};

#define HEADER_SIZE                                                   \
    ((sizeof(struct block) + portBYTE_ALIGNMENT - 1u) &               \
     ~(size_t)(portBYTE_ALIGNMENT - 1u))
#define MIN_BLOCK (2u * HEADER_SIZE)
#define ALLOCATED ((size_t)1 << (sizeof(size_t) * 8u - 1u))

static uint8_t heap_area[configTOTAL_HEAP_SIZE]
    __attribute__((aligned(portBYTE_ALIGNMENT)));

/* A size-zero head whose next_free is the lowest free block. */
static struct block free_head;
static size_t free_bytes;
static size_t min_free_bytes;
static int heap_ready;

static void heap_init(void)
{
    struct block *all = (struct block *)(void *)heap_area;

    all->size = sizeof(heap_area) & ~(size_t)(portBYTE_ALIGNMENT - 1u);
    all->next_free = NULL;
    free_head.next_free = all;
    free_head.size = 0;
    free_bytes = all->size;
    min_free_bytes = free_bytes;
    heap_ready = 1;
}

/* Cuts the tail of a free block off as a new free block when it is big. */
static void split(struct block *b, size_t wanted)
{
    struct block *rest;

    if (b->size - wanted < MIN_BLOCK) {
        return;
    }
    rest = (struct block *)(void *)((uint8_t *)b + wanted);
    rest->size = b->size - wanted;
    rest->next_free = b->next_free;
    b->size = wanted;
    b->next_free = rest;
}

static void *take_first_fit(size_t wanted)
{
    struct block *prev = &free_head;
    struct block *b = free_head.next_free;

    while (b != NULL && b->size < wanted) {
        prev = b;
        b = b->next_free;
    }
    if (b == NULL) {
        return NULL;
    }
    split(b, wanted);
    prev->next_free = b->next_free;
    free_bytes -= b->size;
    if (free_bytes < min_free_bytes) {
        min_free_bytes = free_bytes;
    }
    b->size |= ALLOCATED;
    b->next_free = NULL;
    return (uint8_t *)b + HEADER_SIZE;
}

void *pvPortMalloc(size_t size)
{
    void *p = NULL;

    vTaskSuspendAll();
    if (!heap_ready) {
        heap_init();
    }
    if (size != 0 && size <= sizeof(heap_area)) {
        size_t wanted = (size + HEADER_SIZE + portBYTE_ALIGNMENT - 1u) &
                        ~(size_t)(portBYTE_ALIGNMENT - 1u);

        p = take_first_fit(wanted);
    }
    (void)xTaskResumeAll();
#if configUSE_MALLOC_FAILED_HOOK
    if (p == NULL && size != 0) {
        vApplicationMallocFailedHook();
    }
#endif
    return p;
}

static int adjacent(const struct block *a, const struct block *b)
{
    return (const uint8_t *)a + a->size == (const uint8_t *)b;
}

/* Puts b back in address order and merges it with free neighbours. */
static void insert_free(struct block *b)
{
    struct block *prev = &free_head;

    while (prev->next_free != NULL && prev->next_free < b) {
        prev = prev->next_free;
    }
    b->next_free = prev->next_free;
    if (b->next_free != NULL && adjacent(b, b->next_free)) {
        b->size += b->next_free->size;
        b->next_free = b->next_free->next_free;
    }
    if (prev != &free_head && adjacent(prev, b)) {
        prev->size += b->size;
        prev->next_free = b->next_free;
    } else {
        prev->next_free = b;
    }
}

void vPortFree(void *p)
{
    struct block *b;

    if (p == NULL) {
        return;
    }
    b = (struct block *)(void *)((uint8_t *)p - HEADER_SIZE);
    configASSERT((uint8_t *)b >= heap_area &&
                 (uint8_t *)b < heap_area + sizeof(heap_area));
    configASSERT((b->size & ALLOCATED) != 0);

    vTaskSuspendAll();
    b->size &= ~ALLOCATED;
    free_bytes += b->size;
    insert_free(b);
    (void)xTaskResumeAll();
}

size_t xPortGetFreeHeapSize(void)
{
    return heap_ready ? free_bytes : sizeof(heap_area);
}

size_t xPortGetMinimumEverFreeHeapSize(void)
{
    return heap_ready ? min_free_bytes : sizeof(heap_area);
}
