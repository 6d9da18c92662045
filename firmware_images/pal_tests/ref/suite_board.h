/*
 * The reference board as the PAL test suite sees it (emu/boards/ref-m4f.toml
 * and ref-m3.toml): the secondary slot it reads back, and where the record
 * that survives a reset lives.
 */
#ifndef SUITE_BOARD_H
#define SUITE_BOARD_H

#define SUITE_BOARD_NAME "ref"
#define SUITE_SECONDARY 0x00200000u
#define SUITE_SLOT_SIZE 0x001E0000u

/* mps2.ld leaves .ram_bottom alone at start-up: a warm reset keeps it. */
#define SUITE_NOINIT __attribute__((section(".ram_bottom")))

#endif
