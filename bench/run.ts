/**
 * Whole-run benchmarks: the same Multiboot guests (guests/bench) in wasmvisor, in v86's
 * interpreter and in v86's JIT, in this one process. Each guest times a loop between two
 * checkpoints (`out 0xe9, eax`, EAX = 1 then 2) whose instruction count is known from its
 * source; guest MIPS = that count / the process's CPU time between the checkpoints (wall
 * time is shown too; on a shared machine it also counts other processes' turns). The count is
 * checked against wasmvisor's instruction counter (exact: the difference shown is the
 * checkpoint OUT itself) and v86's (approximate: v86 adds to its counter in batches).
 *
 * v86's interpreter is forced with its `disable_jit` option (v86 `CPU.init` calls
 * `set_jit_config(0, 1)` for it).
 *
 * Usage: npm run bench [-- --only alu,callret] [--no-v86] [--no-jit] [--repeat N] [--json FILE]
 * With --repeat N each engine runs each guest N times and the best run counts (the
 * machine's other load only ever slows a run down).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import type { Core, CoreOptions } from '../bindings/core/types.js';
import { bootMultiboot, planMultiboot } from '../bindings/boot/multiboot.js';
import { loadV86LoopRunner } from '../bindings/bench/v86.js';
import { runLoopGuest as runWasmvisor, type Measure } from '../bindings/bench/loops.js';
import { WORKLOADS, benchImageUrl, type Workload } from './workloads.js';

const RAM = 64 << 20;

function args() {
  const a = process.argv.slice(2);
  const get = (k: string) => {
    const i = a.indexOf(k);
    return i >= 0 ? a[i + 1] : undefined;
  };
  return {
    only: get('--only')?.split(','),
    v86: !a.includes('--no-v86'),
    jit: !a.includes('--no-jit'),
    json: get('--json'),
    repeat: Math.max(1, Number(get('--repeat') ?? 1) || 1),
  };
}

function image(name: string): Uint8Array {
  return new Uint8Array(readFileSync(benchImageUrl(name)));
}

async function loadCore(): Promise<((o: CoreOptions) => Promise<Core>) | string> {
  try {
    const mod = (await import('../bindings/core/index.js')) as { createCore(o: CoreOptions): Promise<Core> };
    return mod.createCore;
  } catch (e) {
    return `wasmvisor core not loadable: ${(e as Error).message.split('\n')[0]}`;
  }
}

const v86Runner = await loadV86LoopRunner();
async function runOnV86(img: Uint8Array, w: Workload, jit: boolean): Promise<Measure> {
  if (!v86Runner) return { mips: null, ms: null, counted: null, error: 'the v86 package is not installed' };
  return v86Runner(img, w, jit);
}

const fmt = (m: Measure) => (m.mips === null ? (m.error ? 'n/a' : '-') : m.mips.toFixed(1));
const fmtWall = (m: Measure) => (m.wallMips === undefined ? '-' : m.wallMips.toFixed(1));
const ratio = (a: Measure, b: Measure) => (a.mips && b.mips ? (a.mips / b.mips).toFixed(2) + 'x' : '-');

async function main(): Promise<void> {
  const opt = args();
  const createCore = await loadCore();
  if (typeof createCore === 'string') console.log(createCore);
  // Memory per VM (issue: guest RAM plus at most 16 MiB): V8 counts wasm memory as external.
  const before = process.memoryUsage().external;
  const core = typeof createCore === 'string' ? null : await createCore({ ramBytes: RAM });
  if (core) {
    const added = (process.memoryUsage().external - before) / 2 ** 20;
    console.log(`wasmvisor VM with ${RAM / 2 ** 20} MiB RAM: ${added.toFixed(1)} MiB of wasm memory (RAM + ${(added - RAM / 2 ** 20).toFixed(1)} MiB)`);
  }
  const rows: Record<string, unknown>[] = [];
  for (const w of WORKLOADS.filter((x) => !opt.only || opt.only.includes(x.name))) {
    const img = image(w.name);
    const none: Measure = { mips: null, ms: null, counted: null };
    let wv: Measure = core ? none : { ...none, error: 'no core' };
    let vi = none;
    let vj = none;
    const best = (a: Measure, b: Measure) => (a.mips !== null && (b.mips === null || a.mips >= b.mips) ? a : b);
    for (let i = 0; i < opt.repeat; i++) {
      if (core) wv = best(wv, runWasmvisor(core, img, w));
      if (opt.v86) vi = best(vi, await runOnV86(img, w, false));
      if (opt.v86 && opt.jit) vj = best(vj, await runOnV86(img, w, true));
    }
    const row = {
      guest: w.name,
      instructions: w.instructions,
      'wasmvisor MIPS': fmt(wv),
      'v86 interp MIPS': fmt(vi),
      'v86 JIT MIPS': fmt(vj),
      'wasmvisor/v86-interp': ratio(wv, vi),
      'wasmvisor/v86-JIT': ratio(wv, vj),
      'wall MIPS (wv/interp/JIT)': `${fmtWall(wv)} / ${fmtWall(vi)} / ${fmtWall(vj)}`,
      'counter check': [
        wv.counted !== null ? `wasmvisor ${wv.counted - w.instructions >= 0 ? '+' : ''}${wv.counted - w.instructions}` : null,
        // v86 updates its counter in batches, so at a port write it can lag by a batch.
        vi.counted !== null ? `v86 ${(((vi.counted - w.instructions) / w.instructions) * 100).toFixed(2)}%` : null,
      ].filter(Boolean).join(', '),
    };
    for (const [k, m] of [['wasmvisor', wv], ['v86 interp', vi], ['v86 JIT', vj]] as const) if (m.error) console.log(`${w.name} on ${k}: ${m.error}`);
    // The counter includes the end checkpoint's OUT: one more than the source count.
    if (wv.counted !== null && wv.counted - w.instructions !== 1) {
      console.log(`${w.name}: wasmvisor counted ${wv.counted} instructions, the source says ${w.instructions} (+1 for the OUT)`);
      process.exitCode = 1;
    }
    rows.push(row);
    console.log(`${w.name}: wasmvisor ${fmt(wv)}, v86 interpreter ${fmt(vi)}, v86 JIT ${fmt(vj)} MIPS (CPU time)`);
  }
  console.log('\nguest MIPS between the checkpoints over process CPU time, and over wall time (counter check: counted minus expected instructions)');
  console.table(rows);

  // tinybench: per-operation costs where a small repeated task fits.
  const bench = new Bench({ time: 500 });
  const hello = new Uint8Array(readFileSync(new URL('../guests/systests/hello.bin', import.meta.url)));
  bench.add('multiboot: plan a kernel load', () => {
    planMultiboot(hello, { ramBytes: RAM });
  });
  if (core) {
    const exitLoop = image('alu');
    bench.add('wasmvisor: boot + 10,000 instructions of the alu guest', () => {
      bootMultiboot(core, exitLoop);
      core.run(10_000);
    });
  }
  await bench.run();
  console.table(bench.table());
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ rows, tinybench: bench.table() }, null, 2));
  process.exit(process.exitCode ?? 0);
}

await main();
