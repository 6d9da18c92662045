/*
 * The OTA PAL shared by the reference boards: an image is received into
 * the secondary MCUboot slot, checked with the crypto engine, activated by
 * a test-swap request in the secondary trailer, and confirmed by image_ok
 * in the primary trailer. A board brings only the port functions of
 * ota_pal_port.h. docs/pal.md describes the states and sub-codes.
 *
 * Receiving. Sectors are erased when a block first reaches them (a sector
 * that already reads erased is left alone), so a small file costs a few
 * erases, not a whole slot. The trailer's sectors are cleaned when the
 * file is created, so no stale request survives. Bytes that do not fill a
 * program unit wait in a one-unit staging buffer until the rest of the
 * unit arrives or the file is closed (then the unit is padded with 0xFF).
 *
 * PAL_PLANTED_BUG (0 by default) compiles in one known defect for the
 * tests of the PAL test suite: 1 skips the erase before a write, 2 ignores
 * the result of the signature check, 3 forgets a rejected or failed file
 * when asked for the image state.
 */
#include <stddef.h>
#include <string.h>

#include "crypto.h"
#include "pal_internal.h"

#ifndef PAL_PLANTED_BUG
#define PAL_PLANTED_BUG 0
#endif

/* The certificate path the job names, and the key slot that holds it. */
#ifndef PAL_SIGNER_CERT_PATH
#define PAL_SIGNER_CERT_PATH "code_signer_cert.pem"
#endif
#ifndef PAL_SIGNER_KEY_SLOT
#define PAL_SIGNER_KEY_SLOT 0u
#endif

/* Sectors of one slot that the bitmaps can track. */
#ifndef PAL_MAX_SLOT_SECTORS
#define PAL_MAX_SLOT_SECTORS 512u
#endif

#define PAL_CERT_PATH_MAX 128u
#define OK OTA_PAL_COMBINE_ERR(OtaPalSuccess, 0u)
#define FAIL(main, sub) OTA_PAL_COMBINE_ERR((main), (sub))

/* What became of the last file received since the reset. */
typedef enum {
    RX_NONE,     /* nothing received, or the receive was aborted */
    RX_OPEN,     /* a file is being received */
    RX_VERIFIED, /* closed with a good signature */
    RX_INVALID   /* its close failed, or it was rejected or aborted */
} rx_state_t;

/* The file being received; its address is the handle given to the agent. */
typedef struct {
    uint32_t size;  /* the job's file size, 0 when not given */
    uint32_t limit; /* bytes that may be written */
    uint32_t high;  /* end of the highest byte written */
    uint8_t erased[PAL_MAX_SLOT_SECTORS / 8u]; /* cleaned since create */
    uint8_t dirty[PAL_MAX_SLOT_SECTORS / 8u];  /* programmed since create */
    struct {
        bool used;
        uint32_t offset; /* file offset of the unit */
        uint32_t have;   /* bit n: byte n of the unit arrived */
        uint8_t data[PAL_PORT_MAX_UNIT];
    } stage;
} rx_file_t;

static struct {
    rx_state_t rx;
    rx_file_t file;
} pal;

static const pal_port_layout_t *layout(void)
{
    return pal_port_layout();
}

static bool is_our_file(const OtaFileContext_t *ctx)
{
    return ctx != NULL && pal.rx == RX_OPEN &&
           ctx->pFile == (otaPalFileHandle_t)&pal.file;
}

/* -- sector bookkeeping ------------------------------------------------ */

static bool bit_get(const uint8_t *map, uint32_t n)
{
    return (map[n / 8u] >> (n % 8u)) & 1u;
}

static void bit_set(uint8_t *map, uint32_t n)
{
    map[n / 8u] = (uint8_t)(map[n / 8u] | (1u << (n % 8u)));
}

