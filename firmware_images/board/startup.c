/*
 * Reset and exception entry for the reference board.
 *
 * The vector table holds the 16 system entries of ARMv7-M and the 32
 * external interrupt lines of the AN385/AN386 images. Every handler is a
 * weak alias of Default_Handler, which reports the exception on the console
 * and ends the run through semihosting; images and the kernel override the
 * ones they use. Reset_Handler points VTOR at this table, enables the FPU
 * on the Cortex-M4F build, copies .data, clears .bss and calls main(); the
 * value main() returns becomes the semihosting exit code.
 */
#include <stdint.h>

#include "console.h"
#include "mps2.h"
#include "crt.h"
#include "semihost.h"

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void exception_report(const uint32_t *frame, uint32_t exc_return);

/* Symbols from mps2.ld. */
extern uint32_t __stack_top[];
extern uint32_t __ram_origin[];

#define DEFAULT_TO(name) \
    void name(void) __attribute__((weak, alias("Default_Handler")))

DEFAULT_TO(NMI_Handler);
DEFAULT_TO(HardFault_Handler);
DEFAULT_TO(MemManage_Handler);
DEFAULT_TO(BusFault_Handler);
DEFAULT_TO(UsageFault_Handler);
DEFAULT_TO(SVC_Handler);
DEFAULT_TO(DebugMon_Handler);
DEFAULT_TO(PendSV_Handler);
DEFAULT_TO(SysTick_Handler);

/* External lines; mps2.h names the ones our images use. */
DEFAULT_TO(Irq0_Handler);
DEFAULT_TO(Irq1_Handler);
DEFAULT_TO(Irq2_Handler);
DEFAULT_TO(Irq3_Handler);
DEFAULT_TO(Irq4_Handler);
DEFAULT_TO(Irq5_Handler);
DEFAULT_TO(Irq6_Handler);
DEFAULT_TO(Irq7_Handler);
DEFAULT_TO(Irq8_Handler);
DEFAULT_TO(Irq9_Handler);
DEFAULT_TO(Irq10_Handler);
DEFAULT_TO(Irq11_Handler);
DEFAULT_TO(Irq12_Handler);
DEFAULT_TO(Irq13_Handler);
DEFAULT_TO(Irq14_Handler);
DEFAULT_TO(Irq15_Handler);
DEFAULT_TO(Irq16_Handler);
DEFAULT_TO(Irq17_Handler);
DEFAULT_TO(Irq18_Handler);
DEFAULT_TO(Irq19_Handler);
DEFAULT_TO(Irq20_Handler);
DEFAULT_TO(Irq21_Handler);
DEFAULT_TO(Irq22_Handler);
DEFAULT_TO(Irq23_Handler);
DEFAULT_TO(Irq24_Handler);
DEFAULT_TO(Irq25_Handler);
DEFAULT_TO(Irq26_Handler);
DEFAULT_TO(Irq27_Handler);
DEFAULT_TO(Irq28_Handler);
DEFAULT_TO(Irq29_Handler);
DEFAULT_TO(Irq30_Handler);
DEFAULT_TO(Irq31_Handler);

typedef void (*handler_t)(void);

struct vector_table {
    uint32_t *initial_sp;
    handler_t handler[15 + BOARD_NUM_IRQ];
};

__attribute__((section(".vectors"), used))
const struct vector_table vector_table = {
    .initial_sp = __stack_top,
    .handler = {
        Reset_Handler,          /*  1 */
        NMI_Handler,            /*  2 */
        HardFault_Handler,      /*  3 */
        MemManage_Handler,      /*  4 */
        BusFault_Handler,       /*  5 */
        UsageFault_Handler,     /*  6 */
        0, 0, 0, 0,             /*  7-10 reserved */
        SVC_Handler,            /* 11 */
        DebugMon_Handler,       /* 12 */
        0,                      /* 13 reserved */
        PendSV_Handler,         /* 14 */
        SysTick_Handler,        /* 15 */
        Irq0_Handler, Irq1_Handler, Irq2_Handler, Irq3_Handler,
        Irq4_Handler, Irq5_Handler, Irq6_Handler, Irq7_Handler,
        Irq8_Handler, Irq9_Handler, Irq10_Handler, Irq11_Handler,
        Irq12_Handler, Irq13_Handler, Irq14_Handler, Irq15_Handler,
        Irq16_Handler, Irq17_Handler, Irq18_Handler, Irq19_Handler,
        Irq20_Handler, Irq21_Handler, Irq22_Handler, Irq23_Handler,
        Irq24_Handler, Irq25_Handler, Irq26_Handler, Irq27_Handler,
        Irq28_Handler, Irq29_Handler, Irq30_Handler, Irq31_Handler,
    },
};

void Reset_Handler(void)
{
    crt_init(&vector_table);
    console_init();
    semihost_exit(main());
}

/*
 * Every unclaimed exception lands here. The stacked frame is on the stack
 * the interrupted code used: EXC_RETURN bit 2 tells MSP from PSP.
 */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "b exception_report\n\t");
}

static const char *exception_name(uint32_t exc)
{
    static const char *const names[EXC_FIRST_IRQ] = {
        [EXC_NMI] = "NMI",
        [EXC_HARDFAULT] = "HardFault",
        [EXC_MEMMANAGE] = "MemManage",
        [EXC_BUSFAULT] = "BusFault",
        [EXC_USAGEFAULT] = "UsageFault",
        [EXC_SVCALL] = "SVCall",
        [12] = "DebugMonitor",
        [EXC_PENDSV] = "PendSV",
        [EXC_SYSTICK] = "SysTick",
    };

    if (exc >= EXC_FIRST_IRQ) {
        return "IRQ";
    }
    return names[exc] != NULL ? names[exc] : "reserved";
}

/* The frame can be read only if all eight words lie in SRAM. */
static int frame_readable(const uint32_t *frame)
{
    uintptr_t lo = (uintptr_t)__ram_origin;
    uintptr_t hi = (uintptr_t)__stack_top;
    uintptr_t at = (uintptr_t)frame;

    return at >= lo && at <= hi - 8u * sizeof(uint32_t);
}

__attribute__((noreturn, used))
void exception_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t exc = cm_get_ipsr() & ICSR_VECTACTIVE_MASK;

    cm_irq_disable();
    console_printf("fault: %s (exception %lu) exc_return=0x%08lx\n",
                   exception_name(exc), (unsigned long)exc,
                   (unsigned long)exc_return);
    console_printf("fault: cfsr=0x%08lx hfsr=0x%08lx mmfar=0x%08lx "
                   "bfar=0x%08lx\n",
                   (unsigned long)SCB_CFSR, (unsigned long)SCB_HFSR,
                   (unsigned long)SCB_MMFAR, (unsigned long)SCB_BFAR);
    if (frame_readable(frame)) {
        /* Stacked order: r0-r3, r12, lr, pc, xpsr. */
        console_printf("fault: pc=0x%08lx lr=0x%08lx xpsr=0x%08lx "
                       "sp=0x%08lx\n",
                       (unsigned long)frame[6], (unsigned long)frame[5],
                       (unsigned long)frame[7],
                       (unsigned long)(uintptr_t)frame);
    } else {
        console_printf("fault: no readable frame at sp=0x%08lx\n",
                       (unsigned long)(uintptr_t)frame);
    }
    semihost_exit(EXIT_FAULT);
}
