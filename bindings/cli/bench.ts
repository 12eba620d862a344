/**
 * `wasmvisor bench`: the loop guests of guests/bench (shipped with the package) on the
 * wasmvisor core, timed between their two checkpoints. Prints guest MIPS over the
 * process's CPU time and over wall time, checks each guest's instruction count against
 * the core's counter (a mismatch is an error: exit status 1), and the memory one VM takes.
 * With --v86 it also runs v86's interpreter and JIT in this process when the `v86` package
 * is installed (it is only a development dependency of wasmvisor), and prints the ratios.
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { createCore } from '../core/index.js';
import { WORKLOADS, CHECKPOINT_OUT, best, loopImagePath, runLoopGuest, type Measure, type Workload } from '../bench/loops.js';
import { loadV86LoopRunner } from '../bench/v86.js';
import { formatTable, fmtCount, fmtMips, fmtRatio, type Column } from '../bench/table.js';
import { UsageError, setExitStatus } from './main.js';
import { packaged } from './paths.js';

export interface BenchOptions {
  only?: string;
  repeat: string;
  json?: string;
  v86?: boolean;
  /** false with --no-jit: v86's interpreter only. */
  jit: boolean;
}

/** Guest RAM of the benchmark VM (the loops touch at most 8 MiB). */
const RAM = 64 << 20;
const MIB = 2 ** 20;
/** Most runs per guest and engine. */
const MAX_REPEAT = 100;

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time the loop guests on the wasmvisor core: guest MIPS, instruction counts checked, VM memory; --v86 compares with v86')
    .option('--only <names>', `comma-separated guests (${WORKLOADS.map((w) => w.name).join(', ')})`)
    .option('--repeat <n>', 'runs per guest and engine; the best one counts', '1')
    .option('--json <file>', 'also write the results as JSON')
    .option('--v86', "also run v86's interpreter and JIT in this process (needs the v86 package)")
    .option('--no-jit', "with --v86: v86's interpreter only")
    .action(async function (this: Command, opts: BenchOptions) {
      setExitStatus(this, await benchCommand(opts));
    });
}

