/**
 * A PCI function's type 0 configuration space (PCI Local Bus Specification 3.0, 6.1,
 * Figure 6-1): 256 bytes with a write mask, write-one-to-clear status bits, and BARs that
 * size themselves (6.2.5.1: software writes all ones and reads back the size mask).
 * Devices (IDE, later virtio, SR-IOV functions) build on it.
 */
import { BusError, type Bus, type BusDevice } from '../bus.js';
import { NO_IRQ, type IrqLine } from '../irq.js';
import { bytes, encodeBytes, obj } from '../state.js';

// Header offsets (3.0, 6.1).
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CACHE_LINE = 0x0c;
export const PCI_LATENCY = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM = 0x30;
export const PCI_CAP_PTR = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
// Command register bits (6.2.2).
export const CMD_IO = 0x0001;
export const CMD_MEMORY = 0x0002;
export const CMD_BUS_MASTER = 0x0004;
export const CMD_PARITY = 0x0040;
export const CMD_SERR = 0x0100;
export const CMD_INTX_DISABLE = 0x0400;
/** The command bits a function implements here. */
const CMD_WRITABLE =
  CMD_IO | CMD_MEMORY | CMD_BUS_MASTER | CMD_PARITY | CMD_SERR | CMD_INTX_DISABLE;
/** Status bits 15-11 and 8 are RW1C (6.2.3): error bits the function reports. */
const STATUS_W1C = 0xf900;
/** Status bit 3: the function's INTx# is asserted, whatever the command register says (6.2.3). */
export const STATUS_INTERRUPT = 0x0008;
// Header type.
export const HEADER_MULTIFUNCTION = 0x80;

export interface PciIdentity {
  vendor: number;
  device: number;
  /** Class code: base class << 16 | subclass << 8 | programming interface (Appendix D). */
  classCode: number;
  revision?: number;
  headerType?: number;
  subsystemVendor?: number;
  subsystemId?: number;
  /** 1-4 for INTA#-INTD#, 0 for none. */
  interruptPin?: number;
  /** Initial status register (e.g. DEVSEL timing bits 10-9). */
  status?: number;
}

export interface BarDefinition {
  kind: 'io' | 'mem32';
  /** Size in bytes, a power of two (at least 4 for I/O, 16 for memory). */
  size: number;
  prefetchable?: boolean;
  /** The registers decoded at the BAR's address; mapped on the bus while decoding is enabled. */
  device?: BusDevice;
  width?: 1 | 2 | 4;
}

export class PciFunction {
  config: Uint8Array = new Uint8Array(256);
  readonly wmask = new Uint8Array(256);
  readonly w1c = new Uint8Array(256);
  readonly bars: (BarDefinition | undefined)[] = new Array(6).fill(undefined);
  /** Where each BAR is mapped on the bus now, or -1. */
  private readonly mapped: number[] = new Array(6).fill(-1);
  private bus?: Bus;
  /** BAR programmings refused because the range overlapped something else. */
  overlaps = 0;
  /** Where INTx# goes: set by the host bridge's interrupt router when the function is added. */
  intxLine: IrqLine = NO_IRQ;
  private intxLevel = false;
  private intxDriven = false;
  /** Called after each configuration byte written (chipset registers with side effects). */
  onConfigWrite?: (offset: number) => void;

  constructor(readonly name: string, id: PciIdentity) {
    this.set16(PCI_VENDOR_ID, id.vendor);
    this.set16(PCI_DEVICE_ID, id.device);
    this.config[PCI_REVISION] = id.revision ?? 0;
    this.config[PCI_CLASS_PROG] = id.classCode & 0xff;
    this.config[PCI_CLASS_PROG + 1] = (id.classCode >> 8) & 0xff;
    this.config[PCI_CLASS_PROG + 2] = (id.classCode >> 16) & 0xff;
    this.config[PCI_HEADER_TYPE] = id.headerType ?? 0;
    this.set16(PCI_SUBSYSTEM_VENDOR, id.subsystemVendor ?? 0);
    this.set16(PCI_SUBSYSTEM_ID, id.subsystemId ?? 0);
    this.config[PCI_INTERRUPT_PIN] = id.interruptPin ?? 0;
    this.set16(PCI_STATUS, id.status ?? 0);
    this.setMask16(PCI_COMMAND, CMD_WRITABLE);
    this.w1c[PCI_STATUS] = STATUS_W1C & 0xff;
    this.w1c[PCI_STATUS + 1] = STATUS_W1C >> 8;
    this.wmask[PCI_CACHE_LINE] = 0xff;
    this.wmask[PCI_LATENCY] = 0xff;
    this.wmask[PCI_INTERRUPT_LINE] = 0xff;
  }

  set16(off: number, v: number): void {
    this.config[off] = v & 0xff; this.config[off + 1] = (v >> 8) & 0xff;
  }
  get16(off: number): number { return this.config[off] | (this.config[off + 1] << 8); }
  get32(off: number): number { return (this.get16(off) | (this.get16(off + 2) << 16)) >>> 0; }
  setMask16(off: number, m: number): void {
    this.wmask[off] = m & 0xff; this.wmask[off + 1] = (m >> 8) & 0xff;
  }

