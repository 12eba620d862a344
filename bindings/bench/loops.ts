/**
 * The loop benchmarks, engine-neutral: the Multiboot guests of guests/bench, the number of
 * instructions each executes between its two checkpoints (`out 0xe9, eax` with EAX = 1,
 * then 2), and a runner that times that stretch on a wasmvisor `Core`. Runs in Node and
 * browsers (no file access here: the caller brings the guest image).
 *
 * Guest MIPS = the source's instruction count / the process's CPU time between the
 * checkpoints (on a machine shared with other work, CPU time counts only what this
 * process computed); wall-clock MIPS are reported too.
 */
import type { Core } from '../core/types.js';
import { bootMultiboot } from '../boot/multiboot.js';
import { CHECKPOINT_PORT, COM1_THR, DEBUG_EXIT_PORT } from '../testing/harness.js';

export interface Workload {
  /** The guest's name: guests/bench/NAME.bin. */
  name: string;
  what: string;
  /** Instructions between the two checkpoints (from the first after the start OUT to the end OUT, exclusive). */
  instructions: number;
}

/** The loop guests and their instruction counts, as each .asm header derives them. */
export const WORKLOADS: Workload[] = [
  { name: 'alu-rotate', what: 'ALU loop with a rotate', instructions: 1 + 6 * 10_000_000 + 1 },
  { name: 'alu', what: 'ALU loop without a rotate', instructions: 1 + 6 * 10_000_000 + 1 },
  { name: 'memory', what: 'load/add/store over 64 KiB', instructions: 1 + 600 * (2 + 6 * 16_384 + 2) + 1 },
  { name: 'callret', what: 'call/ret loop', instructions: 1 + 4 * 10_000_000 + 1 },
  { name: 'pages', what: 'one access per 4 KiB page over 8 MiB, paging on', instructions: 1 + 6_000 * (2 + 4 * 2_048 + 2) + 1 },
];

/**
 * An emulator's counter includes the end checkpoint's OUT, so between the two checkpoint
 * exits it reads one more than the source's count.
 */
export const CHECKPOINT_OUT = 1;

/** The path of a loop guest's image inside the package. */
export function loopImagePath(name: string): string {
  return `guests/bench/${name}.bin`;
}

export interface Measure {
  /** Guest MIPS over the process CPU time between the checkpoints (what the bench ranks by). */
  mips: number | null;
  /** Guest MIPS over wall-clock time. */
  wallMips?: number;
  /** Wall-clock ms between the checkpoints. */
  ms: number | null;
  /** Counted instructions between the checkpoints (the emulator's counter). */
  counted: number | null;
  error?: string;
}

/** A time stamp: wall clock (ms) and this process's CPU time (user + system, all threads, µs). */
export interface Stamp { wall: number; cpuUs: number }

/**
 * Now. Outside Node there is no process CPU clock: the wall clock stands in for it there,
 * so both MIPS figures are then wall-clock MIPS.
 */
export function stamp(): Stamp {
  const wall = performance.now();
  const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (typeof proc?.cpuUsage !== 'function') return { wall, cpuUs: wall * 1000 };
  const c = proc.cpuUsage();
  return { wall, cpuUs: c.user + c.system };
}

/** The measure of `instructions` source instructions run between stamps `a` and `b`. */
export function measure(a: Stamp, b: Stamp, instructions: number, counted: number): Measure {
  const ms = b.wall - a.wall;
  return { mips: instructions / (b.cpuUs - a.cpuUs), wallMips: instructions / (ms * 1000), ms, counted };
}

/** A run's budget per `core.run()` call and the most exits it may take. */
const SLICE = 50_000_000;
const MAX_EXITS = 1_000_000;

/**
 * Boots loop guest `image` (workload `w`) on `core` and times its checkpoints. Every other
 * port or MMIO read is answered with all ones (an empty bus), writes are dropped, COM1
 * output is ignored, and the isa-debug-exit write (port 0xf4) ends the run. The core is
 * rebooted, so one core serves every run.
 */
export function runLoopGuest(core: Core, image: Uint8Array, w: Workload): Measure {
  bootMultiboot(core, image);
  let t0 = stamp(), c0 = 0, t1 = t0, c1 = 0, seen = 0;
  for (let guard = 0; guard < MAX_EXITS; guard++) {
    const exit = core.run(SLICE);
    if (exit.reason === 'budget' || exit.reason === 'irq-window') continue;
    if (exit.reason === 'io') {
      if (!exit.write) { core.completeIo(0xff); continue; }
      if (exit.port === CHECKPOINT_PORT) {
        const now = stamp();
        const count = core.counters().instructions;
        if (exit.value === 1) { t0 = now; c0 = count; } else { t1 = now; c1 = count; }
        seen++;
        continue;
      }
      if (exit.port === COM1_THR) continue;
      if (exit.port === DEBUG_EXIT_PORT) break;
      continue;
    }
    if (exit.reason === 'mmio') { if (!exit.write) core.completeIo(0xffffffff); continue; }
    return { mips: null, ms: null, counted: null, error: `stopped: ${exit.reason}${'why' in exit ? ` (${exit.why})` : ''}` };
  }
  if (seen < 2) return { mips: null, ms: null, counted: null, error: 'checkpoints not reached' };
  return measure(t0, t1, w.instructions, c1 - c0);
}

/** The better of two runs of the same guest (other load on the machine only ever slows one down). */
export function best(a: Measure, b: Measure): Measure {
  return a.mips !== null && (b.mips === null || a.mips >= b.mips) ? a : b;
}
