/* Native implementations of the privileged operations, and hypervisor detection. */
#include "pvops.h"
#include "console.h"
#include "gdt.h"
#include "x86.h"
#include "xen.h"

struct pv_ops pv;
/* Beside the table: the hot paths that test it touch no other data page. */
u32 xen_pv;

static u32 native_save_fl(void) {
  u32 f;
  __asm__ volatile("pushfl; popl %0" : "=r"(f) : : "memory");
  return f;
}
/* POPF of the saved EFLAGS, as Linux's native_restore_fl. In ring 0 it restores IF; in a
 * deprivileged kernel (ring 1) POPF silently keeps IF: the sensitive-but-unprivileged
 * hole of Robin and Irvine, which a trap-and-emulate VMM must catch some other way. */
static void native_restore_fl(u32 f) { __asm__ volatile("pushl %0; popfl" : : "g"(f) : "memory", "cc"); }
static void native_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static void native_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
/* STI delays interrupts by one instruction (SDM vol. 2B, STI), so no interrupt can slip
 * in between the two and be missed by HLT. */
static void native_safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static void native_halt(void) { __asm__ volatile("hlt" ::: "memory"); }

static u32 native_read_cr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static void native_write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static u32 native_read_cr2(void) { u32 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static u32 native_read_cr3(void) { u32 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static void native_write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static void native_set_pte(u32 *e, u32 v) { *(volatile u32 *)e = v; }
static void native_invlpg(u32 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static void native_lazy_mmu(int on) { (void)on; }
static void native_alloc_pt(u32 pa, int level) { (void)pa; (void)level; }

static void native_load_gdt(const void *p) { __asm__ volatile("lgdt (%0)" : : "r"(p) : "memory"); }
static void native_load_idt(const void *p) { __asm__ volatile("lidt (%0)" : : "r"(p) : "memory"); }
static void native_load_tr(u16 sel) { __asm__ volatile("ltr %0" : : "r"(sel)); }
static void native_wrmsr(u32 msr, u64 v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}
static void native_load_esp0(u32 esp0) {
  tss_set_esp0(esp0);
  native_wrmsr(MSR_SYSENTER_ESP, esp0);
}

static u8 native_inb(u16 p) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static u16 native_inw(u16 p) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static u32 native_inl(u16 p) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static void native_outl(u16 p, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(p)); }
static void native_outb(u16 p, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(p)); }
static void native_outw(u16 p, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(p)); }
static void native_insw(u16 p, void *buf, u32 n) {
  __asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(n) : "d"(p) : "memory");
}
static void native_outsw(u16 p, const void *buf, u32 n) {
  __asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(n) : "d"(p) : "memory");
}

void pvops_init_native(void) {
  pv.name = "native";
  pv.save_fl = native_save_fl;
  pv.restore_fl = native_restore_fl;
  pv.irq_disable = native_irq_disable;
  pv.irq_enable = native_irq_enable;
  pv.safe_halt = native_safe_halt;
  pv.halt = native_halt;
  pv.read_cr0 = native_read_cr0;
  pv.write_cr0 = native_write_cr0;
  pv.read_cr2 = native_read_cr2;
  pv.read_cr3 = native_read_cr3;
  pv.write_cr3 = native_write_cr3;
  pv.set_pte = native_set_pte;
  pv.invlpg = native_invlpg;
  pv.lazy_mmu = native_lazy_mmu;
  pv.alloc_pt = native_alloc_pt;
  pv.release_pt = native_alloc_pt;
  pv.load_gdt = native_load_gdt;
  pv.load_idt = native_load_idt;
  pv.load_tr = native_load_tr;
  pv.load_esp0 = native_load_esp0;
  pv.wrmsr = native_wrmsr;
  pv.inb = native_inb;
  pv.inw = native_inw;
  pv.inl = native_inl;
  pv.outl = native_outl;
  pv.outb = native_outb;
  pv.outw = native_outw;
  pv.insw = native_insw;
  pv.outsw = native_outsw;
}

/* Copies a CPUID register's four bytes into s, printable characters only. */
static void sig_chars(char *s, u32 r) {
  for (int i = 0; i < 4; i++) {
    char c = (char)(r >> (8 * i));
    s[i] = (c >= 0x21 && c <= 0x7E) ? c : '.';
  }
}

void pvops_detect_hypervisor(void) {
  u32 a, b, c, d;
  char vendor[13], sig[13];
  cpuid(0, &a, &b, &c, &d);
  sig_chars(vendor, b); sig_chars(vendor + 4, d); sig_chars(vendor + 8, c);
  vendor[12] = 0;
  cpuid(1, &a, &b, &c, &d);
  /* CPUID.1:ECX bit 31 is reserved for hypervisors to announce themselves; leaf
   * 0x40000000 then gives the highest hypervisor leaf in EAX and a 12-byte signature in
   * EBX, ECX, EDX (the convention KVM, Xen, Hyper-V and VMware share). */
  u32 hv_bit = c >> 31, max_leaf = 0;
  memcpy(sig, "none", 5);
  /* Without the bit, leaf 0x40000000 is not defined (an Intel CPU answers with its
   * highest basic leaf's data), so it is read only when announced. */
  if (xen_pv) {
    /* A PV kernel's CPUID runs on the CPU; the hypervisor's leaves answer only through
     * the forced-emulation prefix (xen.c). Reaching xen_start was the announcement. */
    hv_bit = 1;
    xen_cpuid(0x40000000, &a, &b, &c, &d);
    sig_chars(sig, b); sig_chars(sig + 4, c); sig_chars(sig + 8, d);
    sig[12] = 0;
    max_leaf = a;
  } else if (hv_bit) {
    cpuid(0x40000000, &a, &b, &c, &d);
    sig_chars(sig, b); sig_chars(sig + 4, c); sig_chars(sig + 8, d);
    sig[12] = 0;
    max_leaf = a;
  }
  kprintf("info cpu vendor=%s hypervisor_bit=%u hv_max_leaf=0x%08x hv_signature=%s pvops=%s\n",
          vendor, hv_bit, max_leaf, sig, pv.name);
}
