#ifndef JEOS_SERIAL_H
#define JEOS_SERIAL_H
#include "../common/types.h"
void serial_init(void);
void serial_putc(char c);
#define SERIAL_IRQ 4
/* Turns on the receive interrupt (IRQ 4); bytes then queue until read. */
void serial_enable_input(void);
void serial_interrupt(void);
/* Blocks until at least one byte has arrived; returns how many were copied (up to len),
 * or -1 if the process was killed while waiting. */
int serial_read(u8 *buf, u32 len);
#endif
