/* System calls, reached through int 0x80 or SYSENTER (see common/sysnum.h). */
#include "syscall.h"
#include "console.h"
#include "mm.h"
#include "proc.h"
#include "pvops.h"
#include "serial.h"
#include "workloads.h"
#include "../common/sysnum.h"

extern void sysenter_entry(void);
extern u8 boot_stack_top[];

void sysenter_init(void) {
  pv.wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
  pv.wrmsr(MSR_SYSENTER_EIP, (u32)sysenter_entry);
  pv.wrmsr(MSR_SYSENTER_ESP, (u32)boot_stack_top); /* replaced at every switch */
}

static int sys_write(u32 buf, u32 len) {
  if (len > 4096 || !user_range_ok(buf, len)) return -1;
  console_write((const char *)buf, len);
  return (int)len;
}

static int sys_read(u32 buf, u32 len) {
  if (len == 0) return 0;
  if (len > 4096 || !user_range_ok(buf, len)) return -1;
  return serial_read((u8 *)buf, len);
}

static int sys_exec(struct trapframe *tf, u32 uname) {
  char name[16];
  u32 i;
  for (i = 0; i < sizeof name; i++) {
    if (!user_range_ok(uname + i, 1)) return -1;
    name[i] = ((const char *)uname)[i];
    if (!name[i]) break;
  }
  if (i == sizeof name) return -1;
  return do_exec(tf, name);
}

static int sys_wait(u32 ustatus) {
  if (ustatus && !user_range_ok(ustatus, 4)) return -1;
  int st = 0;
  int pid = do_wait(&st);
  /* This write may take a copy-on-write fault in ring 0 (CR0.WP is set). */
  if (pid > 0 && ustatus) *(int *)ustatus = st;
  return pid;
}

static int sys_sbrk(i32 incr) {
  u32 old = current->brk, brk = old + (u32)incr;
  u32 limit = USER_STACK_TOP - USER_STACK_SIZE - PAGE_SIZE; /* a guard page */
  if ((incr > 0 && (brk < old || brk > limit)) || (incr < 0 && (brk > old || brk < current->heap_lo)))
    return -1;
  if (incr < 0)
    as_unmap_range(current->pd, (brk + PAGE_SIZE - 1) & PAGE_MASK, (old + PAGE_SIZE - 1) & PAGE_MASK);
  current->brk = brk;
  return (int)old;
}

int syscall_dispatch(struct trapframe *tf) {
  u32 a = tf->ebx, b = tf->esi;
  switch (tf->eax) {
  case SYS_EXIT: do_exit((int)a);
  case SYS_WRITE: return sys_write(a, b);
  case SYS_FORK: return do_fork(tf);
  case SYS_EXEC: return sys_exec(tf, a);
  case SYS_WAIT: return sys_wait(a);
  case SYS_GETPID: return current->pid;
  case SYS_SBRK: return sys_sbrk((i32)a);
  case SYS_WLCONF: return (int)wl_configured_iters(a);
  case SYS_KBENCH: return kbench(a, b);
  case SYS_YIELD:
    pv.irq_disable();
    schedule();
    pv.irq_enable();
    return 0;
  case SYS_KILL: return do_kill((int)a);
  case SYS_DESKIP: current->de_skip = a != 0; return 0;
  case SYS_FREEMEM: return (int)frames_free();
  case SYS_READ: return sys_read(a, b);
  case SYS_OPTION: return a == OPTION_SHELL ? cmdline_shell() : -1;
  default: return -1;
  }
}
