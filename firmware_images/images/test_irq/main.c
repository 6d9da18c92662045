/*
 * test_irq: how the NVIC orders interrupts, as seen from a running task.
 *
 * External lines 5, 6 and 7 are used because nothing on the board drives
 * them unless it is set up to (UART2 TX and the GPIO 0/1 combined lines on
 * AN385/AN386; QEMU leaves the GPIO unimplemented). The task sets their
 * priorities, pends them through NVIC_ISPR or NVIC_STIR, and the handlers
 * print when they enter and leave. Priorities are multiples of 0x20 so
 * that a 3-bit NVIC (the board) and an 8-bit one (QEMU 7.2) order them
 * the same way. The scenes:
 *
 *   1. three lines pended under BASEPRI run by priority once it drops;
 *   2. three lines of equal priority pended under PRIMASK run in line
 *      number order once it clears;
 *   3. a low-priority handler pends a high-priority line, which preempts
 *      it at once, and an equal-priority line, which waits for it;
 *   4. BASEPRI holds back only the lines at or below its level;
 *   5. a handler at a kernel-safe priority wakes a task through a queue.
 */
#include "FreeRTOS.h"
#include "console.h"
#include "queue.h"
#include "semihost.h"
#include "task.h"

#define STACK_WORDS 512
#define PRIO_TEST 3
#define PRIO_WAITER 4

#define IRQ_A 5u
#define IRQ_B 6u
#define IRQ_C 7u
#define TEST_LINES ((1u << IRQ_A) | (1u << IRQ_B) | (1u << IRQ_C))

/* What the handlers do besides printing, chosen by the running scene. */
enum scene {
    SCENE_PLAIN,
    SCENE_PREEMPT,
    SCENE_KERNEL,
};

static volatile enum scene scene;
static QueueHandle_t from_isr;
static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        failures++;
        console_printf("FAIL: %s\n", what);
    }
}

/* Handlers. */

static void preempt_actions(unsigned irq)
{
    if (irq != IRQ_C) {
        return;
    }
    console_puts("irq 7 pends 5 (higher priority)");
    nvic_set_pending(IRQ_A);
    console_puts("irq 7 pends 6 (same priority)");
    nvic_set_pending(IRQ_B);
}

static void kernel_actions(unsigned irq)
{
    BaseType_t woken = pdFALSE;
    uint32_t value = 42;

    if (irq != IRQ_B) {
        return;
    }
    check(xQueueSendFromISR(from_isr, &value, &woken) == pdPASS,
          "send from ISR");
    console_printf("irq 6 sent %lu, task woken %ld\n", (unsigned long)value,
                   (long)woken);
    portYIELD_FROM_ISR(woken);
}

static void on_irq(unsigned irq)
{
    console_printf("irq %u enter (ipsr %lu, active 0x%02lx)\n", irq,
                   (unsigned long)cm_get_ipsr(),
                   (unsigned long)(NVIC_IABR(0) & TEST_LINES));
    if (scene == SCENE_PREEMPT) {
        preempt_actions(irq);
    } else if (scene == SCENE_KERNEL) {
        kernel_actions(irq);
    }
    console_printf("irq %u exit\n", irq);
}

void Irq5_Handler(void)
{
    on_irq(5);
}

void Irq6_Handler(void)
{
    on_irq(6);
}

void Irq7_Handler(void)
{
    on_irq(7);
}

/* Scenes. */

static void set_priorities(uint8_t a, uint8_t b, uint8_t c)
{
    nvic_set_priority(IRQ_A, a);
    nvic_set_priority(IRQ_B, b);
    nvic_set_priority(IRQ_C, c);
}

static uint32_t pending_lines(void)
{
    return NVIC_ISPR(0) & TEST_LINES;
}

