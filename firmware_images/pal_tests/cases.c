/*
 * The cases of the PAL test suite. They follow the AWS OTA PAL tests
 * (docs/pal.md lists them with what each expects); the test file, its
 * signature and a wrong signature come from pal_test_vectors.h, which the
 * build generates with a fresh signing key.
 *
 * Cases that write "a block" each use another 80-byte slice of the test
 * file, so that a PAL which writes over old bytes without erasing them
 * cannot pass by writing what was already there.
 */
#include <stddef.h>
#include <string.h>

#include "pal_test_vectors.h"
#include "suite.h"

#define FIRMWARE_FILE "pal_test_image.bin"
#define NO_SUCH_CERT "nonexistingfile.crt"
#define BLOCK_SIZE 80u
#define FILE_BLOCK 256u
#define MANY_BLOCKS 10u

/* Blocks are copied to RAM first: the agent hands the PAL RAM buffers. */
static uint8_t buffer[FILE_BLOCK];

static const uint8_t *slice(uint32_t k)
{
    return &pal_test_file[(k * BLOCK_SIZE) % (PAL_TEST_FILE_SIZE - BLOCK_SIZE)];
}

/* -- checks ------------------------------------------------------------ */

static bool expect_status(suite_t *t, const char *call, OtaPalStatus_t got,
                          OtaPalMainStatus_t want)
{
    if (OTA_PAL_MAIN_ERR(got) == want) {
        return true;
    }
    suite_fail(t, call);
    suite_add(t, " returned ");
    suite_add_hex(t, got);
    suite_add(t, " (");
    suite_add(t, suite_status_name(got));
    suite_add(t, "), expected ");
    suite_add(t, suite_status_name(OTA_PAL_COMBINE_ERR(want, 0u)));
    return false;
}

/* The state after a failed or refused image: Invalid, or Unknown. */
static bool expect_not_usable(suite_t *t, const char *after)
{
    OtaPalImageState_t s = otaPal_GetPlatformImageState(&t->file);

    if (s == OtaPalImageStateInvalid || s == OtaPalImageStateUnknown) {
        return true;
    }
    suite_fail(t, "otaPal_GetPlatformImageState after ");
    suite_add(t, after);
    suite_add(t, " returned ");
    suite_add(t, suite_state_name(s));
    suite_add(t, ", expected Invalid or Unknown");
    return false;
}

/* -- steps ------------------------------------------------------------- */

static bool create(suite_t *t, uint32_t size)
{
    OtaPalStatus_t st;

    t->file.pFilePath = (uint8_t *)FIRMWARE_FILE;
    t->file.fileSize = size;
    st = otaPal_CreateFileForRx(&t->file);
    if (!expect_status(t, "otaPal_CreateFileForRx", st, OtaPalSuccess)) {
        return false;
    }
    if (t->file.pFile == NULL) {
        suite_fail(t, "otaPal_CreateFileForRx succeeded but left pFile NULL");
        return false;
    }
    return true;
}

static bool write_block(suite_t *t, uint32_t offset, const uint8_t *data,
                        uint32_t len)
{
    int16_t n;

    memcpy(buffer, data, len);
    n = otaPal_WriteBlock(&t->file, offset, buffer, len);
    if (n == (int16_t)len) {
        return true;
    }
    suite_fail(t, "otaPal_WriteBlock of ");
    suite_add_dec(t, len);
    suite_add(t, " bytes at offset ");
    suite_add_dec(t, offset);
    suite_add(t, " returned ");
    suite_add(t, n < 0 ? "-" : "");
    suite_add_dec(t, (uint32_t)(n < 0 ? -n : n));
    return false;
}

/* The whole test file, last block first: blocks may come in any order. */
static bool write_file(suite_t *t)
{
    uint32_t blocks = (PAL_TEST_FILE_SIZE + FILE_BLOCK - 1u) / FILE_BLOCK;

    while (blocks-- > 0u) {
        uint32_t offset = blocks * FILE_BLOCK;
        uint32_t len = PAL_TEST_FILE_SIZE - offset;

        if (!write_block(t, offset, &pal_test_file[offset],
                         len < FILE_BLOCK ? len : FILE_BLOCK)) {
            return false;
        }
    }
    return true;
}

static void sign(suite_t *t, const uint8_t *sig, uint16_t len,
                 const char *cert)
{
    t->sig.size = len;
    memcpy(t->sig.data, sig, len);
    t->file.pSignature = &t->sig;
    t->file.pCertFilepath = (uint8_t *)cert;
}

static void sign_valid(suite_t *t)
{
    sign(t, pal_test_sig_valid, PAL_TEST_SIG_VALID_SIZE, PAL_TEST_CERT_PATH);
}

