#ifndef JEOS_MULTIBOOT_H
#define JEOS_MULTIBOOT_H
#include "../common/types.h"
/* The multiboot information structure (Multiboot Specification 0.6.96, section 3.3). */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MMAP_AVAILABLE 1

struct multiboot_info {
  u32 flags;
  u32 mem_lower, mem_upper; /* KiB below 1 MiB, KiB from 1 MiB up to the first hole */
  u32 boot_device;
  u32 cmdline;
  u32 mods_count, mods_addr;
  u32 syms[4];
  u32 mmap_length, mmap_addr; /* a buffer of struct multiboot_mmap_entry */
  /* drives, configuration table, ... are not used */
};

/* One memory map entry; `size` does not count itself (spec 3.3, "mmap_*"). */
struct multiboot_mmap_entry {
  u32 size;
  u32 base_lo, base_hi, len_lo, len_hi;
  u32 type;
} __attribute__((packed));

struct multiboot_module {
  u32 mod_start, mod_end, string, reserved;
};
#endif
