/**
 * `wasmvisor bench --modes native,vtx,svm` (without --workloads): the loop guests on the
 * path users run (a whole PC, `Machine`) under each virtualization mode, in this process,
 * the modes interleaved run by run so that the machine's other load falls on all of them
 * alike. Reports the median wall time between the checkpoints of each mode, its ratio to
 * native's median (issue 9's target: at most 1.10 under vtx and svm with nested paging),
 * and what the two-dimensional walks cost on the way: TLB misses, the guest's walk
 * references and the nested ones per miss, VM exits.
 */
import { writeFileSync } from 'node:fs';
import type { Measure } from '../bench/loops.js';
import { runOnMachine, type WalkCounts } from '../bench/machine.js';
import { BENCH_MODES, type BenchMode } from '../bench/workloads.js';
import { formatTable, fmtCount, type Column } from '../bench/table.js';
import { UsageError } from './main.js';

/** The target of issue 9 (section 7): a hardware mode with nested paging costs at most 10%
 *  more wall time than native on the loop guests. */
export const MODE_TARGET = 1.1;

export interface ModeJob {
  name: string;
  image: Uint8Array;
  instructions: number | null;
  result: number | null;
}

export interface ModeRun {
  guest: string;
  mode: string;
  /** Wall and CPU ms between the checkpoints of every run, in run order. */
  wallMs: number[];
  cpuMs: number[];
  medianWallMs: number;
  medianCpuMs: number;
  /** medianWallMs / native's (1 for native; null without a native column). */
  ratio: number | null;
  cpuRatio: number | null;
  walks: WalkCounts | null;
  problems: string[];
}

/** The modes --modes names (BENCH_MODES), in the order given; native first if present. */
export function selectModes(list: string): BenchMode[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new UsageError('--modes: no mode named');
  const out: BenchMode[] = [];
  for (const n of names) {
    const m = BENCH_MODES.find((b) => b.name === n);
    if (!m) {
      throw new UsageError(`--modes: no mode ${n} (known: ${BENCH_MODES.map((b) => b.name)
        .join(', ')})`);
    }
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

export const median = (a: number[]): number => {
  const s = a.slice().sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/** Runs every job under every mode `repeat` times, interleaved; `progress` for the user. */
export async function runModes(jobs: ModeJob[], modes: BenchMode[], repeat: number,
  settle: () => Promise<void>, progress: (s: string) => void): Promise<ModeRun[]> {
  const out: ModeRun[] = [];
  for (const job of jobs) {
    const runs = new Map<string, { m: Measure & { walks?: WalkCounts } }[]>();
    for (let r = 0; r < repeat; r++) {
      for (const mode of modes) {
        await settle();
        progress(`${job.name}: ${mode.name} (run ${r + 1} of ${repeat})`);
        const m = await runOnMachine(job.image, job.instructions, undefined, mode.config);
        if (!runs.has(mode.name)) runs.set(mode.name, []);
        runs.get(mode.name)!.push({ m });
      }
    }
    const rows: ModeRun[] = modes.map((mode) => {
      const list = runs.get(mode.name)!;
      const problems: string[] = [];
      for (const { m } of list) {
        if (m.error) problems.push(m.error);
        else if (job.result !== null && m.result !== job.result) {
          problems.push(`result 0x${(m.result ?? 0).toString(16)}, expected ` +
            `0x${job.result.toString(16)}`);
        }
      }
      const ok = list.filter(({ m }) => !m.error && m.ms !== null);
      const wallMs = ok.map(({ m }) => m.ms!);
      const n = job.instructions;
      const cpuMs = ok.map(({ m }) => (m.mips && n ? n / m.mips / 1000 : m.ms!));
      return {
        guest: job.name, mode: mode.name, wallMs, cpuMs,
        medianWallMs: wallMs.length ? median(wallMs) : NaN,
        medianCpuMs: cpuMs.length ? median(cpuMs) : NaN,
        ratio: null, cpuRatio: null, walks: ok[0]?.m.walks ?? null, problems,
      };
    });
    const native = rows.find((r) => r.mode === 'native');
    for (const r of rows) {
      if (native && Number.isFinite(native.medianWallMs)) {
        r.ratio = r.medianWallMs / native.medianWallMs;
        r.cpuRatio = r.medianCpuMs / native.medianCpuMs;
      }
    }
    out.push(...rows);
  }
  return out;
}

const fmt2 = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(2));

export function modesReport(rows: ModeRun[], repeat: number): string {
  const columns: Column[] = [
    { title: 'guest' }, { title: 'mode' }, { title: 'wall ms', right: true },
    { title: 'vs native', right: true }, { title: 'CPU ms', right: true },
    { title: 'vs native (CPU)', right: true }, { title: 'TLB misses', right: true },
    { title: 'refs/miss', right: true }, { title: 'nested refs', right: true },
    { title: 'VM exits', right: true }, { title: 'checks' },
  ];
  const body = rows.map((r) => {
    const w = r.walks;
    return [
      r.guest, r.mode, r.medianWallMs.toFixed(0), fmt2(r.ratio), r.medianCpuMs.toFixed(0),
      fmt2(r.cpuRatio), w ? fmtCount(w.tlbMisses) : '-',
      w && w.pageWalks ? ((w.walkMemRefs + w.nestedWalkMemRefs) / w.pageWalks).toFixed(2) : '-',
      w ? fmtCount(w.nestedWalkMemRefs) : '-', w ? fmtCount(w.vmExits) : '-',
      r.problems.length ? 'FAILED' : 'ok',
    ];
  });
  return [
    `the loop guests under each mode, a new PC per run, the modes interleaved; medians of ${
      repeat} run${repeat > 1 ? 's' : ''}`,
    `target (issue 9): a hardware mode with nested paging at most ${MODE_TARGET.toFixed(2)}x ` +
      "native's wall time; refs/miss: page-walk references (guest + nested) per guest walk",
    '',
    formatTable(columns, body),
  ].join('\n');
}

export function writeModesJson(path: string, rows: ModeRun[], repeat: number): void {
  writeFileSync(path, JSON.stringify({ repeat, target: MODE_TARGET, runs: rows }, null, 2) +
    '\n');
}
