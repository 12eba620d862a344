/**
 * MUL/IMUL (every form), DIV/IDIV (with divide errors), the BCD adjusts, BT/BTS/BTR/BTC,
 * BSF/BSR, SETcc and CMOVcc. Intel SDM vol. 2 instruction pages of the same names.
 */
import { Width, operand, readRm, writeRm, undefRm, mask, EAX, EDX, AF, CF, OF, PF, SF, ZF, STATUS } from './build.js';
import { form, rm, opsize, KINDS16, RULE } from './form.js';
import { LAYOUT } from './layout.js';

const h2 = (b: number) => b.toString(16).padStart(2, '0');
const pfx = (w: Width) => (w === 16 ? '66 ' : '');
const R = (w: Width) => `r${w}`;
const RM = (w: Width) => `r/m${w}`;
const MULUF = SF | ZF | AF | PF;

// F6/F7 /4 MUL, /5 IMUL, /6 DIV, /7 IDIV.
for (const k of KINDS16) {
  for (const w of [8, 16, 32] as Width[]) {
    const opc = w === 8 ? 0xf6 : 0xf7;
    for (const [reg, mn] of [[4, 'mul'], [5, 'imul']] as const) {
      form('muldiv', `${pfx(w)}${h2(opc)} /${reg} ${mn} ${RM(w)} ${k}`, 60, RULE.mul, (x) => {
        x.set(EAX, w, operand(x.r, w));
        rm(x, { pre: opsize(w), op: [opc], reg, kind: k, width: w, o: { espOk: true, avoid: [EAX, EDX] } });
        x.uf = MULUF;
      });
    }
    for (const [reg, mn] of [[6, 'div'], [7, 'idiv']] as const) {
      form('muldiv', `${pfx(w)}${h2(opc)} /${reg} ${mn} ${RM(w)} ${k}`, 100, RULE.div, (x) => {
        const d = rm(x, { pre: opsize(w), op: [opc], reg, kind: k, width: w, o: { avoid: [EAX, EDX] } });
        const divisor = x.r.chance(0.1) ? 0 : readRm(x, d, w);
        writeRm(x, d, w, divisor);
        // Dividend: AX for 8-bit, DX:AX, EDX:EAX. Most draws make the quotient fit.
        const hiReg = w === 8 ? 4 /* AH */ : EDX;
        const lo = operand(x.r, w);
        let hi = operand(x.r, w);
        const fit = x.r.int(10);
        if (divisor !== 0 && fit < 6) {
          if (reg === 6) hi = x.r.u32() % divisor;
          else hi = (lo & (1 << (w - 1))) !== 0 && fit < 3 ? mask(w) : 0; // sign extension
        }
        x.set(EAX, w, lo);
        x.set(hiReg, w === 8 ? 8 : w, hi);
        // A register divisor may be AL, AH or EDX itself: then the dividend wins.
        x.uf = STATUS;
      });
    }
  }
  for (const w of [16, 32] as Width[]) {
    form('muldiv', `${pfx(w)}0f af imul ${R(w)},${RM(w)} ${k}`, 60, RULE.mul, (x) => {
      rm(x, { pre: opsize(w), op: [0x0f, 0xaf], reg: 'r', kind: k, width: w, o: { espOk: true } });
      x.uf = MULUF;
    });
    form('muldiv', `${pfx(w)}69 imul ${R(w)},${RM(w)},imm${w} ${k}`, 60, RULE.mul, (x) => {
      rm(x, { pre: opsize(w), op: [0x69], reg: 'r', kind: k, width: w, imm: [w === 16 ? 2 : 4, operand(x.r, w)], o: { espOk: true } });
      x.uf = MULUF;
    });
    form('muldiv', `${pfx(w)}6b imul ${R(w)},${RM(w)},simm8 ${k}`, 60, RULE.mul, (x) => {
      rm(x, { pre: opsize(w), op: [0x6b], reg: 'r', kind: k, width: w, imm: [1, operand(x.r, 8)], o: { espOk: true } });
      x.uf = MULUF;
    });
  }
}

