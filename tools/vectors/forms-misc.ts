/**
 * String instructions with REP/REPE/REPNE (both directions, 32- and 16-bit addressing),
 * data movement (MOVZX/MOVSX, CBW..CDQ, LAHF/SAHF, XCHG, XADD, CMPXCHG, CMPXCHG8B, BSWAP,
 * XLAT), LEA over many addressing forms, the stack (PUSH/POP, PUSHF/POPF, PUSHA/POPA,
 * ENTER/LEAVE) and the flag instructions. Intel SDM vol. 2 instruction pages.
 */
import { Insn, Width, operand, readRm, EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, DF, STATUS } from './build.js';
import { form, rm, opsize, KINDS16, RULE } from './form.js';
import { LAYOUT } from './layout.js';

const h2 = (b: number) => b.toString(16).padStart(2, '0');
const pfx = (w: Width) => (w === 16 ? '66 ' : '');
const R = (w: Width) => `r${w}`;
const RM = (w: Width) => `r/m${w}`;
const SUF = (w: Width) => (w === 8 ? 'b' : w === 16 ? 'w' : 'd');

// String instructions. Buffers: 0x80 bytes around LAYOUT.src and LAYOUT.dst; up to 12
// elements from a start within 4 elements of the middle stay inside.
const STR = [['movs', 0xa4, false], ['cmps', 0xa6, true], ['stos', 0xaa, false], ['lods', 0xac, false], ['scas', 0xae, true]] as const;
const SPAN = 0x40;
for (const [mn, opc, cmp] of STR) {
  const reps = cmp ? [[], [0xf3], [0xf2]] : [[], [0xf3]];
  for (const a16 of [false, true]) {
    for (const w of [8, 16, 32] as Width[]) {
      for (const rep of reps) {
        const rname = rep.length === 0 ? '' : rep[0] === 0xf2 ? 'repne ' : cmp ? 'repe ' : 'rep ';
        const name = `${rep.map(h2).join(' ')}${rep.length ? ' ' : ''}${pfx(w)}${a16 ? '67 ' : ''}${h2(opc + (w === 8 ? 0 : 1))} ${rname}${mn}${SUF(w)}${a16 ? ' a16' : ''}`;
        form('string', name, 30, '', (x) => stringVector(x, [...rep], opc + (w === 8 ? 0 : 1), w, a16, cmp, mn));
      }
    }
  }
}

function stringVector(x: Insn, rep: number[], opc: number, w: Width, a16: boolean, cmp: boolean, mn: string): void {
  const r = x.r;
  const src = r.bytes(2 * SPAN);
  const dst = cmp ? src.slice() : r.bytes(2 * SPAN);
  if (cmp) for (let n = r.int(4); n > 0; n--) dst[r.int(dst.length)] ^= 1 << r.int(8);
  const offS = (r.int(8) - 4) * (w / 8), offD = (r.int(8) - 4) * (w / 8);
  const count = rep.length ? (r.chance(0.1) ? 0 : r.int(13)) : operand(r, 32);
  if (mn === 'scas' && r.chance(0.6)) {
    // Search for a value that is there (or soon will be).
    const at = SPAN + offD + (r.int(8) - 2) * (w / 8);
    let v = 0;
    for (let i = w / 8 - 1; i >= 0; i--) v = v * 256 + dst[Math.max(0, Math.min(dst.length - 1, at + i))];
    x.set(EAX, w, v);
  }
  x.region(LAYOUT.src - SPAN, src);
  x.region(LAYOUT.dst - SPAN, dst);
  const base = a16 ? LAYOUT.seg16Base : 0;
  const low = (v: number) => (a16 ? ((r.u32() & 0xffff0000) | (v & 0xffff)) >>> 0 : v >>> 0);
  x.regs[ESI] = low(LAYOUT.src + offS - base);
  x.regs[EDI] = low(LAYOUT.dst + offD - base);
  x.regs[ECX] = a16 && rep.length ? ((r.u32() & 0xffff0000) | count) >>> 0 : count >>> 0;
  x.seg16 = a16;
  const usesSource = mn !== 'stos' && mn !== 'scas';
  const seg = usesSource && r.chance(0.2) ? [r.pick(a16 ? [0x26, 0x3e] : [0x26, 0x2e, 0x36, 0x3e])] : [];
  x.emit(...rep, ...seg, ...opsize(w), ...(a16 ? [0x67] : []), opc);
}

