/**
 * The functions of the i440FX/PIIX3 chipset on bus 0, with the identities and reset
 * values of their datasheets (Intel 82441FX PMC, 82371SB PIIX3) as QEMU's `pc` machine
 * has them: 00:00.0 host bridge, 00:01.0 PCI-to-ISA bridge. The IDE function 00:01.1 is
 * in `../ide/piix-ide.ts`.
 */
import { PciFunction } from './pci-function.js';

export const INTEL = 0x8086;

/** 82441FX PCI and Memory Controller, 8086:1237, class 06 00 00 (host bridge). */
export function i440fxHostBridge(): PciFunction {
  const f = new PciFunction('i440fx', {
    vendor: INTEL, device: 0x1237, classCode: 0x060000, revision: 0x02,
  });
  f.defineRegister(0x50, 0x00); // PMCCFG (low byte)
  // PAM0-PAM6 (82441FX datasheet 3.2.x): read/write enables of the BIOS and option ROM
  // shadow areas 0xC0000-0xFFFFF. Stored; the machine may act on them.
  for (let pam = 0; pam < 7; pam++) f.defineRegister(0x59 + pam, 0x00, 1, pam === 0 ? 0x30 : 0x33);
  f.defineRegister(0x72, 0x02, 1, 0x78); // SMRAM control: C_BASE_SEG = 010 (read-only)
  return f;
}

/** 82371SB PIIX3 PCI-to-ISA bridge, 8086:7000, class 06 01 00, multi-function. */
export function piix3IsaBridge(): PciFunction {
  const f = new PciFunction('piix3-isa', {
    vendor: INTEL, device: 0x7000, classCode: 0x060100, status: 0x0200,
  });
  f.config[0x04] = 0x07; // PCICMD: I/O, memory, bus master (PIIX3 datasheet 2.2: default 0007h)
  f.defineRegister(0x4c, 0x4d); // IORT, ISA I/O recovery timer
  f.defineRegister(0x4e, 0x03); // XBCS, X-bus chip select
  f.defineRegister(0x60, 0x80808080, 4); // PIRQRC[A:D]: routing disabled (bit 7)
  f.defineRegister(0x69, 0x02); // TOM, top of memory
  f.defineRegister(0x6a, 0x00, 2); // MSTAT
  f.defineRegister(0x70, 0x80); // MBIRQ0
  f.defineRegister(0x76, 0x0c0c, 2); // MBDMA0-1
  f.defineRegister(0x78, 0x0002, 2); // PCSC
  f.defineRegister(0x80, 0x00); // APICBASE
  f.defineRegister(0x82, 0x00); // DLC
  f.defineRegister(0xa0, 0x08); // SMICNTL
  f.defineRegister(0xa2, 0x0000, 2); // SMIEN
  f.defineRegister(0xa4, 0x00000000, 4); // SEE
  f.defineRegister(0xa8, 0x0f); // FTMR
  f.defineRegister(0xaa, 0x0000, 2); // SMIREQ
  f.defineRegister(0xac, 0x00); // CTLTMR
  f.defineRegister(0xae, 0x00); // CTHTMR
  return f;
}
