/*
 * The OTA Portable Abstraction Layer: what a board must provide so that the
 * OTA agent can receive, check and activate a new image.
 *
 * Names, values and meanings follow the function set of the AWS IoT OTA
 * porting guide, so that a PAL written for the AWS OTA library builds
 * against this header unchanged. The text is our own.
 */
#ifndef OTA_PAL_H
#define OTA_PAL_H

#include <stdbool.h>
#include <stdint.h>

/* Main PAL status codes, in the top byte of an OtaPalStatus_t. */
typedef enum OtaPalMainStatus {
    OtaPalSuccess = 0,
    OtaPalUninitialized = 0xe0,
    OtaPalOutOfMemory,
    OtaPalNullFileContext,
    OtaPalSignatureCheckFailed,
    OtaPalRxFileCreateFailed,
    OtaPalRxFileTooLarge,
    OtaPalBootInfoCreateFailed,
    OtaPalBadSignerCert,
    OtaPalBadImageState,
    OtaPalAbortFailed,
    OtaPalRejectFailed,
    OtaPalCommitFailed,
    OtaPalActivateFailed,
    OtaPalFileAbort,
    OtaPalFileClose
} OtaPalMainStatus_t;

/* A PAL result: main status in bits 31..24, a PAL-specific sub-code below. */
typedef uint32_t OtaPalStatus_t;
typedef uint32_t OtaPalSubStatus_t;

#define OTA_PAL_COMBINE_ERR(main, sub) \
    ((((uint32_t)(main)) << 24) | ((uint32_t)(sub) & 0x00ffffffu))
#define OTA_PAL_MAIN_ERR(status) ((OtaPalMainStatus_t)((uint32_t)(status) >> 24))
#define OTA_PAL_SUB_ERR(status) ((uint32_t)(status) & 0x00ffffffu)

/* Image states the agent asks the PAL to set. */
typedef enum OtaImageState {
    OtaImageStateUnknown = 0,
    OtaImageStateTesting = 1,
    OtaImageStateAccepted = 2,
    OtaImageStateRejected = 3,
    OtaImageStateAborted = 4,
    OtaLastImageState = OtaImageStateAborted
} OtaImageState_t;

/* What the PAL reports about the image the platform runs. */
typedef enum OtaPalImageState {
    OtaPalImageStateUnknown = 0,
    OtaPalImageStatePendingCommit,
    OtaPalImageStateValid,
    OtaPalImageStateInvalid
} OtaPalImageState_t;

#define kOTA_MaxSignatureSize 384u

/* A signature as it came in the job document, decoded from base64. */
typedef struct {
    uint16_t size;
    uint8_t data[kOTA_MaxSignatureSize];
} Sig_t;

/* The PAL's handle of the file being received; opaque to the agent. */
typedef void *otaPalFileHandle_t;

/* One file of an OTA job, shared between the agent and the PAL. */
typedef struct OtaFileContext {
    uint8_t *pFilePath;
    uint16_t filePathMaxSize;
    otaPalFileHandle_t pFile;
    uint32_t fileSize;
    uint32_t blocksRemaining;
    uint32_t fileAttributes;
    uint32_t serverFileID;
    uint8_t *pJobName;
    uint16_t jobNameMaxSize;
    uint8_t *pStreamName;
    uint16_t streamNameMaxSize;
    uint8_t *pRxBlockBitmap;
    uint16_t blockBitmapMaxSize;
    uint8_t *pCertFilepath;
    uint16_t certFilePathMaxSize;
    uint8_t *pUpdateUrlPath;
    uint16_t updateUrlMaxSize;
    uint8_t *pAuthScheme;
    uint16_t authSchemeMaxSize;
    uint32_t updaterVersion;
    bool isInSelfTest;
    uint8_t *pProtocols;
    uint16_t protocolMaxSize;
    uint8_t *pDecodeMem;
    uint32_t decodeMemMaxSize;
    uint32_t fileType;
    Sig_t *pSignature;
} OtaFileContext_t;

/* Abort the receive of a file and release what it holds. */
OtaPalStatus_t otaPal_Abort(OtaFileContext_t *const pFileContext);

/* Prepare the platform to receive a file of pFileContext->fileSize bytes. */
OtaPalStatus_t otaPal_CreateFileForRx(OtaFileContext_t *const pFileContext);

/* Close the file and check its signature against the signer certificate. */
OtaPalStatus_t otaPal_CloseFile(OtaFileContext_t *const pFileContext);

/* Write a block at an offset; returns the bytes written, or < 0 on error. */
int16_t otaPal_WriteBlock(OtaFileContext_t *const pFileContext,
                          uint32_t ulOffset,
                          uint8_t *const pData,
                          uint32_t ulBlockSize);

/* Make the received image the one to boot, then reset. */
OtaPalStatus_t otaPal_ActivateNewImage(OtaFileContext_t *const pFileContext);

/* Reset the device. Returns only on failure. */
OtaPalStatus_t otaPal_ResetDevice(OtaFileContext_t *const pFileContext);

/* Record the agent's verdict on the image (Testing, Accepted, ...). */
OtaPalStatus_t otaPal_SetPlatformImageState(OtaFileContext_t *const pFileContext,
                                            OtaImageState_t eState);

/* What the platform knows of the running image. */
OtaPalImageState_t otaPal_GetPlatformImageState(
    OtaFileContext_t *const pFileContext);

#endif
