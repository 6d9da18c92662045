/*
 * Reset and exception entry of the PAL test suite on the stm32f4 board.
 *
 * The vector table has the 16 system entries of ARMv7-M and the 82
 * interrupt lines of the STM32F407 (RM0090 Table 61); the suite uses none
 * of the lines, so every entry but SysTick's goes to Default_Handler,
 * which names the exception on the console and ends the run with exit
 * code 3. Reset_Handler points VTOR at this table (the boot model starts
 * the image from its slot), enables the FPU, copies .data, clears .bss,
 * starts the console and calls main().
 */
#include <stdint.h>

#include "crt.h"
#include "semihost.h"
#include "stm32f4.h"

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);
void console_start(void);
void console_text(const char *s);

/* Symbols of stm32f4.ld. */
extern uint32_t __stack_top[];

typedef void (*handler_t)(void);

struct vector_table {
    uint32_t *initial_sp;
    handler_t handler[15u + BOARD_NUM_IRQ];
};

/* Entries 1..15, then Default_Handler for every interrupt line. */
#define SYSTEM_ENTRIES                                                   \
    Reset_Handler, Default_Handler, Default_Handler, Default_Handler,    \
        Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler,  \
        Default_Handler, 0, Default_Handler, SysTick_Handler

#define TEN Default_Handler, Default_Handler, Default_Handler,           \
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  \
    Default_Handler, Default_Handler, Default_Handler

__attribute__((section(".vectors"), used))
const struct vector_table vector_table = {
    .initial_sp = __stack_top,
    .handler = {
        SYSTEM_ENTRIES,
        TEN, TEN, TEN, TEN, TEN, TEN, TEN, TEN,
        Default_Handler, Default_Handler,
    },
};

void Reset_Handler(void)
{
    crt_init(&vector_table);
    console_start();
    semihost_exit(main());
}

/* Names the active exception and ends the run. */
void Default_Handler(void)
{
    static const char digits[] = "0123456789";
    uint32_t exc = cm_get_ipsr() & ICSR_VECTACTIVE_MASK;
    char text[] = "fault: unexpected exception 000\n";

    cm_irq_disable();
    text[28] = digits[(exc / 100u) % 10u];
    text[29] = digits[(exc / 10u) % 10u];
    text[30] = digits[exc % 10u];
    console_text(text);
    semihost_exit(EXIT_FAULT);
}
