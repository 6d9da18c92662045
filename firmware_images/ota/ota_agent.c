/*
 * The OTA agent's main loop: the connection and its subscriptions, the
 * messages of AWS IoT Jobs, and job status reports. The stream lives in
 * ota_download.c, the checks after activation in ota_selftest.c.
 */
#include "ota_agent.h"

#include <string.h>

#include "netlink.h"
#include "ota_agent_internal.h"
#include "ota_os.h"
#include "ota_status.h"
#include "ota_text.h"

/* How long the loop sleeps when no message waits. */
#define POLL_MS 1u

/* Attempts at an important status report, reconnecting between them. */
#define REPORT_ATTEMPTS 3u

struct ota_agent ota_agent;

/* ---- configuration ----------------------------------------------------- */

static bool power_of_two(uint32_t v)
{
    return v != 0u && (v & (v - 1u)) == 0u;
}

static bool check_config(const struct ota_config *cfg)
{
    if (!power_of_two(cfg->block_size) ||
        cfg->block_size < OTA_MIN_BLOCK_SIZE ||
        cfg->block_size > OTA_MAX_BLOCK_SIZE) {
        OTA_LOG("bad config: block size %lu is not a power of two "
                "from %u to %u", (unsigned long)cfg->block_size,
                OTA_MIN_BLOCK_SIZE, (unsigned)OTA_MAX_BLOCK_SIZE);
        return false;
    }
    if (cfg->blocks_per_request == 0u || cfg->progress_every == 0u ||
        cfg->request_timeout_ms == 0u || cfg->reconnect_min_ms == 0u) {
        OTA_LOG("bad config: blocks per request, progress interval, "
                "request timeout and reconnect delay must not be 0");
        return false;
    }
    if (cfg->thing_name == NULL || cfg->thing_name[0] == '\0') {
        OTA_LOG("bad config: no thing name");
        return false;
    }
    return true;
}

bool ota_agent_init(const struct ota_config *cfg, const struct ota_app *app)
{
    struct ota_agent *a = &ota_agent;

    memset(a, 0, sizeof(*a));
    a->cfg = *cfg;
    a->app = *app;
    a->state = OTA_IDLE;
    a->backoff_ms = cfg->reconnect_min_ms;
    if (!check_config(cfg)) {
        return false;
    }
    a->ready = true;
    ota_selftest_boot();
    return true;
}

/* ---- the connection ---------------------------------------------------- */

/* Subscribes to one topic under $aws/things/<thing>/jobs/. */
static bool subscribe_jobs(const char *suffix)
{
    struct ota_agent *a = &ota_agent;
    net_status_t st;

    (void)ota_topic_jobs(a->topic, sizeof(a->topic), a->cfg.thing_name,
                         suffix);
    st = net_subscribe(a->topic, 1);
    if (st != NET_OK) {
        OTA_LOG("subscribe to %s failed (net error %d)", a->topic, (int)st);
        return false;
    }
    return true;
}

static bool subscribe_all(void)
{
    if (!subscribe_jobs("notify-next") ||
        !subscribe_jobs("$next/get/accepted") ||
        !subscribe_jobs("$next/get/rejected")) {
        return false;
    }
    if (ota_agent.state == OTA_DOWNLOAD) {
        return ota_download_subscribe();
    }
    return true;
}

/* Waits the back-off delay, then doubles it up to its limit. */
static void back_off(void)
{
    struct ota_agent *a = &ota_agent;

    OTA_LOG("retrying in %lu ms", (unsigned long)a->backoff_ms);
    ota_os_sleep_ms(a->backoff_ms);
    a->backoff_ms = a->backoff_ms * 2u > a->cfg.reconnect_max_ms
                        ? a->cfg.reconnect_max_ms
                        : a->backoff_ms * 2u;
}

/*
 * Connects when needed and subscribes; one attempt, with the back-off
 * wait after a failure. The main loop resumes the work once it is linked.
 */
bool ota_link_open(void)
{
    struct ota_agent *a = &ota_agent;

    if (!net_is_connected()) {
        net_status_t st = net_connect(a->cfg.thing_name,
                                      a->cfg.connect_timeout_ms);

        if (st != NET_OK) {
            OTA_LOG("connect failed (net error %d)", (int)st);
            back_off();
            return false;
        }
        OTA_LOG("connected as %s", a->cfg.thing_name);
    }
    if (!subscribe_all()) {
        (void)net_disconnect();
        back_off();
        return false;
    }
    a->linked = true;
    a->need_resume = true;
    a->backoff_ms = a->cfg.reconnect_min_ms;
    OTA_LOG("subscribed to the jobs topics");
    return true;
}

