/**
 * Data accesses past a segment limit: the 16-bit data segment (limit 0xffff) through
 * 16-bit addresses that put part of the operand beyond 0xffff. Each raises #GP(0) before
 * anything changes (Intel SDM vol. 3A, 5.3: limit checking; 6.15, #GP).
 */
import { Insn, Width, EBX, ECX, EDI, ESI } from './build.js';
import { form } from './form.js';
import { LAYOUT } from './layout.js';

const h2 = (b: number) => b.toString(16).padStart(2, '0');
/** A 16-bit offset that leaves fewer than `size` bytes before the limit. */
const past = (x: Insn, size: number) => 0x10000 - 1 - x.r.int(size - 1);
const hi = (x: Insn, lo: number) => ((x.r.u32() & 0xffff0000) | (lo & 0xffff)) >>> 0;

for (const w of [16, 32] as Width[]) {
  const sz = w / 8;
  const os = w === 16 ? [0x66] : [];
  for (const [opc, mn] of [[0x8b, 'mov r,[bx]'], [0x89, 'mov [bx],r'], [0x03, 'add r,[bx]'], [0x01, 'add [bx],r'], [0xff, 'inc [bx]']] as const) {
    form('limit', `${os.map(h2).join(' ')}${os.length ? ' ' : ''}67 ${h2(opc)} ${mn} past the limit a16`, 16, 'raises #GP(0)', (x) => {
      x.seg16 = true;
      x.regs[EBX] = hi(x, past(x, sz));
      x.emit(...os, 0x67, opc, opc === 0xff ? 0x07 : 0x07 | (x.r.pick([0, 1, 2, 5, 6, 7]) << 3)); // [bx]
    });
  }
  form('limit', `${os.map(h2).join(' ')}${os.length ? ' ' : ''}67 a1 mov acc,moffs16 past the limit a16`, 16, 'raises #GP(0)', (x) => {
    x.seg16 = true;
    x.emit(...os, 0x67, 0xa1).imm(past(x, sz), 2);
  });
  form('limit', `f3 ${os.map(h2).join(' ')}${os.length ? ' ' : ''}67 ${w === 16 ? 'ab rep stosw' : 'ab rep stosd'} past the limit a16`, 16, 'raises #GP(0)', (x) => {
    x.seg16 = true;
    x.regs[EDI] = hi(x, past(x, sz));
    x.regs[ECX] = hi(x, 1 + x.r.int(8));
    x.emit(0xf3, ...os, 0x67, 0xab);
  });
  form('limit', `${os.map(h2).join(' ')}${os.length ? ' ' : ''}67 ad lods past the limit a16`, 16, 'raises #GP(0)', (x) => {
    x.seg16 = true;
    x.regs[ESI] = hi(x, past(x, sz));
    x.emit(...os, 0x67, 0xad);
  });
}

// An expand-down data segment (limit 0x7ff): offsets above the limit are valid, an operand
// that touches 0x7ff or below raises #GP(0) (SDM vol. 3A, 3.4.5.1 and 5.3).
const DOWN = LAYOUT.data - LAYOUT.seg16Base; // 0x800, the first valid offset
for (const w of [16, 32] as Width[]) {
  const sz = w / 8;
  const os = w === 16 ? [0x66] : [];
  for (const [opc, mn] of [[0x8b, 'mov r,[bx]'], [0x89, 'mov [bx],r'], [0x01, 'add [bx],r']] as const) {
    form('limit', `${os.map(h2).join(' ')}${os.length ? ' ' : ''}67 ${h2(opc)} ${mn} expand-down a16`, 32, '', (x) => {
      x.seg16 = true;
      x.expandDown = true;
      const inside = x.r.chance(0.5);
      x.region(LAYOUT.data, x.r.bytes(16));
      x.regs[EBX] = hi(x, inside ? DOWN + x.r.int(8) : DOWN - 1 - x.r.int(sz + 2));
      x.emit(...os, 0x67, opc, 0x07 | (x.r.pick([0, 1, 2, 5, 6, 7]) << 3));
    });
  }
  // REP STOS downwards into the limit: the elements above it are stored, then #GP with
  // EDI and ECX telling how far it got (SDM vol. 2, REP: faults leave the registers so the
  // instruction restarts where it stopped).
  form('limit', `f3 ${os.map(h2).join(' ')}${os.length ? ' ' : ''}67 ab rep stos down into the limit expand-down a16`, 32, '', (x) => {
    x.seg16 = true;
    x.expandDown = true;
    x.regs[8] |= 0x400; // DF
    x.region(LAYOUT.data, x.r.bytes(32));
    x.regs[EDI] = hi(x, DOWN + sz * x.r.int(6));
    x.regs[ECX] = hi(x, 1 + x.r.int(10));
    x.emit(0xf3, ...os, 0x67, 0xab);
  });
}
