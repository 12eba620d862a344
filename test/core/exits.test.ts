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

  it('forgets the accesses of the instruction in flight when a state is loaded', async () => {
    const core = await realModeCore([
      0xe4, 0x60,             // in al, 0x60
      0xe4, 0x61,             // in al, 0x61
      0xf4,                   // hlt
    ]);
    const start = core.saveState();
    expect(core.run(100)).toMatchObject({ reason: 'io', port: 0x60, write: false });
    core.completeIo(0x5a);    // answered, not yet replayed into the IN
    core.loadState(start);
    // The loaded state's IN asks the host again instead of taking the old answer.
    expect(core.run(100)).toMatchObject({ reason: 'io', port: 0x60, write: false });
    core.completeIo(0x11);
    expect(core.run(100)).toMatchObject({ reason: 'io', port: 0x61, write: false });
    core.completeIo(0x22);
    expect(core.run(100)).toEqual({ reason: 'hlt' });
    expect(core.getRegs().eax & 0xff).toBe(0x22);
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

describe('the state block', () => {
  it('moves a running guest between cores as one block (save, load, continue identically)', async () => {
    // mov cx, 1000 ; l: add ax, cx ; rol ax, 3 ; loop l ; hlt
    const code = [0xb9, 0xe8, 0x03, 0x01, 0xc8, 0xc1, 0xc0, 0x03, 0xe2, 0xf9, 0xf4];
    const a = await realModeCore(code);
    const b = await realModeCore(code);
    expect(a.run(1234)).toEqual({ reason: 'budget' });
    const block = a.saveState();
    b.writePhys(0, a.readPhys(0, 1 << 20));
    b.loadState(block);
    expect(a.run(100_000)).toEqual({ reason: 'hlt' });
    expect(b.run(100_000)).toEqual({ reason: 'hlt' });
    expect(b.getRegs()).toEqual(a.getRegs());
    expect(b.tsc()).toBe(a.tsc());
    expect(() => b.loadState(new Uint8Array(10))).toThrow(RangeError);
  });
});

describe('a guest that faults forever', () => {
  it('still returns to the host when the budget is spent', async () => {
    // ud2 with the #UD vector (6) of the IVT pointing back at the UD2 itself
    const core = await realModeCore([0x0f, 0x0b]);
    core.writePhys(6 * 4, Uint8Array.from([0x00, 0x10, 0x00, 0x00]));
    core.setRegs({ esp: 0xfffe });
    expect(core.run(5000)).toEqual({ reason: 'budget' });
    expect(core.counters().exceptions).toBeGreaterThan(100);
  });
});
