/* init: the first process. It checks the kernel's process and memory machinery, runs the
 * workloads in the order of common/wl.h (the kernel-side ones through SYS_KBENCH),
 * prints a summary and exits with the number of failures, which the kernel turns into
 * the machine's exit code. */
#include "ulib.h"
#include "../common/wl.h"

#define PAGE 4096

extern char _start[]; /* crt0.asm: the first byte of the text */

static int failures;

static void check(const char *name, int ok, const char *detail) {
  printf("check %s %s%s%s\n", name, ok ? "ok" : "FAIL", detail[0] ? " " : "", detail);
  if (!ok) failures++;
}

/* Copy-on-write: after fork, the child's write must not show in the parent. */
static volatile u32 cow_word = 1;
static void check_cow(void) {
  int pid = fork();
  if (pid == 0) {
    cow_word = 2;
    exit(cow_word == 2 ? 0 : 1);
  }
  int st = -1;
  int w = wait(&st);
  check("cow", pid > 0 && w == pid && st == 0 && cow_word == 1, "");
}

/* exec: the child becomes the embedded program "echo", which exits with 42. */
static void check_exec(void) {
  int pid = fork();
  if (pid == 0) {
    exec("echo");
    exit(99);
  }
  int st = -1;
  int w = wait(&st);
  char d[32];
  fmt(d, sizeof d, "status=%d", st);
  check("exec", pid > 0 && w == pid && st == 42, d);
  check("exec-missing", exec("no-such-program") == -1, "");
}

/* Demand paging: fresh heap pages read as zero and keep what is written. */
static void check_demand(void) {
  volatile u32 *p = sbrk(16 * PAGE);
  int ok = p != (void *)-1;
  for (int i = 0; ok && i < 16; i++) ok = p[i * 1024] == 0 && p[i * 1024 + 1023] == 0;
  for (int i = 0; ok && i < 16; i++) p[i * 1024 + 7] = (u32)i * 3 + 1;
  for (int i = 0; ok && i < 16; i++) ok = p[i * 1024 + 7] == (u32)i * 3 + 1;
  ok = ok && sbrk(-16 * PAGE) == (void *)(p + 16 * 1024);
  check("demand", ok, "");
}

/* Preemption: a child that spins in ring 3 without a system call must not keep the CPU;
 * if the timer did not preempt it, the parent would never run again. */
static void check_preempt(void) {
  int pid = fork();
  if (pid == 0)
    for (;;) {
    }
  yield(); /* let the child start spinning */
  int k = kill(pid);
  int st = -1;
  int w = wait(&st);
  char d[32];
  fmt(d, sizeof d, "status=%d", st);
  check("preempt", k == 0 && w == pid && st == STATUS_KILLED(9), d);
}

/* Protection: ring 3 can neither touch kernel memory nor do port I/O nor run a
 * privileged instruction; each attempt kills only the offender. */
static void check_protection(void) {
  static const struct {
    const char *name;
    int vector;
  } cases[] = { { "kernel-read", 14 }, { "kernel-write", 14 }, { "port-io", 13 }, { "cli", 13 }, { "text-write", 14 },
                 { "kernel-write-to-text", 14 } };
  for (int c = 0; c < 6; c++) {
    int pid = fork();
    if (pid == 0) {
      switch (c) {
      case 0: (void)*(volatile u32 *)0x00100000; break; /* the kernel image */
      case 1: *(volatile u32 *)0x00100000 = 0; break;
      case 2: __asm__ volatile("inb $0x80, %%al" : : : "eax"); break;
      case 3: __asm__ volatile("cli"); break;
      case 4: *(volatile u8 *)_start = 0xC3; break; /* read-only text */
      case 5: /* the kernel, storing wait()'s status into read-only text for us */
        if (fork() == 0) exit(0);
        wait((int *)_start);
        break;
      }
      exit(0);
    }
    int st = -1;
    wait(&st);
    char d[32];
    fmt(d, sizeof d, "status=%d", st);
    char name[32];
    fmt(name, sizeof name, "protect-%s", cases[c].name);
    check(name, st == STATUS_KILLED(cases[c].vector), d);
  }
}

