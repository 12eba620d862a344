/** Shared helpers of the core tests: a fresh core with code at a real-mode or flat
 *  protected-mode address, and exception handlers that identify the vector taken. */
import { createCore, type Core } from '../../bindings/core/index.js';

export const CODE = 0x1000;
/** Handlers: vector v has a HLT at HANDLERS + 4v (real mode: IVT entries point there). */
export const HANDLERS = 0x0600;
export const IDT = 0x0400;
export const GDT = 0x0300;

/** A core in real mode with `code` at 0000:1000, SP = 0x8000 and IVT entries 0..255 each
 *  leading to a HLT of its own. */
export async function realModeCore(code: number[], ramBytes = 1 << 20): Promise<Core> {
  const core = await createCore({ ramBytes });
  const ivt = new Uint8Array(256 * 4);
  for (let v = 0; v < 256; v++) {
    const off = HANDLERS + 4 * v;
    ivt.set([off & 0xff, off >> 8, 0, 0], 4 * v);
  }
  core.writePhys(0, ivt);
  core.writePhys(HANDLERS, new Uint8Array(256 * 4).fill(0xf4));
  core.writePhys(CODE, new Uint8Array(code));
  core.setSegment('cs', { selector: 0, base: 0, limit: 0xffff, access: 0x9b });
  core.setRegs({ eip: CODE, esp: 0x8000 });
  return core;
}

/** An 8-byte segment descriptor (SDM vol. 3A, 3.4.5, figure 3-8). */
function descriptor(base: number, limit: number, access: number, flags: number): number[] {
  return [limit & 0xff, (limit >>> 8) & 0xff, base & 0xff, (base >>> 8) & 0xff, (base >>> 16) & 0xff, access,
    (flags << 4) | ((limit >>> 16) & 0xf), (base >>> 24) & 0xff];
}

/** A core in flat 32-bit protected mode at CPL 0 with `code` at 0x1000, ESP = 0x80000,
 *  a GDT (0x08 code, 0x10 data, 0x1b/0x23 ring-3 code/data) and an IDT whose 32
 *  interrupt gates lead to a HLT each. */
export async function flat32Core(code: number[], ramBytes = 1 << 22): Promise<Core> {
  const core = await createCore({ ramBytes });
  const gdt = [
    ...descriptor(0, 0, 0, 0),
    ...descriptor(0, 0xfffff, 0x9b, 0xc), ...descriptor(0, 0xfffff, 0x93, 0xc),
    ...descriptor(0, 0xfffff, 0xfb, 0xc), ...descriptor(0, 0xfffff, 0xf3, 0xc),
  ];
  core.writePhys(GDT, Uint8Array.from(gdt));
  core.setTable('gdtr', { base: GDT, limit: gdt.length - 1 });
  const idt: number[] = [];
  for (let v = 0; v < 32; v++) {
    const off = HANDLERS + 4 * v;
    // 32-bit interrupt gate, DPL 3 so that INT n works from ring 3 (SDM vol. 3A, 6.11).
    idt.push(off & 0xff, (off >>> 8) & 0xff, 0x08, 0x00, 0x00, 0xee, 0, 0);
  }
  core.writePhys(IDT, Uint8Array.from(idt));
  core.setTable('idtr', { base: IDT, limit: idt.length - 1 });
  core.writePhys(HANDLERS, new Uint8Array(32 * 4).fill(0xf4));
  core.writePhys(CODE, new Uint8Array(code));
  core.setRegs({ cr0: 0x60000011 });
  core.setSegment('cs', { selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc09b });
  for (const s of ['ds', 'es', 'ss', 'fs', 'gs'] as const) {
    core.setSegment(s, { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc093 });
  }
  core.setRegs({ eip: CODE, esp: 0x80000 });
  return core;
}

/** Runs to the next HLT; returns the exception vector whose handler halted, or null when
 *  the HLT was elsewhere (the code's own). */
export function runToHlt(core: Core, budget = 100_000): number | null {
  const e = core.run(budget);
  if (e.reason !== 'hlt') throw new Error(`expected a HLT, got ${JSON.stringify(e)}`);
  const eip = core.getRegs().eip;
  const cs = core.getSegment('cs').base;
  const lin = (cs + eip - 1) >>> 0;
  if (lin >= HANDLERS && lin < HANDLERS + 4 * 256 && (lin - HANDLERS) % 4 === 0) return (lin - HANDLERS) / 4;
  return null;
}

/** Reads a little-endian dword of guest-physical memory. */
export function dword(core: Core, addr: number): number {
  const b = core.readPhys(addr, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}
export function le32(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]; }
