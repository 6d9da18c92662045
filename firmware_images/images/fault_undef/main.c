/*
 * fault_undef: a permanently undefined instruction (UDF #0, 0xDE00).
 *
 * UsageFault is not enabled, so the UNDEFINSTR UsageFault escalates to
 * HardFault (HFSR.FORCED, CFSR.UNDEFINSTR). The stacked PC is the UDF
 * itself, in execute_undefined(), on the line whose comment marks it.
 */
#include <stdint.h>

#include "console.h"
#include "semihost.h"

/* The count comes first, so that the UDF has an address of its own. */
static volatile uint32_t attempts;

__attribute__((noipa)) void execute_undefined(void)
{
    attempts++;
    __asm__ volatile("udf #0"); /* FAULT-HERE */
}

int main(void)
{
    console_puts("fault_undef: executing udf #0");
    execute_undefined();
    console_puts("fault_undef: udf returned and no fault was taken");
    return EXIT_TEST_FAILED;
}
