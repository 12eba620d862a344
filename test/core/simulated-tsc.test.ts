/**
 * The core's side of simulated time (assembly/cpu/tsc.ts): with setTscExit on, RDTSC (0F
 * 31), RDMSR of IA32_TSC (0F 32, ECX = 0x10) exit ('rdtsc') before they run and read what
 * completeTsc gives; the instruction retires once. WRMSR of IA32_TSC (0F 30) keeps what
 * the write added (SDM vol. 3B, 17.17: the TSC then counts on from the value written).
 * Off, RDTSC reads the instruction-count TSC, as before.
 */
import { describe, expect, it } from 'vitest';
import { flat32Core } from './helpers.js';

const RDTSC = [0x0f, 0x31], RDMSR = [0x0f, 0x32], WRMSR = [0x0f, 0x30], HLT = [0xf4];
const MOV_ECX_10 = [0xb9, 0x10, 0, 0, 0];

describe('simulated time in the core', () => {
  it('RDTSC and RDMSR(IA32_TSC) exit before running and read the host\'s answer', async () => {
    const core = await flat32Core([...RDTSC, ...MOV_ECX_10, ...RDMSR, ...HLT]);
    core.setTscExit(true);
    const before = core.instructions();
    expect(core.run(100)).toEqual({ reason: 'rdtsc' });
    expect(core.instructions()).toBe(before); // not run yet
    core.completeTsc(0x1_2345_6789n);
    expect(core.run(100)).toEqual({ reason: 'rdtsc' }); // RDMSR's turn
    let r = core.getRegs();
    expect([r.eax >>> 0, r.edx >>> 0]).toEqual([0x2345_6789, 1]);
    expect(core.instructions()).toBe(before + 2); // RDTSC, MOV
    core.completeTsc(0xffff_ffff_0000_0001n);
    expect(core.run(100)).toEqual({ reason: 'hlt' });
    r = core.getRegs();
    expect([r.eax >>> 0, r.edx >>> 0]).toEqual([1, 0xffff_ffff]);
    expect(core.instructions()).toBe(before + 4);
  });

  it('keeps what the guest\'s WRMSR of IA32_TSC added', async () => {
    // MOV ECX,0x10; MOV EAX,1000000; XOR EDX,EDX; WRMSR; HLT
    const core = await flat32Core([...MOV_ECX_10, 0xb8, ...[0x40, 0x42, 0x0f, 0x00],
      0x31, 0xd2, ...WRMSR, ...HLT]);
    expect(core.tscWriteAdjustment()).toBe(0n);
    expect(core.run(100)).toEqual({ reason: 'hlt' });
    const tsc = core.readMsr(0x10);
    // The write set the TSC to 1,000,000 one instruction (the WRMSR) before the HLT and
    // the HLT: the counter counts on from it; what it added is 1,000,000 minus the TSC
    // just before the write (the 3 instructions before it, one tick each).
    expect(tsc - 1_000_000n).toBeGreaterThanOrEqual(0n);
    expect(core.tscWriteAdjustment()).toBe(1_000_000n - 3n);
  });

  it('off, RDTSC reads the instruction-count TSC without exiting', async () => {
    const core = await flat32Core([...RDTSC, ...HLT]);
    expect(core.run(100)).toEqual({ reason: 'hlt' });
    expect(core.getRegs().eax >>> 0).toBe(0);
  });
});
