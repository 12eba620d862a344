/**
 * One Intel 8259A programmable interrupt controller (datasheet "8259A Programmable
 * Interrupt Controller", Intel order 231468). The master/slave pair, the cascade and the
 * PIIX ELCR registers are in `pic-pair.ts`.
 *
 * Priority is kept as in the datasheet's "Priority Resolver": `lowest` is the IR level
 * with the lowest priority (7 after ICW1); the level after it has the highest.
 */
import { bool, DeviceStateError, int, obj } from './state.js';

export interface Pic8259State {
  irr: number; isr: number; imr: number; lines: number; ltim: boolean; elcr: number;
  initStep: number; needIcw4: boolean; single: boolean; vectorBase: number; icw3: number;
  autoEoi: boolean; rotateInAutoEoi: boolean; specialFullyNested: boolean;
  specialMask: boolean; readIsr: boolean; poll: boolean; lowest: number;
}

/** Init sequence position: 0 ready, 2/3/4 expecting ICW2/ICW3/ICW4. */
const READY = 0;

export class Pic8259 {
  /** Interrupt request register: requests waiting for service. */
  irr = 0;
  /** In-service register. */
  isr = 0;
  /**
   * Interrupt mask register (OCW1). The datasheet gives no state before ICW1; as Bochs 2.7
   * does (and a probe from the reset vector reads back), every line starts masked, so an
   * 8259A nobody initialised raises no INT. QEMU 7.2 starts unmasked with vector base 0,
   * but its local APIC keeps LINT0 masked after reset, so no interrupt reaches the CPU
   * there either (test/devices/power-on.test.ts).
   */
  imr = 0xff;
  /** The current level of each IR input pin. */
  lines = 0;
  /** Inputs that are level sensitive (ICW1 LTIM for all, or the ELCR per line). */
  level = 0;
  initStep = READY;
  needIcw4 = false;
  single = false;
  /** T7-T3 of ICW2: the vector of IR0 in 8086 mode. Before ICW2, the AT BIOS vectors
   *  0x08 and 0x70 (Bochs' power-on values), never the exception vectors. */
  vectorBase: number;
  /** ICW3: slave mask (master) or slave ID (slave); before ICW3, the AT cascade on IR2. */
  icw3: number;
  autoEoi = false;
  rotateInAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;
  poll = false;
  lowest = 7;

  constructor(readonly isMaster: boolean) {
    this.vectorBase = isMaster ? 0x08 : 0x70;
    this.icw3 = isMaster ? 0x04 : 0x02;
  }

  /** Level sensitivity set by ICW1 LTIM; `elcr` (PIIX) adds per-line level mode. */
  ltim = false;
  elcr = 0;

  private updateLevelMask(): void { this.level = this.ltim ? 0xff : this.elcr; }

  setElcr(mask: number): void {
    this.elcr = mask & 0xff;
    this.updateLevelMask();
    this.resampleLevel();
  }

  /** Level lines request while high, whatever happened before (datasheet, LTIM). */
  private resampleLevel(): void {
    this.irr = (this.irr & ~this.level) | (this.lines & this.level);
  }

  /** Drives IR input `n` (0-7). */
  setLine(n: number, high: boolean): void {
    const bit = 1 << n;
    if (high) {
      // Edge mode latches a low-to-high transition only: a line that was already high when
      // ICW1 reset the edge-sense latch must go low first ("Initialization Command Words").
      if (this.level & bit || !(this.lines & bit)) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      // In both modes the request goes away with the line: "the IR input must remain high
      // until after the falling edge of the first INTA. If the IR input goes low before
      // this time a DEFAULT IR7 will occur" (datasheet, "Edge and Level Triggered Modes").
      // Bochs models the same; QEMU and KVM keep a withdrawn edge request latched.
      this.irr &= ~bit;
    }
  }

  /**
   * Power-on: the levels the IR inputs have when power comes are not edges (the edge
   * sense latch starts reset, as ICW1 leaves it), so a timer output that is high from the
   * start requests nothing. Bochs 2.7 reads IRR 0 there too.
   */
  powerOn(): void { this.irr &= this.level; }

  /** Priority (0 = highest) of the best set bit of `mask` under the current rotation, 8 if none. */
  private priority(mask: number): number {
    if (mask === 0) return 8;
    let p = 0;
    while (!(mask & (1 << ((p + this.lowest + 1) & 7)))) p++;
    return p;
  }

  /** The IR level that would interrupt now, or -1 (datasheet, "Priority Resolver"). */
  pending(): number {
    const req = this.irr & ~this.imr;
    const p = this.priority(req);
    if (p === 8) return -1;
    let inService = this.isr;
    // Special mask mode: masked in-service levels do not inhibit lower ones (OCW3 SMM).
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested mode: the master lets a higher request from the same slave in
    // (ICW4 SFNM, "Special Fully Nested Mode").
    if (this.specialFullyNested && this.isMaster) inService &= ~this.icw3;
    return p < this.priority(inService) ? (p + this.lowest + 1) & 7 : -1;
  }

  /** The INT output. */
  get int(): boolean { return this.pending() >= 0; }

