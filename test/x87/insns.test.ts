/**
 * x87 state images and the rarer instructions, against the host CPU (tools/x87/capture.c
 * set3, test/fixtures/x87/x87-set3.jsonl): after FNOP, FENI/FDISI/FSETPM (no-ops since the
 * 287), FFREE, FFREEP, FUCOMP, FINCSTP, FNCLEX and the undocumented aliases (FXCH4, FXCH7,
 * FSTP1, FSTP8, FSTP9, FCOM2, FCOMP3, FCOMP5) the whole FNSAVE image must be the CPU's
 * (the 32-bit protected-mode format, SDM vol. 1, figures 8-9 and 8-11), except the
 * instruction and data pointers, which hold the capture's own addresses. Random images go
 * through FRSTOR, FNSTENV, FNSTCW, FNINIT, FLDENV and FNSAVE, pointers included. Also run
 * here: FLDZ, FLD1, FDIVRP (a zero divide), FMULP, FSUBP, FICOMP and FISUBR (m16int), FIST
 * and FST (m32, read back by FILD and FLD), FDECSTP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCore } from '../../bindings/core/index.js';
import { prepare, MACHINE } from '../vectors/replay.js';

interface V3 { op: string; cw?: number; a?: string; b?: string; img?: string; sw?: number;
  in?: string; env?: string; out?: string }

const lines = readFileSync(join(__dirname, '..', 'fixtures', 'x87', 'x87-set3.jsonl'), 'utf8')
  .trim().split('\n');
const header = JSON.parse(lines[0]) as { count: number; cpu: Record<string, string> };
const vectors = lines.slice(1).map((l) => JSON.parse(l) as V3);

const CODE = 0x100000, CW = 0x110000, A = 0x110010, B = 0x110020, SW = 0x110030,
  IMG = 0x110100, ENV = 0x110200, CWO = 0x110240, OUT = 0x110300;
const mem = (reg: number, addr: number): number[] =>
  [(reg << 3) | 5, addr & 0xff, (addr >>> 8) & 0xff, (addr >>> 16) & 0xff, addr >>> 24];
const le = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g)!.reverse().map((h) => parseInt(h, 16)));
const hexOf = (b: Uint8Array): string =>
  [...b].reverse().map((x) => x.toString(16).padStart(2, '0')).join('');

const INSN: Record<string, number[]> = {
  s_fnop: [0xd9, 0xd0], s_feni: [0xdb, 0xe0], s_fdisi: [0xdb, 0xe1], s_fsetpm: [0xdb, 0xe4],
  s_ffree: [0xdd, 0xc2], s_ffreep: [0xdf, 0xc1], s_fxch4: [0xdd, 0xca], s_fxch7: [0xdf, 0xcb],
  s_fstp1: [0xd9, 0xda], s_fstp8: [0xdf, 0xd1], s_fstp9: [0xdf, 0xda], s_fcom2: [0xdc, 0xd1],
  s_fcomp3: [0xdc, 0xda], s_fcomp5: [0xde, 0xd3], s_fucomp: [0xdd, 0xea],
  s_fincstp: [0xd9, 0xf7, 0xd9, 0xf7], s_fclex: [0xd8, 0xf7, 0xdb, 0xe2],
  s_fzdivr: [0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xf1], s_fmulp: [0xde, 0xca],
  s_fsubp: [0xde, 0xea], s_ficomp: [0xde, ...mem(3, A)], s_fisubr: [0xde, ...mem(5, A)],
  s_fist: [0xdb, ...mem(2, A), 0xdb, ...mem(0, A)],
  s_fst: [0xd9, ...mem(2, A), 0xd9, ...mem(0, A)],
};
/** The pointer fields of a 32-bit image (FIP, FCS, FDP, FDS): bytes 12-17 and 20-25. */
const POINTERS = [12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25];

