/**
 * A proportional-share vCPU scheduler in virtual time, after Xen's credit scheduler
 * (credit1: Cherkasova, Gupta and Vahdat, "Comparison of the three CPU schedulers in Xen",
 * 2007; xen/common/sched/credit.c). Time is guest work: instructions (plus halted budget)
 * the vCPUs report, never the wall clock, so the same load gives the same decisions.
 *
 * - Each accounting period hands out `threads x period` instructions of credit to the
 *   active vCPUs in proportion to their weights (csched_acct); a vCPU's credit is bounded
 *   by one period's share, so an idle one cannot hoard.
 * - A cap (percent of one thread, 0 = none) parks a vCPU that has used its cap's worth in
 *   the period until the next one (credit1's "capped" parking).
 * - Dispatch: vCPUs with credit left (UNDER) before those without (OVER), most credit first,
 *   ties to the one that waited longest; each runs a slice, then is charged what it ran.
 */

export interface SchedEntity {
  id: number;
  weight: number;
  /** Percent of one thread per period (0: uncapped). */
  cap: number;
  credit: number;
  /** Used in the current period (for the cap). */
  usedInPeriod: number;
  /** Total instructions charged. */
  used: number;
  slices: number;
  runnable: boolean;
  running: boolean;
  parked: boolean;
  /** Dispatch order stamp (the one that waited longest wins ties). */
  lastRun: number;
  /** Periods the vCPU was parked by its cap. */
  parkedPeriods: number;
}

export interface SchedulerOptions {
  /** Host threads: at most this many vCPUs run at once. */
  threads: number;
  /** Instructions per slice (default 1,000,000: 10 ms of a 100 MIPS guest). */
  slice?: number;
  /** Instructions per thread per accounting period (default 30 slices, credit1's 30 ms). */
  period?: number;
}

export interface SchedulerStats {
  threads: number;
  slice: number;
  period: number;
  periods: number;
  /** Periods that ended with nothing runnable but capped vCPUs (idle time). */
  idlePeriods: number;
}

export const DEFAULT_WEIGHT = 256;
export const DEFAULT_SLICE = 1_000_000;

export class CreditScheduler {
  readonly threads: number;
  readonly slice: number;
  readonly period: number;
  private readonly all = new Map<number, SchedEntity>();
  private stamp = 0;
  private sincePeriod = 0;
  private periods = 0;
  private idlePeriods = 0;