/* Notices a lost connection; true while the link is up. */
static bool link_up(void)
{
    struct ota_agent *a = &ota_agent;

    if (a->linked && !net_is_connected()) {
        a->linked = false;
        OTA_LOG("connection lost%s",
                a->state == OTA_DOWNLOAD ? ": download suspended" : "");
    }
    return a->linked;
}

/* After (re)linking: ask for missing blocks, or for the next job. */
static void resume(void)
{
    struct ota_agent *a = &ota_agent;

    a->need_resume = false;
    if (a->state == OTA_DOWNLOAD) {
        OTA_LOG("resuming job %s: %lu of %lu blocks missing",
                a->exec.job_id, (unsigned long)a->blocks_left,
                (unsigned long)a->blocks_total);
        a->retries = 0;
        ota_download_request();
    } else {
        a->job_retries = 0;
        ota_request_job();
    }
}

/* ---- status reports ---------------------------------------------------- */

/*
 * Publishes a status payload to the current job. An important report
 * (QoS 1) is tried again after reconnecting; a progress report (QoS 0) is
 * sent once.
 */
bool ota_report(const char *status, const char *payload, size_t len,
                bool important)
{
    struct ota_agent *a = &ota_agent;
    unsigned attempts = important ? REPORT_ATTEMPTS : 1u;
    net_status_t st = NET_ERR_NOT_CONNECTED;

    if (len == 0u) {
        OTA_LOG("status %s for job %s does not fit the buffer", status,
                a->exec.job_id);
        return false;
    }
    (void)ota_topic_job_update(a->topic, sizeof(a->topic),
                               a->cfg.thing_name, a->exec.job_id);
    for (unsigned i = 0; i < attempts; i++) {
        if (!link_up() && !ota_link_open()) {
            continue;
        }
        st = net_publish(a->topic, payload, len, important ? 1u : 0u);
        if (st == NET_OK) {
            OTA_LOG("status %s sent for job %s", status, a->exec.job_id);
            return true;
        }
    }
    OTA_LOG("status %s for job %s not sent (net error %d)", status,
            a->exec.job_id, (int)st);
    return false;
}

void ota_report_failed(const char *reason)
{
    char *buf = (char *)ota_agent.tx;
    size_t n = ota_payload_failed(buf, sizeof(ota_agent.tx), reason);

    OTA_LOG("job %s failed: %s", ota_agent.exec.job_id, reason);
    (void)ota_report("FAILED", buf, n, true);
}

const char *ota_pal_name(OtaPalStatus_t st)
{
    static const char *const names[] = {
        "uninitialized",
        "out of memory",
        "null file context",
        "signature check failed",
        "receive file create failed",
        "receive file too large",
        "boot info create failed",
        "bad signer certificate",
        "bad image state",
        "abort failed",
        "reject failed",
        "commit failed",
        "activate failed",
        "file abort",
        "file close",
    };
    uint32_t main = OTA_PAL_MAIN_ERR(st);

    if (main == OtaPalSuccess) {
        return "success";
    }
    if (main < OtaPalUninitialized || main > OtaPalFileClose) {
        return "unknown PAL error";
    }
    return names[main - OtaPalUninitialized];
}

/* ---- job messages ------------------------------------------------------ */

void ota_reject_document(enum ota_job_status st)
{
    char reason[OTA_REASON_MAX];
    struct ota_text t;

    ota_text_init(&t, reason, sizeof(reason));
    ota_text_str(&t, "job document: ");
    ota_text_str(&t, ota_job_strerror(st));
    OTA_LOG("job %s rejected: %s", ota_agent.exec.job_id,
            ota_job_strerror(st));
    ota_report_failed(reason);
}

void ota_request_job(void)
{
    struct ota_agent *a = &ota_agent;
    char *buf = (char *)a->tx;
    size_t n = ota_payload_get_next(buf, sizeof(a->tx), a->token++,
                                    a->cfg.thing_name);
    net_status_t st;

    (void)ota_topic_jobs(a->topic, sizeof(a->topic), a->cfg.thing_name,
                         "$next/get");
    a->state = OTA_WAIT_JOB;
    a->job_asked_ms = ota_os_now_ms();
    st = net_publish(a->topic, buf, n, 1);
    if (st != NET_OK) {
        OTA_LOG("job request failed (net error %d)", (int)st);
        return;
    }
    OTA_LOG("asked for the next job");
}

/* A job that needs no self-test handling: start it or report why not. */
static void take_job(enum ota_job_status st, const char *msg, size_t len)
{
    struct ota_agent *a = &ota_agent;

    a->state = OTA_IDLE;
    if (st == OTA_JOB_NONE) {
        OTA_LOG("no job pending");
        return;
    }
    if (st == OTA_JOB_BAD_JSON || st == OTA_JOB_BAD_JOB_ID) {
        OTA_LOG("job message ignored: %s", ota_job_strerror(st));
        return;
    }
    if (st != OTA_JOB_OK) {
        ota_reject_document(st);
        return;
    }
    if (a->exec.self_test) {
        ota_selftest_mismatch();
        return;
    }
    ota_download_start(msg, len);
}

