/* The paravirtual pv-ops: every privileged operation as a hypercall of Xen's 32-bit PV
 * interface (xen/include/public/xen.h, event_channel.h, sched.h, vcpu.h, physdev.h),
 * `int 0x82` with the number in EAX and the arguments in EBX, ECX, EDX, ESI, EDI. */
#include "xen.h"
#include "console.h"
#include "mm.h"
#include "pvops.h"
#include "x86.h"

/* Hypercall numbers (xen.h __HYPERVISOR_*). */
#define HC_set_trap_table 0
#define HC_mmu_update 1
#define HC_set_gdt 2
#define HC_stack_switch 3
#define HC_set_callbacks 4
#define HC_update_va_mapping 14
#define HC_xen_version 17
#define HC_console_io 18
#define HC_vcpu_op 24
#define HC_mmuext_op 26
#define HC_sched_op 29
#define HC_event_channel_op 32
#define HC_physdev_op 33

#define MMUEXT_PIN_L2_TABLE 1     /* xen.h MMUEXT_* */
#define MMUEXT_UNPIN_TABLE 4
#define MMUEXT_NEW_BASEPTR 5
#define MMUEXT_TLB_FLUSH_LOCAL 6
#define MMUEXT_INVLPG_LOCAL 7
#define UVMF_INVLPG 2             /* xen.h UVMF_* */
#define CONSOLEIO_write 0         /* xen.h CONSOLEIO_* */
#define SCHEDOP_block 1           /* sched.h */
#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_crash 3
#define EVTCHNOP_bind_virq 1      /* event_channel.h */
#define VIRQ_TIMER 0              /* xen.h */
#define VCPUOP_set_periodic_timer 6 /* vcpu.h */
#define PHYSDEVOP_set_iopl 6      /* physdev.h */
#define TI_IF 4                   /* arch-x86/xen.h: mask events on entry */
/* Updates per mmu_update call (Xen takes up to 2048; a fork of JeOS's largest process
 * writes fewer, and the queue stays small in the BSS of a native boot). */
#define MAX_BATCH 512

/* The shared_info page (xen.h struct shared_info, x86_32): vcpu_info[32] of 64 bytes,
 * then the 2-level event-channel pending and mask bitmaps. Mapped at the last page of the
 * kernel's identity map, which the frame allocator then leaves alone. */
struct vcpu_info {
  volatile u8 evtchn_upcall_pending, evtchn_upcall_mask;
  u8 pad[2];
  volatile u32 evtchn_pending_sel;
  volatile u32 cr2;
  u8 rest[52];
};
struct shared_info {
  struct vcpu_info vcpu[32];
  volatile u32 evtchn_pending[32];
  volatile u32 evtchn_mask[32];
};
#define SHARED_INFO_VA (KERNEL_MAP_LIMIT - PAGE_SIZE)

u32 xen_pt_base;
struct vcpu_info *xen_vcpu; /* entry.asm reads it */
static struct shared_info *shared;
static u32 cur_cr3, timer_port;

static inline u32 hc4_(u32 nr, u32 a1, u32 a2, u32 a3, u32 a4) {
  __asm__ volatile("int $0x82"
                   : "+a"(nr), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4)
                   : : "memory");
  return nr;
}
#define hc4(nr, a1, a2, a3, a4) hc4_(nr, (u32)(a1), (u32)(a2), (u32)(a3), (u32)(a4))
#define hc(nr, a1, a2) hc4(nr, a1, a2, 0, 0)

static void must(u32 rc, const char *what) {
  if ((int)rc < 0) panic("xen: %s failed (error %d)", what, -(int)rc);
}

