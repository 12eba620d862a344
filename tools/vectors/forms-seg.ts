/**
 * The `seg` group: instructions that load, check or use segments of the runner's LDT at
 * CPL 3 (runner.c, main: entries 0-11, each DPL 3). POP SS / POP ES / LSS / MOV SS and MOV
 * DS with good and bad selectors, on 16- and 32-bit stacks (the stack-pointer increment of
 * POP SS follows the old stack's B bit: Intel SDM vol. 2B, POP); ARPL on read-only and
 * writable data (it writes only when it raises the RPL, vol. 2A, ARPL); LAR, LSL, VERR and
 * VERW on every kind of entry and on selectors past the LDT (vol. 2A, LAR, LSL; vol. 2B,
 * VERR/VERW); loads and stores at the limits of expand-down, read-only and 4 KiB-granular
 * segments, and PUSH/POP at the edge of expand-down and wrapping 16-bit stacks (vol. 3A,
 * 3.4.5.1, 5.3).
 */
import { Insn, Width, EAX, EBX, ESP, operand } from './build.js';
import { form } from './form.js';
import { LAYOUT } from './layout.js';

/** LDT selectors (index << 3 | TI | RPL 3); comments as in runner.c. */
const L = (n: number) => (n << 3) | 7;
export const SEL = {
  data16: L(0), code16: L(1), expDown16: L(2), data32: L(3), top16: L(4), readOnly: L(5),
  expDown32: L(6), notPresent: L(7), execOnly: L(8), code4g: L(9), pages: L(10), roExpDown: L(11),
};
/** Base of the 16-bit stack segment whose offsets 0xf000-0xffff lie in the window. */
const TOP16_BASE = LAYOUT.window + 0x1000 - 0x10000;

/** Selectors to load or check: every LDT entry, other RPLs, null, past the LDT (limit 95). */
function selector(x: Insn): number {
  const p = x.r.int(10);
  if (p < 6) return x.r.pick(Object.values(SEL));
  if (p < 7) return (x.r.pick(Object.values(SEL)) & ~3) | x.r.int(3); // RPL 0-2
  if (p < 8) return x.r.int(4); // null, any RPL
  if (p < 9) return ((12 + x.r.int(20)) << 3) | 4 | x.r.int(4); // past the LDT's limit
  return x.r.pick([SEL.readOnly, SEL.notPresent, SEL.execOnly, SEL.code4g]);
}
const hi16 = (x: Insn, lo: number) => ((x.r.u32() & 0xffff0000) | (lo & 0xffff)) >>> 0;
const le = (v: number, n: number) => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);
const segForm = (name: string, count: number, make: (x: Insn) => void) =>
  form('seg', name, count, '', (x) => { x.segs = true; make(x); });

/**
 * A stack for the K vectors: SS = sel, the stack pointer `sp` (ESP's upper half random on a
 * 16-bit stack), and a region around the top with `top` as the stack's first bytes.
 */
function stack(x: Insn, sel: number, sp: number, top: number[]): void {
  x.stack16 = true;
  x.stackSel = sel;
  const b32 = sel === SEL.data32 || sel === SEL.expDown32;
  const base = sel === SEL.top16 ? TOP16_BASE : LAYOUT.seg16Base;
  x.regs[ESP] = b32 ? sp >>> 0 : hi16(x, sp);
  const lin = base + sp;
  // 16 bytes below and above SP; near the wrap of the 16-bit stack at the window's edge,
  // its last 32 bytes (the CPU must fault or wrap, not touch what follows the window).
  const wrap = sel === SEL.top16 && (sp >= 0xffe0 || sp < 0x10);
  const lo = wrap ? TOP16_BASE + 0xffe0 : lin - 16;
  const end = wrap ? TOP16_BASE + 0x10000 : lin + 16;
  const bytes = x.r.bytes(end - lo);
  top.forEach((b, i) => { if (lin + i >= lo && lin + i < end) bytes[lin + i - lo] = b; });
  x.region(lo, bytes);
}

