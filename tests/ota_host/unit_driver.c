/*
 * Host driver for the pure-C parts of the OTA agent: the JSON reader, the
 * job-document parser, the CBOR codec, base64, the bitmap and the status
 * payloads. tests/test_ota_agent_host.py builds it with the host compiler
 * and runs one command per process:
 *
 *   unit_driver <command> [arguments...]   (input, when any, on stdin)
 *
 * Every command prints one JSON object on stdout. Binary data goes in and
 * out as lower-case hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ota_base64.h"
#include "ota_bitmap.h"
#include "ota_cbor.h"
#include "ota_jobdoc.h"
#include "ota_json.h"
#include "ota_status.h"
#include "ota_text.h"

#define INPUT_MAX (256u * 1024u)
#define OUT_MAX (64u * 1024u)

static char input[INPUT_MAX];
static size_t input_len;
static char out_buf[OUT_MAX];
static struct ota_text out;

static void read_input(void)
{
    input_len = fread(input, 1, sizeof(input), stdin);
}

static void print_and_exit(void)
{
    if (!ota_text_ok(&out)) {
        fputs("{\"error\":\"output too long\"}\n", stdout);
        exit(2);
    }
    puts(out_buf);
    exit(0);
}

/* Appends "key": as the next member (the caller opened the object). */
static void key(const char *k)
{
    if (out.len > 1u) {
        ota_text_str(&out, ",");
    }
    ota_text_str(&out, "\"");
    ota_text_str(&out, k);
    ota_text_str(&out, "\":");
}

static void put_str(const char *k, const char *v)
{
    key(k);
    ota_text_str(&out, "\"");
    ota_text_json_str(&out, v);
    ota_text_str(&out, "\"");
}

static void put_u32(const char *k, uint32_t v)
{
    key(k);
    ota_text_dec(&out, v);
}

static void put_bool(const char *k, bool v)
{
    key(k);
    ota_text_str(&out, v ? "true" : "false");
}

static void put_hex(const char *k, const uint8_t *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    key(k);
    ota_text_str(&out, "\"");
    for (size_t i = 0; i < n; i++) {
        char pair[3] = { digits[data[i] >> 4], digits[data[i] & 0xFu], 0 };

        ota_text_str(&out, pair);
    }
    ota_text_str(&out, "\"");
}

/* Decodes hex text into buf; returns the byte count. */
static size_t from_hex(const char *text, uint8_t *buf, size_t cap)
{
    size_t n = strlen(text) / 2u;

    if (n > cap) {
        fputs("hex argument too long\n", stderr);
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        if (sscanf(text + 2u * i, "%2x", &v) != 1) {
            fputs("bad hex argument\n", stderr);
            exit(2);
        }
        buf[i] = (uint8_t)v;
    }
    return n;
}

static uint32_t arg_u32(const char *s)
{
    return (uint32_t)strtoul(s, NULL, 0);
}

/* ---- commands --------------------------------------------------------- */

static void cmd_job_exec(void)
{
    struct ota_job_execution e;
    enum ota_job_status st;

    read_input();
    st = ota_job_parse_execution(input, input_len, &e);
    put_str("status", ota_job_strerror(st));
    put_str("job_id", e.job_id);
    put_bool("self_test", e.self_test);
    put_str("phase", e.self_test_phase);
    put_bool("has_updated_by", e.has_updated_by);
    put_u32("updated_by", e.updated_by);
}

static void cmd_job_file(int argc, char **argv)
{
    struct ota_job_file f;
    struct ota_job_limits lim = { 0xFFFFFFFFu, OTA_CFG_SIG_KEY };
    enum ota_job_status st;

    if (argc > 2) {
        lim.max_file_size = arg_u32(argv[2]);
    }
    read_input();
    st = ota_job_parse_file(input, input_len, &lim, &f);
    put_str("status", ota_job_strerror(st));
    put_str("stream", f.stream);
    put_str("filepath", f.filepath);
    put_str("certfile", f.certfile);
    put_u32("filesize", f.file_size);
    put_u32("fileid", f.file_id);
    put_u32("file_type", f.file_type);
    put_u32("attr", f.attributes);
    put_hex("signature", f.signature.data, f.signature.size);
}

/* cbor-get <file> <block size> <offset> <count> <bitmap hex|-> [token] */
static void cmd_cbor_get(int argc, char **argv)
{
    static uint8_t bitmap[16384];
    uint8_t buf[20000];
    struct ota_get_request rq = { 0 };
    size_t n;

    if (argc < 7) {
        fputs("cbor-get needs 5 arguments\n", stderr);
        exit(2);
    }
    rq.file_id = arg_u32(argv[2]);
    rq.block_size = arg_u32(argv[3]);
    rq.offset = arg_u32(argv[4]);
    rq.count = arg_u32(argv[5]);
    if (strcmp(argv[6], "-") != 0) {
        rq.bitmap = bitmap;
        rq.bitmap_len = from_hex(argv[6], bitmap, sizeof(bitmap));
    }
    rq.client_token = argc > 7 ? argv[7] : NULL;
    n = ota_cbor_encode_get(&rq, buf, argc > 8 ? arg_u32(argv[8])
                                               : sizeof(buf));
    put_u32("length", (uint32_t)n);
    put_hex("cbor", buf, n);
}

static void cmd_cbor_block(void)
{
    struct ota_data_block b;
    enum ota_cbor_status st;

    read_input();
    st = ota_cbor_decode_block((const uint8_t *)input, input_len, &b);
    put_str("status", ota_cbor_strerror(st));
    if (st == OTA_CBOR_OK) {
        put_u32("f", b.file_id);
        put_u32("i", b.index);
        put_u32("l", b.length);
        put_hex("p", b.payload, b.payload_len);
    }
}

