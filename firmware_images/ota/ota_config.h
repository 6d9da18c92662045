/*
 * Configuration of the OTA agent.
 *
 * Every setting has a compile-time default that a build may change with a
 * -D flag (OTA_CFG_...), so that a scenario can build an image with, say,
 * 1 KiB blocks and 4 blocks per request. The agent reads the settings from
 * a struct ota_config at run time; OTA_CONFIG_DEFAULT fills one from the
 * macros. Sizes of static buffers (the largest block, the bitmap, the job
 * document) can only be set by macro, since they size arrays.
 *
 * docs/ota_agent.md lists every macro with its meaning.
 */
#ifndef OTA_CONFIG_H
#define OTA_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* The thing name: the MQTT client id and the <thing> of every topic. */
#ifndef OTA_CFG_THING_NAME
#define OTA_CFG_THING_NAME "ota-emu-device"
#endif

/* Bytes per stream block: a power of two from 256 to OTA_MAX_BLOCK_SIZE. */
#ifndef OTA_CFG_BLOCK_SIZE
#define OTA_CFG_BLOCK_SIZE 4096u
#endif

/*
 * The largest block size the receive buffer holds. The PAL's write call
 * returns the bytes written as an int16_t, so no block may pass 16 KiB.
 */
#ifndef OTA_MAX_BLOCK_SIZE
#define OTA_MAX_BLOCK_SIZE OTA_CFG_BLOCK_SIZE
#endif

/* Blocks asked for in one GetStream request (its "n" field). */
#ifndef OTA_CFG_BLOCKS_PER_REQUEST
#define OTA_CFG_BLOCKS_PER_REQUEST 1u
#endif

/* Time without a new block before the missing blocks are asked again. */
#ifndef OTA_CFG_REQUEST_TIMEOUT_MS
#define OTA_CFG_REQUEST_TIMEOUT_MS 10000u
#endif

/* Requests in a row that bring no new block before the job fails. */
#ifndef OTA_CFG_MAX_RETRIES
#define OTA_CFG_MAX_RETRIES 32u
#endif

/* A progress report goes to the job every this many blocks. */
#ifndef OTA_CFG_PROGRESS_EVERY
#define OTA_CFG_PROGRESS_EVERY 64u
#endif

/* How long a new image may take to pass its self-test. */
#ifndef OTA_CFG_SELF_TEST_TIMEOUT_MS
#define OTA_CFG_SELF_TEST_TIMEOUT_MS 16000u
#endif

/* Wait before the first reconnection attempt; it doubles up to the max. */
#ifndef OTA_CFG_RECONNECT_MIN_MS
#define OTA_CFG_RECONNECT_MIN_MS 500u
#endif

#ifndef OTA_CFG_RECONNECT_MAX_MS
#define OTA_CFG_RECONNECT_MAX_MS 8000u
#endif

/* Time limit of one MQTT connection attempt. */
#ifndef OTA_CFG_CONNECT_TIMEOUT_MS
#define OTA_CFG_CONNECT_TIMEOUT_MS 5000u
#endif

/* Signer certificate path used when the job document names none. */
#ifndef OTA_CFG_CERTFILE
#define OTA_CFG_CERTFILE "code_signer_cert.pem"
#endif

/* 1 lets a self-test accept an image older than the one it replaced. */
#ifndef OTA_CFG_ALLOW_DOWNGRADE
#define OTA_CFG_ALLOW_DOWNGRADE 0
#endif

/* 1 prints a console line for every block received. */
#ifndef OTA_CFG_LOG_BLOCKS
#define OTA_CFG_LOG_BLOCKS 0
#endif

/* The signature key of the job document that the PAL can check. */
#ifndef OTA_CFG_SIG_KEY
#define OTA_CFG_SIG_KEY "sig-sha256-ecdsa"
#endif

/* Bytes of the receive bitmap: 128 bytes track 1024 blocks. */
#ifndef OTA_BITMAP_BYTES
#define OTA_BITMAP_BYTES 128u
#endif

/* The longest job notification or job answer the agent can take. */
#ifndef OTA_JOB_DOC_MAX
#define OTA_JOB_DOC_MAX 4096u
#endif

/* Lengths of the text fields of a job, without the terminator. */
#define OTA_JOB_ID_MAX 64u
#define OTA_STREAM_MAX 128u
#define OTA_PATH_MAX 128u

/* A longest topic of AWS IoT: 256 bytes, plus the terminator. */
#define OTA_TOPIC_MAX 257u

struct ota_config {
    const char *thing_name;
    uint32_t block_size;
    uint32_t blocks_per_request;
    uint32_t request_timeout_ms;
    uint32_t max_retries;
    uint32_t progress_every;
    uint32_t self_test_timeout_ms;
    uint32_t reconnect_min_ms;
    uint32_t reconnect_max_ms;
    uint32_t connect_timeout_ms;
    const char *default_certfile;
    bool allow_downgrade;
    bool log_blocks;
};

#define OTA_CONFIG_DEFAULT                                      \
    {                                                           \
        .thing_name = OTA_CFG_THING_NAME,                       \
        .block_size = OTA_CFG_BLOCK_SIZE,                       \
        .blocks_per_request = OTA_CFG_BLOCKS_PER_REQUEST,       \
        .request_timeout_ms = OTA_CFG_REQUEST_TIMEOUT_MS,       \
        .max_retries = OTA_CFG_MAX_RETRIES,                     \
        .progress_every = OTA_CFG_PROGRESS_EVERY,               \
        .self_test_timeout_ms = OTA_CFG_SELF_TEST_TIMEOUT_MS,   \
        .reconnect_min_ms = OTA_CFG_RECONNECT_MIN_MS,           \
        .reconnect_max_ms = OTA_CFG_RECONNECT_MAX_MS,           \
        .connect_timeout_ms = OTA_CFG_CONNECT_TIMEOUT_MS,       \
        .default_certfile = OTA_CFG_CERTFILE,                   \
        .allow_downgrade = OTA_CFG_ALLOW_DOWNGRADE != 0,        \
        .log_blocks = OTA_CFG_LOG_BLOCKS != 0,                  \
    }

/* The block size limits the agent checks at start-up. */
#define OTA_MIN_BLOCK_SIZE 256u
#define OTA_BLOCK_SIZE_LIMIT 16384u

#if (OTA_MAX_BLOCK_SIZE) > OTA_BLOCK_SIZE_LIMIT
#error "OTA_MAX_BLOCK_SIZE is above 16384: the PAL write call returns int16_t"
#endif

#endif
