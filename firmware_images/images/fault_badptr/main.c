/*
 * fault_badptr: a load from an address where nothing is mapped.
 *
 * 0x60000000 lies in a hole of the memory map: QEMU 7.2's mps2-an385 and
 * mps2-an386 map nothing between 0x44000000 and 0xDFFFFFFF (see `info
 * mtree`), and the reference board leaves it unmapped as well. The load is
 * a precise data bus error; BusFault is not enabled, so it escalates to
 * HardFault (HFSR.FORCED, CFSR.PRECISERR and BFARVALID with BFAR =
 * 0x60000000). The fault is taken in read_unmapped(), on the line whose
 * comment marks it for the tests.
 */
#include <stdint.h>

#include "console.h"
#include "semihost.h"

#define UNMAPPED_ADDRESS 0x60000000u

/* The count comes first, so that the faulting load has its own address. */
static volatile uint32_t attempts;

__attribute__((noipa)) uint32_t read_unmapped(const volatile uint32_t *p)
{
    attempts++;
    return *p; /* FAULT-HERE */
}

int main(void)
{
    uint32_t v;

    console_printf("fault_badptr: reading 0x%08lx\n",
                   (unsigned long)UNMAPPED_ADDRESS);
    v = read_unmapped((const volatile uint32_t *)UNMAPPED_ADDRESS);
    console_printf("fault_badptr: read 0x%08lx and no fault was taken\n",
                   (unsigned long)v);
    return EXIT_TEST_FAILED;
}
