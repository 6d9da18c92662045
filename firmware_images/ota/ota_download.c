/*
 * Receiving a job's file over an MQTT stream: GetStream requests with the
 * bitmap of missing blocks, data blocks checked and written through the
 * PAL, progress reports, re-requests after silence, and the end of the
 * file (signature check, self_test ready, activation).
 */
#include <string.h>

#include "netlink.h"
#include "ota_agent_internal.h"
#include "ota_bitmap.h"
#include "ota_cbor.h"
#include "ota_status.h"
#include "ota_text.h"

/* The client token of every GetStream request, as the AWS agent sends. */
#define STREAM_TOKEN "rdy"

static void stream_topic(const char *suffix)
{
    struct ota_agent *a = &ota_agent;

    (void)ota_topic_stream(a->topic, sizeof(a->topic), a->cfg.thing_name,
                           a->file.stream, suffix);
}

bool ota_download_subscribe(void)
{
    net_status_t st;

    stream_topic("data/cbor");
    st = net_subscribe(ota_agent.topic, 0);
    if (st != NET_OK) {
        OTA_LOG("subscribe to %s failed (net error %d)", ota_agent.topic,
                (int)st);
        return false;
    }
    return true;
}

static void unsubscribe_stream(void)
{
    stream_topic("data/cbor");
    (void)net_unsubscribe(ota_agent.topic);
}

/* Leaves the download: the stream is dropped and the agent is idle. */
static void end_download(void)
{
    unsubscribe_stream();
    ota_agent.state = OTA_IDLE;
}

/* Ends the job as FAILED, releasing the file. */
static void fail(const char *reason)
{
    (void)otaPal_Abort(&ota_agent.ctx);
    end_download();
    ota_report_failed(reason);
}

/* Reports FAILED with the reason "<what>: 0x<code>". */
static void report_code(const char *what, uint32_t code)
{
    char reason[OTA_REASON_MAX];

    (void)ota_reason_code(reason, sizeof(reason), what, code);
    ota_report_failed(reason);
}

static void fail_with_code(const char *what, uint32_t code)
{
    char reason[OTA_REASON_MAX];

    (void)ota_reason_code(reason, sizeof(reason), what, code);
    fail(reason);
}

void ota_download_cancel(const char *why)
{
    OTA_LOG("job %s cancelled (%s): aborting the download",
            ota_agent.exec.job_id, why);
    (void)otaPal_Abort(&ota_agent.ctx);
    end_download();
}

void ota_download_request(void)
{
    struct ota_agent *a = &ota_agent;
    struct ota_get_request rq = {
        .client_token = STREAM_TOKEN,
        .file_id = a->file.file_id,
        .block_size = a->cfg.block_size,
        .offset = 0,
        .bitmap = a->bitmap,
        .bitmap_len = ota_bitmap_bytes(a->blocks_total),
        .count = a->cfg.blocks_per_request,
    };
    size_t n = ota_cbor_encode_get(&rq, a->tx, sizeof(a->tx));
    net_status_t st;

    a->batch_left = a->cfg.blocks_per_request;
    a->last_ms = ota_os_now_ms();
    a->dropped = net_dropped();
    stream_topic("get/cbor");
    st = net_publish(a->topic, a->tx, n, 0);
    if (st != NET_OK) {
        OTA_LOG("block request failed (net error %d)", (int)st);
    }
}

/* Fills the PAL's file context from the parsed job. */
static void fill_context(void)
{
    struct ota_agent *a = &ota_agent;
    OtaFileContext_t *c = &a->ctx;

    if (a->file.certfile[0] == '\0') {
        struct ota_text t;

        ota_text_init(&t, a->file.certfile, sizeof(a->file.certfile));
        ota_text_str(&t, a->cfg.default_certfile);
    }
    memset(c, 0, sizeof(*c));
    c->pFilePath = (uint8_t *)a->file.filepath;
    c->filePathMaxSize = (uint16_t)sizeof(a->file.filepath);
    c->fileSize = a->file.file_size;
    c->blocksRemaining = a->blocks_total;
    c->fileAttributes = a->file.attributes;
    c->serverFileID = a->file.file_id;
    c->pJobName = (uint8_t *)a->exec.job_id;
    c->jobNameMaxSize = (uint16_t)sizeof(a->exec.job_id);
    c->pStreamName = (uint8_t *)a->file.stream;
    c->streamNameMaxSize = (uint16_t)sizeof(a->file.stream);
    c->pRxBlockBitmap = a->bitmap;
    c->blockBitmapMaxSize = (uint16_t)sizeof(a->bitmap);
    c->pCertFilepath = (uint8_t *)a->file.certfile;
    c->certFilePathMaxSize = (uint16_t)sizeof(a->file.certfile);
    c->updaterVersion = a->app.version;
    c->fileType = a->file.file_type;
    c->pSignature = &a->file.signature;
}

