/* COM1, a 16550A UART at 0x3F8, driven by polling (National Semiconductor PC16550D
 * datasheet, "Registers"). */
#include "serial.h"
#include "pic.h"
#include "proc.h"
#include "pvops.h"

#define COM1 0x3F8
#define UART_THR 0 /* transmit holding register (DLAB = 0) */
#define UART_IER 1 /* interrupt enable (DLAB = 0) */
#define UART_DLL 0 /* divisor latch, low byte (DLAB = 1) */
#define UART_DLM 1 /* divisor latch, high byte (DLAB = 1) */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_RBR 0 /* receive buffer (DLAB = 0, read) */

#define LCR_8N1  0x03 /* 8 data bits, no parity, 1 stop bit */
#define LCR_DLAB 0x80 /* divisor latch access */
#define FCR_ENABLE_CLEAR 0x07 /* enable FIFOs, clear receive and transmit FIFOs */
#define MCR_DTR_RTS_OUT2 0x0B /* OUT2 gates the UART's interrupt line on a PC */
#define LSR_THRE 0x20 /* transmit holding register empty */
#define LSR_DR 0x01   /* data ready */
#define IER_ERBFI 0x01 /* interrupt when received data is available */

#define RX_SIZE 256
static volatile u8 rx[RX_SIZE];
static volatile u32 rx_head, rx_tail; /* free-running; head - tail bytes queued */

void serial_init(void) {
  pv.outb(COM1 + UART_IER, 0x00);
  pv.outb(COM1 + UART_LCR, LCR_DLAB);
  pv.outb(COM1 + UART_DLL, 1); /* 115200 baud: 1.8432 MHz / (16 * 1) */
  pv.outb(COM1 + UART_DLM, 0);
  pv.outb(COM1 + UART_LCR, LCR_8N1);
  pv.outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
  pv.outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
}

void serial_putc(char c) {
  /* Bounded wait: a missing or stuck UART must not hang the kernel forever. */
  for (int i = 0; i < 100000; i++)
    if (pv.inb(COM1 + UART_LSR) & LSR_THRE) break;
  pv.outb(COM1 + UART_THR, (u8)c);
}

void serial_enable_input(void) {
  pv.outb(COM1 + UART_IER, IER_ERBFI);
  pic_unmask(SERIAL_IRQ);
}

void serial_interrupt(void) {
  /* Drain the FIFO: reading RBR until LSR.DR clears also clears the interrupt. */
  for (int i = 0; i < 64 && (pv.inb(COM1 + UART_LSR) & LSR_DR); i++) {
    u8 c = pv.inb(COM1 + UART_RBR);
    if (rx_head - rx_tail < RX_SIZE) rx[rx_head++ % RX_SIZE] = c; /* else dropped */
  }
  wakeup((const void *)&rx_head);
}

int serial_read(u8 *buf, u32 len) {
  for (;;) {
    pv.irq_disable();
    if (current->killed) {
      pv.irq_enable();
      return -1;
    }
    if (rx_head != rx_tail) break;
    sleep_on((const void *)&rx_head);
  }
  u32 n = 0;
  while (n < len && rx_head != rx_tail) buf[n++] = rx[rx_tail++ % RX_SIZE];
  pv.irq_enable();
  return (int)n;
}
