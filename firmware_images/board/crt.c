/* The C run-time start shared by the startup files (see crt.h). */
#include <stdint.h>
#include <string.h>

#include "cortex_m.h"
#include "crt.h"

/* Section bounds from the linker script. */
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern uint32_t __data_load[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];

void crt_init(const void *vector_table)
{
    SCB_VTOR = (uint32_t)(uintptr_t)vector_table;

#ifdef __ARM_FP
    /* Compiled code may use FP registers before any kernel starts. */
    SCB_CPACR |= CPACR_FPU_FULL;
    cm_dsb();
    cm_isb();
#endif

    memcpy(__data_start, __data_load,
           (size_t)((uintptr_t)__data_end - (uintptr_t)__data_start));
    memset(__bss_start, 0,
           (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start));
}
