/*
 * A small JSON reader (RFC 8259) for job documents, with no allocation.
 *
 * ota_json_parse checks a whole document once; after that a value is just
 * a span of the original text, and lookups walk the text again. Object
 * members are found by their unescaped key; when a key appears twice the
 * first one counts. Strings come out unescaped into caller buffers, \u
 * escapes as UTF-8. The input is not checked to be valid UTF-8. Nesting is
 * limited to 16 levels, so that a hostile document cannot exhaust a small
 * task stack.
 */
#ifndef OTA_JSON_H
#define OTA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ota_json_type {
    OTA_JSON_INVALID = 0,
    OTA_JSON_OBJECT,
    OTA_JSON_ARRAY,
    OTA_JSON_STRING,
    OTA_JSON_NUMBER,
    OTA_JSON_BOOL,
    OTA_JSON_NULL
};

enum ota_json_status {
    OTA_JSON_OK = 0,
    OTA_JSON_SYNTAX,    /* not well-formed, or too deeply nested */
    OTA_JSON_NOT_FOUND, /* no such member or element */
    OTA_JSON_TYPE,      /* the value has another type */
    OTA_JSON_TOO_LONG,  /* the text does not fit the buffer */
    OTA_JSON_RANGE      /* not an integer from 0 to 2^32 - 1 */
};

/* One JSON value: a span of the document's text. */
struct ota_json {
    const char *p;
    size_t len;
};

/* Walks the members of an object. */
struct ota_json_iter {
    const char *p;
    const char *end;
};

#define OTA_JSON_MAX_DEPTH 16u

/* Checks that text is exactly one JSON value (with blanks around). */
enum ota_json_status ota_json_parse(const char *text, size_t len,
                                    struct ota_json *root);

enum ota_json_type ota_json_type(const struct ota_json *v);

/* The member key of object obj. */
enum ota_json_status ota_json_get(const struct ota_json *obj,
                                  const char *key, struct ota_json *out);

/* A member found through dotted keys: "execution.jobDocument.afr_ota". */
enum ota_json_status ota_json_path(const struct ota_json *obj,
                                   const char *path, struct ota_json *out);

/* Element index of array arr. */
enum ota_json_status ota_json_at(const struct ota_json *arr, size_t index,
                                 struct ota_json *out);

/*
 * Unescapes string value v into buf (NUL-terminated) and stores its byte
 * length in *len when len is not NULL. A string holding U+0000 or a lone
 * surrogate is refused as OTA_JSON_SYNTAX.
 */
enum ota_json_status ota_json_string(const struct ota_json *v, char *buf,
                                     size_t cap, size_t *len);

/* True when v is a string equal to s. */
bool ota_json_string_is(const struct ota_json *v, const char *s);

/* Reads a number without fraction or exponent from 0 to 2^32 - 1. */
enum ota_json_status ota_json_u32(const struct ota_json *v, uint32_t *out);

/* Starts a walk over the members of obj (which must be an object). */
enum ota_json_status ota_json_members(const struct ota_json *obj,
                                      struct ota_json_iter *it);

/* The next member's key (a string value) and value; false at the end. */
bool ota_json_next(struct ota_json_iter *it, struct ota_json *key,
                   struct ota_json *value);

const char *ota_json_strerror(enum ota_json_status st);

#endif
