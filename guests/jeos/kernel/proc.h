/* Processes: the table, the round-robin scheduler, fork, exec, exit, wait, kill. */
#ifndef JEOS_PROC_H
#define JEOS_PROC_H
#include "../common/types.h"
#include "x86.h"

#define NPROC 64
#define KSTACK_SIZE 4096
#define INIT_PID 1

enum proc_state { P_UNUSED, P_RUNNABLE, P_RUNNING, P_SLEEPING, P_ZOMBIE };

struct proc {
  int pid;
  enum proc_state state;
  u32 pd;       /* page directory (physical = kernel virtual) */
  u32 kstack;   /* one frame: the ring-0 stack */
  u32 ksp;      /* saved ESP while switched out */
  struct proc *parent;
  int exit_status;
  int killed;   /* SYS_KILL: exit on the next return to ring 3 */
  int de_skip;  /* SYS_DESKIP: a #DE in ring 3 skips the DIV */
  /* User memory: the program image [image_lo, heap_lo), the demand-zero heap
   * [heap_lo, brk), and the demand-zero stack below USER_STACK_TOP. */
  u32 image_lo, heap_lo, brk;
  char name[16];
  const void *wchan; /* what a sleeping process waits for */
};

extern struct proc *current;

void proc_init(u32 kernel_cr3);
/* Creates a process running the embedded program `name` (the first one is init). */
int proc_spawn(const char *name);
/* Picks the next runnable process round-robin and switches to it. Interrupts off. */
void schedule(void);
/* The boot thread becomes the idle process: it halts whenever nothing else runs. */
void idle_loop(void) __attribute__((noreturn));

/* Sleeps until wakeup(chan); the caller has interrupts off and re-checks its condition
 * afterwards (a kill or another event may wake it too). */
void sleep_on(const void *chan);
/* Makes every process sleeping on chan runnable; safe from interrupt handlers. */
void wakeup(const void *chan);

int do_fork(struct trapframe *tf);
int do_exec(struct trapframe *tf, const char *name);
void do_exit(int status) __attribute__((noreturn));
int do_wait(int *status);
int do_kill(int pid);

/* 1 when [p, p + len) lies in the current process's image, heap or stack. */
int user_range_ok(u32 p, u32 len);
/* Demand paging: maps a zeroed frame at va if it lies in the heap or the stack; 0, -1
 * when va lies in neither, -2 when memory is exhausted. */
int demand_fault(u32 va);

#endif