  /**
   * The INTA sequence for level `n` (chosen by the caller from `pending()`): sets ISR
   * unless in AEOI mode, and clears the IRR bit of an edge request.
   */
  acknowledge(n: number): void {
    const bit = 1 << n;
    if (!(this.level & bit)) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateInAutoEoi) this.lowest = n;
    } else {
      this.isr |= bit;
    }
  }

  /** Undoes acknowledge(n) for an interrupt the CPU did not take after all (an INTR
   *  intercept, AMD APM vol. 2 15.21): the request is pending again, not in service. */
  unacknowledge(n: number): void {
    const bit = 1 << n;
    if (this.autoEoi) { this.irr |= bit & ~this.level; return; }
    if (!(this.isr & bit)) return; // the spurious IR7 set nothing
    this.isr &= ~bit;
    if (!(this.level & bit)) this.irr |= bit;
  }

  /** Port A0=0 write: ICW1 (D4=1), OCW2 (D4=0, D3=0) or OCW3 (D4=0, D3=1). */
  writeCommand(v: number): void {
    if (v & 0x10) return this.icw1(v);
    if (v & 0x08) return this.ocw3(v);
    this.ocw2(v);
  }

  /** Port A0=1 write: ICW2-4 during initialisation, else OCW1 (the mask). */
  writeData(v: number): void {
    switch (this.initStep) {
      case 2: // ICW2: T7-T3 of the vector in 8086 mode.
        this.vectorBase = v & 0xf8;
        this.initStep = !this.single ? 3 : this.needIcw4 ? 4 : READY;
        return;
      case 3: // ICW3: S7-S0 on the master, ID2-ID0 on a slave.
        this.icw3 = v;
        this.initStep = this.needIcw4 ? 4 : READY;
        return;
      case 4: // ICW4: D0 uPM, D1 AEOI, D2 M/S, D3 BUF, D4 SFNM.
        this.autoEoi = (v & 0x02) !== 0;
        this.specialFullyNested = (v & 0x10) !== 0;
        this.initStep = READY;
        return;
      default: // OCW1.
        this.imr = v;
    }
  }

  /**
   * ICW1: D0 IC4, D1 SNGL, D3 LTIM. "The edge sense circuit is reset ... the Interrupt Mask
   * Register is cleared ... IR7 input is assigned priority 7 ... the slave mode address is
   * set to 7 ... Special Mask Mode is cleared and Status Read is set to IRR ... If IC4 = 0,
   * then all functions selected in ICW4 are set to zero" (datasheet, "Initialization
   * Command Words").
   */
  private icw1(v: number): void {
    this.needIcw4 = (v & 0x01) !== 0;
    this.single = (v & 0x02) !== 0;
    this.ltim = (v & 0x08) !== 0;
    this.updateLevelMask();
    this.imr = 0;
    this.isr = 0;
    this.irr &= this.level; // pending edge requests are dropped with the edge latch
    this.resampleLevel();
    this.lowest = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.autoEoi = false;
    this.rotateInAutoEoi = false;
    this.specialFullyNested = false;
    this.icw3 = this.isMaster ? 0 : 7;
    this.initStep = 2;
  }

  /** OCW2: R SL EOI in D7-D5, level L2-L0 (datasheet, "Operation Command Words", Figure 8). */
  private ocw2(v: number): void {
    const l = v & 7;
    switch (v >> 5) {
      case 0b001: this.eoi(-1, false); break; // non-specific EOI
      case 0b011: this.isr &= ~(1 << l); break; // specific EOI
      case 0b101: this.eoi(-1, true); break; // rotate on non-specific EOI
      case 0b100: this.rotateInAutoEoi = true; break; // rotate in AEOI mode (set)
      case 0b000: this.rotateInAutoEoi = false; break; // rotate in AEOI mode (clear)
      case 0b111: this.eoi(l, true); break; // rotate on specific EOI
      case 0b110: this.lowest = l; break; // set priority: L becomes the lowest
      default: break; // 010: no operation
    }
  }

  /** Clears the highest-priority in-service bit (or `level`), optionally making it the lowest. */
  private eoi(level: number, rotate: boolean): void {
    if (level < 0) {
      const p = this.priority(this.isr);
      if (p === 8) return;
      level = (p + this.lowest + 1) & 7;
    }
    this.isr &= ~(1 << level);
    if (rotate) this.lowest = level;
  }

  /** OCW3: D6 ESMM, D5 SMM, D2 P, D1 RR, D0 RIS. */
  private ocw3(v: number): void {
    if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
    if (v & 0x04) this.poll = true;
    if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
  }

  /** A read after a poll command: I bit 7 and the level, acknowledged ("Poll Command"). */
  pollRead(): number {
    this.poll = false;
    const n = this.pending();
    if (n < 0) return 0;
    this.acknowledge(n);
    return 0x80 | n;
  }

  readCommand(): number { return this.readIsr ? this.isr : this.irr; }
  readData(): number { return this.imr; }

  state(): Pic8259State {
    const { irr, isr, imr, lines, ltim, elcr, initStep, needIcw4, single, vectorBase, icw3,
      autoEoi, rotateInAutoEoi, specialFullyNested, specialMask, readIsr, poll, lowest } = this;
    return { irr, isr, imr, lines, ltim, elcr, initStep, needIcw4, single, vectorBase, icw3,
      autoEoi, rotateInAutoEoi, specialFullyNested, specialMask, readIsr, poll, lowest };
  }

  static fromState(s: unknown, isMaster: boolean, path: string): Pic8259 {
    const o = obj(s, path);
    const p = new Pic8259(isMaster);
    const regs = ['irr', 'isr', 'imr', 'lines', 'elcr', 'vectorBase', 'icw3'] as const;
    for (const k of regs) p[k] = int(o, k, path, 0, 255);
    p.ltim = bool(o, 'ltim', path);
    p.updateLevelMask();
    p.initStep = int(o, 'initStep', path, 0, 4);
    if (p.initStep === 1) throw new DeviceStateError(`${path}.initStep`, 'expected 0, 2, 3 or 4');
    p.lowest = int(o, 'lowest', path, 0, 7);
    const flags = ['needIcw4', 'single', 'autoEoi', 'rotateInAutoEoi', 'specialFullyNested',
      'specialMask', 'readIsr', 'poll'] as const;
    for (const k of flags) p[k] = bool(o, k, path);
    return p;
  }
}
