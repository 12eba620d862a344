/* Processes and the scheduler. One CPU, no kernel preemption: the timer switches
 * processes only when it interrupts ring 3, so kernel code is interrupted by handlers
 * that touch their own counters only. The table and the states change with interrupts
 * off. */
#include "proc.h"
#include "console.h"
#include "elf.h"
#include "initrd.h"
#include "mm.h"
#include "pvops.h"
#include "xen.h"
#include "../common/sysnum.h"

struct proc procs[NPROC];
struct proc *current;
static int next_pid = 1;
static u32 kernel_cr3;

extern void switch_to(u32 *save_esp, u32 new_esp);

/* Written at the lowest word of every kernel stack and checked at every switch: the
 * stacks have no guard page (they live in the identity map), so an overflow is caught
 * here rather than as silent corruption of the next frame. */
#define KSTACK_CANARY 0x4A656F53u
extern void forkret(void);

void proc_init(u32 cr3) {
  kernel_cr3 = cr3;
  struct proc *idle = &procs[0];
  idle->pid = 0;
  idle->state = P_RUNNING;
  idle->pd = cr3;
  memcpy(idle->name, "idle", 5);
  current = idle;
}

static struct proc *alloc_proc(void) {
  for (int i = 1; i < NPROC; i++) {
    struct proc *p = &procs[i];
    if (p->state != P_UNUSED) continue;
    u32 kstack = frame_alloc();
    if (!kstack) return NULL;
    memset(p, 0, sizeof *p);
    p->kstack = kstack;
    *(u32 *)kstack = KSTACK_CANARY;
    p->pid = next_pid++;
    return p;
  }
  return NULL;
}

/* Lays out a new kernel stack: the trapframe that returns to ring 3 at the top, and under
 * it the frame switch_to pops (EDI, ESI, EBX, EBP, return address = forkret). */
static struct trapframe *prepare_kstack(struct proc *p) {
  struct trapframe *tf = (struct trapframe *)(p->kstack + KSTACK_SIZE - sizeof *tf);
  u32 *sp = (u32 *)tf;
  *--sp = (u32)forkret;
  *--sp = 0; /* EBP */
  *--sp = 0; /* EBX */
  *--sp = 0; /* ESI */
  *--sp = 0; /* EDI */
  p->ksp = (u32)sp;
  return tf;
}

/* Builds a fresh address space holding program `name`, and points tf at its entry. */
static int load_program(struct proc *p, struct trapframe *tf, const char *name) {
  const struct initrd_file *f = initrd_find(name);
  if (!f) return -1;
  u32 pd = as_create();
  if (!pd) return -1;
  u32 entry, lo, hi;
  if (elf_load(pd, f->start, (u32)(f->end - f->start), &entry, &lo, &hi) < 0) {
    as_destroy(pd);
    return -1;
  }
  u32 old = p->pd;
  p->pd = pd;
  if (p == current) as_activate(pd);
  if (old && old != kernel_cr3) as_destroy(old);
  p->image_lo = lo;
  p->heap_lo = p->brk = (hi + PAGE_SIZE - 1) & PAGE_MASK;
  p->de_skip = 0;
  u32 n = (u32)strlen(name);
  if (n >= sizeof p->name) n = sizeof p->name - 1;
  memcpy(p->name, name, n);
  p->name[n] = 0;
  memset(tf, 0, sizeof *tf);
  tf->eip = entry;
  tf->cs = SEL_UCODE;
  tf->eflags = EFLAGS_IF | EFLAGS_RESERVED1;
  tf->useresp = USER_STACK_TOP;
  tf->userss = tf->ds = tf->es = tf->fs = tf->gs = SEL_UDATA;
  tf->vector = VEC_SYSCALL;
  return 0;
}

int proc_spawn(const char *name) {
  u32 flags = pv.save_fl();
  pv.irq_disable();
  struct proc *p = alloc_proc();
  int pid = -1;
  if (p) {
    p->pd = kernel_cr3;
    p->parent = &procs[0];
    if (load_program(p, prepare_kstack(p), name) == 0) {
      p->state = P_RUNNABLE;
      pid = p->pid;
    } else {
      frame_unref(p->kstack);
      p->state = P_UNUSED;
    }
  }
  pv.restore_fl(flags);
  return pid;
}

void schedule(void) {
  struct proc *prev = current, *next = NULL;
  if (prev != &procs[0] && *(u32 *)prev->kstack != KSTACK_CANARY)
    panic("kernel stack overflow in pid %d", prev->pid);
  int start = (int)(prev - procs);
  for (int k = 1; k <= NPROC; k++) {
    struct proc *p = &procs[(start + k) % NPROC];
    if (p != &procs[0] && p->state == P_RUNNABLE) {
      next = p;
      break;
    }
  }
  if (!next) next = (prev->state == P_RUNNING) ? prev : &procs[0];
  if (prev->state == P_RUNNING) prev->state = P_RUNNABLE;
  next->state = P_RUNNING;
  if (next == prev) return;
  current = next;
  /* Under Xen the stack switch and the CR3 load go in one hypercall (a lazy section).
   * Natively nothing more: no call after the CR3 load, which emptied the TLB. */
  u32 xen = xen_pv;
  if (xen) pv.lazy_mmu(1);
  if (next != &procs[0]) pv.load_esp0(next->kstack + KSTACK_SIZE);
  if (next->pd != prev->pd) as_activate(next->pd);
  if (xen) pv.lazy_mmu(0);
  switch_to(&prev->ksp, next->ksp);
}

