#ifndef JEOS_PIT_H
#define JEOS_PIT_H
#include "../common/types.h"
#define HZ 100
/* Programs channel 0 to interrupt HZ times a second on IRQ 0. */
void pit_init(void);
extern volatile u32 ticks;
#endif
