/*
 * Cortex-M3 / Cortex-M4 system registers and a few core helpers.
 *
 * Addresses and bit positions follow the ARMv7-M Architecture Reference
 * Manual, section B3 (System Control Space). Only the registers that our
 * board code, kernel and test images touch are named here.
 */
#ifndef CORTEX_M_H
#define CORTEX_M_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define REG8(addr) (*(volatile uint8_t *)(uintptr_t)(addr))

/* SysTick timer (B3.3). */
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_CSR_COUNTFLAG (1u << 16)

/* NVIC (B3.4): one bit per external interrupt, one byte of priority each. */
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * (n))
#define NVIC_ISPR(n) REG32(0xE000E200u + 4u * (n))
#define NVIC_ICPR(n) REG32(0xE000E280u + 4u * (n))
#define NVIC_IABR(n) REG32(0xE000E300u + 4u * (n))
#define NVIC_IPR_BYTE(irq) REG8(0xE000E400u + (irq))
#define NVIC_STIR REG32(0xE000EF00u)

/* System control block (B3.2). */
#define SCB_CPUID REG32(0xE000ED00u)
#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_SHPR2 REG32(0xE000ED1Cu)
#define SCB_SHPR3 REG32(0xE000ED20u)
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
#define SCB_CPACR REG32(0xE000ED88u)

#define ICSR_VECTACTIVE_MASK 0x1FFu
#define ICSR_PENDSTCLR (1u << 25)
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSVCLR (1u << 27)
#define ICSR_PENDSVSET (1u << 28)

#define AIRCR_PRIGROUP_SHIFT 8u
#define AIRCR_PRIGROUP_MASK (7u << AIRCR_PRIGROUP_SHIFT)

#define CCR_DIV_0_TRP (1u << 4)
#define SHCSR_USGFAULTENA (1u << 18)

/* Coprocessor access: CP10 and CP11 (the FPU), full access. */
#define CPACR_FPU_FULL (0xFu << 20)

/* Floating-point context control (B3.2.21, FP extension only). */
#define FPU_FPCCR REG32(0xE000EF34u)
#define FPCCR_LSPEN (1u << 30)
#define FPCCR_ASPEN (1u << 31)

/* Exception numbers of the system exceptions. */
#define EXC_NMI 2u
#define EXC_HARDFAULT 3u
#define EXC_MEMMANAGE 4u
#define EXC_BUSFAULT 5u
#define EXC_USAGEFAULT 6u
#define EXC_SVCALL 11u
#define EXC_PENDSV 14u
#define EXC_SYSTICK 15u
#define EXC_FIRST_IRQ 16u

static inline void cm_dsb(void)
{
    __asm__ volatile("dsb" ::: "memory");
}

static inline void cm_isb(void)
{
    __asm__ volatile("isb" ::: "memory");
}

static inline uint32_t cm_get_ipsr(void)
{
    uint32_t v;

    __asm__ volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}

static inline uint32_t cm_get_basepri(void)
{
    uint32_t v;

    __asm__ volatile("mrs %0, basepri" : "=r"(v));
    return v;
}

static inline void cm_set_basepri(uint32_t v)
{
    __asm__ volatile("msr basepri, %0\n\tisb\n\tdsb" : : "r"(v) : "memory");
}

static inline void cm_irq_disable(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
}

static inline void cm_irq_enable(void)
{
    __asm__ volatile("cpsie i\n\tisb" ::: "memory");
}

/* NVIC helpers for external interrupt lines (IRQ numbers, not exceptions). */
static inline void nvic_enable(unsigned irq)
{
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

static inline void nvic_disable(unsigned irq)
{
    NVIC_ICER(irq / 32u) = 1u << (irq % 32u);
    cm_dsb();
    cm_isb();
}

static inline void nvic_set_pending(unsigned irq)
{
    NVIC_ISPR(irq / 32u) = 1u << (irq % 32u);
    cm_dsb();
    cm_isb();
}

static inline void nvic_clear_pending(unsigned irq)
{
    NVIC_ICPR(irq / 32u) = 1u << (irq % 32u);
}

static inline void nvic_set_priority(unsigned irq, uint8_t prio)
{
    NVIC_IPR_BYTE(irq) = prio;
}

#endif
