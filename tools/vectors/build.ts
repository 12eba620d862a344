/**
 * Building blocks for the vector generator: a seeded random source, operand pools with the
 * edge values, and one instruction under construction (bytes, registers, memory, and the
 * undefined parts of its result per the Intel SDM).
 */
import { LAYOUT } from './layout.js';

export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7, EFLAGS = 8;
export const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
export const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
export const REG8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];

/** EFLAGS bits (Intel SDM vol. 1, 3.4.3). */
export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
export const STATUS = CF | PF | AF | ZF | SF | OF;

export type Width = 8 | 16 | 32;

/** mulberry32: small, fast, and the same on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 <= n < max */
  int(max: number): number { return this.u32() % max; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  bytes(n: number): number[] { return Array.from({ length: n }, () => this.u32() & 0xff); }
}

/** FNV-1a of a string: each form gets its own stream, so adding a form changes no other. */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

const EDGE32 = [0, 1, 2, 3, 0x0f, 0x10, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100, 0x7ffe,
  0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x10000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001,
  0xfffffffe, 0xffffffff, 0x55555555, 0xaaaaaaaa, 0x99999999, 0x09, 0x0a, 0x99, 0x9a, 0xf9, 0xfa];

export function mask(w: Width): number { return w === 32 ? 0xffffffff : (1 << w) - 1; }

/**
 * An operand of width w: edge values (sign boundaries, all ones, BCD digits) in 40% of the
 * draws, small numbers in 10%, uniform otherwise. The bits above w stay random so that a
 * narrow write that spills over is seen.
 */
export function operand(r: Rng, w: Width): number {
  const m = mask(w);
  const x = r.u32();
  let v: number;
  const p = r.int(10);
  if (p < 4) {
    v = r.pick(EDGE32);
    if (r.chance(0.3)) v = (m - v) >>> 0; // mirrored edges: ff..fe, 7f.. from 80.. etc.
  } else if (p < 5) v = r.int(20);
  else v = r.u32();
  return ((x & ~m) | (v & m)) >>> 0;
}

/** Input EFLAGS: bit 1 and IF (user mode cannot clear IF), random status flags and DF. */
export function inputFlags(r: Rng, withDf = true): number {
  return (0x202 | (r.u32() & (STATUS | (withDf ? DF : 0)))) >>> 0;
}

export interface Region { addr: number; bytes: number[] }

/** An undefined part of the result: a register's bits, or bytes of a memory region. */
export type Undefined = { reg: number; mask: number } | { region: number; offset: number; length: number };

export class Insn {
  bytes: number[] = [];
  regs: number[];
  mem: Region[] = [];
  seg16 = false;
  /** Runs in a 16-bit code segment (CS base = layout.code, D = 0); implies seg16. */
  code16 = false;
  /** Runs on a 16-bit stack (SS = the 16-bit data segment at layout.seg16Base, B = 0). */
  stack16 = false;
  /** With seg16: DS/ES are expand-down instead (limit 0x7ff, offsets 0x800-0xffff valid). */
  expandDown = false;
  /** `seg` vectors (CPL 3 with the runner's LDT): SS (with stack16) and DS/ES selectors. */
  stackSel?: number;
  dataSel?: number;
  /** Record SS, DS and ES after the instruction (or at its fault). */
  segs = false;
  /** EFLAGS bits the SDM leaves undefined for these inputs. */
  uf = 0;
  /** Branch forms: where the branch goes, relative to the instruction's first byte. */
  target?: number;
  undef: Undefined[] = [];
  constructor(public r: Rng) {
    this.regs = Array.from({ length: 8 }, () => operand(r, 32));
    this.regs[ESP] = LAYOUT.stack;
    this.regs.push(inputFlags(r));
  }
  emit(...b: number[]): this { this.bytes.push(...b.map((x) => x & 0xff)); return this; }
  imm(v: number, size: 1 | 2 | 4): this {
    for (let i = 0; i < size; i++) this.bytes.push((v >>> (8 * i)) & 0xff);
    return this;
  }
  region(addr: number, bytes: number[]): number {
    this.mem.push({ addr, bytes });
    return this.mem.length - 1;
  }
  /** Reads register n of width w (8-bit: 4..7 are AH..BH). */
  get(n: number, w: Width): number {
    if (w === 8) return n < 4 ? this.regs[n] & 0xff : (this.regs[n - 4] >>> 8) & 0xff;
    return (this.regs[n] & mask(w)) >>> 0;
  }
  set(n: number, w: Width, v: number): void {
    if (w === 8) {
      if (n < 4) this.regs[n] = ((this.regs[n] & ~0xff) | (v & 0xff)) >>> 0;
      else this.regs[n - 4] = ((this.regs[n - 4] & ~0xff00) | ((v & 0xff) << 8)) >>> 0;
    } else this.regs[n] = ((this.regs[n] & ~mask(w)) | (v & mask(w))) >>> 0;
  }
  /** Marks the low bits (width w) of register n as undefined. */
  undefReg(n: number, w: Width): void {
    if (w === 8 && n >= 4) this.undef.push({ reg: n - 4, mask: 0xff00 });
    else this.undef.push({ reg: n, mask: mask(w) });
  }
}

/** A ModRM operand: a register number, or a memory operand in region `region` at `offset`. */
export type Rm = { kind: 'reg'; n: number } | { kind: 'mem'; region: number; offset: number };

export function readRm(x: Insn, rm: Rm, w: Width): number {
  if (rm.kind === 'reg') return x.get(rm.n, w);
  const b = x.mem[rm.region].bytes;
  let v = 0;
  for (let i = w / 8 - 1; i >= 0; i--) v = (v * 256 + b[rm.offset + i]) >>> 0;
  return v >>> 0;
}

export function writeRm(x: Insn, rm: Rm, w: Width, v: number): void {
  if (rm.kind === 'reg') return x.set(rm.n, w, v);
  const b = x.mem[rm.region].bytes;
  for (let i = 0; i < w / 8; i++) b[rm.offset + i] = (v >>> (8 * i)) & 0xff;
}

export function undefRm(x: Insn, rm: Rm, w: Width): void {
  if (rm.kind === 'reg') x.undefReg(rm.n, w);
  else x.undef.push({ region: rm.region, offset: rm.offset, length: w / 8 });
}
