/*
 * Board support of the PAL test suite on the reference board: the console
 * of board/console.c (started by board/startup.c), a 1 kHz SysTick so that
 * the PAL can sleep while the flash controller works, and the reset causes
 * of the ref-sysctl reset controller (docs/boot.md, "Reset controller").
 */
#include <stdint.h>

#include "console.h"
#include "mps2.h"
#include "semihost.h"
#include "suite.h"

#define SYSCTL_BASE 0x40021000u
#define SYSCTL_RSTINFO REG32(SYSCTL_BASE + 0x000u)
#define SYSCTL_ID REG32(SYSCTL_BASE + 0xFFCu)
#define SYSCTL_ID_VALUE 0x53595343u /* "SYSC" */
#define RSTINFO_CAUSES 0xFu

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

void suite_board_init(void)
{
    SYST_RVR = BOARD_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}

void suite_putc(char c)
{
    console_putc(c);
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
