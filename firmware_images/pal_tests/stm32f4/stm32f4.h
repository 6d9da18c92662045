/*
 * The stm32f4 board of ota-emu (emu/boards/stm32f4.toml), an STM32F407-like
 * part as the PAL test suite uses it. Addresses follow RM0090 (STM32F405
 * to F469 reference manual) where the part has the block; the crypto engine
 * and the reset controller are ota-emu's stand-ins, at the addresses they
 * have on the reference board.
 *
 *   0x08000000  1 MiB  flash, sectors of RM0090 Table 5
 *   0x10000000  64 KiB CCM data RAM
 *   0x20000000  128 KiB SRAM (SRAM1 and SRAM2)
 *   0x40004400         USART2, the console
 *   0x40021000         ref-sysctl (reset causes)
 *   0x40023C00         FLASH interface
 *   0x40040000         crypto engine
 *
 * The core runs from the 16 MHz HSI, the reset clock: nothing configures
 * the PLL, and APB1 (USART2) runs at the core clock.
 */
#ifndef STM32F4_H
#define STM32F4_H

#include "cortex_m.h"

#define BOARD_CPU_HZ 16000000u
#define BOARD_NUM_IRQ 82u

/* USART2, RM0090 section 30.6. */
#define USART2_BASE 0x40004400u
#define USART_SR(b) REG32((b) + 0x00u)
#define USART_DR(b) REG32((b) + 0x04u)
#define USART_BRR(b) REG32((b) + 0x08u)
#define USART_CR1(b) REG32((b) + 0x0Cu)

#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_UE (1u << 13)

/* 115200 baud from 16 MHz with 16x oversampling: USARTDIV 8.6875. */
#define CONSOLE_BRR ((8u << 4) | 11u)

#endif
