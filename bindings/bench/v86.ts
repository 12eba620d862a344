/**
 * Node-only: the loop guests on v86 (npm `v86`, a development dependency of wasmvisor),
 * its interpreter (`disable_jit`) or its JIT, timed at the same checkpoints as on
 * wasmvisor. v86 is loaded with a dynamic import, so an installed wasmvisor without v86
 * works and `loadV86LoopRunner()` just answers null.
 */
import { measure, stamp, type Measure, type Stamp, type Workload } from './loops.js';

/** Runs loop guest `image` on v86 (its JIT when `jit`) and times its checkpoints. */
export type V86LoopRunner = (image: Uint8Array, w: Workload, jit: boolean) => Promise<Measure>;

/** Guest RAM of a v86 run and the wall-clock limit of one run. */
const RAM = 64 << 20;
const TIMEOUT_MS = 300_000;

/** The v86 runner, or null when the `v86` package cannot be imported. */
export async function loadV86LoopRunner(): Promise<V86LoopRunner | null> {
  let mod: typeof import('../testing/v86.js');
  try {
    mod = await import('../testing/v86.js');
  } catch (e) {
    // Node: "Cannot find package 'v86' imported from ..."; anything else is a real failure.
    const err = e as NodeJS.ErrnoException;
    if ((err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') && /'v86'/.test(err.message)) return null;
    throw e;
  }
  return async (image, w, jit) => {
    let t0: Stamp = stamp(), c0 = 0, t1: Stamp | null = null, c1 = 0;
    const r = await mod.runV86(image, {
      jit,
      memoryBytes: RAM,
      timeoutMs: TIMEOUT_MS,
      onCheckpoint: (v, counter) => {
        if (v === 1) { t0 = stamp(); c0 = counter; } else { t1 = stamp(); c1 = counter; }
      },
    });
    if (r.crash || r.timedOut || !t1) return { mips: null, ms: null, counted: null, error: r.crash ?? 'did not finish' };
    // v86 adds to its counter in batches: at a port write it can lag, so this count is approximate.
    return measure(t0, t1, w.instructions, (c1 - c0) >>> 0);
  };
}
