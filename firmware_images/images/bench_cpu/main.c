/*
 * bench_cpu: pure computation, no kernel and no interrupts.
 *
 * A 4 KiB buffer of pseudo-random bytes goes through a table-driven CRC-32
 * and through SHA-256 many times over, each pass chained to the previous
 * result, for roughly 30 million instructions in all. Both algorithms are
 * checked against their standard test vectors first. The transcript holds
 * only results, so it is the same on any core speed.
 */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "semihost.h"
#include "sha256.h"

#define BUF_SIZE 4096u
#define CRC_PASSES 500u
#define SHA_PASSES 90u

static uint8_t buffer[BUF_SIZE];
static uint32_t crc_table[256];

/* CRC-32 as in IEEE 802.3: reflected polynomial 0xEDB88320. */
static void crc32_init(void)
{
    for (uint32_t n = 0; n < 256u; n++) {
        uint32_t c = n;

        for (int k = 0; k < 8; k++) {
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[n] = c;
    }
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n-- > 0) {
        crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}

static void fill_buffer(uint32_t seed)
{
    /* xorshift32: cheap, and the same bytes on every run. */
    for (size_t i = 0; i < BUF_SIZE; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        buffer[i] = (uint8_t)seed;
    }
}

static void hex(char *out, const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xFu];
    }
    out[2 * n] = '\0';
}

static int self_test(void)
{
    static const uint8_t abc_digest[SHA256_DIGEST_SIZE] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
        0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
        0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    uint8_t digest[SHA256_DIGEST_SIZE];
    uint32_t crc = crc32_update(0, (const uint8_t *)"123456789", 9);
    int ok = 1;

    if (crc != 0xCBF43926u) {
        console_printf("bench_cpu: crc32 self-test FAILED (0x%08lx)\n",
                       (unsigned long)crc);
        ok = 0;
    }
    sha256((const uint8_t *)"abc", 3, digest);
    if (memcmp(digest, abc_digest, sizeof(digest)) != 0) {
        console_puts("bench_cpu: sha256 self-test FAILED");
        ok = 0;
    }
    return ok;
}

int main(void)
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    char text[2 * SHA256_DIGEST_SIZE + 1];
    uint32_t crc = 0;

    console_puts("bench_cpu: start");
    crc32_init();
    if (!self_test()) {
        return EXIT_TEST_FAILED;
    }
    console_puts("bench_cpu: crc32 and sha256 self-tests passed");

    fill_buffer(0x2545F491u);
    for (uint32_t i = 0; i < CRC_PASSES; i++) {
        crc = crc32_update(crc, buffer, BUF_SIZE);
    }
    console_printf("bench_cpu: crc32 of %u passes over %u bytes: 0x%08lx\n",
                   CRC_PASSES, BUF_SIZE, (unsigned long)crc);

    /* Each digest goes back into the buffer before the next pass. */
    for (uint32_t i = 0; i < SHA_PASSES; i++) {
        sha256(buffer, BUF_SIZE, digest);
        memcpy(buffer, digest, sizeof(digest));
    }
    hex(text, digest, sizeof(digest));
    console_printf("bench_cpu: sha256 of %u chained passes: %s\n",
                   SHA_PASSES, text);
    console_puts("bench_cpu: done");
    return EXIT_OK;
}
