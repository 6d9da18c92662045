/*
 * Driver of the crypto engine. Register map: docs/crypto.md.
 *
 * A command is: write its registers, write CMD, wait while BUSY, read ERR
 * (cleared by every command, set only when the engine refuses one).
 */
#include "crypto.h"

#define CE_ID 0x43525931u

/* Register offsets. */
#define CE_ID_R 0x00u
#define CE_CMD 0x04u
#define CE_STATUS 0x08u
#define CE_ERR 0x0Cu
#define CE_INTEN 0x10u
#define CE_DATA_ADDR 0x14u
#define CE_DATA_LEN 0x18u
#define CE_SLOT 0x1Cu
#define CE_SIG_ADDR 0x20u
#define CE_SIG_LEN 0x24u
#define CE_DIGEST_ADDR 0x28u
#define CE_RESULT 0x2Cu
#define CE_KEYMAP 0x34u
#define CE_DIGEST0 0x40u

/* Commands. */
#define CE_OP_SHA_INIT 1u
#define CE_OP_SHA_UPDATE 2u
#define CE_OP_SHA_FINAL 3u
#define CE_OP_VERIFY_MEM 5u

#define CE_BUSY (1u << 0)
#define CE_STICKY (3u << 8)

static struct {
    uintptr_t base;
    crypto_wait_fn wait;
} ce;

static volatile uint32_t *reg(uint32_t offset)
{
    return (volatile uint32_t *)(ce.base + offset);
}

static uint32_t rd(uint32_t offset)
{
    return *reg(offset);
}

static void wr(uint32_t offset, uint32_t value)
{
    *reg(offset) = value;
}

static uint32_t address_of(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}

/* Issues a command whose registers are set and waits for the engine. */
static crypto_status_t run(uint32_t op)
{
    wr(CE_CMD, op);
    while ((rd(CE_STATUS) & CE_BUSY) != 0u) {
        if (ce.wait != 0) {
            ce.wait();
        }
    }
    return (crypto_status_t)(rd(CE_ERR) & 0xFFu);
}

crypto_status_t crypto_init(uintptr_t base, crypto_wait_fn wait)
{
    ce.base = 0u;
    if (base == 0u || *(volatile uint32_t *)(base + CE_ID_R) != CE_ID) {
        return CRYPTO_ERR_NO_DEVICE;
    }
    ce.base = base;
    ce.wait = wait;
    wr(CE_INTEN, 0u);
    wr(CE_STATUS, CE_STICKY);
    return CRYPTO_OK;
}

crypto_status_t crypto_sha256_init(void)
{
    if (ce.base == 0u) {
        return CRYPTO_ERR_NOT_INIT;
    }
    return run(CE_OP_SHA_INIT);
}

crypto_status_t crypto_sha256_update(const void *data, size_t len)
{
    if (ce.base == 0u) {
        return CRYPTO_ERR_NOT_INIT;
    }
    wr(CE_DATA_ADDR, address_of(data));
    wr(CE_DATA_LEN, (uint32_t)len);
    return run(CE_OP_SHA_UPDATE);
}

crypto_status_t crypto_sha256_final(uint8_t digest[CRYPTO_SHA256_LEN])
{
    crypto_status_t st;
    uint32_t i;

    if (ce.base == 0u) {
        return CRYPTO_ERR_NOT_INIT;
    }
    st = run(CE_OP_SHA_FINAL);
    if (st != CRYPTO_OK) {
        return st;
    }
    /* DIGESTn holds Hn: digest bytes 4n..4n+3, most significant first. */
    for (i = 0u; i < CRYPTO_SHA256_LEN / 4u; i++) {
        uint32_t w = rd(CE_DIGEST0 + 4u * i);

        digest[4u * i] = (uint8_t)(w >> 24);
        digest[4u * i + 1u] = (uint8_t)(w >> 16);
        digest[4u * i + 2u] = (uint8_t)(w >> 8);
        digest[4u * i + 3u] = (uint8_t)w;
    }
    return CRYPTO_OK;
}

crypto_result_t crypto_verify_p256(uint32_t slot,
                                   const uint8_t digest[CRYPTO_SHA256_LEN],
                                   const uint8_t *sig, size_t sig_len)
{
    if (ce.base == 0u) {
        return CRYPTO_VERIFY_FAILED;
    }
    wr(CE_SLOT, slot);
    wr(CE_DIGEST_ADDR, address_of(digest));
    wr(CE_SIG_ADDR, address_of(sig));
    wr(CE_SIG_LEN, (uint32_t)sig_len);
    if (run(CE_OP_VERIFY_MEM) != CRYPTO_OK) {
        return CRYPTO_VERIFY_FAILED;
    }
    return (crypto_result_t)rd(CE_RESULT);
}

uint32_t crypto_key_map(void)
{
    return ce.base == 0u ? 0u : rd(CE_KEYMAP);
}

void crypto_irq_enable(int on)
{
    if (ce.base != 0u) {
        wr(CE_INTEN, on ? 1u : 0u);
    }
}