/* System calls refuse pointers outside the caller's memory instead of faulting on them. */
static void check_bad_pointers(void) {
  int ok = write((const char *)0x00100000, 4) == -1 /* the kernel image */
           && write((const char *)0xBFF00000 - 8, 16) == -1 /* straddles the stack's start */
           && write((const char *)0xFFFFFFF0, 32) == -1     /* wraps around */
           && wait((int *)0x00001000) == -1 && exec((const char *)0x00100000) == -1;
  check("bad-pointers", ok, "");
}

/* The sysenter path must return what int 0x80 returns. */
static void check_sysenter(void) {
  int a = getpid(), b = sysenter3(SYS_GETPID, 0, 0, 0);
  char d[32];
  fmt(d, sizeof d, "pid=%d", b);
  check("sysenter", a == b && a == 1, d);
}

static void report(int id, u32 iters, const char *extra, u64 cycles) {
  char line[200];
  int n = wl_format(line, sizeof line, id, iters, extra, cycles);
  write(line, (u32)n);
}

static void fail(int id, const char *why) {
  printf("wl %s FAIL %s\n", wl_defs[id].name, why);
  failures++;
}

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
  sbrk(-(WL_TLB_PAGES * PAGE));
  char extra[24];
  fmt(extra, sizeof extra, " pages=%u", WL_TLB_PAGES);
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

static void run_workload(int id, u32 n) {
  if (!wl_defs[id].in_kernel) run_user(id, n);
  else if (kbench((u32)id, n) < 0) fail(id, "kernel");
}

/* shell=1: commands from the console, one a line: a workload name and an optional
 * iteration count, "list", or "exit". */
static void shell(void) {
  printf("jeos shell: type a workload name and a count (syscall 1000), list, or exit\n");
  printf("jeos> ");
  char line[64];
  for (;;) {
    u32 n = 0;
    for (;;) {
      char c;
      if (read(&c, 1) != 1) return;
      if (c == '\r' || c == '\n') break;
      if (n < sizeof line - 1) line[n++] = c;
    }
    line[n] = 0;
    if (n == 0) continue; /* the LF of a CR LF */
    char *arg = line;
    while (*arg && *arg != ' ') arg++;
    if (*arg) *arg++ = 0;
    u32 count = 0;
    int bad = 0;
    for (; *arg; arg++) {
      if (*arg == ' ') continue;
      if (*arg < '0' || *arg > '9' || count > 99999999) bad = 1;
      else count = count * 10 + (u32)(*arg - '0');
    }
    int id = -1;
    for (int i = 0; i < WL_COUNT; i++)
      if (strcmp(line, wl_defs[i].name) == 0) id = i;
    if (strcmp(line, "exit") == 0) return;
    if (strcmp(line, "list") == 0) {
      for (int i = 0; i < WL_COUNT; i++) printf("%s %u\n", wl_defs[i].name, wl_defs[i].iters);
    } else if (id < 0 || bad) {
      printf("jeos shell: unknown command or bad count: %s\n", line);
    } else {
      run_workload(id, count ? count : wl_defs[id].iters);
    }
    printf("jeos> ");
  }
}

int main(void) {
  printf("init pid=%d\n", getpid());
  u32 free_before = freemem();
  check_sysenter();
  check_demand();
  check_cow();
  check_exec();
  check_preempt();
  check_protection();
  check_bad_pointers();
  char d[32];
  fmt(d, sizeof d, "leaked_frames=%d", (i32)(free_before - freemem()));
  check("no-leak", free_before == freemem(), d);
  int ran = 0;
  for (int id = 0; id < WL_COUNT; id++) {
    u32 n = wlconf((u32)id);
    if (n == 0) continue;
    ran++;
    run_workload(id, n);
  }
  printf("jeos summary workloads=%d failures=%d\n", ran, failures);
  if (option(OPTION_SHELL) == 1) shell();
  return failures;
}
