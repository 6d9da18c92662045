/*
 * fault_stack: a task runs off the low end of its stack.
 *
 * The task's stack is the first thing in SRAM (section .ram_bottom, so it
 * starts at 0x20000000), and recurse() calls itself without end. Each
 * level pushes 8 bytes, so the stack pointer steps down through exact
 * multiples of 8 until the push of the prologue (the marked line) writes
 * below 0x20000000, where the board maps nothing: a bus error on the
 * store. BusFault is not enabled, so it becomes a HardFault, and stacking
 * that exception on the same process stack fails as well (STKERR): the
 * report says the frame cannot be read. Under QEMU, whose mps2 boards
 * map a do-nothing device below 0x20000000, this image does not fault.
 *
 * The stack check of the kernel (configCHECK_FOR_STACK_OVERFLOW) only
 * looks at a task when it is switched out, which this one never is
 * before it faults.
 */
#include "FreeRTOS.h"
#include "console.h"
#include "semihost.h"
#include "task.h"

#define DEEP_STACK_WORDS 256

static StackType_t deep_stack[DEEP_STACK_WORDS]
    __attribute__((section(".ram_bottom"), aligned(8)));
static StaticTask_t deep_tcb;

/* Far deeper than the stack allows; it only keeps the recursion finite. */
static volatile uint32_t depth_limit = 0x00100000u;

__attribute__((noipa)) uint32_t recurse(uint32_t depth)
{ /* FAULT-HERE: the push of the prologue */
    uint32_t below;

    if (depth >= depth_limit) {
        return depth;
    }
    below = recurse(depth + 1u);

    /* Keeps the compiler from turning the recursion into a loop. */
    __asm__ volatile("" : "+r"(below));
    return below + depth;
}

static void deep_task(void *arg)
{
    (void)arg;
    console_printf("fault_stack: task stack %u bytes at 0x%08lx\n",
                   (unsigned)sizeof(deep_stack),
                   (unsigned long)(uintptr_t)deep_stack);
    console_puts("fault_stack: recursing");
    console_printf("fault_stack: recursion returned %lu, no fault\n",
                   (unsigned long)recurse(0));
    semihost_exit(EXIT_TEST_FAILED);
}

int main(void)
{
    xTaskCreateStatic(deep_task, "deep", DEEP_STACK_WORDS, NULL, 1,
                      deep_stack, &deep_tcb);
    vTaskStartScheduler();
    return EXIT_TEST_FAILED;
}
