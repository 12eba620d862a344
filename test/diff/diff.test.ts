/**
 * The differential runner: guests run in wasmvisor and in v86's interpreter, registers
 * compared at every checkpoint (`out 0xe9, eax`) plus output and exit status. The
 * checkpoints guest's register values were also printed by QEMU (its fixture), so at each
 * checkpoint two emulators nobody here wrote agree.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Core, CoreOptions } from '../../bindings/core/types.js';
import { compareCheckpoints, diffRun } from '../../bindings/testing/diff.js';
import { runV86 } from '../../bindings/testing/v86.js';
import { guestImage } from '../system/guests.js';

describe('differential runner', () => {
  it('reports a register that differs at a checkpoint', () => {
    const base = { value: 1, eax: 1, ecx: 2, edx: 3, ebx: 4, esp: 5, ebp: 6, esi: 7, edi: 8, eflags: 0x46, eip: 0x100000 };
    expect(compareCheckpoints([base], [{ ...base, ecx: 9 }])).toEqual([
      'checkpoint 1 (value 0x00000001): ecx wasmvisor 0x00000002, v86 0x00000009',
    ]);
    expect(compareCheckpoints([base], [{ ...base, eflags: 0x10046 }])).toEqual([]); // RF ignored
    expect(compareCheckpoints([base], [])).toEqual(['checkpoint count: wasmvisor 1, v86 0']);
  });

  it('v86 records the checkpoints QEMU printed (interpreter and JIT alike)', async () => {
    const img = guestImage('checkpoints');
    const interp = await runV86(img, { jit: false });
    const jit = await runV86(img, { jit: true });
    expect(interp.checkpoints.length).toBe(9);
    // each checkpoint's EIP is an `out 0xe9, eax` (E7 E9) of the image, loaded at 1 MiB
    for (const c of interp.checkpoints) expect([img[c.eip - 0x100000], img[c.eip - 0x100000 + 1]]).toEqual([0xe7, 0xe9]);
    expect(compareCheckpoints(interp.checkpoints, jit.checkpoints)).toEqual([]);
    // The guest prints each checkpoint's registers; QEMU printed the same (fixture).
    const printed = interp.output.split('\n').filter((l) => l.startsWith('ck '));
    const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    interp.checkpoints.forEach((c, i) => {
      expect(printed[i]).toBe(`ck eax=${hex(c.eax)} ecx=${hex(c.ecx)} edx=${hex(c.edx)} ebx=${hex(c.ebx)} esp=${hex(c.esp)} ebp=${hex(c.ebp)} esi=${hex(c.esi)} edi=${hex(c.edi)} efl=${hex(c.eflags)}`);
    });
  });
});

describe('wasmvisor against v86', () => {
  let core: Core;
  beforeAll(async () => {
    const mod = (await import('../../bindings/core/index.js')) as { createCore(o: CoreOptions): Promise<Core> };
    core = await mod.createCore({ ramBytes: 128 << 20 });
  });
  for (const name of ['checkpoints', 'segments', 'paging', 'rings', 'holes', 'sysenter', 'pm16']) {
    it(name, async () => {
      const report = await diffRun(core, guestImage(name), { maxInstructions: 20_000_000 });
      expect(report.mismatches).toEqual([]);
      if (name === 'checkpoints') expect(report.wasmvisor.checkpoints.length).toBe(9);
    });
  }
});
