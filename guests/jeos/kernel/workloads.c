/* The kernel-side workloads: the ones whose operation only ring 0 may perform. Each goes
 * through the ops table, as every privileged operation of the kernel does. */
#include "workloads.h"
#include "console.h"
#include "ide.h"
#include "mm.h"
#include "pvops.h"
#include "x86.h"
#include "../common/wl.h"

/* Port 0x80 is the POST-code port of the PC: present on every PC chipset, and no device
 * answers reads on it (QEMU and wasmvisor return a constant). Adams & Agesen used it. */
#define UNUSED_PORT 0x80

static u8 scratch_page[PAGE_SIZE] __attribute__((aligned(4096)));
static u8 disk_buf[WL_DISK_SECTORS * 512];

static void report(u32 id, u32 iters, const char *extra, u64 cycles) {
  char line[200];
  int n = wl_format(line, sizeof line, (int)id, iters, extra, cycles);
  console_write(line, (u32)n);
}

static u64 bench_in(u32 n) {
  u64 t0 = rdtsc();
  for (u32 i = 0; i < n; i++) pv.inb(UNUSED_PORT);
  return rdtsc() - t0;
}

static u64 bench_irqmask(u32 n) {
  u64 t0 = rdtsc();
  for (u32 i = 0; i < n; i++) {
    u32 flags = pv.save_fl();
    pv.irq_disable();
    pv.restore_fl(flags);
  }
  return rdtsc() - t0;
}

static u64 bench_ptemod(u32 n) {
  u32 va = (u32)scratch_page;
  u32 *pte = kernel_pte(va);
  u64 t0 = rdtsc();
  for (u32 i = 0; i < n; i++) {
    pv.set_pte(pte, *pte);
    pv.invlpg(va);
  }
  return rdtsc() - t0;
}

/* The sector header the disk workload writes: a magic word, the LBA, and the pass, so a
 * reader (the test, through the disk image) can tell where each sector went. */
#define DISK_MAGIC 0x534F454Au /* "JEOS" little-endian */

static void fill_block(u32 lba) {
  for (u32 s = 0; s < WL_DISK_SECTORS; s++) {
    u32 *w = (u32 *)(disk_buf + s * 512);
    w[0] = DISK_MAGIC;
    w[1] = lba + s;
    for (u32 i = 2; i < 128; i++) w[i] = (lba + s) * 2654435761u + i; /* Knuth's hash */
  }
}

static int check_block(u32 lba) {
  for (u32 s = 0; s < WL_DISK_SECTORS; s++) {
    const u32 *w = (const u32 *)(disk_buf + s * 512);
    if (w[0] != DISK_MAGIC || w[1] != lba + s) return -1;
    for (u32 i = 2; i < 128; i++)
      if (w[i] != (lba + s) * 2654435761u + i) return -1;
  }
  return 0;
}

/* Writes iters blocks of WL_DISK_SECTORS sectors from WL_DISK_FIRST_LBA on (wrapping
 * inside the disk), flushes, then reads them back and checks every word. */
static int bench_disk(u32 iters) {
  if (!ide_present()) {
    kprintf("wl disk skipped=no-disk\n");
    return 0;
  }
  u32 span = ide_sectors() > WL_DISK_FIRST_LBA ? ide_sectors() - WL_DISK_FIRST_LBA : 0;
  span -= span % WL_DISK_SECTORS;
  if (span == 0) {
    kprintf("wl disk skipped=disk-too-small\n");
    return 0;
  }
  u64 t0 = rdtsc();
  for (u32 i = 0; i < iters; i++) {
    u32 lba = WL_DISK_FIRST_LBA + (i * WL_DISK_SECTORS) % span;
    fill_block(lba);
    if (ide_write(lba, WL_DISK_SECTORS, disk_buf) < 0) return -1;
  }
  if (ide_flush() < 0) return -1;
  u64 write_cycles = rdtsc() - t0, read_cycles = 0;
  u32 bad = 0;
  for (u32 i = 0; i < iters; i++) {
    u32 lba = WL_DISK_FIRST_LBA + (i * WL_DISK_SECTORS) % span;
    u64 r0 = rdtsc();
    if (ide_read(lba, WL_DISK_SECTORS, disk_buf) < 0) return -1;
    read_cycles += rdtsc() - r0;
    /* With wrapping, only the last pass over a block is on the disk. */
    if (i + span / WL_DISK_SECTORS >= iters && check_block(lba) < 0) bad++;
  }
  char extra[120];
  fmt(extra, sizeof extra, " sectors=%u write_cycles=%llu read_cycles=%llu verify=%s",
      iters * WL_DISK_SECTORS, write_cycles, read_cycles, bad ? "FAIL" : "ok");
  report(WL_DISK, iters, extra, write_cycles + read_cycles);
  return bad ? -1 : 0;
}

int kbench(u32 id, u32 iters) {
  if (iters == 0) return -1;
  switch (id) {
  case WL_IN: report(id, iters, " port=0x80", bench_in(iters)); return 0;
  case WL_IRQMASK:
    report(id, iters, "", bench_irqmask(iters));
    return cmdline_tpr() ? bench_tpr(iters) : 0;
  case WL_PTEMOD: {
    u64 c = bench_ptemod(iters);
    /* The rewritten entry must still map the page. */
    scratch_page[0]++;
    report(id, iters, "", c);
    return 0;
  }
  case WL_DISK: return bench_disk(iters);
  default: return -1;
  }
}
