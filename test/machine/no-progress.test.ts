/**
 * A guest that never retires an instruction must not hold the host: the budget spent on
 * exception deliveries counts as work, so instruction limits and timers still apply.
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../bindings/machine/machine.js';

/**
 * A 64 KiB ROM whose reset vector stores UD2 at 0000:0000 (the #UD vector of the
 * real-mode IVT, still zero, points there) and executes UD2: each #UD is delivered
 * (SDM vol. 3A, 20.1.4 real-mode interrupt handling) to another UD2, forever.
 */
function udLoopRom(): Uint8Array {
  const rom = new Uint8Array(0x10000).fill(0xf4);
  rom.set([
    0xc7, 0x06, 0x00, 0x00, 0x0f, 0x0b, // mov word [0], 0x0b0f   (UD2)
    0xb8, 0x00, 0x10,                   // mov ax, 0x1000
    0x8e, 0xd0,                         // mov ss, ax             (stack away from the IVT)
    0x0f, 0x0b,                         // ud2
  ], 0xfff0);
  return rom;
}

describe('a guest that makes no progress', () => {
  it('stops at the instruction limit while faulting forever', async () => {
    const m = await Machine.create({ ramBytes: 4 << 20, firmware: udLoopRom() });
    const stop = m.run(100_000);
    expect(stop).toEqual({ kind: 'limit' });
    expect(m.workDone).toBeGreaterThanOrEqual(100_000);
    expect(m.stats().instructions).toBeLessThan(10);
    expect(m.stats().core.exceptions).toBeGreaterThan(1000);
    // Time went on: the virtual clock advanced with the work.
    expect(m.stats().virtualNs).toBeGreaterThan(0);
  });
});
