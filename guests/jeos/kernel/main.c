/* kmain: from the multiboot entry to the first process. */
#include "console.h"
#include "gdt.h"
#include "ide.h"
#include "idt.h"
#include "mm.h"
#include "multiboot.h"
#include "pci.h"
#include "pic.h"
#include "pit.h"
#include "proc.h"
#include "pvops.h"
#include "serial.h"
#include "syscall.h"
#include "workloads.h"
#include "x86.h"
#include "xen.h"
#include "blkfront.h"

extern u8 _end[]; /* linker.ld: the end of the kernel image and its BSS */

static char cmdline[256];

/* CPUID.1:EDX features the kernel cannot run without (SDM vol. 2A, CPUID, table 3-11). */
static void require_cpu_features(void) {
  static const struct { u32 bit; const char *name; } need[] = {
    { 4, "tsc" }, { 5, "msr" }, { 11, "sep" }, { 15, "cmov" },
  };
  u32 a, b, c, d, missing = 0;
  cpuid(0, &a, &b, &c, &d);
  if (a >= 1) cpuid(1, &a, &b, &c, &d);
  else d = 0;
  for (u32 i = 0; i < sizeof need / sizeof need[0]; i++) {
    if (d & (1u << need[i].bit)) continue;
    kprintf("jeos missing CPU feature %s (CPUID.1:EDX bit %u)\n", need[i].name, need[i].bit);
    missing++;
  }
  if (missing) panic("this CPU lacks what JeOS needs (a P6-class CPU with SYSENTER)");
}

/* The end of the RAM that starts at 1 MiB, from the memory map when there is one, else
 * from mem_upper. The spec promises mem_upper to a kernel that sets header bit 1, but
 * some loaders (v86's) give only the map. 0 when neither is present. */
static u32 memory_top(const struct multiboot_info *mbi, const char **source) {
  if (mbi->flags & MBI_MMAP) {
    u32 p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
    while (p + sizeof(struct multiboot_mmap_entry) <= end) {
      const struct multiboot_mmap_entry *e = (const void *)p;
      u64 base = ((u64)e->base_hi << 32) | e->base_lo, len = ((u64)e->len_hi << 32) | e->len_lo;
      if (e->type == MMAP_AVAILABLE && base <= (1u << 20) && base + len > (1u << 20)) {
        *source = "mmap";
        return base + len > 0xFFFFF000u ? 0xFFFFF000u : (u32)(base + len);
      }
      p += e->size + 4;
    }
  }
  if (mbi->flags & MBI_MEM) {
    *source = "mem_upper";
    return (1u << 20) + mbi->mem_upper * 1024u;
  }
  return 0;
}

static void start_kernel(u32 mem_top, const char *mem_source, u32 first_free)
    __attribute__((noreturn));

void kmain(u32 magic, const struct multiboot_info *mbi) {
  pvops_init_native();
  serial_init();
  kprintf("jeos boot\n");
  if (magic != MULTIBOOT_BOOTLOADER_MAGIC) panic("not started by a multiboot loader (EAX=%p)", (void *)magic);
  require_cpu_features();

  /* Everything the loader handed over lies below KERNEL_MAP_LIMIT, so it stays reachable
   * after paging is on; copy the command line anyway, the loader's memory gets reused. */
  const char *mem_source = "none";
  u32 mem_top = memory_top(mbi, &mem_source), first_free = (u32)_end;
  if (mbi->flags & MBI_CMDLINE) {
    const char *s = (const char *)mbi->cmdline;
    u32 i = 0;
    for (; s[i] && i < sizeof cmdline - 1; i++) cmdline[i] = s[i];
    cmdline[i] = 0;
  }
  if (mbi->flags & MBI_MODS) {
    const struct multiboot_module *m = (const void *)mbi->mods_addr;
    for (u32 i = 0; i < mbi->mods_count; i++)
      if (m[i].mod_end > first_free) first_free = m[i].mod_end;
  }
  start_kernel(mem_top, mem_source, first_free);
}

/* The PV entry (boot.asm xen_start): start_info instead of the multiboot information, the
 * builder's bootstrap area ending at boot_end. */
void xen_kmain(const struct start_info *si, u32 boot_end) {
  pvops_init_native();
  xen_init(si);
  serial_init();
  kprintf("jeos boot\n");
  require_cpu_features();
  u32 i = 0;
  for (; si->cmd_line[i] && i < sizeof cmdline - 1; i++) cmdline[i] = si->cmd_line[i];
  cmdline[i] = 0;
  /* The last two pages of the kernel map hold shared_info (xen.c) and the grant table
   * (blkfront.c). */
  u32 mem_top = si->nr_pages * PAGE_SIZE;
  if (mem_top > KERNEL_MAP_LIMIT - 2 * PAGE_SIZE) mem_top = KERNEL_MAP_LIMIT - 2 * PAGE_SIZE;
  /* Above the bootstrap stack, and in any case above the bootstrap tables. */
  u32 first_free = si->pt_base + si->nr_pt_frames * PAGE_SIZE;
  if (boot_end > first_free) first_free = boot_end;
  start_kernel(mem_top, "start_info", (first_free + PAGE_SIZE - 1) & PAGE_MASK);
}

static void start_kernel(u32 mem_top, const char *mem_source, u32 first_free) {
  if (mem_top < (6u << 20)) panic("needs at least 6 MiB of memory (found %u KiB from %s)", mem_top >> 10, mem_source);

  gdt_init();
  idt_init();
  pic_init();
  pit_init();
  frames_init(first_free, mem_top);
  paging_init();
  sysenter_init();
  pvops_detect_hypervisor();
  kprintf("info mem top_kib=%u source=%s frames=%u\n", mem_top >> 10, mem_source, frames_total());
  pci_scan();
  wl_configure(cmdline);
  if (cmdline_shell()) serial_enable_input();
  ide_init();
  /* Under Xen the disk's data goes through blkfront (IDENTIFY above gave its size). */
  if (xen_pv && ide_present()) blkfront_init();

  proc_init(pv.read_cr3());
  if (proc_spawn("init") != INIT_PID) panic("cannot start init");
  pic_unmask(0);
  kprintf("jeos paging=on hz=%u init=started\n", HZ);
  idle_loop();
}
