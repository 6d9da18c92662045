/*
 * Flash helpers of the common PAL, on top of the board's port functions:
 * erase only what is not erased yet, and read back whatever was written.
 * Reading back is what catches a program that a controller refused
 * without raising a flag (an STM32F4 ANDs over cells that were not erased
 * and reports nothing).
 */
#include <stddef.h>

#include "pal_internal.h"

/* Reads flash as plain memory; both boards map it on the bus. */
static const volatile uint8_t *bytes_at(uint32_t addr)
{
    return (const volatile uint8_t *)(uintptr_t)addr;
}

bool pal_flash_is_erased(uint32_t addr, uint32_t len)
{
    const volatile uint8_t *p = bytes_at(addr);
    uint32_t i = 0;

    /* Whole words first when the address allows it: four times fewer reads. */
    if ((addr & 3u) == 0u) {
        const volatile uint32_t *w = (const volatile uint32_t *)p;

        for (; i + 4u <= len; i += 4u) {
            if (w[i / 4u] != 0xffffffffu) {
                return false;
            }
        }
    }
    for (; i < len; i++) {
        if (p[i] != 0xffu) {
            return false;
        }
    }
    return true;
}

uint32_t pal_flash_clean(const pal_port_sector_t *sector)
{
    pal_port_status_t st;

    if (pal_flash_is_erased(sector->start, sector->size)) {
        return 0u;
    }
    st = pal_port_erase(sector->start);
    if (st != 0u) {
        return PAL_SUB(PAL_STEP_ERASE, st);
    }
    if (!pal_flash_is_erased(sector->start, sector->size)) {
        return PAL_SUB(PAL_STEP_VERIFY, sector->index);
    }
    return 0u;
}

/* The offset of the first byte that differs, or len when all match. */
static uint32_t first_difference(uint32_t addr, const uint8_t *data,
                                 uint32_t len)
{
    const volatile uint8_t *p = bytes_at(addr);
    uint32_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != data[i]) {
            break;
        }
    }
    return i;
}

uint32_t pal_flash_write(uint32_t addr, const uint8_t *data, uint32_t len)
{
    while (len > 0u) {
        pal_port_sector_t sector;
        uint32_t room;
        uint32_t n;
        pal_port_status_t st;

        /* One port call never crosses a sector boundary. */
        if (!pal_port_sector(addr, &sector)) {
            return PAL_SUB(PAL_STEP_RANGE, 0u);
        }
        room = sector.start + sector.size - addr;
        n = len < room ? len : room;
        st = pal_port_program(addr, data, n);
        if (st != 0u) {
            return PAL_SUB(PAL_STEP_PROGRAM, st);
        }
        if (first_difference(addr, data, n) != n) {
            return PAL_SUB(PAL_STEP_VERIFY, addr);
        }
        addr += n;
        data += n;
        len -= n;
    }
    return 0u;
}

/* The default idle hook: keep polling. */
__attribute__((weak)) void ota_pal_idle(void)
{
}

/* AIRCR with its write key and SYSRESETREQ (ARMv7-M ARM, B3.2.6). */
#define PAL_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define PAL_AIRCR_SYSRESETREQ 0x05FA0004u

/* Spins this many times waiting for the reset before giving up. */
#define PAL_RESET_SPINS 100000u

__attribute__((weak)) void pal_port_reset(void)
{
    volatile uint32_t spins = 0;

    __asm__ volatile("dsb" ::: "memory");
    PAL_AIRCR = PAL_AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb" ::: "memory");
    while (spins < PAL_RESET_SPINS) {
        spins++;
    }
}
