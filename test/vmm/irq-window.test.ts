/**
 * A one-instruction interrupt window under every hardware mode: guests/systests/irqwin
 * makes IRQ0 pending at the 8259A with IF=0, then runs STI; CLI (the shadow covers CLI:
 * nothing taken) and STI; NOP; CLI (the shadow covers the NOP; the interrupt is taken
 * before CLI: SDM vol. 2B, STI; AMD APM vol. 2, 15.20 and 15.21.4 for the VMM's window
 * under SVM). The expected output is QEMU's (guests/systests/expected/irqwin.txt); the
 * guest runs on a whole PC (its PIT and PIC) natively, under vtx and under svm.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../bindings/machine/machine.js';
import { fixture, guestImage, lineDiff, GUEST_RAM } from '../system/guests.js';

describe('a window of one instruction after STI', () => {
  for (const mode of ['native', 'vtx', 'svm'] as const) {
    it(`${mode}: the interrupt comes after the NOP, before CLI, as under QEMU`, async () => {
      const want = fixture('irqwin');
      const out: string[] = [];
      const m = await Machine.create({
        ramBytes: GUEST_RAM, kernel: guestImage('irqwin'), mode,
        serialOut: (b) => { out.push(String.fromCharCode(b)); },
      });
      const r = m.run(50_000_000);
      expect(lineDiff(want.output, out.join('')), want.header[0]).toEqual([]);
      expect(r).toEqual({ kind: 'exit', status: want.exitStatus });
    });
  }
});
