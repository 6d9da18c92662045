/*
 * Board support of the PAL test suite on the stm32f4 board: a polled
 * console on USART2, a 1 kHz SysTick so that the PAL can sleep while the
 * flash works, and the reset causes of the ref-sysctl stand-in.
 *
 * On silicon USART2 also needs its clock (RCC_APB1ENR.USART2EN); the
 * emulated board models no RCC, so the console does not touch it.
 */
#include <stdint.h>

#include "semihost.h"
#include "stm32f4.h"
#include "suite.h"

#define SYSCTL_BASE 0x40021000u
#define SYSCTL_RSTINFO REG32(SYSCTL_BASE + 0x000u)
#define SYSCTL_ID REG32(SYSCTL_BASE + 0xFFCu)
#define SYSCTL_ID_VALUE 0x53595343u /* "SYSC" */
#define RSTINFO_CAUSES 0xFu

void console_start(void);
void console_text(const char *s);

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

void console_start(void)
{
    USART_CR1(USART2_BASE) = 0u;
    USART_BRR(USART2_BASE) = CONSOLE_BRR;
    USART_CR1(USART2_BASE) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

void suite_putc(char c)
{
    while ((USART_SR(USART2_BASE) & USART_SR_TXE) == 0u) {
        continue;
    }
    USART_DR(USART2_BASE) = (uint8_t)c;
}

void console_text(const char *s)
{
    while (*s != '\0') {
        suite_putc(*s++);
    }
}

void suite_board_init(void)
{
    SYST_RVR = BOARD_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}

uint32_t suite_take_reset_causes(void)
{
    uint32_t causes;

    if (SYSCTL_ID != SYSCTL_ID_VALUE) {
        return SUITE_RESET_UNKNOWN;
    }
    causes = SYSCTL_RSTINFO & RSTINFO_CAUSES;
    SYSCTL_RSTINFO = causes;
    return causes;
}

/* The PAL waits here: the next interrupt (SysTick at the latest) wakes it. */
void ota_pal_idle(void)
{
    __asm__ volatile("wfi" ::: "memory");
}

void suite_exit(int code)
{
    semihost_exit(code);
}