// MOVZX/MOVSX.
for (const [opc, mn] of [[0xb6, 'movzx'], [0xbe, 'movsx']] as const) {
  for (const k of KINDS16) {
    for (const [dw, sw] of [[32, 8], [32, 16], [16, 8], [16, 16]] as [Width, Width][]) {
      form('move', `${pfx(dw)}0f ${h2(opc + (sw === 16 ? 1 : 0))} ${mn} ${R(dw)},${RM(sw)} ${k}`, 40, '', (x) => {
        rm(x, { pre: opsize(dw), op: [0x0f, opc + (sw === 16 ? 1 : 0)], reg: 'r', kind: k, width: sw, o: { espOk: true } });
      });
    }
  }
}

// CBW/CWDE/CWD/CDQ, LAHF/SAHF.
for (const [pre, opc, mn] of [[[0x66], 0x98, 'cbw'], [[], 0x98, 'cwde'], [[0x66], 0x99, 'cwd'], [[], 0x99, 'cdq'],
  [[], 0x9f, 'lahf'], [[], 0x9e, 'sahf']] as const) {
  form('move', `${pre.map((b) => h2(b) + ' ').join('')}${h2(opc)} ${mn}`, 60, '', (x) => {
    x.set(EAX, 32, operand(x.r, 32));
    if (mn === 'cbw' || mn === 'cwde') x.set(EAX, mn === 'cbw' ? 8 : 16, operand(x.r, mn === 'cbw' ? 8 : 16));
    if (mn === 'cwd') x.set(EAX, 16, operand(x.r, 16));
    x.emit(...pre, opc);
  });
}

// XCHG, XADD, CMPXCHG.
for (const k of KINDS16) {
  for (const w of [8, 16, 32] as Width[]) {
    const b = w === 8 ? 0 : 1;
    form('move', `${pfx(w)}${h2(0x86 + b)} xchg ${RM(w)},${R(w)} ${k}`, 40, '', (x) => {
      rm(x, { pre: opsize(w), op: [0x86 + b], reg: 'r', kind: k, width: w, o: { espOk: true, misalign: true } });
    });
    form('move', `${pfx(w)}0f ${h2(0xc0 + b)} xadd ${RM(w)},${R(w)} ${k}`, 40, '', (x) => {
      const lock = k === 'mem' && x.r.chance(0.3) ? [0xf0] : [];
      rm(x, { pre: [...lock, ...opsize(w)], op: [0x0f, 0xc0 + b], reg: 'r', kind: k, width: w, o: { espOk: true, misalign: true } });
    });
    form('move', `${pfx(w)}0f ${h2(0xb0 + b)} cmpxchg ${RM(w)},${R(w)} ${k}`, 60, '', (x) => {
      const lock = k === 'mem' && x.r.chance(0.3) ? [0xf0] : [];
      x.set(EAX, w, operand(x.r, w));
      const d = rm(x, { pre: [...lock, ...opsize(w)], op: [0x0f, 0xb0 + b], reg: 'r', kind: k, width: w, o: { espOk: true, misalign: true, avoid: [EAX] } });
      if (x.r.chance(0.5)) x.set(EAX, w, readRm(x, d, w));
    });
  }
}
for (const w of [16, 32] as Width[]) {
  form('move', `${pfx(w)}90+r xchg ${w === 16 ? 'ax' : 'eax'},${R(w)}`, 60, '', (x) => {
    const n = 1 + x.r.int(7);
    x.regs[n] = operand(x.r, 32);
    x.emit(...opsize(w), 0x90 + n);
  });
}
for (const k of ['mem', 'mem16'] as const) form('move', `0f c7 /1 cmpxchg8b m64 ${k}`, 120, '', (x) => {
  const lock = x.r.chance(0.3) ? [0xf0] : [];
  const d = rm(x, { pre: lock, op: [0x0f, 0xc7], reg: 1, kind: k, width: 32, o: { avoid: [EAX, ECX, EDX, EBX], misalign: true, regionSize: 12 } });
  if (d.kind === 'mem' && x.r.chance(0.5)) {
    const b = x.mem[d.region].bytes;
    const at = d.offset;
    x.regs[EAX] = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
    x.regs[EDX] = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
  }
});
form('move', '0f c7 /1 cmpxchg8b reg', 16, 'register operand: #UD', (x) => {
  rm(x, { op: [0x0f, 0xc7], reg: 1, kind: 'reg', width: 32 });
});
form('move', '0f c8+r bswap r32', 80, '', (x) => {
  x.emit(0x0f, 0xc8 + x.r.int(8));
});
form('move', '66 0f c8+r bswap r16', 24, RULE.bswap16, (x) => {
  const n = x.r.int(8);
  x.emit(0x66, 0x0f, 0xc8 + n);
  x.undefReg(n, 16);
});
form('move', 'd7 xlat', 60, '', (x) => {
  x.region(LAYOUT.data, x.r.bytes(256));
  x.regs[EBX] = LAYOUT.data;
  x.emit(0xd7);
});
form('move', '67 d7 xlat a16', 40, '', (x) => {
  // DS:[BX + AL] with 16-bit addressing; the upper half of EBX is ignored.
  x.region(LAYOUT.data, x.r.bytes(256));
  x.regs[EBX] = ((x.r.u32() & 0xffff0000) | (LAYOUT.data - LAYOUT.seg16Base)) >>> 0;
  x.seg16 = true;
  x.emit(0x67, 0xd7);
});