void ota_download_start(const char *msg, size_t len)
{
    struct ota_agent *a = &ota_agent;
    struct ota_job_limits limits = {
        .max_file_size = OTA_BITMAP_BYTES * 8u * a->cfg.block_size,
        .sig_key = OTA_CFG_SIG_KEY,
    };
    enum ota_job_status st = ota_job_parse_file(msg, len, &limits, &a->file);
    OtaPalStatus_t pal;

    if (st != OTA_JOB_OK) {
        ota_reject_document(st);
        return;
    }
    a->blocks_total = ota_block_count(a->file.file_size, a->cfg.block_size);
    a->blocks_left = a->blocks_total;
    ota_bitmap_fill(a->bitmap, sizeof(a->bitmap), a->blocks_total);
    fill_context();
    pal = otaPal_CreateFileForRx(&a->ctx);
    if (OTA_PAL_MAIN_ERR(pal) != OtaPalSuccess) {
        OTA_LOG("create file failed: %s (0x%08lx)", ota_pal_name(pal),
                (unsigned long)pal);
        report_code("create file", pal);
        return;
    }
    OTA_LOG("job %s: receiving %s, %lu bytes in %lu blocks of %lu, "
            "from stream %s", a->exec.job_id, a->file.filepath,
            (unsigned long)a->file.file_size,
            (unsigned long)a->blocks_total,
            (unsigned long)a->cfg.block_size, a->file.stream);
    a->state = OTA_DOWNLOAD;
    a->retries = 0;
    if (!ota_download_subscribe()) {
        /* The main loop reconnects, subscribes and asks again. */
        a->linked = false;
        return;
    }
    ota_download_request();
}

/* The checks a block must pass before it is written; false drops it. */
static bool block_fits(const struct ota_data_block *blk)
{
    struct ota_agent *a = &ota_agent;
    uint32_t expected;

    if (blk->file_id != a->file.file_id) {
        OTA_LOG("block for file %lu ignored: the job's file is %lu",
                (unsigned long)blk->file_id, (unsigned long)a->file.file_id);
        return false;
    }
    if (blk->index >= a->blocks_total) {
        OTA_LOG("block %lu ignored: the file has %lu blocks",
                (unsigned long)blk->index, (unsigned long)a->blocks_total);
        return false;
    }
    expected = ota_block_length(a->file.file_size, a->cfg.block_size,
                                blk->index);
    if (blk->payload_len != expected) {
        OTA_LOG("block %lu ignored: %lu bytes, expected %lu",
                (unsigned long)blk->index, (unsigned long)blk->payload_len,
                (unsigned long)expected);
        return false;
    }
    if (!ota_bitmap_needed(a->bitmap, blk->index)) {
        OTA_LOG("block %lu is a duplicate: ignored",
                (unsigned long)blk->index);
        return false;
    }
    return true;
}

/* The whole file is in: check it, report self_test ready, activate. */
static void finish(void)
{
    struct ota_agent *a = &ota_agent;
    char *buf = (char *)a->tx;
    OtaPalStatus_t pal;
    size_t n;

    OTA_LOG("all %lu blocks received: closing the file",
            (unsigned long)a->blocks_total);
    end_download();
    pal = otaPal_CloseFile(&a->ctx);
    if (OTA_PAL_MAIN_ERR(pal) != OtaPalSuccess) {
        OTA_LOG("close file failed: %s (0x%08lx)", ota_pal_name(pal),
                (unsigned long)pal);
        (void)otaPal_SetPlatformImageState(&a->ctx, OtaImageStateRejected);
        report_code("close file", pal);
        return;
    }
    OTA_LOG("signature valid");
    n = ota_payload_self_test(buf, sizeof(a->tx), "ready", a->app.version);
    if (!ota_report("IN_PROGRESS", buf, n, true)) {
        OTA_LOG("self_test ready not reported: the image is not activated");
        (void)otaPal_Abort(&a->ctx);
        return;
    }
    OTA_LOG("activating the new image");
    pal = otaPal_ActivateNewImage(&a->ctx);
    OTA_LOG("activate failed: %s (0x%08lx)", ota_pal_name(pal),
            (unsigned long)pal);
    report_code("activate", pal);
}

