/*
 * The PAL of the stm32f4 board: the port functions of ota_pal_port.h on
 * the embedded flash interface of the STM32F405/407 (RM0090 section 3).
 * Everything else comes from pal_stubs/common.
 *
 * Flash map (emu/boards/stm32f4.toml, [slots]): 1 MiB at 0x08000000 with
 * the sector table of RM0090 section 3.3 (four of 16 KiB, one of 64 KiB,
 * seven of 128 KiB). Bootloader in sectors 0-4, primary slot in sectors
 * 5-7 at 0x08020000, secondary in sectors 8-10 at 0x08080000 (384 KiB
 * each), scratch in sector 11 at 0x080E0000.
 *
 * Programming uses plain stores with CR.PG set (RM0090 section 3.6.4):
 * words with PSIZE x32 where the address allows it, bytes with PSIZE x8
 * elsewhere, so the program unit is one byte. Erases use PSIZE x32, which
 * assumes a supply of 2.7 V or more, as on the Discovery boards.
 */
#include <stddef.h>

#include "ota_pal_port.h"

#ifndef PAL_STM32F4_CRYPTO_BASE
#define PAL_STM32F4_CRYPTO_BASE 0x40040000u
#endif

/* FLASH interface registers, RM0090 section 3.9. */
#define FLASH_R_BASE 0x40023C00u
#define FLASH_R(off) (*(volatile uint32_t *)(uintptr_t)(FLASH_R_BASE + (off)))
#define FLASH_KEYR FLASH_R(0x04u)
#define FLASH_SR FLASH_R(0x0Cu)
#define FLASH_CR FLASH_R(0x10u)

#define FLASH_KEY1 0x45670123u
#define FLASH_KEY2 0xCDEF89ABu

#define SR_EOP (1u << 0)
#define SR_OPERR (1u << 1)
#define SR_WRPERR (1u << 4)
#define SR_PGAERR (1u << 5)
#define SR_PGPERR (1u << 6)
#define SR_PGSERR (1u << 7)
#define SR_BSY (1u << 16)
#define SR_ERRORS (SR_OPERR | SR_WRPERR | SR_PGAERR | SR_PGPERR | SR_PGSERR)

#define CR_PG (1u << 0)
#define CR_SER (1u << 1)
#define CR_SNB(n) ((uint32_t)(n) << 3)
#define CR_PSIZE_X8 (0u << 8)
#define CR_PSIZE_X32 (2u << 8)
#define CR_STRT (1u << 16)
#define CR_LOCK (1u << 31)

#define FLASH_BASE 0x08000000u
#define FLASH_SECTORS 12u

static const pal_port_layout_t f4_layout = {
    .primary = 0x08020000u,
    .secondary = 0x08080000u,
    .slot_size = 0x00060000u,
    .program_unit = 1u,
    .max_img_sectors = 3u,
    .crypto_base = PAL_STM32F4_CRYPTO_BASE,
};

const pal_port_layout_t *pal_port_layout(void)
{
    return &f4_layout;
}

/* RM0090 Table 5: sectors 0-3 of 16 KiB, 4 of 64 KiB, 5-11 of 128 KiB. */
static uint32_t sector_size(uint32_t index)
{
    if (index < 4u) {
        return 0x4000u;
    }
    return index == 4u ? 0x10000u : 0x20000u;
}

bool pal_port_sector(uint32_t addr, pal_port_sector_t *out)
{
    uint32_t start = FLASH_BASE;
    uint32_t i;

    for (i = 0; i < FLASH_SECTORS; i++) {
        uint32_t size = sector_size(i);

        if (addr >= start && addr - start < size) {
            out->index = i;
            out->start = start;
            out->size = size;
            return true;
        }
        start += size;
    }
    return false;
}

static void wait_idle(void)
{
    while ((FLASH_SR & SR_BSY) != 0u) {
        ota_pal_idle();
    }
}

/* Clears old flags and unlocks CR (RM0090 section 3.6.1). */
static void begin(void)
{
    wait_idle();
    FLASH_SR = SR_EOP | SR_ERRORS;
    if ((FLASH_CR & CR_LOCK) != 0u) {
        FLASH_KEYR = FLASH_KEY1;
        FLASH_KEYR = FLASH_KEY2;
    }
}

/* Takes the error flags, clears PG and SER, and locks CR again. */
static pal_port_status_t end(void)
{
    uint32_t errors;

    wait_idle();
    errors = FLASH_SR & SR_ERRORS;
    FLASH_SR = SR_EOP | SR_ERRORS;
    FLASH_CR = CR_LOCK;
    return errors;
}

pal_port_status_t pal_port_erase(uint32_t start)
{
    pal_port_sector_t s;

    if (!pal_port_sector(start, &s) || s.start != start) {
        return 0x8000u;
    }

    /* RM0090 section 3.6.3: SER and SNB, then STRT. */
    begin();
    FLASH_CR = CR_SER | CR_SNB(s.index) | CR_PSIZE_X32;
    FLASH_CR = CR_SER | CR_SNB(s.index) | CR_PSIZE_X32 | CR_STRT;
    return end();
}

/* One word, assembled from bytes so that data may be unaligned. */
static uint32_t word_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

pal_port_status_t pal_port_program(uint32_t addr, const uint8_t *data,
                                   uint32_t len)
{
    uint32_t psize = 0xffffffffu;

    begin();
    while (len > 0u && (FLASH_SR & SR_ERRORS) == 0u) {
        uint32_t want = (addr & 3u) == 0u && len >= 4u ? CR_PSIZE_X32
                                                        : CR_PSIZE_X8;

        /* PSIZE may change only between accesses. */
        if (want != psize) {
            wait_idle();
            FLASH_CR = CR_PG | want;
            psize = want;
        }
        if (want == CR_PSIZE_X32) {
            *(volatile uint32_t *)(uintptr_t)addr = word_at(data);
            addr += 4u;
            data += 4u;
            len -= 4u;
        } else {
            *(volatile uint8_t *)(uintptr_t)addr = *data;
            addr++;
            data++;
            len--;
        }
        wait_idle();
    }
    return end();
}
