/*
 * The JSON reader (ota_json.h). The grammar is that of RFC 8259,
 * sections 2 to 7.
 */
#include "ota_json.h"

#include <string.h>

/* The longest member key that lookups compare. */
#define KEY_MAX 64u

/* ---- scanning --------------------------------------------------------- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end &&
           (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Checks one escape after its backslash; returns the next character. */
static const char *scan_escape(const char *p, const char *end)
{
    if (p == end) {
        return NULL;
    }
    if (*p != '\0' && strchr("\"\\/bfnrt", *p) != NULL) {
        return p + 1;
    }
    if (*p != 'u' || end - p < 5) {
        return NULL;
    }
    for (int i = 1; i <= 4; i++) {
        if (hex_value(p[i]) < 0) {
            return NULL;
        }
    }
    return p + 5;
}

/* Scans a string from its opening quote; returns past the closing one. */
static const char *scan_string(const char *p, const char *end)
{
    p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;

        if (c == '"') {
            return p + 1;
        }
        if (c < 0x20u) {
            return NULL;
        }
        p = c == '\\' ? scan_escape(p + 1, end) : p + 1;
        if (p == NULL) {
            return NULL;
        }
    }
    return NULL;
}

static const char *scan_digits(const char *p, const char *end)
{
    const char *start = p;

    while (p < end && is_digit(*p)) {
        p++;
    }
    return p == start ? NULL : p;
}

/* Scans -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *scan_number(const char *p, const char *end)
{
    if (p < end && *p == '-') {
        p++;
    }
    if (p < end && *p == '0') {
        p++;
    } else {
        p = scan_digits(p, end);
    }
    if (p != NULL && p < end && *p == '.') {
        p = scan_digits(p + 1, end);
    }
    if (p != NULL && p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        p = scan_digits(p, end);
    }
    return p;
}

static const char *scan_literal(const char *p, const char *end,
                                const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0) {
        return NULL;
    }
    return p + n;
}

static const char *scan_value(const char *p, const char *end,
                              unsigned depth);

/* Scans an array or object body after its opening bracket. */
static const char *scan_container(const char *p, const char *end,
                                  unsigned depth, char close, bool object)
{
    p = skip_ws(p + 1, end);
    if (p < end && *p == close) {
        return p + 1;
    }
    while (p != NULL && p < end) {
        if (object) {
            if (*p != '"' || (p = scan_string(p, end)) == NULL) {
                return NULL;
            }
            p = skip_ws(p, end);
            if (p == end || *p != ':') {
                return NULL;
            }
            p = skip_ws(p + 1, end);
        }
        p = scan_value(p, end, depth + 1u);
        if (p == NULL) {
            return NULL;
        }
        p = skip_ws(p, end);
        if (p < end && *p == close) {
            return p + 1;
        }
        if (p == end || *p != ',') {
            return NULL;
        }
        p = skip_ws(p + 1, end);
    }
    return NULL;
}

/* Scans one value at p (no leading blanks); returns the end or NULL. */
static const char *scan_value(const char *p, const char *end,
                              unsigned depth)
{
    if (p == end || depth >= OTA_JSON_MAX_DEPTH) {
        return NULL;
    }
    switch (*p) {
    case '{':
        return scan_container(p, end, depth, '}', true);
    case '[':
        return scan_container(p, end, depth, ']', false);
    case '"':
        return scan_string(p, end);
    case 't':
        return scan_literal(p, end, "true");
    case 'f':
        return scan_literal(p, end, "false");
    case 'n':
        return scan_literal(p, end, "null");
    default:
        return (*p == '-' || is_digit(*p)) ? scan_number(p, end) : NULL;
    }
}

enum ota_json_status ota_json_parse(const char *text, size_t len,
                                    struct ota_json *root)
{
    const char *end = text + len;
    const char *start = skip_ws(text, end);
    const char *stop = scan_value(start, end, 0);

    if (stop == NULL || skip_ws(stop, end) != end) {
        return OTA_JSON_SYNTAX;
    }
    root->p = start;
    root->len = (size_t)(stop - start);
    return OTA_JSON_OK;
}

