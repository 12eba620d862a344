/* The global descriptor table and the task-state segment (SDM vol. 3A, 3.4.5 and 7.2). */
#include "gdt.h"
#include "pvops.h"
#include "x86.h"
#include "xen.h"

/* Segment descriptor access bytes (SDM vol. 3A, 3.4.5, figure 3-8): P, DPL, S, type. */
#define ACC_KCODE 0x9A /* present, DPL 0, code, execute/read */
#define ACC_KDATA 0x92 /* present, DPL 0, data, read/write */
#define ACC_UCODE 0xFA /* present, DPL 3, code, execute/read */
#define ACC_UDATA 0xF2 /* present, DPL 3, data, read/write */
#define ACC_TSS   0x89 /* present, DPL 0, 32-bit available TSS (SDM 7.2.2) */
#define FLAGS_4K_32 0xC /* G = 4 KiB granularity, D/B = 32-bit */

/* The 32-bit TSS (SDM vol. 3A, 7.2.1, figure 7-2). Only SS0:ESP0 and the I/O map base are
 * used; the I/O map base points past the limit, so there is no I/O permission bitmap and
 * ring 3 (IOPL 0) may touch no port. */
struct tss {
  u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
  u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
  u32 es, cs, ss, ds, fs, gs, ldt;
  u16 trap, iomap_base;
} __attribute__((packed));

/* Page-aligned: under Xen the GDT is given to set_gdt by frame. */
static u64 gdt[6] __attribute__((aligned(4096)));
static struct tss tss;

struct pseudo_descriptor {
  u16 limit;
  u32 base;
} __attribute__((packed));

static u64 descriptor(u32 base, u32 limit, u8 access, u8 flags) {
  u64 d = limit & 0xFFFF;
  d |= (u64)(base & 0xFFFFFF) << 16;
  d |= (u64)access << 40;
  d |= (u64)((limit >> 16) & 0xF) << 48;
  d |= (u64)(flags & 0xF) << 52;
  d |= (u64)(base >> 24) << 56;
  return d;
}

void gdt_init(void) {
  gdt[0] = 0;
  gdt[SEL_KCODE >> 3] = descriptor(0, 0xFFFFF, ACC_KCODE, FLAGS_4K_32);
  gdt[SEL_KDATA >> 3] = descriptor(0, 0xFFFFF, ACC_KDATA, FLAGS_4K_32);
  gdt[SEL_UCODE >> 3] = descriptor(0, 0xFFFFF, ACC_UCODE, FLAGS_4K_32);
  gdt[SEL_UDATA >> 3] = descriptor(0, 0xFFFFF, ACC_UDATA, FLAGS_4K_32);
  static struct pseudo_descriptor gdtr;
  gdtr.base = (u32)gdt;
  if (xen_pv) {
    /* The hypervisor owns the TSS and the CPU's segments: JeOS's descriptors (DPL 0 ones
     * become DPL 1) serve int 0x80, the trap frames and ring 3; the segment registers
     * keep the builder's flat ring-1 selectors until the first trap reloads them. */
    gdtr.limit = SEL_TSS - 1;
    pv.load_gdt(&gdtr);
    return;
  }
  gdt[SEL_TSS >> 3] = descriptor((u32)&tss, sizeof tss - 1, ACC_TSS, 0);
  tss.ss0 = SEL_KDATA;
  tss.iomap_base = sizeof tss;
  gdtr.limit = sizeof gdt - 1;
  pv.load_gdt(&gdtr);
  /* Reload every segment register so the new descriptors take effect. */
  __asm__ volatile(
      "ljmp %0, $1f\n1:\n"
      "mov %1, %%ds\n mov %1, %%es\n mov %1, %%fs\n mov %1, %%gs\n mov %1, %%ss\n"
      : : "i"(SEL_KCODE), "r"(SEL_KDATA) : "memory");
  pv.load_tr(SEL_TSS);
}

void tss_set_esp0(u32 esp0) { tss.esp0 = esp0; }
