/* The ring-3 workloads (the kernel-side ones run through SYS_KBENCH). */
#include "init.h"

static u32 crc_table[256];
static u8 crc_buf[WL_COMPUTE_BYTES];

/* CRC-32 as in IEEE 802.3 and zlib: reflected polynomial 0xEDB88320, initial value and
 * final XOR 0xFFFFFFFF; table-driven, one table lookup per byte. */
static u32 crc32_update(u32 crc, const u8 *p, u32 n) {
  crc = ~crc;
  while (n--) crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

static void run_compute(u32 iters) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  /* The buffer: byte i is (i * 7 + 13) mod 256; the test rebuilds it to check the CRC. */
  for (u32 i = 0; i < WL_COMPUTE_BYTES; i++) crc_buf[i] = (u8)(i * 7 + 13);
  u32 crc = 0;
  u64 t0 = rdtsc();
  for (u32 i = 0; i < iters; i++) crc = crc32_update(crc, crc_buf, WL_COMPUTE_BYTES);
  u64 c = rdtsc() - t0;
  char extra[48];
  fmt(extra, sizeof extra, " bytes=%u crc32=0x%08x", iters * WL_COMPUTE_BYTES, crc);
  report(WL_COMPUTE, iters, extra, c);
}

static void run_pgfault(u32 iters) {
  volatile u8 *p = sbrk((int)(iters * PAGE));
  if (p == (void *)-1) {
    fail(WL_PGFAULT, "sbrk");
    return;
  }
  u64 t0 = rdtsc();
  for (u32 i = 0; i < iters; i++) p[i * PAGE] = 1; /* each first touch faults */
  u64 c = rdtsc() - t0;
  u32 sum = 0;
  for (u32 i = 0; i < iters; i++) sum += p[i * PAGE] + p[i * PAGE + 1];
  sbrk(-(int)(iters * PAGE));
  if (sum != iters) fail(WL_PGFAULT, "contents");
  else report(WL_PGFAULT, iters, "", c);
}

static void run_forkwait(u32 iters) {
  u32 bad = 0, free_before = freemem();
  u64 t0 = rdtsc();
  for (u32 i = 0; i < iters; i++) {
    int pid = fork();
    if (pid == 0) exit(0);
    int st = -1;
    if (pid < 0 || wait(&st) != pid || st != 0) bad++;
  }
  u64 c = rdtsc() - t0;
  /* Every child's directory, tables, pages and kernel stack must be back. */
  i32 leaked = (i32)(free_before - freemem());
  char extra[32];
  fmt(extra, sizeof extra, " leaked_frames=%d", leaked);
  if (bad) fail(WL_FORKWAIT, "child status");
  else if (leaked) fail(WL_FORKWAIT, extra + 1);
  else report(WL_FORKWAIT, iters, extra, c);
}

static void run_tlb(u32 iters) {
  volatile u32 *p = sbrk(WL_TLB_PAGES * PAGE);
  if (p == (void *)-1) {
    fail(WL_TLB, "sbrk");
    return;
  }
  loop_touch(p, WL_TLB_PAGES, WL_TLB_PAGES); /* fault every page in first, untimed */
  u64 t0 = rdtsc();
  loop_touch(p, WL_TLB_PAGES, iters);
  u64 c = rdtsc() - t0;
  /* Every page was touched once by the warm-up and then iters / pages times (+1 for the
   * first iters % pages pages). */
  u32 bad = 0;
  for (u32 i = 0; i < WL_TLB_PAGES; i++)
    if (p[i * 1024] != 1 + iters / WL_TLB_PAGES + (i < iters % WL_TLB_PAGES)) bad++;
  /* The same touches over few enough pages to stay in any TLB: the difference is what
   * the misses cost. */
  u64 t1 = rdtsc();
  loop_touch(p, WL_TLB_BASE_PAGES, iters);
  u64 base = rdtsc() - t1;
  sbrk(-(WL_TLB_PAGES * PAGE));
  char extra[80];
  fmt(extra, sizeof extra, " pages=%u base_pages=%u base_cycles=%llu", WL_TLB_PAGES, WL_TLB_BASE_PAGES, base);
  if (bad) fail(WL_TLB, "contents");
  else report(WL_TLB, iters, extra, c);
}

/* Parent and child each call yield n times; with only the two runnable, every yield
 * switches address space to the other one and back. */
static void run_ctxsw(u32 iters) {
  int pid = fork();
  if (pid == 0) {
    for (u32 i = 0; i < iters; i++) yield();
    exit(0);
  }
  if (pid < 0) {
    fail(WL_CTXSW, "fork");
    return;
  }
  yield(); /* let the child reach its loop */
  u64 t0 = rdtsc();
  for (u32 i = 0; i < iters; i++) yield();
  u64 c = rdtsc() - t0;
  int st = -1;
  if (wait(&st) != pid || st != 0) fail(WL_CTXSW, "child status");
  else report(WL_CTXSW, iters, "", c);
}

static void run_forkexec(u32 iters) {
  u32 bad = 0, free_before = freemem();
  u64 t0 = rdtsc();
  for (u32 i = 0; i < iters; i++) {
    int pid = fork();
    if (pid == 0) {
      exec("true");
      exit(99);
    }
    int st = -1;
    if (pid < 0 || wait(&st) != pid || st != 0) bad++;
  }
  u64 c = rdtsc() - t0;
  i32 leaked = (i32)(free_before - freemem());
  char extra[32];
  fmt(extra, sizeof extra, " leaked_frames=%d", leaked);
  if (bad) fail(WL_FORKEXEC, "child status");
  else if (leaked) fail(WL_FORKEXEC, extra + 1);
  else report(WL_FORKEXEC, iters, extra, c);
}

static void run_user(int id, u32 n) {
  u64 t0;
  switch (id) {
  case WL_SYSCALL: t0 = rdtsc(); loop_int80(n); report(id, n, " via=int80", rdtsc() - t0); break;
  case WL_SYSENTER: t0 = rdtsc(); loop_sysenter(n); report(id, n, " via=sysenter", rdtsc() - t0); break;
  case WL_CALLRET: t0 = rdtsc(); loop_callret(n); report(id, n, "", rdtsc() - t0); break;
  case WL_DIVZERO:
    deskip(1);
    t0 = rdtsc();
    loop_divzero(n);
    report(id, n, "", rdtsc() - t0);
    deskip(0);
    break;
  case WL_PGFAULT: run_pgfault(n); break;
  case WL_FORKWAIT: run_forkwait(n); break;
  case WL_COMPUTE: run_compute(n); break;
  case WL_TLB: run_tlb(n); break;
  case WL_CTXSW: run_ctxsw(n); break;
  case WL_FORKEXEC: run_forkexec(n); break;
  }
}

void run_workload(int id, u32 n) {
  if (!wl_defs[id].in_kernel) run_user(id, n);
  else if (kbench((u32)id, n) < 0) fail(id, "kernel");
}