/* ---- navigation (on text that ota_json_parse accepted) ----------------- */

enum ota_json_type ota_json_type(const struct ota_json *v)
{
    if (v->len == 0u) {
        return OTA_JSON_INVALID;
    }
    switch (v->p[0]) {
    case '{':
        return OTA_JSON_OBJECT;
    case '[':
        return OTA_JSON_ARRAY;
    case '"':
        return OTA_JSON_STRING;
    case 't':
    case 'f':
        return OTA_JSON_BOOL;
    case 'n':
        return OTA_JSON_NULL;
    default:
        return OTA_JSON_NUMBER;
    }
}

enum ota_json_status ota_json_members(const struct ota_json *obj,
                                      struct ota_json_iter *it)
{
    if (ota_json_type(obj) != OTA_JSON_OBJECT) {
        return OTA_JSON_TYPE;
    }
    it->p = obj->p + 1;
    it->end = obj->p + obj->len - 1;
    return OTA_JSON_OK;
}

/* Takes one value at it->p and moves past it and a following comma. */
static bool take_value(struct ota_json_iter *it, struct ota_json *value)
{
    const char *p = skip_ws(it->p, it->end);
    const char *stop = scan_value(p, it->end, 0);

    if (stop == NULL) {
        return false;
    }
    value->p = p;
    value->len = (size_t)(stop - p);
    p = skip_ws(stop, it->end);
    it->p = (p < it->end && *p == ',') ? p + 1 : p;
    return true;
}

bool ota_json_next(struct ota_json_iter *it, struct ota_json *key,
                   struct ota_json *value)
{
    const char *colon;

    if (!take_value(it, key)) {
        return false;
    }

    /* take_value stopped at the colon, which is not a comma. */
    colon = skip_ws(key->p + key->len, it->end);
    it->p = colon + 1;
    return take_value(it, value);
}

enum ota_json_status ota_json_get(const struct ota_json *obj,
                                  const char *key, struct ota_json *out)
{
    struct ota_json_iter it;
    struct ota_json k;
    struct ota_json v;
    enum ota_json_status st = ota_json_members(obj, &it);

    if (st != OTA_JSON_OK) {
        return st;
    }
    while (ota_json_next(&it, &k, &v)) {
        if (ota_json_string_is(&k, key)) {
            *out = v;
            return OTA_JSON_OK;
        }
    }
    return OTA_JSON_NOT_FOUND;
}

enum ota_json_status ota_json_path(const struct ota_json *obj,
                                   const char *path, struct ota_json *out)
{
    char key[KEY_MAX + 1u];
    struct ota_json cur = *obj;

    while (*path != '\0') {
        size_t n = strcspn(path, ".");
        enum ota_json_status st;

        if (n > KEY_MAX) {
            return OTA_JSON_NOT_FOUND;
        }
        memcpy(key, path, n);
        key[n] = '\0';
        st = ota_json_get(&cur, key, &cur);
        if (st != OTA_JSON_OK) {
            return st;
        }
        path += n + (path[n] == '.' ? 1u : 0u);
    }
    *out = cur;
    return OTA_JSON_OK;
}

enum ota_json_status ota_json_at(const struct ota_json *arr, size_t index,
                                 struct ota_json *out)
{
    struct ota_json_iter it;

    if (ota_json_type(arr) != OTA_JSON_ARRAY) {
        return OTA_JSON_TYPE;
    }
    it.p = arr->p + 1;
    it.end = arr->p + arr->len - 1;
    for (size_t i = 0; i <= index; i++) {
        if (!take_value(&it, out)) {
            return OTA_JSON_NOT_FOUND;
        }
    }
    return OTA_JSON_OK;
}

/* ---- values ----------------------------------------------------------- */

static uint32_t read_hex4(const char *p)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++) {
        v = v << 4 | (uint32_t)hex_value(p[i]);
    }
    return v;
}

