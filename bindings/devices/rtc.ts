/**
 * Motorola MC146818A real-time clock with its CMOS RAM (datasheet "MC146818A Real-Time
 * Clock Plus RAM", Motorola; register map in Figure 3 and Table 2, registers A-D in the
 * "Register A" ... "Register D" sections). Index port 0x70 (bit 7 masks NMI on the PC),
 * data port 0x71, IRQ8.
 *
 * Time is not stored but derived: `baseSeconds` (Unix seconds, UTC) at the 32.768 kHz
 * edge `baseTick` of an update, plus whole seconds since, all on the virtual clock. The
 * interrupt flags of register C are likewise computed for the span since they were last
 * looked at, and a timer runs only for the interrupts that are enabled.
 *
 * Simplification: an update happens at one instant (seconds change, UF and AF are set);
 * UIP reads 1 from 244 us before it until 1984 us after it, the length of the update cycle.
 */
import type { Bus } from './bus.js';
import { nsOfTick, ticksAt, type Timer, type VirtualClock } from './clock.js';
import type { IrqLine } from './irq.js';
import { bool, bytes, encodeBytes, int, obj } from './state.js';

/** The 32.768 kHz time base (DV2-DV0 = 010). */
const HZ = 32768;
/** tBUC, UIP high before the update: 244 us = 8 periods of 32.768 kHz. */
const UIP_BEFORE = 8;
/** tUC, the update cycle: 1984 us = 65 periods. */
const UIP_AFTER = 65;

// Register A.
export const REG_A = 0x0a;
export const A_UIP = 0x80;
// Register B.
export const REG_B = 0x0b;
export const B_SET = 0x80;
export const B_PIE = 0x40;
export const B_AIE = 0x20;
export const B_UIE = 0x10;
export const B_SQWE = 0x08;
export const B_DM_BINARY = 0x04;
export const B_24H = 0x02;
export const B_DSE = 0x01;
// Register C (read-only, cleared on read).
export const REG_C = 0x0c;
export const C_IRQF = 0x80;
export const C_PF = 0x40;
export const C_AF = 0x20;
export const C_UF = 0x10;
// Register D.
export const REG_D = 0x0d;
export const D_VRT = 0x80;
/** The IBM PC/AT century byte (BCD by default), as SeaBIOS and QEMU use it. */
export const CMOS_CENTURY = 0x32;
/** The IBM PS/2 century byte: the same value at 0x37 (QEMU keeps both). */
export const CMOS_CENTURY_PS2 = 0x37;
/**
 * The equipment byte (IBM PC/AT BIOS, CMOS 0x14): bits 7-6 floppy drives - 1, bit 2 PS/2
 * mouse (as QEMU sets it), bit 1 math coprocessor, bit 0 floppy drives present.
 */
export const CMOS_EQUIPMENT = 0x14;

export interface RtcOptions {
  /** Guest time at virtual time 0, in Unix milliseconds (UTC). Default 2000-01-01T00:00:00Z. */
  startTime?: number;
  /** Guest RAM size, for the memory-size bytes. */
  ramBytes?: number;
  /** For the equipment byte: an x87 present (default false) and floppy drives (default 0). */
  fpu?: boolean;
  floppies?: number;
}

export interface RtcState {
  cmos: string; index: number; nmiMasked: boolean; baseSeconds: number; baseTick: number;
  running: boolean; periodicPhase: number; flags: number; syncedTick: number;
}

export class Rtc {
  /** 128 bytes; the time bytes 0, 2, 4, 6-9 and the century are rendered on read. */
  cmos: Uint8Array = new Uint8Array(128);
  index = 0;
  nmiMasked = false;
  baseSeconds = 946684800;
  baseTick = 0;
  /** Whether updates run (divider on the 32.768 kHz base and SET clear). */
  running = true;
  /** An edge of the periodic divider chain (its rates count from here). */
  periodicPhase = 0;
  /** PF, AF, UF as of `syncedTick`. */
  flags = 0;
  syncedTick = 0;
  private readonly timer: Timer;
  private irqLevel = false;

