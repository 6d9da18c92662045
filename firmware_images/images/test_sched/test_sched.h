/*
 * Shared by the parts of test_sched: the check helper, the semaphore that
 * helper tasks give when they finish, and the task priorities used.
 */
#ifndef TEST_SCHED_H
#define TEST_SCHED_H

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

/* The test runs at PRIO_MAIN; helpers run below or above it. */
#define PRIO_MAIN 5
#define PRIO_ABOVE 6
#define STACK_WORDS 512

/* Given once by every helper task just before it deletes itself. */
extern SemaphoreHandle_t helper_done;

/* Counts a failure and prints what was expected. */
void check(int ok, const char *what);

/* Waits for n helpers to finish (a failed check if they do not). */
void wait_helpers(int n);

/* Starts the next step right after a tick, so it rarely spans one. */
void align_to_tick(void);

/* Ends a helper task. */
void helper_exit(void) __attribute__((noreturn));

void test_queues(void);
void test_semaphores(void);
void test_mutexes(void);
void test_notifications(void);
void test_timers(void);
void test_heap(void);

#endif
