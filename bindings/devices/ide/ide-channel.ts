/**
 * One IDE channel (ATA/ATAPI-6 clause 7): the command block at `base` (0x1F0 primary,
 * 0x170 secondary), the control block at `ctl` (0x3F6 / 0x376), up to two devices, and
 * INTRQ to the ISA interrupt (14 / 15).
 *
 * Register reads come from the selected device; with no device 1, device 0 answers for
 * it with Status 00h (ATA-6 9.16.1), and an empty channel reads 00h as QEMU's does.
 */
import type { BlockDevice } from '../../disk/types.js';
import type { Bus } from '../bus.js';
import type { IrqLine } from '../irq.js';
import { bool, DeviceStateError, int, obj } from '../state.js';
import { AtaDevice, setSignature, type AtaDeviceOptions } from './ata-device.js';
import {
  CMD_EXECUTE_DIAGNOSTIC, CTL_HOB, CTL_NIEN, CTL_SRST, DEV_DEV, ST_BSY,
} from './ata-regs.js';
import { TaskFile, type TfReg } from './task-file.js';

export const PRIMARY = { base: 0x1f0, ctl: 0x3f6, irq: 14 } as const;
export const SECONDARY = { base: 0x170, ctl: 0x376, irq: 15 } as const;

/** Command block offsets 1-5 and their task file registers. */
const TF_REGS: (TfReg | undefined)[] = [
  undefined, 'features', 'count', 'lbaLow', 'lbaMid', 'lbaHigh',
];

export class IdeChannel {
  readonly devices: (AtaDevice | undefined)[] = [undefined, undefined];
  tf = new TaskFile();
  control = 0;
  private irqLevel = false;
  /** Called when the selected device is ready for a DMA transfer (the bus master's cue). */
  onDmaReady?: () => void;

  constructor(private readonly irq: IrqLine) {}

  /** Connects a disk as device 0 (master) or 1 (slave). */
  attachDisk(index: 0 | 1, backend: BlockDevice, opts?: AtaDeviceOptions): AtaDevice {
    const d = new AtaDevice(backend, opts);
    this.devices[index] = d;
    if (index === 0) setSignature(this.tf);
    return d;
  }

  get selectedIndex(): 0 | 1 { return this.tf.device & DEV_DEV ? 1 : 0; }
  get selected(): AtaDevice | undefined { return this.devices[this.selectedIndex]; }
  private get empty(): boolean { return !this.devices[0] && !this.devices[1]; }