static void sign_invalid(suite_t *t)
{
    sign(t, pal_test_sig_invalid, PAL_TEST_SIG_INVALID_SIZE,
         PAL_TEST_CERT_PATH);
}

static bool close_as(suite_t *t, OtaPalMainStatus_t want)
{
    OtaPalStatus_t st = otaPal_CloseFile(&t->file);

    return expect_status(t, "otaPal_CloseFile", st, want);
}

/* The file lands in the secondary slot, byte for byte. */
static void check_received(suite_t *t)
{
    const uint8_t *slot = (const uint8_t *)(uintptr_t)PAL_TEST_SECONDARY;
    uint32_t i;

    if (PAL_TEST_SECONDARY == 0u) {
        return;
    }
    for (i = 0; i < PAL_TEST_FILE_SIZE; i++) {
        if (slot[i] != pal_test_file[i]) {
            suite_fail(t, "after the close the secondary slot differs from "
                          "the file at offset ");
            suite_add_dec(t, i);
            return;
        }
    }
}

/* -- otaPal_CloseFile -------------------------------------------------- */

static void close_valid_signature(suite_t *t)
{
    if (create(t, PAL_TEST_FILE_SIZE) && write_file(t)) {
        sign_valid(t);
        if (close_as(t, OtaPalSuccess)) {
            check_received(t);
        }
    }
}

static void close_invalid_signature_with_block(suite_t *t)
{
    if (create(t, PAL_TEST_FILE_SIZE) &&
        write_block(t, 0u, slice(1), BLOCK_SIZE)) {
        sign_invalid(t);
        close_as(t, OtaPalSignatureCheckFailed);
    }
}

static void close_invalid_signature_no_block(suite_t *t)
{
    if (create(t, PAL_TEST_FILE_SIZE)) {
        sign_invalid(t);
        close_as(t, OtaPalSignatureCheckFailed);
    }
}

static void close_unknown_signer_cert(suite_t *t)
{
    if (create(t, PAL_TEST_FILE_SIZE) &&
        write_block(t, 0u, slice(2), BLOCK_SIZE)) {
        sign(t, pal_test_sig_valid, PAL_TEST_SIG_VALID_SIZE, NO_SUCH_CERT);
        close_as(t, OtaPalBadSignerCert);
    }
}

/* -- otaPal_CreateFileForRx and otaPal_Abort --------------------------- */

static void create_any_file(suite_t *t)
{
    create(t, PAL_TEST_FILE_SIZE);
}

static void expect_abort_success(suite_t *t)
{
    OtaPalStatus_t st = otaPal_Abort(&t->file);

    if (expect_status(t, "otaPal_Abort", st, OtaPalSuccess) &&
        t->file.pFile != NULL) {
        suite_fail(t, "otaPal_Abort succeeded but left pFile set");
    }
}

static void abort_open_file(suite_t *t)
{
    if (create(t, PAL_TEST_FILE_SIZE)) {
        expect_abort_success(t);
    }
}

static void abort_file_with_block(suite_t *t)
{
    if (create(t, PAL_TEST_FILE_SIZE) &&
        write_block(t, 0u, slice(3), BLOCK_SIZE)) {
        expect_abort_success(t);
    }
}

static void abort_null_handle(suite_t *t)
{
    t->file.pFilePath = (uint8_t *)FIRMWARE_FILE;
    t->file.pFile = NULL;
    expect_abort_success(t);
}

static void abort_nonexistent_file(suite_t *t)
{
    t->file.pFilePath = (uint8_t *)"nonexistingfile.bin";
    expect_abort_success(t);
}

/* -- otaPal_WriteBlock ------------------------------------------------- */

static void write_single_byte(suite_t *t)
{
    static const uint8_t byte = 0xAAu;

    if (create(t, PAL_TEST_FILE_SIZE)) {
        write_block(t, 0u, &byte, 1u);
    }
}

static void write_many_blocks(suite_t *t)
{
    uint32_t i;

    if (!create(t, PAL_TEST_PAGE_SIZE * MANY_BLOCKS)) {
        return;
    }
    for (i = 0; i < MANY_BLOCKS; i++) {
        if (!write_block(t, i * PAL_TEST_PAGE_SIZE, slice(4u + i),
                         BLOCK_SIZE)) {
            return;
        }
    }
}

/* -- otaPal_SetPlatformImageState and otaPal_GetPlatformImageState ----- */

/* Create, write a block, set the state, and check the status. */
static bool set_state(suite_t *t, uint32_t k, OtaImageState_t state,
                      OtaPalMainStatus_t want)
{
    OtaPalStatus_t st;

    if (!create(t, PAL_TEST_FILE_SIZE) ||
        !write_block(t, 0u, slice(k), BLOCK_SIZE)) {
        return false;
    }
    st = otaPal_SetPlatformImageState(&t->file, state);
    return expect_status(t, "otaPal_SetPlatformImageState", st, want);
}