  constructor(
    private readonly clock: VirtualClock, private readonly irq: IrqLine, opts: RtcOptions = {},
    restoring = false,
  ) {
    this.timer = clock.timer(() => this.onTimer());
    if (restoring) return;
    this.baseSeconds = Math.floor((opts.startTime ?? 946684800000) / 1000);
    this.baseTick = this.tick();
    this.syncedTick = this.baseTick;
    this.periodicPhase = this.baseTick;
    this.cmos[REG_A] = 0x26; // 32.768 kHz, 1024 Hz periodic rate: the PC BIOS setting
    this.cmos[REG_B] = B_24H;
    if (opts.ramBytes !== undefined) fillMemorySize(this.cmos, opts.ramBytes);
    const floppies = Math.max(0, Math.min(4, opts.floppies ?? 0));
    this.cmos[CMOS_EQUIPMENT] =
      0x04 | (opts.fpu ? 0x02 : 0) | (floppies ? 0x01 | (floppies - 1) << 6 : 0);
  }

  private tick(): number { return ticksAt(this.clock.now, HZ); }

  /** The current time, Unix seconds. */
  seconds(t = this.tick()): number {
    if (!this.running) return this.parseTime();
    return this.baseSeconds + Math.floor((t - this.baseTick) / HZ);
  }

  private get binary(): boolean { return (this.cmos[REG_B] & B_DM_BINARY) !== 0; }
  private enc(v: number): number {
    return this.binary ? v : ((Math.floor(v / 10) << 4) | (v % 10));
  }
  private dec(v: number): number { return this.binary ? v : (v >> 4) * 10 + (v & 0xf); }

  /** The time registers for Unix time `s` in the current data mode (register B DM, 24/12). */
  private render(s: number): Map<number, number> {
    const d = new Date(s * 1000);
    const h = d.getUTCHours();
    let hour: number;
    if (this.cmos[REG_B] & B_24H) hour = this.enc(h);
    else hour = this.enc(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
    const year = d.getUTCFullYear();
    return new Map([
      [0, this.enc(d.getUTCSeconds())], [2, this.enc(d.getUTCMinutes())], [4, hour],
      [6, this.enc(d.getUTCDay() + 1)], [7, this.enc(d.getUTCDate())],
      [8, this.enc(d.getUTCMonth() + 1)],
      [9, this.enc(year % 100)], [CMOS_CENTURY, this.enc(Math.floor(year / 100))],
    ]);
  }

  /** Stores the rendered time registers in `cmos` (they hold the time while updates stop). */
  private materialize(sec: number): void {
    for (const [reg, v] of this.render(sec)) this.cmos[reg] = v;
  }

  /** The time the raw registers in `cmos` hold, in the current data mode. */
  private parseTime(): number {
    const c = this.cmos;
    const hb = c[4];
    let hour: number;
    if (c[REG_B] & B_24H) hour = this.dec(hb);
    else hour = (this.dec(hb & 0x7f) % 12) + (hb & 0x80 ? 12 : 0);
    const year = this.dec(c[CMOS_CENTURY]) * 100 + this.dec(c[9]);
    const ms = Date.UTC(
      year, this.dec(c[8]) - 1, this.dec(c[7]), hour, this.dec(c[2]), this.dec(c[0]));
    // Out-of-range fields roll over as Date.UTC does; a nonsense year keeps 2000-01-01.
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : 946684800;
  }

  /**
   * A write to a time register. While updates are stopped (SET, divider reset) the byte is
   * simply stored, as the chip does, and the time is taken from the registers when updates
   * resume; while running the new field takes effect at once.
   */
  private writeTime(reg: number, v: number): void {
    if (!this.running) { this.cmos[reg] = v; return; }
    const t = this.tick();
    this.materialize(this.seconds(t));
    this.cmos[reg] = v;
    this.baseSeconds = this.parseTime() - Math.floor((t - this.baseTick) / HZ);
  }

  /** Period of the periodic interrupt in 32.768 kHz edges for RS3-RS0, 0 if none (Table 3). */
  private period(): number {
    const rs = this.cmos[REG_A] & 0x0f;
    if (rs === 0) return 0;
    return rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
  }

  /** The divider: DV2-DV0 = 11x holds the chain in reset; 010 (and the faster bases) count. */
  private get dividerRunning(): boolean { return (this.cmos[REG_A] & 0x70) <= 0x20; }

  private alarmMatches(s: number): boolean {
    const r = this.render(s);
    // "Don't care" alarm bytes are 11xxxxxx (datasheet, "Alarm").
    return [[1, 0], [3, 2], [5, 4]]
      .every(([a, t]) => this.cmos[a] >= 0xc0 || this.cmos[a] === r.get(t));
  }

  /** Accumulates PF, UF and AF for the edges in (syncedTick, t]. */
  private sync(t = this.tick()): void {
    const from = this.syncedTick;
    if (t <= from) return;
    const p = this.period();
    if (p && this.dividerRunning &&
        Math.floor((t - this.periodicPhase) / p) > Math.floor((from - this.periodicPhase) / p)) {
      this.flags |= C_PF;
    }
    if (this.running) {
      const first = Math.floor((from - this.baseTick) / HZ) + 1; // the first update after `from`
      const last = Math.floor((t - this.baseTick) / HZ);
      if (last >= first) {
        this.flags |= C_UF;
        // A day holds every alarm time: more updates than that cannot add a match.
        for (let k = Math.max(first, last - 86400); k <= last && !(this.flags & C_AF); k++) {
          if (this.alarmMatches(this.baseSeconds + k)) this.flags |= C_AF;
        }
      }
    }
    this.syncedTick = t;
  }

  private get irqf(): boolean {
    const b = this.cmos[REG_B];
    return ((this.flags & C_PF) !== 0 && (b & B_PIE) !== 0) ||
      ((this.flags & C_AF) !== 0 && (b & B_AIE) !== 0) ||
      ((this.flags & C_UF) !== 0 && (b & B_UIE) !== 0);
  }

  /** Drives IRQ8 from IRQF and arms the timer for the next enabled event. */
  private update(): void {
    const level = this.irqf;
    this.armTimer(level);
    // Last, so that a receiver reacting at once (reading C) sees consistent state.
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq.set(level); }
  }

