/**
 * The AT interrupt controller: two 8259As, the slave's INT on the master's IR2, ports
 * 0x20/0x21 and 0xA0/0xA1, and the PIIX/PIIX3 Edge/Level Control Registers at 0x4D0/0x4D1
 * (Intel 82371SB PIIX3 datasheet, 2.4.1 "ELCR1/ELCR2").
 */
import type { Bus } from './bus.js';
import type { IrqLine } from './irq.js';
import { Pic8259 } from './pic8259.js';
import { obj } from './state.js';

/** ELCR1 bits 0-2 (IRQ0, 1, 2) are reserved and read 0: those lines are always edge. */
const ELCR1_MASK = 0xf8;
/** ELCR2 bits 0 and 5 (IRQ8, IRQ13) are reserved and read 0. */
const ELCR2_MASK = 0xde;

export interface PicPairState { master: unknown; slave: unknown }

export class PicPair {
  readonly master: Pic8259;
  readonly slave: Pic8259;
  /** Called when the INTR output to the CPU changes. */
  onIntr: (level: boolean) => void = () => {};
  private intrLevel = false;
  private readonly lineObjs: IrqLine[] = [];
  /** Vectors delivered, spurious ones included. */
  acks = 0;
  spurious = 0;

  constructor(master = new Pic8259(true), slave = new Pic8259(false)) {
    this.master = master;
    this.slave = slave;
    for (let n = 0; n < 16; n++) {
      this.lineObjs.push({
        set: (level) => this.setIrq(n, level),
        pulse: () => { this.setIrq(n, true); this.setIrq(n, false); },
      });
    }
  }

  /**
   * The line of ISA IRQ `n` (0-15). IRQ 2 is the cascade on the AT, so ISA IRQ2 is wired to
   * the slave's IR1 and arrives as IRQ 9, as on every AT-compatible board.
   */
  line(n: number): IrqLine {
    if (!Number.isInteger(n) || n < 0 || n > 15) {
      throw new RangeError(`no IRQ ${n} on the PIC pair`);
    }
    return this.lineObjs[n === 2 ? 9 : n];
  }

  /** Told of every ISA line change (the I/O APIC sees the same lines: MP 1.4, 3.6.2). */
  onIrq?: (irq: number, level: boolean) => void;

  private setIrq(n: number, level: boolean): void {
    this.onIrq?.(n, level);
    if (n < 8) this.master.setLine(n, level); else this.slave.setLine(n - 8, level);
    this.update();
  }

  /** Called once the devices are wired, before the CPU runs (`Pic8259.powerOn`). */
  powerOn(): void { this.slave.powerOn(); this.master.powerOn(); this.update(); }

  /** Propagates the slave's INT to master IR2 and the master's INT to the CPU. */
  private update(): void {
    this.master.setLine(2, this.slave.int);
    const level = this.master.int;
    if (level !== this.intrLevel) { this.intrLevel = level; this.onIntr(level); }
  }

  /** The INTR pin: an interrupt awaits acknowledgement. */
  get intr(): boolean { return this.master.int; }

  /**
   * The CPU's INTA cycles: returns the vector. With no request left at INTA time the 8259A
   * answers IR7 without setting ISR: vector base+7 of the master, or of the slave (IRQ 15)
   * when the master granted the cascade, whose master ISR bit 2 stays set (datasheet,
   * "Interrupt Sequence" and "Spurious interrupts": the handler must EOI the master only).
   */
  ack(): number {
    this.acks++;
    const m = this.master.pending();
    let vector: number;
    if (m < 0) {
      this.spurious++;
      vector = this.master.vectorBase + 7;
    } else if (m === 2 && this.master.icw3 & 0x04 && !this.master.single) {
      const s = this.slave.pending();
      this.master.acknowledge(2);
      if (s < 0) {
        this.spurious++;
        vector = this.slave.vectorBase + 7;
      } else {
        this.slave.acknowledge(s);
        vector = this.slave.vectorBase + s;
      }
    } else {
      this.master.acknowledge(m);
      vector = this.master.vectorBase + m;
    }
    this.update();
    return vector;
  }

  /** Undoes ack() of `vector` (the CPU gave the interrupt back untaken: an intercepted
   *  INTR, AMD APM vol. 2 15.21): the request is pending again and in service nowhere. */
  unack(vector: number): void {
    const m = vector - this.master.vectorBase, s = vector - this.slave.vectorBase;
    if (s >= 0 && s < 8 && this.master.icw3 & 0x04 && !this.master.single) {
      this.slave.unacknowledge(s);
      this.master.unacknowledge(2);
    } else if (m >= 0 && m < 8) this.master.unacknowledge(m);
    this.update();
  }

  /** I/O ports of a chip: A0 selects the command (0) or data (1) port. */
  private read(chip: Pic8259, a0: number): number {
    if (chip.poll) { const v = chip.pollRead(); this.update(); return v; }
    return a0 ? chip.readData() : chip.readCommand();
  }

  private write(chip: Pic8259, a0: number, v: number): void {
    if (a0) chip.writeData(v); else chip.writeCommand(v);
    this.update();
  }

  readElcr(n: 0 | 1): number { return n ? this.slave.elcr : this.master.elcr; }

  writeElcr(n: 0 | 1, v: number): void {
    if (n) this.slave.setElcr(v & ELCR2_MASK); else this.master.setElcr(v & ELCR1_MASK);
    this.update();
  }

  /** Registers 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1. */
  attach(bus: Bus): void {
    const chips = [[0x20, this.master, 'pic-master'], [0xa0, this.slave, 'pic-slave']] as const;
    for (const [base, chip, name] of chips) {
      bus.register({ space: 'pio', base, length: 2, width: 1, device: {
        name, read: (o) => this.read(chip, o), write: (o, _s, v) => this.write(chip, o, v),
      } });
    }
    bus.register({ space: 'pio', base: 0x4d0, length: 2, width: 1, device: {
      name: 'elcr',
      read: (o) => this.readElcr(o as 0 | 1), write: (o, _s, v) => this.writeElcr(o as 0 | 1, v),
    } });
  }

  state(): PicPairState { return { master: this.master.state(), slave: this.slave.state() }; }

  static fromState(s: unknown): PicPair {
    const o = obj(s, 'pic');
    const master = Pic8259.fromState(o.master, true, 'pic.master');
    const p = new PicPair(master, Pic8259.fromState(o.slave, false, 'pic.slave'));
    p.master.setElcr(p.master.elcr & ELCR1_MASK);
    p.slave.setElcr(p.slave.elcr & ELCR2_MASK);
    p.intrLevel = p.master.int;
    return p;
  }
}

