#ifndef JEOS_PCI_H
#define JEOS_PCI_H
/* Lists the functions on PCI bus 0 as `info pci` lines. */
void pci_scan(void);
#endif
