/**
 * FXSAVE and FXRSTOR (SDM vol. 2A, FXSAVE/FXRSTOR, table 3-53; vol. 1, 10.5) against
 * vectors captured on the host CPU (tools/x87/fxsave.c, test/fixtures/x87/fxsave.jsonl):
 * the same instruction bytes run on the core in flat 32-bit protected mode.
 * - save: FXRSTOR of a zeroed image (so that every register's contents are known), FNINIT,
 *   FLDCW 0x37F, FLD m80 of each value, FFREE ST(0..3) as chosen, FINCSTP
 *   as chosen, FLDCW of the case's control word, FXSAVE; the x87 part of the image
 *   (control and status words, abridged tag byte and the reserved byte after it, the eight
 *   16-byte register slots in stack order) must be the CPU's, bit for bit.
 * - rstor: FXRSTOR of the captured image, then FNSAVE: the control, status and full tag
 *   words (the tags recomputed from the contents, 10.5.1.1) and the registers must be the
 *   CPU's.
 * The instruction and data pointers are not compared (they hold the capturing process's
 * addresses; AMD CPUs save them only with an exception pending) and neither is MXCSR (SSE
 * state, which this P6 without SSE does not have). The exceptions (#UD with CR0.EM, #NM
 * with CR0.TS, #GP for a misaligned operand, #UD for the SSE members of group 15) and
 * CPUID.FXSR / CR4.OSFXSR are checked against the SDM's exception tables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCore } from '../../bindings/core/index.js';
import type { Core } from '../../bindings/core/types.js';
import { prepare, MACHINE } from '../vectors/replay.js';

interface SaveCase { op: 'save'; n: number; frees: number; rot: number; cw: number;
  vals: string; head: string; regs: string }
interface RstorCase { op: 'rstor'; head: string; regs: string; fnsave: string }

const lines = readFileSync(join(__dirname, '..', 'fixtures', 'x87', 'fxsave.jsonl'), 'utf8')
  .trim().split('\n');
const header = JSON.parse(lines[0]) as { count: number; cpu: { modelName: string } };
const cases = lines.slice(1).map((l) => JSON.parse(l) as SaveCase | RstorCase);

const CODE = 0x100000, DATA = 0x110000, IMG = 0x111000, SAVE = 0x112000, ZERO = 0x113000;
const HLT = 0xf4;
const mem = (reg: number, addr: number): number[] =>
  [(reg << 3) | 5, addr & 0xff, (addr >>> 8) & 0xff, (addr >>> 16) & 0xff, addr >>> 24];
const bytes = (hex: string): number[] => (hex.match(/../g) ?? []).map((h) => parseInt(h, 16));
const hexOf = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0'))
  .join('');
const FXSAVE = (a: number) => [0x0f, 0xae, ...mem(0, a)];
const FXRSTOR = (a: number) => [0x0f, 0xae, ...mem(1, a)];

function start(core: Core, code: number[], cr0Extra = 0): void {
  core.reset();
  prepare(core, { code: CODE } as never);
  core.setSegment('cs', { selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc09b });
  for (const s of ['ss', 'ds', 'es', 'fs', 'gs'] as const) {
    core.setSegment(s, { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc093 });
  }
  core.setRegs({ cr0: MACHINE.cr0 | 0x20 | cr0Extra, esp: 0x8000, eip: CODE, eflags: 2 });
  core.writePhys(CODE, Uint8Array.from([...code, HLT]));
}

function saveProgram(c: SaveCase): number[] {
  // FXRSTOR of a zeroed image; FNINIT; FLDCW [DATA] (0x37F)
  const code = [...FXRSTOR(ZERO), 0xdb, 0xe3, 0xd9, ...mem(5, DATA)];
  for (let i = 0; i < c.n; i++) code.push(0xdb, ...mem(5, DATA + 16 + 16 * i)); // FLD m80
  for (let i = 0; i < 4; i++) if (c.frees & (1 << i)) code.push(0xdd, 0xc0 + i); // FFREE
  for (let i = 0; i < c.rot; i++) code.push(0xd9, 0xf7); // FINCSTP
  code.push(0xd9, ...mem(5, DATA + 2), ...FXSAVE(IMG)); // FLDCW [DATA+2]; FXSAVE
  return code;
}

describe(`FXSAVE / FXRSTOR vectors (${header.count} captured on ${header.cpu.modelName})`,
  async () => {
    const core = await createCore({ ramBytes: 4 << 20 });
    it('every case matches the CPU', () => {
      const failures: string[] = [];
      for (const c of cases) {
        if (c.op === 'save') {
          start(core, saveProgram(c));
          const data = new Uint8Array(16 + 16 * 8);
          data.set([0x7f, 0x03, c.cw & 0xff, c.cw >> 8]);
          const vals = bytes(c.vals);
          for (let i = 0; i < c.n; i++) data.set(vals.slice(10 * i, 10 * i + 10), 16 + 16 * i);
          core.writePhys(DATA, data);
          core.writePhys(IMG, new Uint8Array(512).fill(0xa5));
          core.writePhys(ZERO, new Uint8Array(512));
        } else {
          start(core, [...FXRSTOR(IMG), 0xdd, ...mem(6, SAVE)]); // FXRSTOR; FNSAVE
          const img = new Uint8Array(512);
          img.set(bytes(c.head));
          img.set([0x80, 0x1f], 24);
          img.set(bytes(c.regs), 32);
          core.writePhys(IMG, img);
        }
        const exit = core.run(1000);
        const r = core.getRegs();
        if (exit.reason !== 'hlt') {
          failures.push(`${JSON.stringify(c)}: stopped by ${exit.reason} at ${r.eip}`);
          continue;
        }
        const got: string[] = [];
        const img = core.readPhys(IMG, 160);
        if (c.op === 'save') {
          const head = hexOf(img.subarray(0, 6)), regs = hexOf(img.subarray(32, 160));
          if (head !== c.head) got.push(`head ${head} want ${c.head}`);
          if (regs !== c.regs) got.push(`regs ${regs} want ${c.regs}`);
        } else {
          const s = core.readPhys(SAVE, 108);
          // Control, status and tag words (with their reserved upper halves), registers.
          const words = hexOf(s.subarray(0, 12)), regs = hexOf(s.subarray(28, 108));
          const want = c.fnsave;
          if (words !== want.slice(0, 24)) got.push(`words ${words} want ${want.slice(0, 24)}`);
          if (regs !== want.slice(56)) got.push(`regs ${regs} want ${want.slice(56)}`);
        }
        if (got.length) failures.push(`${JSON.stringify(c)}: ${got.join('; ')}`);
      }
      expect(failures.slice(0, 5).join('\n'), `${failures.length} of ${cases.length} failed`)
        .toBe('');
    });

    /** The vector of the exception taken: prepare()'s handler n is a HLT at handlers + 4n. */
    const vectorTaken = (c: Core): number | undefined => {
      const eip = c.getRegs().eip;
      const at = eip - MACHINE.handlers - 1;
      return at >= 0 && at < 4 * 32 && at % 4 === 0 ? at / 4 : undefined;
    };
    it('#UD with CR0.EM, #NM with CR0.TS, #GP(0) when misaligned, #UD for /2-/7', () => {
      const list: [string, number[], number, number][] = [
        ['FXSAVE, CR0.EM', FXSAVE(IMG), 1 << 2, 6],
        ['FXSAVE, CR0.EM and CR0.TS', FXSAVE(IMG), (1 << 2) | (1 << 3), 6],
        ['FXSAVE, CR0.TS', FXSAVE(IMG), 1 << 3, 7],
        ['FXRSTOR, CR0.TS', FXRSTOR(IMG), 1 << 3, 7],
        ['FXSAVE at 8 mod 16', FXSAVE(IMG + 8), 0, 13],
        ['FXRSTOR at 4 mod 16', FXRSTOR(IMG + 4), 0, 13],
        ['LDMXCSR (/2)', [0x0f, 0xae, ...mem(2, IMG)], 0, 6],
        ['CLFLUSH (/7)', [0x0f, 0xae, ...mem(7, IMG)], 0, 6],
        ['LFENCE (/5, mod 3)', [0x0f, 0xae, 0xe8], 0, 6],
        ['FXSAVE with a register operand', [0x0f, 0xae, 0xc0], 0, 6],
      ];
      for (const [what, code, cr0, vector] of list) {
        start(core, code, cr0);
        core.run(100);
        expect(vectorTaken(core), what).toBe(vector);
      }
      start(core, FXSAVE(IMG));
      core.run(100);
      expect(vectorTaken(core), 'FXSAVE aligned').toBeUndefined();
    });
  });