/** The guests --only names, in the table's order. */
export function selectWorkloads(only: string | undefined): Workload[] {
  if (only === undefined) return WORKLOADS;
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('--only: no guest named');
  const known = new Set(WORKLOADS.map((w) => w.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new UsageError(`--only: no guest ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  }
  return WORKLOADS.filter((w) => names.includes(w.name));
}

export function parseRepeat(text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_REPEAT)) throw new UsageError(`--repeat ${text}: must be a whole number from 1 to ${MAX_REPEAT}`);
  return n;
}

interface Result {
  workload: Workload;
  wasmvisor: Measure;
  v86Interpreter?: Measure;
  v86Jit?: Measure;
  /** The core's count minus the source's: CHECKPOINT_OUT when they agree. */
  countDelta: number | null;
}

function loadImage(w: Workload): Uint8Array {
  const path = packaged(loopImagePath(w.name));
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`guest image ${loopImagePath(w.name)} missing from the package: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const NONE: Measure = { mips: null, ms: null, counted: null };

export async function benchCommand(opts: BenchOptions): Promise<number> {
  const workloads = selectWorkloads(opts.only);
  const repeat = parseRepeat(opts.repeat);
  const v86 = opts.v86 ? await loadV86LoopRunner() : null;
  if (opts.v86 && !v86) {
    throw new UsageError('--v86: the v86 package is not installed (npm install v86), so there is nothing to compare with');
  }
  const images = workloads.map(loadImage);

  // V8 counts wasm memory as external memory: what the VM added is its RAM plus the core's own.
  const before = process.memoryUsage().external;
  const core = await createCore({ ramBytes: RAM });
  const vmBytes = process.memoryUsage().external - before;

  const progress = process.stderr.isTTY ? (s: string) => process.stderr.write(`\r${s}\x1b[K`) : () => undefined;
  const results: Result[] = [];
  for (const [i, w] of workloads.entries()) {
    let wv = NONE, vi = NONE, vj = NONE;
    for (let r = 0; r < repeat; r++) {
      progress(`${w.name}: wasmvisor (run ${r + 1} of ${repeat})`);
      wv = best(wv, runLoopGuest(core, images[i], w));
      if (v86) {
        progress(`${w.name}: v86 interpreter (run ${r + 1} of ${repeat})`);
        vi = best(vi, await v86(images[i], w, false));
        if (opts.jit) {
          progress(`${w.name}: v86 JIT (run ${r + 1} of ${repeat})`);
          vj = best(vj, await v86(images[i], w, true));
        }
      }
    }
    results.push({
      workload: w,
      wasmvisor: wv,
      ...(v86 ? { v86Interpreter: vi } : {}),
      ...(v86 && opts.jit ? { v86Jit: vj } : {}),
      countDelta: wv.counted === null ? null : wv.counted - w.instructions,
    });
  }
  progress('');

  process.stdout.write(report(results, vmBytes, repeat));
  let status = 0;
  for (const r of results) {
    const name = r.workload.name;
    for (const [engine, m] of [['wasmvisor', r.wasmvisor], ['v86 interpreter', r.v86Interpreter], ['v86 JIT', r.v86Jit]] as const) {
      if (m?.error) process.stderr.write(`wasmvisor bench: ${name} on ${engine}: ${m.error}\n`);
    }
    if (r.wasmvisor.error) status = 1;
    else if (r.countDelta !== CHECKPOINT_OUT) {
      process.stderr.write(
        `wasmvisor bench: ${name}: the core counted ${r.wasmvisor.counted} instructions, the source says ${r.workload.instructions} (+${CHECKPOINT_OUT} for the checkpoint OUT)\n`,
      );
      status = 1;
    }
  }
  if (opts.json) writeJson(opts.json, results, vmBytes, repeat);
  return status;
}

function report(results: Result[], vmBytes: number, repeat: number): string {
  const withV86 = results.some((r) => r.v86Interpreter);
  const withJit = results.some((r) => r.v86Jit);
  const columns: Column[] = [
    { title: 'guest' },
    { title: 'instructions', right: true },
    { title: 'count check' },
    { title: 'MIPS (CPU)', right: true },
    { title: 'MIPS (wall)', right: true },
  ];
  if (withV86) columns.push({ title: 'v86 interp', right: true }, { title: 'wasmvisor/interp', right: true });
  if (withJit) columns.push({ title: 'v86 JIT', right: true }, { title: 'wasmvisor/JIT', right: true });
  const rows = results.map((r) => {
    const wv = r.wasmvisor;
    const check = r.countDelta === null ? 'n/a' : r.countDelta === CHECKPOINT_OUT ? `ok (+${CHECKPOINT_OUT} OUT)` : `MISMATCH (${r.countDelta >= 0 ? '+' : ''}${r.countDelta})`;
    const row = [r.workload.name, fmtCount(r.workload.instructions), check, fmtMips(wv.mips), fmtMips(wv.wallMips)];
    if (withV86) row.push(fmtMips(r.v86Interpreter?.mips), fmtRatio(wv.mips, r.v86Interpreter?.mips));
    if (withJit) row.push(fmtMips(r.v86Jit?.mips), fmtRatio(wv.mips, r.v86Jit?.mips));
    return row;
  });
  const ram = RAM / MIB;
  const vm = vmBytes / MIB;
  return [
    `wasmvisor VM with ${ram} MiB RAM: ${vm.toFixed(1)} MiB of wasm memory (RAM + ${(vm - ram).toFixed(1)} MiB)`,
    `guest MIPS between the checkpoints over this process's CPU time and over wall time${repeat > 1 ? `, best of ${repeat} runs` : ''}`,
    `count check: the core's instruction counter against the source's count (+${CHECKPOINT_OUT} for the checkpoint OUT itself)`,
    '',
    formatTable(columns, rows),
  ].join('\n');
}

function writeJson(path: string, results: Result[], vmBytes: number, repeat: number): void {
  const engine = (m: Measure | undefined) =>
    m && { mips: m.mips, wallMips: m.wallMips ?? null, ms: m.ms, counted: m.counted, ...(m.error ? { error: m.error } : {}) };
  const json = {
    ramBytes: RAM,
    vmMemoryBytes: vmBytes,
    repeat,
    guests: results.map((r) => ({
      guest: r.workload.name,
      what: r.workload.what,
      instructions: r.workload.instructions,
      countOk: r.countDelta === CHECKPOINT_OUT,
      wasmvisor: engine(r.wasmvisor),
      ...(r.v86Interpreter ? { v86Interpreter: engine(r.v86Interpreter) } : {}),
      ...(r.v86Jit ? { v86Jit: engine(r.v86Jit) } : {}),
    })),
  };
  try {
    writeFileSync(path, JSON.stringify(json, null, 2) + '\n');
  } catch (e) {
    throw new UsageError(`--json ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
