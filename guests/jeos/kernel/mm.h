/* Physical frames and address spaces. */
#ifndef JEOS_MM_H
#define JEOS_MM_H
#include "../common/types.h"

/* The kernel identity-maps physical memory up to this limit, supervisor-only, in every
 * address space; it uses no memory above it. 8 page tables of 4 KiB pages. */
#define KERNEL_MAP_LIMIT (32u << 20)
#define KERNEL_PDES (KERNEL_MAP_LIMIT >> 22)

/* The user part of every address space. */
#define USER_BASE 0x08000000u
#define USER_STACK_TOP 0xC0000000u
#define USER_STACK_SIZE (1u << 20)
#define USER_TOP USER_STACK_TOP

/* frame.c: a stack of free 4 KiB frames with a reference count each (for copy-on-write). */
void frames_init(u32 start, u32 end);
u32 frame_alloc(void);      /* physical address, 0 when memory is exhausted */
u32 frame_alloc_zeroed(void);
void frame_ref(u32 pa);
void frame_unref(u32 pa);   /* frees the frame when the last reference goes */
u32 frame_refcount(u32 pa);
u32 frames_free(void);
u32 frames_total(void);

/* paging.c */
void paging_init(void);
u32 *kernel_pte(u32 va);                       /* the PTE of a kernel (identity) page */
u32 as_create(void);                           /* new page directory, 0 on exhaustion */
u32 *as_walk(u32 pd, u32 va, int create);      /* the PTE for va, or NULL */
int as_map(u32 pd, u32 va, u32 pa, u32 flags); /* 0, or -1 on exhaustion */
int as_fork(u32 parent_pd, u32 *child_pd);     /* copy-on-write clone of the user part */
void as_unmap_range(u32 pd, u32 lo, u32 hi);   /* frees the user pages in [lo, hi) */
void as_destroy(u32 pd);
/* Resolves a write to a copy-on-write page; 0 when done, -1 when va is no COW page or
 * memory is exhausted. */
int as_cow_fault(u32 pd, u32 va);
void as_activate(u32 pd);

#endif
