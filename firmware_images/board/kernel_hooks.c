/*
 * How the kernel's failures show on this board: a line on the console and
 * a semihosting exit with a failure code. Images may override the hooks.
 */
#include "FreeRTOS.h"
#include "console.h"
#include "semihost.h"
#include "task.h"

void vAssertCalled(const char *file, int line)
{
    cm_irq_disable();
    console_printf("ASSERT failed: %s:%d\n", file, line);
    semihost_exit(EXIT_ASSERT);
}

__attribute__((weak)) void vApplicationStackOverflowHook(TaskHandle_t task,
                                                         char *name)
{
    (void)task;
    cm_irq_disable();
    console_printf("stack overflow in task %s\n", name);
    semihost_exit(EXIT_ASSERT);
}

__attribute__((weak)) void vApplicationMallocFailedHook(void)
{
    cm_irq_disable();
    console_puts("heap exhausted");
    semihost_exit(EXIT_ASSERT);
}

__attribute__((weak)) void vApplicationIdleHook(void)
{
}

__attribute__((weak)) void vApplicationTickHook(void)
{
}
