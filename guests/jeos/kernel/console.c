/* The kernel console (COM1), panics, and leaving the machine: powered off (ACPI S5) when
 * every check passed, through isa-debug-exit with the failure's code otherwise. */
#include "console.h"
#include "pci.h"
#include "pvops.h"
#include "serial.h"
#include "xen.h"

#define DEBUG_EXIT_PORT 0xF4 /* QEMU -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
/* PM1_CNT (ACPI 6.x, 4.8.3.2.1): SLP_EN (bit 13) enters the sleep state SLP_TYP (bits
 * 12:10) says; QEMU's tables give S5 (soft off) type 0. */
#define PM1_SLP_EN (1u << 13)
#define PM1_SLP_TYP_S5 (0u << 10)

void console_write(const char *s, u32 len) {
  if (xen_pv) { /* the hypervisor's console (console_io), a line at a time */
    xen_console_write(s, len);
    return;
  }
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

static __attribute__((noreturn)) void halt_forever(void) {
  for (;;) {
    pv.irq_disable();
    pv.halt();
  }
}

void machine_exit(u8 code) {
  kprintf("jeos exit code=%u\n", code);
  if (xen_pv) xen_shutdown(code != EXIT_OK); /* SCHEDOP_shutdown: poweroff or crash */
  if (code == EXIT_OK) {
    /* All passed: power off, which ends QEMU (and wasmvisor) with status 0. */
    u16 cnt = pci_pm1a_cnt();
    if (cnt) {
      pv.outw(cnt, (u16)(PM1_SLP_EN | PM1_SLP_TYP_S5));
      /* The machine goes off a moment later (QEMU's main loop takes the request after
       * the instruction): wait for it rather than go on to isa-debug-exit. */
      halt_forever();
    }
  }
  /* A failure, or no power-management function: isa-debug-exit ends QEMU with
   * status (code << 1) | 1. */
  pv.outb(DEBUG_EXIT_PORT, code);
  /* No debug-exit device either: stop here with interrupts off. */
  halt_forever();
}