/* The sector holding a file offset, and its number within the slot. */
static bool slot_sector(uint32_t offset, pal_port_sector_t *s, uint32_t *n)
{
    pal_port_sector_t first;

    if (!pal_port_sector(layout()->secondary, &first) ||
        !pal_port_sector(layout()->secondary + offset, s)) {
        return false;
    }
    *n = s->index - first.index;
    return *n < PAL_MAX_SLOT_SECTORS;
}

/* Cleans every sector of [offset, offset + len) not cleaned since create. */
static uint32_t prepare(uint32_t offset, uint32_t len)
{
    uint32_t end = offset + len;

    while (offset < end) {
        pal_port_sector_t s;
        uint32_t n;

        if (!slot_sector(offset, &s, &n)) {
            return PAL_SUB(PAL_STEP_RANGE, offset >> 8);
        }
        if (!bit_get(pal.file.erased, n)) {
#if PAL_PLANTED_BUG != 1
            uint32_t sub = pal_flash_clean(&s);

            if (sub != 0u) {
                return sub;
            }
#endif
            bit_set(pal.file.erased, n);
        }
        offset = s.start + s.size - layout()->secondary;
    }
    return 0u;
}

/* Programs file bytes (whole units) and marks their sectors dirty. */
static uint32_t put(uint32_t offset, const uint8_t *data, uint32_t len)
{
    uint32_t at;

    for (at = offset; at < offset + len;) {
        pal_port_sector_t s;
        uint32_t n;

        if (!slot_sector(at, &s, &n)) {
            return PAL_SUB(PAL_STEP_RANGE, at >> 8);
        }
        bit_set(pal.file.dirty, n);
        at = s.start + s.size - layout()->secondary;
    }
    return pal_flash_write(layout()->secondary + offset, data, len);
}

/* -- the staging unit -------------------------------------------------- */

static uint32_t stage_flush(void)
{
    uint32_t sub;

    if (!pal.file.stage.used) {
        return 0u;
    }
    sub = put(pal.file.stage.offset, pal.file.stage.data,
              layout()->program_unit);
    pal.file.stage.used = false;
    return sub;
}

/* Adds n bytes that lie inside one program unit. */
static uint32_t stage_add(uint32_t offset, const uint8_t *data, uint32_t n)
{
    uint32_t u = layout()->program_unit;
    uint32_t base = offset & ~(u - 1u);
    uint32_t full = (1u << u) - 1u;
    uint32_t i;

    if (pal.file.stage.used && pal.file.stage.offset != base) {
        uint32_t sub = stage_flush();

        if (sub != 0u) {
            return sub;
        }
    }
    if (!pal.file.stage.used) {
        pal.file.stage.used = true;
        pal.file.stage.offset = base;
        pal.file.stage.have = 0u;
        memset(pal.file.stage.data, 0xff, sizeof(pal.file.stage.data));
    }
    for (i = 0; i < n; i++) {
        pal.file.stage.data[offset - base + i] = data[i];
        pal.file.stage.have |= 1u << (offset - base + i);
    }
    return pal.file.stage.have == full ? stage_flush() : 0u;
}

/* Writes any bytes: whole units go to flash, partial ones to the stage. */
static uint32_t write_bytes(uint32_t offset, const uint8_t *data,
                            uint32_t len)
{
    uint32_t u = layout()->program_unit;

    while (len > 0u) {
        uint32_t head = offset & (u - 1u);
        uint32_t n;
        uint32_t sub;

        if (head != 0u || len < u) {
            n = u - head < len ? u - head : len;
            sub = stage_add(offset, data, n);
        } else {
            n = len & ~(u - 1u);
            sub = put(offset, data, n);
        }
        if (sub != 0u) {
            return sub;
        }
        offset += n;
        data += n;
        len -= n;
    }
    return 0u;
}

