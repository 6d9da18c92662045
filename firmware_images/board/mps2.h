/*
 * The reference board: an MPS2 with the AN385 (Cortex-M3) or AN386
 * (Cortex-M4F) FPGA image, as QEMU's mps2-an385 / mps2-an386 machines model
 * it. Only what our images use is described.
 *
 *   0x00000000  4 MiB  code memory (ZBT SSRAM1, our "flash")
 *   0x20000000  4 MiB  SRAM (ZBT SSRAM2/3)
 *   0x40004000         CMSDK APB UART0 (console)
 *   0xE000E000         System Control Space (SysTick, NVIC, SCB)
 *
 * Core clock 25 MHz; the NVIC implements 3 priority bits (values are
 * multiples of 0x20) and 32 external interrupt lines.
 */
#ifndef MPS2_H
#define MPS2_H

#include "cortex_m.h"

#define BOARD_CPU_HZ 25000000u
#define BOARD_NUM_IRQ 32u
#define BOARD_PRIO_BITS 3u

/* Interrupt lines of the AN385/AN386 images that matter to us. */
#define IRQ_UART0_RX 0u
#define IRQ_UART0_TX 1u

/* CMSDK APB UART (ARM DDI 0479, section 4.3). */
#define UART0_BASE 0x40004000u
#define UART_DATA(b) REG32((b) + 0x00u)
#define UART_STATE(b) REG32((b) + 0x04u)
#define UART_CTRL(b) REG32((b) + 0x08u)
#define UART_INTSTATUS(b) REG32((b) + 0x0Cu)
#define UART_BAUDDIV(b) REG32((b) + 0x10u)

#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TXEN (1u << 0)
#define UART_CTRL_RXEN (1u << 1)
#define UART_CTRL_TXINTEN (1u << 2)
#define UART_CTRL_RXINTEN (1u << 3)

#define CONSOLE_BAUD 115200u

#endif
