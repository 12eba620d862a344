/**
 * Memory operands that straddle a 4 KiB page boundary (the window's pages meet at
 * window + 0x1000): a core that splits accesses by page must join the halves right.
 * Intel SDM vol. 3A, 4.1 (paging works per page; an access may touch two).
 */
import { Width, operand, EAX, ECX, EDX, EBX } from './build.js';
import { form, rm, opsize, Kind, RULE, shiftUf } from './form.js';
import { LAYOUT } from './layout.js';

const BOUNDARY = LAYOUT.window + 0x1000;
const h2 = (b: number) => b.toString(16).padStart(2, '0');
const pf = (w: Width) => (w === 16 ? '66 ' : '');

/** A 16-byte region around the boundary with the operand starting 1..w/8-1 bytes before it. */
const across = (w: Width, r: { int(n: number): number }) => ({
  regionAddr: BOUNDARY - 8, regionSize: 16, offset: 8 - 1 - r.int(Math.max(1, w / 8 - 1)),
});

for (const k of ['mem', 'mem16'] as Kind[]) {
  for (const w of [16, 32] as Width[]) {
    for (const [op, mn] of [[0x01, 'add r/m,r'], [0x03, 'add r,r/m'], [0x87, 'xchg r/m,r'], [0x89, 'mov r/m,r'], [0x8b, 'mov r,r/m']] as const) {
      form('page', `${pf(w)}${h2(op)} ${mn} ${w} across a page ${k}`, 24, '', (x) => {
        rm(x, { pre: opsize(w), op: [op], reg: 'r', kind: k, width: w, o: { espOk: true, ...across(w, x.r) } });
      });
    }
    form('page', `${pf(w)}0f b1 cmpxchg r/m,r ${w} across a page ${k}`, 24, '', (x) => {
      x.set(EAX, w, operand(x.r, w));
      rm(x, { pre: opsize(w), op: [0x0f, 0xb1], reg: 'r', kind: k, width: w, o: { espOk: true, avoid: [EAX], ...across(w, x.r) } });
    });
    form('page', `${pf(w)}d1 /4 shl r/m,1 ${w} across a page ${k}`, 24, RULE.shift, (x) => {
      rm(x, { pre: opsize(w), op: [0xd1], reg: 4, kind: k, width: w, o: { ...across(w, x.r) } });
      x.uf = shiftUf(4, w, 1);
    });
  }
  form('page', `0f c7 /1 cmpxchg8b across a page ${k}`, 24, '', (x) => {
    const d = rm(x, { op: [0x0f, 0xc7], reg: 1, kind: k, width: 32, o: { avoid: [EAX, ECX, EDX, EBX], ...across(32, x.r), offset: 1 + x.r.int(7) } });
    if (d.kind === 'mem' && x.r.chance(0.5)) {
      const b = x.mem[d.region].bytes, at = d.offset;
      x.regs[EAX] = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
      x.regs[EDX] = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
    }
  });
}
