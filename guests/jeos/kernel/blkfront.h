/* The Xen split block driver's front end (blkfront.c): used by ide.c under Xen. */
#ifndef JEOS_BLKFRONT_H
#define JEOS_BLKFRONT_H
#include "../common/types.h"
void blkfront_init(void);
int blkfront_ready(void);
int blkfront_rw(int write, u32 lba, u32 count, void *buf);
int blkfront_flush(void);
#endif
