/* kmain: from the multiboot entry to the first process. */
#include "console.h"
#include "gdt.h"
#include "ide.h"
#include "idt.h"
#include "mm.h"
#include "multiboot.h"
#include "pic.h"
#include "pit.h"
#include "proc.h"
#include "pvops.h"
#include "serial.h"
#include "syscall.h"
#include "workloads.h"
#include "x86.h"

extern u8 _end[]; /* linker.ld: the end of the kernel image and its BSS */

static char cmdline[256];

void kmain(u32 magic, const struct multiboot_info *mbi) {
  pvops_init_native();
  serial_init();
  kprintf("jeos boot\n");
  if (magic != MULTIBOOT_BOOTLOADER_MAGIC) panic("not started by a multiboot loader (EAX=%p)", (void *)magic);

  /* Everything the loader handed over lies below KERNEL_MAP_LIMIT, so it stays reachable
   * after paging is on; copy the command line anyway, the loader's memory gets reused. */
  u32 mem_top = 0, first_free = (u32)_end;
  if (mbi->flags & MBI_MEM) mem_top = (1u << 20) + mbi->mem_upper * 1024u;
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
  if (mem_top < (8u << 20)) panic("needs at least 8 MiB of memory (mem_upper=%u KiB)", mbi->mem_upper);

  gdt_init();
  idt_init();
  pic_init();
  pit_init();
  frames_init(first_free, mem_top);
  paging_init();
  sysenter_init();
  pvops_detect_hypervisor();
  kprintf("info mem upper_kib=%u frames=%u\n", mbi->mem_upper, frames_total());
  wl_configure(cmdline);
  ide_init();

  proc_init(pv.read_cr3());
  if (proc_spawn("init") != INIT_PID) panic("cannot start init");
  pic_unmask(0);
  kprintf("jeos paging=on hz=%u init=started\n", HZ);
  idle_loop();
}
