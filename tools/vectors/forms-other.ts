/**
 * MOV (88-8B, C6/C7, B0-BF, A0-A3), NOPs (90, 0F 1F /0, PAUSE), SALC, the software
 * exceptions (INT3, INTO, BOUND) and encodings that must raise #UD (UD2, LOCK where it is
 * not allowed, register operands where only memory is, FE /2-/7, FF /7). Intel SDM vol. 2;
 * LOCK: vol. 3A 8.1.2.2 and the LOCK page; SALC (D6) is undocumented by Intel and listed
 * in AMD's opcode map as invalid only in 64-bit mode.
 */
import { Insn, Width, operand, EAX, ESP } from './build.js';
import { form, rm, opsize, KINDS16, Kind } from './form.js';
import { LAYOUT } from './layout.js';

const h2 = (b: number) => b.toString(16).padStart(2, '0');
const pfx = (w: Width) => (w === 16 ? '66 ' : '');
const R = (w: Width) => `r${w}`;
const RM = (w: Width) => `r/m${w}`;
const immSize = (w: Width): 1 | 2 | 4 => (w === 8 ? 1 : w === 16 ? 2 : 4);

for (const k of KINDS16) {
  for (const w of [8, 16, 32] as Width[]) {
    const b = w === 8 ? 0 : 1;
    form('move', `${pfx(w)}${h2(0x88 + b)} mov ${RM(w)},${R(w)} ${k}`, 30, '', (x) => {
      rm(x, { pre: opsize(w), op: [0x88 + b], reg: 'r', kind: k, width: w, o: { espOk: true, misalign: true } });
    });
    form('move', `${pfx(w)}${h2(0x8a + b)} mov ${R(w)},${RM(w)} ${k}`, 30, '', (x) => {
      rm(x, { pre: opsize(w), op: [0x8a + b], reg: 'r', kind: k, width: w, o: { espOk: true, misalign: true } });
    });
    form('move', `${pfx(w)}${h2(0xc6 + b)} /0 mov ${RM(w)},imm${w} ${k}`, 30, '', (x) => {
      rm(x, { pre: opsize(w), op: [0xc6 + b], reg: 0, kind: k, width: w, imm: [immSize(w), operand(x.r, w)], o: { espOk: true, misalign: true } });
    });
  }
}
for (const w of [8, 16, 32] as Width[]) {
  form('move', `${pfx(w)}${w === 8 ? 'b0' : 'b8'}+r mov ${R(w)},imm${w}`, 40, '', (x) => {
    x.emit(...opsize(w), (w === 8 ? 0xb0 : 0xb8) + x.r.int(8)).imm(operand(x.r, w), immSize(w));
  });
  // A0-A3: the accumulator and a memory offset in the instruction (moffs16 with 0x67).
  for (const a16 of [false, true]) {
    for (const store of [false, true]) {
      const opc = (store ? 0xa2 : 0xa0) + (w === 8 ? 0 : 1);
      const acc = w === 8 ? 'al' : w === 16 ? 'ax' : 'eax';
      form('move', `${pfx(w)}${a16 ? '67 ' : ''}${h2(opc)} mov ${store ? `moffs,${acc}` : `${acc},moffs`}${a16 ? ' a16' : ''}`, 30, '', (x) => {
        const off = x.r.int(4);
        x.region(LAYOUT.data, x.r.bytes(8));
        x.set(EAX, w, operand(x.r, w));
        x.seg16 = a16;
        x.emit(...opsize(w), ...(a16 ? [0x67] : []), opc).imm(LAYOUT.data + off - (a16 ? LAYOUT.seg16Base : 0), a16 ? 2 : 4);
      });
    }
  }
}

// NOPs: none of them touches memory, whatever the ModRM says.
form('misc', '90 nop', 20, '', (x) => { x.emit(0x90); });
form('misc', '66 90 nop', 20, '', (x) => { x.emit(0x66, 0x90); });
form('misc', 'f3 90 pause', 20, '', (x) => { x.emit(0xf3, 0x90); });
for (const k of KINDS16) {
  for (const w of [16, 32] as Width[]) {
    form('misc', `${pfx(w)}0f 1f /0 nop ${RM(w)} ${k}`, 30, '', (x) => {
      rm(x, { pre: opsize(w), op: [0x0f, 0x1f], reg: 0, kind: k, width: w, o: { espOk: true } });
    });
  }
}
form('misc', 'd6 salc', 40, 'undocumented: AL = CF ? FF : 00', (x) => { x.emit(0xd6); });

