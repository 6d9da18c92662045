/*
 * What the parts of the kernel share with each other and not with
 * applications: the task control block and the wait/wake primitives that
 * queues and timers build on.
 *
 * Every function here that touches a list must be called inside a
 * critical section, or from an interrupt that raised BASEPRI.
 */
#ifndef KERNEL_INTERNAL_H
#define KERNEL_INTERNAL_H

#include "FreeRTOS.h"
#include "klist.h"
#include "queue.h"
#include "task.h"

/* A task's notification slot. */
enum notify_state {
    NOTIFY_IDLE,
    NOTIFY_WAITING,
    NOTIFY_PENDING,
};

struct tcb {
    /* The saved stack pointer; port_switch.S relies on it being first. */
    StackType_t *sp;

    /* Ready, delayed or suspended list; none while blocked for good. */
    struct knode state_node;
    /* The waiters list of a queue, semaphore or mutex. */
    struct knode event_node;

    UBaseType_t priority;
    /* The priority without any inherited from mutex waiters. */
    UBaseType_t base_priority;
    UBaseType_t mutexes_held;

    StackType_t *stack_low;
    uint32_t stack_words;

    volatile uint32_t notify_value;
    volatile uint8_t notify_state;
    uint8_t dynamic;

    char name[configMAX_TASK_NAME_LEN];
};

/* The running task; read by the context switch code. */
extern struct tcb *volatile kernel_current_tcb;

/* A wait of at most `ticks` ticks that began at tick `start`. */
struct ktimeout {
    TickType_t start;
    TickType_t ticks;
};

void timeout_begin(struct ktimeout *t, TickType_t ticks);

/* Returns pdTRUE when the wait is over, else the ticks left in *left. */
BaseType_t timeout_expired(const struct ktimeout *t, TickType_t *left);

/*
 * Takes the running task off the ready lists and onto `waiters` (highest
 * priority first), and onto the delayed list unless ticks is
 * portMAX_DELAY. The caller then yields and leaves its critical section.
 */
void task_block_on(struct klist *waiters, TickType_t ticks);

/* Blocks the running task without a waiters list (notifications). */
void task_block_current(TickType_t ticks);

/*
 * Makes a blocked task ready; a task that is ready already is left alone.
 * Returns pdTRUE when it should preempt the running task.
 */
BaseType_t task_unblock(struct tcb *t);

/*
 * Makes the first task of `waiters` ready. Returns pdTRUE when that task
 * should preempt the running one.
 */
BaseType_t task_wake_first(struct klist *waiters);

/* Priority changes, done by tasks.c on the ready and waiter lists. */
void task_change_priority(struct tcb *t, UBaseType_t priority);
int task_is_ready(const struct tcb *t);
UBaseType_t task_top_ready_priority(void);

/* Mutex bookkeeping for priority inheritance (priority.c). */
void task_mutex_taken(void);
void task_inherit_priority(struct tcb *holder);
BaseType_t task_mutex_given(void);
void task_disinherit_after_timeout(struct tcb *holder,
                                   UBaseType_t highest_waiter);

/* The scheduler's entry points used by the port. */
void kernel_switch_context(void);
BaseType_t kernel_tick(void);

/* Timer service, started with the scheduler when configUSE_TIMERS is 1. */
void timers_start_service(void);

/* A queue receive whose timeout began at `start` (used by the timers). */
BaseType_t queue_receive_since(QueueHandle_t queue, void *buffer,
                               TickType_t start, TickType_t ticks);

#endif
