/**
 * Snapshots of JeOS under the vtx and svm modes: saved at 20% and 60% of the run, restored
 * from the file on a new machine, the console is byte for byte the uninterrupted run's and
 * every counter (the VMM's exits by reason included) the saved VM's own continuation.
 * Needs the core's and the VMM's state exports (Core.saveVirtState, ModeOps.saveVmmState,
 * of the issue-9 work): with a core that lacks them the test says so and does not run.
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../bindings/machine/machine.js';
import { createCore } from '../../bindings/core/index.js';
import { jeos } from '../../bindings/node.js';
import { saveSnapshot, restoreSnapshot } from '../../bindings/snapshot/index.js';

const probe = await createCore({ ramBytes: 2 << 20 });
const hasVirtState = typeof (probe as unknown as { saveVirtState?: unknown }).saveVirtState ===
  'function';

describe.skipIf(!hasVirtState)('snapshots of vtx and svm VMs (core with saveVirtState)', () => {
  for (const mode of ['vtx', 'svm'] as const) {
    it(`${mode}: JeOS saved at 20% and 60% continues exactly`, async () => {
      const make = async (out: number[]) => {
        const { kernel, disk } = jeos();
        return Machine.create({ ramBytes: 64 << 20, kernel, disks: [disk], mode,
          serialOut: (b) => out.push(b) });
      };
      const whole: number[] = [];
      const w = await make(whole);
      expect(w.run(800_000_000)).toEqual({ kind: 'poweroff' });
      for (const f of [0.2, 0.6]) {
        const first: number[] = [];
        const a = await make(first);
        a.run(Math.floor(w.stats().instructions * f));
        const file = saveSnapshot(a);
        const n = first.length;
        const second: number[] = [];
        const b = await restoreSnapshot(file, { serialOut: (x) => second.push(x) });
        expect(b.stats().mode).toBe(mode);
        expect(b.run(800_000_000)).toEqual({ kind: 'poweroff' });
        a.run(800_000_000);
        expect(Buffer.from([...first.slice(0, n), ...second])).toEqual(Buffer.from(whole));
        expect(b.stats()).toEqual(a.stats());
      }
    }, 180_000);
  }
});
