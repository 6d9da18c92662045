/*
 * Topics and JSON payloads the agent publishes to AWS IoT Jobs.
 *
 * Job status updates go to $aws/things/<thing>/jobs/<jobId>/update as
 *   {"status":"<STATUS>","statusDetails":{...}}
 * with the details of docs/ota_agent.md ("Status reports"). Each builder
 * returns the length written, or 0 when the text does not fit.
 */
#ifndef OTA_STATUS_H
#define OTA_STATUS_H

#include <stddef.h>
#include <stdint.h>

/* The version word: major in bits 31..24, minor 23..16, build 15..0. */
#define OTA_VERSION(major, minor, build)                          \
    ((((uint32_t)(major) & 0xFFu) << 24) |                        \
     (((uint32_t)(minor) & 0xFFu) << 16) | ((uint32_t)(build) & 0xFFFFu))
#define OTA_VERSION_MAJOR(v) ((uint32_t)(v) >> 24)
#define OTA_VERSION_MINOR(v) (((uint32_t)(v) >> 16) & 0xFFu)
#define OTA_VERSION_BUILD(v) ((uint32_t)(v) & 0xFFFFu)

/* $aws/things/<thing>/jobs/<suffix> */
size_t ota_topic_jobs(char *buf, size_t cap, const char *thing,
                      const char *suffix);

/* $aws/things/<thing>/jobs/<job_id>/update */
size_t ota_topic_job_update(char *buf, size_t cap, const char *thing,
                            const char *job_id);

/* $aws/things/<thing>/streams/<stream>/<suffix> */
size_t ota_topic_stream(char *buf, size_t cap, const char *thing,
                        const char *stream, const char *suffix);

/*
 * {"clientToken":"<counter>:<thing>"}; the token is cut to the 64 bytes
 * that AWS IoT Jobs accepts.
 */
size_t ota_payload_get_next(char *buf, size_t cap, uint32_t counter,
                            const char *thing);

/* IN_PROGRESS with {"receive":"<received>/<total>"}. */
size_t ota_payload_progress(char *buf, size_t cap, uint32_t received,
                            uint32_t total);

/* IN_PROGRESS with {"self_test":"<phase>","updatedBy":"0x<version>"}. */
size_t ota_payload_self_test(char *buf, size_t cap, const char *phase,
                             uint32_t version);

/* SUCCEEDED with {"reason":"accepted v<major>.<minor>.<build>"}. */
size_t ota_payload_succeeded(char *buf, size_t cap, uint32_t version);

/* FAILED with {"reason":"<reason>"}. */
size_t ota_payload_failed(char *buf, size_t cap, const char *reason);

/* Writes "<what>: 0x<code>" into buf, for failure reasons. */
size_t ota_reason_code(char *buf, size_t cap, const char *what,
                       uint32_t code);

#endif
