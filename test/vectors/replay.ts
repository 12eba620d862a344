/**
 * Replays captured instruction vectors on a `Core` (bindings/core/types.ts): flat 32-bit
 * protected mode at CPL 0 (CR0.PE=1, no paging), CS/DS/ES/SS/FS/GS base 0 limit 4 GiB, the
 * instruction at layout.code followed by HLT, and an IDT whose 32 exception gates each lead
 * to a HLT of their own, so the EIP after the HLT tells how the instruction ended.
 */
import type { Core, Segment } from '../../bindings/core/types.js';
import {
  bytesOf, Header, Layout, outputs, REGS, regionOut, undefinedByte, undefinedRegMask, Vector,
} from './fixtures.js';

/** The part of the core's contract the replay uses. */
export type ReplayCore = Pick<Core, 'writePhys' | 'readPhys' | 'setTable' | 'setSegment' | 'setRegs' | 'getRegs' | 'run'>;

export const MACHINE = {
  ramBytes: 4 << 20,
  gdt: 0x0800,
  idt: 0x1000,
  /** Handler for vector n: a HLT at handlers + 4n. */
  handlers: 0x1800,
  cr0: 0x00000011, // PE, ET (SDM vol. 3A, 2.5)
  /** Page directory and the one page table that maps the 4 MiB of RAM, when paging is on. */
  pd: 0x3000,
  pt: 0x4000,
  /** Ring-3 replay (`seg` group): the LDT, the TSS and the top of the ring-0 stack. */
  ldt: 0x5000,
  tss: 0x5800,
  stack0: 0x7000,
};
const CR0_PG = 0x80000000, CR0_WP = 0x10000;
/** PDE/PTE bits (SDM vol. 3A, 4.3, tables 4-5 and 4-6): present, writable, user. */
const P_RW_US = 0x7;

const HLT = 0xf4;
const INT3 = 0xcc;
const CODE_BEFORE = 0x100, CODE_AFTER = 0x400;
const FILL = 0xa5;
const RF = 1 << 16;
/** Exceptions that push an error code (SDM vol. 3A, 6.13, table 6-1). */
const WITH_ERROR = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

/** Segment access rights in the VMCS format (SDM vol. 3C, 25.4.1): type, S, DPL, P, D/B, G. */
const CODE32: Segment = { selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc09b };
const DATA32: Segment = { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc093 };
/** 16-bit code segment at the code address for the `c` vectors (D = 0, byte granular). */
const code16 = (layout: Layout): Segment => ({ selector: 0x20, base: layout.code, limit: 0xffff, access: 0x009b });

/** An 8-byte segment descriptor (SDM vol. 3A, 3.4.5, figure 3-8). */
function descriptor(base: number, limit: number, access: number, flags: number): number[] {
  return [limit & 0xff, (limit >>> 8) & 0xff, base & 0xff, (base >>> 8) & 0xff, (base >>> 16) & 0xff, access,
    (flags << 4) | ((limit >>> 16) & 0xf), (base >>> 24) & 0xff];
}

/**
 * The `seg` group runs at CPL 3 as it was captured: the capture's LDT as the kernel stored
 * it, the flat user CS and SS at the capture's selectors (DPL 3, base 0, 4 GiB), and a TSS
 * whose ring-0 stack takes the exception frames. At CPL 3 the HLT after the instruction
 * raises #GP(0) (SDM vol. 2A, HLT), which ends a vector that did not fault.
 */
export interface Ring3 { ldt: Uint8Array; flat: { cs: number; ss: number } }
export function ring3Of(h: Header): Ring3 | undefined {
  if (!h.ldt || !h.flat) return undefined;
  return { ldt: Uint8Array.from(h.ldt.flatMap((e) => [...bytesOf(e)])), flat: h.flat };
}
const LDT_SEL = 0x40;

/** The segment-cache form of an 8-byte descriptor (SDM vol. 3A, 3.4.5; access in the VMCS
 *  format of SDM vol. 3C, 25.4.1: bits 40-47 and 52-55). */
export function segmentOf(selector: number, d: Uint8Array): Segment {
  const base = (d[2] | (d[3] << 8) | (d[4] << 16) | (d[7] << 24)) >>> 0;
  let limit = d[0] | (d[1] << 8) | ((d[6] & 0xf) << 16);
  if (d[6] & 0x80) limit = ((limit << 12) | 0xfff) >>> 0;
  return { selector, base, limit, access: d[5] | ((d[6] & 0xf0) << 8) };
}