  /** INTRQ is driven by the selected device unless nIEN is set (ATA-6 7.8). */
  private update(): void {
    const level = !!this.selected?.intrq && !(this.control & CTL_NIEN);
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq.set(level); }
  }

  /** The interrupt line as the PIIX bus master status sees it. */
  get interrupt(): boolean { return this.irqLevel; }

  private statusOf(d: AtaDevice | undefined): number {
    if (this.empty || !d) return 0;
    return d.status;
  }

  readReg(offset: number): number {
    if (this.empty) return 0;
    const d = this.selected;
    switch (offset) {
      case 1: return d ? d.error : 0;
      case 2: case 3: case 4: case 5: {
        const r = TF_REGS[offset]!;
        return this.control & CTL_HOB ? this.tf.prev[r] : this.tf.cur[r];
      }
      case 6: return this.tf.device | 0xa0; // bits 7 and 5 are obsolete and read as one
      default: { // Status: reading it clears the pending interrupt (ATA-6 7.15)
        const v = this.statusOf(d);
        if (d) { d.intrq = false; this.update(); }
        return v;
      }
    }
  }

  writeReg(offset: number, v: number): void {
    // Writing any command block register clears HOB (ATA-6 7.8).
    this.control &= ~CTL_HOB;
    const d = this.selected;
    if (d && d.status & ST_BSY) return; // the device ignores writes while busy
    switch (offset) {
      case 1: case 2: case 3: case 4: case 5: this.tf.write(TF_REGS[offset]!, v); break;
      case 6: this.tf.device = v; this.update(); break;
      default:
        if (v === CMD_EXECUTE_DIAGNOSTIC) { this.diagnostic(); break; }
        if (!d) break; // no device there: the command goes nowhere
        // Writing Command negates INTRQ (ATA-6 5.2.9); the command may assert it again,
        // which the edge-triggered PIC must see as a new edge.
        d.intrq = false;
        this.update();
        d.command(v, this.tf);
        this.update();
        if (d.dir === 'dma-in' || d.dir === 'dma-out') this.onDmaReady?.();
    }
  }

  /** EXECUTE DEVICE DIAGNOSTIC (ATA-6 8.11): signatures, device 0 selected, code 01h. */
  private diagnostic(): void {
    for (const d of this.devices) if (d) d.reset(this.tf);
    this.tf.device = 0;
    if (this.devices[0]) this.devices[0].intrq = true;
    this.update();
  }

  readAltStatus(): number { return this.statusOf(this.selected); }

  /** Device Control (ATA-6 7.8): SRST resets both devices while set; nIEN masks INTRQ. */
  writeControl(v: number): void {
    const was = this.control;
    this.control = v & (CTL_NIEN | CTL_SRST | CTL_HOB);
    if (v & CTL_SRST && !(was & CTL_SRST)) {
      for (const d of this.devices) if (d) { d.reset(this.tf); d.status = ST_BSY; }
    } else if (!(v & CTL_SRST) && was & CTL_SRST) {
      for (const d of this.devices) if (d) d.reset(this.tf);
    }
    this.update();
  }

  readData(size: number): number {
    const d = this.selected;
    if (!d) return size === 4 ? 0xffffffff : 0xffff;
    const v = d.readData(size === 1 ? 2 : size, this.tf);
    this.update();
    return size === 1 ? v & 0xff : v;
  }

  writeData(size: number, v: number): void {
    const d = this.selected;
    if (!d) return;
    d.writeData(size === 1 ? 2 : size, v, this.tf);
    this.update();
  }

  attach(bus: Bus, base: number, ctl: number): void {
    bus.register({ space: 'pio', base, length: 1, width: 4, device: {
      name: `ide-data@${base.toString(16)}`,
      read: (_o, s) => this.readData(s), write: (_o, s, v) => this.writeData(s, v),
    } });
    bus.register({ space: 'pio', base: base + 1, length: 7, width: 1, device: {
      name: `ide@${base.toString(16)}`,
      read: (o) => this.readReg(o + 1), write: (o, _s, v) => this.writeReg(o + 1, v),
    } });
    bus.register({ space: 'pio', base: ctl, length: 1, width: 1, device: {
      name: `ide-ctl@${ctl.toString(16)}`,
      read: () => this.readAltStatus(), write: (_o, _s, v) => this.writeControl(v),
    } });
  }

  /**
   * Lets the bus master run the selected device's pending DMA command (see PiixIde) and
   * updates INTRQ after it.
   */
  dma(run: (d: AtaDevice, tf: TaskFile) => void): void {
    const d = this.selected;
    if (!d || (d.dir !== 'dma-in' && d.dir !== 'dma-out')) return;
    run(d, this.tf);
    this.update();
  }

  /** Flushes every disk (the machine calls it at exit so nothing written is lost). */
  flush(): void { for (const d of this.devices) d?.backend.flush(); }

  state() {
    return {
      tf: this.tf.state(), control: this.control, irq: this.irqLevel,
      devices: this.devices.map((d) => d?.state() ?? null),
    };
  }

  /** Restores into a channel with the same disks attached. */
  restore(s: unknown, path: string): void {
    const o = obj(s, path);
    this.tf = TaskFile.fromState(o.tf, `${path}.tf`);
    this.control = int(o, 'control', path, 0, 255) & (CTL_NIEN | CTL_SRST | CTL_HOB);
    const devs = o.devices;
    if (!Array.isArray(devs) || devs.length !== 2) {
      throw new DeviceStateError(`${path}.devices`, 'expected two entries');
    }
    for (let i = 0; i < 2; i++) {
      const cur = this.devices[i];
      if (!!cur !== (devs[i] !== null)) {
        throw new DeviceStateError(`${path}.devices[${i}]`,
          'the snapshot and this machine disagree on a disk there');
      }
      if (cur) {
        const d = AtaDevice.fromState(devs[i], cur.backend, cur.options, `${path}.devices[${i}]`);
        d.dmaCapable = cur.dmaCapable;
        this.devices[i] = d;
      }
    }
    this.irqLevel = bool(o, 'irq', path);
    this.update();
  }
}
