/*
 * Declarations shared by the files of the common PAL: the sub-status codes,
 * the flash helpers (pal_flash.c) and the MCUboot trailer (pal_trailer.c).
 * Nothing here is part of the PAL interface seen by the OTA agent.
 */
#ifndef PAL_INTERNAL_H
#define PAL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ota_pal.h"
#include "ota_pal_port.h"

/*
 * A sub-status is the step that failed in bits 23..16 and a detail in bits
 * 15..0 (a flash controller's flags, a crypto result, an offset).
 */
#define PAL_SUB(step, detail) \
    ((((uint32_t)(step)) << 16) | ((uint32_t)(detail) & 0xffffu))

enum pal_step {
    PAL_STEP_ERASE = 1,      /* the port could not erase a sector */
    PAL_STEP_PROGRAM = 2,    /* the port could not program */
    PAL_STEP_VERIFY = 3,     /* flash did not read back as written */
    PAL_STEP_NOT_OPEN = 4,   /* the handle names no open file */
    PAL_STEP_FILE_OPEN = 5,  /* a file is still being received */
    PAL_STEP_UNVERIFIED = 6, /* no file passed its signature check */
    PAL_STEP_NO_SIGNATURE = 7,
    PAL_STEP_CRYPTO = 8,     /* the crypto engine refused a command */
    PAL_STEP_SIGNATURE = 9,  /* detail: the verification result */
    PAL_STEP_TRAILER = 10,   /* a trailer holds values no writer makes */
    PAL_STEP_RESET = 11,     /* the reset request returned */
    PAL_STEP_RANGE = 12,     /* outside the slot or the file */
    PAL_STEP_CERT = 13       /* no key slot for this certificate path */
};

/* Rounds n up to a multiple of a, a power of two. */
static inline uint32_t pal_align_up(uint32_t n, uint32_t a)
{
    return (n + a - 1u) & ~(a - 1u);
}

/* -- pal_flash.c ------------------------------------------------------- */

/* True when the len bytes at addr all read 0xFF. */
bool pal_flash_is_erased(uint32_t addr, uint32_t len);

/* Erases a sector unless it already reads erased; 0 or a sub-status. */
uint32_t pal_flash_clean(const pal_port_sector_t *sector);

/*
 * Programs len bytes at addr, sector by sector and in whole program units
 * (addr and len are whole units), then reads them back. 0 or a sub-status.
 */
uint32_t pal_flash_write(uint32_t addr, const uint8_t *data, uint32_t len);

/* -- pal_trailer.c ----------------------------------------------------- */

typedef enum { PAL_MAGIC_UNSET, PAL_MAGIC_GOOD, PAL_MAGIC_BAD } pal_magic_t;
typedef enum { PAL_FLAG_UNSET, PAL_FLAG_SET, PAL_FLAG_BAD } pal_flag_t;

/* The fields of a slot's trailer that the PAL reads. */
typedef struct {
    pal_magic_t magic;
    pal_flag_t image_ok;
    pal_flag_t copy_done;
    uint8_t swap_info; /* image number << 4 | swap type; 0xFF erased */
} pal_trailer_t;

/* MCUboot's swap type "test": run the new image once. */
#define PAL_SWAP_TYPE_TEST 2u

/* Bytes the trailer takes at the end of a slot. */
uint32_t pal_trailer_size(void);

/* Decodes the trailer of the slot that starts at slot. */
void pal_trailer_read(uint32_t slot, pal_trailer_t *out);

/* Writes the magic, as MCUboot's boot_write_magic does; 0 or a sub-status. */
uint32_t pal_trailer_write_magic(uint32_t slot);

/* Sets image_ok (0x01); 0 or a sub-status. */
uint32_t pal_trailer_write_image_ok(uint32_t slot);

/* Writes swap_info for image 0 with this swap type; 0 or a sub-status. */
uint32_t pal_trailer_write_swap_type(uint32_t slot, uint8_t swap_type);

/* The platform state that a primary slot's trailer stands for. */
OtaPalImageState_t pal_trailer_primary_state(const pal_trailer_t *t);

#endif
