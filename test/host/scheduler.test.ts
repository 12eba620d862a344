/**
 * The credit scheduler (bindings/host/scheduler.ts) against the definition of proportional
 * share in Xen's credit scheduler: busy vCPUs get work in proportion to their weights; a
 * cap bounds a vCPU's share of one thread whatever the others do; an idle vCPU gets no
 * credit. Then real VMs: three spinning guests with weights 1:2:1 on one host thread.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { CreditScheduler, jainIndex } from '../../bindings/host/scheduler.js';
import { Host } from '../../bindings/host/host.js';

/** Runs busy vCPUs for `slices` dispatches, each running a full budget. */
function simulate(s: CreditScheduler, slices: number): void {
  for (let i = 0; i < slices; i++) {
    const running = [];
    for (let e = s.pick(); e; e = s.pick()) running.push([e, s.budgetOf(e)] as const);
    if (!running.length) throw new Error('nothing to run');
    for (const [e, b] of running) s.charge(e.id, b);
  }
}

describe('the credit scheduler', () => {
  it('shares one thread in proportion to the weights', () => {
    const s = new CreditScheduler({ threads: 1, slice: 1000 });
    s.add(1, 256); s.add(2, 512); s.add(3, 256);
    simulate(s, 4000);
    const used = s.entities().map((e) => e.used);
    const total = used.reduce((a, b) => a + b, 0);
    expect(used[0] / total).toBeCloseTo(0.25, 2);
    expect(used[1] / total).toBeCloseTo(0.5, 2);
    expect(used[2] / total).toBeCloseTo(0.25, 2);
    expect(jainIndex(s.entities())).toBeGreaterThan(0.999);
  });

  it('runs two at once on two threads, one vCPU per thread at most', () => {
    const s = new CreditScheduler({ threads: 2, slice: 1000 });
    s.add(1, 256); s.add(2, 1024); s.add(3, 256);
    simulate(s, 3000);
    const used = s.entities().map((e) => e.used);
    const total = used.reduce((a, b) => a + b, 0);
    // Weight 1024 of 1536 would be 2/3 of two threads, more than the one thread a single
    // vCPU can use: it gets one thread (1/2 of all), the others share the second.
    expect(used[1] / total).toBeCloseTo(0.5, 2);
    expect(used[0] / total).toBeCloseTo(0.25, 2);
  });

  it('caps a vCPU at its percentage of one thread, idle time or not', () => {
    const s = new CreditScheduler({ threads: 1, slice: 1000 });
    s.add(1, 256, 20); s.add(2, 256);
    simulate(s, 3000);
    const [capped, other] = s.entities();
    expect(capped.used / (capped.used + other.used)).toBeCloseTo(0.2, 2);
    expect(capped.parkedPeriods).toBeGreaterThan(0);
    // Alone, the capped vCPU still gets only its 20%: the rest is idle time.
    const a = new CreditScheduler({ threads: 1, slice: 1000 });
    a.add(1, 256, 20);
    simulate(a, 300);
    expect(a.stats().idlePeriods).toBeGreaterThan(0);
    // 20% of each finished period, and at most 20% of the one under way.
    const perPeriod = a.period * 0.2, periods = a.stats().periods;
    expect(a.get(1)!.used).toBeGreaterThanOrEqual(periods * perPeriod);
    expect(a.get(1)!.used).toBeLessThanOrEqual((periods + 1) * perPeriod);
  });

  it('gives an idle vCPU nothing, and the busy ones everything', () => {
    const s = new CreditScheduler({ threads: 1, slice: 1000 });
    s.add(1); s.add(2);
    s.setRunnable(2, false);
    simulate(s, 100);
    expect(s.get(2)!.used).toBe(0);
    expect(s.get(1)!.used).toBe(100 * 1000);
  });

  it('refuses weights and caps out of range', () => {
    const s = new CreditScheduler({ threads: 1 });
    expect(() => s.add(1, 0)).toThrow(/weight/);
    expect(() => s.add(1, 256, 101)).toThrow(/cap/);
    expect(() => new CreditScheduler({ threads: 0 })).toThrow(/threads/);
  });
});

describe('the scheduler under real VMs', () => {
  const host = new Host({ threads: 1 });
  afterAll(() => host.close());
  it('three spinning guests with weights 1:2:1 on one thread get 1/4, 1/2, 1/4', async () => {
    const spin = join(__dirname, '..', '..', 'guests/host/spin.bin');
    const ids = await Promise.all([256, 512, 256].map((weight, i) =>
      host.start({ name: `w${i}`, kernel: spin, memMiB: 4, weight })));
    await new Promise((r) => setTimeout(r, 3000));
    for (const id of ids) host.pause(id);
    const list = host.list();
    const total = list.reduce((n, v) => n + v.work, 0);
    expect(total).toBeGreaterThan(50e6);
    expect(list[1].work / total).toBeGreaterThan(0.45);
    expect(list[1].work / total).toBeLessThan(0.55);
    expect(list[0].work / total).toBeGreaterThan(0.2);
    expect(list[2].work / total).toBeGreaterThan(0.2);
    expect(host.schedulerStats().fairness).toBeGreaterThan(0.98);
  }, 30_000);
});