/* Reports progress every progress_every blocks. */
static void progress(void)
{
    struct ota_agent *a = &ota_agent;
    uint32_t received = a->blocks_total - a->blocks_left;
    char *buf = (char *)a->tx;
    size_t n;

    if (received % a->cfg.progress_every != 0u) {
        return;
    }
    OTA_LOG("received %lu of %lu blocks", (unsigned long)received,
            (unsigned long)a->blocks_total);
    n = ota_payload_progress(buf, sizeof(a->tx), received, a->blocks_total);
    (void)ota_report("IN_PROGRESS", buf, n, false);
}

/* Writes a checked block; false when the PAL refused it. */
static bool store(const struct ota_data_block *blk)
{
    struct ota_agent *a = &ota_agent;
    uint8_t *data = a->rx + (blk->payload - a->rx);
    int16_t written = otaPal_WriteBlock(&a->ctx,
                                        blk->index * a->cfg.block_size,
                                        data, (uint32_t)blk->payload_len);

    if (written < 0 || (size_t)written != blk->payload_len) {
        OTA_LOG("write of block %lu failed: %d", (unsigned long)blk->index,
                (int)written);
        fail_with_code("write block", (uint32_t)(int32_t)written);
        return false;
    }
    ota_bitmap_clear(a->bitmap, blk->index);
    a->blocks_left--;
    a->ctx.blocksRemaining = a->blocks_left;
    a->retries = 0;
    a->last_ms = ota_os_now_ms();
    if (a->cfg.log_blocks) {
        OTA_LOG("block %lu received, %lu left", (unsigned long)blk->index,
                (unsigned long)a->blocks_left);
    }
    return true;
}

void ota_download_block(const uint8_t *msg, size_t len)
{
    struct ota_agent *a = &ota_agent;
    struct ota_data_block blk;
    enum ota_cbor_status st = ota_cbor_decode_block(msg, len, &blk);

    if (st != OTA_CBOR_OK) {
        OTA_LOG("data block ignored: %s", ota_cbor_strerror(st));
        return;
    }
    if (!block_fits(&blk) || !store(&blk)) {
        return;
    }
    if (a->blocks_left == 0u) {
        finish();
        return;
    }
    progress();

    /* The next request goes out when the last one is used up. */
    if (a->batch_left > 1u) {
        a->batch_left--;
    } else {
        ota_download_request();
    }
}

/*
 * Blocks the network module dropped (its receive queue was full) will not
 * come: ask again at once instead of waiting for the timeout.
 */
static bool blocks_dropped(void)
{
    struct ota_agent *a = &ota_agent;
    uint32_t dropped = net_dropped();

    if (dropped == a->dropped) {
        return false;
    }
    OTA_LOG("the network module dropped %lu messages: asking again, "
            "%lu blocks missing", (unsigned long)(dropped - a->dropped),
            (unsigned long)a->blocks_left);
    ota_download_request();
    return true;
}

void ota_download_tick(uint32_t now)
{
    struct ota_agent *a = &ota_agent;

    if (a->state != OTA_DOWNLOAD || blocks_dropped() ||
        now - a->last_ms < a->cfg.request_timeout_ms) {
        return;
    }
    if (++a->retries > a->cfg.max_retries) {
        OTA_LOG("no block after %lu requests",
                (unsigned long)(a->retries - 1u));
        fail("download: no data after retries");
        return;
    }
    OTA_LOG("no block for %lu ms: asking again (retry %lu of %lu), "
            "%lu blocks missing", (unsigned long)a->cfg.request_timeout_ms,
            (unsigned long)a->retries, (unsigned long)a->cfg.max_retries,
            (unsigned long)a->blocks_left);
    ota_download_request();
}