void xen_cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("ud2; .ascii \"xen\"; cpuid"
                   : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* ---- interrupt masking: the upcall mask in shared_info, no hypercall ---- */

/* After unmasking, an event that arrived while masked has only set upcall_pending: any
 * hypercall lets the hypervisor deliver it (Linux's xen_force_evtchn_callback). */
static void force_callback(void) { hc(HC_xen_version, 0, 0); }

static u32 xen_save_fl(void) { return xen_vcpu->evtchn_upcall_mask ? 0 : EFLAGS_IF; }
static void xen_irq_disable(void) {
  xen_vcpu->evtchn_upcall_mask = 1;
  __asm__ volatile("" ::: "memory");
}
static void xen_irq_enable(void) {
  xen_vcpu->evtchn_upcall_mask = 0;
  __asm__ volatile("" ::: "memory");
  if (xen_vcpu->evtchn_upcall_pending) force_callback();
}
static void xen_restore_fl(u32 f) {
  if (f & EFLAGS_IF) xen_irq_enable();
  else xen_irq_disable();
}
/* SCHEDOP_block unmasks events and sleeps until one is pending (sched.h). */
static void xen_safe_halt(void) { hc(HC_sched_op, SCHEDOP_block, 0); }
static void xen_halt(void) { hc(HC_sched_op, SCHEDOP_block, 0); }

/* ---- the MMU: direct paging through validated hypercalls ---- */

struct mmu_update { u64 ptr, val; };
struct mmuext_op { u32 cmd, arg1, arg2; };
/* struct multicall_entry (xen.h): op, result, args[6], all xen_ulong_t. */
struct multicall_entry { u32 op, result, args[6]; };

/* The pending work of lazy mode, in program order: runs of page-table updates become one
 * mmu_update each, runs of mmuext operations one mmuext_op each, other calls (stack_switch)
 * an entry of their own; several entries go to the hypervisor as one multicall, as
 * XenoLinux batches its context switch and page-table updates. */
static struct mmu_update queue[MAX_BATCH];
static struct mmuext_op ext[32];
static struct multicall_entry mcl[8];
static u32 queued, next_ext, nmc, lazy;

static void flush_queue(void) {
  if (nmc == 1) {
    struct multicall_entry *m = &mcl[0];
    must(hc4(m->op, m->args[0], m->args[1], m->args[2], m->args[3]), "hypercall");
  } else if (nmc > 1) {
    must(hc(13 /* __HYPERVISOR_multicall */, mcl, nmc), "multicall");
    for (u32 i = 0; i < nmc; i++) must(mcl[i].result, "multicall element");
  }
  nmc = queued = next_ext = 0;
}
static struct multicall_entry *entry(u32 op) {
  if (nmc == sizeof mcl / sizeof mcl[0]) flush_queue();
  struct multicall_entry *m = &mcl[nmc++];
  *m = (struct multicall_entry){ op, 0, { 0, 0, 0, 0, 0, 0 } };
  return m;
}
static void queue_update(u32 ptr, u32 val) {
  if (queued == MAX_BATCH) flush_queue();
  if (!nmc || mcl[nmc - 1].op != HC_mmu_update) {
    struct multicall_entry *m = entry(HC_mmu_update);
    m->args[0] = (u32)&queue[queued];
    m->args[3] = 0x7FF0; /* DOMID_SELF */
  }
  queue[queued].ptr = ptr; /* MMU_NORMAL_PT_UPDATE = 0 in bits 1:0 */
  queue[queued++].val = val;
  mcl[nmc - 1].args[1]++;
}
static void queue_ext(u32 cmd, u32 arg1) {
  if (next_ext == sizeof ext / sizeof ext[0]) flush_queue();
  if (!nmc || mcl[nmc - 1].op != HC_mmuext_op) {
    struct multicall_entry *m = entry(HC_mmuext_op);
    m->args[0] = (u32)&ext[next_ext];
    m->args[3] = 0x7FF0;
  }
  ext[next_ext++] = (struct mmuext_op){ cmd, arg1, 0 };
  mcl[nmc - 1].args[1]++;
}
static void done(void) { if (!lazy) flush_queue(); }

/* The kernel maps physical = virtual below KERNEL_MAP_LIMIT: an entry's address is its
 * machine address. */
static void xen_set_pte(u32 *e, u32 v) { queue_update((u32)e, v); done(); }
/* Invalidations in lazy mode wait for its end: one INVLPG_LOCAL, or one TLB flush for
 * several (nothing in a lazy section reads through the addresses it remaps). */
static u32 lazy_invlpgs, lazy_va;
static void xen_lazy_mmu(int on) {
  lazy = on;
  if (on) return;
  if (lazy_invlpgs == 1) queue_ext(MMUEXT_INVLPG_LOCAL, lazy_va);
  else if (lazy_invlpgs > 1) queue_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
  lazy_invlpgs = 0;
  flush_queue();
}
static void xen_invlpg(u32 va) {
  if (lazy) {
    lazy_invlpgs++;
    lazy_va = va;
    return;
  }
  queue_ext(MMUEXT_INVLPG_LOCAL, va);
  flush_queue();
}
static void xen_write_cr3(u32 pd) {
  queue_ext(MMUEXT_NEW_BASEPTR, pd >> 12);
  cur_cr3 = pd;
  done();
}
static u32 xen_read_cr3(void) { return cur_cr3; }
static u32 xen_read_cr2(void) { return xen_vcpu->cr2; }
/* Paging and WP are on from the first instruction (the builder's tables). */
static u32 xen_read_cr0(void) { return CR0_PG | CR0_WP | 0x11; }
static void xen_write_cr0(u32 v) { (void)v; }

/* A frame becomes a page table: its identity mapping turns read-only first (a frame is a
 * page table or writable, never both); a page directory is pinned as L2 so it keeps its
 * type (and its tables theirs) while no CR3 names it. */
static void xen_alloc_pt(u32 pa, int level) {
  queue_update((u32)kernel_pte(pa), pa | PTE_P);
  if (level == 2) queue_ext(MMUEXT_PIN_L2_TABLE, pa >> 12);
  done();
}
/* Unpinning a directory drops its tables' types, so it goes before their updates. */
static void xen_release_pt(u32 pa, int level) {
  if (level == 2) queue_ext(MMUEXT_UNPIN_TABLE, pa >> 12);
  queue_update((u32)kernel_pte(pa), pa | PTE_P | PTE_W);
  done();
}

/* ---- CPU tables ---- */

static void xen_load_gdt(const void *p) {
  const struct { u16 limit; u32 base; } __attribute__((packed)) *d = p;
  u32 frame = d->base >> 12;
  if (d->base & 0xFFF) panic("xen: the GDT must start a page");
  must(hc(HC_set_gdt, &frame, (d->limit + 1u) / 8), "set_gdt");
}

struct trap_info { u8 vector, flags; u16 cs; u32 address; };
extern const u32 vector_table[49];

/* The trap table replaces the IDT: the exceptions with events masked on entry (the
 * interrupt gates of idt.c clear IF), int 0x80 callable from ring 3 and left unmasked,
 * so the hypervisor can give it a direct ring-3-to-ring-1 gate (Xen's fast system call). */
static void xen_load_idt(const void *p) {
  (void)p;
  static struct trap_info t[34];
  u32 n = 0;
  for (u32 v = 0; v < 32; v++) {
    if (v == 2 || v == 8 || v == 9 || v == 15 || v >= 20) continue; /* NMI, #DF: the VMM's */
    t[n++] = (struct trap_info){ (u8)v, TI_IF, SEL_KCODE | 1, vector_table[v] };
  }
  t[n++] = (struct trap_info){ VEC_SYSCALL, 3, SEL_KCODE | 1, vector_table[48] };
  t[n] = (struct trap_info){ 0, 0, 0, 0 };
  must(hc(HC_set_trap_table, t, 0), "set_trap_table");
}
static void xen_load_tr(u16 sel) { (void)sel; }
static void xen_load_esp0(u32 esp0) {
  struct multicall_entry *m = entry(HC_stack_switch);
  m->args[0] = SEL_KDATA | 1;
  m->args[1] = esp0;
  done();
}
static void xen_wrmsr(u32 msr, u64 v) { (void)msr; (void)v; }

/* ---- ports: with IOPL 1 (PHYSDEVOP_set_iopl) the hypervisor does IN/OUT for the
 * kernel; the interrupt controllers and the timer are its own, so JeOS leaves them. */
static int vmm_port(u16 p) {
  return p == 0x20 || p == 0x21 || p == 0xA0 || p == 0xA1 || (p >= 0x40 && p <= 0x43) ||
         p == 0x4D0 || p == 0x4D1;
}
static u8 xen_inb(u16 p) {
  if (vmm_port(p)) return 0xFF;
  u8 v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p));
  return v;
}
static void xen_outb(u16 p, u8 v) {
  if (vmm_port(p)) return;
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(p));
}

