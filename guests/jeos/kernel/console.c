/* The kernel console (COM1), panics, and leaving the machine through isa-debug-exit. */
#include "console.h"
#include "pvops.h"
#include "serial.h"

#define DEBUG_EXIT_PORT 0xF4 /* QEMU -device isa-debug-exit,iobase=0xf4,iosize=0x04 */

void console_write(const char *s, u32 len) {
  for (u32 i = 0; i < len; i++) {
    if (s[i] == '\n') serial_putc('\r');
    serial_putc(s[i]);
  }
}

void kprintf(const char *f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  int n = vfmt(buf, sizeof buf, f, ap);
  va_end(ap);
  console_write(buf, (u32)n);
}

void panic(const char *f, ...) {
  char buf[256];
  va_list ap;
  pv.irq_disable();
  va_start(ap, f);
  int n = vfmt(buf, sizeof buf, f, ap);
  va_end(ap);
  console_write("panic: ", 7);
  console_write(buf, (u32)n);
  console_write("\n", 1);
  machine_exit(EXIT_PANIC);
}

void machine_exit(u8 code) {
  kprintf("jeos exit code=%u\n", code);
  pv.outb(DEBUG_EXIT_PORT, code);
  /* No debug-exit device: stop here with interrupts off. */
  for (;;) {
    pv.irq_disable();
    pv.halt();
  }
}
