/**
 * Prefixes in any order and number (Intel SDM vol. 2, 2.1.1): operand size (66, repeated),
 * address size (67, also where no memory operand makes it meaningless), segment overrides
 * (several at once: which one applies is what the CPU shows), REP prefixes where they mean
 * nothing, LOCK on read-modify-write memory forms, and instructions longer than 15 bytes
 * (#GP, SDM vol. 2, 2.3.11).
 */
import { Insn, Width, ESP } from './build.js';
import { form, rm, Kind } from './form.js';
import { LAYOUT } from './layout.js';

interface Base { op: number[]; reg: number | 'r'; name: string; byteOp: boolean; rmw: boolean; imm?: 1 }
const BASES: Base[] = [
  { op: [0x01], reg: 'r', name: '01 add r/m,r', byteOp: false, rmw: true },
  { op: [0x03], reg: 'r', name: '03 add r,r/m', byteOp: false, rmw: false },
  { op: [0x29], reg: 'r', name: '29 sub r/m,r', byteOp: false, rmw: true },
  { op: [0x31], reg: 'r', name: '31 xor r/m,r', byteOp: false, rmw: true },
  { op: [0x00], reg: 'r', name: '00 add r/m8,r8', byteOp: true, rmw: true },
  { op: [0x89], reg: 'r', name: '89 mov r/m,r', byteOp: false, rmw: false },
  { op: [0x8b], reg: 'r', name: '8b mov r,r/m', byteOp: false, rmw: false },
  { op: [0xff], reg: 0, name: 'ff /0 inc r/m', byteOp: false, rmw: true },
  { op: [0xc1], reg: 4, name: 'c1 /4 shl r/m,imm8', byteOp: false, rmw: false, imm: 1 },
];

function shuffle<T>(x: Insn, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = x.r.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

for (const b of BASES) {
  for (const k of ['reg', 'mem', 'mem16'] as Kind[]) {
    form('prefix', `prefixes ${b.name} ${k}`, 50, b.name.startsWith('c1') ? 'AF, and OF unless the count is 1, undefined' : '', (x) => {
      const r = x.r;
      const w: Width = b.byteOp ? 8 : r.chance(0.5) ? 16 : 32;
      rm(x, { op: b.op, reg: b.reg, kind: k, width: w, o: { overrides: false }, ...(b.imm ? { imm: [1, r.int(40)] as [1, number] } : {}) });
      // rm() put 0x67 (and for [bp] forms 3E) in front; add the rest and shuffle them all.
      let lead = 0;
      while ([0x67, 0x3e].includes(x.bytes[lead]) && lead < 2) lead++;
      const pre = x.bytes.slice(0, lead);
      const need: number[] = w === 16 ? [0x66] : [];
      const extra: number[] = [];
      const n66 = w === 16 ? r.int(3) : b.byteOp ? r.int(2) : 0;
      for (let i = 0; i < n66; i++) extra.push(0x66);
      if (k === 'mem16' && r.chance(0.3)) extra.push(0x67);
      if (k === 'reg' && r.chance(0.4)) extra.push(0x67); // no memory operand: nothing to resize
      const segs = k === 'mem16' ? [0x26, 0x3e] : [0x26, 0x2e, 0x36, 0x3e];
      for (let i = r.int(4); i > 0; i--) extra.push(r.pick(segs));
      for (let i = r.int(3); i > 0; i--) extra.push(r.pick([0xf2, 0xf3]));
      if (k !== 'reg' && b.rmw && r.chance(0.3)) extra.push(0xf0);
      // Stay within 15 bytes here (the form below goes beyond).
      const room = 15 - x.bytes.length - need.length;
      shuffle(x, extra).splice(Math.max(0, room));
      x.bytes = [...shuffle(x, [...pre, ...need, ...extra]), ...x.bytes.slice(lead)];
      if (extra.includes(0x2e)) x.regs[ESP] = LAYOUT.stack; // a CS write raises #GP
      if (b.name.startsWith('c1')) {
        const c = x.bytes[x.bytes.length - 1] & 31;
        x.uf = c === 0 ? 0 : 0x10 | (c !== 1 ? 0x800 : 0) | (w !== 32 && c >= w ? 1 : 0);
      }
    });
  }
}

// Longer than 15 bytes: #GP(0) before anything happens.
form('prefix', 'prefixes beyond 15 bytes (#GP)', 20, '', (x) => {
  const r = x.r;
  const n = 14 + r.int(4);
  const body = [0x01, 0xc0 | (r.int(8) << 3) | r.pick([0, 1, 2, 3, 5, 6, 7])];
  x.emit(...Array.from({ length: n }, () => r.pick([0x66, 0x26, 0x3e, 0x36, 0xf3, 0x67])), ...body);
});

