#ifndef JEOS_GDT_H
#define JEOS_GDT_H
#include "../common/types.h"
/* Loads the kernel's GDT (flat ring-0 and ring-3 segments) and its TSS. */
void gdt_init(void);
/* The ring-0 stack the CPU switches to on an interrupt from ring 3. */
void tss_set_esp0(u32 esp0);
#endif
