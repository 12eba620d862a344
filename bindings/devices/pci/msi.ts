/**
 * Message signalled interrupts: the MSI capability (PCI Local Bus Specification 3.0, 6.8.1,
 * figures 6-9 and 6-10) and the MSI-X capability with its table and pending bit array
 * (PCI 3.0, 6.8.2; PCI Express Base Specification 3.0, 7.7), in a function's configuration
 * space. A message is a dword memory write of Message Data to Message Address; on x86 the
 * address window 0xFEExxxxx reaches the local APICs (Intel SDM vol. 3A, 10.11.1 address
 * format: destination ID 19:12, RH 3, DM 2; 10.11.2 data format: vector 7:0, delivery
 * mode 10:8, level 14, trigger mode 15).
 */
import type { BusDevice } from '../bus.js';
import {
  CMD_BUS_MASTER, PCI_CAP_PTR, PCI_COMMAND, PCI_STATUS, type PciFunction,
} from './pci-function.js';

/** Capability IDs (PCI 3.0, appendix H). */
export const CAP_ID_MSI = 0x05;
export const CAP_ID_MSIX = 0x11;
/** Status bit 4: the function has a capabilities list (6.2.3). */
const STATUS_CAP_LIST = 0x0010;

/** Where messages go: the platform's interrupt delivery (the local APIC) or memory. */
export type MsiSink = (address: number, data: number) => void;

/** Links a capability into the function's list (6.7): after the last one, or first. */
function linkCapability(fn: PciFunction, offset: number, id: number): void {
  fn.config[offset] = id;
  fn.config[offset + 1] = 0;
  let p = fn.config[PCI_CAP_PTR];
  if (!p) fn.config[PCI_CAP_PTR] = offset;
  else {
    for (let guard = 0; fn.config[p + 1] && guard < 48; guard++) p = fn.config[p + 1];
    fn.config[p + 1] = offset;
  }
  fn.set16(PCI_STATUS, fn.get16(PCI_STATUS) | STATUS_CAP_LIST);
}

const busMaster = (fn: PciFunction) => (fn.get16(PCI_COMMAND) & CMD_BUS_MASTER) !== 0;

export interface MsiOptions {
  /** Vectors requested (Multiple Message Capable: 1, 2, 4, 8, 16 or 32). */
  vectors?: number;
  /** 64-bit address capable (bit 7). */
  is64?: boolean;
  /** Per-vector masking capable (bit 8). */
  perVectorMask?: boolean;
}

export interface MsiStats { sent: number; masked: number; noBusMaster: number }

/** The MSI capability structure at `offset` (figure 6-9 and 6-10 layouts). */
export class MsiCapability {
  readonly stats: MsiStats = { sent: 0, masked: 0, noBusMaster: 0 };
  private readonly dataOff: number;
  private readonly maskOff: number;

  constructor(private readonly fn: PciFunction, readonly offset: number,
    private readonly sink: MsiSink, readonly opts: MsiOptions = {}) {
    const vectors = opts.vectors ?? 1;
    const mmc = Math.log2(vectors);
    if (!Number.isInteger(mmc) || mmc < 0 || mmc > 5) {
      throw new RangeError(`MSI: ${vectors} vectors is not a power of two up to 32`);
    }
    linkCapability(fn, offset, CAP_ID_MSI);
    // Message Control (6.8.1.3): enable 0 RW, MMC 3:1 RO, MME 6:4 RW, 64-bit 7 RO,
    // per-vector masking 8 RO.
    const ctl = (mmc << 1) | (opts.is64 ? 0x80 : 0) | (opts.perVectorMask ? 0x100 : 0);
    fn.defineRegister(offset + 2, ctl, 2, 0x0071);
    // Message Address (6.8.1.4): bits 1:0 reserved, read 0.
    fn.defineRegister(offset + 4, 0, 4, 0xfffffffc);
    if (opts.is64) fn.defineRegister(offset + 8, 0, 4); // Message Upper Address (6.8.1.5)
    this.dataOff = offset + (opts.is64 ? 12 : 8);
    fn.defineRegister(this.dataOff, 0, 2, 0xffff); // Message Data (6.8.1.6)
    this.maskOff = this.dataOff + 4;
    if (opts.perVectorMask) {
      fn.defineRegister(this.maskOff, 0, 4, vectors === 32 ? 0xffffffff : (1 << vectors) - 1);
      fn.defineRegister(this.maskOff + 4, 0, 4, 0); // Pending Bits, read-only (6.8.1.8)
    }
  }

  get control(): number { return this.fn.get16(this.offset + 2); }
  get enabled(): boolean { return (this.control & 1) !== 0; }
  /** Vectors the system allocated (Multiple Message Enable, capped at what is capable). */
  get allocated(): number {
    return 1 << Math.min((this.control >> 4) & 7, (this.control >> 1) & 7);
  }

  /**
   * Signals vector `n` (0 .. allocated-1): the low bits of Message Data carry it (6.8.1.6).
   * A masked vector sets its pending bit instead; no message goes out without Bus Master
   * Enable (6.2.2: the function may not initiate memory writes).
   */
  notify(n = 0): boolean {
    if (!this.enabled) return false;
    n &= this.allocated - 1;
    if (!busMaster(this.fn)) { this.stats.noBusMaster++; return false; }
    if (this.opts.perVectorMask && (this.fn.get32(this.maskOff) >>> n) & 1) {
      this.fn.defineRegister(this.maskOff + 4, this.fn.get32(this.maskOff + 4) | (1 << n), 4, 0);
      this.stats.masked++;
      return false;
    }
    const data = (this.fn.get16(this.dataOff) & ~(this.allocated - 1)) | n;
    this.stats.sent++;
    this.sink(this.fn.get32(this.offset + 4), data);
    return true;
  }
}

