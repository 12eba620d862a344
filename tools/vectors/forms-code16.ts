/**
 * The same instructions run from a 16-bit code segment (D = 0): operands and addresses are
 * 16-bit by default and 0x66 selects 32-bit operands (Intel SDM vol. 1, 3.6, and vol. 3A,
 * 3.4.5, the D flag). DS and ES are the 16-bit data segment, SS stays the flat 32-bit stack
 * (B = 1), so the stack forms use ESP with 16-bit pushes.
 */
import { Insn, Width, operand, AF, OF, STATUS, EAX, ECX, EDX, ESI, EDI, EBP } from './build.js';
import { form, rm, Kind, RULE, shiftUf } from './form.js';
import { LAYOUT } from './layout.js';

const h2 = (b: number) => b.toString(16).padStart(2, '0');
/** In 16-bit code, 0x66 means 32-bit operands. */
const os = (w: Width): number[] => (w === 32 ? [0x66] : []);
const pf = (w: Width) => (w === 32 ? '66 ' : '');
/** 'mem' is 32-bit addressing through 0x67 with flat DS/ES. */
const KINDS: Kind[] = ['reg', 'mem16', 'mem'];
const N = 24;

/** 16-bit code; DS/ES are the 16-bit segment unless the form uses 32-bit addressing ('mem'). */
function code16(x: Insn, flatData: boolean): void {
  x.code16 = true;
  x.seg16 = !flatData;
}

const group = (name: string, count: number, rule: string, make: (x: Insn) => void) =>
  form('code16', `${name} code16`, count, rule, (x) => { code16(x, / mem( |$)/.test(name) || / a32( |$)/.test(name)); make(x); });