/* Reads a \u escape (pairing surrogates); returns the code point or 0. */
static uint32_t read_code_point(const char **pp, const char *end)
{
    const char *p = *pp;
    uint32_t hi = read_hex4(p + 1);
    uint32_t lo;

    *pp = p + 5;
    if (hi < 0xD800u || hi > 0xDFFFu) {
        return hi;
    }
    if (hi > 0xDBFFu || end - *pp < 6 || (*pp)[0] != '\\' ||
        (*pp)[1] != 'u') {
        return 0;
    }
    lo = read_hex4(*pp + 2);
    if (lo < 0xDC00u || lo > 0xDFFFu) {
        return 0;
    }
    *pp += 6;
    return 0x10000u + ((hi - 0xD800u) << 10) + (lo - 0xDC00u);
}

/* Writes a code point as UTF-8; returns the bytes it needs. */
static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80u) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800u) {
        out[0] = (char)(0xC0u | cp >> 6);
        out[1] = (char)(0x80u | (cp & 0x3Fu));
        return 2;
    }
    if (cp < 0x10000u) {
        out[0] = (char)(0xE0u | cp >> 12);
        out[1] = (char)(0x80u | (cp >> 6 & 0x3Fu));
        out[2] = (char)(0x80u | (cp & 0x3Fu));
        return 3;
    }
    out[0] = (char)(0xF0u | cp >> 18);
    out[1] = (char)(0x80u | (cp >> 12 & 0x3Fu));
    out[2] = (char)(0x80u | (cp >> 6 & 0x3Fu));
    out[3] = (char)(0x80u | (cp & 0x3Fu));
    return 4;
}

/* The character a one-letter escape stands for. */
static char simple_escape(char c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return c;
    }
}

/* Decodes one character or escape at *pp into out; 0 means refused. */
static size_t decode_char(const char **pp, const char *end, char *out)
{
    const char *p = *pp;
    uint32_t cp;

    if (*p != '\\') {
        *out = *p;
        *pp = p + 1;
        return 1;
    }
    if (p[1] != 'u') {
        *out = simple_escape(p[1]);
        *pp = p + 2;
        return 1;
    }
    *pp = p + 1;
    cp = read_code_point(pp, end);
    return cp == 0u ? 0u : put_utf8(cp, out);
}

enum ota_json_status ota_json_string(const struct ota_json *v, char *buf,
                                     size_t cap, size_t *len)
{
    const char *p = v->p + 1;
    const char *end = v->p + v->len - 1;
    size_t n = 0;

    if (ota_json_type(v) != OTA_JSON_STRING) {
        return OTA_JSON_TYPE;
    }
    while (p < end) {
        char utf8[4];
        size_t k = decode_char(&p, end, utf8);

        if (k == 0u) {
            return OTA_JSON_SYNTAX;
        }
        if (n + k >= cap) {
            return OTA_JSON_TOO_LONG;
        }
        memcpy(buf + n, utf8, k);
        n += k;
    }
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return OTA_JSON_OK;
}

bool ota_json_string_is(const struct ota_json *v, const char *s)
{
    char buf[KEY_MAX + 1u];
    size_t n;

    if (ota_json_string(v, buf, sizeof(buf), &n) != OTA_JSON_OK) {
        return false;
    }
    return n == strlen(s) && memcmp(buf, s, n) == 0;
}

enum ota_json_status ota_json_u32(const struct ota_json *v, uint32_t *out)
{
    uint64_t value = 0;

    if (ota_json_type(v) != OTA_JSON_NUMBER) {
        return OTA_JSON_TYPE;
    }
    for (size_t i = 0; i < v->len; i++) {
        if (!is_digit(v->p[i])) {
            return OTA_JSON_RANGE;
        }
        value = value * 10u + (uint64_t)(v->p[i] - '0');
        if (value > 0xFFFFFFFFu) {
            return OTA_JSON_RANGE;
        }
    }
    *out = (uint32_t)value;
    return OTA_JSON_OK;
}

const char *ota_json_strerror(enum ota_json_status st)
{
    static const char *const names[] = {
        "ok", "syntax error", "not found", "wrong type", "too long",
        "out of range",
    };

    if ((unsigned)st >= sizeof(names) / sizeof(names[0])) {
        return "unknown";
    }
    return names[st];
}
