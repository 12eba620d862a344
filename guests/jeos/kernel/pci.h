#ifndef JEOS_PCI_H
#define JEOS_PCI_H
#include "../common/types.h"
/* Lists the functions on PCI bus 0 as `info pci` lines. */
void pci_scan(void);
/* The port of PM1a_CNT when the PIIX4 power-management function is present with its
 * I/O space enabled (as SeaBIOS leaves it on QEMU's pc machine), else 0. */
u16 pci_pm1a_cnt(void);
#endif
