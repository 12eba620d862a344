/**
 * `wasmvisor bench --modes`: the loop guests under native, vtx and svm in one process. What
 * is checked is what does not depend on the machine's speed: every mode computes the
 * guest's result (the value computed outside the emulators), native's ratio is 1, the
 * hardware modes make nested walks on the pages loop (2D walks: more than native's 2
 * references per guest walk, at most (2+1)(4+1)-1 = 14, Bhargava 2008) and exit, and the
 * refusals. The timing itself is reported, not asserted (README: "Speed").
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

interface Run {
  guest: string; mode: string; ratio: number | null; wallMs: number[]; problems: string[];
  walks: { pageWalks: number; walkMemRefs: number; nestedWalkMemRefs: number;
    vmExits: number } | null;
}

describe('bench --modes', () => {
  it('runs the pages loop under native, vtx and svm, with ratios and walk costs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-modes-'));
    try {
      const r = runCli(['bench', '--modes', 'native,vtx,svm', '--only', 'pages', '--repeat', '1',
        '--json', join(dir, 'm.json')], { timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/target \(issue 9\)/);
      const runs = (JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')) as { runs: Run[] })
        .runs;
      expect(runs.map((x) => x.mode)).toEqual(['native', 'vtx', 'svm']);
      for (const x of runs) {
        expect(x.problems).toEqual([]);
        expect(x.wallMs).toHaveLength(1);
      }
      expect(runs[0].ratio).toBe(1);
      const perWalk = (x: Run) =>
        (x.walks!.walkMemRefs + x.walks!.nestedWalkMemRefs) / x.walks!.pageWalks;
      expect(perWalk(runs[0])).toBe(2);
      for (const x of runs.slice(1)) {
        expect(x.ratio).toBeGreaterThan(0);
        expect(x.walks!.nestedWalkMemRefs).toBeGreaterThan(0);
        expect(x.walks!.vmExits).toBeGreaterThan(0);
        expect(perWalk(x)).toBeGreaterThan(2);
        expect(perWalk(x)).toBeLessThanOrEqual(14);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('refuses an unknown mode and --modes with --v86', () => {
    const m = runCli(['bench', '--modes', 'native,xen']);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/no mode xen .*known: native, pv, vtx, vtx-shadow, svm, svm-shadow/);
    expect(runCli(['bench', '--modes', 'native,vtx', '--v86']).status).toBe(2);
  });
});
