/*
 * Semihosting requests. The operation goes in r0 and its argument (a value
 * or the address of a parameter block) in r1; the host answers in r0.
 */
#include <stdint.h>

#include "semihost.h"

static uint32_t semihost_call(uint32_t op, uintptr_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;

    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihost_writec(char c)
{
    /* SYS_WRITEC takes the address of the character, not its value. */
    volatile char ch = c;

    semihost_call(SEMIHOST_SYS_WRITEC, (uintptr_t)&ch);
}

void semihost_write0(const char *s)
{
    semihost_call(SEMIHOST_SYS_WRITE0, (uintptr_t)s);
}

void semihost_exit(int code)
{
    /* The block must stay in memory while the host reads it. */
    static volatile uint32_t block[2];

    if (code == 0) {
        /* On AArch32, SYS_EXIT takes the reason itself in r1. */
        semihost_call(SEMIHOST_SYS_EXIT, SEMIHOST_ADP_APPLICATION_EXIT);
    } else {
        block[0] = SEMIHOST_ADP_APPLICATION_EXIT;
        block[1] = (uint32_t)code;
        semihost_call(SEMIHOST_SYS_EXIT_EXTENDED, (uintptr_t)block);
    }

    /* Without a host that ends the run, stop here for good. */
    for (;;) {
        __asm__ volatile("" ::: "memory");
    }
}

int semihost_get_cmdline(char *buf, unsigned size)
{
    static volatile uint32_t block[2];

    block[0] = (uint32_t)(uintptr_t)buf;
    block[1] = size;
    return semihost_call(0x15, (uintptr_t)block) == 0 ? 0 : -1;
}
