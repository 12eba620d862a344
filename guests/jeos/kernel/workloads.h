#ifndef JEOS_WORKLOADS_H
#define JEOS_WORKLOADS_H
#include "../common/types.h"
/* Applies the command line (iters=N, only=a,b,...) to the workload table. */
void wl_configure(const char *cmdline);
/* The iteration count of workload id after the command line; 0 when not selected. */
u32 wl_configured_iters(u32 id);
/* shell=1 on the command line: init offers a command prompt on COM1 at the end. */
int cmdline_shell(void);
/* tpr=1 on the command line: irqmask is followed by its TPR variant (tpr.c). */
int cmdline_tpr(void);
int bench_tpr(u32 iters);
/* Runs the kernel-side workload id (in, irqmask, ptemod, disk) and prints its line. */
int kbench(u32 id, u32 iters);
#endif
