/**
 * The PIIX3 IDE function (82371SB datasheet, 2.3 "PCI Configuration Registers - IDE
 * Interface"): PCI 8086:7010 at 00:01.1, class 01 01 80 (IDE, legacy-mode channels, bus
 * master capable), the two channels at their fixed legacy ports and ISA IRQs 14/15, and
 * BAR4, the 16-byte bus master IDE block.
 *
 * Bus master IDE (82371SB 2.7, "Bus Master IDE Registers"; the PRD format in 2.7.4):
 * with guest memory given (`setDmaMemory`), the disks offer multiword DMA and READ/WRITE
 * DMA (EXT) move data through the Physical Region Descriptor table when the start bit is
 * set, completing at once on the virtual clock. Without it the disks are PIO-only and the
 * registers are only kept. The IDETIM decode enables are stored but, as in QEMU, the
 * legacy ports always decode.
 */
import type { Bus } from '../bus.js';
import type { IrqLine } from '../irq.js';
import { PciFunction } from '../pci/pci-function.js';
import { INTEL } from '../pci/i440fx.js';
import { DeviceStateError, intArray, obj } from '../state.js';
import { IdeChannel, PRIMARY, SECONDARY } from './ide-channel.js';

/** Bus master command bit 0: start/stop (82371SB 2.7.2 BMICX). */
const BMIC_START = 0x01;
/** Bus master status bits (82371SB 2.7.3 BMISX): active (0, RO), error (1) and interrupt (2)
 *  RW1C; 5-6 RW. */
const BMIS_ACTIVE = 0x01;
const BMIS_ERROR = 0x02;
const BMIS_INTERRUPT = 0x04;
const BMIS_DMA_CAPABLE = 0x60;

/** Guest physical memory as the bus master reaches it; throws (RangeError) outside RAM. */
export interface DmaMemory {
  read(addr: number, dst: Uint8Array): void;
  write(addr: number, src: Uint8Array): void;
}

/** A PRD table of more entries than this without EOT is treated as ending there. */
const PRD_MAX = 8192;
/** A PRD byte count of 0 means 64 KiB (82371SB 2.7.4). */
const PRD_64K = 0x10000;

export class PiixIde {
  readonly pci: PciFunction;
  readonly channels: [IdeChannel, IdeChannel];
  /** Per channel: command, status, PRD table address. */
  private readonly bmCmd = [0, 0];
  private readonly bmStatus = [0, 0];
  private readonly bmPrd = [0, 0];
  private memory?: DmaMemory;
  /** DMA transfers that ended short of their PRD table or with a memory fault. */
  dmaErrors = 0;

  constructor(irq14: IrqLine, irq15: IrqLine) {
    // The channels' interrupts also latch the bus master interrupt status bit.
    this.channels = [
      new IdeChannel({
        set: (l) => { if (l) this.bmStatus[0] |= BMIS_INTERRUPT; irq14.set(l); },
        pulse: () => irq14.pulse(),
      }),
      new IdeChannel({
        set: (l) => { if (l) this.bmStatus[1] |= BMIS_INTERRUPT; irq15.set(l); },
        pulse: () => irq15.pulse(),
      }),
    ];
    this.pci = new PciFunction('piix3-ide', {
      vendor: INTEL, device: 0x7010, classCode: 0x010180, status: 0x0280,
    });
    this.pci.defineRegister(0x40, 0x00000000, 4); // IDETIM primary and secondary
    this.pci.defineRegister(0x44, 0x00); // SIDETIM
    this.pci.defineBar(4, { kind: 'io', size: 16, width: 4, device: {
      name: 'piix3-bmide',
      read: (o, s) => this.readBm(o, s), write: (o, s, v) => this.writeBm(o, s, v),
    } });
  }

  /** Connects guest memory: the disks then offer DMA (IDENTIFY words 49, 63). */
  setDmaMemory(mem: DmaMemory): void {
    this.memory = mem;
    this.channels.forEach((c, i) => {
      for (const d of c.devices) if (d) d.dmaCapable = true;
      c.onDmaReady = () => this.runDma(i);
    });
  }