  private armTimer(level: boolean): void {
    if (level) { this.timer.disarm(); return; }
    const t = this.tick();
    const b = this.cmos[REG_B];
    let next = Infinity;
    const p = this.period();
    if (b & B_PIE && p && this.dividerRunning) {
      next = this.periodicPhase + (Math.floor((t - this.periodicPhase) / p) + 1) * p;
    }
    if (b & (B_UIE | B_AIE) && this.running) {
      next = Math.min(next, this.baseTick + (Math.floor((t - this.baseTick) / HZ) + 1) * HZ);
    }
    if (next === Infinity) this.timer.disarm(); else this.timer.arm(nsOfTick(next, HZ));
  }

  private onTimer(): void { this.sync(); this.update(); }

  /** Stops or restarts updates after a change of SET or the divider, keeping the time. */
  private setRunning(run: boolean, leavingReset: boolean): void {
    const t = this.tick();
    if (run === this.running) return;
    if (!run) { this.materialize(this.seconds(t)); this.running = false; return; }
    // Leaving divider reset, "the first update cycle begins one-half second later"
    // (datasheet, Register A, DV2-DV0); leaving SET, the chain kept its phase.
    this.baseTick = leavingReset ? t + HZ / 2 - HZ : t - ((((t - this.baseTick) % HZ) + HZ) % HZ);
    this.baseSeconds = this.parseTime();
    this.running = true;
  }

  read(reg: number): number {
    switch (reg) {
      case CMOS_CENTURY_PS2: return this.read(CMOS_CENTURY);
      case 0: case 2: case 4: case 6: case 7: case 8: case 9: case CMOS_CENTURY:
        return this.running ? this.render(this.seconds()).get(reg)! : this.cmos[reg];
      case REG_A: {
        const t = this.tick();
        const phase = (((t - this.baseTick) % HZ) + HZ) % HZ;
        const uip = this.running && (phase >= HZ - UIP_BEFORE || phase < UIP_AFTER);
        return (this.cmos[REG_A] & 0x7f) | (uip ? A_UIP : 0);
      }
      case REG_C: {
        this.sync();
        const v = this.flags | (this.irqf ? C_IRQF : 0);
        this.flags = 0;
        this.update();
        return v;
      }
      case REG_D: return D_VRT; // VRT: the RAM and time are valid (battery good)
      default: return this.cmos[reg];
    }
  }

