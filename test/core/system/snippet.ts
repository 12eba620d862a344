/**
 * Runs a few instructions in flat 32-bit protected mode with a GDT, a TSS and an IDT that
 * catches exceptions 0-31, so a test can see which exception an instruction raised and with
 * which error code. The code sits at 0x1000 and ends with HLT.
 *
 * Layout (physical = linear): GDT at 0x500 (08 code DPL 0, 10 data DPL 0, 1b code DPL 3,
 * 23 data DPL 3, 28 TSS, 31 code DPL 1, 39 data DPL 1), TSS at 0x600 (ESP0 = 0x70000,
 * SS0 = 0x10, ESP1 = 0x68000, SS1 = 0x39), IDT at 0x2000 with
 * DPL-0 interrupt gates for all 256 vectors to 0008:3000+vector, each a HLT; code at
 * 0x1000; stack top 0x80000 (ring 0) or 0x60000 (ring 3).
 */
import { createCore, type Core, type Regs } from '../../../bindings/core/index.js';

export const CODE = 0x1000;
export const GDT = 0x500, TSS = 0x600, IDT = 0x2000, STUBS = 0x3000;

export interface SnippetRun {
  core: Core;
  regs: Regs;
  /** The exception taken, or null when the snippet reached its own HLT. */
  vector: number | null;
  /** The dword on top of the handler's stack (the error code for vectors that push one). */
  top: number;
}

function dq(view: DataView, at: number, lo: number, hi: number): void {
  view.setUint32(at, lo >>> 0, true);
  view.setUint32(at + 4, hi >>> 0, true);
}

/** Writes gate `vector` of the IDT: `selector` (08 by default), `offset`, type/attribute byte `attr`. */
export function setGate(core: Core, vector: number, offset: number, attr: number, selector = 0x08): void {
  const g = new Uint8Array(8);
  const v = new DataView(g.buffer);
  dq(v, 0, (selector << 16) | (offset & 0xffff), (offset & 0xffff0000) | (attr << 8));
  core.writePhys(IDT + vector * 8, g);
}

/** A core with the layout above, `code` at 0x1000, not yet run. */
export async function snippetCore(code: number[], init: Partial<Regs> = {}, ring3 = false): Promise<Core> {
  const core = await createCore({ ramBytes: 1 << 20 });
  const low = new Uint8Array(0x4000);
  const v = new DataView(low.buffer);
  dq(v, GDT + 0x08, 0x0000ffff, 0x00cf9a00);
  dq(v, GDT + 0x10, 0x0000ffff, 0x00cf9200);
  dq(v, GDT + 0x18, 0x0000ffff, 0x00cffa00);
  dq(v, GDT + 0x20, 0x0000ffff, 0x00cff200);
  dq(v, GDT + 0x28, (TSS << 16) | 0x67, 0x00008b00);
  dq(v, GDT + 0x30, 0x0000ffff, 0x00cfba00);
  dq(v, GDT + 0x38, 0x0000ffff, 0x00cfb200);
  v.setUint32(TSS + 4, 0x70000, true);
  v.setUint32(TSS + 8, 0x10, true);
  v.setUint32(TSS + 12, 0x68000, true);
  v.setUint32(TSS + 16, 0x39, true);
  v.setUint16(TSS + 102, 0x68, true);
  for (let i = 0; i < 256; i++) {
    dq(v, IDT + i * 8, (0x08 << 16) | ((STUBS + i) & 0xffff), ((STUBS + i) & 0xffff0000) | 0x8e00);
    low[STUBS + i] = 0xf4; // HLT
  }
  low.set(code, CODE);
  core.writePhys(0, low);
  core.setTable('gdtr', { base: GDT, limit: 0x3f });
  core.setTable('idtr', { base: IDT, limit: 256 * 8 - 1 });
  core.setRegs({ cr0: 0x00000011, eflags: 0x2 });
  core.setSegment('tr', { selector: 0x28, base: TSS, limit: 0x67, access: 0x8b });
  const [cs, ds, csAr, dsAr] = ring3 ? [0x1b, 0x23, 0xc0fb, 0xc0f3] : [0x08, 0x10, 0xc09b, 0xc093];
  core.setSegment('cs', { selector: cs, base: 0, limit: 0xffffffff, access: csAr });
  for (const s of ['ds', 'es', 'ss', 'fs', 'gs'] as const) core.setSegment(s, { selector: ds, base: 0, limit: 0xffffffff, access: dsAr });
  core.setRegs({ eip: CODE, esp: ring3 ? 0x60000 : 0x80000, ...init });
  return core;
}

/** Where a core stopped at a HLT: the vector of the stub it halted in (or null) and the
 *  dword on top of the stack. */
export function stoppedAt(core: Core): SnippetRun {
  const regs = core.getRegs();
  const at = regs.eip - 1;
  const vector = at >= STUBS && at < STUBS + 256 ? at - STUBS : null;
  const top = new DataView(core.readPhys(regs.esp, 4).buffer).getUint32(0, true);
  return { core, regs, vector, top };
}

/** Runs the snippet to its HLT or the HLT of the exception it raised. */
export async function runSnippet(code: number[], init: Partial<Regs> = {}, ring3 = false): Promise<SnippetRun> {
  const core = await snippetCore(code, init, ring3);
  const exit = core.run(10_000);
  if (exit.reason !== 'hlt') throw new Error(`snippet ended with ${JSON.stringify(exit)}`);
  return stoppedAt(core);
}

/** Reads `n` dwords from the top of the stack. */
export function stackDwords(core: Core, esp: number, n: number): number[] {
  const v = new DataView(core.readPhys(esp, 4 * n).buffer);
  return Array.from({ length: n }, (_, i) => v.getUint32(4 * i, true));
}
