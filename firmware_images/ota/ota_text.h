/*
 * A bounded text builder for topics and JSON payloads.
 *
 * Appends never write past the buffer and always leave it NUL-terminated;
 * a builder remembers when text did not fit, so a caller checks once at the
 * end. It formats with its own code and needs no C library printf.
 */
#ifndef OTA_TEXT_H
#define OTA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ota_text {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
};

/* Starts an empty text in buf of cap bytes (cap >= 1). */
void ota_text_init(struct ota_text *t, char *buf, size_t cap);

void ota_text_str(struct ota_text *t, const char *s);

/* Appends s with '"' and '\\' escaped and control characters as \u00XX. */
void ota_text_json_str(struct ota_text *t, const char *s);

void ota_text_dec(struct ota_text *t, uint32_t value);

/* Appends value in lower-case hexadecimal with a "0x" prefix. */
void ota_text_hex(struct ota_text *t, uint32_t value);

/* True when everything appended so far fitted. */
bool ota_text_ok(const struct ota_text *t);

#endif
