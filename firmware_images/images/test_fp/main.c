/*
 * test_fp (Cortex-M4F only): floating-point context survives task switches.
 *
 * Three float tasks and one integer-only task share priority 2. In every
 * round a float task loads all of s0-s31 with values no other task uses
 * and FPSCR with its own condition flags, yields (so PendSV switches away
 * with the FP context live), spins long enough for tick interrupts to
 * time-slice it too, then stores the registers back and compares. It also
 * computes a float series in C, which must come out bit-identical every
 * round. The integer task keeps basic (non-FP) frames in the mix.
 *
 * Results are printed by the supervisor in a fixed order after all tasks
 * have finished, so the transcript does not depend on where ticks fell.
 */
#include "FreeRTOS.h"
#include "console.h"
#include "semihost.h"
#include "semphr.h"
#include "task.h"

#ifndef __ARM_FP
#error "test_fp is built for the Cortex-M4F only"
#endif

#define STACK_WORDS 512
#define PRIO_SUPERVISOR 3
#define PRIO_WORKERS 2
#define FP_TASKS 3
#define ROUNDS 40
#define FPSCR_NZCV 0xF0000000u

struct fp_result {
    int rounds_done;
    int failed;
    int bad_round;
    int bad_reg;        /* 0-31 for s0-s31, 32 for FPSCR, 33 for the series */
    uint32_t got;
    uint32_t expected;
    uint32_t series_bits;
};

static struct fp_result results[FP_TASKS];
static SemaphoreHandle_t finished;
static volatile int workers_running;

static uint32_t float_bits(float f)
{
    union {
        float f;
        uint32_t u;
    } v = { .f = f };

    return v.u;
}

/* A value for register reg that no other task or round uses. */
static float pattern(int task, int round, int reg)
{
    return (float)(task * 100000 + round * 64 + reg) + 0.25f;
}

/*
 * Loads s0-s31 and FPSCR, yields, spins, then stores them back. Between
 * the load and the store no compiled code can touch the FP registers.
 */
static void hold_fp_context(const uint32_t *in, uint32_t *out,
                            uint32_t fpscr_in, uint32_t *fpscr_out,
                            uint32_t spins)
{
    __asm__ volatile(
        "vmsr fpscr, %[fin]\n\t"
        "vldmia %[in], {s0-s31}\n\t"
        "str %[pend], [%[icsr]]\n\t"
        "dsb\n\t"
        "isb\n\t"
        "1:\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        "vstmia %[out], {s0-s31}\n\t"
        "vmrs %[fout], fpscr\n\t"
        : [n] "+r"(spins), [fout] "=&r"(*fpscr_out)
        : [in] "r"(in), [out] "r"(out), [fin] "r"(fpscr_in),
          [icsr] "r"(&SCB_ICSR), [pend] "r"(ICSR_PENDSVSET)
        : "memory", "cc", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7",
          "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16",
          "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25",
          "s26", "s27", "s28", "s29", "s30", "s31");
}

/* A float series that keeps several values live in FP registers. */
static float series(int task)
{
    float scale = 1.0f + 0.125f * (float)task;
    float sum = 0.0f;

    for (int i = 1; i <= 300; i++) {
        float x = (float)i * scale;

        sum += x / (x + 0.5f) - 0.001f * x;
    }
    return sum;
}

static void record_failure(struct fp_result *r, int round, int reg,
                           uint32_t got, uint32_t expected)
{
    r->failed = 1;
    r->bad_round = round;
    r->bad_reg = reg;
    r->got = got;
    r->expected = expected;
}

