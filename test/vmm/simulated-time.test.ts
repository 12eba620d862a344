/**
 * Simulated time: with a cost profile, JeOS's RDTSC reads `simulate(costCounters(stats),
 * profile).total` at that instruction. Natively the core exits on RDTSC; under vtx the VMM
 * sets RDTSC exiting (SDM vol. 3C, 25.6.2 table 25-6 bit 12; exit reason 16, 26.1.3);
 * under svm the RDTSC intercept (APM vol. 2, 15.9, table B-1: exit code 0x6E). Those exits
 * are not priced, so JeOS's own `per_iter` is the bench's cyclesPerIter seen through a
 * narrower window:
 *
 * - JeOS reads the TSC just before and just after a workload's loop; the bench prices
 *   everything from the end of the line before to the first byte of the `wl` line: the
 *   workload's setup, the two RDTSCs, the formatting of the line and the UART's LSR poll
 *   before its first byte (under vtx/svm a port exit, a `in` row's worth of cycles). That
 *   difference is a fixed number of cycles per workload, whatever the iteration count:
 *   bench*iters - jeos*iters = W, the same W at 1000 and at 2000 iterations up to JeOS's
 *   integer division (per_iter is truncated: < 1 cycle per iteration).
 * - JeOS's window is inside the bench's, so per_iter never exceeds cyclesPerIter.
 *
 * The expected relations come from the definitions (the model and the windows), not from
 * a run of this code pasted back.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorkloads, BENCH_MODES, type WorkloadResult } from '../../bindings/bench/workloads.js';
import { profile } from '../../bindings/vmm/cost/index.js';
import { jeos } from '../../bindings/node.js';
import { Machine, vmConfig } from '../../bindings/index.js';
import { UnknownProfileError } from '../../bindings/vmm/cost/index.js';
import { runCliInProcess } from '../helpers/cli.js';

const ONLY = 'syscall,in,callret,ptemod';

async function bench(mode: string, iters: number): Promise<Map<string, WorkloadResult>> {
  const m = BENCH_MODES.find((b) => b.name === mode)!;
  const r = await runWorkloads({ kernel: jeos().kernel, disk: () => jeos().disk, mode: m,
    profile: profile('p4-prescott'), cmdline: `iters=${iters} only=${ONLY}` });
  return new Map(r.results.map((x) => [x.workload, x]));
}

describe('JeOS reads simulated cycles with --profile', () => {
  for (const mode of ['native', 'vtx', 'svm']) {
    it(`${mode}: per_iter agrees with the bench's cyclesPerIter up to a fixed window`,
      async () => {
        const a = await bench(mode, 1000);
        const b = await bench(mode, 2000);
        expect([...a.keys()]).toEqual(ONLY.split(','));
        for (const w of a.keys()) {
          const x = a.get(w)!, y = b.get(w)!;
          for (const r of [x, y]) {
            expect(r.guestPerIter, `${w}`).toBeDefined();
            expect(r.guestPerIter!, `${w}`).toBeLessThanOrEqual(r.cyclesPerIter + 1e-9);
          }
          const w1 = (x.cyclesPerIter - x.guestPerIter!) * 1000;
          const w2 = (y.cyclesPerIter - y.guestPerIter!) * 2000;
          // Truncation of per_iter: under 1 cycle per iteration, so at most 2000 + 1000.
          expect(Math.abs(w1 - w2), `${mode} ${w}: window ${w1} vs ${w2}`)
            .toBeLessThanOrEqual(3000);
          // The window is the setup and one line's printing: well under one workload.
          expect(w2, `${mode} ${w}`).toBeLessThan(100_000);
        }
        if (mode !== 'native') {
          // Each `in` is one exit (A&A's point): the RDTSC exits are not among them.
          expect(b.get('in')!.exitsPerIter).toBeCloseTo(1, 2);
        }
      }, 300_000);
  }
});

describe('wasmvisor run --profile', () => {
  const args = ['run', '--profile', 'p4-prescott'];
  it("prints JeOS's table in simulated cycles, the same twice, the profile in --stats",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wv-sim-'));
      const stats = join(dir, 's.json');
      const r1 = await runCliInProcess([...args, '--stats', stats]);
      const r2 = await runCliInProcess(args);
      expect(r1.status, r1.err).toBe(0);
      const table = (o: string) => o.split('\n').filter((l) => !/MIPS/.test(l)).join('\n');
      expect(table(r2.out)).toBe(table(r1.out));
      expect(r1.out).toMatch(/RDTSC reads simulated cycles \(profile p4-prescott: \d+ cycles/);
      const json = JSON.parse(readFileSync(stats, 'utf8'));
      expect(json.simulated.profile).toBe('p4-prescott');
      expect(json.simulated.cycles).toBeGreaterThan(0);
      // Without a profile the TSC counts instructions, as before.
      const plain = await runCliInProcess(['run']);
      expect(plain.out).toMatch(/RDTSC counts virtual cycles/);
      expect(table(plain.out)).not.toBe(table(r1.out));
    }, 300_000);

  it('refuses an unknown profile listing the profiles, as bench --workloads does', async () => {
    const r = await runCliInProcess(['run', '--profile', 'p5']);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(
      /--profile: unknown CPU profile "p5"; profiles: p4-prescott, core2, nehalem, modern/);
    const b = await runCliInProcess(['bench', '--workloads', '--profile', 'p5']);
    expect(b.err).toContain(r.err.trim().replace(/^wasmvisor: /, ''));
    await expect(Machine.create({ ramBytes: 4 << 20, profile: 'p5' }))
      .rejects.toBeInstanceOf(UnknownProfileError);
  });

  it('vm.json: virtualization.profile, checked at its path', () => {
    const base = {
      version: 1, name: 'g', cpus: 1, memoryMiB: 16,
      boot: { firmware: 'multiboot', kernel: 'k.elf' }, disks: [], nics: [], serial: [],
    };
    const check = (virtualization: unknown) => vmConfig.checkVmConfig({ ...base, virtualization });
    expect(check({ mode: 'vtx', profile: 'nehalem' })).toEqual([]);
    const p = check({ profile: 'p5' });
    expect(p.map((x) => x.path)).toEqual(['$.virtualization.profile']);
    expect(p[0].message).toMatch(/profiles: p4-prescott, core2, nehalem, modern/);
  });
});

describe('mode pv: the hypervisor answers the PV guest\'s RDTSC', () => {
  it('pvdisk times its transfers in simulated cycles, the same twice', async () => {
    const { readFileSync: read } = await import('node:fs');
    const memoryDisk = (bytes: Uint8Array) => ({
      size: bytes.length, readOnly: false,
      read: (o: number, d: Uint8Array) => d.set(bytes.subarray(o, o + d.length)),
      write: (o: number, src: Uint8Array) => bytes.set(src, o), flush() {}, close() {},
    });
    const kernel = read(new URL('../../guests/pv/pvdisk.elf', import.meta.url));
    const once = async (prof?: string) => {
      let out = '';
      const m = await Machine.create({ ramBytes: 16 << 20, mode: 'pv', kernel,
        disks: [memoryDisk(new Uint8Array(2 << 20))], ...(prof ? { profile: prof } : {}),
        serialOut: (b) => { out += String.fromCharCode(b); } });
      expect(m.run(100_000_000)).toEqual({ kind: 'poweroff' });
      const r = /write_cycles=(\d+) read_cycles=(\d+) verify=ok/.exec(out)!;
      return { w: Number(r[1]), r: Number(r[2]), stats: m.stats() };
    };
    const a = await once('p4-prescott'), b = await once('p4-prescott'), plain = await once();
    expect([b.w, b.r]).toEqual([a.w, a.r]);
    // Both intervals lie inside the run's simulated cycles; without a profile the same
    // guest reads the instruction-count TSC, which prices no hypercall.
    expect(a.w + a.r).toBeLessThan(a.stats.simulated!.cycles);
    expect(plain.stats.simulated).toBeUndefined();
    expect(a.w).toBeGreaterThan(plain.w);
    expect(a.stats.exits.rdtsc).toBe(4);
  });
});
