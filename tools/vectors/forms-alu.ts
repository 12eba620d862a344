/**
 * ALU forms (opcodes 00-3F, the 80-83 immediate groups), INC/DEC/NEG/NOT/TEST, and the
 * shifts and rotates (C0/C1/D0-D3 /0-/7, SHLD/SHRD). Intel SDM vol. 2, instruction pages
 * ADD ... XOR, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD.
 */
import { Insn, Width, operand, undefRm, ECX, EAX, AF, OF, STATUS } from './build.js';
import { form, rm, opsize, KINDS, KINDS16, Kind, RULE, shiftUf } from './form.js';

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const N = 40;
const h2 = (b: number) => b.toString(16).padStart(2, '0');
const pfx = (w: Width) => (w === 16 ? '66 ' : '');
const R = (w: Width) => `r${w}`;
const RM = (w: Width) => `r/m${w}`;
const isLogic = (op: number) => op === 1 || op === 4 || op === 6;
const immSize = (w: Width): 1 | 2 | 4 => (w === 8 ? 1 : w === 16 ? 2 : 4);

for (let op = 0; op < 8; op++) {
  const mn = ALU[op];
  const rule = isLogic(op) ? RULE.logic : '';
  const uf = isLogic(op) ? AF : 0;
  const base = op * 8;
  // Lock only where the destination is memory and the operation writes (not CMP).
  const lock = (x: Insn, k: Kind) => (k !== 'reg' && op !== 7 && x.r.chance(0.2) ? [0xf0] : []);
  for (const k of [...KINDS, 'mem16'] as Kind[]) {
    for (const w of [8, 16, 32] as Width[]) {
      const o = w === 8 ? 0 : 1;
      form('alu', `${pfx(w)}${h2(base + o)} ${mn} ${RM(w)},${R(w)} ${k}`, N, rule, (x) => {
        rm(x, { pre: [...lock(x, k), ...opsize(w)], op: [base + o], reg: 'r', kind: k, width: w, o: { espOk: true, misalign: true } });
        x.uf = uf;
      });
      form('alu', `${pfx(w)}${h2(base + 2 + o)} ${mn} ${R(w)},${RM(w)} ${k}`, N, rule, (x) => {
        rm(x, { pre: opsize(w), op: [base + 2 + o], reg: 'r', kind: k, width: w, o: { espOk: true, misalign: true } });
        x.uf = uf;
      });
    }
  }
  for (const w of [8, 16, 32] as Width[]) {
    const o = w === 8 ? 0 : 1;
    const acc = w === 8 ? 'al' : w === 16 ? 'ax' : 'eax';
    form('alu', `${pfx(w)}${h2(base + 4 + o)} ${mn} ${acc},imm${w}`, N, rule, (x) => {
      x.set(EAX, w, operand(x.r, w));
      x.emit(...opsize(w), base + 4 + o).imm(operand(x.r, w), immSize(w));
      x.uf = uf;
    });
    for (const k of KINDS16) {
      const lk = (x: Insn) => lock(x, k);
      const grp = (opc: number, iw: Width, label: string) =>
        form('alu', `${pfx(w)}${h2(opc)} /${op} ${mn} ${RM(w)},${label} ${k}`, N, rule, (x) => {
          rm(x, { pre: [...lk(x), ...opsize(w)], op: [opc], reg: op, kind: k, width: w, imm: [immSize(iw), operand(x.r, iw)], o: { espOk: true, misalign: true } });
          x.uf = uf;
        });
      if (w === 8) { grp(0x80, 8, 'imm8'); grp(0x82, 8, 'imm8'); } else { grp(0x81, w, `imm${w}`); grp(0x83, 8, 'simm8'); }
    }
  }
}

