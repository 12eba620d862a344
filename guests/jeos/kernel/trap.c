/* Dispatch of every exception, interrupt and system call (entry.asm calls
 * trap_dispatch with the frame it built). */
#include "console.h"
#include "ide.h"
#include "mm.h"
#include "pic.h"
#include "pit.h"
#include "proc.h"
#include "pvops.h"
#include "serial.h"
#include "syscall.h"
#include "x86.h"
#include "xen.h"
#include "../common/sysnum.h"

static const char *const exception_names[32] = {
  "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
  "#SS", "#GP", "#PF", "res", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void irq(u32 line, struct trapframe *tf) {
  if (!pic_is_real(line)) return;
  if (line == 0) {
    ticks++;
    pic_eoi(line);
    /* Round-robin time slice of one tick, for processes interrupted in ring 3 only. */
    if (tf_from_user(tf)) schedule();
    return;
  }
  if (line == IDE_IRQ) ide_interrupt();
  if (line == SERIAL_IRQ) serial_interrupt();
  pic_eoi(line);
}

/* Length of DIV/IDIV r/m32 (F6/F7 /6 or /7) at eip, with 32-bit addressing and at most a
 * few segment/operand-size prefixes (SDM vol. 2A, 2.1 and table 2-2); 0 if it is not such
 * an instruction or does not lie in the process's memory. */
static u32 div_length(u32 eip) {
  if (!user_range_ok(eip, 16)) return 0;
  const u8 *p = (const u8 *)eip;
  u32 n = 0;
  while (n < 4 && (p[n] == 0x26 || p[n] == 0x2E || p[n] == 0x36 || p[n] == 0x3E ||
                   p[n] == 0x64 || p[n] == 0x65 || p[n] == 0x66))
    n++;
  if (p[n] != 0xF6 && p[n] != 0xF7) return 0;
  u8 modrm = p[n + 1];
  u32 mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
  if (reg != 6 && reg != 7) return 0;
  n += 2;
  if (mod == 3) return n;
  if (rm == 4) { /* SIB byte; base 5 with mod 0 means disp32 */
    if (mod == 0 && (p[n] & 7) == 5) n += 4;
    n++;
  } else if (mod == 0 && rm == 5) {
    n += 4;
  }
  if (mod == 1) n += 1;
  if (mod == 2) n += 4;
  return n;
}

static void kill_current(struct trapframe *tf, u32 addr) {
  kprintf("jeos pid=%d killed %s eip=%p err=0x%x addr=%p\n", current->pid,
          exception_names[tf->vector & 31], (void *)tf->eip, tf->err, (void *)addr);
  do_exit(STATUS_KILLED((int)tf->vector));
}

static void page_fault(struct trapframe *tf) {
  u32 va = pv.read_cr2();
  /* Kernel code touches user memory only in ranges it has checked, so a fault at a user
   * address from ring 0 is resolved the same way (demand-zero or copy-on-write). */
  if (va >= USER_BASE && va < USER_TOP && current->pid != 0) {
    if ((tf->err & PF_P) && (tf->err & PF_W)) {
      if (as_cow_fault(current->pd, va) == 0) return;
    } else if (!(tf->err & PF_P)) {
      int r = demand_fault(va);
      if (r == 0) return;
      if (r == -2) kprintf("jeos out of memory (pid=%d, %u frames free)\n", current->pid, frames_free());
    }
  }
  /* A bad user address, even met by the kernel on a process's behalf (a pointer into a
   * hole of its image), ends that process only: no kernel lock is ever held while user
   * memory is touched. */
  if (tf_from_user(tf) || (va >= USER_BASE && va < USER_TOP && current->pid != 0)) kill_current(tf, va);
  panic("#PF in the kernel at eip=%p addr=%p err=0x%x", (void *)tf->eip, (void *)va, tf->err);
}

extern const u8 sysenter_entry[], sysenter_flags_fixed[];

/* Under Xen, SYSENTER from ring 3 faults (#GP: the hypervisor owns the SYSENTER MSRs,
 * as 32-bit Xen gives PV guests no SYSENTER of their own): the kernel carries out the
 * system call it asked for, with the convention of sysenter_entry (ECX = user ESP,
 * EDX = resume address; TF and NT not carried back). 1 when it was one. */
static int xen_sysenter(struct trapframe *tf) {
  if (!user_range_ok(tf->eip, 2)) return 0;
  const u8 *p = (const u8 *)tf->eip;
  if (p[0] != 0x0F || p[1] != 0x34) return 0;
  tf->eip = tf->edx;
  tf->useresp = tf->ecx;
  tf->eflags = (tf->eflags & ~(EFLAGS_TF | 0x4000u)) | EFLAGS_IF;
  pv.irq_enable();
  tf->eax = (u32)syscall_dispatch(tf);
  pv.irq_disable();
  return 1;
}

static void exception(struct trapframe *tf) {
  if (tf->vector == VEC_PF) {
    page_fault(tf);
    return;
  }
  if (tf->vector == VEC_GP && xen_pv && tf_from_user(tf) && xen_sysenter(tf)) return;
  /* A process that sets TF and executes SYSENTER single-steps into the kernel until
   * entry.asm has reloaded EFLAGS: clear TF and carry on (Linux does the same). */
  if (tf->vector == VEC_DB && !tf_from_user(tf) && tf->eip >= (u32)sysenter_entry &&
      tf->eip <= (u32)sysenter_flags_fixed) {
    tf->eflags &= ~EFLAGS_TF;
    return;
  }
  if (tf->vector == VEC_DE && tf_from_user(tf) && current->de_skip) {
    u32 len = div_length(tf->eip);
    if (len) {
      tf->eip += len;
      return;
    }
  }
  if (tf_from_user(tf)) kill_current(tf, 0);
  panic("%s in the kernel at eip=%p err=0x%x", exception_names[tf->vector & 31],
        (void *)tf->eip, tf->err);
}

void trap_dispatch(struct trapframe *tf) {
  if (tf->vector == VEC_SYSCALL) {
    pv.irq_enable();
    tf->eax = (u32)syscall_dispatch(tf);
    pv.irq_disable();
  } else if (tf->vector >= VEC_IRQ0 && tf->vector < VEC_IRQ0 + 16) {
    irq(tf->vector - VEC_IRQ0, tf);
  } else if (tf->vector == VEC_XEN_UPCALL) {
    if (xen_do_upcall()) irq(0, tf); /* VIRQ_TIMER is the kernel's clock tick */
  } else {
    exception(tf);
  }
  if (tf_from_user(tf) && current->killed) do_exit(STATUS_KILLED(9));
}