static void scene_priority_order(void)
{
    console_puts("scene 1: priorities 5=0xc0 6=0x40 7=0x80, BASEPRI 0x20");
    scene = SCENE_PLAIN;
    set_priorities(0xC0, 0x40, 0x80);
    cm_set_basepri(0x20);
    nvic_set_pending(IRQ_A);
    nvic_set_pending(IRQ_B);
    nvic_set_pending(IRQ_C);
    console_printf("scene 1: pended 5, 6, 7; pending 0x%02lx\n",
                   (unsigned long)pending_lines());
    check(pending_lines() == TEST_LINES, "all three pending under BASEPRI");
    console_puts("scene 1: BASEPRI 0");
    cm_set_basepri(0);
    check(pending_lines() == 0, "all three ran");
}

static void scene_number_order(void)
{
    console_puts("scene 2: priorities all 0x60, PRIMASK set");
    set_priorities(0x60, 0x60, 0x60);
    cm_irq_disable();
    NVIC_STIR = IRQ_C;
    NVIC_STIR = IRQ_B;
    NVIC_STIR = IRQ_A;
    cm_dsb();
    cm_isb();
    console_printf("scene 2: STIR 7, 6, 5; pending 0x%02lx\n",
                   (unsigned long)pending_lines());
    check(pending_lines() == TEST_LINES, "all three pending under PRIMASK");
    console_puts("scene 2: PRIMASK cleared");
    cm_irq_enable();
    check(pending_lines() == 0, "all three ran");
}

static void scene_preemption(void)
{
    console_puts("scene 3: priorities 5=0x40 6=0xc0 7=0xc0, nothing masked");
    scene = SCENE_PREEMPT;
    set_priorities(0x40, 0xC0, 0xC0);
    NVIC_STIR = IRQ_C;
    cm_dsb();
    cm_isb();
    scene = SCENE_PLAIN;
    console_puts("scene 3: back in the task");
    check(pending_lines() == 0, "all three ran");
}

static void scene_basepri_level(void)
{
    console_puts("scene 4: priorities 5=0x40 7=0xc0, BASEPRI 0x80");
    set_priorities(0x40, 0xC0, 0xC0);
    cm_set_basepri(0x80);
    nvic_set_pending(IRQ_C);
    nvic_set_pending(IRQ_A);
    console_printf("scene 4: pended 7 and 5; pending 0x%02lx\n",
                   (unsigned long)pending_lines());
    check(pending_lines() == (1u << IRQ_C), "only 7 held back");
    console_puts("scene 4: BASEPRI 0");
    cm_set_basepri(0);
    check(pending_lines() == 0, "7 ran");
}

static void waiter(void *arg)
{
    uint32_t value = 0;

    (void)arg;
    check(xQueueReceive(from_isr, &value, portMAX_DELAY) == pdPASS,
          "waiter received");
    console_printf("waiter: received %lu from the interrupt\n",
                   (unsigned long)value);
    vTaskDelete(NULL);
}

static void scene_kernel_from_isr(void)
{
    console_puts("scene 5: priority 6=0xc0 sends to a queue");
    from_isr = xQueueCreate(1, sizeof(uint32_t));
    xTaskCreate(waiter, "waiter", STACK_WORDS, NULL, PRIO_WAITER, NULL);
    scene = SCENE_KERNEL;
    set_priorities(0xC0, 0xC0, 0xC0);
    nvic_set_pending(IRQ_B);
    scene = SCENE_PLAIN;
    console_puts("scene 5: back in the task");
}

static void test_task(void *arg)
{
    (void)arg;
    console_puts("test_irq: start");
    nvic_enable(IRQ_A);
    nvic_enable(IRQ_B);
    nvic_enable(IRQ_C);

    scene_priority_order();
    scene_number_order();
    scene_preemption();
    scene_basepri_level();
    scene_kernel_from_isr();

    nvic_disable(IRQ_A);
    nvic_disable(IRQ_B);
    nvic_disable(IRQ_C);
    if (failures != 0) {
        console_printf("test_irq: FAIL (%d checks)\n", failures);
        semihost_exit(EXIT_TEST_FAILED);
    }
    console_puts("test_irq: PASS");
    semihost_exit(EXIT_OK);
}

int main(void)
{
    xTaskCreate(test_task, "test", STACK_WORDS, NULL, PRIO_TEST, NULL);
    vTaskStartScheduler();
    return EXIT_TEST_FAILED;
}
