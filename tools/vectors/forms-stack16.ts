/**
 * The stack instructions on a 16-bit stack segment (B = 0, Intel SDM vol. 3A, 3.4.5: the
 * B flag of SS selects SP): PUSH/POP, PUSHF/POPF, PUSHA/POPA, ENTER/LEAVE, CALL/RET. SP is
 * the stack pointer, so the upper half of ESP is random and must survive.
 */
import { Insn, Width, operand, ESP, EBP, DF, STATUS } from './build.js';
import { form, rm, opsize } from './form.js';
import { LAYOUT } from './layout.js';

const pf = (w: Width) => (w === 16 ? '66 ' : '');
const SP0 = LAYOUT.stack - LAYOUT.seg16Base;
const N = 40;

function onStack16(x: Insn, below = 0x40, above = 0x40): number {
  x.stack16 = true;
  x.regs[ESP] = ((x.r.u32() & 0xffff0000) | SP0) >>> 0;
  return x.region(LAYOUT.stack - below, x.r.bytes(below + above));
}
const k16 = (name: string, count: number, make: (x: Insn) => void) => form('stack16', `${name} stack16`, count, '', make);

for (const w of [16, 32] as Width[]) {
  const sz = w / 8;
  k16(`${pf(w)}50+r push r${w}`, N, (x) => { onStack16(x); x.emit(...opsize(w), 0x50 + x.r.int(8)); });
  k16(`${pf(w)}58+r pop r${w}`, N, (x) => { onStack16(x); x.emit(...opsize(w), 0x58 + x.r.int(8)); });
  k16(`${pf(w)}68 push imm${w}`, N / 2, (x) => { onStack16(x); x.emit(...opsize(w), 0x68).imm(operand(x.r, w), sz as 2 | 4); });
  k16(`${pf(w)}9c pushf`, N / 2, (x) => { onStack16(x); x.emit(...opsize(w), 0x9c); });
  k16(`${pf(w)}9d popf`, N, (x) => {
    const s = onStack16(x);
    const v = (0x202 | (x.r.u32() & (STATUS | DF))) >>> 0;
    for (let i = 0; i < sz; i++) x.mem[s].bytes[0x40 + i] = (v >>> (8 * i)) & 0xff;
    x.emit(...opsize(w), 0x9d);
  });
  k16(`${pf(w)}60 pusha`, N / 2, (x) => { onStack16(x); x.emit(...opsize(w), 0x60); });
  k16(`${pf(w)}61 popa`, N / 2, (x) => { onStack16(x); x.emit(...opsize(w), 0x61); });
  k16(`${pf(w)}c8 enter imm16,imm8`, N, (x) => {
    onStack16(x, 0x110, 0x40);
    const level = x.r.pick([0, 1, 2, 3, 5, 31]);
    // Copied frame pointers below the new frame (see forms-misc.ts); BP is what counts.
    const bp = level > 1 ? SP0 - sz * (level + 1) - sz * x.r.int(4) : SP0 - 0x20 + 2 * x.r.int(16);
    x.regs[EBP] = ((x.r.u32() & 0xffff0000) | bp) >>> 0;
    x.emit(...opsize(w), 0xc8).imm(x.r.int(0x40), 2).imm(level, 1);
  });
  k16(`${pf(w)}c9 leave`, N, (x) => {
    onStack16(x, 0x80, 0x40);
    x.regs[EBP] = ((x.r.u32() & 0xffff0000) | (SP0 - 0x60 + 4 * x.r.int(20))) >>> 0;
    x.emit(...opsize(w), 0xc9);
  });
  k16(`${pf(w)}ff /6 push r/m${w} mem`, N / 2, (x) => {
    onStack16(x);
    rm(x, { pre: opsize(w), op: [0xff], reg: 6, kind: 'mem', width: w, o: { overrides: false, avoid: [EBP, ESP] } }); // [EBP+..] would use SS
  });
  k16(`${pf(w)}8f /0 pop r/m${w} mem`, N / 2, (x) => {
    onStack16(x);
    rm(x, { pre: opsize(w), op: [0x8f], reg: 0, kind: 'mem', width: w, o: { overrides: false, avoid: [EBP, ESP] } }); // [EBP+..] would use SS
  });
}

// CALL rel32 and RET on the 16-bit stack: the return address goes to SS:SP.
const EPI = 48;
k16('e8 call rel32', N, (x) => {
  onStack16(x);
  const t = x.r.chance(0.5) ? 5 + EPI + x.r.int(0x200) : -256 + x.r.int(145);
  x.target = t;
  x.emit(0xe8).imm(t - 5, 4);
});
for (const withImm of [false, true]) {
  k16(withImm ? 'c2 ret imm16' : 'c3 ret', N, (x) => {
    const s = onStack16(x);
    const t = x.r.chance(0.5) ? 3 + EPI + x.r.int(0x200) : -256 + x.r.int(145);
    x.target = t;
    const ret = LAYOUT.code + t;
    for (let i = 0; i < 4; i++) x.mem[s].bytes[0x40 + i] = (ret >>> (8 * i)) & 0xff;
    if (withImm) x.emit(0xc2).imm(x.r.int(0x20), 2);
    else x.emit(0xc3);
  });
}
