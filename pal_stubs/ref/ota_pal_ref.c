/*
 * The PAL of the reference board (ref-m3, ref-m4f): the port functions of
 * ota_pal_port.h on the "ref-flashc" flash controller (docs/flash.md).
 * Everything else comes from pal_stubs/common.
 *
 * Flash map (emu/boards/ref-m4f.toml, [slots]): 4 MiB at 0 in 4 KiB
 * sectors, program unit 4 bytes; bootloader 0x0-0x1FFFF, primary slot at
 * 0x20000 and secondary at 0x200000, 0x1E0000 bytes each, scratch at
 * 0x3E0000. Signatures are checked by the crypto engine.
 */
#include <stddef.h>

#include "ota_pal_port.h"

#ifndef PAL_REF_CRYPTO_BASE
#define PAL_REF_CRYPTO_BASE 0x40040000u
#endif

#define FLASHC_BASE 0x40020000u
#define FLASHC(off) (*(volatile uint32_t *)(uintptr_t)(FLASHC_BASE + (off)))
#define FC_KEY FLASHC(0x00u)
#define FC_CR FLASHC(0x04u)
#define FC_ADDR FLASHC(0x08u)
#define FC_LEN FLASHC(0x0Cu)
#define FC_SR FLASHC(0x10u)
#define FC_SECTSZ FLASHC(0x18u)
#define FC_BUF(n) FLASHC(0x40u + 4u * (n))

#define FC_KEY1 0x4B455931u
#define FC_KEY2 0x4B455932u
#define FC_CR_PG (1u << 0)
#define FC_CR_SER (1u << 1)
#define FC_CR_START (1u << 2)
#define FC_CR_LOCK (1u << 31)
#define FC_SR_BSY (1u << 0)
#define FC_SR_EOP (1u << 1)
#define FC_SR_ERRORS 0x3F0u /* MISALIGNED .. BADCMD */
#define FC_BUF_BYTES 64u

#define FLASH_SIZE 0x00400000u
#define SECTOR_SIZE 0x1000u

static const pal_port_layout_t ref_layout = {
    .primary = 0x00020000u,
    .secondary = 0x00200000u,
    .slot_size = 0x001E0000u,
    .program_unit = 4u,
    .max_img_sectors = 0x001E0000u / SECTOR_SIZE,
    .crypto_base = PAL_REF_CRYPTO_BASE,
};

const pal_port_layout_t *pal_port_layout(void)
{
    return &ref_layout;
}

bool pal_port_sector(uint32_t addr, pal_port_sector_t *out)
{
    /* The flash starts at address 0. */
    if (addr >= FLASH_SIZE) {
        return false;
    }
    out->index = addr / SECTOR_SIZE;
    out->start = out->index * SECTOR_SIZE;
    out->size = SECTOR_SIZE;
    return true;
}

static void unlock(void)
{
    if ((FC_CR & FC_CR_LOCK) != 0u) {
        FC_KEY = FC_KEY1;
        FC_KEY = FC_KEY2;
    }
}

/* Starts the command in CR, waits, and returns its error flags. */
static pal_port_status_t run(uint32_t command)
{
    uint32_t errors;

    FC_SR = FC_SR_EOP | FC_SR_ERRORS;
    FC_CR = command | FC_CR_START;
    while ((FC_SR & FC_SR_BSY) != 0u) {
        ota_pal_idle();
    }
    errors = FC_SR & FC_SR_ERRORS;
    FC_SR = FC_SR_EOP | FC_SR_ERRORS;
    return errors;
}

pal_port_status_t pal_port_erase(uint32_t start)
{
    pal_port_status_t st;

    /* The controller says its sector size; this port assumes 4 KiB. */
    if (FC_SECTSZ != SECTOR_SIZE) {
        return 0x8000u;
    }
    unlock();
    FC_ADDR = start;
    st = run(FC_CR_SER);
    FC_CR = FC_CR_LOCK;
    return st;
}

/* Loads up to 64 bytes into BUF, as little-endian words. */
static void load_buffer(const uint8_t *data, uint32_t len)
{
    uint32_t i;

    for (i = 0; i < len; i += 4u) {
        uint32_t w = 0xffffffffu;
        uint32_t k;

        for (k = 0; k < 4u && i + k < len; k++) {
            w &= ~(0xffu << (8u * k));
            w |= (uint32_t)data[i + k] << (8u * k);
        }
        FC_BUF(i / 4u) = w;
    }
}

pal_port_status_t pal_port_program(uint32_t addr, const uint8_t *data,
                                   uint32_t len)
{
    pal_port_status_t st = 0u;

    unlock();
    while (len > 0u && st == 0u) {
        uint32_t n = len < FC_BUF_BYTES ? len : FC_BUF_BYTES;

        load_buffer(data, n);
        FC_ADDR = addr;
        FC_LEN = n;
        st = run(FC_CR_PG);
        addr += n;
        data += n;
        len -= n;
    }
    FC_CR = FC_CR_LOCK;
    return st;
}
