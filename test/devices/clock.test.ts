/** The virtual clock: time from executed instructions, timers in deterministic order. */
import { describe, it, expect } from 'vitest';
import { VirtualClock, ticksAt, nsOfTick } from '../../bindings/devices/clock.js';

describe('virtual clock', () => {
  it('turns instructions into nanoseconds exactly, carrying the remainder', () => {
    const c = new VirtualClock(3_000_000); // 3 MIPS: 333.33 ns per instruction
    for (let i = 0; i < 3; i++) c.advanceInstructions(1);
    expect(c.now).toBe(1000);
    c.advanceInstructions(3_000_000 * 7);
    expect(c.now).toBe(7_000_001_000);
  });

  it('fires timers in deadline order, ties in creation order, at their deadline', () => {
    const c = new VirtualClock();
    const seen: string[] = [];
    const a = c.timer((t) => seen.push(`a@${t}`));
    const b = c.timer((t) => { seen.push(`b@${t}`); if (t < 300) b.arm(t + 200); });
    const d = c.timer((t) => seen.push(`d@${t}`));
    a.arm(100); b.arm(100); d.arm(50);
    c.advanceTo(1000);
    expect(seen).toEqual(['d@50', 'a@100', 'b@100', 'b@300']);
    expect(c.now).toBe(1000);
  });

  it('a disposed timer never fires again', () => {
    const c = new VirtualClock();
    let n = 0;
    const t = c.timer(() => n++);
    t.arm(10); t.dispose(); t.arm(20);
    c.advanceTo(100);
    expect(n).toBe(0);
  });

  it('tells the platform how many instructions fit before the next deadline', () => {
    const c = new VirtualClock(100_000_000); // 10 ns per instruction
    c.timer(() => {}).arm(1005);
    expect(c.instructionsUntilNextDeadline()).toBe(101);
    expect(new VirtualClock().instructionsUntilNextDeadline()).toBe(Infinity);
  });

  it('refuses to go back in time and restores from state', () => {
    const c = new VirtualClock(7);
    c.advanceInstructions(5);
    expect(() => c.advanceTo(0)).toThrow(/back/);
    const r = VirtualClock.fromState(JSON.parse(JSON.stringify(c.state())));
    r.advanceInstructions(2);
    expect(r.now).toBe(1_000_000_000);
    expect(() => VirtualClock.fromState({ now: -1, instructionsPerSecond: 7, remainder: 0 })).toThrow(/clock\.now/);
  });

  it('converts exactly, as 128-bit integer arithmetic does, at any time', () => {
    const big = (ns: number, hz: number) => Number((BigInt(ns) * BigInt(hz)) / 1_000_000_000n);
    const bigInv = (t: number, hz: number) => Number((BigInt(t) * 1_000_000_000n + BigInt(hz) - 1n) / BigInt(hz));
    let x = 1;
    for (let i = 0; i < 20000; i++) {
      x = (x * 48271) % 2147483647;
      const ns = Math.floor((x / 2147483647) * 2 ** (10 + (i % 43)));
      for (const hz of [1_193_182, 32768, 1_843_200, 8_000_000]) {
        expect(ticksAt(ns, hz)).toBe(big(ns, hz));
        expect(nsOfTick(ns % 2 ** 40, hz)).toBe(bigInv(ns % 2 ** 40, hz));
      }
    }
  });

  it('converts to and from an external clock rate', () => {
    expect(ticksAt(1_000_000_000, 1_193_182)).toBe(1_193_182);
    expect(nsOfTick(1, 1_193_182)).toBe(839); // 838.09 ns, rounded up to the first ns past the edge
    expect(ticksAt(nsOfTick(12345, 32768), 32768)).toBe(12345);
    expect(ticksAt(nsOfTick(12345, 32768) - 1, 32768)).toBe(12344);
  });
});
