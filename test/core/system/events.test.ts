/**
 * External interrupts, NMI and the differences from software INT n (SDM vol. 3A, 6.12.1.1:
 * only INT n, INT3 and INTO check the gate's DPL; 6.13: the EXT bit of error codes raised
 * while delivering an event from outside the program; 6.12.1.3: interrupt gates clear IF,
 * trap gates keep it; 6.7.1: NMIs are blocked from NMI delivery until the next IRET; 6.15,
 * interrupt 8: a fault while delivering a double fault shuts the processor down).
 */
import { describe, expect, it } from 'vitest';
import { snippetCore, stoppedAt, setGate, stackDwords, CODE, STUBS, TSS } from './snippet.js';

const GP = 13, NP = 11, DF = 8;
const IF = 1 << 9;
// eb fe: jmp $
const SPIN = [0xeb, 0xfe];

describe('external interrupts', () => {
  it('go through a DPL-0 gate from ring 3 and switch to the TSS ring-0 stack', async () => {
    const core = await snippetCore(SPIN, { eflags: 0x202 }, true);
    expect(core.run(50).reason).toBe('budget');
    expect(core.canInjectInterrupt()).toBe(true);
    core.injectInterrupt(0x40);
    expect(core.run(50).reason).toBe('hlt');
    const { vector, regs } = stoppedAt(core);
    expect(vector).toBe(0x40);
    expect(regs.esp).toBe(0x70000 - 20);
    // EIP, CS, EFLAGS, ESP, SS (figure 6-4)
    expect(stackDwords(core, regs.esp, 5)).toEqual([CODE, 0x1b, 0x202, 0x60000, 0x23]);
    expect(core.getSegment('cs').selector).toBe(0x08);
    expect(core.getSegment('ss').selector).toBe(0x10);
    expect(regs.eflags & IF).toBe(0); // interrupt gate
  });

  it('go to the ring-1 stack of the TSS for a DPL-1 handler (SDM vol. 3A, 6.12.1)', async () => {
    // The handler (at ring 1, where HLT would fault) spins: eb fe (jmp $) at 0x3a00.
    const core = await snippetCore(SPIN, { eflags: 0x202 }, true);
    core.writePhys(0x3a00, new Uint8Array([0xeb, 0xfe]));
    setGate(core, 0x43, 0x3a00, 0x8e, 0x31);
    core.run(20);
    core.injectInterrupt(0x43);
    expect(core.run(50).reason).toBe('budget');
    const regs = core.getRegs();
    expect(regs.eip).toBe(0x3a00);
    expect(core.getSegment('cs').selector).toBe(0x31);
    expect(core.getSegment('ss').selector).toBe(0x39);
    expect(regs.esp).toBe(0x68000 - 20);
    expect(stackDwords(core, regs.esp, 5)).toEqual([CODE, 0x1b, 0x202, 0x60000, 0x23]);
  });

  it('keep IF through a trap gate', async () => {
    const core = await snippetCore(SPIN, { eflags: 0x202 });
    setGate(core, 0x41, STUBS + 0x41, 0x8f);
    core.run(20);
    core.injectInterrupt(0x41);
    expect(core.run(50).reason).toBe('hlt');
    const { vector, regs } = stoppedAt(core);
    expect(vector).toBe(0x41);
    expect(regs.eflags & IF).toBe(IF);
  });

  it('set EXT in the error code of a fault during their delivery; INT n does not', async () => {
    const ext = await snippetCore(SPIN, { eflags: 0x202 });
    setGate(ext, 0x42, STUBS + 0x42, 0x0e); // not present
    ext.run(20);
    ext.injectInterrupt(0x42);
    ext.run(50);
    expect(stoppedAt(ext).vector).toBe(NP);
    expect(stoppedAt(ext).top).toBe(0x42 * 8 + 2 + 1);
    // cd 42 / f4: int 0x42; hlt
    const soft = await snippetCore([0xcd, 0x42, 0xf4]);
    setGate(soft, 0x42, STUBS + 0x42, 0x0e);
    soft.run(50);
    expect(stoppedAt(soft).vector).toBe(NP);
    expect(stoppedAt(soft).top).toBe(0x42 * 8 + 2);
  });
});

