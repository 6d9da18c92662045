/*
 * The PAL test suite: the cases of the AWS OTA PAL tests, run bare-metal
 * against whichever PAL the image was linked with (docs/pal.md).
 *
 * runner.c prints one line per case, "PASS name" or "FAIL name: reason",
 * then "N passed, N failed", and exits through semihosting (0 when every
 * case passed). The activation case resets the board: runner.c keeps the
 * counts in RAM that the startup code does not clear and reports the case
 * on the next boot.
 */
#ifndef SUITE_H
#define SUITE_H

#include <stdbool.h>
#include <stdint.h>

#include "ota_pal.h"
#include "suite_board.h"

/* The certificate path the cases give to otaPal_CloseFile. */
#ifndef PAL_TEST_CERT_PATH
#define PAL_TEST_CERT_PATH "code_signer_cert.pem"
#endif

/* The key slot the runner (ota-emu pal-test) provisions the signer into. */
#ifndef PAL_TEST_KEY_SLOT
#define PAL_TEST_KEY_SLOT 0u
#endif

/* Distance between the blocks of the "many blocks" case. */
#ifndef PAL_TEST_PAGE_SIZE
#define PAL_TEST_PAGE_SIZE 4096u
#endif

/*
 * Bus address of the secondary slot, where the suite reads back the file
 * and the trailer; 0 skips those checks (a PAL that stores elsewhere).
 */
#ifndef PAL_TEST_SECONDARY
#define PAL_TEST_SECONDARY SUITE_SECONDARY
#endif

#define SUITE_REASON_MAX 160u

/* One case in progress: its file context and its first failure. */
typedef struct {
    OtaFileContext_t file;
    Sig_t sig;
    bool failed;
    char reason[SUITE_REASON_MAX];
} suite_t;

typedef struct {
    const char *name;
    void (*run)(suite_t *t);
} suite_case_t;

/* pal_test_vectors.h (in cases.c): the signer's public key, 0x04 X Y. */
extern const uint8_t pal_test_signer_key[65];

/* cases.c: the cases in the order they run; the last one resets. */
extern const suite_case_t suite_cases[];
extern const uint32_t suite_case_count;

/* cases.c: the check made on the boot that follows the activation. */
void suite_check_activation(suite_t *t);

/* runner.c: the activation case calls these around the reset. */
void suite_expect_reset(void);
void suite_reset_did_not_happen(void);

/* runner.c: building the reason of a failure. */
void suite_fail(suite_t *t, const char *text);
void suite_add(suite_t *t, const char *text);
void suite_add_hex(suite_t *t, uint32_t value);
void suite_add_dec(suite_t *t, uint32_t value);
const char *suite_status_name(OtaPalStatus_t status);
const char *suite_state_name(OtaPalImageState_t state);

/* Board support (pal_tests/<board>/board.c). */
void suite_board_init(void);
void suite_putc(char c);

/*
 * What the reset controller says of the resets since power-on: a mask of
 * SUITE_RESET_* bits, or SUITE_RESET_UNKNOWN when the board has none.
 * Reading clears the causes, so the next boot sees only its own.
 */
#define SUITE_RESET_POWER_ON (1u << 0)
#define SUITE_RESET_SOFTWARE (1u << 1)
#define SUITE_RESET_WATCHDOG (1u << 2)
#define SUITE_RESET_LOCKUP (1u << 3)
#define SUITE_RESET_UNKNOWN 0x80000000u
uint32_t suite_take_reset_causes(void);

void suite_exit(int code) __attribute__((noreturn));

#endif
