/* The benchmark workloads (after Adams & Agesen, ASPLOS 2006), shared by the kernel and
 * the user-side driver; ctxsw and forkexec follow lmbench's rows in Barham et al.,
 * SOSP 2003. Each prints one line:
 *   wl <name> iters=<n> [key=value ...] cycles=<rdtsc delta> per_iter=<cycles/iters>
 * The format is described in guests/jeos/README.md. */
#ifndef JEOS_WL_H
#define JEOS_WL_H
#include "types.h"

enum wl_id {
  WL_SYSCALL,  /* null system call from ring 3 through int 0x80 (getpid) */
  WL_SYSENTER, /* the same null system call through SYSENTER/SYSEXIT */
  WL_IN,       /* IN AL, 0x80 from the kernel, through the ops table */
  WL_IRQMASK,  /* save flags, disable interrupts, restore flags, through the ops table */
  WL_CALLRET,  /* CALL to a function that only RETs, ring 3 */
  WL_PGFAULT,  /* first touch of a demand-zero page from ring 3, resolved by the kernel */
  WL_DIVZERO,  /* DIV by zero in ring 3; the kernel's #DE handler skips the instruction */
  WL_PTEMOD,   /* rewrite an unchanged PTE through the ops table, then INVLPG */
  WL_FORKWAIT, /* fork a child that exits at once; the parent waits for it */
  WL_COMPUTE,  /* CRC-32 over a 4 KiB buffer, per iteration */
  WL_TLB,      /* touch one word per page, round-robin over WL_TLB_PAGES pages */
  WL_DISK,     /* write then read WL_DISK_SECTORS sectors through the IDE driver */
  WL_CTXSW,    /* two processes yield to each other: two context switches per iteration */
  WL_FORKEXEC, /* fork, exec a program that exits at once, wait (lmbench's "exec") */
  WL_COUNT
};

#define WL_TLB_PAGES 1024   /* 4 MiB: more pages than a P6 or Pentium 4 DTLB holds (64) */
#define WL_TLB_BASE_PAGES 8 /* the baseline: few enough pages for any TLB */
#define WL_DISK_SECTORS 8   /* sectors per transfer (one 4 KiB block) */
#define WL_DISK_FIRST_LBA 64 /* the scratch area written by the disk workload */
#define WL_COMPUTE_BYTES 4096

struct wl_def {
  const char *name;
  unsigned iters; /* default iteration count */
  int in_kernel;  /* run by the kernel through SYS_KBENCH rather than in ring 3 */
};

/* Defined in common/wl.c: one table for both sides. */
extern const struct wl_def wl_defs[WL_COUNT];

/* Formats the line of workload id; extra is "" or " key=value ..." placed before the
 * cycles. per_iter is cycles / iters, rounded down. */
int wl_format(char *buf, int size, int id, unsigned iters, const char *extra,
              unsigned long long cycles);

#endif
