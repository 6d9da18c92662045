/*
 * Parsing of the AWS IoT Jobs messages that carry OTA jobs: the answer to
 * $next/get and the notify-next notification. Both hold
 *
 *   {"execution": {"jobId": "...", "statusDetails": {...},
 *                  "jobDocument": {"afr_ota": {...}}}, ...}
 *
 * ota_job_parse_execution reads the envelope (job id and the self-test
 * details); ota_job_parse_file reads the afr_ota object and its first file.
 * The agent needs the envelope first, to know where to report a document
 * that fails the second step. docs/ota_agent.md lists the rules.
 */
#ifndef OTA_JOBDOC_H
#define OTA_JOBDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ota_config.h"
#include "ota_pal.h"

enum ota_job_status {
    OTA_JOB_OK = 0,
    OTA_JOB_BAD_JSON,        /* not JSON, or not an object */
    OTA_JOB_NONE,            /* no execution: no job is pending */
    OTA_JOB_BAD_JOB_ID,      /* jobId missing or not [A-Za-z0-9_-]{1,64} */
    OTA_JOB_BAD_DETAILS,     /* statusDetails or updatedBy malformed */
    OTA_JOB_NOT_OTA,         /* no jobDocument.afr_ota object */
    OTA_JOB_NO_PROTOCOLS,    /* protocols missing or not an array */
    OTA_JOB_NO_MQTT,         /* "MQTT" is not among the protocols */
    OTA_JOB_BAD_STREAM,      /* streamname missing or unusable in a topic */
    OTA_JOB_NO_FILES,        /* files missing, empty or not objects */
    OTA_JOB_NO_FILEPATH,     /* filepath missing or empty */
    OTA_JOB_BAD_FILEPATH,    /* filepath not a string or too long */
    OTA_JOB_BAD_FILESIZE,    /* filesize missing, 0 or not an integer */
    OTA_JOB_FILE_TOO_LARGE,  /* more blocks than the bitmap holds */
    OTA_JOB_BAD_FILEID,      /* fileid missing or outside 0..255 */
    OTA_JOB_BAD_CERTFILE,    /* certfile not a string or too long */
    OTA_JOB_BAD_FIELD,       /* fileType or attr not an integer */
    OTA_JOB_NO_SIGNATURE,    /* no sig-... key at all */
    OTA_JOB_UNSUPPORTED_SIG, /* a sig-... key other than the PAL's */
    OTA_JOB_BAD_SIGNATURE    /* not base64, empty or over 384 bytes */
};

/* What the envelope says about the job. */
struct ota_job_execution {
    char job_id[OTA_JOB_ID_MAX + 1u];
    bool self_test;             /* statusDetails has a self_test key */
    char self_test_phase[16];   /* its value ("ready", "active") */
    bool has_updated_by;
    uint32_t updated_by;        /* the version that ran the update */
};

/* The file to receive, from the afr_ota object. */
struct ota_job_file {
    char stream[OTA_STREAM_MAX + 1u];
    char filepath[OTA_PATH_MAX + 1u];
    char certfile[OTA_PATH_MAX + 1u]; /* empty when the document has none */
    uint32_t file_size;
    uint32_t file_id;
    uint32_t file_type;
    uint32_t attributes;
    Sig_t signature;
};

/* What the device can take: the file size limit and its signature key. */
struct ota_job_limits {
    uint32_t max_file_size;
    const char *sig_key;
};

enum ota_job_status ota_job_parse_execution(const char *text, size_t len,
                                            struct ota_job_execution *out);

enum ota_job_status ota_job_parse_file(const char *text, size_t len,
                                       const struct ota_job_limits *limits,
                                       struct ota_job_file *out);

/* A short phrase for console lines and job failure reasons. */
const char *ota_job_strerror(enum ota_job_status st);

#endif
