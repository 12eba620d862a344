/**
 * `wasmvisor bench --workloads`: JeOS's workloads under each virtualization mode, priced by
 * the cost model (bindings/vmm/cost) with a CPU profile, beside Adams & Agesen's figure 4.
 * Progress goes to stderr; --json, --csv and --svg write the results.
 */
import { writeFileSync } from 'node:fs';
import { jeos } from '../node.js';
import {
  ADAMS_AGESEN_FIG4, BENCH_MODES, runWorkloads, type BenchMode, type WorkloadRun,
} from '../bench/workloads.js';
import { groupedBarChart, type ChartSeries } from '../bench/chart.js';
import { formatTable, type Column } from '../bench/table.js';
import { PROFILES, profile as findProfile, UnknownProfileError } from '../vmm/cost/index.js';
import type { CpuProfile } from '../vmm/cost/index.js';
import { UsageError, errCode } from './main.js';

export interface WorkloadBenchOptions {
  modes?: string;
  profile?: string;
  only?: string;
  iters?: string;
  json?: string;
  csv?: string;
  svg?: string;
}

export function selectModes(text: string | undefined): BenchMode[] {
  if (text === undefined) return [...BENCH_MODES];
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new UsageError('--modes: no mode named');
  return names.map((n) => {
    const m = BENCH_MODES.find((b) => b.name === n);
    if (!m) {
      throw new UsageError(`--modes: no mode ${n} in this build (modes: ${
        BENCH_MODES.map((b) => b.name).join(', ')})`);
    }
    return m;
  });
}

function selectProfile(name: string | undefined): CpuProfile {
  try {
    return findProfile(name ?? 'p4-prescott');
  } catch (e) {
    if (e instanceof UnknownProfileError) throw new UsageError(`--profile: ${e.message}`);
    throw e;
  }
}

function cmdline(opts: WorkloadBenchOptions): string {
  const words: string[] = [];
  if (opts.iters !== undefined) {
    if (!/^\d+$/.test(opts.iters) || Number(opts.iters) < 1 || Number(opts.iters) > 1e7) {
      throw new UsageError(`--iters ${opts.iters}: must be a whole number from 1 to 10000000`);
    }
    words.push(`iters=${opts.iters}`);
  }
  if (opts.only !== undefined) {
    if (!/^[a-z0-9_]+(,[a-z0-9_]+)*$/.test(opts.only)) {
      throw new UsageError(`--only ${opts.only}: comma-separated workload names`);
    }
    words.push(`only=${opts.only}`);
  }
  return words.join(' ');
}

export async function workloadsCommand(opts: WorkloadBenchOptions): Promise<number> {
  const modes = selectModes(opts.modes);
  const profile = selectProfile(opts.profile);
  const line = cmdline(opts);
  const runs: WorkloadRun[] = [];
  for (const mode of modes) {
    process.stderr.write(`bench: JeOS under ${mode.name}...`);
    const run = await runWorkloads({
      kernel: jeos().kernel, disk: () => jeos().disk, mode, profile, cmdline: line,
    });
    if (run.skipped) {
      process.stderr.write(` skipped: ${run.skipped}\n`);
      continue;
    }
    process.stderr.write(` ${run.results.length} workloads, ${
      (run.instructions / 1e6).toFixed(1)}M instructions, ${(run.wallMs / 1000).toFixed(1)} s\n`);
    runs.push(run);
  }
  const names = [...new Set(runs.flatMap((r) => r.results.map((x) => x.workload)))];
  const cols: Column[] = [{ title: 'workload' }];
  for (const r of runs) {
    cols.push({ title: `${r.mode} cycles`, right: true });
    // JeOS's own per_iter: its RDTSC reads the same simulated cycles (a narrower window).
    cols.push({ title: 'JeOS', right: true });
    cols.push({ title: 'A&A', right: true });
    cols.push({ title: 'exits/iter', right: true });
    cols.push({ title: 'refs/miss', right: true });
  }
  const rows = names.map((w) => {
    const cells = [w];
    for (const r of runs) {
      const x = r.results.find((y) => y.workload === w);
      cells.push(x ? Math.round(x.cyclesPerIter).toLocaleString('en-US') : '-');
      cells.push(x?.guestPerIter !== undefined ? x.guestPerIter.toLocaleString('en-US') : '-');
      cells.push(x?.published !== undefined ? x.published.toLocaleString('en-US') : '-');
      cells.push(x ? x.exitsPerIter.toFixed(2) : '-');
      cells.push(x ? x.refsPerMiss.toFixed(1) : '-');
    }
    return cells;
  });
  process.stdout.write(`simulated cycles per iteration, profile ${profile.name} ` +
    `(${profile.description}); A&A = Adams & Agesen 2006, figure 4; JeOS = its own RDTSC ` +
    'measurement in the same simulated cycles (from just before to just after its loop)\n');
  process.stdout.write(formatTable(cols, rows));
  for (const r of runs) {
    process.stdout.write(`${r.mode}: ${r.instructions.toLocaleString('en-US')} instructions, ` +
      `${(r.wallMs / 1000).toFixed(2)} s wall\n`);
  }
  const flat = runs.flatMap((r) => r.results.map((x) => ({ profile: profile.name, ...x })));
  write(opts.json, '--json', () => JSON.stringify({
    profile: profile.name, profiles: PROFILES.map((p) => p.name),
    runs: runs.map((r) => ({ mode: r.mode, wallMs: r.wallMs, instructions: r.instructions })),
    results: flat,
  }, null, 2) + '\n');
  write(opts.csv, '--csv', () => {
    const keys = ['profile', 'workload', 'mode', 'iterations', 'cyclesPerIter', 'published',
      'exitsPerIter', 'refsPerMiss', 'guestPerIter', 'status'] as const;
    const csvCell = (v: unknown): string => {
      const s = v === undefined ? '' : String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    return [keys.join(','), ...flat.map((x) => keys.map((k) => csvCell(x[k])).join(','))]
      .join('\n') + '\n';
  });
  write(opts.svg, '--svg', () => {
    const fig = names.filter((w) => ADAMS_AGESEN_FIG4[w]);
    const series: ChartSeries[] = [];
    for (const r of runs) {
      series.push({ name: `${r.mode} (simulated)`, values: fig.map((w) =>
        r.results.find((x) => x.workload === w)?.cyclesPerIter) });
    }
    for (const col of ['native', 'bt', 'vtx'] as const) {
      series.push({ name: `A&A ${col}`, published: true,
        values: fig.map((w) => ADAMS_AGESEN_FIG4[w][col]) });
    }
    return groupedBarChart(`JeOS workloads, profile ${profile.name}`, fig, series);
  });
  return runs.every((r) => r.results.every((x) => x.status === 'ok')) ? 0 : 1;
}

function write(path: string | undefined, option: string, body: () => string): void {
  if (path === undefined) return;
  try {
    writeFileSync(path, body());
  } catch (e) {
    throw new UsageError(`${option} ${path}: ${errCode(e)}`);
  }
}