// BCD adjusts: every AL with every CF/AF combination for DAA/DAS/AAA/AAS.
for (const [opc, mn, uf, rule] of [[0x27, 'daa', OF, RULE.daa], [0x2f, 'das', OF, RULE.daa],
  [0x37, 'aaa', OF | SF | ZF | PF, RULE.aaa], [0x3f, 'aas', OF | SF | ZF | PF, RULE.aaa]] as const) {
  form('bcd', `${h2(opc)} ${mn}`, 1024, rule, (x, i) => {
    x.set(EAX, 8, i & 0xff);
    x.regs[8] = (x.regs[8] & ~(CF | AF)) | (i & 0x100 ? CF : 0) | (i & 0x200 ? AF : 0);
    x.emit(opc);
    x.uf = uf;
  });
}
for (const [opc, mn] of [[0xd4, 'aam'], [0xd5, 'aad']] as const) {
  form('bcd', `${h2(opc)} 0a ${mn}`, 256, RULE.aam, (x, i) => {
    x.set(EAX, 8, i);
    if (opc === 0xd5) x.set(4, 8, x.r.chance(0.5) ? x.r.int(10) : x.r.int(256));
    x.emit(opc, 0x0a);
    x.uf = OF | AF | CF;
  });
  form('bcd', `${h2(opc)} ib ${mn} imm8`, 200, RULE.aam + '; AAM 0 raises #DE', (x, i) => {
    const base = i < 20 ? 0 : x.r.chance(0.3) ? x.r.pick([1, 2, 7, 8, 9, 11, 16, 0x7f, 0x80, 0xff]) : x.r.int(256);
    x.emit(opc, base);
    x.uf = OF | AF | CF;
  });
}

// BT/BTS/BTR/BTC: register offsets (memory forms reach beyond the addressed dword) and imm8.
const BT = ['bt', 'bts', 'btr', 'btc'];
for (let op = 0; op < 4; op++) {
  for (const k of KINDS16) {
    for (const w of [16, 32] as Width[]) {
      form('bit', `${pfx(w)}0f ${h2(0xa3 + op * 8)} ${BT[op]} ${RM(w)},${R(w)} ${k}`, 60, RULE.bt, (x) => {
        const offReg = x.r.pick([0, 1, 2, 3, 5, 6, 7]); // not ESP: a CS write keeps ESP for its #GP frame
        // Memory: a signed bit offset in [-480, 480) reaches 60 bytes either side.
        const off = k === 'reg' || x.r.chance(0.3) ? operand(x.r, w) & (k === 'reg' ? mask(w) : w - 1) : x.r.int(960) - 480;
        x.set(offReg, w, off);
        const lock = k === 'mem' && op > 0 && x.r.chance(0.2) ? [0xf0] : [];
        rm(x, { pre: [...lock, ...opsize(w)], op: [0x0f, 0xa3 + op * 8], reg: offReg, kind: k, width: w,
          o: { avoid: [offReg], regionAddr: LAYOUT.data - 0x40, regionSize: 0x84, offset: 0x40 } });
        // When r/m and the offset are the same register, the offset is the operand itself.
        x.uf = OF | SF | AF | PF;
      });
      form('bit', `${pfx(w)}0f ba /${op + 4} ${BT[op]} ${RM(w)},imm8 ${k}`, 60, RULE.bt, (x) => {
        const lock = k === 'mem' && op > 0 && x.r.chance(0.2) ? [0xf0] : [];
        rm(x, { pre: [...lock, ...opsize(w)], op: [0x0f, 0xba], reg: op + 4, kind: k, width: w, imm: [1, x.r.int(256)], o: { espOk: true } });
        x.uf = OF | SF | AF | PF;
      });
    }
  }
}

// BSF/BSR: a zero source in about one draw in six.
for (const [opc, mn] of [[0xbc, 'bsf'], [0xbd, 'bsr']] as const) {
  for (const k of KINDS16) {
    for (const w of [16, 32] as Width[]) {
      form('bit', `${pfx(w)}0f ${h2(opc)} ${mn} ${R(w)},${RM(w)} ${k}`, 80, RULE.bsf, (x) => {
        const dst = x.r.int(8);
        const s = rm(x, { pre: opsize(w), op: [0x0f, opc], reg: dst, kind: k, width: w, o: { espOk: true, avoid: [dst] } });
        if (x.r.chance(0.17)) writeRm(x, s, w, 0);
        x.uf = CF | OF | SF | AF | PF;
        if (readRm(x, s, w) === 0) undefRm(x, { kind: 'reg', n: dst }, w);
      });
    }
  }
}

// SETcc r/m8 (0F 90-9F) and CMOVcc (0F 40-4F): the input flags are random, so every
// condition is seen true and false.
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
for (let cc = 0; cc < 16; cc++) {
  for (const k of KINDS16) {
    form('cc', `0f ${h2(0x90 + cc)} set${CC[cc]} r/m8 ${k}`, 32, '', (x) => {
      rm(x, { op: [0x0f, 0x90 + cc], reg: x.r.chance(0.8) ? 0 : x.r.int(8), kind: k, width: 8 });
    });
    for (const w of [16, 32] as Width[]) {
      form('cc', `${pfx(w)}0f ${h2(0x40 + cc)} cmov${CC[cc]} ${R(w)},${RM(w)} ${k}`, 24, '', (x) => {
        rm(x, { pre: opsize(w), op: [0x0f, 0x40 + cc], reg: 'r', kind: k, width: w, o: { espOk: true } });
      });
    }
  }
}
