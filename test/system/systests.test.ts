/**
 * Each system test guest on the wasmvisor core, its COM1 output and exit status against
 * the output QEMU printed for the same image (guests/systests/expected, each fixture names
 * the QEMU version). The guests cover protected-mode entry, segment and gate checks,
 * exceptions with their error codes, paging with A/D bits, privilege transitions, the I/O
 * permission bitmap, SYSENTER/SYSEXIT, real mode and the Multiboot handover.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Core, CoreOptions } from '../../bindings/core/types.js';
import { runGuest } from '../../bindings/testing/harness.js';
import { SYSTEST_GUESTS, fixture, guestBootOptions, guestImage, lineDiff } from './guests.js';

/** Same RAM as the fixtures' `qemu-system-i386 -m 128`. */
const RAM = 128 << 20;

let core: Core;
beforeAll(async () => {
  // The core's loader; a missing loader fails every test below with this message.
  const mod = (await import('../../bindings/core/index.js')) as { createCore(o: CoreOptions): Promise<Core> };
  core = await mod.createCore({ ramBytes: RAM });
});

describe('system guests on wasmvisor match QEMU', () => {
  for (const name of SYSTEST_GUESTS) {
    it(name, () => {
      const want = fixture(name);
      const run = runGuest(core, guestImage(name), { ...guestBootOptions(name), maxInstructions: 20_000_000 });
      expect(lineDiff(want.output, run.output), `${run.detail}; QEMU reference: ${want.header[0]}`).toEqual([]);
      // QEMU's status 0: it shut down (a triple fault, with -no-reboot); wasmvisor exits 'shutdown'.
      if (want.exitStatus === 0) expect(run.end, run.detail).toBe('shutdown');
      else expect(run.exitStatus, run.detail).toBe(want.exitStatus);
    });
  }
});
