/** The QEMU probe helper itself: a known read (0xE9 readback) comes back through the console. */
import { describe, it, expect } from 'vitest';
import { hasQemu, runQemu, inb, inw, outb } from './qemu-probe.js';


describe.skipIf(!hasQemu)('QEMU probe', () => {
  it('echoes IN results and exits through isa-debug-exit', () => {
    const r = runQemu([inb(0xe9), outb(0x80, 1), inb(0x1234), inw(0x1234)]);
    expect(r.bytes).toEqual([0xe9, 0xff, 0xff, 0xff]); // unassigned ports float high
    expect(r.status).toBe(1);
  });
});
