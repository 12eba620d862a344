/**
 * A bench guest on wasmvisor as `wasmvisor run --kernel` and the library run it: a whole
 * PC (`Machine`: the core with its devices and timers), created for the run (cold, as v86
 * is), the checkpoints taken from the 0xe9 debug console's writes.
 */
import { Machine } from '../machine/machine.js';
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

/** Runs bench guest `image` on a new `Machine` (of core `wasm`, default the packaged one)
 *  and times its checkpoints. */
export async function runOnMachine(
  image: Uint8Array,
  instructions: number | null,
  wasm?: BufferSource | URL,
): Promise<Measure> {
  const timer = new CheckpointTimer();
  let machine: Machine | undefined;
  let slow0 = 0,
    slow1 = 0;
  machine = await Machine.create({
    ramBytes: BENCH_RAM,
    kernel: image,
    wasm,
    // The debug console's sink sees the low byte of each OUT to 0xe9; the run is stopped
    // at that exit, so the core's counter and registers are those of the OUT.
    debugcon: (byte) => {
      const core = machine!.core;
      timer.checkpoint(byte, core.instructions(), core.getRegs().ebx);
      if (byte === CHECKPOINT_START) slow0 = core.counters().slowBoundaries;
      else if (byte === CHECKPOINT_END) slow1 = core.counters().slowBoundaries;
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
  return m.error ? m : { ...m, slowBoundaries: slow1 - slow0 };
}
