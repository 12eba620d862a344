/**
 * Node-only: a bench guest on v86 (npm `v86`, a development dependency of wasmvisor) as
 * it is, a whole PC with its timers, created for the run; its interpreter
 * (`disable_jit`: v86 `CPU.init` calls `set_jit_config(0, 1)` for it) or its JIT, timed at
 * the same checkpoints as on wasmvisor. v86 is loaded with a dynamic import, so an
 * installed wasmvisor without v86 works and `loadV86LoopRunner()` just answers null.
 */
import { CheckpointTimer, NO_MEASURE, type Measure } from './loops.js';

/** Runs bench guest `image` on v86 (its JIT when `jit`) and times its checkpoints. */
export type V86LoopRunner = (
  image: Uint8Array,
  instructions: number | null,
  jit: boolean,
) => Promise<Measure>;

/** Guest RAM of a v86 run and the wall-clock limit of one run. */
const RAM = 64 << 20;
const TIMEOUT_MS = 300_000;

/**
 * v86's instruction counter is not exact at a port write: on some of these loops its
 * interpreter's count between the checkpoints comes out short by up to 0.17% (alu:
 * 98,800 of 60,000,002), on the x87 loop by 0.71% (fpu: 99,717 of 14,000,002, both the
 * interpreter and the JIT), on others exact. A count check of v86 allows 1% either way;
 * wasmvisor's count must be exact.
 */
export const V86_COUNT_TOLERANCE = 0.01;

/** The v86 runner, or null when the `v86` package cannot be imported. */
export async function loadV86LoopRunner(): Promise<V86LoopRunner | null> {
  let mod: typeof import('../testing/v86.js');
  try {
    mod = await import('../testing/v86.js');
  } catch (e) {
    // Node: "Cannot find package 'v86' imported from ..."; anything else is a real failure.
    const err = e as NodeJS.ErrnoException;
    if (
      (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') &&
      /'v86'/.test(err.message)
    )
      return null;
    throw e;
  }
  return async (image, instructions, jit) => {
    const timer = new CheckpointTimer();
    const r = await mod.runV86(image, {
      jit,
      memoryBytes: RAM,
      timeoutMs: TIMEOUT_MS,
      onCheckpoint: (v, counter, regs) => timer.checkpoint(v & 0xff, counter, regs.ebx),
    });
    if (r.crash || r.timedOut) return { ...NO_MEASURE, error: r.crash ?? 'did not finish' };
    return timer.measure(instructions);
  };
}
