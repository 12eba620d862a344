/**
 * ModRM/SIB encoding (Intel SDM vol. 2, 2.1.5, tables 2-1 to 2-3) for the generator. A
 * memory operand is encoded with a random addressing form, and the registers it names are
 * given values that make the effective address land on the chosen target, so every
 * form (disp32, [reg], [reg+disp8/32], SIB with scale, no base, base = index, 16-bit
 * [bx+si] ...) is exercised while the access stays inside the watched window.
 */
import { Insn, Rm, Rng, ESP, EBP } from './build.js';
import { LAYOUT } from './layout.js';

export interface RmOptions {
  /** Registers the addressing must not use (their values are the instruction's inputs). */
  avoid?: number[];
  /** A register operand may be ESP (no stack access and no fault possible). */
  espOk?: boolean;
  /** Memory operand region (default: 8 bytes at LAYOUT.data) and the target offset in it. */
  regionAddr?: number;
  regionSize?: number;
  offset?: number;
  /** Add 0..3 to the offset (misaligned accesses). */
  misalign?: boolean;
  /** 16-bit addressing (0x67): DS/ES become the 16-bit segment at LAYOUT.seg16Base. */
  addr16?: boolean;
  /** Allow segment-override prefixes (all flat in 32-bit addressing). */
  overrides?: boolean;
  /** For 8-bit register operands ESP's number means AH, which is always fine. */
  width?: 8 | 16 | 32;
}

export interface Encoded { prefix: number[]; tail: number[]; rm: Rm }

function le(v: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);
}

export function encodeReg(x: Insn, reg: number, o: RmOptions = {}): Encoded {
  const r = x.r;
  let n: number;
  do n = r.int(8); while (n === ESP && o.width !== 8 && !o.espOk);
  return { prefix: [], tail: [0xc0 | (reg << 3) | n], rm: { kind: 'reg', n } };
}

export function encodeMem(x: Insn, reg: number, o: RmOptions = {}): Encoded {
  const r = x.r;
  const regionAddr = o.regionAddr ?? LAYOUT.data;
  const size = o.regionSize ?? 8;
  const offset = (o.offset ?? 0) + (o.misalign ? r.int(4) : 0);
  const region = x.region(regionAddr, r.bytes(size));
  const target = regionAddr + offset;
  const rm: Rm = { kind: 'mem', region, offset };
  return o.addr16 ? mem16(x, reg, target, rm, o) : mem32(x, reg, target, rm, o);
}

export function encodeRm(x: Insn, reg: number, kind: 'reg' | 'mem', o: RmOptions = {}): Encoded {
  return kind === 'reg' ? encodeReg(x, reg, o) : encodeMem(x, reg, o);
}

function usable(r: Rng, avoid: number[], extra: number[]): number {
  const ok = [0, 1, 2, 3, 4, 5, 6, 7].filter((n) => !avoid.includes(n) && !extra.includes(n));
  return r.pick(ok);
}

function mem32(x: Insn, reg: number, target: number, rm: Rm, o: RmOptions): Encoded {
  const r = x.r;
  const avoid = o.avoid ?? [];
  const prefix = o.overrides && r.chance(0.15) ? [r.pick([0x26, 0x2e, 0x36, 0x3e])] : [];
  const shape = r.int(6);
  const rr = reg << 3;
  if (shape === 0) {
    // [disp32]
    return { prefix, tail: [0x05 | rr, ...le(target, 4)], rm };
  }
  if (shape <= 2) {
    // [base], [base+disp8], [base+disp32]; rm 4 means SIB, rm 5 with mod 0 means disp32
    const mod = r.int(3);
    const base = usable(r, avoid, mod === 0 ? [ESP, EBP] : [ESP]);
    const disp = mod === 0 ? 0 : mod === 1 ? ((r.u32() & 0xff) << 24) >> 24 : r.u32() | 0;
    x.regs[base] = (target - disp) >>> 0;
    const tail = [(mod << 6) | rr | base, ...(mod === 1 ? le(disp, 1) : mod === 2 ? le(disp, 4) : [])];
    return { prefix, tail, rm };
  }
  // SIB
  let mod = r.int(3);
  const scale = r.int(4);
  // A write through CS faults (#GP); keep ESP for the exception frame then.
  const espBase = o.espOk && !prefix.includes(0x2e);
  let base = usable(r, avoid, espBase ? [] : [ESP]);
  const noBase = mod === 0 && (base === EBP || r.chance(0.15));
  if (noBase) base = EBP;
  const index = r.chance(0.2) ? 4 : usable(r, avoid, [ESP]);
  let disp = mod === 1 ? ((r.u32() & 0xff) << 24) >> 24 : mod === 2 || noBase ? r.u32() | 0 : 0;
  const idxVal = index === 4 ? 0 : r.chance(0.5) ? r.u32() : r.int(0x800) - 0x400;
  if (index !== 4) x.regs[index] = idxVal >>> 0;
  const scaled = Math.imul(idxVal, 1 << scale);
  if (noBase) {
    disp = (target - scaled) | 0;
  } else if (index !== 4 && base === index) {
    // base + base*scale + disp: only a disp32 can absorb it
    mod = 2;
    disp = (target - scaled - idxVal) | 0;
  } else {
    x.regs[base] = (target - scaled - disp) >>> 0;
  }
  const sib = (scale << 6) | (index << 3) | base;
  const dispBytes = mod === 1 ? le(disp, 1) : mod === 2 || noBase ? le(disp, 4) : [];
  return { prefix, tail: [(mod << 6) | rr | 4, sib, ...dispBytes], rm };
}

/** 16-bit forms (SDM vol. 2, table 2-1): rm -> registers added. */
const ADDR16: number[][] = [[3, 6], [3, 7], [5, 6], [5, 7], [6], [7], [5], [3]];

function mem16(x: Insn, reg: number, target: number, rm: Rm, o: RmOptions): Encoded {
  const r = x.r;
  const avoid = o.avoid ?? [];
  x.seg16 = true;
  const t16 = (target - LAYOUT.seg16Base) & 0xffff;
  const rr = reg << 3;
  let n: number;
  do n = r.int(8); while (ADDR16[n].some((q) => avoid.includes(q)));
  const mod = n === 6 && r.chance(0.25) ? 0 : r.int(3);
  const regs = mod === 0 && n === 6 ? [] : ADDR16[n];
  // BP-based forms default to SS (flat here); a DS override keeps them in the 16-bit segment.
  const prefix = regs.includes(EBP) ? [0x3e] : [];
  let disp = mod === 1 ? ((r.u32() & 0xff) << 24) >> 24 : mod === 2 ? r.u32() & 0xffff : 0;
  if (regs.length === 0) disp = t16;
  if (regs.length === 2) x.regs[regs[1]] = r.u32();
  if (regs.length > 0) {
    const other = regs.length === 2 ? x.regs[regs[1]] & 0xffff : 0;
    const first = (t16 - other - disp) & 0xffff;
    x.regs[regs[0]] = ((r.u32() & ~0xffff) | first) >>> 0;
  }
  const tail = [(mod << 6) | rr | n, ...(mod === 1 ? le(disp, 1) : mod === 2 || regs.length === 0 ? le(disp, 2) : [])];
  return { prefix, tail, rm };
}

