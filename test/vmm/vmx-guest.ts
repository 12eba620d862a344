/**
 * Helpers of the VT-x tests: a host-owned VMCS for a flat 32-bit guest, built in TypeScript
 * from the SDM's field encodings (vol. 3C, appendix B), and identity EPT tables in VMM RAM
 * (29.3, tables 29-1 .. 29-6).
 */
import { createCore, type Core } from '../../bindings/core/index.js';
import { vmcs as F } from '../../bindings/generated/vmx.js';

export { F };
export const CODE = 0x1000;

/** Control values (SDM vol. 3D, A.3-A.5): the default-1 classes... */
export const PIN_DEFAULT1 = 0x16;
export const PROC_TRUE_DEFAULT1 = 0x04006172;
export const EXIT_DEFAULT1 = 0x00036dff;
export const ENTRY_DEFAULT1 = 0x000011ff;
/** ...and the controls named in 25.6.1 - 25.6.2 (tables 25-5, 25-6, 25-7). */
export const PIN = { EXT_INT: 1 << 0, NMI: 1 << 3, VIRTUAL_NMI: 1 << 5, PREEMPT: 1 << 6 };
export const PROC = {
  INT_WINDOW: 1 << 2, TSC_OFFSET: 1 << 3, HLT: 1 << 7, INVLPG: 1 << 9, RDTSC: 1 << 12,
  CR3_LOAD: 1 << 15, CR3_STORE: 1 << 16, NMI_WINDOW: 1 << 22, MOV_DR: 1 << 23,
  UNCOND_IO: 1 << 24, IO_BITMAPS: 1 << 25, MTF: 1 << 27, MSR_BITMAPS: 1 << 28, PAUSE: 1 << 30,
  SECONDARY: 1 << 31,
};
export const PROC2 = { EPT: 1 << 1, DESC: 1 << 2, VPID: 1 << 5, WBINVD: 1 << 6,
  UNRESTRICTED: 1 << 7 };

/** Builds identity EPT for the first `bytes` of guest-physical memory with 4 KiB pages
 *  (PML4 -> PDPT -> PD -> PTs), read/write/execute, memory type WB (6). Returns the EPTP:
 *  WB (2:0 = 6), walk length 4 (5:3 = 3), `ad`: accessed/dirty flags (bit 6). */
export function identityEpt(core: Core, bytes: number, ad = false): number {
  const pts = Math.ceil(bytes / 0x200000);
  const base = core.addVmmRam((3 + pts) * 4096);
  const pml4 = base, pdpt = base + 0x1000, pd = base + 0x2000, pt0 = base + 0x3000;
  const tables = new Uint8Array((3 + pts) * 4096);
  const dv = new DataView(tables.buffer);
  const w = (pa: number, lo: number) => dv.setUint32(pa - base, lo >>> 0, true);
  w(pml4, pdpt | 7);
  w(pdpt, pd | 7);
  for (let i = 0; i < pts; i++) {
    w(pd + 8 * i, (pt0 + 0x1000 * i) | 7);
    for (let j = 0; j < 512; j++) {
      const page = (i * 512 + j) * 4096;
      if (page < bytes) w(pt0 + 0x1000 * i + 8 * j, page | (6 << 3) | 7);
    }
  }
  core.writeHostPhys(base, tables);
  return pml4 | (3 << 3) | 6 | (ad ? 0x40 : 0);
}

export interface GuestSetup {
  proc?: number; proc2?: number; pin?: number; exit?: number; entry?: number;
  cr0?: number; cr3?: number; cr4?: number; eflags?: number; eip?: number; esp?: number;
  eptp?: number; vpid?: number;
}

/** A host-owned VMCS for a flat 32-bit protected-mode guest at CPL 0 (CS 0x08, data 0x10,
 *  TR 0x18 busy TSS, LDTR unusable), with unrestricted guest and identity EPT unless told
 *  otherwise. */
