/* 32-bit paging with 4 KiB pages (SDM vol. 3A, 4.3). Every address space shares the
 * kernel's page tables for its first KERNEL_PDES directory entries (supervisor-only
 * identity map); the rest is the process's own. All entry writes go through
 * pv.set_pte, all CR3 loads through pv.write_cr3, all invalidations through pv.invlpg. */
#include "mm.h"
#include "console.h"
#include "pvops.h"
#include "x86.h"
#include "xen.h"

static u32 native_pd[1024] __attribute__((aligned(4096)));
static u32 native_pt[KERNEL_PDES][1024] __attribute__((aligned(4096)));
/* The kernel's tables: the ones above natively; under Xen the builder's (start_info
 * pt_base), which map the domain's memory the same way and are already read-only. */
static u32 *kernel_pd;
static u32 *kernel_pt[KERNEL_PDES];

/* The directory slots of the user part: under Xen the slots from 1008 on are the
 * hypervisor's (its 64 MiB at 0xFC000000), so walks of a whole address space stop at the
 * user top. */
#define USER_PDE_END (USER_TOP >> 22)
#define PDE_USER_TABLE (PTE_P | PTE_W | PTE_U) /* the PTEs decide the real rights */

void paging_init(void) {
  if (xen_pv) {
    kernel_pd = (u32 *)xen_pt_base;
    for (u32 t = 0; t < KERNEL_PDES; t++) {
      if (!(kernel_pd[t] & PTE_P)) panic("xen: the builder's tables end below %u MiB", t * 4);
      kernel_pt[t] = (u32 *)(kernel_pd[t] & PAGE_MASK);
    }
    return;
  }
  kernel_pd = native_pd;
  for (u32 t = 0; t < KERNEL_PDES; t++) {
    kernel_pt[t] = native_pt[t];
    for (u32 i = 0; i < 1024; i++) {
      u32 pa = (t * 1024 + i) * PAGE_SIZE;
      /* Page 0 stays unmapped so that a null pointer faults. */
      pv.set_pte(&kernel_pt[t][i], pa == 0 ? 0 : pa | PTE_P | PTE_W);
    }
    pv.set_pte(&kernel_pd[t], (u32)kernel_pt[t] | PTE_P | PTE_W);
  }
  pv.write_cr3((u32)kernel_pd);
  pv.write_cr0(pv.read_cr0() | CR0_PG | CR0_WP);
}

u32 *kernel_pte(u32 va) {
  if (va >= KERNEL_MAP_LIMIT) return NULL;
  return &kernel_pt[va >> 22][(va >> 12) & 1023];
}

void as_activate(u32 pd) { pv.write_cr3(pd); }

static int is_current(u32 pd) { return (pv.read_cr3() & PAGE_MASK) == pd; }

u32 as_create(void) {
  u32 *pd = (u32 *)frame_alloc_zeroed();
  if (!pd) return 0;
  pv.lazy_mmu(1);
  pv.alloc_pt((u32)pd, 2);
  for (u32 t = 0; t < KERNEL_PDES; t++) pv.set_pte(&pd[t], kernel_pd[t]);
  pv.lazy_mmu(0);
  return (u32)pd;
}

u32 *as_walk(u32 pd, u32 va, int create) {
  u32 *pde = &((u32 *)pd)[va >> 22];
  if (!(*pde & PTE_P)) {
    if (!create) return NULL;
    u32 pt = frame_alloc_zeroed();
    if (!pt) return NULL;
    pv.alloc_pt(pt, 1);
    pv.set_pte(pde, pt | PDE_USER_TABLE);
  }
  return &((u32 *)(*pde & PAGE_MASK))[(va >> 12) & 1023];
}

int as_map(u32 pd, u32 va, u32 pa, u32 flags) {
  u32 *pte = as_walk(pd, va, 1);
  if (!pte) return -1;
  pv.set_pte(pte, (pa & PAGE_MASK) | flags | PTE_P);
  return 0;
}

