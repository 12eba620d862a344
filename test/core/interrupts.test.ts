/**
 * External interrupts and NMI at instruction boundaries (Intel SDM vol. 3A, 6.8.3 and
 * vol. 2B STI: "the processor responds to interrupts after the next instruction"; MOV SS /
 * POP SS inhibit interrupts for one instruction, vol. 2B MOV), delivered through the
 * real-mode IVT (vol. 3A, 20.1.4: FLAGS, CS, IP pushed).
 */
import { describe, it, expect } from 'vitest';
import { realModeCore, runToHlt, CODE } from './helpers.js';

describe('external interrupts', () => {
  it('wait one instruction after STI', async () => {
    // sti ; inc ax ; inc ax ; hlt
    const core = await realModeCore([0xfb, 0x40, 0x40, 0xf4]);
    core.injectInterrupt(0x20);
    expect(runToHlt(core)).toBe(0x20);
    expect(core.getRegs().eax & 0xffff).toBe(1);
    // The IVT frame: IP (of the second INC), CS, FLAGS with IF.
    const f = core.readPhys(0x8000 - 6, 6);
    expect(f[0] | (f[1] << 8)).toBe(CODE + 2);
    expect((f[4] | (f[5] << 8)) & 0x200).toBe(0x200);
  });

  it('wait one instruction after MOV SS', async () => {
    // mov ss, ax ; inc bx ; inc bx ; hlt   (IF already set)
    const core = await realModeCore([0x8e, 0xd0, 0x43, 0x43, 0xf4]);
    core.setRegs({ eflags: 0x202, eax: 0 });
    expect(core.run(1)).toEqual({ reason: 'budget' }); // MOV SS executed
    expect(core.canInjectInterrupt()).toBe(false);       // its shadow covers the next instruction
    core.injectInterrupt(0x21);
    expect(runToHlt(core)).toBe(0x21);
    expect(core.getRegs().ebx & 0xffff).toBe(1);
  });

  it('are held while IF = 0, and the window exit says when they can be taken', async () => {
    // inc ax ; inc ax ; sti ; inc ax ; inc ax ; hlt
    const core = await realModeCore([0x40, 0x40, 0xfb, 0x40, 0x40, 0xf4]);
    expect(core.canInjectInterrupt()).toBe(false);
    core.requestInterruptWindow(true);
    expect(core.run(100)).toEqual({ reason: 'irq-window' });
    // STI's shadow covered the third INC: the window opens before the fourth.
    expect(core.getRegs().eax & 0xffff).toBe(3);
    expect(core.canInjectInterrupt()).toBe(true);
  });

  it('NMI is taken with IF = 0 and blocks further NMIs until IRET', async () => {
    // nop ; nop ; hlt     NMI handler (vector 2) = HLT
    const core = await realModeCore([0x90, 0x90, 0xf4]);
    core.nmi();
    expect(runToHlt(core)).toBe(2);
    expect(core.counters().interrupts).toBe(1);
  });

  it('HLT exits with EIP past it, and an injected interrupt resumes the guest in its handler', async () => {
    // sti ; hlt ; inc ax ; hlt
    const core = await realModeCore([0xfb, 0xf4, 0x40, 0xf4]);
    expect(core.run(100)).toEqual({ reason: 'hlt' });
    expect(core.getRegs().eip).toBe(CODE + 2);
    core.injectInterrupt(0x30);
    expect(runToHlt(core)).toBe(0x30);
    const f = core.readPhys(0x8000 - 6, 2);
    expect(f[0] | (f[1] << 8)).toBe(CODE + 2); // returns after the HLT
  });
});
