/**
 * `wasmvisor bench` (and `npm run bench`, which runs it with --v86): loop guests that follow
 * the checkpoint convention of guests/bench/bench.inc, timed between their checkpoints on
 * wasmvisor as `wasmvisor run` runs them (a whole PC, `Machine`) and, with --v86, on v86 as
 * it is (a whole PC too: its interpreter, and its JIT unless --no-jit), in this process,
 * each engine on a new machine per run. Prints guest MIPS over the process's CPU time and
 * wall time and the ratios, and checks every engine's instruction count and the guest's
 * result against the values the bench knows (a mismatch is an error: exit status 1).
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Machine } from '../machine/machine.js';
import {
  BENCH_GUESTS,
  CHECKPOINT_OUT,
  NO_MEASURE,
  best,
  countFilePath,
  loopImagePath,
  type BenchGuest,
  type Measure,
} from '../bench/loops.js';
import { BENCH_RAM, runOnMachine } from '../bench/machine.js';
import { V86_COUNT_TOLERANCE, loadV86LoopRunner } from '../bench/v86.js';
import { formatTable, fmtCount, fmtMips, fmtRatio, type Column } from '../bench/table.js';
import { UsageError, errCode, setExitStatus } from './main.js';
import { workloadsCommand } from './bench-workloads.js';
import { BENCH_MODES } from '../bench/workloads.js';
import { modesReport, runModes, selectModes, writeModesJson } from './bench-modes.js';
import { PROFILES } from '../vmm/cost/index.js';
import { packaged } from './paths.js';

export interface BenchOptions {
  only?: string;
  guest?: string;
  instructions?: string;
  result?: string;
  repeat: string;
  json?: string;
  v86?: boolean;
  /** false with --no-jit: v86's interpreter only. */
  jit: boolean;
  workloads?: boolean;
  modes?: string;
  profile?: string;
  iters?: string;
  csv?: string;
  svg?: string;
}

const MIB = 2 ** 20;
/** Most runs per guest and engine. */
const MAX_REPEAT = 100;

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'time loop guests on wasmvisor as `run` runs them: guest MIPS, instruction counts and ' +
        'results checked; --v86 compares with v86',
    )
    .option(
      '--only <names>',
      `comma-separated shipped guests (${BENCH_GUESTS.map((w) => w.name).join(', ')})`,
    )
    .option(
      '--guest <file>',
      'a Multiboot kernel that follows the checkpoint convention (guests/bench/README.md) instead',
    )
    .option(
      '--instructions <n>',
      'with --guest: the instructions between its checkpoints, to check',
    )
    .option(
      '--result <n>',
      'with --guest: the result it must report (EBX at checkpoint 3), to check',
    )
    .option('--repeat <n>', 'runs per guest and engine; the best one counts', '1')
    .option('--json <file>', 'also write the results as JSON')
    .option('--v86', "also run v86's interpreter and JIT in this process (needs the v86 package)")
    .option('--no-jit', "with --v86: v86's interpreter only")
    .option('--workloads', "JeOS's workloads under each mode, in simulated cycles (cost model)")
    .option('--modes <list>', `modes to run (${BENCH_MODES.map((m) => m.name)
      .join(', ')}); for the loop guests: wall time under each mode against native's`)
    .option('--profile <name>', `with --workloads: CPU profile (${PROFILES.map((p) => p.name)
      .join(', ')}; default p4-prescott)`)
    .option('--iters <n>', 'with --workloads: iterations of every workload')
    .option('--csv <file>', 'with --workloads: also write the results as CSV')
    .option('--svg <file>', 'with --workloads: also draw them as a grouped bar chart (SVG)')
    .action(async function (this: Command, opts: BenchOptions) {
      checkWorkloadOptions(opts);
      setExitStatus(this, opts.workloads ? await workloadsCommand(opts)
        : await benchCommand(opts));
    });
}

