/**
 * The benchmark guests execute the instruction counts their sources state (the figures
 * bench/run.ts divides by): wasmvisor's instruction counter between the two checkpoints.
 * About 270 million guest instructions in all: a few seconds.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Core, CoreOptions } from '../../bindings/core/types.js';
import { runGuest } from '../../bindings/testing/harness.js';
import { WORKLOADS, benchImageUrl } from '../../bench/workloads.js';

describe('benchmark guests run the instruction counts of their sources', () => {
  for (const w of WORKLOADS) {
    it(w.name, async () => {
      const { createCore } = (await import('../../bindings/core/index.js')) as { createCore(o: CoreOptions): Promise<Core> };
      const core = await createCore({ ramBytes: 64 << 20 });
      const run = runGuest(core, new Uint8Array(readFileSync(benchImageUrl(w.name))), { maxInstructions: 400_000_000 });
      expect(run.output).toBe('DONE\n');
      expect(run.checkpoints.map((c) => c.value)).toEqual([1, 2]);
      // Counted at the exits of the two OUTs: the end OUT itself is one more.
      const [start, end] = run.checkpoints;
      expect(end.instructions! - start.instructions!).toBe(w.instructions + 1);
    }, 600_000);
  }
});
