/*
 * The bounded text builder (ota_text.h).
 */
#include "ota_text.h"

void ota_text_init(struct ota_text *t, char *buf, size_t cap)
{
    t->buf = buf;
    t->cap = cap;
    t->len = 0;
    t->overflow = cap == 0u;
    if (cap != 0u) {
        buf[0] = '\0';
    }
}

static void put(struct ota_text *t, char c)
{
    if (t->len + 1u >= t->cap) {
        t->overflow = true;
        return;
    }
    t->buf[t->len++] = c;
    t->buf[t->len] = '\0';
}

void ota_text_str(struct ota_text *t, const char *s)
{
    while (*s != '\0') {
        put(t, *s++);
    }
}

static const char hex_digits[] = "0123456789abcdef";

void ota_text_json_str(struct ota_text *t, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            put(t, '\\');
            put(t, (char)c);
        } else if (c < 0x20u) {
            ota_text_str(t, "\\u00");
            put(t, hex_digits[c >> 4]);
            put(t, hex_digits[c & 0xFu]);
        } else {
            put(t, (char)c);
        }
    }
}

void ota_text_dec(struct ota_text *t, uint32_t value)
{
    char digits[10];
    int n = 0;

    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        put(t, digits[--n]);
    }
}

void ota_text_hex(struct ota_text *t, uint32_t value)
{
    int shift = 28;

    ota_text_str(t, "0x");

    /* Skip leading zeros but keep the last digit. */
    while (shift > 0 && ((value >> shift) & 0xFu) == 0u) {
        shift -= 4;
    }
    for (; shift >= 0; shift -= 4) {
        put(t, hex_digits[(value >> shift) & 0xFu]);
    }
}

bool ota_text_ok(const struct ota_text *t)
{
    return !t->overflow;
}
