/* ATA PIO driver for the primary channel of a PIIX IDE controller (0x1F0-0x1F7, device
 * control 0x3F6, IRQ 14), LBA28 (ATA/ATAPI-6, T13/1410D: 7.15 IDENTIFY DEVICE, 7.36 READ
 * SECTORS, 7.62 WRITE SECTORS, 7.14 FLUSH CACHE; 9.5 and 9.6 for the PIO protocols). */
#include "ide.h"
#include "xen.h"
#include "blkfront.h"
#include "console.h"
#include "pic.h"
#include "pit.h"
#include "pvops.h"

#define ATA_DATA 0x1F0
#define ATA_ERROR 0x1F1
#define ATA_COUNT 0x1F2
#define ATA_LBA0 0x1F3
#define ATA_LBA1 0x1F4
#define ATA_LBA2 0x1F5
#define ATA_DEVICE 0x1F6
#define ATA_STATUS 0x1F7  /* read: status (clears a pending INTRQ) */
#define ATA_COMMAND 0x1F7 /* write: command */
#define ATA_ALTSTATUS 0x3F6 /* read: status without side effects */
#define ATA_DEVCTL 0x3F6    /* write: device control */

#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DF 0x20
#define ST_DRDY 0x40
#define ST_BSY 0x80
#define DEV_LBA 0xE0    /* bits 7 and 5 obsolete-set, bit 6 LBA, bit 4 = 0: master */
#define DEVCTL_NIEN 0x02 /* mask INTRQ */

#define CMD_READ_SECTORS 0x20
#define CMD_WRITE_SECTORS 0x30
#define CMD_FLUSH_CACHE 0xE7
#define CMD_IDENTIFY 0xEC

#define TIMEOUT_TICKS (2 * HZ)

static int present;
static u32 sectors;
static volatile u32 irqs;
static volatile u8 irq_status;

int ide_present(void) { return present; }
u32 ide_sectors(void) { return sectors; }

void ide_interrupt(void) {
  irq_status = pv.inb(ATA_STATUS); /* reading Status acknowledges INTRQ */
  irqs++;
}

/* 400 ns for the status to become valid after a command or a drive select: four reads
 * of the alternate status register (ATA/ATAPI-6, 9.1 note). */
static void delay400(void) {
  for (int i = 0; i < 4; i++) pv.inb(ATA_ALTSTATUS);
}

/* Polls until BSY clears; returns the status, or 0xFF after too many polls. */
static u8 wait_not_busy(void) {
  for (u32 i = 0; i < 1000000; i++) {
    u8 s = pv.inb(ATA_ALTSTATUS);
    if (!(s & ST_BSY)) return s;
  }
  return 0xFF;
}

/* Sleeps until the interrupt after `seen` arrives; returns the status it read. */
static int wait_irq(u32 seen, u8 *status) {
  if (xen_pv) {
    /* No IRQ 14 reaches a PV domain (the hypervisor keeps the PIC): poll BSY, then read
     * Status as the interrupt handler would. */
    (void)seen;
    if (wait_not_busy() & ST_BSY) return -1;
    *status = pv.inb(ATA_STATUS);
    return 0;
  }
  u32 t0 = ticks;
  pv.irq_disable();
  while (irqs == seen && ticks - t0 < TIMEOUT_TICKS) {
    pv.safe_halt();
    pv.irq_disable();
  }
  pv.irq_enable();
  if (irqs == seen) {
    kprintf("ide: timeout waiting for IRQ %u\n", IDE_IRQ);
    return -1;
  }
  *status = irq_status;
  return 0;
}

