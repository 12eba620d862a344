/**
 * The shapes of Adams & Agesen's figure 4 that shadow paging must reproduce (issue 10,
 * section 3), checked on counters and simulated cycles (never wall time), with JeOS's
 * workloads under native, vtx (nested paging) and vtx-shadow, profile p4-prescott:
 *  - the hardware VMM with shadow paging loses to native on `in`, `pgfault` and `ptemod`,
 *    each costing at least one exit per iteration;
 *  - it stays within 20% of native on `syscall` and `divzero`, and takes no exit on those
 *    and `callret` (whose simulated cycles are not within 20%: README, shadow paging);
 *  - nested paging removes the `ptemod` exits and the guest-fault exits of `pgfault` (what
 *    remains there is the lazily built EPT's first touch of each new frame);
 *  - the same run twice gives the same counters and cycles (determinism).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_MODES, runWorkloads, type WorkloadRun } from '../../bindings/bench/workloads.js';
import { profile } from '../../bindings/vmm/cost/index.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { MemorySource } from '../../bindings/disk/source.js';
import { createCore } from '../../bindings/core/index.js';
import { modeAvailable } from '../../bindings/vmm/modes/index.js';

const root = join(__dirname, '..', '..');
const kernel = readFileSync(join(root, 'guests/jeos/jeos.elf'));
const diskImage = readFileSync(join(root, 'guests/jeos/disk.img'));
const ONLY = 'syscall,in,callret,pgfault,divzero,ptemod';

const bench = (name: string) => runWorkloads({
  kernel, mode: BENCH_MODES.find((m) => m.name === name)!, profile: profile('p4-prescott'),
  cmdline: `iters=500 only=${ONLY}`,
  disk: () => new RawImage(new MemorySource(new Uint8Array(diskImage))),
});
const row = (r: WorkloadRun, w: string) => r.results.find((x) => x.workload === w)!;

describe('bench shapes under shadow paging (A&A figure 4)', () => {
  let native: WorkloadRun, nested: WorkloadRun, shadow: WorkloadRun;
  let available = true;
  beforeAll(async () => {
    available = modeAvailable(await createCore({ ramBytes: 2 << 20 }), 'vtx');
    if (!available) return;
    [native, nested, shadow] = [await bench('native'), await bench('vtx'),
      await bench('vtx-shadow')];
  }, 300_000);

  it('BENCH_MODES has the vtx-shadow and svm-shadow columns', () => {
    const names = BENCH_MODES.map((m) => m.name);
    expect(names).toContain('vtx-shadow');
    expect(names).toContain('svm-shadow');
    expect(BENCH_MODES.find((m) => m.name === 'vtx-shadow')!.config)
      .toEqual({ mode: 'vtx', paging: 'shadow' });
  });

  it('shadow paging loses on in, pgfault, ptemod: an exit or more per iteration', () => {
    if (!available) return;
    for (const w of ['in', 'pgfault', 'ptemod']) {
      expect(row(shadow, w).exitsPerIter, w).toBeGreaterThanOrEqual(1);
      expect(row(shadow, w).cyclesPerIter, w).toBeGreaterThan(2 * row(native, w).cyclesPerIter);
    }
  });

  it('shadow paging stays within 20% of native on syscall, divzero; no exits on callret', () => {
    if (!available) return;
    for (const w of ['syscall', 'callret', 'divzero']) {
      expect(row(shadow, w).exitsPerIter, w).toBeLessThan(0.01);
    }
    for (const w of ['syscall', 'divzero']) {
      expect(row(shadow, w).cyclesPerIter / row(native, w).cyclesPerIter, w)
        .toBeLessThanOrEqual(1.2);
    }
  });

  it('nested paging removes the pgfault and ptemod exits', () => {
    if (!available) return;
    expect(row(nested, 'ptemod').exitsPerIter).toBeLessThan(0.05);
    expect(row(nested, 'pgfault').exitsPerIter).toBeLessThanOrEqual(1);
    for (const w of ['pgfault', 'ptemod']) {
      expect(row(nested, w).exitsPerIter * 4, w).toBeLessThan(row(shadow, w).exitsPerIter);
      expect(row(nested, w).cyclesPerIter, w).toBeLessThan(row(shadow, w).cyclesPerIter / 4);
    }
  });

  it('is deterministic: the same counters and cycles twice', async () => {
    if (!available) return;
    const again = await bench('vtx-shadow');
    expect(again.results).toEqual(shadow.results);
    expect(again.instructions).toBe(shadow.instructions);
  }, 120_000);
});