export interface MsixOptions {
  /** Table entries (1 .. 2048). */
  vectors: number;
  /** BAR indicator and offset of the table and of the PBA (QWORD-aligned). */
  tableBar: number; tableOffset: number;
  pbaBar: number; pbaOffset: number;
}

export interface MsixStats { sent: number; pending: number; noBusMaster: number }

/**
 * The MSI-X capability (PCIe 3.0, 7.7: ID 11h; Message Control 10:0 table size - 1 RO,
 * 14 function mask RW, 15 enable RW; Table Offset/BIR and PBA Offset/BIR RO) and its
 * table (16 bytes per entry: address, upper address, data, vector control with mask bit 0,
 * set at reset: 7.7.3) and pending bit array. `table` and `pba` are the registers to map
 * inside the BARs named.
 */
export class MsixCapability {
  readonly stats: MsixStats = { sent: 0, pending: 0, noBusMaster: 0 };
  private readonly entries: Uint32Array;
  private readonly pendingBits: Uint32Array;
  readonly table: BusDevice;
  readonly pba: BusDevice;

  constructor(private readonly fn: PciFunction, readonly offset: number,
    private readonly sink: MsiSink, readonly opts: MsixOptions) {
    const n = opts.vectors;
    if (!Number.isInteger(n) || n < 1 || n > 2048) {
      throw new RangeError(`MSI-X: ${n} vectors is outside 1..2048`);
    }
    linkCapability(fn, offset, CAP_ID_MSIX);
    fn.defineRegister(offset + 2, n - 1, 2, 0xc000);
    fn.defineRegister(offset + 4, (opts.tableOffset & ~7) | (opts.tableBar & 7), 4, 0);
    fn.defineRegister(offset + 8, (opts.pbaOffset & ~7) | (opts.pbaBar & 7), 4, 0);
    this.entries = new Uint32Array(4 * n);
    for (let i = 0; i < n; i++) this.entries[4 * i + 3] = 1; // masked at reset
    this.pendingBits = new Uint32Array(Math.ceil(n / 32) + 1);
    const dw = (o: number, size: number, v: number) =>
      (size === 4 ? v : (v >>> (8 * (o & 3))) & ((1 << (8 * size)) - 1)) >>> 0;
    this.table = {
      name: `${fn.name}-msix-table`,
      read: (o, size) => {
        const i = o >> 2;
        return i < this.entries.length ? dw(o, size, this.entries[i]) : 0;
      },
      write: (o, size, v) => this.writeEntry(o, size, v),
    };
    this.pba = {
      name: `${fn.name}-msix-pba`,
      read: (o, size) => {
        const i = o >> 2;
        return i < this.pendingBits.length ? dw(o, size, this.pendingBits[i]) : 0;
      },
      write: () => {}, // read-only (7.7.4)
    };
  }

  get control(): number { return this.fn.get16(this.offset + 2); }
  get enabled(): boolean { return (this.control & 0x8000) !== 0; }
  get functionMasked(): boolean { return (this.control & 0x4000) !== 0; }

  /** Only dword writes change an entry; a cleared mask bit sends a pending message. */
  private writeEntry(o: number, size: number, v: number): void {
    const i = o >> 2;
    if (size !== 4 || o & 3 || i >= this.entries.length) return;
    this.entries[i] = (i & 3) === 3 ? v & 1 : v >>> 0; // vector control: bit 0 only
    if ((i & 3) === 3 && !(v & 1)) this.flush(i >> 2);
  }

  /** After the function mask clears (a config write), pending vectors are sent. */
  configChanged(): void {
    if (!this.enabled || this.functionMasked) return;
    for (let n = 0; n < this.opts.vectors; n++) this.flush(n);
  }

  private flush(n: number): void {
    if ((this.pendingBits[n >> 5] >>> (n & 31)) & 1) this.notify(n);
  }

  /** Signals table entry `n` (PCIe 3.0, 6.1.4: masked, it is held pending in the PBA). */
  notify(n: number): boolean {
    if (!this.enabled || n < 0 || n >= this.opts.vectors) return false;
    if (!busMaster(this.fn)) { this.stats.noBusMaster++; return false; }
    if (this.functionMasked || this.entries[4 * n + 3] & 1) {
      this.pendingBits[n >> 5] |= 1 << (n & 31);
      this.stats.pending++;
      return false;
    }
    this.pendingBits[n >> 5] &= ~(1 << (n & 31));
    this.stats.sent++;
    this.sink(this.entries[4 * n], this.entries[4 * n + 2]);
    return true;
  }
}

/** The local APIC's message decoding (SDM vol. 3A, 10.11.1, 10.11.2). */
export interface ApicMessageTarget {
  matches(dest: number, logical: boolean): boolean;
  acceptMessage(mode: number, vector: number, level: boolean, source: 'msi'): void;
}

export interface MsiRouteStats { delivered: number; notApic: number }

/**
 * A sink for x86: writes to 0xFEExxxxx are interrupt messages to the local APIC; any
 * other address is an ordinary memory write, which a device's MSI should never do
 * (dropped here and counted).
 */
export function apicMsiSink(apic: ApicMessageTarget, stats: MsiRouteStats): MsiSink {
  return (address, data) => {
    if ((address & 0xfff00000) >>> 0 !== 0xfee00000) { stats.notApic++; return; }
    const dest = (address >>> 12) & 0xff;
    if (!apic.matches(dest, (address & 4) !== 0)) return;
    stats.delivered++;
    // Level (bit 14) matters for level-triggered messages only (trigger bit 15).
    apic.acceptMessage((data >> 8) & 7, data & 0xff, (data & 0x8000) !== 0, 'msi');
  };
}
