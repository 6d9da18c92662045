/*
 * Base64 decoding (ota_base64.h).
 */
#include "ota_base64.h"

/* The 6-bit value of an alphabet character, or -1. */
static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* Strips up to two '=' and checks that padding only ends a full quad. */
static enum ota_b64_status strip_padding(const char *text, size_t *len)
{
    size_t n = *len;
    size_t pad = 0;

    while (n > 0u && pad < 2u && text[n - 1u] == '=') {
        n--;
        pad++;
    }
    if (pad != 0u && *len % 4u != 0u) {
        return OTA_B64_BAD_PADDING;
    }
    *len = n;
    return OTA_B64_OK;
}

enum ota_b64_status ota_base64_decode(const char *text, size_t len,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    enum ota_b64_status st = strip_padding(text, &len);

    *out_len = 0;
    if (st != OTA_B64_OK) {
        return st;
    }
    for (size_t i = 0; i < len; i++) {
        int v = sextet(text[i]);

        if (v < 0) {
            return text[i] == '=' ? OTA_B64_BAD_PADDING : OTA_B64_BAD_CHAR;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6u;
        if (bits >= 8u) {
            bits -= 8u;
            if (n == cap) {
                return OTA_B64_TOO_LONG;
            }
            out[n++] = (uint8_t)(acc >> bits);
        }
    }

    /* One character alone cannot make a byte. */
    if (len % 4u == 1u) {
        return OTA_B64_BAD_LENGTH;
    }

    /* The 2 or 4 bits left over must be zero in a canonical encoding. */
    if ((acc & ((1u << bits) - 1u)) != 0u) {
        return OTA_B64_BAD_PADDING;
    }
    *out_len = n;
    return OTA_B64_OK;
}
