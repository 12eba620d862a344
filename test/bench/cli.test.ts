/**
 * `wasmvisor bench` through the command line: the alu loop guest runs on the core and its
 * instruction count (from the guest's source, guests/bench/alu.asm) matches the core's
 * counter plus the checkpoint OUT; bad arguments are usage errors (exit status 2).
 * No timing is asserted: the MIPS figures depend on the machine.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { WORKLOADS } from '../../bindings/bench/loops.js';

describe('wasmvisor bench', () => {
  it('runs the alu guest and its instruction count checks out', () => {
    const r = runCli(['bench', '--only', 'alu', '--repeat', '1'], { timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const alu = WORKLOADS.find((w) => w.name === 'alu')!;
    // alu.asm: 1 + 6 * 10,000,000 + 1 instructions between the checkpoints.
    expect(alu.instructions).toBe(60_000_002);
    const rows = r.stdout.split('\n').filter((l) => /^\S+\s+[\d,]+\s/.test(l));
    expect(rows).toHaveLength(1);
    const cells = rows[0].trim().split(/\s{2,}/);
    expect(cells[0]).toBe('alu');
    expect(cells[1]).toBe('60,000,002');
    expect(cells[2]).toBe('ok (+1 OUT)');
    // Both MIPS columns hold a figure (what it is depends on the machine).
    expect(cells[3]).toMatch(/^\d+\.\d$/);
    expect(cells[4]).toMatch(/^\d+\.\d$/);
    expect(r.stdout).toMatch(/VM with 64 MiB RAM: [\d.]+ MiB of wasm memory \(RAM \+ [\d.]+ MiB\)/);
  }, 90_000);

  it('with --v86 also runs v86 in the same process and prints the ratio', () => {
    const r = runCli(['bench', '--only', 'callret', '--v86', '--no-jit'], { timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const header = r.stdout.split('\n').find((l) => /^guest {2}/.test(l))!;
    expect(header.trim().split(/\s{2,}/)).toEqual(['guest', 'instructions', 'count check', 'MIPS (CPU)', 'MIPS (wall)', 'v86 interp', 'wasmvisor/interp']);
    const row = r.stdout.split('\n').find((l) => /^callret {2}/.test(l))!;
    const cells = row.trim().split(/\s{2,}/);
    expect(cells[2]).toBe('ok (+1 OUT)');
    expect(cells[5]).toMatch(/^\d+\.\d$/);
    expect(cells[6]).toMatch(/^\d+\.\d\dx$/);
  }, 150_000);

  it('with --v86 and no v86 package installed, says so and exits with status 2', () => {
    // Loader hooks make `v86` unresolvable, as in an install without development dependencies.
    const r = spawnSync(
      process.execPath,
      ['--import', join(repoRoot, 'test/bench/without-v86.mjs'), '--import', 'tsx', join(repoRoot, 'test/helpers/cli-entry.ts'), 'bench', '--only', 'alu', '--v86'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/v86 package is not installed/);
    expect(r.stdout).toBe('');
  });

  it('rejects an unknown guest with exit status 2', () => {
    const r = runCli(['bench', '--only', 'nosuch']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--only: no guest nosuch/);
    expect(r.stdout).toBe('');
  });

  it('rejects --repeat 0 with exit status 2', () => {
    const r = runCli(['bench', '--repeat', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--repeat 0/);
    expect(r.stdout).toBe('');
  });
});