  write(reg: number, v: number): void {
    this.sync();
    switch (reg) {
      case CMOS_CENTURY_PS2: this.writeTime(CMOS_CENTURY, v); break;
      case 0: case 2: case 4: case 6: case 7: case 8: case 9: case CMOS_CENTURY:
        // While running, day of week is derived from the date, so a write to it is not kept.
        this.writeTime(reg, v);
        break;
      case REG_A: {
        const wasReset = (this.cmos[REG_A] & 0x60) === 0x60;
        this.cmos[REG_A] = v & 0x7f; // UIP is read-only
        const reset = (v & 0x60) === 0x60;
        if (reset) this.periodicPhase = this.tick();
        if (wasReset && !reset) this.periodicPhase = this.tick();
        this.setRunning(this.dividerRunning && !(this.cmos[REG_B] & B_SET), wasReset && !reset);
        break;
      }
      case REG_B: {
        // Setting SET stops updates and clears UIE (datasheet, Register B, SET and UIE).
        if (v & B_SET) v &= ~B_UIE;
        this.cmos[REG_B] = v;
        this.setRunning(this.dividerRunning && !(v & B_SET), false);
        break;
      }
      case REG_C: case REG_D: break; // read-only
      default: this.cmos[reg] = v;
    }
    this.update();
  }

  attach(bus: Bus): void {
    bus.register({ space: 'pio', base: 0x70, length: 2, width: 1, device: {
      name: 'rtc',
      // Port 0x70 is write-only on the PC (PIIX3 datasheet 4.7.1): reads float.
      read: (o) => (o === 0 ? 0xff : this.read(this.index)),
      write: (o, _s, v) => {
        if (o === 0) {
          this.index = v & 0x7f;
          this.nmiMasked = (v & 0x80) !== 0;
        } else this.write(this.index, v);
      },
    } });
  }

  state(): RtcState {
    this.sync();
    const {
      index, nmiMasked, baseSeconds, baseTick, running, periodicPhase, flags, syncedTick,
    } = this;
    return {
      cmos: encodeBytes(this.cmos), index, nmiMasked, baseSeconds, baseTick, running,
      periodicPhase, flags, syncedTick,
    };
  }

  static fromState(s: unknown, clock: VirtualClock, irq: IrqLine): Rtc {
    const o = obj(s, 'rtc');
    const r = new Rtc(clock, irq, {}, true);
    const big = Number.MAX_SAFE_INTEGER;
    r.cmos = bytes(o, 'cmos', 'rtc', 128);
    r.index = int(o, 'index', 'rtc', 0, 127);
    r.nmiMasked = bool(o, 'nmiMasked', 'rtc');
    // Times within +-100000 years of 1970, so that Date can render them.
    r.baseSeconds = int(o, 'baseSeconds', 'rtc', -3e12, 3e12);
    r.baseTick = int(o, 'baseTick', 'rtc', -big, big);
    r.periodicPhase = int(o, 'periodicPhase', 'rtc', -big, big);
    r.syncedTick = int(o, 'syncedTick', 'rtc', 0, big);
    r.running = bool(o, 'running', 'rtc');
    r.flags = int(o, 'flags', 'rtc', 0, 0x70);
    r.update();
    return r;
  }
}

/**
 * The PC/AT memory-size bytes, as QEMU's pc_cmos_init and SeaBIOS use them:
 * 0x15/0x16 base memory in KiB (640); 0x17/0x18 and 0x30/0x31 extended memory above 1 MiB
 * in KiB (at most 65535); 0x34/0x35 memory above 16 MiB in 64 KiB units (at most 65535).
 */
export function fillMemorySize(cmos: Uint8Array, ramBytes: number): void {
  const put16 = (lo: number, v: number) => { cmos[lo] = v & 0xff; cmos[lo + 1] = v >> 8; };
  put16(0x15, 640);
  const extKiB = Math.min(Math.max(Math.floor(ramBytes / 1024) - 1024, 0), 65535);
  put16(0x17, extKiB);
  put16(0x30, extKiB);
  const above16 = ramBytes > 16 * 1024 * 1024
    ? Math.min(Math.floor((ramBytes - 16 * 1024 * 1024) / 65536), 65535) : 0;
  put16(0x34, above16);
}