/**
 * Writes the GDT, IDT and handlers and sets the control state that does not change per
 * vector. With `paging`, 32-bit paging maps the RAM 1:1 with 4 KiB pages (the capture ran
 * with paging too, so results must not change; the core's TLB and walks are exercised).
 * With `ring3`, the GDT, LDT and TSS of the ring-3 replay instead.
 */
export function prepare(core: ReplayCore, layout: Layout, paging = false, ring3?: Ring3): void {
  const gdt = ring3 ? ring3Gdt(ring3) : [
    ...descriptor(0, 0, 0, 0),
    ...descriptor(0, 0xfffff, 0x9b, 0xc), // 0x08 code, execute/read, 32-bit, 4 KiB granularity
    ...descriptor(0, 0xfffff, 0x93, 0xc), // 0x10 data, read/write
    ...descriptor(layout.seg16Base, 0xffff, 0x93, 0x0), // 0x18 16-bit data for the 0x67 forms
    ...descriptor(layout.code, 0xffff, 0x9b, 0x0), // 0x20 16-bit code for the `c` vectors
    ...descriptor(layout.seg16Base, 0x7ff, 0x97, 0x0), // 0x28 expand-down 16-bit data (`d`)
  ];
  core.writePhys(MACHINE.gdt, Uint8Array.from(gdt));
  core.setTable('gdtr', { base: MACHINE.gdt, limit: gdt.length - 1 });
  const idt: number[] = [];
  for (let v = 0; v < 32; v++) {
    const off = MACHINE.handlers + 4 * v;
    // 32-bit interrupt gate, DPL 0, present (SDM vol. 3A, 6.11, figure 6-2)
    idt.push(off & 0xff, (off >>> 8) & 0xff, 0x08, 0x00, 0x00, 0x8e, (off >>> 16) & 0xff, (off >>> 24) & 0xff);
  }
  core.writePhys(MACHINE.idt, Uint8Array.from(idt));
  core.setTable('idtr', { base: MACHINE.idt, limit: idt.length - 1 });
  core.writePhys(MACHINE.handlers, new Uint8Array(32 * 4).fill(HLT));
  if (paging) {
    const pd = new DataView(new ArrayBuffer(4096));
    pd.setUint32(0, MACHINE.pt | P_RW_US, true);
    const pt = new DataView(new ArrayBuffer(4096));
    for (let i = 0; i < 1024 && i * 4096 < MACHINE.ramBytes; i++) pt.setUint32(4 * i, (i * 4096) | P_RW_US, true);
    core.writePhys(MACHINE.pd, new Uint8Array(pd.buffer));
    core.writePhys(MACHINE.pt, new Uint8Array(pt.buffer));
  }
  core.setRegs({ cr0: paging ? MACHINE.cr0 | CR0_PG | CR0_WP : MACHINE.cr0, cr2: 0, cr3: paging ? MACHINE.pd : 0, cr4: 0, dr7: 0x400 });
  if (ring3) {
    core.writePhys(MACHINE.ldt, ring3.ldt);
    const limit = ring3.ldt.length - 1;
    core.setSegment('ldtr', { selector: LDT_SEL, base: MACHINE.ldt, limit, access: 0x82 });
    // 32-bit TSS: ESP0 at 4, SS0 at 8 (SDM vol. 3A, 7.2.1, figure 7-2).
    const tss = new DataView(new ArrayBuffer(0x68));
    tss.setUint32(4, MACHINE.stack0, true);
    tss.setUint32(8, 0x10, true);
    core.writePhys(MACHINE.tss, new Uint8Array(tss.buffer));
    core.setSegment('tr', { selector: 0, base: MACHINE.tss, limit: 0x67, access: 0x8b });
    return;
  }
  core.setSegment('ldtr', { selector: 0, base: 0, limit: 0, access: 0x10000 });
  core.setSegment('tr', { selector: 0, base: 0, limit: 0x67, access: 0x8b });
}

/** GDT of the ring-3 replay: ring-0 code 0x08 and data 0x10, the flat user CS and SS at
 *  the capture's indexes, the LDT's descriptor at LDT_SEL. */