void ide_init(void) {
  pv.outb(ATA_DEVCTL, DEVCTL_NIEN); /* poll during the probe */
  pv.outb(ATA_DEVICE, DEV_LBA);
  delay400();
  u8 s = pv.inb(ATA_STATUS);
  if (s == 0xFF || s == 0x00) {
    kprintf("ide0 absent\n");
    return;
  }
  pv.outb(ATA_COUNT, 0);
  pv.outb(ATA_LBA0, 0);
  pv.outb(ATA_LBA1, 0);
  pv.outb(ATA_LBA2, 0);
  pv.outb(ATA_COMMAND, CMD_IDENTIFY);
  delay400();
  s = wait_not_busy();
  if (s == 0xFF || s == 0 || (s & ST_ERR) || !(s & ST_DRQ)) {
    /* An ATAPI device aborts IDENTIFY DEVICE and shows its signature instead. */
    kprintf("ide0 absent status=0x%x\n", s);
    return;
  }
  static u16 id[256];
  pv.insw(ATA_DATA, id, 256);
  pv.inb(ATA_STATUS);
  /* Word 49 bit 9: LBA supported; words 60-61: sectors addressable with LBA28. */
  if (!(id[49] & (1u << 9))) {
    kprintf("ide0 present but without LBA\n");
    return;
  }
  sectors = id[60] | ((u32)id[61] << 16);
  present = 1;
  pv.outb(ATA_DEVCTL, 0); /* interrupts on from now on */
  pic_unmask(IDE_IRQ);
  kprintf("ide0 sectors=%u\n", sectors);
}

static int issue(u32 lba, u32 count, u8 cmd) {
  if (!present || count == 0 || count > 256 || lba >= sectors || count > sectors - lba) {
    kprintf("ide: bad request lba=%u count=%u\n", lba, count);
    return -1;
  }
  if (wait_not_busy() & ST_BSY) return -1;
  pv.outb(ATA_DEVICE, DEV_LBA | ((lba >> 24) & 0x0F));
  pv.outb(ATA_COUNT, (u8)count); /* 0 means 256 */
  pv.outb(ATA_LBA0, (u8)lba);
  pv.outb(ATA_LBA1, (u8)(lba >> 8));
  pv.outb(ATA_LBA2, (u8)(lba >> 16));
  pv.outb(ATA_COMMAND, cmd);
  return 0;
}

/* Under Xen, once blkfront is connected, the same disk through the split driver. */
static int in_range(u32 lba, u32 count) {
  return present && count && count <= 256 && lba < sectors && count <= sectors - lba;
}

int ide_read(u32 lba, u32 count, void *buf) {
  if (blkfront_ready()) return in_range(lba, count) ? blkfront_rw(0, lba, count, buf) : -1;
  u32 seen = irqs;
  if (issue(lba, count, CMD_READ_SECTORS) < 0) return -1;
  u16 *p = buf;
  for (u32 i = 0; i < count; i++) {
    /* PIO data-in: an interrupt announces each sector in the data register. */
    u8 s;
    if (wait_irq(seen, &s) < 0) return -1;
    seen = irqs;
    if ((s & (ST_ERR | ST_DF)) || !(s & ST_DRQ)) {
      kprintf("ide: read error status=0x%x error=0x%x\n", s, pv.inb(ATA_ERROR));
      return -1;
    }
    pv.insw(ATA_DATA, p, 256);
    p += 256;
  }
  return 0;
}

int ide_write(u32 lba, u32 count, const void *buf) {
  if (blkfront_ready())
    return in_range(lba, count) ? blkfront_rw(1, lba, count, (void *)buf) : -1;
  u32 seen = irqs;
  if (issue(lba, count, CMD_WRITE_SECTORS) < 0) return -1;
  const u16 *p = buf;
  for (u32 i = 0; i < count; i++) {
    /* PIO data-out: the first sector goes as soon as DRQ is set; each later one after
     * the interrupt that ends the previous one. */
    u8 s;
    if (i == 0) {
      delay400();
      s = wait_not_busy();
    } else {
      if (wait_irq(seen, &s) < 0) return -1;
      seen = irqs;
    }
    if ((s & (ST_ERR | ST_DF)) || !(s & ST_DRQ)) {
      kprintf("ide: write error status=0x%x error=0x%x\n", s, pv.inb(ATA_ERROR));
      return -1;
    }
    pv.outsw(ATA_DATA, p, 256);
    p += 256;
  }
  u8 s;
  if (wait_irq(seen, &s) < 0) return -1;
  return (s & (ST_ERR | ST_DF)) ? -1 : 0;
}

int ide_flush(void) {
  if (blkfront_ready()) return blkfront_flush();
  if (!present || (wait_not_busy() & ST_BSY)) return -1;
  u32 seen = irqs;
  u8 s;
  pv.outb(ATA_COMMAND, CMD_FLUSH_CACHE);
  if (wait_irq(seen, &s) < 0) return -1;
  return (s & (ST_ERR | ST_DF)) ? -1 : 0;
}