export function writeGuestVmcs(core: Core, g: GuestSetup = {}): void {
  core.vmcsClearHost();
  const v = (enc: number, val: number | bigint) => core.vmcsWrite(enc, val);
  v(F.PIN_BASED_VM_EXEC_CONTROL, PIN_DEFAULT1 | (g.pin ?? 0));
  v(F.CPU_BASED_VM_EXEC_CONTROL, (PROC_TRUE_DEFAULT1 | PROC.SECONDARY | (g.proc ?? 0)) >>> 0);
  v(F.SECONDARY_VM_EXEC_CONTROL, g.proc2 ?? (PROC2.EPT | PROC2.UNRESTRICTED));
  v(F.VM_EXIT_CONTROLS, EXIT_DEFAULT1 | (g.exit ?? 0));
  v(F.VM_ENTRY_CONTROLS, ENTRY_DEFAULT1 | (g.entry ?? 0));
  if (g.eptp !== undefined) v(F.EPT_POINTER, g.eptp);
  if (g.vpid !== undefined) v(F.VIRTUAL_PROCESSOR_ID, g.vpid);
  v(F.VMCS_LINK_POINTER, 0xffffffffffffffffn);
  v(F.GUEST_CR0, g.cr0 ?? 0x31);
  v(F.GUEST_CR3, g.cr3 ?? 0);
  v(F.GUEST_CR4, g.cr4 ?? 0x2000);
  v(F.GUEST_DR7, 0x400);
  v(F.GUEST_RFLAGS, g.eflags ?? 2);
  v(F.GUEST_RIP, g.eip ?? CODE);
  v(F.GUEST_RSP, g.esp ?? 0x8000);
  const seg = (i: number, sel: number, ar: number, limit = 0xffffffff) => {
    v(F.GUEST_ES_SELECTOR + 2 * i, sel);
    v(F.GUEST_ES_BASE + 2 * i, 0);
    v(F.GUEST_ES_LIMIT + 2 * i, limit);
    v(F.GUEST_ES_AR_BYTES + 2 * i, ar);
  };
  for (const i of [0, 2, 3, 4, 5]) seg(i, 0x10, 0xc093);
  seg(1, 0x08, 0xc09b);
  seg(6, 0, 0x10000, 0);
  seg(7, 0x18, 0x8b, 0x67);
  v(F.GUEST_GDTR_LIMIT, 0x1f);
  v(F.GUEST_IDTR_LIMIT, 0x7ff);
  v(F.GUEST_IDTR_BASE, 0x2000);
}

/** A GDT at 0 (null, 0x08 flat 32-bit code, 0x10 flat data, 0x18 a busy 32-bit TSS at
 *  0x600; SDM vol. 3A, 3.4.5) and an IDT at 0x2000 whose 32-bit interrupt gates lead vector
 *  v to a HLT at HANDLERS + v. */
export const HANDLERS = 0x3000;
function tables(core: Core): void {
  const gdt = [0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0,
    0x67, 0, 0x00, 0x06, 0, 0x8b, 0, 0];
  core.writePhys(0, Uint8Array.from(gdt));
  const idt = new Uint8Array(0x800);
  for (let v = 0; v < 256; v++) {
    const off = HANDLERS + v;
    idt.set([off & 0xff, off >> 8, 8, 0, 0, 0x8e, 0, 0], v * 8);
  }
  core.writePhys(0x2000, idt);
  core.writePhys(HANDLERS, new Uint8Array(256).fill(0xf4));
}

/** A core of `ram` bytes with `code` at CODE and the tables above. */
export async function guestCore(code: number[], ram = 1 << 22): Promise<Core> {
  const core = await createCore({ ramBytes: ram });
  tables(core);
  core.writePhys(CODE, Uint8Array.from(code));
  return core;
}

export const exitReason = (core: Core) => Number(core.vmcsRead(F.VM_EXIT_REASON));
export const qual = (core: Core) => Number(core.vmcsRead(F.EXIT_QUALIFICATION));
export const rip = (core: Core) => Number(core.vmcsRead(F.GUEST_RIP));
export const insnLen = (core: Core) => Number(core.vmcsRead(F.VM_EXIT_INSTRUCTION_LEN));

/** Resumes past the exiting instruction (RIP += exit instruction length), as a VMM does. */
export function skip(core: Core): void {
  core.vmcsWrite(F.GUEST_RIP, rip(core) + insnLen(core));
}
/** Enters and runs to the next exit; the exit reason (or a description of what else). */
export function enterRun(core: Core, budget = 100_000): number | string {
  const e = core.vmxHostEnter();
  if (e !== 0) return `entry failed ${e.toString(16)}`;
  const x = core.run(budget);
  if (x.reason !== 'vmexit') return x.reason;
  return exitReason(core);
}