/* ---- console, events, shutdown ---- */

void xen_console_write(const char *s, u32 len) {
  char buf[512];
  u32 n = 0;
  for (u32 i = 0; i < len; i++) {
    if (n + 2 > sizeof buf) { hc4(HC_console_io, CONSOLEIO_write, n, (u32)buf, 0); n = 0; }
    if (s[i] == '\n') buf[n++] = '\r';
    buf[n++] = s[i];
  }
  if (n) hc4(HC_console_io, CONSOLEIO_write, n, (u32)buf, 0);
}

int xen_do_upcall(void) {
  int timer = 0;
  xen_vcpu->evtchn_upcall_pending = 0;
  u32 sel = __atomic_exchange_n(&xen_vcpu->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  while (sel) {
    u32 w = (u32)__builtin_ctz(sel);
    sel &= sel - 1;
    u32 pend = shared->evtchn_pending[w] & ~shared->evtchn_mask[w];
    while (pend) {
      u32 b = (u32)__builtin_ctz(pend);
      pend &= pend - 1;
      __atomic_fetch_and(&shared->evtchn_pending[w], ~(1u << b), __ATOMIC_SEQ_CST);
      if (w * 32 + b == timer_port) timer = 1;
    }
  }
  return timer;
}

void xen_shutdown(int crash) {
  u32 reason = crash ? SHUTDOWN_crash : SHUTDOWN_poweroff;
  for (;;) hc(HC_sched_op, SCHEDOP_shutdown, &reason);
}

extern void xen_hypervisor_callback(void), xen_failsafe_callback(void);
extern u8 trapret_iret[], xen_iret[];

void xen_init(const struct start_info *si) {
  if (si->magic[0] != 'x' || si->magic[1] != 'e' || si->magic[2] != 'n' || si->magic[3] != '-')
    xen_shutdown(1); /* entered at the PV entry without Xen's start_info: give up */
  u32 a, b, c, d;
  xen_cpuid(0x40000000, &a, &b, &c, &d);
  /* "XenVMMXenVMM" in EBX, ECX, EDX (arch-x86/cpuid.h XEN_CPUID_SIGNATURE_*) */
  if (b != 0x566E6558 || c != 0x65584D4D || d != 0x4D4D566E) xen_shutdown(1);
  xen_pv = 1;
  xen_pt_base = si->pt_base;
  /* The kernel's IRET back from a trap becomes a jump to xen_iret (entry.asm), which puts
   * the frame's IF into the upcall mask first. The text is writable to the kernel here. */
  u8 *at = trapret_iret;
  u32 rel = (u32)xen_iret - ((u32)at + 5);
  at[1] = (u8)rel; at[2] = (u8)(rel >> 8); at[3] = (u8)(rel >> 16); at[4] = (u8)(rel >> 24);
  __asm__ volatile("" ::: "memory");
  at[0] = 0xE9; /* JMP rel32 */
  cur_cr3 = si->pt_base;
  /* Map shared_info (Xen's guests do it with update_va_mapping). */
  if (hc4(HC_update_va_mapping, SHARED_INFO_VA, si->shared_info | PTE_P | PTE_W, 0, UVMF_INVLPG))
    xen_shutdown(1);
  shared = (struct shared_info *)SHARED_INFO_VA;
  xen_vcpu = &shared->vcpu[0];

  pv.name = "xen";
  pv.save_fl = xen_save_fl;
  pv.restore_fl = xen_restore_fl;
  pv.irq_disable = xen_irq_disable;
  pv.irq_enable = xen_irq_enable;
  pv.safe_halt = xen_safe_halt;
  pv.halt = xen_halt;
  pv.read_cr0 = xen_read_cr0;
  pv.write_cr0 = xen_write_cr0;
  pv.read_cr2 = xen_read_cr2;
  pv.read_cr3 = xen_read_cr3;
  pv.write_cr3 = xen_write_cr3;
  pv.set_pte = xen_set_pte;
  pv.invlpg = xen_invlpg;
  pv.lazy_mmu = xen_lazy_mmu;
  pv.alloc_pt = xen_alloc_pt;
  pv.release_pt = xen_release_pt;
  pv.load_gdt = xen_load_gdt;
  pv.load_idt = xen_load_idt;
  pv.load_tr = xen_load_tr;
  pv.load_esp0 = xen_load_esp0;
  pv.wrmsr = xen_wrmsr;
  pv.inb = xen_inb;
  pv.outb = xen_outb;
  /* inw/inl/outw/outl/insw/outsw stay the instructions: IOPL 1 lets the hypervisor do them. */

  u32 iopl = 1;
  must(hc(HC_physdev_op, PHYSDEVOP_set_iopl, &iopl), "physdev_op set_iopl");
  /* FLAT_RING1_CS (xen-x86_32.h): JeOS's own GDT is not given yet. */
  must(hc4(HC_set_callbacks, 0xE019, (u32)xen_hypervisor_callback, 0xE019,
           (u32)xen_failsafe_callback), "set_callbacks");
  struct { u32 virq, vcpu, port; } bind = { VIRQ_TIMER, 0, 0 };
  must(hc(HC_event_channel_op, EVTCHNOP_bind_virq, &bind), "bind_virq");
  timer_port = bind.port;
  u64 period = 1000000000ull / 100; /* HZ: the periodic timer in ns (vcpu.h) */
  must(hc4(HC_vcpu_op, VCPUOP_set_periodic_timer, 0, (u32)&period, 0), "vcpu_op periodic");
}
