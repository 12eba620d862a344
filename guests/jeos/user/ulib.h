/* The user-side library: system call wrappers and printf to the console. */
#ifndef JEOS_ULIB_H
#define JEOS_ULIB_H
#include "../common/types.h"
#include "../common/fmt.h"
#include "../common/sysnum.h"

int syscall3(int nr, int a, int b, int c);
int sysenter3(int nr, int a, int b, int c);
void loop_int80(u32 n);
void loop_sysenter(u32 n);
void loop_callret(u32 n);
void loop_divzero(u32 n);
void loop_touch(volatile u32 *base, u32 pages, u32 n);

void exit(int status) __attribute__((noreturn));
int write(const char *buf, u32 len);
int fork(void);
int exec(const char *name);
int wait(int *status);
int getpid(void);
void *sbrk(int increment);
u32 wlconf(u32 id);
int kbench(u32 id, u32 iters);
int yield(void);
int kill(int pid);
int deskip(int on);
u32 freemem(void);
int read(char *buf, u32 len);
int option(int id);
void printf(const char *f, ...) __attribute__((format(printf, 1, 2)));

static inline u64 rdtsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((u64)hi << 32) | lo;
}
#endif
