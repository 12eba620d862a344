/* JeOS as a Xen-style paravirtual guest (32-bit PV ABI, xen/include/public/xen.h). The
 * domain builder enters xen_start (boot.asm, named by the XEN_ELFNOTE_ENTRY note) in ring 1
 * with paging on and ESI = start_info; xen_init then checks the hypervisor and replaces
 * the pv-ops table with hypercalls. */
#ifndef JEOS_XEN_H
#define JEOS_XEN_H
#include "../common/types.h"

/* struct start_info (xen.h), the fields JeOS reads, x86_32 layout. */
struct start_info {
  char magic[32];          /* "xen-<version>-<platform>" */
  u32 nr_pages;            /* total pages of the domain */
  u32 shared_info;         /* machine address of the shared info frame */
  u32 flags;
  u32 store_mfn, store_evtchn, console_mfn, console_evtchn;
  u32 pt_base;             /* virtual address of the page directory */
  u32 nr_pt_frames;
  u32 mfn_list;
  u32 mod_start, mod_len;
  char cmd_line[1024];
};

/* 1 once xen_init has run: the kernel is a PV guest. Read by entry.asm's return path. */
extern u32 xen_pv;
/* The page directory the builder made (start_info.pt_base): the kernel's own. */
extern u32 xen_pt_base;

/* The vector trap_dispatch sees for an event upcall (not a CPU vector). */
#define VEC_XEN_UPCALL 0x81

void xen_init(const struct start_info *si);
/* Clears the pending events; 1 when VIRQ_TIMER was among them. */
int xen_do_upcall(void);
void xen_console_write(const char *s, u32 len);
void xen_shutdown(int crash) __attribute__((noreturn));
/* CPUID through Xen's forced-emulation prefix (arch-x86/xen.h XEN_EMULATE_PREFIX). */
void xen_cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d);

#endif
