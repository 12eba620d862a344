/* The table of privileged operations, after Linux's paravirt-ops. Every CR3 load, page
 * table write, TLB invalidation, interrupt-flag change and port access of the kernel goes
 * through `pv`. Boot fills it with the native instructions (pvops.c); a paravirtual
 * variant replaces the entries with hypercalls once it has found its hypervisor, and the
 * rest of the kernel does not change. */
#ifndef JEOS_PVOPS_H
#define JEOS_PVOPS_H
#include "../common/types.h"

struct pv_ops {
  const char *name;

  /* Interrupt masking (Linux pv_irq_ops). save_fl returns EFLAGS; restore_fl puts back
   * what save_fl returned (IF is the bit that matters). */
  u32 (*save_fl)(void);
  void (*restore_fl)(u32 flags);
  void (*irq_disable)(void);
  void (*irq_enable)(void);
  void (*safe_halt)(void); /* enable interrupts and halt until the next one, atomically */
  void (*halt)(void);

  /* MMU (Linux pv_mmu_ops). set_pte writes a page-directory or page-table entry. */
  u32 (*read_cr0)(void);
  void (*write_cr0)(u32 v);
  u32 (*read_cr2)(void);
  u32 (*read_cr3)(void);
  void (*write_cr3)(u32 pd_phys);
  void (*set_pte)(u32 *entry, u32 value);
  void (*invlpg)(u32 va);
  /* Lazy MMU mode (Linux's arch_enter/leave_lazy_mmu_mode): between on and off, set_pte
   * and invlpg may be deferred and batched; the entries written are not read back. */
  void (*lazy_mmu)(int on);
  /* A frame becomes a page table (level 1) or page directory (level 2), after it was
   * zeroed and before any entry names it; release_pt before it is freed (Linux's
   * pv_mmu_ops alloc_pte/alloc_pd and release_pte/release_pd). */
  void (*alloc_pt)(u32 pa, int level);
  void (*release_pt)(u32 pa, int level);

  /* CPU tables and the ring-0 stack (Linux pv_cpu_ops). */
  void (*load_gdt)(const void *pseudo_descriptor);
  void (*load_idt)(const void *pseudo_descriptor);
  void (*load_tr)(u16 selector);
  void (*load_esp0)(u32 esp0); /* TSS.ESP0 and IA32_SYSENTER_ESP */
  void (*wrmsr)(u32 msr, u64 value);

  /* Port I/O. */
  u8 (*inb)(u16 port);
  u16 (*inw)(u16 port);
  u32 (*inl)(u16 port);
  void (*outb)(u16 port, u8 v);
  void (*outw)(u16 port, u16 v);
  void (*outl)(u16 port, u32 v);
  void (*insw)(u16 port, void *buf, u32 words);
  void (*outsw)(u16 port, const void *buf, u32 words);
};

extern struct pv_ops pv;

/* Fills `pv` with the native operations. */
void pvops_init_native(void);

/* Looks for a hypervisor (CPUID leaf 1 ECX bit 31, then leaf 0x40000000; under the Xen
 * PV interface its leaves through the forced-emulation prefix) and prints what it found.
 * The Xen variant of the table (xen.c) is installed at the PV entry, before this. */
void pvops_detect_hypervisor(void);

#endif