describe(`x87 state images (${header.count} captured on ${header.cpu.modelName})`, async () => {
  const core = await createCore({ ramBytes: 4 << 20 });
  it('every image matches the CPU', () => {
    const failures: string[] = [];
    const seen = new Set<string>();
    for (const v of vectors) {
      seen.add(v.op);
      core.reset();
      prepare(core, { code: CODE } as never);
      core.setSegment('cs', { selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc09b });
      for (const s of ['ss', 'ds', 'es', 'fs', 'gs'] as const) {
        core.setSegment(s, { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc093 });
      }
      core.setRegs({ cr0: MACHINE.cr0 | 0x20, esp: 0x8000, eip: CODE, eflags: 2 });
      const data = new Uint8Array(0x400).fill(0xa5);
      let code: number[];
      if (v.op === 's_frstor') {
        data.set(le(v.in!), IMG - CW);
        data.fill(0, ENV - CW, ENV - CW + 28);
        code = [0xdb, 0xe3, 0xdd, ...mem(4, IMG), 0xd9, ...mem(6, ENV), 0xd9, ...mem(7, CWO),
          0xdb, 0xe3, 0xd9, ...mem(4, ENV), 0xdd, ...mem(6, OUT), 0xdb, 0xe3, 0xf4];
      } else {
        data.set([v.cw! & 0xff, v.cw! >> 8], 0);
        data.set(le(v.a!), A - CW);
        data.set(le(v.b!), B - CW);
        const fldB = [0xdb, ...mem(5, B)], fldA = [0xdb, ...mem(5, A)];
        code = [0xdb, 0xe3, 0xd9, ...mem(5, CW), ...fldB, ...fldA, ...fldB, ...fldA,
          ...INSN[v.op], 0xdd, ...mem(7, SW), 0xdd, ...mem(6, IMG), 0xdb, 0xe3, 0xf4];
      }
      core.writePhys(CW, data);
      core.writePhys(CODE, Uint8Array.from(code));
      const exit = core.run(100);
      const out = core.readPhys(CW, 0x400);
      const got: string[] = [];
      if (exit.reason !== 'hlt') got.push(`ended ${exit.reason}`);
      if (v.op === 's_frstor') {
        const env = hexOf(out.subarray(ENV - CW, ENV - CW + 28));
        if (env !== v.env) got.push(`env ${env} want ${v.env}`);
        const cw = out[CWO - CW] | (out[CWO - CW + 1] << 8);
        if (cw !== v.cw) got.push(`cw ${cw.toString(16)} want ${v.cw!.toString(16)}`);
        const o = hexOf(out.subarray(OUT - CW, OUT - CW + 108));
        if (o !== v.out) got.push(`out ${o} want ${v.out}`);
      } else {
        const sw = out[SW - CW] | (out[SW - CW + 1] << 8);
        if (sw !== v.sw) got.push(`sw ${sw.toString(16)} want ${v.sw!.toString(16)}`);
        const img = out.slice(IMG - CW, IMG - CW + 108);
        const want = le(v.img!);
        for (const i of POINTERS) { img[i] = 0; want[i] = 0; }
        // The opcode field names the ModRM byte: the capture addressed its operands through
        // a register, here through a displacement; for memory forms compare mod and reg.
        if (want[18] < 0xc0 && img[18] < 0xc0) { want[18] &= 0xf8; img[18] &= 0xf8; }
        // Empty registers keep whatever the register file held (FNINIT clears no data):
        // only registers whose tag is not empty are compared.
        const tw = want[8] | (want[9] << 8), top = (want[5] >> 3) & 7;
        for (let i = 0; i < 8; i++) {
          if (((tw >> (((top + i) & 7) * 2)) & 3) === 3) {
            img.fill(0, 28 + i * 10, 38 + i * 10); want.fill(0, 28 + i * 10, 38 + i * 10);
          }
        }
        if (hexOf(img) !== hexOf(want)) got.push(`img ${hexOf(img)} want ${hexOf(want)}`);
      }
      if (got.length) failures.push(`${v.op} ${JSON.stringify(v).slice(0, 120)}: ${got.join('; ')}`);
    }
    expect(failures.slice(0, 5).join('\n'), `${failures.length} of ${vectors.length} failed`)
      .toBe('');
    expect(seen.size).toBe(Object.keys(INSN).length + 1);
  });
});
