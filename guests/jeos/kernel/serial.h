#ifndef JEOS_SERIAL_H
#define JEOS_SERIAL_H
#include "../common/types.h"
void serial_init(void);
void serial_putc(char c);
#endif
