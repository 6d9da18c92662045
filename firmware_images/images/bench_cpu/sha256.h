/*
 * SHA-256 (FIPS 180-4), written for this benchmark: one call hashes one
 * message held in memory.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32u

void sha256(const uint8_t *msg, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);

#endif
