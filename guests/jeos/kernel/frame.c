/* Physical frame allocator: a stack of free frames, and a reference count per frame so a
 * page shared copy-on-write after fork is freed with its last mapping. */
#include "mm.h"
#include "console.h"
#include "x86.h"

#define MAX_FRAMES (KERNEL_MAP_LIMIT / PAGE_SIZE)

static u32 free_stack[MAX_FRAMES];
static u32 free_top, total;
static u16 refs[MAX_FRAMES];

void frames_init(u32 start, u32 end) {
  start = (start + PAGE_SIZE - 1) & PAGE_MASK;
  if (end > KERNEL_MAP_LIMIT) end = KERNEL_MAP_LIMIT;
  /* Push in descending order so allocation hands out ascending addresses. */
  for (u32 pa = end & PAGE_MASK; pa > start;) {
    pa -= PAGE_SIZE;
    free_stack[free_top++] = pa;
  }
  total = free_top;
}

u32 frame_alloc(void) {
  if (free_top == 0) return 0;
  u32 pa = free_stack[--free_top];
  refs[pa / PAGE_SIZE] = 1;
  return pa;
}

u32 frame_alloc_zeroed(void) {
  u32 pa = frame_alloc();
  if (pa) memset((void *)pa, 0, PAGE_SIZE);
  return pa;
}

void frame_ref(u32 pa) { refs[pa / PAGE_SIZE]++; }

void frame_unref(u32 pa) {
  u32 i = pa / PAGE_SIZE;
  if (i >= MAX_FRAMES || refs[i] == 0) panic("frame_unref of a free frame %p", (void *)pa);
  if (--refs[i] == 0) free_stack[free_top++] = pa & PAGE_MASK;
}

u32 frame_refcount(u32 pa) { return refs[pa / PAGE_SIZE]; }
u32 frames_free(void) { return free_top; }
u32 frames_total(void) { return total; }
