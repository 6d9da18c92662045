/*
 * Driver of the crypto engine ("crypto-engine", docs/crypto.md): SHA-256
 * over memory and ECDSA P-256 verification against keys held in slots.
 *
 * Calls block until the engine is done, polling its STATUS register and
 * calling the wait hook given to crypto_init between polls (NULL spins).
 * The engine holds one hash at a time; the driver is not reentrant.
 */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32u

/* Outcomes of the setup and hash calls. Values 1..3 are the ERR codes. */
typedef enum {
    CRYPTO_OK = 0,
    CRYPTO_ERR_BAD_COMMAND = 1,
    CRYPTO_ERR_BAD_ADDRESS = 2, /* the data is not in readable memory */
    CRYPTO_ERR_NO_HASH = 3,     /* update or final without init */
    CRYPTO_ERR_NO_DEVICE = 100, /* no engine at the base address */
    CRYPTO_ERR_NOT_INIT = 101   /* crypto_init has not succeeded */
} crypto_status_t;

/* Outcomes of a verification. Values 1..4 are the RESULT codes. */
typedef enum {
    CRYPTO_VALID = 1,
    CRYPTO_INVALID = 2,               /* the signature does not match */
    CRYPTO_NO_KEY = 3,                /* the slot holds no key */
    CRYPTO_BAD_SIGNATURE_FORMAT = 4,  /* neither raw r||s nor DER */
    CRYPTO_VERIFY_FAILED = 5          /* refused: see crypto_status_t */
} crypto_result_t;

typedef void (*crypto_wait_fn)(void);

/* Binds the driver to the engine at base and masks its interrupt. */
crypto_status_t crypto_init(uintptr_t base, crypto_wait_fn wait);

crypto_status_t crypto_sha256_init(void);

/* Hashes len bytes at data (RAM or flash). */
crypto_status_t crypto_sha256_update(const void *data, size_t len);

/* Ends the hash and stores the 32-byte digest. */
crypto_status_t crypto_sha256_final(uint8_t digest[CRYPTO_SHA256_LEN]);

/*
 * Checks an ECDSA P-256 signature of a SHA-256 digest with the public key
 * in slot. sig is raw r||s when sig_len is 64, DER otherwise.
 */
crypto_result_t crypto_verify_p256(uint32_t slot,
                                   const uint8_t digest[CRYPTO_SHA256_LEN],
                                   const uint8_t *sig, size_t sig_len);

/* Bit n set: slot n holds a key. */
uint32_t crypto_key_map(void);

/* Enables (1) or masks (0) the done interrupt. */
void crypto_irq_enable(int on);

#endif