static void cmd_base64(int argc, char **argv)
{
    static const char *const names[] = {
        "ok", "bad char", "bad length", "bad padding", "too long",
    };
    uint8_t buf[1024];
    size_t n;
    size_t cap = argc > 2 ? arg_u32(argv[2]) : sizeof(buf);
    enum ota_b64_status st;

    read_input();
    st = ota_base64_decode(input, input_len, buf,
                           cap < sizeof(buf) ? cap : sizeof(buf), &n);
    put_str("status", names[st]);
    put_hex("data", buf, n);
}

/* bitmap <blocks> [cleared indices...] */
static void cmd_bitmap(int argc, char **argv)
{
    static uint8_t bm[4096];
    uint32_t blocks = arg_u32(argv[2]);

    ota_bitmap_fill(bm, sizeof(bm), blocks);
    for (int i = 3; i < argc; i++) {
        uint32_t k = arg_u32(argv[i]);

        if (ota_bitmap_needed(bm, k)) {
            ota_bitmap_clear(bm, k);
        }
    }
    put_hex("bitmap", bm, ota_bitmap_bytes(blocks));
    put_u32("needed", ota_bitmap_count(bm, blocks));
}

static void cmd_blocks(char **argv)
{
    uint32_t size = arg_u32(argv[2]);
    uint32_t bs = arg_u32(argv[3]);
    uint32_t count = ota_block_count(size, bs);

    put_u32("count", count);
    key("lengths");
    ota_text_str(&out, "[");
    for (uint32_t i = 0; i <= count; i++) {
        if (i != 0u) {
            ota_text_str(&out, ",");
        }
        ota_text_dec(&out, ota_block_length(size, bs, i));
    }
    ota_text_str(&out, "]");
}

/* status <kind> [arguments]: the payload as text. */
static void cmd_status(int argc, char **argv)
{
    char buf[2048];
    size_t n = 0;
    const char *kind = argv[2];

    if (strcmp(kind, "progress") == 0 && argc > 4) {
        n = ota_payload_progress(buf, sizeof(buf), arg_u32(argv[3]),
                                 arg_u32(argv[4]));
    } else if (strcmp(kind, "self-test") == 0 && argc > 4) {
        n = ota_payload_self_test(buf, sizeof(buf), argv[3],
                                  arg_u32(argv[4]));
    } else if (strcmp(kind, "succeeded") == 0 && argc > 3) {
        n = ota_payload_succeeded(buf, sizeof(buf), arg_u32(argv[3]));
    } else if (strcmp(kind, "failed") == 0 && argc > 3) {
        n = ota_payload_failed(buf, sizeof(buf), argv[3]);
    } else if (strcmp(kind, "get-next") == 0 && argc > 4) {
        n = ota_payload_get_next(buf, sizeof(buf), arg_u32(argv[3]),
                                 argv[4]);
    } else if (strcmp(kind, "update-topic") == 0 && argc > 4) {
        n = ota_topic_job_update(buf, sizeof(buf), argv[3], argv[4]);
    } else if (strcmp(kind, "stream-topic") == 0 && argc > 5) {
        n = ota_topic_stream(buf, sizeof(buf), argv[3], argv[4], argv[5]);
    }
    if (n == 0u) {
        buf[0] = '\0';
    }
    put_str("text", buf);
}

/* json-path <dotted path>: the value's type and, for strings, text. */
static void cmd_json_path(char **argv)
{
    struct ota_json root;
    struct ota_json v;
    char text[1024];
    uint32_t num;
    enum ota_json_status st;

    read_input();
    st = ota_json_parse(input, input_len, &root);
    if (st == OTA_JSON_OK) {
        st = ota_json_path(&root, argv[2], &v);
    }
    put_str("status", ota_json_strerror(st));
    if (st != OTA_JSON_OK) {
        return;
    }
    put_u32("type", (uint32_t)ota_json_type(&v));
    if (ota_json_string(&v, text, sizeof(text), NULL) == OTA_JSON_OK) {
        put_hex("string", (const uint8_t *)text, strlen(text));
    }
    if (ota_json_u32(&v, &num) == OTA_JSON_OK) {
        put_u32("u32", num);
    }
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    ota_text_init(&out, out_buf, sizeof(out_buf));
    ota_text_str(&out, "{");
    if (strcmp(cmd, "job-exec") == 0) {
        cmd_job_exec();
    } else if (strcmp(cmd, "job-file") == 0) {
        cmd_job_file(argc, argv);
    } else if (strcmp(cmd, "cbor-get") == 0) {
        cmd_cbor_get(argc, argv);
    } else if (strcmp(cmd, "cbor-block") == 0) {
        cmd_cbor_block();
    } else if (strcmp(cmd, "base64") == 0) {
        cmd_base64(argc, argv);
    } else if (strcmp(cmd, "bitmap") == 0 && argc > 2) {
        cmd_bitmap(argc, argv);
    } else if (strcmp(cmd, "blocks") == 0 && argc > 3) {
        cmd_blocks(argv);
    } else if (strcmp(cmd, "status") == 0 && argc > 2) {
        cmd_status(argc, argv);
    } else if (strcmp(cmd, "json-path") == 0 && argc > 2) {
        cmd_json_path(argv);
    } else {
        fprintf(stderr, "unknown command or missing arguments: %s\n", cmd);
        return 2;
    }
    ota_text_str(&out, "}");
    print_and_exit();
    return 0;
}