/** The options of the two benchmarks do not mix. */
function checkWorkloadOptions(opts: BenchOptions): void {
  const loopOnly = ['guest', 'instructions', 'result', 'v86'] as const;
  const workloadOnly = ['profile', 'iters', 'csv', 'svg'] as const;
  if (opts.workloads) {
    for (const k of loopOnly) {
      if (opts[k] !== undefined) {
        throw new UsageError(`--${k} is for the loop guests, not --workloads`);
      }
    }
    if (opts.repeat !== '1') {
      throw new UsageError('--repeat is for the loop guests, not --workloads');
    }
    if (!opts.jit) throw new UsageError('--no-jit is for the loop guests, not --workloads');
  } else {
    for (const k of workloadOnly) {
      if (opts[k] !== undefined) throw new UsageError(`--${k} goes with --workloads`);
    }
    if (opts.modes !== undefined && (opts.v86 || opts.guest !== undefined)) {
      throw new UsageError('--modes with the loop guests runs wasmvisor only, on the shipped ' +
        'guests (not with --v86 or --guest)');
    }
  }
}

/** A guest to run: its definition and image. */
interface Job {
  guest: BenchGuest;
  image: Uint8Array;
  instructions: number | null;
  result: number | null;
}

/** The guests --only names, in the table's order. */
export function selectGuests(only: string | undefined): BenchGuest[] {
  if (only === undefined) return BENCH_GUESTS;
  const names = only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('--only: no guest named');
  const known = new Set(BENCH_GUESTS.map((w) => w.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new UsageError(
      `--only: no guest ${unknown.join(', ')} (known: ${[...known].join(', ')})`,
    );
  }
  return BENCH_GUESTS.filter((w) => names.includes(w.name));
}

export function parseRepeat(text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_REPEAT))
    throw new UsageError(`--repeat ${text}: must be a whole number from 1 to ${MAX_REPEAT}`);
  return n;
}

/** A whole number option (decimal or 0x hex) no larger than `max`. */
function parseWhole(option: string, text: string, max: number): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(Number.isSafeInteger(n) && n <= max))
    throw new UsageError(`${option} ${text}: must be a whole number from 0 to ${max}`);
  return n;
}

/** A pause between timed runs, ms. */
const SETTLE_MS = 200;
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, SETTLE_MS));


function readPackaged(rel: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(packaged(rel)));
  } catch (e) {
    throw new Error(`${what} ${rel} missing from the package: ${errCode(e)}`);
  }
}

function jobs(opts: BenchOptions): Job[] {
  if (opts.guest === undefined) {
    if (opts.instructions !== undefined || opts.result !== undefined) {
      throw new UsageError(
        '--instructions and --result go with --guest (the shipped guests know theirs)',
      );
    }
    const readCount = (name: string) =>
      new TextDecoder().decode(readPackaged(countFilePath(name), 'count file'));
    return selectGuests(opts.only).map((guest) => ({
      guest,
      image: readPackaged(loopImagePath(guest.name), 'guest image'),
      instructions: guest.instructions(readCount),
      result: guest.result ? guest.result() : null,
    }));
  }
  if (opts.only !== undefined) throw new UsageError('--guest and --only do not combine');
  let image: Uint8Array;
  try {
    image = new Uint8Array(readFileSync(opts.guest));
  } catch (e) {
    throw new UsageError(`--guest ${opts.guest}: cannot read it: ${errCode(e)}`);
  }
  const instructions =
    opts.instructions === undefined
      ? null
      : parseWhole('--instructions', opts.instructions, Number.MAX_SAFE_INTEGER);
  const result = opts.result === undefined ? null : parseWhole('--result', opts.result, 0xffffffff);
  const guest: BenchGuest = {
    name: basename(opts.guest).replace(/\.bin$/, ''),
    what: opts.guest,
    instructions: () => instructions,
    result: result === null ? null : () => result,
  };
  return [{ guest, image, instructions, result }];
}

interface Result {
  job: Job;
  wasmvisor: Measure;
  v86Interpreter?: Measure;
  v86Jit?: Measure;
  /** What failed the checks, one line each. */
  problems: string[];
}

/**
 * The checks of one guest: each engine ran to its checkpoints, counted the instructions
 * the bench knows (wasmvisor exactly, v86 within its counter's slack) and reported the
 * result computed outside the emulators. Where the bench knows neither (a --guest without
 * --instructions or --result), the engines are checked against each other.
 */
