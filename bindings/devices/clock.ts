/**
 * The virtual clock every device keeps time on. The platform advances it from the number
 * of instructions the core executed (`instructionsPerSecond` is a setting), never from the
 * wall clock, so two runs with the same inputs see the same times and the same interrupts.
 *
 * Time is an integer number of nanoseconds (a JS number: exact up to 2^53 ns, about 104
 * days of guest time). Devices arm `Timer`s; `advance*` fires them in order of deadline,
 * ties broken by the order the timers were created, so the order is deterministic too.
 */
import { DeviceStateError, int, obj } from './state.js';

export const NS_PER_SECOND = 1_000_000_000;
/** Time of guest-visible state is bounded so that integer nanoseconds stay exact. */
const MAX_NS = Number.MAX_SAFE_INTEGER;

/** A one-shot timer owned by a device. Re-arming replaces the previous deadline. */
export class Timer {
  /** Deadline in ns, or -1 when disarmed. */
  deadline = -1;
  constructor(
    private readonly clock: VirtualClock, readonly seq: number,
    readonly fire: (now: number) => void,
  ) {}
  arm(atNs: number): void {
    if (!Number.isFinite(atNs)) throw new RangeError(`timer deadline ${atNs} is not finite`);
    this.deadline = Math.max(Math.ceil(atNs), this.clock.now);
  }
  disarm(): void { this.deadline = -1; }
  /** Removes the timer from its clock (a device being replaced must not fire again). */
  dispose(): void { this.deadline = -1; this.clock.remove(this); }
  get armed(): boolean { return this.deadline >= 0; }
}

export interface ClockState { now: number; instructionsPerSecond: number; remainder: number }

export class VirtualClock {
  /** Current virtual time in ns. */
  now = 0;
  private readonly timers: Timer[] = [];
  private created = 0;
  /** Sub-nanosecond remainder of instruction-to-time conversion, in units of 1/ips ns. */
  private remainder = 0;

  /**
   * @param instructionsPerSecond how many executed guest instructions make one virtual
   * second (default 100 million: a 100 MIPS machine).
   */
  constructor(public readonly instructionsPerSecond = 100_000_000) {
    const ips = instructionsPerSecond;
    if (!Number.isInteger(ips) || ips < 1 || ips > 1e12) {
      throw new RangeError(`instructionsPerSecond must be an integer in 1..1e12, got ${ips}`);
    }
  }

  /** A new, disarmed timer calling `fire(now)` at its deadline. */
  timer(fire: (now: number) => void): Timer {
    const t = new Timer(this, this.created++, fire);
    this.timers.push(t);
    return t;
  }

  remove(t: Timer): void {
    const i = this.timers.indexOf(t);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Advances by `count` executed instructions (exact: the remainder carries over). */
  advanceInstructions(count: number): void {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`instruction count must be a non-negative integer, got ${count}`);
    }
    const total = BigInt(count) * BigInt(NS_PER_SECOND) + BigInt(this.remainder);
    const ips = BigInt(this.instructionsPerSecond);
    this.remainder = Number(total % ips);
    this.advanceTo(this.now + Number(total / ips));
  }

  /** Advances to `ns`, firing every timer whose deadline is at or before it. */
  advanceTo(ns: number): void {
    if (!Number.isInteger(ns) || ns > MAX_NS) {
      throw new RangeError(`virtual time ${ns} is not an integer below 2^53`);
    }
    if (ns < this.now) throw new RangeError(`virtual time cannot go back (${ns} < ${this.now})`);
    for (;;) {
      const t = this.next();
      if (!t || t.deadline > ns) break;
      this.now = t.deadline;
      t.deadline = -1;
      t.fire(this.now);
    }
    this.now = ns;
  }

  /** The deadline of the earliest armed timer, or -1. */
  nextDeadline(): number {
    const t = this.next();
    return t ? t.deadline : -1;
  }

  /**
   * How many instructions the core may run before the next timer is due (at least 1), or
   * `Infinity` with nothing armed: the platform uses it to bound `run()`'s budget.
   */
  instructionsUntilNextDeadline(): number {
    const d = this.nextDeadline();
    if (d < 0) return Infinity;
    const ips = BigInt(this.instructionsPerSecond);
    const nsLeft = BigInt(d - this.now) * ips - BigInt(this.remainder);
    const n = (nsLeft + BigInt(NS_PER_SECOND) - 1n) / BigInt(NS_PER_SECOND);
    return Math.max(1, Number(n));
  }

  private next(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) {
      if (t.deadline >= 0 && (!best || t.deadline < best.deadline)) best = t;
    }
    return best;
  }

  state(): ClockState {
    const { now, instructionsPerSecond, remainder } = this;
    return { now, instructionsPerSecond, remainder };
  }

  /** A clock at the saved time; devices re-arm their own timers in their `fromState`. */
  static fromState(s: unknown): VirtualClock {
    const o = obj(s, 'clock');
    const ips = int(o, 'instructionsPerSecond', 'clock', 1, 1e12);
    const c = new VirtualClock(ips);
    c.now = int(o, 'now', 'clock', 0, MAX_NS);
    c.remainder = int(o, 'remainder', 'clock', 0, ips - 1);
    return c;
  }
}

/**
 * Device clocks up to this rate convert without BigInt: splitting at whole seconds keeps
 * every product below 2^53 (1e9 x 2^23 < 2^53), so the results stay exact.
 */
const FAST_HZ = 1 << 23;

/** floor(ns * hz / 1e9): how many edges of an `hz` clock have occurred by time `ns`. */
export function ticksAt(ns: number, hz: number): number {
  if (hz <= FAST_HZ && ns >= 0) {
    const s = Math.floor(ns / NS_PER_SECOND), r = ns - s * NS_PER_SECOND;
    return s * hz + Math.floor((r * hz) / NS_PER_SECOND);
  }
  return Number((BigInt(ns) * BigInt(hz)) / BigInt(NS_PER_SECOND));
}

/** The first ns at which `ticksAt(ns, hz) >= tick`. */
export function nsOfTick(tick: number, hz: number): number {
  if (hz <= FAST_HZ && tick >= 0) {
    const s = Math.floor(tick / hz), r = tick - s * hz;
    return s * NS_PER_SECOND + Math.ceil((r * NS_PER_SECOND) / hz);
  }
  const num = BigInt(tick) * BigInt(NS_PER_SECOND);
  const den = BigInt(hz);
  return Number((num + den - 1n) / den);
}

export { DeviceStateError };
