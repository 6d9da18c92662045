/*
 * The console: UART0 of the board, polled, 115200 baud, 8N1.
 *
 * Lines end in a single '\n'. The formatter understands a small subset of
 * printf: %d %i %u %x %X %p %s %c %% with an optional '-' or '0' flag, a
 * field width and the 'l' length modifier. It never touches floats.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

/* Enables the UART transmitter and receiver. */
void console_init(void);

/* Writes one character, waiting while the transmit buffer is full. */
void console_putc(char c);

/* Writes a string as it is. */
void console_write(const char *s);

/* Writes a string and a newline, like puts. */
void console_puts(const char *s);

/* Returns the next received character, or -1 when none is waiting. */
int console_getc(void);

void console_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void console_vprintf(const char *fmt, va_list ap);

/* Formats into buf (always NUL-terminated); returns the length written. */
int console_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
