/* An ELF loader for the embedded programs (System V ABI, "ELF Header" and "Program
 * Header"; the i386 supplement for EM_386). */
#include "elf.h"
#include "console.h"
#include "mm.h"
#include "x86.h"

#define EI_CLASS_32 1
#define EI_DATA_LSB 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define PHF_W 2 /* p_flags: writable */

struct elf_header {
  u8 ident[16];
  u16 type, machine;
  u32 version, entry, phoff, shoff, flags;
  u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_phdr {
  u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

int elf_load(u32 pd, const u8 *img, u32 size, u32 *entry, u32 *lo, u32 *hi) {
  const struct elf_header *h = (const void *)img;
  if (size < sizeof *h || memcmp(h->ident, "\177ELF", 4) != 0 || h->ident[4] != EI_CLASS_32 ||
      h->ident[5] != EI_DATA_LSB || h->type != ET_EXEC || h->machine != EM_386 ||
      h->phentsize != sizeof(struct elf_phdr) || h->phoff > size ||
      (u32)h->phnum * sizeof(struct elf_phdr) > size - h->phoff) {
    kprintf("elf: not a 32-bit i386 executable\n");
    return -1;
  }
  u32 low = 0xFFFFFFFFu, high = 0;
  for (u32 n = 0; n < h->phnum; n++) {
    const struct elf_phdr *ph = (const void *)(img + h->phoff + n * sizeof *ph);
    if (ph->type != PT_LOAD) continue;
    if (ph->filesz > ph->memsz || ph->offset > size || ph->filesz > size - ph->offset ||
        ph->vaddr < USER_BASE || ph->memsz > USER_TOP - USER_STACK_SIZE - ph->vaddr) {
      kprintf("elf: segment %u out of bounds\n", n);
      return -1;
    }
    u32 flags = PTE_U | ((ph->flags & PHF_W) ? PTE_W : 0);
    for (u32 va = ph->vaddr & PAGE_MASK; va < ph->vaddr + ph->memsz; va += PAGE_SIZE) {
      u32 *pte = as_walk(pd, va, 1);
      if (!pte) return -1;
      if (!(*pte & PTE_P)) {
        u32 pa = frame_alloc_zeroed();
        if (!pa) return -1;
        if (as_map(pd, va, pa, flags) < 0) return -1;
      } else if (flags & PTE_W) {
        /* Two segments share this page: the more permissive rights win. */
        if (as_map(pd, va, *pte & PAGE_MASK, (*pte & 0xFFF) | flags) < 0) return -1;
      }
      /* Copy the part of the file that falls into this page, through the identity map. */
      u32 page_pa = *pte & PAGE_MASK;
      u32 seg_from = va < ph->vaddr ? ph->vaddr : va;
      u32 seg_to = va + PAGE_SIZE < ph->vaddr + ph->filesz ? va + PAGE_SIZE : ph->vaddr + ph->filesz;
      if (seg_from < seg_to)
        memcpy((void *)(page_pa + (seg_from - va)), img + ph->offset + (seg_from - ph->vaddr),
               seg_to - seg_from);
    }
    if (ph->vaddr < low) low = ph->vaddr;
    if (ph->vaddr + ph->memsz > high) high = ph->vaddr + ph->memsz;
  }
  if (high == 0 || h->entry < low || h->entry >= high) {
    kprintf("elf: no loadable segment holds the entry point\n");
    return -1;
  }
  *entry = h->entry;
  *lo = low;
  *hi = high;
  return 0;
}