void idle_loop(void) {
  for (;;) {
    pv.irq_disable();
    schedule();
    pv.safe_halt();
  }
}

void sleep_on(const void *chan) {
  current->wchan = chan;
  current->state = P_SLEEPING;
  schedule();
  current->wchan = NULL;
}

void wakeup(const void *chan) {
  for (int i = 1; i < NPROC; i++)
    if (procs[i].state == P_SLEEPING && procs[i].wchan == chan) procs[i].state = P_RUNNABLE;
}

int do_fork(struct trapframe *tf) {
  pv.irq_disable();
  struct proc *p = alloc_proc();
  if (!p) {
    pv.irq_enable();
    return -1;
  }
  if (as_fork(current->pd, &p->pd) < 0) {
    frame_unref(p->kstack);
    p->state = P_UNUSED;
    pv.irq_enable();
    return -1;
  }
  p->parent = current;
  p->image_lo = current->image_lo;
  p->heap_lo = current->heap_lo;
  p->brk = current->brk;
  p->de_skip = current->de_skip;
  memcpy(p->name, current->name, sizeof p->name);
  struct trapframe *ctf = prepare_kstack(p);
  *ctf = *tf;
  ctf->eax = 0; /* the child's fork() returns 0 */
  p->state = P_RUNNABLE;
  pv.irq_enable();
  return p->pid;
}

int do_exec(struct trapframe *tf, const char *name) {
  return load_program(current, tf, name);
}

void do_exit(int status) {
  struct proc *p = current;
  if (p->pid == INIT_PID) {
    kprintf("jeos init exited status=%d\n", status);
    machine_exit(status == 0 ? EXIT_OK : EXIT_CHECK_FAILED);
  }
  pv.irq_disable();
  /* Free the user memory now, from the kernel's own directory. */
  as_activate(kernel_cr3);
  as_destroy(p->pd);
  p->pd = kernel_cr3;
  for (int i = 1; i < NPROC; i++) {
    if (procs[i].parent != p) continue;
    procs[i].parent = &procs[INIT_PID]; /* orphans go to init, which reaps them */
    if (procs[i].state == P_ZOMBIE) wakeup(&procs[INIT_PID]);
  }
  p->exit_status = status;
  p->state = P_ZOMBIE;
  wakeup(p->parent); /* a parent in wait() sleeps on itself */
  schedule();
  panic("a zombie ran");
}

int do_wait(int *status) {
  for (;;) {
    pv.irq_disable();
    int children = 0;
    for (int i = 1; i < NPROC; i++) {
      struct proc *c = &procs[i];
      if (c->state == P_UNUSED || c->parent != current) continue;
      children = 1;
      if (c->state != P_ZOMBIE) continue;
      int pid = c->pid, st = c->exit_status;
      frame_unref(c->kstack); /* its stack is no longer in use: it switched away */
      c->state = P_UNUSED;
      c->parent = NULL;
      pv.irq_enable();
      if (status) *status = st;
      return pid;
    }
    if (!children || current->killed) {
      pv.irq_enable();
      return -1;
    }
    sleep_on(current);
  }
}

int do_kill(int pid) {
  if (pid <= INIT_PID) return -1;
  pv.irq_disable();
  int found = -1;
  for (int i = 1; i < NPROC; i++) {
    struct proc *p = &procs[i];
    if (p->pid != pid || p->state == P_UNUSED || p->state == P_ZOMBIE) continue;
    p->killed = 1;
    if (p->state == P_SLEEPING) p->state = P_RUNNABLE;
    found = 0;
  }
  pv.irq_enable();
  return found;
}

static int in_stack(u32 va) { return va >= USER_STACK_TOP - USER_STACK_SIZE && va < USER_STACK_TOP; }
static int in_heap(u32 va) { return va >= current->heap_lo && va < current->brk; }

int user_range_ok(u32 p, u32 len) {
  if (p + len < p) return 0;
  if (p >= current->image_lo && p + len <= current->brk) return 1;
  return p >= USER_STACK_TOP - USER_STACK_SIZE && p + len <= USER_STACK_TOP;
}

int demand_fault(u32 va) {
  if (!in_heap(va) && !in_stack(va)) return -1;
  u32 pa = frame_alloc_zeroed();
  if (!pa) return -2;
  if (as_map(current->pd, va & PAGE_MASK, pa, PTE_U | PTE_W) < 0) {
    frame_unref(pa);
    return -2;
  }
  return 0;
}
