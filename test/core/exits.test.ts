import { describe, it, expect } from 'vitest';
import { realModeCore } from './helpers.js';

describe('the run loop talks to its host through exits', () => {
  it('exits for OUT with port, size and value, then for IN, which completeIo answers', async () => {
    const core = await realModeCore([
      0xb0, 0x41,             // mov al, 0x41
      0xba, 0xf8, 0x03,       // mov dx, 0x3f8
      0xee,                   // out dx, al
      0xe4, 0x60,             // in al, 0x60
      0xf4,                   // hlt
    ]);
    expect(core.run(100)).toEqual({ reason: 'io', port: 0x3f8, size: 1, write: true, value: 0x41 });
    expect(core.run(100)).toEqual({ reason: 'io', port: 0x60, size: 1, write: false, value: 0 });
    core.completeIo(0x5a);
    expect(core.run(100)).toEqual({ reason: 'hlt' });
    const r = core.getRegs();
    expect(r.eax & 0xff).toBe(0x5a);
    expect(r.eip).toBe(0x1000 + 9); // past the HLT (SDM vol. 2A, HLT: resumes after it)
    expect(core.counters().instructions).toBe(5);
  });

  it('stops when the budget is spent and resumes where it stopped', async () => {
    const core = await realModeCore([0x40, 0x40, 0x40, 0xf4]); // inc ax x3; hlt
    expect(core.run(2)).toEqual({ reason: 'budget' });
    expect(core.getRegs().eax & 0xffff).toBe(2);
    expect(core.run(10)).toEqual({ reason: 'hlt' });
    expect(core.getRegs().eax & 0xffff).toBe(3);
  });

  it('exits for an MMIO read, replays the instruction with the value the host gave', async () => {
    const core = await realModeCore([
      0xb8, 0x00, 0xa0,       // mov ax, 0xa000
      0x8e, 0xd8,             // mov ds, ax
      0xa1, 0x10, 0x00,       // mov ax, [0x10]     -> physical 0xa0010
      0x03, 0x06, 0x12, 0x00, // add ax, [0x12]     -> physical 0xa0012
      0xf4,
    ]);
    core.addMmio(0xa0000, 0x20000);
    expect(core.run(100)).toEqual({ reason: 'mmio', address: 0xa0010, size: 2, write: false, value: 0 });
    core.completeIo(0x1234);
    expect(core.run(100)).toEqual({ reason: 'mmio', address: 0xa0012, size: 2, write: false, value: 0 });
    core.completeIo(0x0101);
    expect(core.run(100)).toEqual({ reason: 'hlt' });
    expect(core.getRegs().eax & 0xffff).toBe(0x1335);
  });
});
