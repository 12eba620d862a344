/* The workload table. Default counts keep the whole default run near 100 million guest
 * instructions, so an interpreter finishes it in seconds (see README.md). */
#include "wl.h"
#include "fmt.h"

const struct wl_def wl_defs[WL_COUNT] = {
  [WL_SYSCALL]  = { "syscall",  20000, 0 },
  [WL_SYSENTER] = { "sysenter", 20000, 0 },
  [WL_IN]       = { "in",       20000, 1 },
  [WL_IRQMASK]  = { "irqmask", 100000, 1 },
  [WL_CALLRET]  = { "callret", 100000, 0 },
  [WL_PGFAULT]  = { "pgfault",   1000, 0 },
  [WL_DIVZERO]  = { "divzero",  10000, 0 },
  [WL_PTEMOD]   = { "ptemod",   20000, 1 },
  [WL_FORKWAIT] = { "forkwait",   500, 0 },
  [WL_COMPUTE]  = { "compute",    200, 0 },
  [WL_TLB]      = { "tlb",      65536, 0 },
  [WL_DISK]     = { "disk",        64, 1 },
  [WL_CTXSW]    = { "ctxsw",     2000, 0 },
  [WL_FORKEXEC] = { "forkexec",   100, 0 },
};

int wl_format(char *buf, int size, int id, unsigned iters, const char *extra, u64 cycles) {
  u64 per = cycles;
  divmod64(&per, iters ? iters : 1);
  return fmt(buf, size, "wl %s iters=%u%s cycles=%llu per_iter=%llu\n", wl_defs[id].name, iters,
             extra ? extra : "", cycles, per);
}
