/*
 * The MCUboot trailer at the end of a slot, as the PAL reads and writes it.
 *
 * Fields sit from the end of the slot backwards, each on a max_align
 * boundary, where max_align is the larger of 8 and the program unit
 * (MCUboot's BOOT_MAX_ALIGN as imgtool derives it; emu/image/trailer.py
 * has the same table):
 *
 *   magic      S - 16                      16 bytes
 *   image_ok   align_down(S - 16 - A, A)   0x01 set, 0xFF unset
 *   copy_done  image_ok - A                written by the bootloader only
 *   swap_info  copy_done - A               image number << 4 | swap type
 *   swap_size  swap_info - A
 *   status     swap_size - rows * 3 * U    swap progress, bootloader only
 *
 * S is the slot size, A is max_align and U the program unit. A field is
 * written on its own, padded with 0xFF to whole program units, so that it
 * never shares a unit with a neighbour. The PAL writes only the magic,
 * image_ok and swap_info, as MCUboot's boot_set_pending and
 * boot_set_confirmed do.
 */
#include <string.h>

#include "pal_internal.h"

#define MAGIC_SIZE 16u

/* The magic for max_align 8: four words of MCUboot's boot_img_magic. */
static const uint8_t magic_8[MAGIC_SIZE] = {
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
    0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

/* Wider alignments store max_align in the first two bytes, then this. */
static const uint8_t magic_wide_tail[MAGIC_SIZE - 2u] = {
    0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d, 0x77,
    0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a,
};

static uint32_t unit(void)
{
    return pal_port_layout()->program_unit;
}

static uint32_t max_align(void)
{
    return unit() > 8u ? unit() : 8u;
}

/* Offsets from the start of the slot. */
static uint32_t magic_off(void)
{
    return pal_port_layout()->slot_size - MAGIC_SIZE;
}

static uint32_t image_ok_off(void)
{
    uint32_t a = max_align();

    return (magic_off() - a) & ~(a - 1u);
}

static uint32_t copy_done_off(void)
{
    return image_ok_off() - max_align();
}

static uint32_t swap_info_off(void)
{
    return copy_done_off() - max_align();
}

uint32_t pal_trailer_size(void)
{
    const pal_port_layout_t *l = pal_port_layout();

    return l->max_img_sectors * 3u * l->program_unit + 4u * max_align() +
           pal_align_up(MAGIC_SIZE, max_align());
}

static void expected_magic(uint8_t out[MAGIC_SIZE])
{
    uint32_t a = max_align();

    if (a == 8u) {
        memcpy(out, magic_8, MAGIC_SIZE);
        return;
    }
    out[0] = (uint8_t)a;
    out[1] = (uint8_t)(a >> 8);
    memcpy(&out[2], magic_wide_tail, sizeof(magic_wide_tail));
}

static uint8_t byte_at(uint32_t addr)
{
    return *(const volatile uint8_t *)(uintptr_t)addr;
}

static pal_flag_t flag_at(uint32_t addr)
{
    uint8_t v = byte_at(addr);

    if (v == 0xffu) {
        return PAL_FLAG_UNSET;
    }
    return v == 0x01u ? PAL_FLAG_SET : PAL_FLAG_BAD;
}

static pal_magic_t magic_at(uint32_t addr)
{
    uint8_t want[MAGIC_SIZE];
    bool erased = true;
    bool good = true;
    uint32_t i;

    expected_magic(want);
    for (i = 0; i < MAGIC_SIZE; i++) {
        uint8_t v = byte_at(addr + i);

        erased = erased && v == 0xffu;
        good = good && v == want[i];
    }
    if (erased) {
        return PAL_MAGIC_UNSET;
    }
    return good ? PAL_MAGIC_GOOD : PAL_MAGIC_BAD;
}

void pal_trailer_read(uint32_t slot, pal_trailer_t *out)
{
    out->magic = magic_at(slot + magic_off());
    out->image_ok = flag_at(slot + image_ok_off());
    out->copy_done = flag_at(slot + copy_done_off());
    out->swap_info = byte_at(slot + swap_info_off());
}

/* Writes one field: its value, then 0xFF up to a whole program unit. */
static uint32_t write_field(uint32_t addr, const uint8_t *value, uint32_t len)
{
    uint8_t buf[PAL_PORT_MAX_UNIT > MAGIC_SIZE ? PAL_PORT_MAX_UNIT
                                                 : MAGIC_SIZE];
    uint32_t padded = pal_align_up(len, unit());

    if (padded > sizeof(buf)) {
        return PAL_SUB(PAL_STEP_RANGE, padded);
    }
    memset(buf, 0xff, sizeof(buf));
    memcpy(buf, value, len);
    return pal_flash_write(addr, buf, padded);
}

uint32_t pal_trailer_write_magic(uint32_t slot)
{
    uint8_t magic[MAGIC_SIZE];

    expected_magic(magic);
    return write_field(slot + magic_off(), magic, MAGIC_SIZE);
}

uint32_t pal_trailer_write_image_ok(uint32_t slot)
{
    const uint8_t set = 0x01u;

    return write_field(slot + image_ok_off(), &set, 1u);
}

uint32_t pal_trailer_write_swap_type(uint32_t slot, uint8_t swap_type)
{
    uint8_t info = (uint8_t)(swap_type & 0x0fu);

    return write_field(slot + swap_info_off(), &info, 1u);
}

/*
 * The primary slot after MCUboot's test swap has a good magic, copy_done
 * set and image_ok unset until the image confirms itself; then the next
 * boot would revert it. A primary whose trailer is erased was programmed
 * directly and counts as confirmed, as MCUboot treats it.
 */
OtaPalImageState_t pal_trailer_primary_state(const pal_trailer_t *t)
{
    if (t->magic == PAL_MAGIC_UNSET) {
        return OtaPalImageStateValid;
    }
    if (t->magic == PAL_MAGIC_BAD || t->image_ok == PAL_FLAG_BAD) {
        return OtaPalImageStateUnknown;
    }
    if (t->image_ok == PAL_FLAG_SET) {
        return OtaPalImageStateValid;
    }
    if (t->copy_done != PAL_FLAG_UNSET) {
        return OtaPalImageStatePendingCommit;
    }
    return OtaPalImageStateUnknown;
}
