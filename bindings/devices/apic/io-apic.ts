/**
 * The Intel 82093AA I/O APIC (datasheet, order 290566; sections below are its): IOREGSEL
 * at base+0x00 and IOWIN at base+0x10 (3.1), registers IOAPICID (0x00), IOAPICVER (0x01),
 * IOAPICARB (0x02) and 24 64-bit redirection entries at 0x10-0x3F (3.2), edge and level
 * inputs with remote IRR, ended by the local APIC's EOI broadcast.
 */
import type { Bus } from '../bus.js';
import type { IrqLine } from '../irq.js';
import { DeviceStateError, int, intArray, obj } from '../state.js';

/** Default base (3.0: FEC0xy00h, xy = 00h after reset). */
export const IOAPIC_DEFAULT_BASE = 0xfec00000;
export const IOAPIC_PINS = 24;
/** IOAPICVER (3.2.2): version 11h, Maximum Redirection Entry 17h (24 entries). */
export const IOAPIC_VERSION_VALUE = 0x00170011;
// Redirection entry bits (3.2.4).
const RTE_DELIVERY_STATUS = 1 << 12;
const RTE_REMOTE_IRR = 1 << 14;
const RTE_LEVEL = 1 << 15;
const RTE_MASKED = 1 << 16;
const RTE_LOGICAL = 1 << 11;
/** Low dword writable: vector 7:0, delivery mode 10:8, destination mode 11, polarity 13,
 *  trigger 15, mask 16; delivery status (12) and remote IRR (14) are read-only, 55:17
 *  reserved. High dword: destination 63:56. */
const RTE_LO_WRITABLE = 0x0001afff;
const RTE_HI_WRITABLE = 0xff000000;

/** Where the I/O APIC's messages go: the local APIC (acceptMessage / matches). */
export interface ApicSink {
  matches(dest: number, logical: boolean): boolean;
  acceptMessage(mode: number, vector: number, level: boolean, source: 'ioapic'): void;
}

export interface IoApicStats {
  /** Messages sent, by pin. */
  perPin: number[];
  /** Edges lost on a masked pin (3.2.4: not delivered nor held). */
  maskedEdges: number;
  eois: number;
}

export interface IoApicState {
  sel: number; id: number; lo: number[]; hi: number[]; lines: number;
}

export class IoApic {
  sel = 0;
  /** IOAPICID bits 27:24 (3.2.1). */
  id = 0;
  /** Every entry masked after reset (3.2.4: "mask ... set after reset"). */
  readonly lo: number[] = new Array(IOAPIC_PINS).fill(RTE_MASKED);
  readonly hi: number[] = new Array(IOAPIC_PINS).fill(0);
  /** The level of each input pin (bit n = pin n asserted). */
  private lines = 0;
  private readonly lineObjs: IrqLine[] = [];
  readonly stats: IoApicStats = { perPin: new Array(IOAPIC_PINS).fill(0), maskedEdges: 0, eois: 0 };

  constructor(private readonly sink: ApicSink) {
    for (let n = 0; n < IOAPIC_PINS; n++) {
      this.lineObjs.push({
        set: (level) => this.setPin(n, level),
        pulse: () => { this.setPin(n, true); this.setPin(n, false); },
      });
    }
  }

  line(pin: number): IrqLine {
    if (!Number.isInteger(pin) || pin < 0 || pin >= IOAPIC_PINS) {
      throw new RangeError(`no pin ${pin} on the I/O APIC`);
    }
    return this.lineObjs[pin];
  }

  /** Drives input pin `n` (its asserted level: the polarity bit is the board's concern). */
  setPin(n: number, level: boolean): void {
    const b = 1 << n;
    const was = (this.lines & b) !== 0;
    if (level) this.lines |= b; else this.lines &= ~b;
    if (!level) return;
    if (this.lo[n] & RTE_LEVEL) this.service(n);
    else if (!was) {
      if (this.lo[n] & RTE_MASKED) this.stats.maskedEdges++;
      else this.send(n);
    }
  }

  /** A level pin that is asserted, unmasked and not awaiting EOI sends its message. */
  private service(n: number): void {
    const lo = this.lo[n];
    if (!(this.lines & (1 << n)) || lo & RTE_MASKED || lo & RTE_REMOTE_IRR) return;
    this.lo[n] = lo | RTE_REMOTE_IRR;
    this.send(n);
  }

