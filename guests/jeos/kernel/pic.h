#ifndef JEOS_PIC_H
#define JEOS_PIC_H
#include "../common/types.h"
/* Remaps the 8259A pair to vectors 0x20-0x2F and masks every line but the cascade. */
void pic_init(void);
void pic_unmask(u32 irq);
/* Ends an interrupt; returns 0 when it was spurious (nothing to handle). */
int pic_eoi(u32 irq);
/* Returns 0 for a spurious IRQ 7 or 15 (ISR bit clear); such an IRQ gets no handler. */
int pic_is_real(u32 irq);
#endif