function ring3Gdt(r: Ring3): number[] {
  const n = Math.max(r.flat.cs >> 3, r.flat.ss >> 3, LDT_SEL >> 3) + 1;
  const gdt = new Array<number>(8 * n).fill(0);
  const put = (sel: number, d: number[]) => gdt.splice(sel & ~7, 8, ...d);
  put(0x08, descriptor(0, 0xfffff, 0x9b, 0xc));
  put(0x10, descriptor(0, 0xfffff, 0x93, 0xc));
  put(r.flat.cs, descriptor(0, 0xfffff, 0xfb, 0xc)); // DPL 3
  put(r.flat.ss, descriptor(0, 0xfffff, 0xf3, 0xc));
  put(LDT_SEL, descriptor(MACHINE.ldt, r.ldt.length - 1, 0x82, 0));
  if (gdt.length !== 8 * n) throw new Error('ring-3 GDT: overlapping selectors');
  return gdt;
}

const hex = (n: number, w = 8) => (n >>> 0).toString(16).padStart(w, '0');
const FLAG_NAMES: [number, string][] = [[0x1, 'CF'], [0x4, 'PF'], [0x10, 'AF'], [0x40, 'ZF'], [0x80, 'SF'], [0x100, 'TF'],
  [0x200, 'IF'], [0x400, 'DF'], [0x800, 'OF'], [0x10000, 'RF']];
export const flagNames = (bits: number) => FLAG_NAMES.filter(([b]) => bits & b).map(([, n]) => n).join(',') || hex(bits);

/**
 * Runs one vector; returns the differences ('' when the core agrees with the CPU). When
 * `undefinedSeen` is given, it receives whether the masked (undefined) EFLAGS bits also
 * equal this CPU's: information only, Intel and AMD differ there.
 */