function check(job: Job, engines: [string, Measure][]): string[] {
  const problems: string[] = [];
  const ran = engines.filter(([name, m]) => {
    if (m.error) problems.push(`${name}: ${m.error}`);
    return !m.error && m.counted !== null;
  });
  const wv = ran.find(([name]) => name === 'wasmvisor')?.[1];
  const wantCount = job.instructions ?? (wv ? wv.counted! - CHECKPOINT_OUT : null);
  const wantResult = job.result ?? wv?.result ?? null;
  for (const [name, m] of ran) {
    const n = m.counted! - CHECKPOINT_OUT;
    const slack = name === 'wasmvisor' ? 0 : Math.ceil(wantCount! * V86_COUNT_TOLERANCE);
    if (wantCount !== null && Math.abs(n - wantCount) > slack) {
      problems.push(
        `${name} counted ${fmtCount(n)} instructions between the checkpoints ` +
          `(+${CHECKPOINT_OUT} OUT), expected ${fmtCount(wantCount)}` +
          (slack ? ` ± ${fmtCount(slack)}` : ''),
      );
    }
    if (m.result === null || m.result === undefined)
      problems.push(`${name}: the guest reported no result (checkpoint 3)`);
    else if (wantResult !== null && m.result !== wantResult) {
      problems.push(
        `${name}: result 0x${m.result.toString(16)}, expected 0x${wantResult.toString(16)}`,
      );
    }
  }
  return problems;
}

export async function benchCommand(opts: BenchOptions): Promise<number> {
  const repeat = parseRepeat(opts.repeat);
  const todo = jobs(opts);
  if (opts.modes !== undefined) return modesCommand(opts, todo, repeat);
  const v86 = opts.v86 ? await loadV86LoopRunner() : null;
  if (opts.v86 && !v86) {
    throw new UsageError(
      '--v86: the v86 package is not installed (npm install v86), ' +
        'so there is nothing to compare with',
    );
  }

  // V8 counts wasm memory as external memory: what one VM adds is its RAM plus the core's own.
  const before = process.memoryUsage().external;
  await Machine.create({ ramBytes: BENCH_RAM, kernel: todo[0].image });
  const vmBytes = process.memoryUsage().external - before;

  const progress = process.stderr.isTTY
    ? (s: string) => process.stderr.write(`\r${s}\x1b[K`)
    : () => undefined;
  const results: Result[] = [];
  for (const job of todo) {
    const name = job.guest.name;
    let wv = NO_MEASURE,
      vi = NO_MEASURE,
      vj = NO_MEASURE;
    for (let r = 0; r < repeat; r++) {
      // Each run starts after the last one's background work (compilation, collection of
      // its machine) has had time to finish: the CPU clock counts every thread.
      await settle();
      progress(`${name}: wasmvisor (run ${r + 1} of ${repeat})`);
      wv = best(wv, await runOnMachine(job.image, job.instructions));
      if (v86) {
        await settle();
        progress(`${name}: v86 interpreter (run ${r + 1} of ${repeat})`);
        vi = best(vi, await v86(job.image, job.instructions, false));
        if (opts.jit) {
          await settle();
          progress(`${name}: v86 JIT (run ${r + 1} of ${repeat})`);
          vj = best(vj, await v86(job.image, job.instructions, true));
        }
      }
    }
    const engines: [string, Measure][] = [['wasmvisor', wv]];
    if (v86) engines.push(['v86 interpreter', vi]);
    if (v86 && opts.jit) engines.push(['v86 JIT', vj]);
    results.push({
      job,
      wasmvisor: wv,
      ...(v86 ? { v86Interpreter: vi } : {}),
      ...(v86 && opts.jit ? { v86Jit: vj } : {}),
      problems: check(job, engines),
    });
  }
  progress('');

  process.stdout.write(report(results, vmBytes, repeat));
  let status = 0;
  for (const r of results) {
    for (const p of r.problems)
      process.stderr.write(`wasmvisor bench: ${r.job.guest.name}: ${p}\n`);
    if (r.problems.length) status = 1;
  }
  if (opts.json) writeJson(opts.json, results, vmBytes, repeat);
  return status;
}