describe('NMI', () => {
  it('is taken with IF = 0, blocked until IRET, then taken again', async () => {
    const core = await snippetCore(SPIN, { eflags: 0x002 });
    // NMI handler at 0x3800: f4 f4 cf (hlt; hlt; iret)
    core.writePhys(0x3800, new Uint8Array([0xf4, 0xf4, 0xcf]));
    setGate(core, 2, 0x3800, 0x8e);
    core.run(10);
    core.nmi();
    expect(core.run(50).reason).toBe('hlt');
    expect(core.getRegs().eip).toBe(0x3801);
    core.nmi(); // blocked: the handler goes on to its second HLT
    expect(core.run(50).reason).toBe('hlt');
    expect(core.getRegs().eip).toBe(0x3802);
    core.nmi(); // still pending: IRET unblocks it and it is taken at once
    expect(core.run(50).reason).toBe('hlt');
    expect(core.getRegs().eip).toBe(0x3801);
  });
});

describe('faults during delivery', () => {
  it('a software interrupt whose gate needs a bad TSS stack: #TS, #DF, then shutdown, the state untouched', async () => {
    // cd 40: int 0x40 (DPL-3 gate to ring 0) with SS0 = 0 in the TSS
    const core = await snippetCore([0xcd, 0x40], {}, true);
    setGate(core, 0x40, STUBS + 0x40, 0xee);
    core.writePhys(TSS + 8, new Uint8Array([0, 0]));
    const exit = core.run(50);
    expect(exit).toEqual({ reason: 'shutdown', why: 'triple fault' });
    const regs = core.getRegs();
    expect(regs.eip).toBe(CODE);
    expect(regs.esp).toBe(0x60000);
    expect(core.getSegment('cs').selector).toBe(0x1b);
    expect(core.getSegment('ss').selector).toBe(0x23);
  });

  it('a page fault on the new stack leaves the interrupted ring-3 state as it was (frame before commit)', async () => {
    // Paging on: identity-mapped 4 KiB pages below 4 MiB except page 0x6f000, where the
    // ring-0 frame would go (ESP0 = 0x70000). The #PF and then the #DF need the same stack:
    // shutdown, with CR2 naming the first push and ring 3 untouched.
    const core = await snippetCore([0xcd, 0x40], {}, true);
    setGate(core, 0x40, STUBS + 0x40, 0xee);
    const pd = new Uint8Array(4096), pt = new Uint8Array(4096);
    new DataView(pd.buffer).setUint32(0, 0x11000 | 0x7, true);
    for (let i = 0; i < 1024; i++) new DataView(pt.buffer).setUint32(i * 4, i === 0x6f ? 0 : (i << 12) | 0x7, true);
    core.writePhys(0x10000, pd);
    core.writePhys(0x11000, pt);
    core.setRegs({ cr3: 0x10000, cr0: 0x80000011 });
    expect(core.run(50)).toEqual({ reason: 'shutdown', why: 'triple fault' });
    const regs = core.getRegs();
    expect(regs.cr2).toBe(0x6fffc);
    expect(regs.eip).toBe(CODE);
    expect(regs.esp).toBe(0x60000);
    expect(core.getSegment('cs').selector).toBe(0x1b);
    expect(core.getSegment('ss').selector).toBe(0x23);
  });

  it('a #GP whose gate is absent becomes #DF with error code 0', async () => {
    // 0f 22 e0 / f4: mov cr4, eax with bit 31 set (#GP(0)); hlt
    const core = await snippetCore([0x0f, 0x22, 0xe0, 0xf4], { eax: 0x80000000 });
    setGate(core, GP, STUBS + GP, 0x0e);
    core.run(50);
    const { vector, top } = stoppedAt(core);
    expect(vector).toBe(DF);
    expect(top).toBe(0);
  });
});
