/* The 8259A programmable interrupt controller pair (Intel 8259A datasheet, "Programming
 * the 8259A": ICW1-ICW4 and OCW1-OCW3). */
#include "pic.h"
#include "pvops.h"
#include "x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1

#define ICW1_INIT_ICW4 0x11 /* ICW1: D4 = 1 (init), IC4 = 1 (ICW4 follows), edge, cascade */
#define ICW3_MASTER_SLAVE_ON_IR2 0x04 /* master: a slave on IR2 */
#define ICW3_SLAVE_ID 0x02            /* slave: cascade identity 2 */
#define ICW4_8086 0x01                /* ICW4: 8086/8088 mode, normal EOI */
#define OCW2_EOI 0x20                 /* non-specific EOI */
#define OCW3_READ_ISR 0x0B            /* the next read of the command port returns ISR */
#define CASCADE_IRQ 2

static u8 mask1 = 0xFF, mask2 = 0xFF;

void pic_init(void) {
  pv.outb(PIC1_CMD, ICW1_INIT_ICW4);
  pv.outb(PIC2_CMD, ICW1_INIT_ICW4);
  pv.outb(PIC1_DATA, VEC_IRQ0);      /* ICW2: vector base of IRQ 0-7 */
  pv.outb(PIC2_DATA, VEC_IRQ0 + 8);  /* ICW2: vector base of IRQ 8-15 */
  pv.outb(PIC1_DATA, ICW3_MASTER_SLAVE_ON_IR2);
  pv.outb(PIC2_DATA, ICW3_SLAVE_ID);
  pv.outb(PIC1_DATA, ICW4_8086);
  pv.outb(PIC2_DATA, ICW4_8086);
  mask1 = (u8)~(1u << CASCADE_IRQ);
  mask2 = 0xFF;
  pv.outb(PIC1_DATA, mask1); /* OCW1 */
  pv.outb(PIC2_DATA, mask2);
}

void pic_unmask(u32 irq) {
  if (irq < 8) {
    mask1 &= (u8)~(1u << irq);
    pv.outb(PIC1_DATA, mask1);
  } else {
    mask2 &= (u8)~(1u << (irq - 8));
    pv.outb(PIC2_DATA, mask2);
  }
}

int pic_is_real(u32 irq) {
  /* A line that drops before the INTA cycle makes the 8259A deliver IR7 with its ISR bit
   * clear (datasheet, "Interrupt sequence"); such an interrupt must not be EOIed (on the
   * slave it still needs the master's EOI for the cascade). */
  if (irq == 7) {
    pv.outb(PIC1_CMD, OCW3_READ_ISR);
    return (pv.inb(PIC1_CMD) & 0x80) != 0;
  }
  if (irq == 15) {
    pv.outb(PIC2_CMD, OCW3_READ_ISR);
    if (!(pv.inb(PIC2_CMD) & 0x80)) {
      pv.outb(PIC1_CMD, OCW2_EOI);
      return 0;
    }
  }
  return 1;
}

int pic_eoi(u32 irq) {
  if (irq >= 8) pv.outb(PIC2_CMD, OCW2_EOI);
  pv.outb(PIC1_CMD, OCW2_EOI);
  return 1;
}