export function replayVector(core: ReplayCore, v: Vector, layout: Layout, undefinedSeen?: (same: boolean) => void): string {
  const window = new Uint8Array(layout.windowSize).fill(FILL);
  for (const [addr, input] of v.m) window.set(bytesOf(input), addr - layout.window);
  core.writePhys(layout.window, window);
  const insn = bytesOf(v.b);
  // INT3 around the instruction, so a stray branch shows as exception 3.
  const code = new Uint8Array(CODE_BEFORE + CODE_AFTER).fill(INT3);
  code.set(insn, CODE_BEFORE);
  code[CODE_BEFORE + insn.length] = HLT;
  if (v.t !== undefined) code[CODE_BEFORE + v.t] = HLT;
  core.writePhys(layout.code - CODE_BEFORE, code);
  const data: Segment = !v.s ? DATA32
    : v.d ? { selector: 0x28, base: layout.seg16Base, limit: 0x7ff, access: 0x0097 } // expand-down: 0x800-0xffff
      : { selector: 0x18, base: layout.seg16Base, limit: 0xffff, access: 0x0093 };
  const cs = v.c ? code16(layout) : CODE32;
  // EIP values of 16-bit code are offsets from its segment base (the code address).
  const eipBase = v.c ? 0 : layout.code;
  core.setSegment('cs', cs);
  // The 16-bit stack (`k`): the 16-bit data segment as SS, B = 0, so SP is the pointer.
  core.setSegment('ss', v.k ? { selector: 0x18, base: layout.seg16Base, limit: 0xffff, access: 0x0093 } : DATA32);
  core.setSegment('ds', data);
  core.setSegment('es', data);
  core.setSegment('fs', DATA32);
  core.setSegment('gs', DATA32);
  const i = v.i;
  core.setRegs({ eax: i[0], ecx: i[1], edx: i[2], ebx: i[3], esp: i[4], ebp: i[5], esi: i[6], edi: i[7], eflags: i[8], eip: eipBase });

  let exit = core.run(1000);
  for (let n = 0; n < 20 && exit.reason === 'budget'; n++) exit = core.run(1000);
  if (exit.reason !== 'hlt') return `run ended with ${JSON.stringify(exit)}, not at a HLT`;
  const r = core.getRegs();
  const got = [r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi].map((x) => x >>> 0);
  const eip = r.eip >>> 0;
  const diffs: string[] = [];
  const want = outputs(v);

  let vector: number | undefined;
  const ends = v.t === undefined ? [insn.length] : [insn.length, v.t];
  if (ends.some((e) => eip === eipBase + e + 1)) vector = undefined;
  else if (eip > MACHINE.handlers && eip <= MACHINE.handlers + 4 * 32 && (eip - MACHINE.handlers - 1) % 4 === 0) vector = (eip - MACHINE.handlers - 1) / 4;
  else return `stopped at EIP ${hex(eip)}: neither after the instruction nor in an exception handler`;
  if (vector !== v.x?.[0]) {
    return `${vector === undefined ? 'no exception' : `exception ${vector}`}, the CPU ${v.x ? `raised exception ${v.x[0]}` : 'raised none'}`;
  }
  if (v.e !== undefined && vector === undefined && eip !== eipBase + v.e + 1) {
    const taken = eip === eipBase + (v.t ?? -1) + 1;
    diffs.push(`${taken ? 'branched' : 'fell through'}, the CPU ${taken ? 'fell through' : 'branched'}`);
  }

  // The bytes the core may have written outside the regions: an exception frame.
  let frameLo = 0, frameHi = 0;
  if (v.x) {
    const hasErr = WITH_ERROR.has(v.x[0]);
    const espWant = (want[4] - 12 - (hasErr ? 4 : 0)) >>> 0;
    if (got[4] !== espWant) diffs.push(`esp ${hex(got[4])} after the exception, want ${hex(espWant)} (frame at CPL 0)`);
    frameLo = espWant; frameHi = want[4] >>> 0;
    const f = core.readPhys(espWant, frameHi - frameLo);
    const dw = (k: number) => (f[4 * k] | (f[4 * k + 1] << 8) | (f[4 * k + 2] << 16) | (f[4 * k + 3] << 24)) >>> 0;
    const base = hasErr ? 1 : 0;
    if (hasErr && dw(0) !== v.x[1] >>> 0) diffs.push(`error code ${hex(dw(0))}, want ${hex(v.x[1])}`);
    if (dw(base) !== ((eipBase + v.x[2]) >>> 0)) diffs.push(`saved EIP ${hex(dw(base))}, want ${hex(eipBase + v.x[2])} (precise fault)`);
    if ((dw(base + 1) & 0xffff) !== cs.selector) diffs.push(`saved CS ${hex(dw(base + 1), 4)}, want ${hex(cs.selector, 4)}`);
    const fl = dw(base + 2);
    if (((fl ^ want[8]) & ~RF) !== 0) diffs.push(`saved EFLAGS ${hex(fl)}, want ${hex(want[8])} (${flagNames((fl ^ want[8]) & ~RF)})`);
  } else {
    const uf = v.uf ?? 0;
    if (uf) undefinedSeen?.((((r.eflags >>> 0) ^ want[8]) & uf) === 0);
    const d = ((r.eflags >>> 0) ^ want[8]) & ~uf;
    if (d) diffs.push(`eflags ${hex(r.eflags)}, want ${hex(want[8])} (${flagNames(d)} differ${uf ? `; undefined ${flagNames(uf)} masked` : ''})`);
  }
  for (let k = 0; k < 8; k++) {
    if (v.x && k === 4) continue;
    const m = ~undefinedRegMask(v, k);
    if (((got[k] ^ want[k]) & m) !== 0) diffs.push(`${REGS[k]} ${hex(got[k])}, want ${hex(want[k])}`);
  }
  compareMemory(core, v, layout, (a) => a >= frameLo && a < frameHi, diffs);
  return diffs.join('; ');
}


/** Compares the vector's regions and the rest of the window with the core's memory; bytes
 *  for which `inFrame` holds (an exception frame) are skipped. */
function compareMemory(core: ReplayCore, v: Vector, layout: Layout, inFrame: (a: number) => boolean,
  diffs: string[]): void {
  const out = core.readPhys(layout.window, layout.windowSize);
  v.m.forEach((m, k) => {
    const bytes = bytesOf(regionOut(m));
    for (let b = 0; b < bytes.length; b++) {
      const a = m[0] + b;
      if (inFrame(a) || undefinedByte(v, k, b)) continue;
      if (out[a - layout.window] !== bytes[b]) {
        diffs.push(`memory ${hex(a)} = ${hex(out[a - layout.window], 2)}, want ${hex(bytes[b], 2)}`);
        break;
      }
    }
  });
  const declared = new Uint8Array(layout.windowSize);
  for (const [ra, ri] of v.m) declared.fill(1, ra - layout.window, ra - layout.window + ri.length / 2);
  for (let a = 0; a < layout.windowSize; a++) {
    if (out[a] !== FILL && !declared[a] && !inFrame(layout.window + a)) {
      diffs.push(`memory ${hex(layout.window + a)} outside the operands changed to ${hex(out[a], 2)}`);
      break;
    }
  }
}

