/*
 * fault_div0: an integer division by zero with CCR.DIV_0_TRP set.
 *
 * Unlike the other fault images this one enables the UsageFault exception
 * (SHCSR.USGFAULTENA), so the fault is taken as UsageFault (exception 6)
 * with CFSR.DIVBYZERO, not escalated to HardFault. The stacked PC is the
 * SDIV in divide(), on the line whose comment marks it.
 */
#include <stdint.h>

#include "console.h"
#include "mps2.h"
#include "semihost.h"

/*
 * The count comes first and the divisor is read from memory on the marked
 * line, so that the SDIV has an address and a line of its own.
 */
static volatile uint32_t attempts;
static volatile int32_t divisor;
static volatile int32_t quotient;

__attribute__((noipa)) void divide(int32_t num)
{
    attempts++;
    quotient = num / divisor; /* FAULT-HERE */
}

int main(void)
{
    SCB_CCR |= CCR_DIV_0_TRP;
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    cm_dsb();
    cm_isb();
    console_puts("fault_div0: dividing 100 by 0 with DIV_0_TRP set");
    divisor = 0;
    divide(100);
    console_printf("fault_div0: got %ld and no fault was taken\n",
                   (long)quotient);
    return EXIT_TEST_FAILED;
}
