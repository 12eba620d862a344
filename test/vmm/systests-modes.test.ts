/**
 * The system test guests (guests/systests) under vtx and svm print what they print under
 * their reference (QEMU 7.2 or Bochs 2.7: the fixtures in guests/systests/expected) and
 * stop as it stopped: real mode, virtual-8086 mode, 16-bit protected mode, task switches
 * through every kind of gate (a task gate in the IDT included), exceptions, paging, rings,
 * debug registers and a triple fault, each run as an unmodified guest under the VMM.
 */
import { describe, it, expect } from 'vitest';
import { Machine, type StopReason } from '../../bindings/index.js';
import { createCore } from '../../bindings/core/index.js';
import { modeAvailable } from '../../bindings/vmm/modes/index.js';
import { fixture, guestImage, GUEST_RAM } from '../system/guests.js';

/** The guests that run on the plain machine (no harness interrupts, modules or ELF). */
const GUESTS = [
  'hello', 'pmode', 'mbinfo', 'segments', 'descriptors', 'exceptions', 'paging', 'rings',
  'holes', 'sysenter', 'realmode', 'pm16', 'sysinsns', 'debug', 'triplefault', 'checkpoints',
  'limits', 'strict', 'tss', 'segload', 'gates', 'faults', 'bigreal', 'sysregs', 'tasks', 'v86',
];

async function run(name: string, mode: 'vtx' | 'svm'): Promise<{ text: string; stop: StopReason }> {
  let text = '';
  const m = await Machine.create({
    ramBytes: GUEST_RAM, kernel: guestImage(name), mode,
    serialOut: (b) => { text += String.fromCharCode(b); },
  });
  const stop = m.run(50_000_000);
  return { text, stop };
}

const trimEnd = (s: string) => s.replace(/\n+$/, '');

describe('the system test guests under the hypervisor', () => {
  for (const mode of ['vtx', 'svm'] as const) {
    it(`${mode}: every guest prints its reference's output and stops as it did`, async () => {
      if (!modeAvailable(await createCore({ ramBytes: 2 << 20 }), mode)) {
        await expect(run('hello', mode)).rejects.toMatchObject({ code: 'mode-not-available' });
        return;
      }
      for (const name of GUESTS) {
        const ref = fixture(name);
        const { text, stop } = await run(name, mode);
        expect(trimEnd(text), name).toBe(trimEnd(ref.output));
        // The reference's status: (v << 1) | 1 from isa-debug-exit, 0 when it shut down.
        expect(stop, name).toEqual(ref.exitStatus === 0
          ? { kind: 'shutdown', why: 'triple fault' } : { kind: 'exit', status: ref.exitStatus });
      }
    }, 300_000);
  }
});