  /** A device-specific register of 1-4 bytes with its reset value and writable bits. */
  defineRegister(off: number, reset: number, length: 1 | 2 | 4 = 1, writeMask = 0xffffffff): void {
    for (let i = 0; i < length; i++) {
      this.config[off + i] = (reset >>> (8 * i)) & 0xff;
      this.wmask[off + i] = (writeMask >>> (8 * i)) & 0xff;
    }
  }

  /** Declares BAR `i` (3.0, 6.2.5.1: the low bits give the type; writable bits give the size). */
  defineBar(i: number, bar: BarDefinition): void {
    const min = bar.kind === 'io' ? 4 : 16;
    if (bar.size < min || (bar.size & (bar.size - 1)) !== 0) {
      throw new RangeError(
        `${this.name}: BAR${i} size ${bar.size} is not a power of two >= ${min}`);
    }
    this.bars[i] = bar;
    const off = PCI_BAR0 + 4 * i;
    const type = bar.kind === 'io' ? 0x1 : bar.prefetchable ? 0x8 : 0x0;
    const low = bar.kind === 'io' ? 0x3 : 0xf;
    // All address bits above the size are writable, I/O BARs included (a 16-byte I/O BAR
    // sizes as FFFFFFF1h, as QEMU's PIIX3 IDE BAR4 does); the bus decodes the low 16.
    const mask = ~(bar.size - 1) & ~low;
    for (let b = 0; b < 4; b++) {
      this.wmask[off + b] = (mask >>> (8 * b)) & 0xff;
      this.config[off + b] = 0;
    }
    this.config[off] = type;
  }

  /** The address BAR `i` holds (type bits removed). */
  barAddress(i: number): number {
    const bar = this.bars[i];
    if (!bar) return 0;
    return (this.get32(PCI_BAR0 + 4 * i) & (bar.kind === 'io' ? 0xfffffffc : 0xfffffff0)) >>> 0;
  }

  readConfig(off: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.config[(off + i) & 0xff] << (8 * i);
    return v >>> 0;
  }

  writeConfig(off: number, size: 1 | 2 | 4, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = (off + i) & 0xff;
      const b = (value >>> (8 * i)) & 0xff;
      this.config[o] = (this.config[o] & ~this.wmask[o]) | (b & this.wmask[o]);
      this.config[o] &= ~(b & this.w1c[o]);
      this.onConfigWrite?.(o);
    }
    this.remap();
    this.driveIntx();
  }

  /**
   * The device asserts or releases its INTx# pin (the one in Interrupt Pin). The status
   * bit follows the pin; the line is driven only while command bit 10 (Interrupt Disable)
   * is clear (6.2.2, 6.2.3).
   */
  setIntx(level: boolean): void {
    this.intxLevel = level;
    const st = this.get16(PCI_STATUS);
    this.set16(PCI_STATUS, level ? st | STATUS_INTERRUPT : st & ~STATUS_INTERRUPT);
    this.driveIntx();
  }

  private driveIntx(): void {
    const drive = this.intxLevel && !(this.get16(PCI_COMMAND) & CMD_INTX_DISABLE);
    if (drive !== this.intxDriven) { this.intxDriven = drive; this.intxLine.set(drive); }
  }

  /** Maps BARs on `bus` as the guest programs them. */
  attachBars(bus: Bus): void { this.bus = bus; this.remap(); }

  /** (Re)maps each BAR whose decode is enabled in the command register (6.2.2). */
  private remap(): void {
    if (!this.bus) return;
    const cmd = this.get16(PCI_COMMAND);
    for (let i = 0; i < 6; i++) {
      const bar = this.bars[i];
      if (!bar?.device) continue;
      const enabled = bar.kind === 'io' ? (cmd & CMD_IO) !== 0 : (cmd & CMD_MEMORY) !== 0;
      const addr = this.barAddress(i);
      // An I/O BAR above 64 KiB decodes nothing on x86; a memory BAR must fit below 4 GiB.
      const fits = bar.kind === 'io' ? addr + bar.size <= 0x10000 : addr + bar.size <= 2 ** 32;
      const want = enabled && addr !== 0 && fits ? addr : -1;
      if (want === this.mapped[i]) continue;
      const space = bar.kind === 'io' ? 'pio' : 'mmio';
      if (this.mapped[i] >= 0) this.bus.unregister(space, this.mapped[i]);
      this.mapped[i] = -1;
      if (want < 0) continue;
      try {
        this.bus.register({
          space, base: want, length: bar.size, device: bar.device, width: bar.width,
        });
        this.mapped[i] = want;
      } catch (e) {
        // A guest may program a BAR over another device; real decoding would then be
        // undefined. Here the BAR stays unmapped, counted, and the VM goes on.
        if (!(e instanceof BusError)) throw e;
        this.overlaps++;
      }
    }
  }

  state(): { config: string } { return { config: encodeBytes(this.config) }; }

  /** Restores the configuration bytes; read-only ones keep this build's values. */
  restore(s: unknown, path: string): void {
    const saved = bytes(obj(s, path), 'config', path, 256);
    for (let o = 0; o < 256; o++) {
      this.config[o] = (this.config[o] & ~this.wmask[o]) | (saved[o] & this.wmask[o]);
    }
    this.remap();
  }
}
