/*
 * CBOR encoding of GetStream requests and decoding of data blocks
 * (ota_cbor.h). Major types and heads follow RFC 8949, section 3.
 */
#include "ota_cbor.h"

#include <stdbool.h>
#include <string.h>

#define MT_UINT 0u
#define MT_NEGINT 1u
#define MT_BYTES 2u
#define MT_TEXT 3u
#define MT_ARRAY 4u
#define MT_MAP 5u
#define MT_TAG 6u
#define MT_SIMPLE 7u

/* Additional information values: 24..27 take 1, 2, 4 or 8 more bytes. */
#define AI_ONE_BYTE 24u
#define AI_INDEFINITE 31u

#define MAX_SKIP_DEPTH 8u

/* ---- encoder ---------------------------------------------------------- */

struct writer {
    uint8_t *out;
    size_t cap;
    size_t len;
    bool overflow;
};

static void emit(struct writer *w, const void *data, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->out + w->len, data, n);
    w->len += n;
}

/* Writes a head in its shortest form (RFC 8949, section 4.2.1). */
static void emit_head(struct writer *w, uint8_t major, uint32_t value)
{
    uint8_t buf[5];
    size_t n;

    if (value < AI_ONE_BYTE) {
        buf[0] = (uint8_t)(major << 5 | value);
        n = 1;
    } else if (value <= 0xFFu) {
        buf[0] = (uint8_t)(major << 5 | 24u);
        buf[1] = (uint8_t)value;
        n = 2;
    } else if (value <= 0xFFFFu) {
        buf[0] = (uint8_t)(major << 5 | 25u);
        buf[1] = (uint8_t)(value >> 8);
        buf[2] = (uint8_t)value;
        n = 3;
    } else {
        buf[0] = (uint8_t)(major << 5 | 26u);
        buf[1] = (uint8_t)(value >> 24);
        buf[2] = (uint8_t)(value >> 16);
        buf[3] = (uint8_t)(value >> 8);
        buf[4] = (uint8_t)value;
        n = 5;
    }
    emit(w, buf, n);
}

static void emit_key(struct writer *w, char key)
{
    emit_head(w, MT_TEXT, 1);
    emit(w, &key, 1);
}

static void emit_uint_field(struct writer *w, char key, uint32_t value)
{
    emit_key(w, key);
    emit_head(w, MT_UINT, value);
}

size_t ota_cbor_encode_get(const struct ota_get_request *rq, uint8_t *out,
                           size_t cap)
{
    struct writer w = { out, cap, 0, false };
    uint32_t pairs = 4u;

    pairs += rq->client_token != NULL ? 1u : 0u;
    pairs += rq->bitmap != NULL ? 1u : 0u;
    emit_head(&w, MT_MAP, pairs);
    if (rq->client_token != NULL) {
        size_t n = strlen(rq->client_token);

        emit_key(&w, 'c');
        emit_head(&w, MT_TEXT, (uint32_t)n);
        emit(&w, rq->client_token, n);
    }
    emit_uint_field(&w, 'f', rq->file_id);
    emit_uint_field(&w, 'l', rq->block_size);
    emit_uint_field(&w, 'o', rq->offset);
    if (rq->bitmap != NULL) {
        emit_key(&w, 'b');
        emit_head(&w, MT_BYTES, (uint32_t)rq->bitmap_len);
        emit(&w, rq->bitmap, rq->bitmap_len);
    }
    emit_uint_field(&w, 'n', rq->count);
    return w.overflow ? 0u : w.len;
}

/* ---- decoder ---------------------------------------------------------- */

struct reader {
    const uint8_t *p;
    const uint8_t *end;
};

/* Reads one head: the major type and its argument. */
static enum ota_cbor_status read_head(struct reader *r, uint8_t *major,
                                      uint64_t *arg)
{
    uint8_t ai;
    size_t extra;

    if (r->p == r->end) {
        return OTA_CBOR_MALFORMED;
    }
    *major = *r->p >> 5;
    ai = *r->p & 0x1Fu;
    r->p++;
    if (ai < AI_ONE_BYTE) {
        *arg = ai;
        return OTA_CBOR_OK;
    }

    /* 28..30 are reserved; 31 (indefinite length) is not supported. */
    if (ai > 27u) {
        return OTA_CBOR_MALFORMED;
    }
    extra = (size_t)1u << (ai - AI_ONE_BYTE);
    if ((size_t)(r->end - r->p) < extra) {
        return OTA_CBOR_MALFORMED;
    }
    *arg = 0;
    for (size_t i = 0; i < extra; i++) {
        *arg = *arg << 8 | *r->p++;
    }
    return OTA_CBOR_OK;
}

/* Steps over arg bytes of string content. */
static enum ota_cbor_status skip_bytes(struct reader *r, uint64_t arg)
{
    if ((uint64_t)(r->end - r->p) < arg) {
        return OTA_CBOR_MALFORMED;
    }
    r->p += arg;
    return OTA_CBOR_OK;
}

static enum ota_cbor_status skip_item(struct reader *r, unsigned depth);

/* Steps over count items (array elements, or twice the map pairs). */
static enum ota_cbor_status skip_items(struct reader *r, uint64_t count,
                                       unsigned depth)
{
    for (uint64_t i = 0; i < count; i++) {
        enum ota_cbor_status st = skip_item(r, depth);

        if (st != OTA_CBOR_OK) {
            return st;
        }
    }
    return OTA_CBOR_OK;
}

static enum ota_cbor_status skip_item(struct reader *r, unsigned depth)
{
    uint8_t major;
    uint64_t arg;
    enum ota_cbor_status st = read_head(r, &major, &arg);

