/*
 * An ELF32 Multiboot kernel built by gcc and ld (no a.out kludge: the loader must use the
 * program headers). Checks that .data arrived, that .bss is zero, and what the loader
 * handed over, then exits through isa-debug-exit.
 */
#include <stdint.h>

#define MB_MAGIC 0x1BADB002u
#define MB_FLAGS 0x00000002u /* memory information */

__attribute__((section(".multiboot"), used, aligned(4)))
static const uint32_t mb_header[3] = {MB_MAGIC, MB_FLAGS, (uint32_t)-(MB_MAGIC + MB_FLAGS)};

static uint8_t bss_area[16384];
static volatile uint32_t data_word = 0x12345678;
uint8_t kstack[8192] __attribute__((aligned(16)));

__asm__(".globl _start\n"
        "_start:\n"
        "  mov $kstack + 8192, %esp\n"
        "  push %ebx\n"
        "  push %eax\n"
        "  call kmain\n"
        "1: hlt\n"
        "  jmp 1b\n");

static inline void outb(uint16_t port, uint8_t v) {
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void puts(const char *s) {
  while (*s) outb(0x3f8, (uint8_t)*s++);
}

static void hex(uint32_t v) {
  for (int i = 28; i >= 0; i -= 4) outb(0x3f8, (uint8_t)"0123456789abcdef"[(v >> i) & 15]);
}

void kmain(uint32_t magic, const uint32_t *mbi) {
  uint32_t nonzero = 0;
  for (unsigned i = 0; i < sizeof bss_area; i++) nonzero += bss_area[i] != 0;
  puts("elf kernel: magic=");
  hex(magic);
  puts(" data=");
  hex(data_word);
  puts(" bss nonzero bytes=");
  hex(nonzero);
  puts(" mbi.flags.mmap=");
  hex(mbi[0] & 0x40);
  puts("\nDONE\n");
  outb(0xf4, 0);
}