static void set_state_testing(suite_t *t)
{
    set_state(t, 5u, OtaImageStateTesting, OtaPalSuccess);
}

static void set_state_invalid(suite_t *t)
{
    set_state(t, 6u, (OtaImageState_t)(OtaLastImageState + 1),
              OtaPalBadImageState);
}

static void set_state_unknown(suite_t *t)
{
    set_state(t, 7u, OtaImageStateUnknown, OtaPalBadImageState);
}

static void set_state_rejected(suite_t *t)
{
    if (set_state(t, 8u, OtaImageStateRejected, OtaPalSuccess)) {
        expect_not_usable(t, "Rejected");
    }
}

static void set_state_aborted(suite_t *t)
{
    if (set_state(t, 9u, OtaImageStateAborted, OtaPalSuccess)) {
        expect_not_usable(t, "Aborted");
    }
}

static void set_state_accepted_without_close(suite_t *t)
{
    set_state(t, 10u, OtaImageStateAccepted, OtaPalCommitFailed);
}

static void get_state_after_failed_close(suite_t *t)
{
    if (create(t, PAL_TEST_FILE_SIZE) &&
        write_block(t, 0u, slice(11), BLOCK_SIZE)) {
        sign_invalid(t);
        if (close_as(t, OtaPalSignatureCheckFailed)) {
            expect_not_usable(t, "a failed close");
        }
    }
}

/* -- otaPal_ActivateNewImage ------------------------------------------- */

static void activate_new_image(suite_t *t)
{
    OtaPalStatus_t st;

    if (!create(t, PAL_TEST_FILE_SIZE) || !write_file(t)) {
        return;
    }
    sign_valid(t);
    if (!close_as(t, OtaPalSuccess)) {
        return;
    }
    suite_expect_reset();
    st = otaPal_ActivateNewImage(&t->file);
    suite_reset_did_not_happen();
    suite_fail(t, "otaPal_ActivateNewImage returned ");
    suite_add_hex(t, st);
    suite_add(t, " (");
    suite_add(t, suite_status_name(st));
    suite_add(t, ") and the board did not reset");
}

/* MCUboot's trailer magic for alignments up to 8 bytes. */
static const uint8_t boot_magic[16] = {
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
    0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

/*
 * On the next boot the secondary trailer asks for a test swap (magic,
 * image_ok unset, swap type test or erased), or a bootloader has already
 * acted on the request and the slot no longer holds the file. A slot that
 * still holds the file with no request means the activation wrote none.
 */
void suite_check_activation(suite_t *t)
{
    const uint8_t *slot = (const uint8_t *)(uintptr_t)PAL_TEST_SECONDARY;
    uint32_t end = SUITE_SLOT_SIZE;
    uint8_t info;

    if (PAL_TEST_SECONDARY == 0u) {
        return;
    }
    if (memcmp(&slot[end - 16u], boot_magic, sizeof(boot_magic)) != 0) {
        if (memcmp(slot, pal_test_file, PAL_TEST_FILE_SIZE) == 0) {
            suite_fail(t, "the board reset but the secondary trailer holds "
                          "no request to boot the file");
        }
        return;
    }
    if (slot[end - 24u] != 0xffu) {
        suite_fail(t, "the secondary trailer asks for a permanent swap, "
                      "not a test");
        return;
    }
    info = slot[end - 40u];
    if (info != 0xffu && (info & 0x0fu) != 2u) {
        suite_fail(t, "the secondary trailer's swap type is ");
        suite_add_dec(t, info & 0x0fu);
        suite_add(t, ", not test (2)");
    }
}

const suite_case_t suite_cases[] = {
    { "close_valid_signature", close_valid_signature },
    { "close_invalid_signature_with_block",
      close_invalid_signature_with_block },
    { "close_invalid_signature_no_block", close_invalid_signature_no_block },
    { "close_unknown_signer_cert", close_unknown_signer_cert },
    { "create_any_file", create_any_file },
    { "abort_open_file", abort_open_file },
    { "abort_file_with_block", abort_file_with_block },
    { "abort_null_handle", abort_null_handle },
    { "abort_nonexistent_file", abort_nonexistent_file },
    { "write_single_byte", write_single_byte },
    { "write_many_blocks", write_many_blocks },
    { "set_state_testing", set_state_testing },
    { "set_state_invalid", set_state_invalid },
    { "set_state_unknown", set_state_unknown },
    { "set_state_rejected", set_state_rejected },
    { "set_state_aborted", set_state_aborted },
    { "set_state_accepted_without_close", set_state_accepted_without_close },
    { "get_state_after_failed_close", get_state_after_failed_close },
    { "activate_new_image", activate_new_image },
};

const uint32_t suite_case_count =
    sizeof(suite_cases) / sizeof(suite_cases[0]);
