/**
 * An external interrupt pending (or an interrupt-window request) while the guest keeps
 * IF = 0 is taken exactly when an instruction opens the window, and costs nothing before:
 * the run loop's slow path (its `slowBoundaries` counter) is not entered once per
 * instruction while the window stays shut, as interrupt-window exiting in hardware (SDM
 * vol. 3C, table 25-6). Where the window opens: after the instruction that follows STI
 * (SDM vol. 2B, STI), right after POPF, IRET and a task switch that set IF (vol. 3A,
 * 6.8.1; the task switch loads EFLAGS from the new TSS, 8.3), and for an NMI held by NMI
 * blocking, right after IRET (vol. 3A, 6.7.1).
 */
import { describe, it, expect } from 'vitest';
import { realModeCore, runToHlt, CODE } from './helpers.js';
import { snippetCore, stoppedAt, stackDwords, GDT } from './system/snippet.js';

const LOOPS = 1000;
// mov cx, LOOPS ; l: dec cx ; jnz l   (1 + 2 * LOOPS instructions with IF = 0)
const LOOP = [0xb9, LOOPS & 0xff, LOOPS >> 8, 0x49, 0x75, 0xfd];
const LOOP_INSNS = 1 + 2 * LOOPS;
/** The slow-path boundaries a run may take besides the ones that open the window: the
 *  first boundary of each run() call and the few around the window opening. */
const FEW = 8;

/** The real-mode interrupt frame at SS:SP after delivery: IP, CS, FLAGS. */
function frame(core: Awaited<ReturnType<typeof realModeCore>>): { ip: number; flags: number } {
  const sp = core.getRegs().esp & 0xffff;
  const f = core.readPhys(sp, 6);
  return { ip: f[0] | (f[1] << 8), flags: f[4] | (f[5] << 8) };
}

describe('an interrupt held by IF = 0', () => {
  it('is taken after the instruction that follows STI, with no slow path before', async () => {
    // LOOP ; sti ; inc ax ; inc ax ; hlt
    const core = await realModeCore([...LOOP, 0xfb, 0x40, 0x40, 0xf4]);
    core.injectInterrupt(0x20);
    expect(runToHlt(core)).toBe(0x20);
    expect(core.getRegs().eax & 0xffff).toBe(1); // STI's shadow covered one INC
    expect(frame(core).ip).toBe(CODE + LOOP.length + 2);
    const c = core.counters();
    expect(c.instructions).toBe(LOOP_INSNS + 2 + 1); // + sti, inc, the handler's hlt
    expect(c.slowBoundaries).toBeLessThan(FEW);
  });

  it('is taken right after POPF sets IF', async () => {
    // pushf ; pop ax ; or ax, 0x200 ; push ax ; LOOP ; popf ; inc bx ; hlt
    const pre = [0x9c, 0x58, 0x0d, 0x00, 0x02, 0x50];
    const core = await realModeCore([...pre, ...LOOP, 0x9d, 0x43, 0xf4]);
    core.injectInterrupt(0x21);
    expect(runToHlt(core)).toBe(0x21);
    expect(core.getRegs().ebx & 0xffff).toBe(0);
    expect(frame(core).ip).toBe(CODE + pre.length + LOOP.length + 1);
    expect(frame(core).flags & 0x200).toBe(0x200);
    expect(core.counters().slowBoundaries).toBeLessThan(FEW);
  });

  it('is taken right after IRET pops IF = 1, before the instruction it returns to', async () => {
    // push 0x0202 ; push cs ; push target ; LOOP ; iret ; target: inc bx ; hlt
    const target = CODE + 7 + LOOP.length + 1;
    const code = [
      0x68,
      0x02,
      0x02,
      0x0e,
      0x68,
      target & 0xff,
      target >> 8,
      ...LOOP,
      0xcf,
      0x43,
      0xf4,
    ];
    const core = await realModeCore(code);
    core.injectInterrupt(0x22);
    expect(runToHlt(core)).toBe(0x22);
    expect(core.getRegs().ebx & 0xffff).toBe(0);
    expect(frame(core).ip).toBe(target);
    expect(core.counters().slowBoundaries).toBeLessThan(FEW);
  });

  it('gives the window exit when STI opens it, and not before', async () => {
    // LOOP ; sti ; inc ax ; inc ax ; hlt
    const core = await realModeCore([...LOOP, 0xfb, 0x40, 0x40, 0xf4]);
    core.requestInterruptWindow(true);
    expect(core.run(100_000)).toEqual({ reason: 'irq-window' });
    expect(core.getRegs().eax & 0xffff).toBe(1);
    expect(core.getRegs().eip).toBe(CODE + LOOP.length + 2);
    expect(core.canInjectInterrupt()).toBe(true);
    expect(core.counters().instructions).toBe(LOOP_INSNS + 2);
    expect(core.counters().slowBoundaries).toBeLessThan(FEW);
  });

  it('stays held through budget exits: a slow boundary per run(), not per insn', async () => {
    // LOOP ; hlt   (IF stays 0: the interrupt is never taken)
    const core = await realModeCore([...LOOP, 0xf4]);
    core.injectInterrupt(0x23);
    let runs = 0;
    while (core.run(100).reason === 'budget') runs++;
    expect(core.counters().instructions).toBe(LOOP_INSNS + 1);
    expect(core.counters().interrupts).toBe(0);
    expect(core.counters().slowBoundaries).toBeLessThanOrEqual(2 * (runs + 1) + FEW);
  });
});