/* Erases the sectors that hold bytes of the file being dropped. */
static uint32_t wipe_dirty(void)
{
    uint32_t end = layout()->secondary + layout()->slot_size;
    pal_port_sector_t s;
    bool found = pal_port_sector(layout()->secondary, &s);
    uint32_t n;

    for (n = 0; found && s.start < end && n < PAL_MAX_SLOT_SECTORS; n++) {
        if (bit_get(pal.file.dirty, n)) {
            uint32_t sub = pal_flash_clean(&s);

            if (sub != 0u) {
                return sub;
            }
        }
        found = pal_port_sector(s.start + s.size, &s);
    }
    return 0u;
}

/* Cleans the sectors that hold the secondary slot's trailer. */
static uint32_t clean_secondary_trailer(void)
{
    uint32_t end = layout()->secondary + layout()->slot_size;
    uint32_t at = end - pal_trailer_size();

    while (at < end) {
        pal_port_sector_t s;
        uint32_t sub;

        if (!pal_port_sector(at, &s)) {
            return PAL_SUB(PAL_STEP_RANGE, at >> 8);
        }
        sub = pal_flash_clean(&s);
        if (sub != 0u) {
            return sub;
        }
        at = s.start + s.size;
    }
    return 0u;
}

/* Drops the file being received, erasing what it wrote; 0 or a sub. */
static uint32_t drop_file(OtaFileContext_t *ctx)
{
    uint32_t sub = wipe_dirty();

    pal.rx = RX_NONE;
    memset(&pal.file, 0, sizeof(pal.file));
    ctx->pFile = NULL;
    return sub;
}

/* -- signature --------------------------------------------------------- */

/* The key slot of a certificate path; false when the path is unknown. */
static bool signer_slot(const uint8_t *path, uint32_t *slot)
{
    static const char known[] = PAL_SIGNER_CERT_PATH;
    uint32_t i;

    if (path == NULL) {
        return false;
    }
    for (i = 0; i < PAL_CERT_PATH_MAX; i++) {
        if ((char)path[i] != known[i]) {
            return false;
        }
        if (known[i] == '\0') {
            *slot = PAL_SIGNER_KEY_SLOT;
            return true;
        }
    }
    return false;
}

static uint32_t file_length(void)
{
    return pal.file.size != 0u ? pal.file.size : pal.file.high;
}

/* SHA-256 of the received file, read from the secondary slot. */
static crypto_status_t hash_file(uint8_t digest[CRYPTO_SHA256_LEN])
{
    crypto_status_t st = crypto_init(layout()->crypto_base, ota_pal_idle);

    if (st == CRYPTO_OK) {
        st = crypto_sha256_init();
    }
    if (st == CRYPTO_OK) {
        st = crypto_sha256_update(
            (const void *)(uintptr_t)layout()->secondary, file_length());
    }
    if (st == CRYPTO_OK) {
        st = crypto_sha256_final(digest);
    }
    return st;
}

static OtaPalStatus_t check_signature(const OtaFileContext_t *ctx)
{
    uint8_t digest[CRYPTO_SHA256_LEN];
    const Sig_t *sig = ctx->pSignature;
    crypto_status_t st;
    crypto_result_t r;
    uint32_t slot;

    if (sig == NULL || sig->size == 0u || sig->size > kOTA_MaxSignatureSize) {
        return FAIL(OtaPalSignatureCheckFailed,
                    PAL_SUB(PAL_STEP_NO_SIGNATURE, 0u));
    }
    if (!signer_slot(ctx->pCertFilepath, &slot)) {
        return FAIL(OtaPalBadSignerCert, PAL_SUB(PAL_STEP_CERT, 0u));
    }
    st = hash_file(digest);
    if (st != CRYPTO_OK) {
        return FAIL(OtaPalSignatureCheckFailed, PAL_SUB(PAL_STEP_CRYPTO, st));
    }
    r = crypto_verify_p256(slot, digest, sig->data, sig->size);
#if PAL_PLANTED_BUG == 2
    r = CRYPTO_VALID;
#endif
    if (r == CRYPTO_VALID) {
        return OK;
    }
    if (r == CRYPTO_NO_KEY) {
        return FAIL(OtaPalBadSignerCert, PAL_SUB(PAL_STEP_SIGNATURE, r));
    }
    return FAIL(OtaPalSignatureCheckFailed, PAL_SUB(PAL_STEP_SIGNATURE, r));
}