/** Stack pointers of the POP/LSS vectors: the 16-bit wrap cases first. */
function popStack(x: Insn, w: Width, value: number[]): void {
  const k = x.r.int(6);
  if (k < 3) {
    stack(x, SEL.top16, x.r.pick([0xfffc, 0xfffe, 0xfffe, 0xf800 + 2 * x.r.int(0x300)]), value);
  }
  else if (k < 4) stack(x, SEL.data16, 0x800 + 2 * x.r.int(0x400), value);
  else stack(x, SEL.data32, 0x800 + 4 * x.r.int(0x180) + (w === 16 ? 2 * x.r.int(2) : 0), value);
}

for (const w of [16, 32] as Width[]) {
  const os = w === 16 ? [0x66] : [];
  const pf = w === 16 ? '66 ' : '';
  // POP SS: the selector's word (with random upper bytes for the 32-bit form).
  segForm(`${pf}17 pop ss`, 120, (x) => {
    popStack(x, w, le(((x.r.u32() << 16) | selector(x)) >>> 0, 4));
    x.emit(...os, 0x17);
  });
  segForm(`${pf}07 pop es`, 60, (x) => {
    popStack(x, w, le(((x.r.u32() << 16) | selector(x)) >>> 0, 4));
    x.emit(...os, 0x07);
  });
  // LSS ESP, m16:32 / LSS SP, m16:16 from [disp32] (flat DS), from a 16- or 32-bit stack.
  segForm(`${pf}0f b2 lss ${w === 16 ? 'sp' : 'esp'},m16:${w} mem`, 60, (x) => {
    popStack(x, w, []);
    const off = x.r.pick([0, 0x800 + x.r.int(0x100), 0xfffe, operand(x.r, 32)]);
    x.region(LAYOUT.src, [...le(off, w / 8), ...le(selector(x), 2), ...x.r.bytes(2)]);
    x.emit(...os, 0x0f, 0xb2, 0x25).imm(LAYOUT.src, 4);
  });
}

// POP SS at the top of a 16-bit stack (SP 0xfffc or 0xfffe): SP wraps by the old stack's
// size whatever the new SS's B bit, and ESP's upper half stays.
for (const w of [16, 32] as Width[]) {
  segForm(`${w === 16 ? '66 ' : ''}17 pop ss at the 16-bit wrap`, 40, (x) => {
    const sel = x.r.pick([SEL.data32, SEL.expDown32, SEL.data16, SEL.top16]);
    stack(x, SEL.top16, x.r.pick([0xfffc, 0xfffe]), le(((x.r.u32() << 16) | sel) >>> 0, 4));
    x.emit(...(w === 16 ? [0x66] : []), 0x17);
  });
}

// MOV SS, r16 on a 16-bit stack (the new SS takes effect, ESP is not touched) and MOV DS.
segForm('8e /2 mov ss,r16 reg', 60, (x) => {
  popStack(x, 32, []);
  x.regs[EAX] = hi16(x, selector(x));
  x.emit(0x8e, 0xd0); // mov ss, ax
});
segForm('8e /3 mov ds,r16 reg', 80, (x) => {
  x.regs[EAX] = hi16(x, selector(x));
  x.emit(0x8e, 0xd8); // mov ds, ax
});

// ARPL [ebx], r16 through a read-only or a writable data segment.
for (const [ds, what] of [[SEL.readOnly, 'read-only'], [SEL.data16, 'writable']] as const) {
  segForm(`63 arpl [ebx],r16 ${what} mem`, 80, (x) => {
    x.dataSel = ds;
    const off = 0x800 + x.r.int(0x100);
    x.regs[EBX] = off;
    const reg = x.r.pick([0, 1, 2, 5, 6, 7]);
    x.regs[reg] = hi16(x, x.r.u32());
    x.region(LAYOUT.seg16Base + off, x.r.bytes(2));
    x.emit(0x63, 0x03 | (reg << 3));
  });
}

