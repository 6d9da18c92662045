/*
 * Topics and status payloads (ota_status.h). Topic layout: AWS IoT
 * developer guide, "Jobs device MQTT API operations" and "MQTT-based file
 * delivery".
 */
#include "ota_status.h"

#include "ota_text.h"

#define THINGS_PREFIX "$aws/things/"
#define CLIENT_TOKEN_MAX 64u

static size_t finish(const struct ota_text *t)
{
    return ota_text_ok(t) ? t->len : 0u;
}

size_t ota_topic_jobs(char *buf, size_t cap, const char *thing,
                      const char *suffix)
{
    struct ota_text t;

    ota_text_init(&t, buf, cap);
    ota_text_str(&t, THINGS_PREFIX);
    ota_text_str(&t, thing);
    ota_text_str(&t, "/jobs/");
    ota_text_str(&t, suffix);
    return finish(&t);
}

size_t ota_topic_job_update(char *buf, size_t cap, const char *thing,
                            const char *job_id)
{
    struct ota_text t;

    ota_text_init(&t, buf, cap);
    ota_text_str(&t, THINGS_PREFIX);
    ota_text_str(&t, thing);
    ota_text_str(&t, "/jobs/");
    ota_text_str(&t, job_id);
    ota_text_str(&t, "/update");
    return finish(&t);
}

size_t ota_topic_stream(char *buf, size_t cap, const char *thing,
                        const char *stream, const char *suffix)
{
    struct ota_text t;

    ota_text_init(&t, buf, cap);
    ota_text_str(&t, THINGS_PREFIX);
    ota_text_str(&t, thing);
    ota_text_str(&t, "/streams/");
    ota_text_str(&t, stream);
    ota_text_str(&t, "/");
    ota_text_str(&t, suffix);
    return finish(&t);
}

size_t ota_payload_get_next(char *buf, size_t cap, uint32_t counter,
                            const char *thing)
{
    char token[CLIENT_TOKEN_MAX + 1u];
    struct ota_text tok;
    struct ota_text t;

    /* The token builder stops quietly at 64 bytes; that cut is wanted. */
    ota_text_init(&tok, token, sizeof(token));
    ota_text_dec(&tok, counter);
    ota_text_str(&tok, ":");
    ota_text_str(&tok, thing);

    ota_text_init(&t, buf, cap);
    ota_text_str(&t, "{\"clientToken\":\"");
    ota_text_json_str(&t, token);
    ota_text_str(&t, "\"}");
    return finish(&t);
}

/* Starts {"status":"<status>","statusDetails":{ */
static void open_status(struct ota_text *t, char *buf, size_t cap,
                        const char *status)
{
    ota_text_init(t, buf, cap);
    ota_text_str(t, "{\"status\":\"");
    ota_text_str(t, status);
    ota_text_str(t, "\",\"statusDetails\":{");
}

static size_t close_status(struct ota_text *t)
{
    ota_text_str(t, "}}");
    return finish(t);
}

size_t ota_payload_progress(char *buf, size_t cap, uint32_t received,
                            uint32_t total)
{
    struct ota_text t;

    open_status(&t, buf, cap, "IN_PROGRESS");
    ota_text_str(&t, "\"receive\":\"");
    ota_text_dec(&t, received);
    ota_text_str(&t, "/");
    ota_text_dec(&t, total);
    ota_text_str(&t, "\"");
    return close_status(&t);
}

size_t ota_payload_self_test(char *buf, size_t cap, const char *phase,
                             uint32_t version)
{
    struct ota_text t;

    open_status(&t, buf, cap, "IN_PROGRESS");
    ota_text_str(&t, "\"self_test\":\"");
    ota_text_json_str(&t, phase);
    ota_text_str(&t, "\",\"updatedBy\":\"");
    ota_text_hex(&t, version);
    ota_text_str(&t, "\"");
    return close_status(&t);
}

size_t ota_payload_succeeded(char *buf, size_t cap, uint32_t version)
{
    struct ota_text t;

    open_status(&t, buf, cap, "SUCCEEDED");
    ota_text_str(&t, "\"reason\":\"accepted v");
    ota_text_dec(&t, OTA_VERSION_MAJOR(version));
    ota_text_str(&t, ".");
    ota_text_dec(&t, OTA_VERSION_MINOR(version));
    ota_text_str(&t, ".");
    ota_text_dec(&t, OTA_VERSION_BUILD(version));
    ota_text_str(&t, "\"");
    return close_status(&t);
}

size_t ota_payload_failed(char *buf, size_t cap, const char *reason)
{
    struct ota_text t;

    open_status(&t, buf, cap, "FAILED");
    ota_text_str(&t, "\"reason\":\"");
    ota_text_json_str(&t, reason);
    ota_text_str(&t, "\"");
    return close_status(&t);
}

size_t ota_reason_code(char *buf, size_t cap, const char *what,
                       uint32_t code)
{
    struct ota_text t;

    ota_text_init(&t, buf, cap);
    ota_text_str(&t, what);
    ota_text_str(&t, ": ");
    ota_text_hex(&t, code);
    return finish(&t);
}
