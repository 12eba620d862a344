/* System call wrappers (through int 0x80) and printf. */
#include "ulib.h"

void exit(int status) {
  syscall3(SYS_EXIT, status, 0, 0);
  for (;;) {
  }
}
int write(const char *buf, u32 len) { return syscall3(SYS_WRITE, (int)buf, (int)len, 0); }
int fork(void) { return syscall3(SYS_FORK, 0, 0, 0); }
int exec(const char *name) { return syscall3(SYS_EXEC, (int)name, 0, 0); }
int wait(int *status) { return syscall3(SYS_WAIT, (int)status, 0, 0); }
int getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
void *sbrk(int increment) { return (void *)syscall3(SYS_SBRK, increment, 0, 0); }
u32 wlconf(u32 id) { return (u32)syscall3(SYS_WLCONF, (int)id, 0, 0); }
int kbench(u32 id, u32 iters) { return syscall3(SYS_KBENCH, (int)id, (int)iters, 0); }
int yield(void) { return syscall3(SYS_YIELD, 0, 0, 0); }
int kill(int pid) { return syscall3(SYS_KILL, pid, 0, 0); }
int deskip(int on) { return syscall3(SYS_DESKIP, on, 0, 0); }
u32 freemem(void) { return (u32)syscall3(SYS_FREEMEM, 0, 0, 0); }
int read(char *buf, u32 len) { return syscall3(SYS_READ, (int)buf, (int)len, 0); }
int option(int id) { return syscall3(SYS_OPTION, id, 0, 0); }

void printf(const char *f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  int n = vfmt(buf, sizeof buf, f, ap);
  va_end(ap);
  write(buf, (u32)n);
}