// LEA: random ModRM/SIB/displacement with random registers (no memory is touched).
for (const a16 of [false, true]) {
  for (const w of [16, 32] as Width[]) {
    form('lea', `${pfx(w)}${a16 ? '67 ' : ''}8d lea ${R(w)},m${a16 ? '16' : '32'}`, 500, '', (x) => {
      const r = x.r;
      if (r.chance(0.5)) x.regs[ESP] = operand(r, 32);
      const mod = r.int(3), reg = r.int(8), n = r.int(8);
      const bytes = [...opsize(w), ...(a16 ? [0x67] : []), 0x8d, (mod << 6) | (reg << 3) | n];
      let disp = mod === 1 ? 1 : mod === 2 ? (a16 ? 2 : 4) : 0;
      if (a16 && mod === 0 && n === 6) disp = 2;
      if (!a16 && n === 4) {
        const sib = r.u32() & 0xff;
        bytes.push(sib);
        if (mod === 0 && (sib & 7) === 5) disp = 4;
      }
      if (!a16 && mod === 0 && n === 5) disp = 4;
      x.emit(...bytes).imm(operand(r, 32), disp as 1 | 2 | 4);
    });
  }
}

// The stack: ESP = LAYOUT.stack; each form records the stack bytes it can reach.
const stackRegion = (x: Insn, below = 0x20, above = 0x20) =>
  x.region(LAYOUT.stack - below, x.r.bytes(below + above));
