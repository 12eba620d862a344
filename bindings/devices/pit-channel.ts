/**
 * One counter of the Intel 8254 programmable interval timer (datasheet "8254 Programmable
 * Interval Timer", Intel order 231164). The counter is not stepped clock by clock: it keeps
 * the clock edge at which its counting element (CE) was loaded and computes CE and OUT
 * for any later edge, so reading it costs the same at 18 Hz or 1 MHz rates.
 *
 * Clock edges are numbered globally (`tick`); a count written between edges t-1 and t is
 * loaded into CE on edge t, "on the next CLK pulse" as the datasheet's mode descriptions say.
 */
import { bool, DeviceStateError, int, obj } from './state.js';

export interface PitChannelState {
  modeBits: number; bcd: boolean; rw: number; reload: number; hasCount: boolean;
  writeMsbNext: boolean; writeLow: number; readMsbNext: boolean;
  latched: boolean; latchValue: number; latchMsbNext: boolean;
  statusLatched: boolean; statusValue: number;
  gate: boolean; n: number; start: number; prevN: number; prevStart: number; pausedE: number;
  phase: number; stoppedCount: number; loadedAt: number;
}

/** Decimal value of a 4-digit BCD count. */
function fromBcd(v: number): number {
  return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}
function toBcd(v: number): number {
  const digit = (scale: number) => Math.floor(v / scale) % 10;
  return digit(1) | digit(10) << 4 | digit(100) << 8 | digit(1000) << 12;
}

export class PitChannel {
  /**
   * M2-M1-M0 as written in the control word (status byte reports them as written). The
   * datasheet leaves the power-on state undefined; each counter starts here as if its
   * control word were 34h (mode 2, LSB then MSB, binary) with no count yet: OUT high and
   * not counting, the state a BIOS leaves, so a guest's first control word makes no
   * phantom edge on IRQ0.
   */
  modeBits = 2;
  bcd = false;
  /** RW1-RW0: 1 LSB only, 2 MSB only, 3 LSB then MSB. */
  rw = 3;
  /** The programmed count as a number of clocks (0 written means 65536, or 10000 in BCD). */
  reload = 0;
  hasCount = false;
  writeMsbNext = false;
  writeLow = 0;
  readMsbNext = false;
  latched = false;
  latchValue = 0;
  latchMsbNext = false;
  statusLatched = false;
  statusValue = 0;
  gate: boolean;
  /** The count the running segment loaded, and the edge it was loaded on (-1: not counting). */
  n = 0;
  start = -1;
  /** A mode 2/3 segment still running until `start`, when a new count takes over. */
  prevN = 0;
  prevStart = -1;
  /** Elapsed edges frozen while GATE is low, or -1. */
  pausedE = -1;
  /**
   * Edges already elapsed in the running segment when it started: a mode 3 count that
   * takes over at a high-to-low boundary starts in its low half.
   */
  phase = 0;
  /** CE value held while the counter is stopped (mode 0 between the two count bytes). */
  stoppedCount = 0;
  /** Edge on which the newest count reached CE (-1: not yet): the status NULL COUNT bit. */
  loadedAt = -1;

  constructor(gate: boolean) { this.gate = gate; }

  /** Modes 6 and 7 are modes 2 and 3 (datasheet, "Control Word Format", M2 = X). */
  get mode(): number { return this.modeBits > 5 ? this.modeBits - 4 : this.modeBits; }
  private get modulus(): number { return this.bcd ? 10000 : 0x10000; }

  /**
   * Control word for this counter: "When a control word is written to a counter, all
   * control logic is immediately reset and OUT goes to a known initial state" (datasheet,
   * "Programming the 8254"): low in mode 0, high in the others.
   */
  control(v: number): void {
    this.rw = (v >> 4) & 3;
    this.modeBits = (v >> 1) & 7;
    this.bcd = (v & 1) !== 0;
    this.hasCount = false;
    this.writeMsbNext = false;
    this.readMsbNext = false;
    this.latched = false;
    this.statusLatched = false;
    this.start = -1; this.prevStart = -1; this.pausedE = -1; this.loadedAt = -1; this.phase = 0;
    this.stoppedCount = 0;
  }