  private send(n: number): void {
    const lo = this.lo[n];
    if (!this.sink.matches(this.hi[n] >>> 24, (lo & RTE_LOGICAL) !== 0)) {
      if (lo & RTE_LEVEL) this.lo[n] &= ~RTE_REMOTE_IRR;
      return;
    }
    this.stats.perPin[n]++;
    this.sink.acceptMessage((lo >> 8) & 7, lo & 0xff, (lo & RTE_LEVEL) !== 0, 'ioapic');
  }

  /** The local APIC's EOI of a level vector: remote IRR of the entries with it clears, and
   *  a line still asserted sends again (3.2.4 "Remote IRR"). */
  eoi(vector: number): void {
    this.stats.eois++;
    for (let n = 0; n < IOAPIC_PINS; n++) {
      const lo = this.lo[n];
      if ((lo & 0xff) !== vector || !(lo & RTE_REMOTE_IRR)) continue;
      this.lo[n] = lo & ~RTE_REMOTE_IRR;
      this.service(n);
    }
  }

  readRegister(index: number): number {
    switch (index) {
      case 0x00: return this.id;
      case 0x01: return IOAPIC_VERSION_VALUE;
      case 0x02: return this.id; // IOAPICARB: loaded with the ID (3.2.3)
    }
    if (index >= 0x10 && index < 0x10 + 2 * IOAPIC_PINS) {
      const n = (index - 0x10) >> 1;
      return index & 1 ? this.hi[n] : this.lo[n] & ~RTE_DELIVERY_STATUS;
    }
    return 0;
  }

  writeRegister(index: number, v: number): void {
    if (index === 0x00) { this.id = v & 0x0f000000; return; }
    if (index < 0x10 || index >= 0x10 + 2 * IOAPIC_PINS) return; // read-only or reserved
    const n = (index - 0x10) >> 1;
    if (index & 1) { this.hi[n] = (v & RTE_HI_WRITABLE) >>> 0; return; }
    const keep = this.lo[n] & RTE_REMOTE_IRR;
    this.lo[n] = ((v & RTE_LO_WRITABLE) | keep) >>> 0;
    // An edge entry keeps no remote IRR; an unmasked level pin still asserted sends.
    if (!(this.lo[n] & RTE_LEVEL)) this.lo[n] &= ~RTE_REMOTE_IRR;
    else this.service(n);
  }

  /** IOREGSEL (bits 7:0) and IOWIN; other offsets of the window read 0 and drop writes. */
  read(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    if (offset < 4) v = this.sel >>> (8 * offset);
    else if (offset >= 0x10 && offset < 0x14) {
      v = this.readRegister(this.sel) >>> (8 * (offset - 0x10));
    }
    return size === 4 ? v >>> 0 : v & ((1 << (8 * size)) - 1);
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset === 0) { this.sel = value & 0xff; return; }
    // IOWIN takes dwords (3.1: "IOWIN ... 32-bit"): narrower writes are dropped.
    if (offset === 0x10 && size === 4) this.writeRegister(this.sel, value);
  }

  attach(bus: Bus, base = IOAPIC_DEFAULT_BASE): void {
    bus.register({ space: 'mmio', base, length: 0x20, width: 4, device: {
      name: 'io-apic', read: (o, s) => this.read(o, s), write: (o, s, v) => this.write(o, s, v),
    } });
  }

  state(): IoApicState {
    return { sel: this.sel, id: this.id, lo: [...this.lo], hi: [...this.hi], lines: this.lines };
  }

  static fromState(s: unknown, sink: ApicSink): IoApic {
    const p = 'ioapic';
    const o = obj(s, p);
    const a = new IoApic(sink);
    a.sel = int(o, 'sel', p, 0, 255);
    a.id = int(o, 'id', p, 0, 0xffffffff) & 0x0f000000;
    const lo = intArray(o, 'lo', p, 0, 0xffffffff, IOAPIC_PINS);
    const hi = intArray(o, 'hi', p, 0, 0xffffffff, IOAPIC_PINS);
    if (lo.length !== IOAPIC_PINS || hi.length !== IOAPIC_PINS) {
      throw new DeviceStateError(`${p}.lo`, `expected ${IOAPIC_PINS} entries`);
    }
    lo.forEach((v, i) => { a.lo[i] = (v & (RTE_LO_WRITABLE | RTE_REMOTE_IRR)) >>> 0; });
    hi.forEach((v, i) => { a.hi[i] = (v & RTE_HI_WRITABLE) >>> 0; });
    a.lines = int(o, 'lines', p, 0, 0xffffff);
    return a;
  }
}
