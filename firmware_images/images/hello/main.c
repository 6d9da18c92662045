/*
 * hello: the smallest image. One line on the UART console, one line and a
 * few single characters through semihosting, then a successful exit.
 * No kernel.
 */
#include "console.h"
#include "semihost.h"

int main(void)
{
    console_puts("hello: uart0 console");
    semihost_write0("hello: semihosting SYS_WRITE0\n");
    for (const char *p = "hello: SYS_WRITEC\n"; *p != '\0'; p++) {
        semihost_writec(*p);
    }
    console_puts("hello: done");
    return EXIT_OK;
}
