/* init's functional checks of the kernel: processes, memory, protection. */
#include "init.h"

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

/* SYSENTER keeps the caller's TF and NT: a process entering with them set must neither
 * crash the kernel nor be harmed (the kernel clears them, as Linux does). */
static void check_sysenter_flags(void) {
  int pid = fork();
  if (pid == 0) {
    int r;
    __asm__ volatile(
        "mov %%esp, %%ecx\n mov $1f, %%edx\n"
        /* TF | NT; a TF set by POPF traps after the next instruction: SYSENTER */
        "pushfl\n orl $0x4100, (%%esp)\n popfl\n sysenter\n1:\n"
        : "=a"(r) : "a"(SYS_GETPID) : "ecx", "edx", "memory", "cc");
    exit(r == getpid() ? 0 : 1);
  }
  int st = -1;
  wait(&st);
  char d[32];
  fmt(d, sizeof d, "status=%d", st);
  check("sysenter-tf-nt", st == 0, d);
}

/* The C ABI wants DF clear; a process entering the kernel with DF set (STD before
 * int 0x80) must not make any kernel string operation run backwards (entry.asm clears
 * DF; fork copies frames and page tables and must still give a working child). */
static void check_df(void) {
  int r;
  __asm__ volatile("std\n int $0x80\n cld" : "=a"(r) : "a"(SYS_FORK) : "memory", "cc");
  if (r == 0) exit(7);
  int st = -1;
  int w = wait(&st);
  char d[32];
  fmt(d, sizeof d, "status=%d", st);
  check("syscall-df", r > 0 && w == r && st == 7, d);
}

/* The sysenter path must return what int 0x80 returns. */
static void check_sysenter(void) {
  int a = getpid(), b = sysenter3(SYS_GETPID, 0, 0, 0);
  char d[32];
  fmt(d, sizeof d, "pid=%d", b);
  check("sysenter", a == b && a == 1, d);
}

void run_checks(void) {
  u32 free_before = freemem();
  check_sysenter();
  check_sysenter_flags();
  check_df();
  check_demand();
  check_cow();
  check_exec();
  check_preempt();
  check_protection();
  check_bad_pointers();
  char d[32];
  fmt(d, sizeof d, "leaked_frames=%d", (i32)(free_before - freemem()));
  check("no-leak", free_before == freemem(), d);
}