const put = (x: Insn, region: number, addr: number, v: number, size: number) => {
  for (let i = 0; i < size; i++) x.mem[region].bytes[addr - x.mem[region].addr + i] = (v >>> (8 * i)) & 0xff;
};
for (const w of [16, 32] as Width[]) {
  const sz = w / 8;
  form('stack', `${pfx(w)}9c pushf`, 60, '', (x) => { stackRegion(x); x.emit(...opsize(w), 0x9c); });
  form('stack', `${pfx(w)}9d popf`, 120, 'only arithmetic flags, DF, IF=1 and reserved bits are popped', (x) => {
    const s = stackRegion(x);
    const v = (0x202 | (x.r.u32() & (STATUS | DF)) | (x.r.chance(0.3) ? x.r.u32() & 0x8028 : 0)) >>> 0;
    put(x, s, LAYOUT.stack, v, sz);
    x.emit(...opsize(w), 0x9d);
  });
  if (w === 32) {
    // EFLAGS.ID (bit 21) can be toggled at any privilege: how software detects CPUID
    // (SDM vol. 1, 3.4.3.3, and vol. 2, CPUID).
    form('stack', '9d popf with ID', 40, 'ID is popped too (it can be set and cleared at any CPL)', (x) => {
      const s = stackRegion(x);
      x.regs[8] = (x.regs[8] | (x.r.chance(0.5) ? 0x200000 : 0)) >>> 0;
      const v = (0x202 | (x.r.u32() & (STATUS | DF)) | (x.r.chance(0.5) ? 0x200000 : 0)) >>> 0;
      put(x, s, LAYOUT.stack, v, 4);
      x.emit(0x9d);
    });
  }
  form('stack', `${pfx(w)}60 pusha`, 40, '', (x) => { stackRegion(x, 0x28, 0x08); x.emit(...opsize(w), 0x60); });
  form('stack', `${pfx(w)}61 popa`, 40, '', (x) => { stackRegion(x, 0x08, 0x28); x.emit(...opsize(w), 0x61); });
  form('stack', `${pfx(w)}c8 enter imm16,imm8`, 120, '', (x) => {
    stackRegion(x, 0x110, 0x40);
    const size = x.r.chance(0.2) ? x.r.pick([0, 0xffff, 0x8000, 0x7fff, 1]) : x.r.int(0x80);
    const level = x.r.chance(0.7) ? x.r.pick([0, 1, 2, 3, 4, 7, 31, 32, 33, 63, 255]) : x.r.int(256);
    // The old frame pointers ENTER copies ([EBP - sz], [EBP - 2 sz] ...) lie below the new
    // frame it pushes: where they overlap, a CPU interrupted in mid-instruction restarts
    // ENTER over what it already wrote, and the result is not repeatable (seen on this host).
    const l = level & 31;
    x.regs[EBP] = l > 1 ? LAYOUT.stack - sz * (l + 1) - sz * x.r.int(4) : LAYOUT.stack - 0x40 + 4 * x.r.int(16);
    x.emit(...opsize(w), 0xc8).imm(size, 2).imm(level, 1);
  });
  form('stack', `${pfx(w)}c9 leave`, 60, '', (x) => {
    stackRegion(x, 0x80, 0x40);
    x.regs[EBP] = LAYOUT.stack - 0x80 + sz * x.r.int(0xa0 / sz);
    x.emit(...opsize(w), 0xc9);
  });
  form('stack', `${pfx(w)}50+r push ${R(w)}`, 60, '', (x) => { stackRegion(x); x.emit(...opsize(w), 0x50 + x.r.int(8)); });
  form('stack', `${pfx(w)}58+r pop ${R(w)}`, 60, '', (x) => { stackRegion(x); x.emit(...opsize(w), 0x58 + x.r.int(8)); });
  form('stack', `${pfx(w)}68 push imm${w}`, 30, '', (x) => { stackRegion(x); x.emit(...opsize(w), 0x68).imm(operand(x.r, w), sz as 2 | 4); });
  form('stack', `${pfx(w)}6a push simm8`, 30, '', (x) => { stackRegion(x); x.emit(...opsize(w), 0x6a).imm(operand(x.r, 8), 1); });
  for (const k of ['mem', 'mem16'] as const) {
    form('stack', `${pfx(w)}ff /6 push ${RM(w)} ${k}`, 40, '', (x) => {
      stackRegion(x);
      rm(x, { pre: opsize(w), op: [0xff], reg: 6, kind: k, width: w, o: { misalign: true } });
    });
    form('stack', `${pfx(w)}8f /0 pop ${RM(w)} ${k}`, 40, '', (x) => {
      stackRegion(x);
      rm(x, { pre: opsize(w), op: [0x8f], reg: 0, kind: k, width: w, o: { misalign: true } });
    });
  }
}

for (const [opc, mn] of [[0xf8, 'clc'], [0xf9, 'stc'], [0xf5, 'cmc'], [0xfc, 'cld'], [0xfd, 'std']] as const) {
  form('flags', `${h2(opc)} ${mn}`, 40, '', (x) => { x.emit(opc); });
}