/* -- the PAL interface ------------------------------------------------- */

OtaPalStatus_t otaPal_CreateFileForRx(OtaFileContext_t *const pFileContext)
{
    uint32_t capacity = layout()->slot_size - pal_trailer_size();
    uint32_t sub;

    if (pFileContext == NULL) {
        return FAIL(OtaPalNullFileContext, 0u);
    }
    if (pFileContext->fileSize > capacity) {
        return FAIL(OtaPalRxFileTooLarge, PAL_SUB(PAL_STEP_RANGE, 0u));
    }

    /* A file still open is dropped without erasing: it will be rewritten. */
    memset(&pal.file, 0, sizeof(pal.file));
    pal.rx = RX_NONE;
    pal.file.size = pFileContext->fileSize;
    pal.file.limit = pal.file.size != 0u ? pal.file.size : capacity;

    /* No request may survive from an earlier receive. */
    sub = clean_secondary_trailer();
    if (sub != 0u) {
        return FAIL(OtaPalRxFileCreateFailed, sub);
    }
    pal.rx = RX_OPEN;
    pFileContext->pFile = (otaPalFileHandle_t)&pal.file;
    return OK;
}

int16_t otaPal_WriteBlock(OtaFileContext_t *const pFileContext,
                          uint32_t ulOffset,
                          uint8_t *const pData,
                          uint32_t ulBlockSize)
{
    uint32_t limit = pal.file.limit;

    if (!is_our_file(pFileContext) || pData == NULL ||
        ulBlockSize > 0x7fffu || ulOffset > limit ||
        ulBlockSize > limit - ulOffset) {
        return -1;
    }
    if (ulBlockSize == 0u) {
        return 0;
    }
    if (prepare(ulOffset, ulBlockSize) != 0u ||
        write_bytes(ulOffset, pData, ulBlockSize) != 0u) {
        return -1;
    }
    if (ulOffset + ulBlockSize > pal.file.high) {
        pal.file.high = ulOffset + ulBlockSize;
    }
    return (int16_t)ulBlockSize;
}

OtaPalStatus_t otaPal_CloseFile(OtaFileContext_t *const pFileContext)
{
    OtaPalStatus_t status;
    uint32_t sub;

    if (pFileContext == NULL) {
        return FAIL(OtaPalNullFileContext, 0u);
    }
    if (!is_our_file(pFileContext)) {
        return FAIL(OtaPalFileClose, PAL_SUB(PAL_STEP_NOT_OPEN, 0u));
    }

    /* The last partial unit goes to flash before the file is hashed. */
    sub = stage_flush();
    if (sub != 0u) {
        status = FAIL(OtaPalFileClose, sub);
    } else {
        status = check_signature(pFileContext);
    }
    pal.rx = OTA_PAL_MAIN_ERR(status) == OtaPalSuccess ? RX_VERIFIED
                                                       : RX_INVALID;
    pFileContext->pFile = NULL;
    return status;
}

OtaPalStatus_t otaPal_Abort(OtaFileContext_t *const pFileContext)
{
    uint32_t sub;

    if (pFileContext == NULL) {
        return FAIL(OtaPalNullFileContext, 0u);
    }

    /* A handle that names no open file of ours needs nothing done. */
    if (!is_our_file(pFileContext)) {
        return OK;
    }
    sub = drop_file(pFileContext);
    return sub == 0u ? OK : FAIL(OtaPalAbortFailed, sub);
}