describe('an interrupt held by IF = 0 in protected mode', () => {
  it('is taken right after a task switch loads IF = 1, before the new task runs', async () => {
    // mov ecx, LOOPS ; l: dec ecx ; jnz l ; jmp far 0x40:0   (to the TSS at 0x700)
    const loop32 = [0xb9, LOOPS & 0xff, LOOPS >> 8, 0, 0, 0x49, 0x75, 0xfd];
    const core = await snippetCore([...loop32, 0xea, 0, 0, 0, 0, 0x40, 0x00]);
    // A 32-bit TSS (SDM vol. 3A, figure 8-2) whose task starts at 0x1800 with IF = 1.
    const tss = new DataView(new ArrayBuffer(0x68));
    const target = 0x1800;
    tss.setUint32(0x20, target, true); // EIP
    tss.setUint32(0x24, 0x202, true); // EFLAGS: IF
    tss.setUint32(0x38, 0x78000, true); // ESP
    // ES SS DS FS GS
    for (const at of [0x48, 0x50, 0x54, 0x58, 0x5c]) tss.setUint32(at, 0x10, true);
    tss.setUint32(0x4c, 0x08, true); // CS
    core.writePhys(0x700, new Uint8Array(tss.buffer));
    // Its descriptor at GDT selector 0x40: base 0x700, limit 0x67, available 32-bit TSS.
    const d = new DataView(new ArrayBuffer(8));
    d.setUint32(0, (0x700 << 16) | 0x67, true);
    d.setUint32(4, 0x00008900, true);
    core.writePhys(GDT + 0x40, new Uint8Array(d.buffer));
    core.setTable('gdtr', { base: GDT, limit: 0x47 });
    core.writePhys(target, new Uint8Array([0x43, 0xf4])); // inc ebx ; hlt
    core.injectInterrupt(0x24);
    expect(core.run(100_000).reason).toBe('hlt');
    const at = stoppedAt(core);
    expect(at.vector).toBe(0x24);
    expect(at.regs.ebx).toBe(0);
    expect(core.getSegment('tr').selector).toBe(0x40);
    expect(stackDwords(core, at.regs.esp, 3)).toEqual([target, 0x08, 0x202]); // EIP CS EFLAGS
    expect(core.counters().slowBoundaries).toBeLessThan(FEW);
  });
});

describe('an NMI held by NMI blocking', () => {
  it("is taken right after the handler's IRET, with no slow path during the handler", async () => {
    // Main: inc ax ; hlt.  NMI handler at 0x2000: inc si ; LOOP ; iret
    const core = await realModeCore([0x40, 0xf4]);
    core.writePhys(0x2000, new Uint8Array([0x46, ...LOOP, 0xcf]));
    core.writePhys(2 * 4, new Uint8Array([0x00, 0x20, 0x00, 0x00]));
    core.nmi();
    expect(core.run(10).reason).toBe('budget'); // inside the first NMI's loop
    core.nmi(); // held: NMIs are blocked until IRET
    const before = core.counters().slowBoundaries;
    const exit = core.run(100_000);
    expect(exit.reason).toBe('hlt');
    const r = core.getRegs();
    expect(r.esi & 0xffff).toBe(2); // the handler ran twice
    expect(r.eax & 0xffff).toBe(1); // then the main code
    expect(core.counters().interrupts).toBe(2);
    expect(core.counters().slowBoundaries - before).toBeLessThan(FEW);
  });
});