/**
 * Runs one vector of the ring-3 replay (see Ring3); returns the differences ('' when the
 * core agrees with the CPU). Every run ends in an exception handler: the instruction's own
 * fault, or the #GP(0) of the HLT after it, whose frame then holds the final ESP, SS and
 * EFLAGS.
 */
export type Ring3Core = ReplayCore & Pick<Core, 'getSegment'>;
export function replayRing3Vector(core: Ring3Core, v: Vector, layout: Layout, ring3: Ring3): string {
  const window = new Uint8Array(layout.windowSize).fill(FILL);
  for (const [addr, input] of v.m) window.set(bytesOf(input), addr - layout.window);
  core.writePhys(layout.window, window);
  core.writePhys(MACHINE.ldt, ring3.ldt);
  const insn = bytesOf(v.b);
  const code = new Uint8Array(CODE_BEFORE + CODE_AFTER).fill(INT3);
  code.set(insn, CODE_BEFORE);
  code[CODE_BEFORE + insn.length] = HLT;
  core.writePhys(layout.code - CODE_BEFORE, code);
  const flat = (selector: number, access: number): Segment =>
    ({ selector, base: 0, limit: 0xffffffff, access });
  const ldtSeg = (sel: number) => segmentOf(sel, ring3.ldt.subarray(sel & ~7, (sel & ~7) + 8));
  const userSs = flat(ring3.flat.ss, 0xc0f3);
  const ss = v.k ? ldtSeg(v.ss ?? 0x07) : userSs;
  const data = v.ds !== undefined ? ldtSeg(v.ds) : userSs;
  core.setSegment('cs', flat(ring3.flat.cs, 0xc0fb)); // CPL 3 follows CS.RPL
  core.setSegment('ss', ss);
  core.setSegment('ds', data);
  core.setSegment('es', data);
  core.setSegment('fs', userSs);
  core.setSegment('gs', userSs);
  const i = v.i;
  core.setRegs({
    eax: i[0], ecx: i[1], edx: i[2], ebx: i[3], esp: i[4], ebp: i[5], esi: i[6], edi: i[7],
    eflags: i[8], eip: layout.code,
  });

  let exit = core.run(1000);
  for (let n = 0; n < 20 && exit.reason === 'budget'; n++) exit = core.run(1000);
  if (exit.reason !== 'hlt') return `run ended with ${JSON.stringify(exit)}, not at a HLT`;
  const r = core.getRegs();
  const eip = r.eip >>> 0;
  const inHandler = eip > MACHINE.handlers && eip <= MACHINE.handlers + 4 * 32;
  if (!inHandler || (eip - MACHINE.handlers - 1) % 4 !== 0) {
    return `stopped at EIP ${hex(eip)}, not in an exception handler`;
  }
  let vector: number | undefined = (eip - MACHINE.handlers - 1) / 4;
  // The frame from CPL 3 on the TSS's ring-0 stack: [error code], EIP, CS, EFLAGS, ESP, SS.
  const hasErr = WITH_ERROR.has(vector);
  const n = hasErr ? 6 : 5;
  const frameAt = MACHINE.stack0 - 4 * n;
  if ((r.esp >>> 0) !== frameAt) {
    return `ring-0 ESP ${hex(r.esp)}, want ${hex(frameAt)} (a frame from CPL 3)`;
  }
  const f = new DataView(core.readPhys(frameAt, 4 * n).slice().buffer);
  const dw = (k: number) => f.getUint32(4 * k, true);
  const b = hasErr ? 1 : 0;
  const err = hasErr ? dw(0) : 0;
  const [sEip, sCs, sFl, sEsp] = [dw(b), dw(b + 1) & 0xffff, dw(b + 2), dw(b + 3)];
  const sSs = dw(b + 4) & 0xffff;
  // The HLT after the instruction: it completed.
  if (vector === 13 && err === 0 && sEip === layout.code + insn.length) vector = undefined;
  if (vector !== v.x?.[0]) {
    const cpu = v.x ? `raised exception ${v.x[0]}` : 'raised none';
    return `${vector === undefined ? 'no exception' : `exception ${vector}`}, the CPU ${cpu}`;
  }
  const diffs: string[] = [];
  const want = outputs(v);
  if (v.x) {
    if (hasErr && err !== v.x[1] >>> 0) diffs.push(`error code ${hex(err)}, want ${hex(v.x[1])}`);
    const at = (layout.code + v.x[2]) >>> 0;
    if (sEip !== at) diffs.push(`saved EIP ${hex(sEip)}, want ${hex(at)} (precise fault)`);
  }
  if (sCs !== ring3.flat.cs) diffs.push(`saved CS ${hex(sCs, 4)}, want ${hex(ring3.flat.cs, 4)}`);
  const d = (sFl ^ want[8]) & ~RF & ~(v.uf ?? 0);
  if (d) diffs.push(`eflags ${hex(sFl)}, want ${hex(want[8])} (${flagNames(d)} differ)`);
  const got = [r.eax, r.ecx, r.edx, r.ebx, sEsp, r.ebp, r.esi, r.edi].map((x) => x >>> 0);
  for (let k = 0; k < 8; k++) {
    const m = ~undefinedRegMask(v, k);
    if (((got[k] ^ want[k]) & m) !== 0) {
      diffs.push(`${REGS[k]} ${hex(got[k])}, want ${hex(want[k])}`);
    }
  }
  const sel = (s: 'ds' | 'es') => core.getSegment(s).selector & 0xffff;
  const segs = [sSs, sel('ds'), sel('es')];
  const sels = (xs: number[]) => xs.map((x) => hex(x, 4)).join('/');
  if (v.g && segs.some((x, k) => x !== v.g![k])) {
    diffs.push(`SS/DS/ES ${sels(segs)}, want ${sels(v.g)}`);
  }
  compareMemory(core, v, layout, () => false, diffs);
  return diffs.join('; ');
}

