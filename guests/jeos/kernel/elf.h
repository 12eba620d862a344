#ifndef JEOS_ELF_H
#define JEOS_ELF_H
#include "../common/types.h"
/* Loads a 32-bit i386 executable into address space pd. Returns 0 and the entry point and
 * the image's bounds, or -1 when the file is malformed or memory runs out; every check is
 * against the file's size, so a bad image cannot make the kernel read past it. */
int elf_load(u32 pd, const u8 *img, u32 size, u32 *entry, u32 *lo, u32 *hi);
#endif