  /** A byte written to the counter's port, at clock edge `t` (the last edge that occurred). */
  writeCount(v: number, t: number): void {
    let value: number;
    if (this.rw === 1) value = v;
    else if (this.rw === 2) value = v << 8;
    else if (!this.writeMsbNext) {
      this.writeLow = v;
      this.writeMsbNext = true;
      // Mode 0: "Writing the first byte disables counting. OUT is set low immediately."
      if (this.mode === 0 && this.start >= 0) {
        this.stoppedCount = this.count(t);
        this.start = -1; this.prevStart = -1; this.pausedE = -1;
      }
      return;
    } else { value = this.writeLow | v << 8; this.writeMsbNext = false; }
    const dec = this.bcd ? fromBcd(value) : value;
    this.reload = dec === 0 ? this.modulus : dec;
    this.hasCount = true;
    this.loadedAt = -1;
    this.settle(t);
    switch (this.mode) {
      case 0: case 4: this.load(t + 1, !this.gate); break;
      case 2: case 3:
        if (this.prevStart >= 0 && t < this.start) {
          // Rewritten again before the switch: the newest count takes over at the same point.
          this.n = this.reload;
          if (this.phase) this.phase = (this.reload + 1) >> 1;
        } else if (this.start >= 0 && t >= this.start && this.pausedE < 0) {
          // A new count takes effect at the end of the current period in mode 2, at the end
          // of the current half-cycle in mode 3 (datasheet, "Mode 2" and "Mode 3").
          const n = this.n, r = (t - this.start + this.phase) % n;
          let boundary: number, phase = 0;
          if (this.mode === 3 && r < ((n + 1) >> 1)) {
            boundary = t + (((n + 1) >> 1) - r);
            phase = (this.reload + 1) >> 1; // OUT goes low: the new count starts its low half
          } else boundary = t + (n - r);
          this.prevN = n; this.prevStart = this.start - this.phase;
          this.n = this.reload; this.start = boundary; this.loadedAt = boundary; this.phase = phase;
        } else if (this.gate) this.load(t + 1, false);
        else { this.start = -1; this.pausedE = -1; }
        break;
      default: break; // modes 1 and 5 wait for a GATE rising edge
    }
  }

  private load(edge: number, paused: boolean): void {
    this.n = this.reload; this.start = edge; this.loadedAt = edge;
    this.prevStart = -1; this.phase = 0;
    this.pausedE = paused ? 0 : -1;
  }

  /** Drops a finished previous segment. */
  private settle(t: number): void {
    if (this.prevStart >= 0 && t >= this.start) this.prevStart = -1;
  }

  /** GATE input at clock edge `t` (datasheet, "Gate" table: Figure 21). */
  setGate(level: boolean, t: number): void {
    if (level === this.gate) return;
    this.settle(t);
    this.gate = level;
    const m = this.mode;
    if (!level) {
      // Modes 0, 2, 3, 4: low GATE disables counting (2 and 3 also force OUT high).
      const gated = m === 0 || m === 2 || m === 3 || m === 4;
      if (gated && this.start >= 0 && t >= this.start) this.pausedE = t - this.start + this.phase;
      return;
    }
    if (m === 0 || m === 4) {
      if (this.start >= 0 && this.pausedE >= 0) {
        this.start = Math.max(t, this.start) - this.pausedE; this.phase = 0; this.pausedE = -1;
      }
    } else if (this.hasCount) {
      // Modes 1, 2, 3, 5: a rising edge (re)loads the count on the next clock.
      this.load(t + 1, false);
    }
  }

  /** The segment counting at edge `t` and its elapsed edges, or undefined if none. */
  private seg(t: number): { n: number; e: number } | undefined {
    if (this.prevStart >= 0 && t < this.start) return { n: this.prevN, e: t - this.prevStart };
    if (this.start < 0 || t < this.start) return undefined;
    return { n: this.n, e: this.pausedE >= 0 ? this.pausedE : t - this.start + this.phase };
  }

  /** CE at edge `t`, in binary. */
  count(t: number): number {
    const s = this.seg(t);
    if (!s) return this.stoppedCount;
    const { n, e } = s;
    const M = this.modulus;
    switch (this.mode) {
      case 2: return n - (e % n);
      case 3: return (n - ((2 * e) % n)) & 0xfffe;
      default: return (((n - e) % M) + M) % M;
    }
  }

  /** OUT at edge `t` (datasheet, mode descriptions and waveforms, Figures 12-17). */
  out(t: number): boolean {
    const m = this.mode;
    const s = this.seg(t);
    if (!s) return m !== 0; // before the first load: the control word's initial OUT
    const { n, e } = s;
    const paused = this.pausedE >= 0 && !(this.prevStart >= 0 && t < this.start);
    switch (m) {
      case 0: case 1: return e >= n;
      case 2: return paused || n === 1 || e % n !== n - 1;
      case 3: return paused || e % n < ((n + 1) >> 1);
      default: return e !== n; // modes 4 and 5: low for one clock at terminal count
    }
  }

  /** The next edge after `t` at which OUT may change, or -1. */
  nextChange(t: number): number {
    if (this.prevStart >= 0 && t < this.start) {
      // The old count runs out its period (or half-cycle) first, transitions included.
      const c = this.segmentChange(this.prevN, t - this.prevStart, t);
      return c >= 0 && c < this.start ? c : this.start;
    }
    if (this.start < 0 || this.pausedE >= 0) return -1;
    if (t < this.start) return this.start;
    return this.segmentChange(this.n, t - this.start + this.phase, t);
  }