  /** Moves a pending DMA command's data when the bus master is started (BMISX active). */
  private runDma(ch: number): void {
    const mem = this.memory;
    if (!mem || !(this.bmStatus[ch] & BMIS_ACTIVE)) return;
    this.channels[ch].dma((d, tf) => {
      // The regions of the PRD table: [address, bytes], up to the EOT entry.
      const regions: [number, number][] = [];
      let total = 0;
      const entry = new Uint8Array(8);
      try {
        for (let i = 0, at = this.bmPrd[ch]; i < PRD_MAX; i++, at += 8) {
          mem.read(at, entry);
          const dv = new DataView(entry.buffer);
          const len = dv.getUint16(4, true) & 0xfffe || PRD_64K;
          regions.push([dv.getUint32(0, true) & 0xfffffffe, len]);
          total += len;
          if (dv.getUint32(4, true) & 0x80000000) break;
        }
      } catch {
        regions.length = 0; total = 0;
      }
      let r = 0, off = 0;
      const move = (buf: Uint8Array, toMemory: boolean): boolean => {
        try {
          for (let done = 0; done < buf.length;) {
            const [addr, len] = regions[r];
            const n = Math.min(len - off, buf.length - done);
            if (toMemory) mem.write(addr + off, buf.subarray(done, done + n));
            else mem.read(addr + off, buf.subarray(done, done + n));
            done += n; off += n;
            if (off === len) { r++; off = 0; }
          }
          return true;
        } catch { return false; }
      };
      const how = d.dmaTransfer(tf, total, move);
      // The table ran out with the command done: Active clears. Data left over in the
      // table keeps Active set (2.7.3); an error sets the error bit and stops.
      if (how !== 'done') { this.bmStatus[ch] |= BMIS_ERROR; this.dmaErrors++; }
      if (how !== 'done' || r >= regions.length) this.bmStatus[ch] &= ~BMIS_ACTIVE;
    });
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
      if (r === 0) {
        // Start/stop (bit 0) and read/write control (bit 3; the ATA command decides the
        // direction here). Starting sets Active and runs a pending transfer; stopping clears it.
        const was = this.bmCmd[ch];
        this.bmCmd[ch] = b & 0x09;
        if (b & BMIC_START && !(was & BMIC_START)) {
          this.bmStatus[ch] |= BMIS_ACTIVE;
          this.runDma(ch);
        } else if (!(b & BMIC_START)) this.bmStatus[ch] &= ~BMIS_ACTIVE;
      } else if (r === 2) {
        const kept = this.bmStatus[ch] & ~(b & (BMIS_ERROR | BMIS_INTERRUPT)) & ~BMIS_DMA_CAPABLE;
        this.bmStatus[ch] = kept | (b & BMIS_DMA_CAPABLE);
      } else if (r >= 4) {
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
    return {
      pci: this.pci.state(), channels: this.channels.map((c) => c.state()),
      bmCmd: [...this.bmCmd], bmStatus: [...this.bmStatus], bmPrd: [...this.bmPrd],
    };
  }

  restore(s: unknown): void {
    const o = obj(s, 'ide');
    this.pci.restore(o.pci, 'ide.pci');
    const ch = o.channels;
    if (!Array.isArray(ch) || ch.length !== 2) {
      throw new DeviceStateError('ide.channels', 'expected two channels');
    }
    this.channels[0].restore(ch[0], 'ide.channels[0]');
    this.channels[1].restore(ch[1], 'ide.channels[1]');
    intArray(o, 'bmCmd', 'ide', 0, 0x09, 2).forEach((v, i) => { this.bmCmd[i] = v; });
    intArray(o, 'bmStatus', 'ide', 0, 0x67, 2).forEach((v, i) => { this.bmStatus[i] = v; });
    intArray(o, 'bmPrd', 'ide', 0, 0xfffffffc, 2).forEach((v, i) => { this.bmPrd[i] = v; });
  }
}
