/**
 * The PIIX3 IDE function (82371SB datasheet, 2.3 "PCI Configuration Registers - IDE
 * Interface"): PCI 8086:7010 at 00:01.1, class 01 01 80 (IDE, legacy-mode channels, bus
 * master capable), the two channels at their fixed legacy ports and ISA IRQs 14/15, and
 * BAR4, the 16-byte bus master IDE block.
 *
 * The bus master registers are kept (command, status with its interrupt bit, PRD table
 * address) so drivers that read them see sane values; DMA itself is not done, and the
 * IDENTIFY data offers no DMA mode, so drivers use PIO. The IDETIM decode enables are
 * stored but, as in QEMU, the legacy ports always decode.
 */
import type { Bus } from '../bus.js';
import type { IrqLine } from '../irq.js';
import { PciFunction } from '../pci/pci-function.js';
import { INTEL } from '../pci/i440fx.js';
import { DeviceStateError, intArray, obj } from '../state.js';
import { IdeChannel, PRIMARY, SECONDARY } from './ide-channel.js';

/** Bus master status bits (82371SB 2.7.3 BMISX): error (1) and interrupt (2) are RW1C; 5-6 RW. */
const BMIS_ERROR = 0x02;
const BMIS_INTERRUPT = 0x04;
const BMIS_DMA_CAPABLE = 0x60;

export class PiixIde {
  readonly pci: PciFunction;
  readonly channels: [IdeChannel, IdeChannel];
  /** Per channel: command, status, PRD table address. */
  private readonly bmCmd = [0, 0];
  private readonly bmStatus = [0, 0];
  private readonly bmPrd = [0, 0];

  constructor(irq14: IrqLine, irq15: IrqLine) {
    // The channels' interrupts also latch the bus master interrupt status bit.
    this.channels = [
      new IdeChannel({ set: (l) => { if (l) this.bmStatus[0] |= BMIS_INTERRUPT; irq14.set(l); }, pulse: () => irq14.pulse() }),
      new IdeChannel({ set: (l) => { if (l) this.bmStatus[1] |= BMIS_INTERRUPT; irq15.set(l); }, pulse: () => irq15.pulse() }),
    ];
    this.pci = new PciFunction('piix3-ide', { vendor: INTEL, device: 0x7010, classCode: 0x010180, status: 0x0280 });
    this.pci.defineRegister(0x40, 0x00000000, 4); // IDETIM primary and secondary
    this.pci.defineRegister(0x44, 0x00); // SIDETIM
    this.pci.defineBar(4, { kind: 'io', size: 16, width: 4, device: {
      name: 'piix3-bmide', read: (o, s) => this.readBm(o, s), write: (o, s, v) => this.writeBm(o, s, v),
    } });
  }

  private readBm(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.bmByte(off + i) << (8 * i);
    return v >>> 0;
  }

  private bmByte(off: number): number {
    const ch = off >> 3, r = off & 7;
    if (ch > 1) return 0xff;
    if (r === 0) return this.bmCmd[ch];
    if (r === 2) return this.bmStatus[ch];
    if (r >= 4) return (this.bmPrd[ch] >>> (8 * (r - 4))) & 0xff;
    return 0;
  }

  private writeBm(off: number, size: number, v: number): void {
    for (let i = 0; i < size; i++) {
      const o = off + i, b = (v >>> (8 * i)) & 0xff, ch = o >> 3, r = o & 7;
      if (ch > 1) continue;
      if (r === 0) this.bmCmd[ch] = b & 0x09; // start/stop (0), read/write control (3)
      else if (r === 2) this.bmStatus[ch] = (this.bmStatus[ch] & ~(b & (BMIS_ERROR | BMIS_INTERRUPT)) & ~BMIS_DMA_CAPABLE) | (b & BMIS_DMA_CAPABLE);
      else if (r >= 4) {
        const shift = 8 * (r - 4);
        const mask = r === 4 ? 0xfc : 0xff; // the table is dword aligned
        this.bmPrd[ch] = ((this.bmPrd[ch] & ~(0xff << shift)) | ((b & mask) << shift)) >>> 0;
      }
    }
  }

  attach(bus: Bus): void {
    this.channels[0].attach(bus, PRIMARY.base, PRIMARY.ctl);
    this.channels[1].attach(bus, SECONDARY.base, SECONDARY.ctl);
    this.pci.attachBars(bus);
  }

  /** Writes everything back to the disks (at exit and on request). */
  flush(): void { for (const c of this.channels) c.flush(); }

  /** Flushes and closes every disk: nothing the guest wrote is lost at exit. */
  close(): void {
    this.flush();
    for (const c of this.channels) for (const d of c.devices) d?.backend.close();
  }

  state() {
    return { pci: this.pci.state(), channels: this.channels.map((c) => c.state()), bmCmd: [...this.bmCmd], bmStatus: [...this.bmStatus], bmPrd: [...this.bmPrd] };
  }

  restore(s: unknown): void {
    const o = obj(s, 'ide');
    this.pci.restore(o.pci, 'ide.pci');
    const ch = o.channels;
    if (!Array.isArray(ch) || ch.length !== 2) throw new DeviceStateError('ide.channels', 'expected two channels');
    this.channels[0].restore(ch[0], 'ide.channels[0]');
    this.channels[1].restore(ch[1], 'ide.channels[1]');
    intArray(o, 'bmCmd', 'ide', 0, 0x09, 2).forEach((v, i) => { this.bmCmd[i] = v; });
    intArray(o, 'bmStatus', 'ide', 0, 0x66, 2).forEach((v, i) => { this.bmStatus[i] = v; });
    intArray(o, 'bmPrd', 'ide', 0, 0xfffffffc, 2).forEach((v, i) => { this.bmPrd[i] = v; });
  }
}
