/*
 * The receive bitmap (ota_bitmap.h).
 */
#include "ota_bitmap.h"

#include <string.h>

uint32_t ota_block_count(uint32_t size, uint32_t block_size)
{
    return size / block_size + (size % block_size != 0u ? 1u : 0u);
}

uint32_t ota_block_length(uint32_t size, uint32_t block_size,
                          uint32_t index)
{
    uint32_t start = index * block_size;

    if (start >= size) {
        return 0;
    }
    return size - start < block_size ? size - start : block_size;
}

size_t ota_bitmap_bytes(uint32_t blocks)
{
    return (size_t)blocks / 8u + (blocks % 8u != 0u ? 1u : 0u);
}

void ota_bitmap_fill(uint8_t *bm, size_t cap, uint32_t blocks)
{
    size_t full;

    /* A bitmap never grows past its buffer: extra blocks are dropped. */
    if (ota_bitmap_bytes(blocks) > cap) {
        blocks = (uint32_t)(cap * 8u);
    }
    full = blocks / 8u;
    memset(bm, 0, cap);
    memset(bm, 0xFF, full);
    if (blocks % 8u != 0u) {
        bm[full] = (uint8_t)((1u << (blocks % 8u)) - 1u);
    }
}

bool ota_bitmap_needed(const uint8_t *bm, uint32_t index)
{
    return (bm[index / 8u] >> (index % 8u) & 1u) != 0u;
}

void ota_bitmap_clear(uint8_t *bm, uint32_t index)
{
    bm[index / 8u] &= (uint8_t)~(1u << (index % 8u));
}

uint32_t ota_bitmap_count(const uint8_t *bm, uint32_t blocks)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < blocks; i++) {
        n += ota_bitmap_needed(bm, i) ? 1u : 0u;
    }
    return n;
}