// INC/DEC (CF unaffected), NOT, NEG, TEST.
for (const w of [16, 32] as Width[]) {
  for (const [opc, mn] of [[0x40, 'inc'], [0x48, 'dec']] as const) {
    form('unary', `${pfx(w)}${h2(opc)}+r ${mn} ${R(w)}`, N * 2, '', (x) => {
      const r = x.r.int(8);
      x.set(r, w, operand(x.r, w));
      x.emit(...opsize(w), opc + r);
    });
  }
}
for (const k of KINDS16) {
  for (const w of [8, 16, 32] as Width[]) {
    const opc = w === 8 ? 0xfe : 0xff;
    const o = w === 8 ? 0xf6 : 0xf7;
    for (const [reg, mn, pre] of [[0, 'inc', opc], [1, 'dec', opc], [2, 'not', o], [3, 'neg', o]] as const) {
      form('unary', `${pfx(w)}${h2(pre)} /${reg} ${mn} ${RM(w)} ${k}`, N, '', (x) => {
        const lock = k === 'mem' && x.r.chance(0.2) ? [0xf0] : [];
        rm(x, { pre: [...lock, ...opsize(w)], op: [pre], reg, kind: k, width: w, o: { espOk: true, misalign: true } });
      });
    }
    for (const reg of [0, 1]) {
      form('unary', `${pfx(w)}${h2(o)} /${reg} test ${RM(w)},imm${w} ${k}`, N, RULE.logic, (x) => {
        rm(x, { pre: opsize(w), op: [o], reg, kind: k, width: w, imm: [immSize(w), operand(x.r, w)], o: { espOk: true } });
        x.uf = AF;
      });
    }
    form('unary', `${pfx(w)}${h2(w === 8 ? 0x84 : 0x85)} test ${RM(w)},${R(w)} ${k}`, N, RULE.logic, (x) => {
      rm(x, { pre: opsize(w), op: [w === 8 ? 0x84 : 0x85], reg: 'r', kind: k, width: w, o: { espOk: true } });
      x.uf = AF;
    });
  }
}
for (const w of [8, 16, 32] as Width[]) {
  form('unary', `${pfx(w)}${h2(w === 8 ? 0xa8 : 0xa9)} test ${w === 8 ? 'al' : w === 16 ? 'ax' : 'eax'},imm${w}`, N, RULE.logic, (x) => {
    x.set(EAX, w, operand(x.r, w));
    x.emit(...opsize(w), w === 8 ? 0xa8 : 0xa9).imm(operand(x.r, w), immSize(w));
    x.uf = AF;
  });
}

// Shifts and rotates.
const SH = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
const COUNTS = [0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 18, 23, 24, 31, 32, 33, 34, 63, 64, 65, 127, 128, 129, 255];
const count = (x: Insn) => (x.r.chance(0.7) ? x.r.pick(COUNTS) : x.r.int(256));

for (let op = 0; op < 8; op++) {
  const rule = op < 4 ? RULE.rotate : RULE.shift;
  for (const k of KINDS16) {
    for (const w of [8, 16, 32] as Width[]) {
      const b = w === 8 ? 0 : 1;
      const name = (opc: number, src: string) => `${pfx(w)}${h2(opc)} /${op} ${SH[op]} ${RM(w)},${src} ${k}`;
      form('shift', name(0xc0 + b, 'imm8'), N, rule, (x) => {
        const c = count(x);
        rm(x, { pre: opsize(w), op: [0xc0 + b], reg: op, kind: k, width: w, imm: [1, c], o: { espOk: true } });
        x.uf = shiftUf(op, w, c);
      });
      form('shift', name(0xd0 + b, '1'), N, rule, (x) => {
        rm(x, { pre: opsize(w), op: [0xd0 + b], reg: op, kind: k, width: w, o: { espOk: true } });
        x.uf = shiftUf(op, w, 1);
      });
      form('shift', name(0xd2 + b, 'cl'), N, rule, (x) => {
        x.set(ECX, 8, count(x));
        rm(x, { pre: opsize(w), op: [0xd2 + b], reg: op, kind: k, width: w, o: { espOk: true, avoid: [ECX] } });
        x.uf = shiftUf(op, w, x.get(ECX, 8));
      });
    }
  }
}

// SHLD/SHRD: 0F A4/A5 and 0F AC/AD.
for (const [opc, mn] of [[0xa4, 'shld'], [0xac, 'shrd']] as const) {
  for (const k of KINDS16) {
    for (const w of [16, 32] as Width[]) {
      const finish = (x: Insn, dst: ReturnType<typeof rm>, c: number) => {
        const m = c & 31;
        if (m === 0) x.uf = 0;
        else if (m > w) { x.uf = STATUS; undefRm(x, dst, w); }
        else x.uf = AF | (m !== 1 ? OF : 0);
      };
      form('shift', `${pfx(w)}0f ${h2(opc)} ${mn} ${RM(w)},${R(w)},imm8 ${k}`, N * 2, RULE.shxd, (x) => {
        const c = count(x);
        const d = rm(x, { pre: opsize(w), op: [0x0f, opc], reg: 'r', kind: k, width: w, imm: [1, c], o: { espOk: true } });
        finish(x, d, c);
      });
      form('shift', `${pfx(w)}0f ${h2(opc + 1)} ${mn} ${RM(w)},${R(w)},cl ${k}`, N * 2, RULE.shxd, (x) => {
        x.set(ECX, 8, count(x));
        const d = rm(x, { pre: opsize(w), op: [0x0f, opc + 1], reg: 'r', kind: k, width: w, o: { espOk: true, avoid: [ECX] } });
        finish(x, d, x.get(ECX, 8));
      });
    }
  }
}

