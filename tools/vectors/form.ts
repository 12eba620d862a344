/**
 * An opcode form: the instruction bytes it encodes, how many vectors it gets, how one vector
 * is built, and which result bits the Intel SDM (vol. 2, the "Flags Affected" section of
 * each instruction) leaves undefined.
 */
import { Insn, Rm, Width, operand, writeRm, ESP, AF, CF, OF, PF, SF, ZF, STATUS } from './build.js';
import { encodeRm, RmOptions } from './modrm.js';
import { LAYOUT } from './layout.js';

export type Kind = 'reg' | 'mem' | 'mem16';

export interface Form {
  group: string;
  /** "<opcode bytes> <mnemonic> <operands> <reg|mem|mem16>", unique. */
  name: string;
  count: number;
  /** Which flags or results are undefined, in the SDM's words; empty when all are defined. */
  rule: string;
  make(x: Insn, i: number): void;
}

export const FORMS: Form[] = [];

export function form(group: string, name: string, count: number, rule: string, make: (x: Insn, i: number) => void): void {
  if (FORMS.some((f) => f.name === name)) throw new Error(`duplicate form name: ${name}`);
  // The 16-bit addressing variants get half as many: they differ only in the address.
  FORMS.push({ group, name, count: name.endsWith(' mem16') ? Math.ceil(count / 2) : count, rule, make });
}

export function hex(b: number[]): string {
  return b.map((v) => v.toString(16).padStart(2, '0')).join(' ');
}

export interface RmSpec {
  pre?: number[];
  op: number[];
  /** The ModRM reg field: an opcode extension, or 'r' for a random register operand. */
  reg: number | 'r';
  kind: Kind;
  width: Width;
  o?: RmOptions;
  /** Immediate size in bytes and its value. */
  imm?: [1 | 2 | 4, number];
  /** Leave the r/m operand as it is (do not draw a new value for it). */
  keep?: boolean;
}

/** Emits prefixes, opcode, ModRM/SIB/displacement and immediate; returns the r/m operand. */
export function rm(x: Insn, s: RmSpec): Rm {
  const o: RmOptions = { width: s.width, ...s.o };
  const kind = s.kind === 'mem16' ? 'mem' : s.kind;
  if (s.kind === 'mem16') o.addr16 = true;
  else if (s.kind === 'mem') o.overrides = o.overrides ?? true;
  let reg: number;
  if (s.reg === 'r') {
    do reg = x.r.int(8); while (reg === ESP && s.width !== 8 && !o.espOk);
    x.set(reg, s.width, operand(x.r, s.width));
  } else reg = s.reg;
  const e = encodeRm(x, reg, kind, o);
  // 0x67 selects the other address size: 16-bit in 32-bit code, 32-bit in 16-bit code.
  const a67 = x.code16 ? s.kind === 'mem' : s.kind === 'mem16';
  const pre = [...(s.pre ?? []), ...(a67 ? [0x67] : []), ...e.prefix];
  x.emit(...pre, ...s.op, ...e.tail);
  if (s.imm) x.imm(s.imm[1], s.imm[0]);
  if (!s.keep) writeRm(x, e.rm, s.width, operand(x.r, s.width));
  // A write through CS raises #GP: the frame of that exception needs the real stack.
  if (e.prefix.includes(0x2e)) x.regs[ESP] = LAYOUT.stack;
  return e.rm;
}

export const KINDS: Kind[] = ['reg', 'mem'];
/** With the 16-bit addressing forms (0x67) too. */
export const KINDS16: Kind[] = ['reg', 'mem', 'mem16'];
export const opsize = (w: Width): number[] => (w === 16 ? [0x66] : []);
export const wname = (w: Width): string => `${w}`;

/** SDM undefined-flag rules, shared by several groups. */
export const RULE = {
  logic: 'AF undefined (OF, CF cleared; SF, ZF, PF per result)',
  shift: 'count 0: flags unaffected; otherwise AF undefined, OF undefined unless the masked count is 1, ' +
    'and for SHL/SAL/SHR CF undefined when the masked count >= the operand size',
  rotate: 'count 0: flags unaffected; OF undefined unless the masked count is 1',
  shxd: 'count 0: nothing changes; AF undefined; OF undefined unless the count is 1; ' +
    'count > operand size (16-bit forms): result and all flags undefined',
  mul: 'SF, ZF, AF, PF undefined',
  div: 'CF, OF, SF, ZF, AF, PF undefined',
  bt: 'OF, SF, AF, PF undefined (ZF unaffected)',
  bsf: 'CF, OF, SF, AF, PF undefined; destination undefined when the source is 0',
  daa: 'OF undefined',
  aaa: 'OF, SF, ZF, PF undefined',
  aam: 'OF, AF, CF undefined',
  bswap16: 'result undefined with a 16-bit operand',
};

export function shiftUf(op: number, w: Width, count: number): number {
  const c = count & 31;
  if (c === 0) return 0;
  let uf = c !== 1 ? OF : 0;
  if (op >= 4) uf |= AF; // shifts (rotates leave AF alone)
  if ((op === 4 || op === 5 || op === 6) && c >= w) uf |= CF;
  return uf;
}

export { AF, CF, OF, PF, SF, ZF, STATUS };
