/**
 * `wasmvisor bench --workloads`: JeOS's workloads priced by the cost model. The published
 * column must be Adams & Agesen's figure 4 as printed in the paper; the counts behind the
 * simulated cycles are machine-independent (each `in` is one exit to the device model, a
 * 2-level native walk is 2 references per TLB miss) and the same on every run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

interface Row {
  workload: string; mode: string; iterations: number; cyclesPerIter: number;
  published?: number; exitsPerIter: number; refsPerMiss: number; status: string;
}

describe('bench --workloads', () => {
  it('prices the workloads, prints A&A beside them, writes JSON, CSV and SVG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-wl-'));
    try {
      const args = ['bench', '--workloads', '--only', 'in,callret,pgfault,tlb', '--iters', '500',
        '--json', join(dir, 'a.json'), '--csv', join(dir, 'a.csv'), '--svg', join(dir, 'a.svg')];
      const r = runCli(args);
      expect(r.stderr).toMatch(/JeOS under native/);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/profile p4-prescott/);
      const json = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as {
        results: Row[];
      };
      const by = new Map(json.results.map((x) => [x.workload, x]));
      expect([...by.keys()]).toEqual(['in', 'callret', 'pgfault', 'tlb']);
      // Adams & Agesen 2006, figure 4, native column.
      expect(by.get('in')!.published).toBe(3209);
      expect(by.get('callret')!.published).toBe(11);
      expect(by.get('pgfault')!.published).toBe(1093);
      expect(by.get('tlb')!.published).toBeUndefined();
      // One port access per `in` iteration reaches the device model.
      expect(by.get('in')!.exitsPerIter).toBeGreaterThanOrEqual(1);
      expect(by.get('in')!.exitsPerIter).toBeLessThan(1.1);
      // 32-bit paging: two references per walk (SDM vol. 3A, 4.3); a walk that meets a
      // not-present PDE stops after one, hence not exactly 2.
      expect(by.get('tlb')!.refsPerMiss).toBeCloseTo(2, 3);
      expect(by.get('callret')!.exitsPerIter).toBeLessThan(0.05);
      for (const x of json.results) expect(x.iterations).toBe(500);
      const csv = readFileSync(join(dir, 'a.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('profile,workload,mode,iterations,cyclesPerIter,published,' +
        'exitsPerIter,refsPerMiss,guestPerIter,status');
      expect(csv).toHaveLength(5);
      const svg = new DOMParser().parseFromString(readFileSync(join(dir, 'a.svg'), 'utf8'),
        'image/svg+xml');
      const titles = [...Array.from(svg.getElementsByTagName('title'))].map((t) => t.textContent);
      expect(titles).toContain('in A&A vtx: 15826');
      expect(titles.some((t) => /^pgfault native \(simulated\): \d+$/.test(t ?? ''))).toBe(true);
      // Determinism: the same run prices the same.
      const again = runCli(args.slice(0, 6));
      expect(again.stdout.split('\n').slice(0, 7)).toEqual(r.stdout.split('\n').slice(0, 7));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses unknown profiles and modes, and options of the other benchmark', () => {
    const p = runCli(['bench', '--workloads', '--profile', 'i486']);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/profiles: p4-prescott, core2, nehalem, modern/);
    const m = runCli(['bench', '--workloads', '--modes', 'native,xen']);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/no mode xen .*modes: native/);
    expect(runCli(['bench', '--workloads', '--v86']).status).toBe(2);
    expect(runCli(['bench', '--csv', 'x.csv']).stderr).toMatch(/--csv goes with --workloads/);
    expect(runCli(['bench', '--workloads', '--iters', '0']).status).toBe(2);
  });
});
