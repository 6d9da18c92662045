/*
 * The CBOR messages of MQTT-based file delivery (AWS IoT developer guide,
 * "MQTT-based file delivery"; CBOR itself is RFC 8949).
 *
 * The agent sends GetStream requests, a map of one-letter keys:
 *   c  client token (text)      f  file id        l  block size
 *   o  first block              b  bitmap (bytes) n  blocks wanted
 * and receives data blocks, a map of
 *   c  client token (optional)  f  file id        i  block index
 *   l  payload length           p  payload (bytes)
 *
 * The decoder accepts definite lengths only (the service sends no other),
 * keys in any order, unknown keys (skipped) and integers of any width that
 * fit 32 bits. It refuses duplicate keys, trailing bytes after the map, and
 * nesting deeper than 8 levels in skipped values.
 */
#ifndef OTA_CBOR_H
#define OTA_CBOR_H

#include <stddef.h>
#include <stdint.h>

struct ota_get_request {
    const char *client_token; /* NULL leaves "c" out */
    uint32_t file_id;
    uint32_t block_size;
    uint32_t offset;
    const uint8_t *bitmap; /* NULL leaves "b" out */
    size_t bitmap_len;
    uint32_t count;
};

struct ota_data_block {
    uint32_t file_id;
    uint32_t index;
    uint32_t length;        /* the "l" field as sent */
    const uint8_t *payload; /* points into the decoded message */
    size_t payload_len;
};

enum ota_cbor_status {
    OTA_CBOR_OK = 0,
    OTA_CBOR_MALFORMED,   /* truncated, reserved or indefinite encodings */
    OTA_CBOR_NOT_MAP,     /* the top item is not a map */
    OTA_CBOR_MISSING,     /* a required key is absent */
    OTA_CBOR_BAD_TYPE,    /* a known key holds the wrong type */
    OTA_CBOR_RANGE,       /* an integer above 32 bits */
    OTA_CBOR_DUPLICATE,   /* a known key appears twice */
    OTA_CBOR_TRAILING,    /* bytes after the map */
    OTA_CBOR_LENGTH       /* "l" differs from the payload's length */
};

/*
 * Encodes a GetStream request, keys in the order c f l o b n. Returns the
 * encoded length, or 0 when it does not fit in cap bytes.
 */
size_t ota_cbor_encode_get(const struct ota_get_request *rq, uint8_t *out,
                           size_t cap);

/* Decodes one data-block message of len bytes. */
enum ota_cbor_status ota_cbor_decode_block(const uint8_t *msg, size_t len,
                                           struct ota_data_block *out);

/* A short name of a status, for console lines. */
const char *ota_cbor_strerror(enum ota_cbor_status st);

#endif
