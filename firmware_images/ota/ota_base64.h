/*
 * Base64 decoding (RFC 4648, section 4: the standard alphabet) of the
 * signatures that job documents carry.
 */
#ifndef OTA_BASE64_H
#define OTA_BASE64_H

#include <stddef.h>
#include <stdint.h>

enum ota_b64_status {
    OTA_B64_OK = 0,
    OTA_B64_BAD_CHAR,    /* a character outside the alphabet */
    OTA_B64_BAD_LENGTH,  /* a length no encoding produces */
    OTA_B64_BAD_PADDING, /* '=' in the middle, or non-zero spare bits */
    OTA_B64_TOO_LONG     /* the output does not fit */
};

/*
 * Decodes len characters of text into out (cap bytes) and stores the byte
 * count in *out_len. Padding may be present (then the length is a multiple
 * of four) or left out. The encoding must be canonical: the spare bits of
 * the last character are zero. Whitespace is not accepted.
 */
enum ota_b64_status ota_base64_decode(const char *text, size_t len,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len);

#endif