/* One round; returns 0 and fills in r on a mismatch. */
static int fp_round(int task, int round, struct fp_result *r)
{
    uint32_t in[32];
    uint32_t out[32];
    uint32_t fpscr_in;
    uint32_t fpscr_out = 0;
    uint32_t sum;

    for (int reg = 0; reg < 32; reg++) {
        in[reg] = float_bits(pattern(task, round, reg));
    }
    __asm__ volatile("vmrs %0, fpscr" : "=r"(fpscr_in));
    fpscr_in = (fpscr_in & ~FPSCR_NZCV) | (0x80000000u >> task);

    hold_fp_context(in, out, fpscr_in, &fpscr_out,
                    15000u + (uint32_t)(round * 997) % 10000u);
    for (int reg = 0; reg < 32; reg++) {
        if (out[reg] != in[reg]) {
            record_failure(r, round, reg, out[reg], in[reg]);
            return 0;
        }
    }
    if ((fpscr_out & FPSCR_NZCV) != (fpscr_in & FPSCR_NZCV)) {
        record_failure(r, round, 32, fpscr_out, fpscr_in);
        return 0;
    }

    sum = float_bits(series(task));
    if (round == 0) {
        r->series_bits = sum;
    } else if (sum != r->series_bits) {
        record_failure(r, round, 33, sum, r->series_bits);
        return 0;
    }
    return 1;
}

static void fp_task(void *arg)
{
    int task = (int)(intptr_t)arg;
    struct fp_result *r = &results[task - 1];

    for (int round = 0; round < ROUNDS; round++) {
        if (!fp_round(task, round, r)) {
            break;
        }
        r->rounds_done++;
    }
    (void)xSemaphoreGive(finished);
    vTaskDelete(NULL);
}

/* Never touches FP: its frames are the basic 8-word kind. */
static void int_task(void *arg)
{
    volatile uint32_t count = 0;

    (void)arg;
    while (workers_running) {
        count++;
        if ((count & 0x3FFu) == 0) {
            taskYIELD();
        }
    }
    (void)xSemaphoreGive(finished);
    vTaskDelete(NULL);
}

static void report(int task, const struct fp_result *r)
{
    if (!r->failed) {
        console_printf("fp task %d: %d rounds, s0-s31 and FPSCR intact, "
                       "series 0x%08lx\n",
                       task, r->rounds_done, (unsigned long)r->series_bits);
    } else if (r->bad_reg < 32) {
        console_printf("fp task %d: round %d: s%d = 0x%08lx, expected "
                       "0x%08lx\n", task, r->bad_round, r->bad_reg,
                       (unsigned long)r->got, (unsigned long)r->expected);
    } else {
        console_printf("fp task %d: round %d: %s = 0x%08lx, expected "
                       "0x%08lx\n", task, r->bad_round,
                       r->bad_reg == 32 ? "FPSCR" : "series",
                       (unsigned long)r->got, (unsigned long)r->expected);
    }
}

static void supervisor(void *arg)
{
    int failed = 0;

    (void)arg;
    console_printf("test_fp: %d float tasks and 1 integer task, %d rounds\n",
                   FP_TASKS, ROUNDS);
    workers_running = 1;
    for (int task = 1; task <= FP_TASKS; task++) {
        xTaskCreate(fp_task, "fp", STACK_WORDS, (void *)(intptr_t)task,
                    PRIO_WORKERS, NULL);
    }
    xTaskCreate(int_task, "int", STACK_WORDS, NULL, PRIO_WORKERS, NULL);
    for (int i = 0; i < FP_TASKS; i++) {
        (void)xSemaphoreTake(finished, portMAX_DELAY);
    }
    workers_running = 0;
    (void)xSemaphoreTake(finished, portMAX_DELAY);

    for (int task = 1; task <= FP_TASKS; task++) {
        report(task, &results[task - 1]);
        failed |= results[task - 1].failed;
    }
    if (failed) {
        console_puts("test_fp: FAIL");
        semihost_exit(EXIT_TEST_FAILED);
    }
    console_puts("test_fp: PASS");
    semihost_exit(EXIT_OK);
}

int main(void)
{
    finished = xSemaphoreCreateCounting(FP_TASKS + 1, 0);
    xTaskCreate(supervisor, "super", STACK_WORDS, NULL, PRIO_SUPERVISOR,
                NULL);
    vTaskStartScheduler();
    return EXIT_TEST_FAILED;
}
