#ifndef JEOS_IDE_H
#define JEOS_IDE_H
#include "../common/types.h"
#define IDE_IRQ 14
/* Probes the primary master with IDENTIFY DEVICE; prints what it found. */
void ide_init(void);
int ide_present(void);
u32 ide_sectors(void); /* LBA28 capacity */
/* Transfers count (1-256) sectors of 512 bytes at lba with PIO; 0 or -1 on error. */
int ide_read(u32 lba, u32 count, void *buf);
int ide_write(u32 lba, u32 count, const void *buf);
/* Writes the device's cache to its medium (FLUSH CACHE). */
int ide_flush(void);
void ide_interrupt(void);
#endif
