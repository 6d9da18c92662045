/*
 * ARM semihosting calls, made with "bkpt 0xab" as on M-profile cores.
 *
 * Operation numbers and the exit reason follow the Arm "Semihosting for
 * AArch32 and AArch64" specification: SYS_WRITEC 0x03, SYS_WRITE0 0x04,
 * SYS_EXIT 0x18 and SYS_EXIT_EXTENDED 0x20, with ADP_Stopped_ApplicationExit
 * (0x20026) as the reason that means a normal end.
 */
#ifndef SEMIHOST_H
#define SEMIHOST_H

#define SEMIHOST_SYS_WRITEC 0x03u
#define SEMIHOST_SYS_WRITE0 0x04u
#define SEMIHOST_SYS_EXIT 0x18u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define SEMIHOST_ADP_APPLICATION_EXIT 0x20026u

/* Exit codes shared by every image. */
#define EXIT_OK 0
#define EXIT_TEST_FAILED 1
#define EXIT_ASSERT 2
#define EXIT_FAULT 3

/* Writes one character to the host's debug console. */
void semihost_writec(char c);

/* Writes a NUL-terminated string to the host's debug console. */
void semihost_write0(const char *s);

/*
 * Ends the run. Code 0 uses SYS_EXIT with the application-exit reason;
 * any other code uses SYS_EXIT_EXTENDED so that the host sees the code.
 */
void semihost_exit(int code) __attribute__((noreturn));

/*
 * SYS_GET_CMDLINE: copies the command line the host gives into buf (at most
 * size bytes with the terminating NUL). Returns 0, or -1 when the host has
 * none or it does not fit.
 */
int semihost_get_cmdline(char *buf, unsigned size);

#endif
