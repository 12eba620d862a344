#ifndef JEOS_IDT_H
#define JEOS_IDT_H
/* Fills and loads the IDT: exceptions 0-31, the remapped IRQs 32-47, and int 0x80. */
void idt_init(void);
#endif