  constructor(opts: SchedulerOptions) {
    const { threads } = opts;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new RangeError(`threads must be an integer in 1..256, got ${threads}`);
    }
    this.threads = threads;
    this.slice = opts.slice ?? DEFAULT_SLICE;
    this.period = opts.period ?? 30 * this.slice;
    if (!(this.slice >= 1 && this.period >= this.slice)) {
      throw new RangeError('slice must be >= 1 and period >= slice');
    }
  }

  add(id: number, weight = DEFAULT_WEIGHT, cap = 0): SchedEntity {
    if (!Number.isInteger(weight) || weight < 1 || weight > 65535) {
      throw new RangeError(`weight must be an integer in 1..65535 (Xen's range), got ${weight}`);
    }
    if (!Number.isInteger(cap) || cap < 0 || cap > 100) {
      throw new RangeError(`cap must be a percentage 0..100 of one thread, got ${cap}`);
    }
    const e: SchedEntity = {
      id, weight, cap, credit: 0, usedInPeriod: 0, used: 0, slices: 0, runnable: true,
      running: false, parked: false, lastRun: this.stamp++, parkedPeriods: 0,
    };
    this.all.set(id, e);
    this.account();
    return e;
  }

  remove(id: number): void { this.all.delete(id); }
  get(id: number): SchedEntity | undefined { return this.all.get(id); }
  entities(): SchedEntity[] { return [...this.all.values()]; }

  setRunnable(id: number, on: boolean): void {
    const e = this.all.get(id);
    if (e) e.runnable = on;
  }

  setWeight(id: number, weight: number, cap?: number): void {
    const e = this.all.get(id);
    if (!e) return;
    const checked = this.add(-1, weight, cap ?? e.cap);
    this.all.delete(-1);
    e.weight = checked.weight;
    e.cap = checked.cap;
  }

  /** The next vCPU to run a slice, or undefined (all running, parked or idle). */
  pick(): SchedEntity | undefined {
    if (this.runningCount() >= this.threads) return undefined;
    let best: SchedEntity | undefined;
    for (const e of this.all.values()) {
      if (!e.runnable || e.running || e.parked) continue;
      if (!best) { best = e; continue; }
      const under = e.credit > 0, bestUnder = best.credit > 0;
      if (under !== bestUnder) { if (under) best = e; continue; }
      if (e.credit !== best.credit) { if (e.credit > best.credit) best = e; continue; }
      if (e.lastRun < best.lastRun) best = e;
    }
    if (!best) {
      // Only capped vCPUs are left runnable: the period ends in idle time (caps are a
      // share of time, and idle time passes).
      if (this.runningCount() === 0 && [...this.all.values()].some((e) => e.runnable &&
        e.parked)) {
        this.idlePeriods++;
        this.newPeriod();
        return this.pick();
      }
      return undefined;
    }
    best.running = true;
    best.lastRun = this.stamp++;
    best.slices++;
    return best;
  }

  /** How long `e`'s next slice may be: the slice, or what is left of its cap. */
  budgetOf(e: SchedEntity): number {
    if (!e.cap) return this.slice;
    const left = Math.floor(this.period * e.cap / 100) - e.usedInPeriod;
    return Math.max(1, Math.min(this.slice, left));
  }

  /** The vCPU ran `work` instructions and is off its thread again. */
  charge(id: number, work: number): void {
    const e = this.all.get(id);
    if (!e) return;
    e.running = false;
    e.credit -= work;
    e.used += work;
    e.usedInPeriod += work;
    if (e.cap && e.usedInPeriod >= Math.floor(this.period * e.cap / 100)) {
      e.parked = true;
      e.parkedPeriods++;
    }
    this.sincePeriod += work;
    if (this.sincePeriod >= this.period * this.threads) this.newPeriod();
  }

  private newPeriod(): void {
    this.sincePeriod = 0;
    this.periods++;
    for (const e of this.all.values()) { e.usedInPeriod = 0; e.parked = false; }
    this.account();
  }

  /** csched_acct: credit to the active vCPUs by weight, each bounded by one period's share. */
  private account(): void {
    const active = [...this.all.values()].filter((e) => e.runnable);
    const total = active.reduce((n, e) => n + e.weight, 0);
    if (!total) return;
    const pool = this.period * this.threads;
    for (const e of active) {
      let share = Math.floor(pool * e.weight / total);
      if (e.cap) share = Math.min(share, Math.floor(this.period * e.cap / 100));
      share = Math.min(share, this.period); // one vCPU uses one thread at most
      e.credit = Math.min(e.credit + share, share);
    }
  }

  private runningCount(): number {
    let n = 0;
    for (const e of this.all.values()) if (e.running) n++;
    return n;
  }

  stats(): SchedulerStats {
    return { threads: this.threads, slice: this.slice, period: this.period,
      periods: this.periods, idlePeriods: this.idlePeriods };
  }
}

/**
 * Jain's fairness index of the vCPUs' normalized shares (each one's share of the work
 * divided by its weight's share): 1 is perfectly proportional, 1/n all to one
 * (R. Jain, D. Chiu, W. Hawe, DEC-TR-301, 1984).
 */
export function jainIndex(entities: { used: number; weight: number }[]): number {
  const totalW = entities.reduce((n, e) => n + e.weight, 0);
  const totalU = entities.reduce((n, e) => n + e.used, 0);
  if (!entities.length || !totalU) return 1;
  const x = entities.map((e) => (e.used / totalU) / (e.weight / totalW));
  const s = x.reduce((a, b) => a + b, 0), s2 = x.reduce((a, b) => a + b * b, 0);
  return (s * s) / (entities.length * s2);
}
