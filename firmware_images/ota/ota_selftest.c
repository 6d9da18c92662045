/*
 * The self-test of a freshly activated image. The platform reports
 * PendingCommit at boot; the job's statusDetails then carry self_test and
 * updatedBy, the version that downloaded this image. The image is accepted
 * only when it is newer than that version (or downgrades are allowed) and
 * the application's self-test passes, all before the self-test timer runs
 * out. A rejected image, or an expired timer, ends in a reset, after which
 * the bootloader brings the previous image back.
 */
#include <string.h>

#include "ota_agent_internal.h"
#include "ota_status.h"

static const char *platform_state_name(OtaPalImageState_t st)
{
    switch (st) {
    case OtaPalImageStatePendingCommit:
        return "PendingCommit";
    case OtaPalImageStateValid:
        return "Valid";
    case OtaPalImageStateInvalid:
        return "Invalid";
    default:
        return "Unknown";
    }
}

/* Runs in the timer's context: no blocking, just the reset. */
static void timer_expired(void)
{
    OTA_LOG("self-test timer expired: resetting without accepting the "
            "image");
    (void)otaPal_ResetDevice(&ota_agent.ctx);
}

static void print_version(const char *what, uint32_t v)
{
    OTA_LOG("%s %lu.%lu.%lu (0x%08lx)", what,
            (unsigned long)OTA_VERSION_MAJOR(v),
            (unsigned long)OTA_VERSION_MINOR(v),
            (unsigned long)OTA_VERSION_BUILD(v), (unsigned long)v);
}

void ota_selftest_boot(void)
{
    struct ota_agent *a = &ota_agent;
    OtaPalImageState_t st = otaPal_GetPlatformImageState(&a->ctx);

    print_version("running version", a->app.version);
    OTA_LOG("platform image state: %s", platform_state_name(st));
    if (st != OtaPalImageStatePendingCommit) {
        return;
    }
    a->self_test = true;
    if (!ota_os_timer_start(a->cfg.self_test_timeout_ms, timer_expired)) {
        OTA_LOG("self-test timer did not start");
    }
    OTA_LOG("new image in self-test: it must pass within %lu ms",
            (unsigned long)a->cfg.self_test_timeout_ms);
}

/* Resets into the previous image; only returns when the reset fails. */
static void reset(void)
{
    OtaPalStatus_t pal;

    ota_os_timer_stop();
    OTA_LOG("resetting");
    pal = otaPal_ResetDevice(&ota_agent.ctx);
    OTA_LOG("reset failed: %s (0x%08lx)", ota_pal_name(pal),
            (unsigned long)pal);
    ota_agent.self_test = false;
    ota_agent.state = OTA_IDLE;
}

/* Rejects the new image: image state Rejected, the job FAILED, reset. */
static void reject(const char *reason)
{
    OtaPalStatus_t pal;

    OTA_LOG("self-test: %s", reason);
    pal = otaPal_SetPlatformImageState(&ota_agent.ctx, OtaImageStateRejected);
    if (OTA_PAL_MAIN_ERR(pal) != OtaPalSuccess) {
        OTA_LOG("set image state Rejected failed: %s (0x%08lx)",
                ota_pal_name(pal), (unsigned long)pal);
    }
    ota_report_failed(reason);
    reset();
}

/* Sets an image state; on failure rejects the image with the code. */
static bool set_state(OtaImageState_t state, const char *name)
{
    OtaPalStatus_t pal = otaPal_SetPlatformImageState(&ota_agent.ctx, state);
    char reason[OTA_REASON_MAX];

    if (OTA_PAL_MAIN_ERR(pal) == OtaPalSuccess) {
        return true;
    }
    OTA_LOG("set image state %s failed: %s (0x%08lx)", name,
            ota_pal_name(pal), (unsigned long)pal);
    (void)ota_reason_code(reason, sizeof(reason), "rejected", pal);
    reject(reason);
    return false;
}

static void report_self_test(const char *phase)
{
    struct ota_agent *a = &ota_agent;
    char *buf = (char *)a->tx;
    size_t n = ota_payload_self_test(buf, sizeof(a->tx), phase,
                                     a->app.version);

    (void)ota_report("IN_PROGRESS", buf, n, true);
}

static void report_succeeded(void)
{
    struct ota_agent *a = &ota_agent;
    char *buf = (char *)a->tx;
    size_t n = ota_payload_succeeded(buf, sizeof(a->tx), a->app.version);

    (void)ota_report("SUCCEEDED", buf, n, true);
}

/* The image is newer: test it, then accept it. */
static void run_test(void)
{
    struct ota_agent *a = &ota_agent;

    if (!set_state(OtaImageStateTesting, "Testing")) {
        return;
    }
    report_self_test("active");
    OTA_LOG("self-test: running the application's self-test");
    if (a->app.self_test != NULL && !a->app.self_test()) {
        reject("rejected: self-test failed");
        return;
    }
    if (!set_state(OtaImageStateAccepted, "Accepted")) {
        return;
    }
    ota_os_timer_stop();
    a->self_test = false;
    print_version("self-test passed: accepted version", a->app.version);
    report_succeeded();
}

void ota_selftest_job(enum ota_job_status st)
{
    struct ota_agent *a = &ota_agent;
    uint32_t running = a->app.version;
    uint32_t previous = a->exec.updated_by;

    if (st == OTA_JOB_BAD_JSON) {
        OTA_LOG("self-test: job message ignored: %s", ota_job_strerror(st));
        return;
    }
    a->state = OTA_IDLE;
    if (st != OTA_JOB_OK || !a->exec.self_test) {
        OTA_LOG("self-test: no job in self-test (%s): rejecting the image",
                st == OTA_JOB_OK ? "the job says nothing of it"
                                 : ota_job_strerror(st));
        (void)otaPal_SetPlatformImageState(&a->ctx, OtaImageStateRejected);
        reset();
        return;
    }
    OTA_LOG("self-test: job %s, phase %s", a->exec.job_id,
            a->exec.self_test_phase);
    print_version("self-test: updated by version", previous);
    if (running == previous) {
        reject("rejected: same version");
    } else if (running < previous && !a->cfg.allow_downgrade) {
        reject("rejected: downgrade");
    } else {
        run_test();
    }
}

/*
 * The job is in self-test but this image is not waiting for its commit,
 * most often because the bootloader brought the previous image back. One
 * case is not a failure: this very image reported "active", was accepted,
 * and the reset came before the cloud heard of it.
 */
void ota_selftest_mismatch(void)
{
    struct ota_agent *a = &ota_agent;
    OtaPalImageState_t st = otaPal_GetPlatformImageState(&a->ctx);

    if (strcmp(a->exec.self_test_phase, "active") == 0 &&
        a->exec.updated_by == a->app.version &&
        st == OtaPalImageStateValid) {
        OTA_LOG("job %s: this image was accepted before the last reset",
                a->exec.job_id);
        report_succeeded();
        return;
    }
    OTA_LOG("job %s is in self-test but the platform is not (%s)",
            a->exec.job_id, platform_state_name(st));
    ota_report_failed("rejected: not in self-test");
}
