/* The 8254 programmable interval timer, channel 0 (Intel 8254 datasheet, "Control Word
 * Format" and "Mode 2"). */
#include "pit.h"
#include "pvops.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_INPUT_HZ 1193182u /* the PC's PIT input clock (14.31818 MHz / 12) */
/* Control word: SC = 00 (channel 0), RW = 11 (low byte then high byte), M = 010 (mode 2,
 * rate generator), BCD = 0. */
#define PIT_CH0_LOHI_MODE2 0x34

volatile u32 ticks;

void pit_init(void) {
  u32 divisor = (PIT_INPUT_HZ + HZ / 2) / HZ; /* 11932 for 100 Hz */
  pv.outb(PIT_CMD, PIT_CH0_LOHI_MODE2);
  pv.outb(PIT_CH0, (u8)divisor);
  pv.outb(PIT_CH0, (u8)(divisor >> 8));
}
