/**
 * `wasmvisor bench` through the command line: every shipped loop guest runs on wasmvisor (a
 * whole PC, as `wasmvisor run` runs it) and on v86's interpreter, and both engines' counts
 * and the guests' results check out against values from outside the emulators (the counts
 * of each guest's source, callgrind's count of the sieve on the host CPU, the results
 * computed in JS from each loop's definition, the 1899 primes of the BYTE sieve article).
 * A guest from outside (--guest) is checked against what the user states or, without
 * that, engine against engine. No timing is asserted: the MIPS depend on the machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { V86_COUNT_TOLERANCE } from '../../bindings/bench/v86.js';
import { BENCH_GUESTS } from '../../bindings/bench/loops.js';

/** The table rows of the bench's output, as cells. */
function rows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => /^\S+\s+(-|[\d,]+)\s/.test(l))
    .map((l) => l.trim().split(/\s{2,}/));
}

interface JsonEngine {
  counted: number;
  result: number | null;
  mips: number | null;
  slowBoundaries?: number;
}
interface JsonGuest {
  guest: string;
  instructions: number | null;
  result: number | null;
  ok: boolean;
  problems: string[];
  wasmvisor: JsonEngine;
  v86Interpreter?: JsonEngine;
}

const SIEVE = join(repoRoot, 'guests/bench/sieve.bin');

describe('wasmvisor bench', () => {
  it('runs every shipped guest on wasmvisor and v86, and every count and result checks out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-bench-'));
    const json = join(dir, 'bench.json');
    const r = runCli(['bench', '--v86', '--no-jit', '--json', json], { timeout: 600_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const header = r.stdout.split('\n').find((l) => /^guest {2}/.test(l))!;
    expect(header.trim().split(/\s{2,}/)).toEqual([
      'guest',
      'instructions',
      'checks',
      'MIPS (CPU)',
      'MIPS (wall)',
      'v86 interp',
      'wasmvisor/interp',
    ]);
    const table = rows(r.stdout);
    expect(table.map((c) => c[0])).toEqual(BENCH_GUESTS.map((g) => g.name));
    for (const c of table) {
      expect(c[2], c[0]).toBe('ok');
      expect(c[3]).toMatch(/^\d+\.\d$/);
      expect(c[6]).toMatch(/^\d+\.\d\dx$/);
    }
    const guests = (JSON.parse(readFileSync(json, 'utf8')) as { guests: JsonGuest[] }).guests;
    rmSync(dir, { recursive: true, force: true });
    const by = Object.fromEntries(guests.map((g) => [g.guest, g]));
    // The sources' counts (each .asm header), the exit's OUT counted on top.
    expect(by.alu.instructions).toBe(1 + 6 * 10_000_000 + 1);
    expect(by.callret.instructions).toBe(1 + 5 * 10_000_000 + 1);
    expect(by.memory.instructions).toBe(1 + 600 * (2 + 6 * 16_384 + 2) + 1);
    expect(by.pages.instructions).toBe(1 + 6_000 * (2 + 4 * 2_048 + 2) + 1);
    expect(by.fpu.instructions).toBe(1 + 14 * 1_000_000 + 1);
    // The sieve: callgrind's count of sieve() on the host CPU plus the 7 around the call.
    const callgrind = Number(readFileSync(join(repoRoot, 'guests/bench/sieve.count'), 'utf8'));
    expect(by.sieve.instructions).toBe(callgrind + 7);
    expect(by.sieve.result).toBe(1899);
    // sum 1..10,000,000 mod 2^32
    expect(by.callret.result).toBe(Number(50_000_005_000_000n % 4_294_967_296n));
    for (const g of guests) {
      expect(g.problems, g.guest).toEqual([]);
      expect(g.wasmvisor.counted, g.guest).toBe(g.instructions! + 1);
      expect(g.wasmvisor.result, g.guest).toBe(g.result);
      // The loops keep IF = 0: an interrupt the PC raises meanwhile (its timer) is held and must
      // not put instructions on the run loop's slow path (about one boundary per run() call
      // of the machine's loop, which gives the core at most 1,000,000 instructions a call).
      expect(g.wasmvisor.slowBoundaries, g.guest).toBeLessThan(g.instructions! / 100_000);
      expect(g.v86Interpreter!.result, g.guest).toBe(g.result);
      expect(
        Math.abs(g.v86Interpreter!.counted - 1 - g.instructions!) / g.instructions!,
        g.guest,
      ).toBeLessThan(V86_COUNT_TOLERANCE);
    }
  }, 660_000);

  it('takes a guest from a file, with the count and result the user states', () => {
    const count = Number(readFileSync(join(repoRoot, 'guests/bench/sieve.count'), 'utf8')) + 7;
    const r = runCli(
      ['bench', '--guest', SIEVE, '--instructions', String(count), '--result', '1899'],
      { timeout: 120_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(rows(r.stdout)).toEqual([
      ['sieve', count.toLocaleString('en-US'), 'ok', expect.any(String), expect.any(String)],
    ]);
  }, 150_000);

  it('fails a guest whose result or count is not the one stated', () => {
    const r = runCli(['bench', '--guest', SIEVE, '--instructions', '1000', '--result', '1900'], {
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /sieve: wasmvisor counted [\d,]+ instructions between the checkpoints \(\+1 OUT\), /,
    );
    expect(r.stderr).toMatch(/\), expected 1,000\n/);
    expect(r.stderr).toMatch(/sieve: wasmvisor: result 0x76b, expected 0x76c\n/);
    expect(rows(r.stdout)[0][2]).toBe('FAILED');
  }, 150_000);

  it('fails a guest that does not follow the checkpoint convention', () => {
    const r = runCli(['bench', '--guest', join(repoRoot, 'guests/systests/hello.bin')], {
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /hello: wasmvisor: checkpoints \[\]: expected 1, then 2 \(guests\/bench\/bench\.inc\)/,
    );
  });

  it('with --v86 and no v86 package installed, says so and exits with status 2', () => {
    // Loader hooks make `v86` unresolvable, as in an install without development dependencies.
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        join(repoRoot, 'test/bench/without-v86.mjs'),
        '--import',
        'tsx',
        join(repoRoot, 'test/helpers/cli-entry.ts'),
        'bench',
        '--only',
        'alu',
        '--v86',
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/v86 package is not installed/);
    expect(r.stdout).toBe('');
  });

  it('rejects bad arguments with exit status 2', () => {
    for (const [args, message] of [
      [['--only', 'nosuch'], /--only: no guest nosuch/],
      [['--repeat', '0'], /--repeat 0/],
      [['--guest', '/nonexistent/x.bin'], /--guest \/nonexistent\/x\.bin: cannot read it: ENOENT/],
      [['--result', '5'], /--instructions and --result go with --guest/],
      [
        ['--guest', SIEVE, '--result', '0x1ffffffff'],
        /--result 0x1ffffffff: must be a whole number from 0 to 4294967295/,
      ],
      [['--guest', SIEVE, '--only', 'alu'], /--guest and --only do not combine/],
    ] as [string[], RegExp][]) {
      const r = runCli(['bench', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