    if (st != OTA_CBOR_OK) {
        return st;
    }
    if (depth >= MAX_SKIP_DEPTH &&
        (major == MT_ARRAY || major == MT_MAP || major == MT_TAG)) {
        return OTA_CBOR_MALFORMED;
    }
    switch (major) {
    case MT_BYTES:
    case MT_TEXT:
        return skip_bytes(r, arg);
    case MT_ARRAY:
        return skip_items(r, arg, depth + 1u);
    case MT_MAP:
        /* Two items per pair; a count this large cannot fit anyway. */
        if (arg > (uint64_t)(r->end - r->p)) {
            return OTA_CBOR_MALFORMED;
        }
        return skip_items(r, arg * 2u, depth + 1u);
    case MT_TAG:
        return skip_item(r, depth + 1u);
    default:
        return OTA_CBOR_OK;
    }
}

/* Reads an unsigned integer that fits 32 bits. */
static enum ota_cbor_status read_u32(struct reader *r, uint32_t *value)
{
    uint8_t major;
    uint64_t arg;
    enum ota_cbor_status st = read_head(r, &major, &arg);

    if (st != OTA_CBOR_OK) {
        return st;
    }
    if (major != MT_UINT) {
        return OTA_CBOR_BAD_TYPE;
    }
    if (arg > 0xFFFFFFFFu) {
        return OTA_CBOR_RANGE;
    }
    *value = (uint32_t)arg;
    return OTA_CBOR_OK;
}

/* Reads a byte string, leaving a pointer to its content. */
static enum ota_cbor_status read_bytes(struct reader *r, const uint8_t **data,
                                       size_t *len)
{
    uint8_t major;
    uint64_t arg;
    enum ota_cbor_status st = read_head(r, &major, &arg);

    if (st != OTA_CBOR_OK) {
        return st;
    }
    if (major != MT_BYTES) {
        return OTA_CBOR_BAD_TYPE;
    }
    *data = r->p;
    *len = (size_t)arg;
    return skip_bytes(r, arg);
}

/* Reads a map key; a one-letter text key comes back, any other as 0. */
static enum ota_cbor_status read_key(struct reader *r, char *key)
{
    const uint8_t *start = r->p;
    uint8_t major;
    uint64_t arg;
    enum ota_cbor_status st = read_head(r, &major, &arg);

    if (st != OTA_CBOR_OK) {
        return st;
    }
    if (major == MT_TEXT && arg == 1u && r->p != r->end) {
        *key = (char)*r->p++;
        return OTA_CBOR_OK;
    }

    /* Any other key is stepped over as a whole item. */
    *key = 0;
    r->p = start;
    return skip_item(r, 0);
}

/* Bits of the data-block keys, to spot duplicates and missing keys. */
#define SEEN_F (1u << 0)
#define SEEN_I (1u << 1)
#define SEEN_L (1u << 2)
#define SEEN_P (1u << 3)
#define SEEN_C (1u << 4)
#define SEEN_REQUIRED (SEEN_F | SEEN_I | SEEN_L | SEEN_P)

/* Decodes the value of one key into out. */
static enum ota_cbor_status read_field(struct reader *r, char key,
                                       struct ota_data_block *out)
{
    switch (key) {
    case 'f':
        return read_u32(r, &out->file_id);
    case 'i':
        return read_u32(r, &out->index);
    case 'l':
        return read_u32(r, &out->length);
    case 'p':
        return read_bytes(r, &out->payload, &out->payload_len);
    default:
        return skip_item(r, 0);
    }
}

static uint32_t key_bit(char key)
{
    switch (key) {
    case 'f':
        return SEEN_F;
    case 'i':
        return SEEN_I;
    case 'l':
        return SEEN_L;
    case 'p':
        return SEEN_P;
    case 'c':
        return SEEN_C;
    default:
        return 0;
    }
}

static enum ota_cbor_status read_pairs(struct reader *r, uint64_t pairs,
                                       struct ota_data_block *out)
{
    uint32_t seen = 0;

    for (uint64_t i = 0; i < pairs; i++) {
        char key;
        enum ota_cbor_status st = read_key(r, &key);

        if (st != OTA_CBOR_OK) {
            return st;
        }
        if ((seen & key_bit(key)) != 0u) {
            return OTA_CBOR_DUPLICATE;
        }
        seen |= key_bit(key);
        st = read_field(r, key, out);
        if (st != OTA_CBOR_OK) {
            return st;
        }
    }
    return (seen & SEEN_REQUIRED) == SEEN_REQUIRED ? OTA_CBOR_OK
                                                   : OTA_CBOR_MISSING;
}

enum ota_cbor_status ota_cbor_decode_block(const uint8_t *msg, size_t len,
                                           struct ota_data_block *out)
{
    struct reader r = { msg, msg + len };
    uint8_t major;
    uint64_t pairs;
    enum ota_cbor_status st = read_head(&r, &major, &pairs);

    memset(out, 0, sizeof(*out));
    if (st != OTA_CBOR_OK) {
        return st;
    }
    if (major != MT_MAP) {
        return OTA_CBOR_NOT_MAP;
    }
    st = read_pairs(&r, pairs, out);
    if (st != OTA_CBOR_OK) {
        return st;
    }
    if (r.p != r.end) {
        return OTA_CBOR_TRAILING;
    }
    return out->length == out->payload_len ? OTA_CBOR_OK : OTA_CBOR_LENGTH;
}

const char *ota_cbor_strerror(enum ota_cbor_status st)
{
    static const char *const names[] = {
        "ok", "malformed", "not a map", "missing key", "wrong type",
        "integer out of range", "duplicate key", "trailing bytes",
        "length mismatch",
    };

    if ((unsigned)st >= sizeof(names) / sizeof(names[0])) {
        return "unknown";
    }
    return names[st];
}
