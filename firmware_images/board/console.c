/*
 * Console driver for the CMSDK APB UART and a small formatter of our own.
 */
#include <stdint.h>

#include "console.h"
#include "mps2.h"

void console_init(void)
{
    UART_CTRL(UART0_BASE) = 0;
    UART_BAUDDIV(UART0_BASE) = BOARD_CPU_HZ / CONSOLE_BAUD;
    UART_CTRL(UART0_BASE) = UART_CTRL_TXEN | UART_CTRL_RXEN;
}

void console_putc(char c)
{
    while (UART_STATE(UART0_BASE) & UART_STATE_TXFULL) {
        continue;
    }
    UART_DATA(UART0_BASE) = (uint8_t)c;
}

void console_write(const char *s)
{
    while (*s != '\0') {
        console_putc(*s++);
    }
}

void console_puts(const char *s)
{
    console_write(s);
    console_putc('\n');
}

int console_getc(void)
{
    if ((UART_STATE(UART0_BASE) & UART_STATE_RXFULL) == 0) {
        return -1;
    }
    return (int)(UART_DATA(UART0_BASE) & 0xFFu);
}

/* Where formatted characters go: the UART or a bounded buffer. */
struct sink {
    char *buf;
    size_t size;
    size_t len;
};

static void sink_put(struct sink *out, char c)
{
    if (out->buf == NULL) {
        console_putc(c);
    } else if (out->len + 1 < out->size) {
        out->buf[out->len] = c;
    }
    out->len++;
}

/* One conversion: its flags, width and the text of its digits. */
struct field {
    int left;
    int is_long;
    char pad;
    unsigned width;
};

static void put_padded(struct sink *out, const struct field *f,
                       const char *text, unsigned len, int negative)
{
    unsigned used = len + (negative ? 1u : 0u);
    unsigned fill = f->width > used ? f->width - used : 0u;

    /* A zero pad goes after the sign, a space pad before it. */
    if (negative && f->pad == '0') {
        sink_put(out, '-');
    }
    while (!f->left && fill > 0) {
        sink_put(out, f->pad);
        fill--;
    }
    if (negative && f->pad != '0') {
        sink_put(out, '-');
    }
    for (unsigned i = 0; i < len; i++) {
        sink_put(out, text[i]);
    }
    while (fill > 0) {
        sink_put(out, ' ');
        fill--;
    }
}

static void put_number(struct sink *out, const struct field *f,
                       uint32_t value, unsigned base, int upper,
                       int negative)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char text[12];
    unsigned n = sizeof(text);

    /* Digits are produced from the right. */
    do {
        text[--n] = digits[value % base];
        value /= base;
    } while (value != 0);
    put_padded(out, f, &text[n], sizeof(text) - n, negative);
}

static const char *parse_field(const char *p, struct field *f)
{
    f->left = 0;
    f->is_long = 0;
    f->pad = ' ';
    f->width = 0;
    for (;; p++) {
        if (*p == '-') {
            f->left = 1;
        } else if (*p == '0') {
            f->pad = '0';
        } else {
            break;
        }
    }
    while (*p >= '0' && *p <= '9') {
        f->width = f->width * 10u + (unsigned)(*p++ - '0');
    }
    while (*p == 'l') {
        f->is_long = 1;
        p++;
    }
    /* Left alignment pads with spaces whatever the flags said. */
    if (f->left) {
        f->pad = ' ';
    }
    return p;
}

/* Int and long are both 32 bits here; the modifier picks the C type. */
static int32_t take_signed(const struct field *f, va_list *ap)
{
    return f->is_long ? (int32_t)va_arg(*ap, long) : va_arg(*ap, int);
}

static uint32_t take_unsigned(const struct field *f, va_list *ap)
{
    if (f->is_long) {
        return (uint32_t)va_arg(*ap, unsigned long);
    }
    return va_arg(*ap, unsigned int);
}

static void convert(struct sink *out, char conv, const struct field *f,
                    va_list *ap)
{
    switch (conv) {
    case 'd':
    case 'i': {
        int32_t v = take_signed(f, ap);
        uint32_t mag = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;

        put_number(out, f, mag, 10, 0, v < 0);
        break;
    }
    case 'u':
        put_number(out, f, take_unsigned(f, ap), 10, 0, 0);
        break;
    case 'x':
    case 'X':
        put_number(out, f, take_unsigned(f, ap), 16, conv == 'X', 0);
        break;
    case 'p': {
        struct field hex = { 0, 0, '0', 8 };

        sink_put(out, '0');
        sink_put(out, 'x');
        put_number(out, &hex, (uint32_t)(uintptr_t)va_arg(*ap, void *), 16,
                   0, 0);
        break;
    }
    case 's': {
        const char *s = va_arg(*ap, const char *);
        unsigned len = 0;

        if (s == NULL) {
            s = "(null)";
        }
        while (s[len] != '\0') {
            len++;
        }
        put_padded(out, f, s, len, 0);
        break;
    }
    case 'c': {
        char c = (char)va_arg(*ap, int);

        put_padded(out, f, &c, 1, 0);
        break;
    }
    default:
        /* "%%" and unknown conversions print the character itself. */
        sink_put(out, conv);
        break;
    }
}

static void format(struct sink *out, const char *fmt, va_list ap)
{
    va_list args;

    va_copy(args, ap);
    while (*fmt != '\0') {
        struct field f;

        if (*fmt != '%') {
            sink_put(out, *fmt++);
            continue;
        }
        fmt = parse_field(fmt + 1, &f);
        if (*fmt == '\0') {
            break;
        }
        convert(out, *fmt++, &f, &args);
    }
    va_end(args);
}

void console_vprintf(const char *fmt, va_list ap)
{
    struct sink out = { NULL, 0, 0 };

    format(&out, fmt, ap);
}

void console_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    console_vprintf(fmt, ap);
    va_end(ap);
}

int console_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    struct sink out = { buf, size, 0 };
    va_list ap;

    va_start(ap, fmt);
    format(&out, fmt, ap);
    va_end(ap);
    if (size > 0) {
        buf[out.len < size ? out.len : size - 1] = '\0';
    }
    return (int)out.len;
}