/** --modes: the loop guests under each virtualization mode (bench-modes.ts). */
async function modesCommand(opts: BenchOptions, todo: Job[], repeat: number): Promise<number> {
  const modes = selectModes(opts.modes!);
  const progress = process.stderr.isTTY
    ? (s: string) => process.stderr.write(`\r${s}\x1b[K`)
    : () => undefined;
  const rows = await runModes(todo.map((j) => ({ name: j.guest.name, image: j.image,
    instructions: j.instructions, result: j.result })), modes, repeat, settle, progress);
  progress('');
  process.stdout.write(modesReport(rows, repeat));
  let status = 0;
  for (const r of rows) {
    for (const p of r.problems) {
      process.stderr.write(`wasmvisor bench: ${r.guest} under ${r.mode}: ${p}\n`);
      status = 1;
    }
  }
  if (opts.json) writeModesJson(opts.json, rows, repeat);
  return status;
}

function report(results: Result[], vmBytes: number, repeat: number): string {
  const withV86 = results.some((r) => r.v86Interpreter);
  const withJit = results.some((r) => r.v86Jit);
  const columns: Column[] = [
    { title: 'guest' },
    { title: 'instructions', right: true },
    { title: 'checks' },
    { title: 'MIPS (CPU)', right: true },
    { title: 'MIPS (wall)', right: true },
  ];
  if (withV86)
    columns.push({ title: 'v86 interp', right: true }, { title: 'wasmvisor/interp', right: true });
  if (withJit)
    columns.push({ title: 'v86 JIT', right: true }, { title: 'wasmvisor/JIT', right: true });
  const rows = results.map((r) => {
    const wv = r.wasmvisor;
    const n = r.job.instructions ?? (wv.counted === null ? null : wv.counted - CHECKPOINT_OUT);
    const row = [
      r.job.guest.name,
      n === null ? '-' : fmtCount(n),
      r.problems.length ? 'FAILED' : 'ok',
      fmtMips(wv.mips),
      fmtMips(wv.wallMips),
    ];
    if (withV86)
      row.push(fmtMips(r.v86Interpreter?.mips), fmtRatio(wv.mips, r.v86Interpreter?.mips));
    if (withJit) row.push(fmtMips(r.v86Jit?.mips), fmtRatio(wv.mips, r.v86Jit?.mips));
    return row;
  });
  const ram = BENCH_RAM / MIB;
  const vm = vmBytes / MIB;
  return [
    `wasmvisor VM with ${ram} MiB RAM: ${vm.toFixed(1)} MiB of wasm memory ` +
      `(RAM + ${(vm - ram).toFixed(1)} MiB)`,
    "guest MIPS between the checkpoints over this process's CPU time and over wall time, " +
      `a new PC per run${repeat > 1 ? `, best of ${repeat} runs` : ''}`,
    `checks: each engine's instruction count (v86's within ${V86_COUNT_TOLERANCE * 100}%) ` +
      "and the guest's result against the bench's",
    '',
    formatTable(columns, rows),
  ].join('\n');
}

function writeJson(path: string, results: Result[], vmBytes: number, repeat: number): void {
  const engine = (m: Measure | undefined) =>
    m && {
      mips: m.mips,
      wallMips: m.wallMips ?? null,
      ms: m.ms,
      counted: m.counted,
      result: m.result ?? null,
      ...(m.slowBoundaries !== undefined ? { slowBoundaries: m.slowBoundaries } : {}),
      ...(m.error ? { error: m.error } : {}),
    };
  const json = {
    ramBytes: BENCH_RAM,
    vmMemoryBytes: vmBytes,
    repeat,
    guests: results.map((r) => ({
      guest: r.job.guest.name,
      what: r.job.guest.what,
      instructions: r.job.instructions,
      result: r.job.result,
      ok: r.problems.length === 0,
      problems: r.problems,
      wasmvisor: engine(r.wasmvisor),
      ...(r.v86Interpreter ? { v86Interpreter: engine(r.v86Interpreter) } : {}),
      ...(r.v86Jit ? { v86Jit: engine(r.v86Jit) } : {}),
    })),
  };
  try {
    writeFileSync(path, JSON.stringify(json, null, 2) + '\n');
  } catch (e) {
    throw new UsageError(
      `--json ${path}: ${errCode(e)}`,
    );
  }
}
