/**
 * QEMU's educational PCI device `edu` (QEMU docs/specs/edu.txt, hw/misc/edu.c), the test
 * device for MSI: vendor 1234h, device 11E8h, revision 10h, class FF00h, INTA#, a 1 MiB
 * memory BAR 0, and an MSI capability with one vector and 64-bit addresses. Registers of
 * BAR 0 (dwords below 0x80):
 *   0x00 identification 0x010000ED (RO)   0x04 liveness: reads the inverse of the write
 *   0x08 factorial: a write computes n! (here at once: status bit 0 never reads busy)
 *   0x20 status: bit 0 computing (RO), bit 7 raise interrupt 0x01 after a factorial
 *   0x24 interrupt status (RO)   0x60 raise: ORs the value into the interrupt status and
 *   interrupts (MSI when enabled, else INTx)   0x64 acknowledge: clears the bits written
 * Not modelled: the DMA engine (0x80-0x98) and its interrupt 0x100.
 */
import type { BusDevice } from '../bus.js';
import { PciFunction } from './pci-function.js';
import { MsiCapability, type MsiSink } from './msi.js';

export const EDU_VENDOR = 0x1234;
export const EDU_DEVICE = 0x11e8;
const EDU_ID = 0x010000ed;
const STATUS_COMPUTING = 0x01;
const STATUS_IRQFACT = 0x80;
/** Where QEMU's msi_init puts the capability: the first free dword after the header. */
const MSI_OFFSET = 0x40;

export class EduDevice {
  readonly pci: PciFunction;
  readonly msi: MsiCapability;
  private liveness = 0;
  private fact = 0;
  private status = 0;
  private irqStatus = 0;

  constructor(sink: MsiSink) {
    this.pci = new PciFunction('edu', {
      vendor: EDU_VENDOR, device: EDU_DEVICE, classCode: 0x00ff00, revision: 0x10,
      interruptPin: 1,
    });
    const regs: BusDevice = {
      name: 'edu', read: (o, s) => this.read(o, s), write: (o, s, v) => this.write(o, s, v),
    };
    this.pci.defineBar(0, { kind: 'mem32', size: 1 << 20, device: regs, width: 4 });
    this.msi = new MsiCapability(this.pci, MSI_OFFSET, sink, { vectors: 1, is64: true });
  }

  /** Reads of other sizes below 0x80 return all ones, as edu.c does. */
  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4) return size === 2 ? 0xffff : 0xff;
    switch (offset) {
      case 0x00: return EDU_ID;
      case 0x04: return this.liveness;
      case 0x08: return this.fact;
      case 0x20: return this.status;
      case 0x24: return this.irqStatus;
    }
    return 0xffffffff;
  }

  write(offset: number, size: 1 | 2 | 4, v: number): void {
    if (size !== 4) return;
    switch (offset) {
      case 0x04: this.liveness = ~v >>> 0; return;
      case 0x08: {
        // n! modulo 2^32 (edu.c multiplies in 32 bits): 0 from 34! on, which holds 2^32.
        let f = 1;
        for (let i = 2; i <= v && i < 34; i++) f = Math.imul(f, i) >>> 0;
        this.fact = v >= 34 ? 0 : f;
        if (this.status & STATUS_IRQFACT) this.raise(0x01);
        return;
      }
      case 0x20:
        this.status = (this.status & STATUS_COMPUTING) | (v & STATUS_IRQFACT);
        return;
      case 0x60: this.raise(v >>> 0); return;
      case 0x64: this.lower(v >>> 0); return;
    }
  }

  private raise(bits: number): void {
    this.irqStatus = (this.irqStatus | bits) >>> 0;
    if (!this.irqStatus) return;
    if (this.msi.enabled) this.msi.notify(0);
    else this.pci.setIntx(true);
  }

  private lower(bits: number): void {
    this.irqStatus = (this.irqStatus & ~bits) >>> 0;
    if (!this.irqStatus && !this.msi.enabled) this.pci.setIntx(false);
  }
}
