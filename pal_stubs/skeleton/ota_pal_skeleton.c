/*
 * A PAL to port from: every function is present with its contract and
 * answers "not implemented" (OtaPalUninitialized with a sub-code naming
 * the function, or -1 from otaPal_WriteBlock), so the PAL test suite fails
 * every case with a reason until the function is written.
 *
 * Build the test suite against it to watch that happen:
 *
 *   make -C firmware_images -f pal.mk BOARD=ref \
 *       PAL=../pal_stubs/skeleton/ota_pal_skeleton.c
 *
 * pal_stubs/README.md and docs/pal.md say what each case checks. When the
 * board keeps its images in MCUboot slots, it is less work to write the
 * five port functions of pal_stubs/common/ota_pal_port.h and link with the
 * common PAL instead.
 */
#include <stddef.h>

#include "ota_pal.h"

/* Sub-codes of OtaPalUninitialized: which function is still missing. */
enum skeleton_missing {
    MISSING_ABORT = 1,
    MISSING_CREATE = 2,
    MISSING_CLOSE = 3,
    MISSING_ACTIVATE = 4,
    MISSING_RESET = 5,
    MISSING_SET_STATE = 6
};

#define NOT_IMPLEMENTED(which) \
    OTA_PAL_COMBINE_ERR(OtaPalUninitialized, (which))

/*
 * Stop receiving the file and free what it holds: erase or invalidate the
 * bytes written so far so that they can never be booted, and set
 * pFileContext->pFile to NULL. A NULL handle, or a file that was never
 * created, is not an error: return OtaPalSuccess. Return OtaPalAbortFailed
 * only when the storage refused to be cleaned.
 */
OtaPalStatus_t otaPal_Abort(OtaFileContext_t *const pFileContext)
{
    (void)pFileContext;
    return NOT_IMPLEMENTED(MISSING_ABORT);
}

/*
 * Prepare storage for a file of pFileContext->fileSize bytes (it may be 0
 * when the size is unknown) and store your handle in pFileContext->pFile.
 * Refuse a file larger than the storage with OtaPalRxFileTooLarge and any
 * other failure with OtaPalRxFileCreateFailed. Make sure that nothing left
 * by an earlier receive (a pending boot request above all) survives.
 */
OtaPalStatus_t otaPal_CreateFileForRx(OtaFileContext_t *const pFileContext)
{
    (void)pFileContext;
    return NOT_IMPLEMENTED(MISSING_CREATE);
}

/*
 * Finish the file: write any bytes still buffered, compute the SHA-256 of
 * the fileSize bytes received and check pFileContext->pSignature (ECDSA
 * P-256, DER, as the job document carried it) against the key of the
 * certificate named by pFileContext->pCertFilepath. An unknown certificate
 * is OtaPalBadSignerCert; a signature that does not match is
 * OtaPalSignatureCheckFailed, after which otaPal_GetPlatformImageState must
 * answer Invalid (or Unknown). The handle is closed whatever the outcome.
 */
OtaPalStatus_t otaPal_CloseFile(OtaFileContext_t *const pFileContext)
{
    (void)pFileContext;
    return NOT_IMPLEMENTED(MISSING_CLOSE);
}

/*
 * Store ulBlockSize bytes at ulOffset of the file and return how many were
 * stored, or -1 on any failure (no open file, outside the file, a flash
 * error). Blocks may come in any order; the last one may be any length,
 * even one byte, so bytes that do not fill the flash's program unit must
 * wait in RAM until the rest arrives or the file is closed. Erase before
 * the first write to any part of the storage.
 */
int16_t otaPal_WriteBlock(OtaFileContext_t *const pFileContext,
                          uint32_t ulOffset,
                          uint8_t *const pData,
                          uint32_t ulBlockSize)
{
    (void)pFileContext;
    (void)ulOffset;
    (void)pData;
    (void)ulBlockSize;
    return -1;
}

/*
 * Make the file closed with a good signature the image to boot next, for
 * one trial run (with MCUboot: the magic and a "test" swap type in the
 * secondary slot's trailer, as boot_set_pending writes them), then call
 * otaPal_ResetDevice. Refuse with OtaPalActivateFailed when no verified
 * file is waiting. Returns only on failure.
 */
OtaPalStatus_t otaPal_ActivateNewImage(OtaFileContext_t *const pFileContext)
{
    (void)pFileContext;
    return NOT_IMPLEMENTED(MISSING_ACTIVATE);
}

/*
 * Reset the device now (on a Cortex-M: AIRCR.SYSRESETREQ after a DSB).
 * Returns only when the reset did not happen.
 */
OtaPalStatus_t otaPal_ResetDevice(OtaFileContext_t *const pFileContext)
{
    (void)pFileContext;
    return NOT_IMPLEMENTED(MISSING_RESET);
}

/*
 * Record the agent's verdict. Testing: the new image starts its self-test
 * (usually nothing to write). Accepted: confirm the running image so that
 * the bootloader keeps it (image_ok in the primary trailer); refuse with
 * OtaPalCommitFailed while a file is still being received. Rejected and
 * Aborted: give up the new image (erase an open file, cancel a pending
 * request) so that the next reset boots, or reverts to, the old one; then
 * the platform state is Invalid. Any other value is OtaPalBadImageState.
 */
OtaPalStatus_t otaPal_SetPlatformImageState(OtaFileContext_t *const pFileContext,
                                            OtaImageState_t eState)
{
    (void)pFileContext;
    (void)eState;
    return NOT_IMPLEMENTED(MISSING_SET_STATE);
}

/*
 * Say what the platform runs: PendingCommit while a new image runs its
 * trial and is not yet confirmed, Valid when the running image is
 * confirmed, Invalid after the new image was rejected, aborted or failed
 * its signature check, Unknown when the bootloader's records make no
 * sense.
 */
OtaPalImageState_t otaPal_GetPlatformImageState(
    OtaFileContext_t *const pFileContext)
{
    (void)pFileContext;
    return OtaPalImageStateUnknown;
}
