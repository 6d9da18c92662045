/*
 * What a board gives the common PAL (ota_pal_common.c): where its slots
 * are, how its flash is cut into sectors, and how to erase and program it.
 *
 * A board that keeps its images in MCUboot slots and checks signatures with
 * the crypto engine only writes these few functions; everything the OTA
 * agent sees (otaPal_*) is then shared. pal_stubs/README.md tells how.
 */
#ifndef OTA_PAL_PORT_H
#define OTA_PAL_PORT_H

#include <stdbool.h>
#include <stdint.h>

/* The largest program unit the common code stages, in bytes. */
#define PAL_PORT_MAX_UNIT 16u

/* Where the images live and what checks them. */
typedef struct {
    uint32_t primary;         /* bus address of the primary slot */
    uint32_t secondary;       /* bus address of the secondary slot */
    uint32_t slot_size;       /* bytes in each of the two slots */
    uint32_t program_unit;    /* bytes one program writes: 1, 2, 4 or 8 */
    uint32_t max_img_sectors; /* swap-status rows of a trailer */
    uintptr_t crypto_base;    /* the crypto engine (docs/crypto.md) */
} pal_port_layout_t;

/* One erase unit of the flash. */
typedef struct {
    uint32_t start; /* bus address of its first byte */
    uint32_t size;  /* bytes */
    uint32_t index; /* its number on the part, counted from 0 */
} pal_port_sector_t;

/*
 * Results of the flash functions: 0 on success, otherwise a 16-bit code
 * of the port's choosing (the controller's error flags, say). The common
 * code puts it in the low bits of the PAL sub-status.
 */
typedef uint32_t pal_port_status_t;

/* The board's layout; the pointer stays valid for the whole run. */
const pal_port_layout_t *pal_port_layout(void);

/* Fills *out with the sector holding addr; false when no sector does. */
bool pal_port_sector(uint32_t addr, pal_port_sector_t *out);

/* Erases the sector that starts at start and waits until it is done. */
pal_port_status_t pal_port_erase(uint32_t start);

/*
 * Programs len bytes at addr and waits until they are written. addr and
 * len are whole program units; the range lies inside one sector, which is
 * erased. The caller reads the bytes back to check them.
 */
pal_port_status_t pal_port_program(uint32_t addr, const uint8_t *data,
                                   uint32_t len);

/*
 * Requests a system reset. Returns only if the reset did not happen. The
 * common code brings a weak version that sets AIRCR.SYSRESETREQ.
 */
void pal_port_reset(void);

/*
 * Called while the PAL waits for the flash controller or the crypto
 * engine. The common code brings a weak version that returns at once; an
 * application may sleep here (WFI with a tick running, or a task delay).
 */
void ota_pal_idle(void);

#endif
