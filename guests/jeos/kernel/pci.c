/* PCI bus 0 through configuration mechanism #1 (PCI Local Bus Specification 3.0,
 * 3.2.2.3.2): a dword address at 0xCF8 (bit 31 enable, bus, device, function, register),
 * the data at 0xCFC. The kernel drives its disk through the legacy IDE ports, so this
 * only reports what is there; the lines are `info` lines, the machine's business. */
#include "pci.h"
#include "console.h"
#include "pvops.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_ENABLE (1u << 31)
#define PCI_VENDOR_NONE 0xFFFF /* no function answers: the bus floats high */
/* The PIIX4 power-management function (Intel 82371AB datasheet, 3.4): PMBA at 40h (the PM
 * I/O base, bits 15:6), PMREGMISC at 80h (bit 0 PMIOSE: the PM I/O space decodes), and
 * PM1a_CNT at PMBA + 4 (QEMU hw/acpi/piix4.c). */
#define PIIX4_PM_ID 0x71138086u
#define PIIX4_PMBA 0x40
#define PIIX4_PMREGMISC 0x80
#define PIIX4_PMIOSE 0x01
#define PM1A_CNT_OFFSET 4

static u32 config_read(u32 dev, u32 fn, u32 reg) {
  pv.outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | (dev << 11) | (fn << 8) | (reg & 0xFC));
  return pv.inl(PCI_CONFIG_DATA);
}

void pci_scan(void) {
  u32 found = 0;
  for (u32 dev = 0; dev < 32; dev++) {
    for (u32 fn = 0; fn < 8; fn++) {
      u32 id = config_read(dev, fn, 0x00); /* device ID : vendor ID */
      if ((id & 0xFFFF) == PCI_VENDOR_NONE) {
        if (fn == 0) break;
        continue;
      }
      u32 class = config_read(dev, fn, 0x08) >> 8; /* class, subclass, prog-if */
      kprintf("info pci 00:%02x.%u %04x:%04x class=%06x\n", dev, fn, id & 0xFFFF, id >> 16, class);
      found++;
      /* Header type bit 7: a multi-function device; otherwise only function 0 exists. */
      if (fn == 0 && !((config_read(dev, 0, 0x0C) >> 16) & 0x80)) break;
    }
  }
  if (!found) kprintf("info pci none\n");
}

u16 pci_pm1a_cnt(void) {
  for (u32 dev = 0; dev < 32; dev++) {
    for (u32 fn = 0; fn < 8; fn++) {
      if (config_read(dev, fn, 0x00) != PIIX4_PM_ID) continue;
      u32 base = config_read(dev, fn, PIIX4_PMBA) & 0xFFC0;
      if (!(config_read(dev, fn, PIIX4_PMREGMISC) & PIIX4_PMIOSE) || !base) return 0;
      return (u16)(base + PM1A_CNT_OFFSET);
    }
  }
  return 0;
}
