/*
 * Runs the cases of cases.c, prints their verdicts and the summary, and
 * carries the counts across the reset of the activation case.
 */
#include <stddef.h>
#include <string.h>

#include "suite.h"

/* The record that survives a warm reset (the startup code leaves it). */
#define RECORD_MAGIC 0x50414c54u /* "PALT" */

typedef struct {
    uint32_t magic;
    uint32_t passed;
    uint32_t failed;
    uint32_t check;
} record_t;

static SUITE_NOINIT record_t record;

static uint32_t passed;
static uint32_t failed;

/* What pal-test reads from the ELF: the board and the signer's key slot. */
__attribute__((used)) const char pal_test_board[] = SUITE_BOARD_NAME;
__attribute__((used)) const uint32_t pal_test_key_slot = PAL_TEST_KEY_SLOT;

static uint32_t record_check(const record_t *r)
{
    return ~(r->magic ^ r->passed ^ (r->failed << 16));
}

static bool record_armed(void)
{
    return record.magic == RECORD_MAGIC &&
           record.check == record_check(&record);
}

static void record_clear(void)
{
    memset(&record, 0, sizeof(record));
}

/* -- output ------------------------------------------------------------ */

static void put(const char *s)
{
    while (*s != '\0') {
        suite_putc(*s++);
    }
}

static void put_hex8(uint8_t v)
{
    suite_putc("0123456789abcdef"[v >> 4]);
    suite_putc("0123456789abcdef"[v & 0xfu]);
}

static void put_dec(uint32_t v)
{
    char text[11];
    unsigned n = sizeof(text);

    text[--n] = '\0';
    do {
        text[--n] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    put(&text[n]);
}

/* -- reasons ----------------------------------------------------------- */

void suite_add(suite_t *t, const char *text)
{
    size_t len = strlen(t->reason);

    while (*text != '\0' && len + 1u < sizeof(t->reason)) {
        t->reason[len++] = *text++;
    }
    t->reason[len] = '\0';
}

void suite_add_hex(suite_t *t, uint32_t value)
{
    char text[11] = "0x";
    int i;

    for (i = 0; i < 8; i++) {
        text[2 + i] = "0123456789abcdef"[(value >> (28 - 4 * i)) & 0xfu];
    }
    text[10] = '\0';
    suite_add(t, text);
}

void suite_add_dec(suite_t *t, uint32_t value)
{
    char text[11];
    unsigned n = sizeof(text);

    text[--n] = '\0';
    do {
        text[--n] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    suite_add(t, &text[n]);
}

void suite_fail(suite_t *t, const char *text)
{
    t->failed = true;
    t->reason[0] = '\0';
    suite_add(t, text);
}

const char *suite_status_name(OtaPalStatus_t status)
{
    static const char *const names[] = {
        "OtaPalUninitialized", "OtaPalOutOfMemory", "OtaPalNullFileContext",
        "OtaPalSignatureCheckFailed", "OtaPalRxFileCreateFailed",
        "OtaPalRxFileTooLarge", "OtaPalBootInfoCreateFailed",
        "OtaPalBadSignerCert", "OtaPalBadImageState", "OtaPalAbortFailed",
        "OtaPalRejectFailed", "OtaPalCommitFailed", "OtaPalActivateFailed",
        "OtaPalFileAbort", "OtaPalFileClose",
    };
    uint32_t main_status = OTA_PAL_MAIN_ERR(status);

    if (main_status == OtaPalSuccess) {
        return "OtaPalSuccess";
    }
    if (main_status >= OtaPalUninitialized &&
        main_status <= OtaPalFileClose) {
        return names[main_status - OtaPalUninitialized];
    }
    return "not a PAL status";
}

const char *suite_state_name(OtaPalImageState_t state)
{
    switch (state) {
    case OtaPalImageStateUnknown:
        return "Unknown";
    case OtaPalImageStatePendingCommit:
        return "PendingCommit";
    case OtaPalImageStateValid:
        return "Valid";
    case OtaPalImageStateInvalid:
        return "Invalid";
    default:
        return "not a platform state";
    }
}

/* -- running ----------------------------------------------------------- */

static void report(const char *name, const suite_t *t)
{
    if (t->failed) {
        failed++;
        put("FAIL ");
        put(name);
        put(": ");
        put(t->reason);
        put("\n");
    } else {
        passed++;
        put("PASS ");
        put(name);
        put("\n");
    }
}

/* Every case ends as the AWS tests' tear-down does: with an abort. */
static void tear_down(suite_t *t)
{
    OtaPalStatus_t st = otaPal_Abort(&t->file);
    OtaPalMainStatus_t m = OTA_PAL_MAIN_ERR(st);

    if (!t->failed && m != OtaPalSuccess && m != OtaPalAbortFailed) {
        suite_fail(t, "tear-down: otaPal_Abort returned ");
        suite_add_hex(t, st);
        suite_add(t, " (");
        suite_add(t, suite_status_name(st));
        suite_add(t, ")");
    }
}

static void run_case(const suite_case_t *c)
{
    static suite_t t;

    memset(&t, 0, sizeof(t));
    c->run(&t);
    tear_down(&t);
    report(c->name, &t);
}

static void __attribute__((noreturn)) finish(void)
{
    put_dec(passed);
    put(" passed, ");
    put_dec(failed);
    put(" failed\n");
    suite_exit(failed == 0u ? 0 : 1);
}

void suite_expect_reset(void)
{
    record.magic = RECORD_MAGIC;
    record.passed = passed;
    record.failed = failed;
    record.check = record_check(&record);
}

void suite_reset_did_not_happen(void)
{
    record_clear();
}

/* The boot after the activation: report its case, then the summary. */
static void __attribute__((noreturn)) after_reset(uint32_t causes)
{
    const suite_case_t *last = &suite_cases[suite_case_count - 1u];
    static suite_t t;

    passed = record.passed;
    failed = record.failed;
    record_clear();
    memset(&t, 0, sizeof(t));
    if (causes != SUITE_RESET_UNKNOWN &&
        (causes & SUITE_RESET_SOFTWARE) == 0u) {
        suite_fail(&t, "the board restarted without a software reset "
                       "(reset causes ");
        suite_add_hex(&t, causes);
        suite_add(&t, ")");
    } else {
        suite_check_activation(&t);
    }
    report(last->name, &t);
    finish();
}

int main(void)
{
    uint32_t causes;
    uint32_t i;

    suite_board_init();
    causes = suite_take_reset_causes();
    if (record_armed()) {
        after_reset(causes);
    }
    record_clear();

    put("PAL test suite: ");
    put_dec(suite_case_count);
    put(" cases, board ");
    put(pal_test_board);
    put(", signer key slot ");
    put_dec(*(const volatile uint32_t *)&pal_test_key_slot);
    put(", key ");
    for (i = 1; i < 5u; i++) {
        put_hex8(pal_test_signer_key[i]);
    }
    put("...\n");
    for (i = 0; i < suite_case_count; i++) {
        run_case(&suite_cases[i]);
    }
    finish();
}