/*
 * A job message: the answer to $next/get, or notify-next. While a file is
 * being received only a notification that names another job (or none)
 * matters: the job was cancelled or replaced.
 */
static void on_job_message(const char *msg, size_t len, bool notify)
{
    struct ota_agent *a = &ota_agent;
    struct ota_job_execution exec;
    enum ota_job_status st = ota_job_parse_execution(msg, len, &exec);

    if (a->state == OTA_DOWNLOAD) {
        if (!notify || st == OTA_JOB_BAD_JSON || st == OTA_JOB_BAD_JOB_ID ||
            (st != OTA_JOB_NONE &&
             strcmp(exec.job_id, a->exec.job_id) == 0)) {
            return;
        }
        ota_download_cancel(st == OTA_JOB_NONE ? "no job is pending now"
                                               : "another job is next");
    }
    if (a->state == OTA_IDLE && !notify) {
        return;
    }
    a->exec = exec;
    if (a->self_test) {
        ota_selftest_job(st);
        return;
    }
    take_job(st, msg, len);
}

static bool topic_is_jobs(const char *topic, const char *suffix)
{
    struct ota_agent *a = &ota_agent;

    (void)ota_topic_jobs(a->topic, sizeof(a->topic), a->cfg.thing_name,
                         suffix);
    return strcmp(topic, a->topic) == 0;
}

/* Routes one received message by its topic. */
static void dispatch(size_t len)
{
    struct ota_agent *a = &ota_agent;
    const char *msg = (const char *)a->rx;

    if (topic_is_jobs(a->rx_topic, "notify-next")) {
        on_job_message(msg, len, true);
    } else if (topic_is_jobs(a->rx_topic, "$next/get/accepted")) {
        on_job_message(msg, len, false);
    } else if (topic_is_jobs(a->rx_topic, "$next/get/rejected")) {
        OTA_LOG("job request rejected: %s", msg);
    } else if (a->state == OTA_DOWNLOAD) {
        (void)ota_topic_stream(a->topic, sizeof(a->topic),
                               a->cfg.thing_name, a->file.stream,
                               "data/cbor");
        if (strcmp(a->rx_topic, a->topic) == 0) {
            ota_download_block(a->rx, len);
        }
    }
}

/* Takes one message; false when none waited. */
static bool poll_message(void)
{
    struct ota_agent *a = &ota_agent;
    size_t topic_len = 0;
    size_t len = 0;
    net_status_t st = net_receive(a->rx_topic, sizeof(a->rx_topic), a->rx,
                                  sizeof(a->rx) - 1u, &topic_len, &len);

    switch (st) {
    case NET_OK:
        /* The spare byte ends the payload, so text can be printed. */
        a->rx[len] = 0;
        dispatch(len);
        return true;
    case NET_ERR_NO_MESSAGE:
        return false;
    case NET_ERR_TOO_LONG:
        OTA_LOG("message dropped: %lu bytes of topic and %lu of payload "
                "do not fit", (unsigned long)topic_len, (unsigned long)len);
        return true;
    default:
        OTA_LOG("receive failed (net error %d)", (int)st);
        return false;
    }
}

/* A job request that got no answer is sent again, a limited number of
 * times; after that the agent waits for a notification. */
static void job_request_tick(uint32_t now)
{
    struct ota_agent *a = &ota_agent;

    if (a->state != OTA_WAIT_JOB ||
        now - a->job_asked_ms < a->cfg.request_timeout_ms) {
        return;
    }
    if (++a->job_retries > a->cfg.max_retries) {
        OTA_LOG("no answer to the job request: waiting for notifications");
        a->state = OTA_IDLE;
        return;
    }
    OTA_LOG("no answer to the job request after %lu ms, asking again",
            (unsigned long)a->cfg.request_timeout_ms);
    ota_request_job();
}

void ota_agent_run(void)
{
    struct ota_agent *a = &ota_agent;

    if (!a->ready) {
        OTA_LOG("agent not initialised: stopped");
    }
    while (!a->ready) {
        ota_os_sleep_ms(a->cfg.request_timeout_ms + 1000u);
    }
    for (;;) {
        if (!link_up() && !ota_link_open()) {
            continue;
        }
        if (a->need_resume) {
            resume();
        }
        if (!poll_message()) {
            uint32_t now = ota_os_now_ms();

            ota_download_tick(now);
            job_request_tick(now);
            ota_os_sleep_ms(POLL_MS);
        }
    }
}
