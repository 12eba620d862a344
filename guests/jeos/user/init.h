/* init's parts: the functional checks, the ring-3 workloads, the console prompt. */
#ifndef JEOS_INIT_H
#define JEOS_INIT_H
#include "ulib.h"
#include "../common/wl.h"

#define PAGE 4096

extern char _start[]; /* crt0.asm: the first byte of the text */

/* Failed checks and workloads so far; init's exit status. */
extern int failures;

/* Prints `check NAME ok|FAIL [detail]`. */
void check(const char *name, int ok, const char *detail);
/* Prints the line of a workload, or `wl NAME FAIL why`. */
void report(int id, u32 iters, const char *extra, u64 cycles);
void fail(int id, const char *why);

/* checks.c */
void run_checks(void);
/* workloads.c: runs workload id for n iterations, in ring 3 or through SYS_KBENCH. */
void run_workload(int id, u32 n);
/* shell.c */
void shell(void);

#endif
