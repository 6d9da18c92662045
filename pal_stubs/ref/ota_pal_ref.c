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
#define FC_SRC FLASHC(0x1Cu)

#define FC_KEY1 0x4B455931u
#define FC_KEY2 0x4B455932u
#define FC_CR_PG (1u << 0)
#define FC_CR_SER (1u << 1)
#define FC_CR_START (1u << 2)
#define FC_CR_DMA (1u << 3)
#define FC_CR_LOCK (1u << 31)
#define FC_SR_BSY (1u << 0)
#define FC_SR_EOP (1u << 1)
#define FC_SR_ERRORS 0x7F0u /* MISALIGNED .. SRCERR */

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

/*
 * Programs with the controller's DMA mode: it reads the bytes straight from
 * data, so one command writes a whole run up to the end of its sector.
 * The common code already keeps a call inside one sector and stages
 * partial units; the loop only guards against a caller that does not.
 */
pal_port_status_t pal_port_program(uint32_t addr, const uint8_t *data,
                                   uint32_t len)
{
    pal_port_status_t st = 0u;

    /*
     * The controller reads data behind the compiler's back: finish every
     * store to it before the first command starts.
     */
    __asm__ volatile("dsb" ::: "memory");
    unlock();
    while (len > 0u && st == 0u) {
        uint32_t room = SECTOR_SIZE - (addr % SECTOR_SIZE);
        uint32_t n = len < room ? len : room;

        FC_SRC = (uint32_t)(uintptr_t)data;
        FC_ADDR = addr;
        FC_LEN = n;
        st = run(FC_CR_PG | FC_CR_DMA);
        addr += n;
        data += n;
        len -= n;
    }
    FC_CR = FC_CR_LOCK;
    return st;
}