  /** Next OUT change after edge `t` in a segment of count `n` that has run `e` edges. */
  private segmentChange(n: number, e: number, t: number): number {
    switch (this.mode) {
      case 0: case 1: return e < n ? t + (n - e) : -1;
      case 2: {
        if (n === 1) return -1;
        const r = e % n;
        return r < n - 1 ? t + (n - 1 - r) : t + 1;
      }
      case 3: {
        const half = (n + 1) >> 1, r = e % n;
        return r < half ? t + (half - r) : t + (n - r);
      }
      default: return e < n ? t + (n - e) : e === n ? t + 1 : -1;
    }
  }

  /**
   * Counter latch command (datasheet, "Counter Latch Command"): a second latch is ignored
   * until read.
   */
  latch(t: number): void {
    if (this.latched) return;
    this.latched = true;
    this.latchMsbNext = false;
    const c = this.count(t);
    this.latchValue = this.bcd ? toBcd(c % 10000) : c & 0xffff;
  }

  /** Read-back status (datasheet, "Status Byte", Figure 20): OUTPUT, NULL COUNT, RW, M, BCD. */
  latchStatus(t: number): void {
    if (this.statusLatched) return;
    this.statusLatched = true;
    const nullCount = this.loadedAt < 0 || t < this.loadedAt;
    this.statusValue = (this.out(t) ? 0x80 : 0) | (nullCount ? 0x40 : 0) | this.rw << 4
      | this.modeBits << 1 | (this.bcd ? 1 : 0);
  }

  /** A read of the counter's port. */
  read(t: number): number {
    if (this.statusLatched) { this.statusLatched = false; return this.statusValue; }
    let v: number, msb: boolean;
    if (this.latched) {
      v = this.latchValue;
      if (this.rw === 3) {
        msb = this.latchMsbNext; this.latchMsbNext = !msb;
        if (msb) this.latched = false;
      } else { msb = this.rw === 2; this.latched = false; }
    } else {
      const c = this.count(t);
      v = this.bcd ? toBcd(c % 10000) : c & 0xffff;
      if (this.rw === 3) { msb = this.readMsbNext; this.readMsbNext = !msb; }
      else msb = this.rw === 2;
    }
    return msb ? v >> 8 : v & 0xff;
  }

  state(): PitChannelState {
    const { modeBits, bcd, rw, reload, hasCount, writeMsbNext, writeLow, readMsbNext, latched,
      latchValue, latchMsbNext, statusLatched, statusValue, gate, n, start, prevN, prevStart,
      pausedE, phase, stoppedCount, loadedAt } = this;
    return { modeBits, bcd, rw, reload, hasCount, writeMsbNext, writeLow, readMsbNext, latched,
      latchValue, latchMsbNext, statusLatched, statusValue, gate, n, start, prevN, prevStart,
      pausedE, phase, stoppedCount, loadedAt };
  }

  static fromState(s: unknown, path: string): PitChannel {
    const o = obj(s, path);
    const c = new PitChannel(bool(o, 'gate', path));
    c.modeBits = int(o, 'modeBits', path, 0, 7);
    c.rw = int(o, 'rw', path, 1, 3);
    c.reload = int(o, 'reload', path, 0, 0x10000);
    c.n = int(o, 'n', path, 0, 0x10000);
    c.prevN = int(o, 'prevN', path, 0, 0x10000);
    c.writeLow = int(o, 'writeLow', path, 0, 255);
    c.latchValue = int(o, 'latchValue', path, 0, 0xffff);
    c.statusValue = int(o, 'statusValue', path, 0, 255);
    c.stoppedCount = int(o, 'stoppedCount', path, 0, 0xffff);
    const big = Number.MAX_SAFE_INTEGER;
    c.start = int(o, 'start', path, -1, big);
    c.prevStart = int(o, 'prevStart', path, -1, big);
    c.pausedE = int(o, 'pausedE', path, -1, big);
    c.phase = int(o, 'phase', path, 0, 0x8000);
    c.loadedAt = int(o, 'loadedAt', path, -1, big);
    const flags = ['bcd', 'hasCount', 'writeMsbNext', 'readMsbNext', 'latched', 'latchMsbNext',
      'statusLatched'] as const;
    for (const k of flags) c[k] = bool(o, k, path);
    if ((c.start >= 0 && c.n < 1) || (c.prevStart >= 0 && c.prevN < 1)) {
      throw new DeviceStateError(`${path}.n`, 'a running segment needs a count of at least 1');
    }
    return c;
  }
}
