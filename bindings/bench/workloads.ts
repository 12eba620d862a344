/**
 * The workload benchmark of `wasmvisor bench --workloads`: JeOS runs its workloads (after
 * Adams & Agesen: syscall, in, irqmask, callret, pgfault, divzero, ptemod, ...) under each
 * virtualization mode; the machine's counters are taken as each workload's `wl` line
 * completes, and the cost model prices the difference from the previous line with a CPU
 * profile. Simulated cycles explain the technique; wall time is reported apart.
 */
import { Machine, type MachineConfig, type MachineStats } from '../machine/machine.js';
import { parseWorkloadLines } from '../machine/workloads.js';
import { simulate, type CostCounters, type CpuProfile } from '../vmm/cost/index.js';
import { costCounters } from '../vmm/cost/counters.js';
import type { BlockDevice } from '../disk/types.js';
import { readPvElf, PvKernelError } from '../vmm/pv/builder.js';
import { MODES } from '../vmm/modes-list.js';

/**
 * Adams & Agesen, ASPLOS 2006, figure 4: cycles per operation on a 3.8 GHz Pentium 4 672
 * natively, under VMware's software VMM (binary translation) and its hardware VMM (VT-x
 * with shadow paging). `irqmask` is their cr8wr.
 */
export const ADAMS_AGESEN_FIG4: Readonly<Record<string, {
  native: number; bt: number; vtx: number;
}>> = {
  syscall: { native: 242, bt: 2308, vtx: 246 },
  in: { native: 3209, bt: 216, vtx: 15826 },
  irqmask: { native: 150, bt: 35, vtx: 177 },
  callret: { native: 11, bt: 51, vtx: 11 },
  pgfault: { native: 1093, bt: 3927, vtx: 11242 },
  divzero: { native: 889, bt: 3223, vtx: 1014 },
  ptemod: { native: 1, bt: 391, vtx: 12733 },
};

/** A mode of the benchmark: its name in the table and what it adds to the machine. */
export interface BenchMode {
  readonly name: string;
  /** Which published column it compares with (A&A figure 4). */
  readonly published: 'native' | 'bt' | 'vtx' | 'pv';
  readonly config: Partial<MachineConfig>;
}

/**
 * The modes this build can run, in the table's order: every mode of MODES (the one list
 * the CLI, the library and the page read) with each paging it offers. A mode's default
 * paging keeps the mode's name (`vtx`); another paging is named after it (`vtx-shadow`).
 */
export const BENCH_MODES: readonly BenchMode[] = MODES.flatMap((m): BenchMode[] => {
  if (m.name === 'native') return [{ name: 'native', published: m.published, config: {} }];
  const pagings = m.paging.length ? m.paging : [undefined];
  return pagings.map((p, i) => ({
    name: i === 0 || p === undefined ? m.name : `${m.name}-${p}`,
    published: m.published,
    config: (p === undefined ? { mode: m.name } : { mode: m.name, paging: p }) as
      Partial<MachineConfig>,
  }));
});

/** One workload under one mode. */
export interface WorkloadResult {
  workload: string;
  mode: string;
  iterations: number;
  /** Simulated cycles per iteration under the profile. */
  cyclesPerIter: number;
  /** The published figure for this mode's column, when the paper has the workload. */
  published?: number;
  /** VM exits (or, natively, exits of the emulator to its device model) per iteration. */
  exitsPerIter: number;
  /** Page-walk memory references per TLB miss (guest and nested dimensions). */
  refsPerMiss: number;
  /** The cycles JeOS measured itself with RDTSC, per iteration: with simulated time (the
   *  default) the profile's cycles between its two RDTSCs, else the instruction-count TSC. */
  guestPerIter?: number;
  status: string;
}

export interface WorkloadRun {
  mode: string;
  /** Why the mode ran nothing (pv with a kernel that is not a PV kernel). */
  skipped?: string;
  results: WorkloadResult[];
  wallMs: number;
  instructions: number;
}

export { costCounters } from '../vmm/cost/counters.js';

function minus(a: CostCounters, b: CostCounters): CostCounters {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(a)) {
    out[k] = (v as number) - ((b as Record<string, number | undefined>)[k] ?? 0);
  }
  return out;
}

