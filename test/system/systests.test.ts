/**
 * Each system test guest on the wasmvisor core, its COM1 output and exit status against the
 * output its reference printed for the same image (guests/systests/expected: QEMU for most,
 * Bochs for the guests QEMU cannot judge; each fixture names its reference and version).
 * The guests cover protected-mode entry, segment loads and their checks, gates and rings,
 * exceptions with their error codes and #DF/triple fault, paging with A/D bits, the I/O
 * permission bitmap, task switches, virtual-8086 and real mode, system registers and MSRs,
 * SYSENTER/SYSEXIT and the Multiboot handover.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEST_GUESTS, fixture, lineDiff, runOnWasmvisor } from './guests.js';

describe('system guests on wasmvisor print what their reference printed', () => {
  for (const name of SYSTEST_GUESTS) {
    it(name, async () => {
      const want = fixture(name);
      const run = await runOnWasmvisor(name);
      const why = `${run.detail}; reference: ${want.header[0]}`;
      expect(lineDiff(want.output, run.output), why).toEqual([]);
      // Status 0: the reference shut down (a triple fault); wasmvisor exits 'shutdown'.
      if (want.exitStatus === 0) expect(run.end, run.detail).toBe('shutdown');
      else expect(run.exitStatus, run.detail).toBe(want.exitStatus);
    });
  }
});
