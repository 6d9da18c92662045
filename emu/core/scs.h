/*
 * The register table of the System Control Space, shared by the files that
 * implement its registers (scs.c, systick.c).
 */
#ifndef SCS_H
#define SCS_H

#include "cmcore.h"

enum { RW, RO, WO };

typedef struct scs_reg scs_reg;
typedef uint32_t (*reg_read)(cm_core *c, const scs_reg *r, int idx);
/* value and mask are in register position; mask covers the bytes written */
typedef void (*reg_write)(cm_core *c, const scs_reg *r, int idx,
                          uint32_t value, uint32_t mask);

struct scs_reg {
    uint32_t addr;
    const char *name;
    int count;          /* consecutive words sharing the handlers */
    int access;
    reg_read read;
    reg_write write;
};

#define CSR_ENABLE 1u
#define CSR_TICKINT 2u
#define CSR_CLKSOURCE 4u
#define CSR_COUNTFLAG (1u << 16)

static inline int cm_prio_mask(cm_core *c)
{
    return (0xFF << (8 - c->prio_bits)) & 0xFF;
}

static inline uint32_t merge(uint32_t old, uint32_t value, uint32_t mask)
{
    return (old & ~mask) | (value & mask);
}

/* systick.c: SysTick (B3.3) and the DWT cycle counter (C1.8.8). */
uint32_t rd_syst_csr(cm_core *c, const scs_reg *r, int i);
void wr_syst_csr(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m);
uint32_t rd_syst_rvr(cm_core *c, const scs_reg *r, int i);
void wr_syst_rvr(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m);
uint32_t rd_syst_cvr(cm_core *c, const scs_reg *r, int i);
void wr_syst_cvr(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m);
uint32_t rd_syst_calib(cm_core *c, const scs_reg *r, int i);
uint32_t rd_cyccnt(cm_core *c, const scs_reg *r, int i);
void wr_cyccnt(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m);
void wr_dwt_ctrl(cm_core *c, const scs_reg *r, int i, uint32_t v, uint32_t m);

#endif
