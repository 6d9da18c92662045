/*
 * The stm32f4 board as the PAL test suite sees it (emu/boards/stm32f4.toml):
 * the secondary slot it reads back, and where the record that survives a
 * reset lives.
 */
#ifndef SUITE_BOARD_H
#define SUITE_BOARD_H

#define SUITE_BOARD_NAME "stm32f4"
#define SUITE_SECONDARY 0x08080000u
#define SUITE_SLOT_SIZE 0x00060000u

/* stm32f4.ld leaves .ram_bottom alone at start-up: a warm reset keeps it. */
#define SUITE_NOINIT __attribute__((section(".ram_bottom")))

#endif