export interface WorkloadBenchOptions {
  kernel: Uint8Array;
  /** A fresh disk per run (the disk workload writes to it). */
  disk?: () => BlockDevice;
  mode: BenchMode;
  profile: CpuProfile;
  /** JeOS command line words (iters=N, only=a,b). */
  cmdline?: string;
  ramBytes?: number;
  maxInstructions?: number;
  /** Simulated time in the VM too (MachineConfig.profile): JeOS's own RDTSC then reads the
   *  profile's cycles, so its `per_iter` (guestPerIter) is comparable with cyclesPerIter.
   *  Default true. */
  simulatedTime?: boolean;
}

/** Runs JeOS once under `mode` and prices each workload. */
export async function runWorkloads(o: WorkloadBenchOptions): Promise<WorkloadRun> {
  // Each workload runs between the end of the line before its `wl` line and the first
  // byte of that line: the counters are taken at both points, so printing is left out.
  let line = '';
  let prevEnd: Snapshot | undefined;
  let lineStart: Snapshot | undefined;
  const results: WorkloadResult[] = [];
  let machine: Machine | undefined;
  const take = (): Snapshot | undefined => {
    if (!machine) return undefined;
    const s = machine.stats();
    const counters = costCounters(s);
    const exits = (counters.vmExits ?? 0) > 0 ? counters.vmExits ?? 0 : sum(s.exits);
    return { counters, exits, misses: s.core.tlbMisses };
  };
  const onLine = (text: string): void => {
    const end = take();
    if (text.startsWith('wl ') && prevEnd && lineStart) {
      const [row] = parseWorkloadLines(text);
      if (row && row.iters && row.iters > 0) {
        const d = minus(lineStart.counters, prevEnd.counters);
        const refs = (d.walkRefs ?? 0) + (d.nestedRefs ?? 0);
        const dm = lineStart.misses - prevEnd.misses;
        results.push({
          workload: row.name,
          mode: o.mode.name,
          iterations: row.iters,
          cyclesPerIter: simulate(d, o.profile).total / row.iters,
          published: o.mode.published === 'pv' ? undefined // A&A has no PV column
            : ADAMS_AGESEN_FIG4[row.name]?.[o.mode.published],
          exitsPerIter: (lineStart.exits - prevEnd.exits) / row.iters,
          refsPerMiss: dm > 0 ? refs / dm : 0,
          guestPerIter: row.perIter,
          status: row.status,
        });
      }
    }
    prevEnd = end;
    lineStart = undefined;
  };
  const t0 = performance.now();
  if (o.mode.config.mode === 'pv') {
    try { readPvElf(o.kernel); } catch (e) {
      if (!(e instanceof PvKernelError)) throw e;
      return { mode: o.mode.name, results, wallMs: 0, instructions: 0, skipped: e.message };
    }
  }
  machine = await Machine.create({
    ramBytes: o.ramBytes ?? 64 << 20,
    kernel: o.kernel,
    cmdline: o.cmdline,
    ...(o.simulatedTime ?? true ? { profile: o.profile.name } : {}),
    disks: o.disk ? [o.disk()] : [],
    serialOut: (b) => {
      if (b === 10) { onLine(line); line = ''; return; }
      if (line === '') lineStart = take();
      if (b !== 13) line += String.fromCharCode(b);
    },
    ...o.mode.config,
  });
  const stop = machine.run(o.maxInstructions ?? 2e9);
  if (stop.kind !== 'poweroff' && stop.kind !== 'exit') {
    throw new Error(`JeOS under ${o.mode.name} stopped: ${JSON.stringify(stop)}`);
  }
  return {
    mode: o.mode.name, results, wallMs: performance.now() - t0,
    instructions: machine.stats().instructions,
  };
}

interface Snapshot { counters: CostCounters; exits: number; misses: number }

function sum(r: Record<string, number>): number {
  let t = 0;
  // The RDTSC exits of simulated time are not the workload's.
  for (const k in r) if (k !== 'budget' && k !== 'rdtsc') t += r[k];
  return t;
}
