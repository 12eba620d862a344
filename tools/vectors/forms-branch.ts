/**
 * Near control transfers: Jcc (rel8, rel32), JMP and CALL (rel, r/m32), RET and RET imm16,
 * LOOP/LOOPE/LOOPNE and JECXZ (with 0x67: CX). Each vector names a target; the runner puts
 * a second exit there and reports where EIP went. Intel SDM vol. 2: Jcc, JMP, CALL, RET,
 * LOOP/LOOPcc, JCXZ/JECXZ. Operand-size 16 forms truncate EIP to 16 bits, which leaves the
 * fixed code address, so they are not captured.
 */
import { Insn, Width, writeRm, ECX, ESP } from './build.js';
import { form, rm, Kind } from './form.js';
import { LAYOUT } from './layout.js';

const h2 = (b: number) => b.toString(16).padStart(2, '0');
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
/** The runner's epilogue is at most this long; the prologue sits in the 64 bytes before the code. */
const EPI = 48;

/** A target clear of the prologue, the instruction and its fall-through exit. */
function target(x: Insn, len: number, rel8: boolean): number {
  const r = x.r;
  if (r.chance(0.5)) return rel8 ? len + EPI + r.int(128 - EPI) : len + EPI + r.int(0x400 - 2 * EPI - len);
  return rel8 ? len - 128 + r.int(-112 - (len - 128) + 1) : -256 + r.int(256 - 112 + 1);
}

const stack = (x: Insn) => x.region(LAYOUT.stack - 0x20, x.r.bytes(0x40));

function rel(x: Insn, bytes: number[], size: 1 | 4): void {
  const len = bytes.length + size;
  const t = target(x, len, size === 1);
  x.target = t;
  x.emit(...bytes).imm(t - len, size);
}

for (let cc = 0; cc < 16; cc++) {
  form('branch', `${h2(0x70 + cc)} j${CC[cc]} rel8`, 40, '', (x) => rel(x, [0x70 + cc], 1));
  form('branch', `0f ${h2(0x80 + cc)} j${CC[cc]} rel32`, 40, '', (x) => rel(x, [0x0f, 0x80 + cc], 4));
}
form('branch', 'eb jmp rel8', 30, '', (x) => rel(x, [0xeb], 1));
form('branch', 'e9 jmp rel32', 30, '', (x) => rel(x, [0xe9], 4));
form('branch', 'e8 call rel32', 40, '', (x) => { stack(x); rel(x, [0xe8], 4); });

// LOOPNE/LOOPE/LOOP/JECXZ: ECX (CX with 0x67) of 0, 1, 2 or anything.
for (const [opc, mn] of [[0xe0, 'loopne'], [0xe1, 'loope'], [0xe2, 'loop'], [0xe3, 'jecxz']] as const) {
  for (const a16 of [false, true]) {
    const name = `${a16 ? '67 ' : ''}${h2(opc)} ${a16 && opc === 0xe3 ? 'jcxz' : mn} rel8${a16 ? ' a16' : ''}`;
    form('branch', name, 60, '', (x) => {
      const c = x.r.chance(0.6) ? x.r.pick([0, 1, 2, 0x10000, 0x10001, 0xffff]) : x.r.u32();
      x.regs[ECX] = a16 ? ((x.r.u32() & 0xffff0000) | (c & 0xffff)) >>> 0 : c >>> 0;
      rel(x, a16 ? [0x67, opc] : [opc], 1);
    });
  }
}

// RET and RET imm16: the return address on the stack.
for (const withImm of [false, true]) {
  form('branch', withImm ? 'c2 ret imm16' : 'c3 ret', 40, '', (x) => {
    const s = stack(x);
    const len = withImm ? 3 : 1;
    const t = target(x, len, false);
    x.target = t;
    writeRm(x, { kind: 'mem', region: s, offset: 0x20 }, 32, LAYOUT.code + t);
    if (withImm) x.emit(0xc2).imm(x.r.chance(0.3) ? x.r.pick([0, 4, 0x7ffc, 0xfffc, 0xffff]) : x.r.int(0x40), 2);
    else x.emit(0xc3);
  });
}

// JMP r/m32 (FF /4) and CALL r/m32 (FF /2): the target in a register or in memory.
for (const [reg, mn] of [[4, 'jmp'], [2, 'call']] as const) {
  for (const k of ['reg', 'mem', 'mem16'] as Kind[]) {
    form('branch', `ff /${reg} ${mn} r/m32 ${k}`, 40, '', (x) => {
      if (reg === 2) stack(x);
      // Encode first (the length decides nothing here: the target is absolute).
      const d = rm(x, { op: [0xff], reg, kind: k, width: 32 as Width, keep: true, o: { avoid: [ESP] } });
      const t = target(x, x.bytes.length, false);
      x.target = t;
      if (d.kind === 'reg' && d.n === ESP) throw new Error('ESP as a branch target register');
      writeRm(x, d, 32, LAYOUT.code + t);
    });
  }
}

