#ifndef JEOS_INITRD_H
#define JEOS_INITRD_H
#include "../common/types.h"
/* The programs linked into the kernel image (initrd.asm), as ELF files. */
struct initrd_file {
  const char *name;
  const u8 *start;
  const u8 *end;
};
const struct initrd_file *initrd_find(const char *name);
#endif
