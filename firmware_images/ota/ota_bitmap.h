/*
 * The receive bitmap of a file: one bit per block, set while the block is
 * still needed. Bit k is bit k % 8 (least significant first) of byte k / 8,
 * the layout of the "b" field of a GetStream request. The unused high bits
 * of the last byte stay clear, so the bitmap can go on the wire as it is.
 */
#ifndef OTA_BITMAP_H
#define OTA_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Blocks of block_size bytes that hold size bytes. */
uint32_t ota_block_count(uint32_t size, uint32_t block_size);

/* Bytes of payload block index carries: block_size, or the remainder. */
uint32_t ota_block_length(uint32_t size, uint32_t block_size,
                          uint32_t index);

/* Bytes of the bitmap of a file of blocks blocks. */
size_t ota_bitmap_bytes(uint32_t blocks);

/* Marks every one of blocks blocks as needed; the rest of bm is cleared. */
void ota_bitmap_fill(uint8_t *bm, size_t cap, uint32_t blocks);

bool ota_bitmap_needed(const uint8_t *bm, uint32_t index);

void ota_bitmap_clear(uint8_t *bm, uint32_t index);

/* Blocks still needed among the first blocks blocks. */
uint32_t ota_bitmap_count(const uint8_t *bm, uint32_t blocks);

#endif
