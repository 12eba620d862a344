/**
 * The command block registers of one IDE channel. Both devices on a cable latch every
 * write (ATA-6 7.1), so the task file belongs to the channel. Each of Features, Sector
 * Count and the LBA registers is a two-deep FIFO for 48-bit commands: the previous value
 * is read back with the Device Control HOB bit set (ATA-6 7.8, 6.20 "48-bit Address").
 */
import { int, obj } from '../state.js';

export type TfReg = 'features' | 'count' | 'lbaLow' | 'lbaMid' | 'lbaHigh';
const REGS: TfReg[] = ['features', 'count', 'lbaLow', 'lbaMid', 'lbaHigh'];

export class TaskFile {
  cur: Record<TfReg, number> = { features: 0, count: 0, lbaLow: 0, lbaMid: 0, lbaHigh: 0 };
  prev: Record<TfReg, number> = { features: 0, count: 0, lbaLow: 0, lbaMid: 0, lbaHigh: 0 };
  device = 0;

  write(r: TfReg, v: number): void { this.prev[r] = this.cur[r]; this.cur[r] = v & 0xff; }

  /** The 28-bit LBA (Device bits 3-0 are LBA 27-24). */
  lba28(): number {
    const lo = this.cur.lbaHigh << 16 | this.cur.lbaMid << 8 | this.cur.lbaLow;
    return (this.device & 0x0f) * 0x1000000 + lo;
  }

  lba48(): number {
    const hi = this.prev.lbaHigh << 16 | this.prev.lbaMid << 8 | this.prev.lbaLow;
    return hi * 0x1000000 + (this.cur.lbaHigh << 16 | this.cur.lbaMid << 8 | this.cur.lbaLow);
  }

  /** Sets the address registers (both FIFO stages for 48-bit) after a transfer. */
  setLba(lba: number, ext: boolean): void {
    this.cur.lbaLow = lba & 0xff;
    this.cur.lbaMid = (lba >>> 8) & 0xff;
    this.cur.lbaHigh = (lba >>> 16) & 0xff;
    if (ext) {
      const hi = Math.floor(lba / 0x1000000);
      this.prev.lbaLow = hi & 0xff;
      this.prev.lbaMid = (hi >>> 8) & 0xff;
      this.prev.lbaHigh = (hi >>> 16) & 0xff;
    } else this.device = (this.device & 0xf0) | (Math.floor(lba / 0x1000000) & 0x0f);
  }

  state() { return { cur: { ...this.cur }, prev: { ...this.prev }, device: this.device }; }

  static fromState(s: unknown, path: string): TaskFile {
    const o = obj(s, path);
    const t = new TaskFile();
    const cur = obj(o.cur, `${path}.cur`), prev = obj(o.prev, `${path}.prev`);
    for (const r of REGS) {
      t.cur[r] = int(cur, r, `${path}.cur`, 0, 255);
      t.prev[r] = int(prev, r, `${path}.prev`, 0, 255);
    }
    t.device = int(o, 'device', path, 0, 255);
    return t;
  }
}