// ALU, INC, NOT/NEG, MUL/IMUL/DIV, shifts, IMUL r,r/m, MOVZX, BT, MOV.
const ALU = [[0x01, 'add', 0], [0x11, 'adc', 0], [0x29, 'sub', 0], [0x19, 'sbb', 0], [0x21, 'and', AF], [0x31, 'xor', AF], [0x39, 'cmp', 0]] as const;
for (const k of KINDS) {
  for (const w of [16, 32] as Width[]) {
    for (const [opc, mn, uf] of ALU) {
      group(`${pf(w)}${h2(opc)} ${mn} r/m${w},r${w} ${k}`, N, uf ? RULE.logic : '', (x) => {
        rm(x, { pre: os(w), op: [opc], reg: 'r', kind: k, width: w, o: { espOk: true } });
        x.uf = uf;
      });
    }
    group(`${pf(w)}03 add r${w},r/m${w} ${k}`, N, '', (x) => {
      rm(x, { pre: os(w), op: [0x03], reg: 'r', kind: k, width: w, o: { espOk: true } });
    });
    group(`${pf(w)}81 /0 add r/m${w},imm${w} ${k}`, N, '', (x) => {
      rm(x, { pre: os(w), op: [0x81], reg: 0, kind: k, width: w, imm: [w === 16 ? 2 : 4, operand(x.r, w)], o: { espOk: true } });
    });
    group(`${pf(w)}83 /5 sub r/m${w},simm8 ${k}`, N, '', (x) => {
      rm(x, { pre: os(w), op: [0x83], reg: 5, kind: k, width: w, imm: [1, operand(x.r, 8)], o: { espOk: true } });
    });
    for (const [reg, mn] of [[0, 'inc'], [1, 'dec']] as const) {
      group(`${pf(w)}ff /${reg} ${mn} r/m${w} ${k}`, N, '', (x) => {
        rm(x, { pre: os(w), op: [0xff], reg, kind: k, width: w, o: { espOk: true } });
      });
    }
    for (const [reg, mn] of [[2, 'not'], [3, 'neg'], [4, 'mul'], [5, 'imul']] as const) {
      group(`${pf(w)}f7 /${reg} ${mn} r/m${w} ${k}`, N, reg >= 4 ? RULE.mul : '', (x) => {
        x.set(EAX, w, operand(x.r, w));
        rm(x, { pre: os(w), op: [0xf7], reg, kind: k, width: w, o: { espOk: true, avoid: [EAX, EDX] } });
        if (reg >= 4) x.uf = STATUS & ~(OF | 1);
      });
    }
    for (const [reg, mn] of [[6, 'div'], [7, 'idiv']] as const) {
      group(`${pf(w)}f7 /${reg} ${mn} r/m${w} ${k}`, 40, RULE.div, (x) => {
        rm(x, { pre: os(w), op: [0xf7], reg, kind: k, width: w, o: { avoid: [EAX, EDX] } });
        if (x.r.chance(0.6)) x.set(EDX, w, 0);
        x.uf = STATUS;
      });
    }
    for (const op of [0, 2, 4, 5, 7]) {
      group(`${pf(w)}c1 /${op} shift r/m${w},imm8 ${k}`, N, op < 4 ? RULE.rotate : RULE.shift, (x) => {
        const c = x.r.chance(0.5) ? x.r.pick([0, 1, 15, 16, 17, 31, 32]) : x.r.int(256);
        rm(x, { pre: os(w), op: [0xc1], reg: op, kind: k, width: w, imm: [1, c], o: { espOk: true } });
        x.uf = shiftUf(op, w, c);
      });
      group(`${pf(w)}d3 /${op} shift r/m${w},cl ${k}`, N, op < 4 ? RULE.rotate : RULE.shift, (x) => {
        x.set(ECX, 8, x.r.chance(0.5) ? x.r.pick([0, 1, 15, 16, 17, 31, 32]) : x.r.int(256));
        rm(x, { pre: os(w), op: [0xd3], reg: op, kind: k, width: w, o: { espOk: true, avoid: [ECX] } });
        x.uf = shiftUf(op, w, x.get(ECX, 8));
      });
    }
    group(`${pf(w)}0f af imul r${w},r/m${w} ${k}`, N, RULE.mul, (x) => {
      rm(x, { pre: os(w), op: [0x0f, 0xaf], reg: 'r', kind: k, width: w, o: { espOk: true } });
      x.uf = STATUS & ~(OF | 1);
    });
    group(`${pf(w)}0f b6 movzx r${w},r/m8 ${k}`, N, '', (x) => {
      rm(x, { pre: os(w), op: [0x0f, 0xb6], reg: 'r', kind: k, width: 8, o: { espOk: true } });
    });
    group(`${pf(w)}0f bf movsx r${w},r/m16 ${k}`, N, '', (x) => {
      rm(x, { pre: os(w), op: [0x0f, 0xbf], reg: 'r', kind: k, width: 16, o: { espOk: true } });
    });
    group(`${pf(w)}0f ba /5 bts r/m${w},imm8 ${k}`, N, RULE.bt, (x) => {
      rm(x, { pre: os(w), op: [0x0f, 0xba], reg: 5, kind: k, width: w, imm: [1, x.r.int(256)], o: { espOk: true } });
      x.uf = STATUS & ~(1 | 0x40);
    });
    group(`${pf(w)}89 mov r/m${w},r${w} ${k}`, N, '', (x) => {
      rm(x, { pre: os(w), op: [0x89], reg: 'r', kind: k, width: w, o: { espOk: true } });
    });
    group(`${pf(w)}8b mov r${w},r/m${w} ${k}`, N, '', (x) => {
      rm(x, { pre: os(w), op: [0x8b], reg: 'r', kind: k, width: w, o: { espOk: true } });
    });
  }
  group(`00 add r/m8,r8 ${k}`, N, '', (x) => {
    rm(x, { op: [0x00], reg: 'r', kind: k, width: 8 });
  });
}

// Register forms without ModRM, and LEA (16-bit addressing by default, 32-bit with 0x67).
for (const w of [16, 32] as Width[]) {
  group(`${pf(w)}40+r inc r${w}`, N, '', (x) => { const n = x.r.int(8); x.set(n, w, operand(x.r, w)); x.emit(...os(w), 0x40 + n); });
  group(`${pf(w)}98 ${w === 16 ? 'cbw' : 'cwde'}`, N, '', (x) => { x.emit(...os(w), 0x98); });
  group(`${pf(w)}99 ${w === 16 ? 'cwd' : 'cdq'}`, N, '', (x) => { x.emit(...os(w), 0x99); });
  if (w === 32) group('66 0f c8+r bswap r32', N, '', (x) => { x.emit(0x66, 0x0f, 0xc8 + x.r.int(8)); });
  for (const a32 of [false, true]) {
    group(`${pf(w)}${a32 ? '67 ' : ''}8d lea r${w},m${a32 ? 32 : 16}`, 100, '', (x) => {
      const r = x.r;
      const mod = r.int(3), reg = r.int(8), n = r.int(8);
      const bytes = [...os(w), ...(a32 ? [0x67] : []), 0x8d, (mod << 6) | (reg << 3) | n];
      let disp = mod === 1 ? 1 : mod === 2 ? (a32 ? 4 : 2) : 0;
      if (!a32 && mod === 0 && n === 6) disp = 2;
      if (a32 && n === 4) {
        const sib = r.u32() & 0xff;
        bytes.push(sib);
        if (mod === 0 && (sib & 7) === 5) disp = 4;
      }
      if (a32 && mod === 0 && n === 5) disp = 4;
      x.emit(...bytes).imm(operand(r, 32), disp as 1 | 2 | 4);
    });
  }
}