int as_fork(u32 parent_pd, u32 *child_pd) {
  u32 child = as_create();
  if (!child) return -1;
  u32 *ppd = (u32 *)parent_pd, *cpd = (u32 *)child;
  pv.lazy_mmu(1);
  for (u32 t = KERNEL_PDES; t < USER_PDE_END; t++) {
    if (!(ppd[t] & PTE_P)) continue;
    u32 *cpt = (u32 *)frame_alloc_zeroed();
    if (!cpt) {
      pv.lazy_mmu(0);
      as_destroy(child);
      return -1;
    }
    pv.alloc_pt((u32)cpt, 1);
    pv.set_pte(&cpd[t], (u32)cpt | PDE_USER_TABLE);
    u32 *ppt = (u32 *)(ppd[t] & PAGE_MASK);
    for (u32 i = 0; i < 1024; i++) {
      u32 e = ppt[i];
      if (!(e & PTE_P)) continue;
      if (e & (PTE_W | PTE_COW)) {
        /* Both sides lose write access; the first writer gets a copy (as_cow_fault). */
        e = (e & ~PTE_W) | PTE_COW;
        pv.set_pte(&ppt[i], e);
      }
      pv.set_pte(&cpt[i], e);
      frame_ref(e & PAGE_MASK);
    }
  }
  pv.lazy_mmu(0);
  /* The parent's writable translations may be cached: flush them all at once. */
  if (is_current(parent_pd)) pv.write_cr3(parent_pd);
  *child_pd = child;
  return 0;
}

void as_unmap_range(u32 pd, u32 lo, u32 hi) {
  int current = is_current(pd);
  pv.lazy_mmu(1);
  for (u32 va = lo & PAGE_MASK; va < hi; va += PAGE_SIZE) {
    u32 *pde = &((u32 *)pd)[va >> 22];
    if (!(*pde & PTE_P)) {
      va = (va & 0xFFC00000u) + (1u << 22) - PAGE_SIZE; /* skip the empty 4 MiB */
      if (va + PAGE_SIZE == 0) break;
      continue;
    }
    u32 *pte = &((u32 *)(*pde & PAGE_MASK))[(va >> 12) & 1023];
    if (*pte & PTE_P) {
      u32 pa = *pte & PAGE_MASK;
      pv.set_pte(pte, 0);
      if (current) pv.invlpg(va);
      frame_unref(pa);
    }
  }
  pv.lazy_mmu(0);
}

void as_destroy(u32 pd) {
  if (is_current(pd)) panic("as_destroy of the active address space");
  u32 *d = (u32 *)pd;
  pv.lazy_mmu(1);
  pv.release_pt(pd, 2); /* unpinned: its tables are no page tables any more either */
  for (u32 t = KERNEL_PDES; t < USER_PDE_END; t++) {
    if (!(d[t] & PTE_P)) continue;
    u32 *pt = (u32 *)(d[t] & PAGE_MASK);
    for (u32 i = 0; i < 1024; i++)
      if (pt[i] & PTE_P) frame_unref(pt[i] & PAGE_MASK);
    pv.release_pt((u32)pt, 1);
    frame_unref((u32)pt);
  }
  frame_unref(pd);
  pv.lazy_mmu(0); /* before anything can allocate the frames freed above */
}

int as_cow_fault(u32 pd, u32 va) {
  u32 *pte = as_walk(pd, va, 0);
  if (!pte || !(*pte & PTE_P) || !(*pte & PTE_COW)) return -1;
  u32 e = *pte, pa = e & PAGE_MASK;
  pv.lazy_mmu(1); /* the update and the invalidation in one hypercall */
  if (frame_refcount(pa) == 1) {
    /* The other sharers are gone: take the page back. */
    pv.set_pte(pte, (e | PTE_W) & ~PTE_COW);
  } else {
    u32 copy = frame_alloc();
    if (!copy) {
      pv.lazy_mmu(0);
      return -1;
    }
    memcpy((void *)copy, (const void *)pa, PAGE_SIZE);
    pv.set_pte(pte, copy | ((e | PTE_W) & ~PTE_COW & ~PAGE_MASK));
    frame_unref(pa);
  }
  pv.invlpg(va & PAGE_MASK);
  pv.lazy_mmu(0);
  return 0;
}
