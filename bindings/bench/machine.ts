/**
 * A bench guest on wasmvisor as `wasmvisor run --kernel` and the library run it: a whole
 * PC (`Machine`: the core with its devices and timers), created for the run (cold, as v86
 * is), the checkpoints taken from the 0xe9 debug console's writes.
 */
import { Machine, type MachineConfig } from '../machine/machine.js';
import {
  CHECKPOINT_END,
  CHECKPOINT_START,
  CheckpointTimer,
  NO_MEASURE,
  type Measure,
} from './loops.js';

/** Guest RAM of a bench run (the loops touch at most 16 MiB). */
export const BENCH_RAM = 64 << 20;

/** The most instructions one run may take before it counts as stuck. */
const MAX_INSTRUCTIONS = 2e9;

/** What the translation and the VMM did between the checkpoints (the core's counters). */
export interface WalkCounts {
  tlbMisses: number;
  /** Guest page walks and their references (the guest's own dimension). */
  pageWalks: number;
  walkMemRefs: number;
  /** Nested (second-dimension) walks and their references; 0 natively. */
  nestedWalks: number;
  nestedWalkMemRefs: number;
  vmExits: number;
}

/** Runs bench guest `image` on a new `Machine` (of core `wasm`, default the packaged one;
 *  with `config`, e.g. a virtualization mode) and times its checkpoints. */
export async function runOnMachine(
  image: Uint8Array,
  instructions: number | null,
  wasm?: BufferSource | URL,
  config: Partial<MachineConfig> = {},
): Promise<Measure & { walks?: WalkCounts }> {
  const timer = new CheckpointTimer();
  let machine: Machine | undefined;
  let slow0 = 0,
    slow1 = 0;
  let w0: WalkCounts | undefined, w1: WalkCounts | undefined;
  const walks = (): WalkCounts => {
    const c = machine!.core.counters();
    return { tlbMisses: c.tlbMisses, pageWalks: c.pageWalks, walkMemRefs: c.walkMemRefs,
      nestedWalks: c.nestedWalks ?? 0, nestedWalkMemRefs: c.nestedWalkMemRefs ?? 0,
      vmExits: c.vmExits ?? 0 };
  };
  machine = await Machine.create({
    ...config,
    ramBytes: BENCH_RAM,
    kernel: image,
    wasm,
    // The debug console's sink sees the low byte of each OUT to 0xe9; the run is stopped
    // at that exit, so the core's counter and registers are those of the OUT.
    debugcon: (byte) => {
      const core = machine!.core;
      timer.checkpoint(byte, core.instructions(), core.getRegs().ebx);
      if (byte === CHECKPOINT_START) { slow0 = core.counters().slowBoundaries; w0 = walks(); }
      else if (byte === CHECKPOINT_END) { slow1 = core.counters().slowBoundaries; w1 = walks(); }
    },
  });
  const stop = machine.run(MAX_INSTRUCTIONS);
  if (stop.kind !== 'exit') {
    return {
      ...NO_MEASURE,
      error: `the guest stopped with ${JSON.stringify(stop)} instead of isa-debug-exit`,
    };
  }
  const m = timer.measure(instructions);
  if (m.error) return m;
  const d = w0 && w1 ? Object.fromEntries(Object.keys(w0).map((k) =>
    [k, w1![k as keyof WalkCounts] - w0![k as keyof WalkCounts]])) as unknown as WalkCounts
    : undefined;
  return { ...m, slowBoundaries: slow1 - slow0, ...(d ? { walks: d } : {}) };
}
