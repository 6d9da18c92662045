/*
 * State shared by the parts of the agent: ota_agent.c (connection, job
 * messages, status reports), ota_download.c (the stream) and
 * ota_selftest.c (the checks after activation). Not for applications.
 */
#ifndef OTA_AGENT_INTERNAL_H
#define OTA_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota_agent.h"
#include "ota_jobdoc.h"
#include "ota_os.h"
#include "ota_pal.h"

#define OTA_LOG(...) ota_os_log(__VA_ARGS__)

/* The receive buffer holds a job message or a block and its CBOR map. */
#define OTA_BLOCK_MSG_MAX (OTA_MAX_BLOCK_SIZE + 64u)
#define OTA_RX_MAX                                                     \
    (OTA_JOB_DOC_MAX > OTA_BLOCK_MSG_MAX ? OTA_JOB_DOC_MAX             \
                                         : OTA_BLOCK_MSG_MAX)
#define OTA_TX_MAX (256u + OTA_BITMAP_BYTES)
#define OTA_REASON_MAX 96u

enum ota_state {
    OTA_IDLE,     /* waiting for a job notification */
    OTA_WAIT_JOB, /* $next/get sent, waiting for its answer */
    OTA_DOWNLOAD  /* receiving the file of a job */
};

struct ota_agent {
    struct ota_config cfg;
    struct ota_app app;
    enum ota_state state;
    bool ready;         /* init succeeded */
    bool self_test;     /* the platform waits for this image's commit */
    bool linked;        /* connected and subscribed */
    bool need_resume;   /* linked again: resume what was going on */
    uint32_t backoff_ms;
    uint32_t token;

    /* The job request in flight. */
    uint32_t job_asked_ms;
    uint32_t job_retries;

    /* The job being worked on and its file. */
    struct ota_job_execution exec;
    struct ota_job_file file;
    OtaFileContext_t ctx;
    uint8_t bitmap[OTA_BITMAP_BYTES];
    uint32_t blocks_total;
    uint32_t blocks_left;
    uint32_t batch_left; /* blocks of the last request still to come */
    uint32_t retries;    /* requests in a row that brought nothing new */
    uint32_t last_ms;    /* last request or new block */
    uint32_t dropped;    /* the network module's drop count at the request */

    char topic[OTA_TOPIC_MAX];
    char rx_topic[OTA_TOPIC_MAX];
    uint8_t rx[OTA_RX_MAX + 1u];
    uint8_t tx[OTA_TX_MAX];
};

extern struct ota_agent ota_agent;

/* ota_agent.c */
bool ota_link_open(void);
bool ota_report(const char *status, const char *payload, size_t len,
                bool important);
void ota_report_failed(const char *reason);
void ota_reject_document(enum ota_job_status st);
void ota_request_job(void);
const char *ota_pal_name(OtaPalStatus_t st);

/* ota_download.c */
void ota_download_start(const char *msg, size_t len);
void ota_download_block(const uint8_t *msg, size_t len);
void ota_download_request(void);
void ota_download_cancel(const char *why);
void ota_download_tick(uint32_t now);
bool ota_download_subscribe(void);

/* ota_selftest.c */
void ota_selftest_boot(void);
void ota_selftest_job(enum ota_job_status st);
void ota_selftest_mismatch(void);

#endif
