#ifndef JEOS_CONSOLE_H
#define JEOS_CONSOLE_H
#include "../common/types.h"
#include "../common/fmt.h"

void console_write(const char *s, u32 len);
void kprintf(const char *f, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *f, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Exit codes. EXIT_OK powers the machine off through the PIIX4 PM function (status 0);
 * the others are written to QEMU's isa-debug-exit port (0xF4), and QEMU's process then
 * exits with status (code << 1) | 1. Without a PM function EXIT_OK goes there too. */
#define EXIT_OK 0         /* every check passed: status 0 (1 without a PM function) */
#define EXIT_CHECK_FAILED 1 /* a check or workload failed: status 3 */
#define EXIT_PANIC 2      /* kernel panic: status 5 */
void machine_exit(u8 code) __attribute__((noreturn));

#endif