OtaPalStatus_t otaPal_ActivateNewImage(OtaFileContext_t *const pFileContext)
{
    uint32_t slot = layout()->secondary;
    pal_trailer_t t;
    uint32_t sub = 0u;

    if (pal.rx != RX_VERIFIED) {
        return FAIL(OtaPalActivateFailed, PAL_SUB(PAL_STEP_UNVERIFIED, 0u));
    }

    /* As boot_set_pending: the magic, then a test swap of image 0. */
    pal_trailer_read(slot, &t);
    if (t.magic == PAL_MAGIC_BAD) {
        return FAIL(OtaPalActivateFailed, PAL_SUB(PAL_STEP_TRAILER, 0u));
    }
    if (t.magic == PAL_MAGIC_UNSET) {
        sub = pal_trailer_write_magic(slot);
        if (sub == 0u) {
            sub = pal_trailer_write_swap_type(slot, PAL_SWAP_TYPE_TEST);
        }
    }
    if (sub != 0u) {
        return FAIL(OtaPalActivateFailed, sub);
    }
    return otaPal_ResetDevice(pFileContext);
}

OtaPalStatus_t otaPal_ResetDevice(OtaFileContext_t *const pFileContext)
{
    (void)pFileContext;
    pal_port_reset();
    return FAIL(OtaPalActivateFailed, PAL_SUB(PAL_STEP_RESET, 0u));
}

/* Confirms the running image, as MCUboot's boot_set_confirmed. */
static OtaPalStatus_t accept_image(void)
{
    pal_trailer_t t;
    uint32_t sub;

    if (pal.rx == RX_OPEN) {
        return FAIL(OtaPalCommitFailed, PAL_SUB(PAL_STEP_FILE_OPEN, 0u));
    }
    pal_trailer_read(layout()->primary, &t);
    if (t.magic == PAL_MAGIC_BAD || t.image_ok == PAL_FLAG_BAD) {
        return FAIL(OtaPalCommitFailed, PAL_SUB(PAL_STEP_TRAILER, 0u));
    }
    if (t.magic == PAL_MAGIC_UNSET || t.image_ok == PAL_FLAG_SET) {
        return OK;
    }
    sub = pal_trailer_write_image_ok(layout()->primary);
    return sub == 0u ? OK : FAIL(OtaPalCommitFailed, sub);
}

/*
 * Gives up the received image: an open file is erased, and a request this
 * boot wrote for a verified file is cancelled. A running test image needs
 * nothing written: it is not confirmed, so the bootloader reverts it at
 * the next reset. The secondary slot then holds the old image, which the
 * revert needs, so it is left alone.
 */
static OtaPalStatus_t give_up_image(OtaFileContext_t *ctx,
                                    OtaPalMainStatus_t err)
{
    pal_trailer_t t;
    uint32_t sub = 0u;

    if (is_our_file(ctx)) {
        sub = drop_file(ctx);
    }
    pal_trailer_read(layout()->secondary, &t);
    if (sub == 0u && pal.rx == RX_VERIFIED && t.magic != PAL_MAGIC_UNSET) {
        sub = clean_secondary_trailer();
    }
    pal.rx = RX_INVALID;
    return sub == 0u ? OK : FAIL(err, sub);
}

OtaPalStatus_t otaPal_SetPlatformImageState(OtaFileContext_t *const pFileContext,
                                            OtaImageState_t eState)
{
    switch (eState) {
    case OtaImageStateTesting:
        /* MCUboot's test swap already put the platform in self-test. */
        return OK;
    case OtaImageStateAccepted:
        return accept_image();
    case OtaImageStateRejected:
        return give_up_image(pFileContext, OtaPalRejectFailed);
    case OtaImageStateAborted:
        return give_up_image(pFileContext, OtaPalAbortFailed);
    default:
        return FAIL(OtaPalBadImageState, (uint32_t)eState);
    }
}

OtaPalImageState_t otaPal_GetPlatformImageState(
    OtaFileContext_t *const pFileContext)
{
    pal_trailer_t t;

    (void)pFileContext;
#if PAL_PLANTED_BUG != 3
    if (pal.rx == RX_INVALID) {
        return OtaPalImageStateInvalid;
    }
#endif
    pal_trailer_read(layout()->primary, &t);
    return pal_trailer_primary_state(&t);
}