export interface FormTally {
  total: number;
  failed: number;
  examples: string[];
  /** Vectors with undefined EFLAGS bits, and how many of them match this CPU there too. */
  withUndefined: number;
  undefinedSame: number;
}

/** Replays a group's vectors and tallies failures per opcode form. */
export function replayGroup(core: ReplayCore, vectors: Vector[], layout: Layout,
  before?: (v: Vector) => void, examples = 3,
  ring3?: { core: Ring3Core; r: Ring3 }): Map<string, FormTally> {
  const tally = new Map<string, FormTally>();
  for (const v of vectors) {
    const t = tally.get(v.f) ?? { total: 0, failed: 0, examples: [], withUndefined: 0, undefinedSame: 0 };
    tally.set(v.f, t);
    t.total++;
    let d: string;
    before?.(v);
    try {
      d = ring3 ? replayRing3Vector(ring3.core, v, layout, ring3.r)
        : replayVector(core, v, layout, (same) => {
          t.withUndefined++;
          if (same) t.undefinedSame++;
        });
    } catch (e) {
      d = `host exception: ${(e as Error).message}`;
    }
    if (d) {
      t.failed++;
      if (t.examples.length < examples) {
        const inputs = REGS.map((n, k) => `${n}=${hex(v.i[k])}`).join(' ') + ` eflags=${hex(v.i[8])}`;
        t.examples.push(`[${v.b.match(/../g)!.join(' ')}] ${inputs}: ${d}`);
      }
    }
  }
  return tally;
}

/** "group: N of M vectors fail in K of F forms" and, per failing form, its count and examples. */
export function report(group: string, tally: Map<string, FormTally>, maxForms = 40): string {
  const forms = [...tally.entries()];
  const failing = forms.filter(([, t]) => t.failed > 0);
  const total = forms.reduce((s, [, t]) => s + t.total, 0);
  const failed = forms.reduce((s, [, t]) => s + t.failed, 0);
  const withU = forms.reduce((s, [, t]) => s + t.withUndefined, 0);
  const sameU = forms.reduce((s, [, t]) => s + t.undefinedSame, 0);
  const lines = [`${group}: ${failed} of ${total} vectors fail in ${failing.length} of ${forms.length} forms` +
    (withU ? ` (undefined flags equal to the capture CPU's in ${sameU} of ${withU}; not compared)` : '')];
  for (const [name, t] of failing.slice(0, maxForms)) {
    lines.push(`  ${name}: ${t.failed}/${t.total} fail`);
    for (const e of t.examples) lines.push(`    ${e}`);
  }
  if (failing.length > maxForms) lines.push(`  ... and ${failing.length - maxForms} more forms`);
  return lines.join('\n');
}