// Software exceptions: INT3 (#BP, a trap), INTO (#OF when OF=1), BOUND (#BR outside the bounds).
form('misc', 'cc int3', 20, '', (x) => { x.emit(0xcc); });
form('misc', 'ce into', 40, '', (x) => { x.emit(0xce); });
for (const k of ['mem', 'mem16'] as Kind[]) {
  for (const w of [16, 32] as Width[]) {
    form('misc', `${pfx(w)}62 bound ${R(w)},m${w}&${w} ${k}`, 60, '', (x) => {
      const idx = x.r.pick([0, 1, 2, 3, 5, 6, 7]);
      const d = rm(x, { pre: opsize(w), op: [0x62], reg: idx, kind: k, width: w, keep: true, o: { avoid: [idx, ESP], regionSize: 8 } });
      if (d.kind !== 'mem') return;
      const sx = (v: number) => (w === 16 ? ((v & 0xffff) << 16) >> 16 : v | 0);
      let lo = sx(operand(x.r, w)), hi = sx(operand(x.r, w));
      if (x.r.chance(0.6) && lo > hi) [lo, hi] = [hi, lo];
      const v = x.r.chance(0.5) && lo <= hi ? lo + Math.floor((hi - lo) * (x.r.u32() / 4294967296)) : sx(operand(x.r, w));
      const bytes = x.mem[d.region].bytes;
      for (let i = 0; i < w / 8; i++) { bytes[i] = (lo >>> (8 * i)) & 0xff; bytes[w / 8 + i] = (hi >>> (8 * i)) & 0xff; }
      x.set(idx, w, v >>> 0);
    });
  }
}

// Encodings that raise #UD.
const ud = (name: string, make: (x: Insn) => void) => form('misc', name, 10, 'raises #UD', make);
ud('0f 0b ud2', (x) => { x.emit(0x0f, 0x0b); });
ud('62 bound reg (#UD)', (x) => { rm(x, { op: [0x62], reg: 'r', kind: 'reg', width: 32 }); });
ud('8d lea reg (#UD)', (x) => { rm(x, { op: [0x8d], reg: 'r', kind: 'reg', width: 32 }); });
ud('f0 01 lock add reg (#UD)', (x) => { rm(x, { pre: [0xf0], op: [0x01], reg: 'r', kind: 'reg', width: 32 }); });
ud('f0 89 lock mov mem (#UD)', (x) => { rm(x, { pre: [0xf0], op: [0x89], reg: 'r', kind: 'mem', width: 32 }); });
ud('f0 0f a3 lock bt mem (#UD)', (x) => { rm(x, { pre: [0xf0], op: [0x0f, 0xa3], reg: 'r', kind: 'mem', width: 32 }); });
ud('f0 90 lock nop (#UD)', (x) => { x.emit(0xf0, 0x90); });
for (let r = 2; r < 8; r++) ud(`fe /${r} (#UD)`, (x) => { rm(x, { op: [0xfe], reg: r, kind: x.r.chance(0.5) ? 'reg' : 'mem', width: 8 }); });
ud('ff /7 (#UD)', (x) => { rm(x, { op: [0xff], reg: 7, kind: x.r.chance(0.5) ? 'reg' : 'mem', width: 32 }); });

// ARPL r/m16, r16 (63): raises the RPL of the first operand to the second's, ZF tells.
for (const k of KINDS16) {
  form('misc', `63 arpl r/m16,r16 ${k}`, 40, '', (x) => {
    rm(x, { op: [0x63], reg: 'r', kind: k, width: 16, o: { espOk: true } });
  });
}

// POP [ESP+disp] computes its address with the incremented ESP; PUSH [ESP+disp] with the
// old one (SDM vol. 2, POP and PUSH).
for (const w of [16, 32] as Width[]) {
  for (const [opc, reg, mn] of [[0x8f, 0, 'pop'], [0xff, 6, 'push']] as const) {
    form('misc', `${pfx(w)}${h2(opc)} /${reg} ${mn} [esp+disp8]`, 40, '', (x) => {
      x.region(LAYOUT.stack - 0x40, x.r.bytes(0x80));
      const disp = (x.r.int(16) - 8) * 2;
      x.emit(...opsize(w), opc, 0x44 | (reg << 3), 0x24, disp & 0xff);
    });
  }
}