// LAR, LSL (r32 and r16), VERR, VERW on selectors in a register or in memory ([ebx], flat).
const checks: [number[], string, boolean][] = [
  [[0x0f, 0x02], 'lar', true], [[0x0f, 0x03], 'lsl', true],
  [[0x0f, 0x00], 'verr', false], [[0x0f, 0x00], 'verw', false],
];
for (const [op, mn, hasDest] of checks) {
  for (const kind of ['reg', 'mem'] as const) {
    for (const w of (hasDest ? [16, 32] : [16]) as Width[]) {
      const os = hasDest && w === 16 ? [0x66] : [];
      const bytes = op.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const ext = hasDest ? '' : mn === 'verr' ? ' /4' : ' /5';
      const name = `${os.length ? '66 ' : ''}${bytes}${ext} ${mn} ${kind}`;
      segForm(name, 60, (x) => {
        const regField = hasDest ? x.r.pick([0, 1, 2, 5, 6, 7]) : mn === 'verr' ? 4 : 5;
        const sel = ((x.r.u32() & 0xffff0000) | selector(x)) >>> 0;
        if (kind === 'reg') {
          x.regs[EAX] = sel;
          x.emit(...os, ...op, 0xc0 | (regField << 3)); // r/m = AX
        } else {
          x.regs[EBX] = LAYOUT.data;
          x.region(LAYOUT.data, le(sel, 4));
          x.emit(...os, ...op, 0x03 | (regField << 3)); // [ebx]
        }
      });
    }
  }
}

// Loads and stores at segment limits: expand-down with B = 1 (offsets above 0x7ff valid up
// to 4 GiB), read-only expand-down 16-bit, read-only, readable code as DS.
const limits: [number, string, number[]][] = [
  [SEL.expDown32, 'expand-down B=1', [0x7fc, 0x7fd, 0x7fe, 0x7ff, 0x800, 0x801]],
  [SEL.roExpDown, 'read-only expand-down', [0x7fd, 0x7ff, 0x800, 0x802]],
  [SEL.readOnly, 'read-only', [0x800, 0x9f0]],
  [SEL.code4g, 'readable code', [LAYOUT.data, LAYOUT.data + 0x11]],
];
for (const [ds, what, offs] of limits) {
  for (const [opc, mn] of [[0x8b, 'mov r32,[ebx]'], [0x89, 'mov [ebx],r32']] as const) {
    segForm(`${opc.toString(16)} ${mn} ${what} mem`, 40, (x) => {
      x.dataSel = ds;
      const off = x.r.pick(offs);
      x.regs[EBX] = off;
      const base = ds === SEL.code4g ? 0 : LAYOUT.seg16Base;
      x.region(base + off - 8, x.r.bytes(24));
      x.emit(opc, 0x03 | (x.r.pick([0, 1, 2, 5, 6, 7]) << 3));
    });
  }
}

// PUSH/POP at the edge of an expand-down B = 1 stack (limit 0x7ff) and around the wrap of
// a 16-bit stack (SP 0x0000-0x0003 pushes wrap to 0xfffe; SP 0xfffe-0xffff pops wrap).
for (const w of [16, 32] as Width[]) {
  const os = w === 16 ? [0x66] : [];
  const pf = w === 16 ? '66 ' : '';
  segForm(`${pf}50+r push r${w} stack limits`, 60, (x) => {
    if (x.r.chance(0.5)) stack(x, SEL.expDown32, 0x800 + x.r.int(12), []);
    else stack(x, SEL.top16, x.r.pick([0, 1, 2, 3, 0xfffe, 0xfffc]), []);
    x.emit(...os, 0x50 + x.r.pick([0, 1, 2, 3, 5, 6, 7]));
  });
  segForm(`${pf}58+r pop r${w} stack limits`, 60, (x) => {
    if (x.r.chance(0.5)) stack(x, SEL.expDown32, 0x7fc + x.r.int(8), x.r.bytes(4));
    else stack(x, SEL.top16, x.r.pick([0xfffc, 0xfffd, 0xfffe, 0xffff]), x.r.bytes(4));
    x.emit(...os, 0x58 + x.r.pick([0, 1, 2, 3, 5, 6, 7]));
  });
}