// The stack: 16-bit pushes by default on the 32-bit stack.
const stack = (x: Insn, below = 0x40, above = 0x40) => x.region(LAYOUT.stack - below, x.r.bytes(below + above));
for (const w of [16, 32] as Width[]) {
  group(`${pf(w)}50+r push r${w}`, N, '', (x) => { stack(x); x.emit(...os(w), 0x50 + x.r.int(8)); });
  group(`${pf(w)}58+r pop r${w}`, N, '', (x) => { stack(x); x.emit(...os(w), 0x58 + x.r.int(8)); });
  group(`${pf(w)}9c pushf`, N, '', (x) => { stack(x); x.emit(...os(w), 0x9c); });
  group(`${pf(w)}60 pusha`, N, '', (x) => { stack(x); x.emit(...os(w), 0x60); });
  group(`${pf(w)}61 popa`, N, '', (x) => { stack(x); x.emit(...os(w), 0x61); });
  group(`${pf(w)}c8 enter imm16,imm8`, 40, '', (x) => {
    stack(x, 0x110, 0x40);
    const level = x.r.pick([0, 1, 2, 3, 5, 31]);
    const sz = w / 8;
    x.regs[EBP] = level > 1 ? LAYOUT.stack - sz * (level + 1) - sz * x.r.int(4) : LAYOUT.stack - 0x20 + 2 * x.r.int(16);
    x.emit(...os(w), 0xc8).imm(x.r.int(0x40), 2).imm(level, 1);
  });
  group(`${pf(w)}c9 leave`, N, '', (x) => {
    stack(x, 0x80, 0x40);
    x.regs[EBP] = LAYOUT.stack - 0x60 + 4 * x.r.int(20);
    x.emit(...os(w), 0xc9);
  });
}

// Strings with SI/DI/CX (16-bit addressing by default).
const SPAN = 0x40;
for (const [opc, mn, rep] of [[0xa5, 'movs', 0xf3], [0xab, 'stos', 0xf3], [0xad, 'lods', 0xf3], [0xa7, 'cmps', 0xf3], [0xaf, 'scas', 0xf2]] as const) {
  for (const w of [16, 32] as Width[]) {
    for (const withRep of [false, true]) {
      for (const a32 of [false, true]) {
        // Without 0x67: SI/DI/CX in the 16-bit data segment; with it: ESI/EDI/ECX, flat.
        group(`${withRep ? h2(rep) + ' ' : ''}${pf(w)}${a32 ? '67 ' : ''}${h2(opc)} ${mn}${w === 16 ? 'w' : 'd'}${a32 ? ' a32' : ''}`, N, '', (x) => {
          const r = x.r;
          const src = r.bytes(2 * SPAN);
          const dst = mn === 'cmps' ? src.map((b) => (r.chance(0.05) ? b ^ 1 : b)) : r.bytes(2 * SPAN);
          x.region(LAYOUT.src - SPAN, src);
          x.region(LAYOUT.dst - SPAN, dst);
          const lo = (a: number) => (a32 ? a >>> 0 : ((r.u32() & 0xffff0000) | ((a - LAYOUT.seg16Base) & 0xffff)) >>> 0);
          x.regs[ESI] = lo(LAYOUT.src + (r.int(8) - 4) * (w / 8));
          x.regs[EDI] = lo(LAYOUT.dst + (r.int(8) - 4) * (w / 8));
          const count = withRep ? r.int(13) : r.u32() & 0xffff;
          x.regs[ECX] = a32 ? (withRep ? count : r.u32()) >>> 0 : ((r.u32() & 0xffff0000) | count) >>> 0;
          x.emit(...(withRep ? [rep] : []), ...os(w), ...(a32 ? [0x67] : []), opc);
        });
      }
    }
  }
}
