/**
 * Ring-1 deprivileging, shared by the software modes (pv now; trap and bt later): the VMM
 * owns ring 0 and the top of every guest address space, from HYPERVISOR_VIRT_START
 * (0xFC000000, Xen's non-PAE bound: 64 MiB, PDE slots 1008-1023). The last 4 MiB (slot
 * 1023) hold the tables the CPU really uses, on frames the VMM reserves at the top of RAM:
 *
 *   0xFFC00000  GDT, 15 pages: page 0 the guest's own entries (shadowed: DPL 0 -> 1,
 *               limits truncated below the region), pages 1-13 a zero page, page 14 the
 *               VMM's entries (the selectors of xen-x86_32.h: FLAT_RING1_CS 0xe019 ...)
 *   0xFFC0F000  IDT (256 gates: every vector to a ring-0 stub, the guest's int 0x80 gate
 *               straight to its ring-1 handler)
 *   0xFFC10000  TSS (SS0:ESP0 the VMM stack, SS1:ESP1 the guest's kernel stack)
 *   0xFFC11000  stubs: 8 bytes per vector (`push 0` where the CPU pushes no error code,
 *               then HLT), and the return stub `add esp, 4; iret`
 *   0xFFC12000  the VMM's ring-0 stack (one page)
 *
 * How control reaches the TypeScript VMM: a stub's HLT at CPL 0 ends the core's run() with
 * its ordinary 'hlt' exit, no core change at all. The VMM knows it is one of its own by
 * CPL 0 and EIP inside the stub page (the guest never runs at CPL 0: its selectors have
 * DPL >= 1, and it cannot reach the region, whose linear addresses lie beyond its segment
 * limits). After handling the trap the VMM edits the frame on its stack and points EIP at
 * the return stub; the CPU's own IRET then goes back to ring 1 or 3 with every check of a
 * real return.
 */
import { readPhys32, writePhys32 } from '../../core/phys32.js';
import type { Core, Segment } from '../../core/types.js';
import {
  HYPERVISOR_VIRT_START, FLAT_RING1_CS, FLAT_RING1_DS, FLAT_RING1_SS, FLAT_RING3_CS, FLAT_RING3_DS,
  HYPERVISOR_CS, HYPERVISOR_DS, HYPERVISOR_TSS, FIRST_RESERVED_GDT_PAGE,
} from '../pv/xen.js';

export const REGION_START = 0xffc00000;
export const GDT_VA = REGION_START, GDT_PAGES = FIRST_RESERVED_GDT_PAGE + 1;
export const GDT_LIMIT = GDT_PAGES * 4096 - 1;
export const IDT_VA = REGION_START + 0xf000;
export const TSS_VA = REGION_START + 0x10000;
export const STUBS_VA = REGION_START + 0x11000;
export const STUB_SIZE = 8;
export const RETURN_STUB_VA = STUBS_VA + 256 * STUB_SIZE;
export const STACK_VA = REGION_START + 0x12000, STACK_TOP = STACK_VA + 0x1000;
/** Frames the region needs: its page table, GDT page 0, a zero page, GDT page 14, the
 *  IDT, the TSS, the stubs and the stack. */
export const REGION_FRAMES = 8;
/** The guest segments' last byte: everything below the region (SDM vol. 3A, 3.4.5: with
 *  G = 1 the limit is scaled by 4 KiB, so 0xFBFFF gives 0xFBFFFFFF). */
export const GUEST_LIMIT = HYPERVISOR_VIRT_START - 1;

/** Vectors whose exceptions push an error code (SDM vol. 3A, 6.13 table 6-1). */
export const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17]);

const PTE_P = 1, PTE_RW = 2;

/** A segment descriptor's two dwords (SDM vol. 3A, 3.4.5 figure 3-8). */
export function descriptor(base: number, limit: number, type: number, dpl: number,
  flags = 0xc /* G, D/B */, s = 1): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = ((base >>> 16) & 0xff) | (type << 8) | (s << 12) | (dpl << 13) | (1 << 15)
    | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000);
  return [lo >>> 0, hi >>> 0];
}

/** An interrupt (type 0xE) or trap (0xF) gate (SDM vol. 3A, 6.11 figure 6-2). */
export function gate(selector: number, offset: number, dpl: number, trap = false):
  [number, number] {
  const lo = ((selector & 0xffff) << 16) | (offset & 0xffff);
  const hi = (offset & 0xffff0000) | (1 << 15) | (dpl << 13) | ((trap ? 0xf : 0xe) << 8);
  return [lo >>> 0, hi >>> 0];
}

/**
 * The descriptor the CPU may use for a guest's descriptor (Xen's check_descriptor): a
 * not-present descriptor is harmless and kept; code and data segments get DPL 1 where the
 * guest said 0 and a limit that ends below HYPERVISOR_VIRT_START; expand-down segments,
 * system descriptors (TSS, LDT, gates) are refused (undefined) since they could name ring
 * 0 or the region.
 */
export function shadowDescriptor(lo: number, hi: number): [number, number] | undefined {
  lo >>>= 0; hi >>>= 0;
  if (!(hi & (1 << 15))) return [lo, hi];
  if (!(hi & (1 << 12))) return undefined; // S = 0: system descriptor or gate
  const type = (hi >>> 8) & 0xf;
  const code = (type & 8) !== 0;
  if (!code && (type & 4)) return undefined; // expand-down data: its range is above limit
  let dpl = (hi >>> 13) & 3;
  if (dpl === 0) dpl = 1;
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  const g = (hi & (1 << 23)) !== 0;
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  const limit = g ? ((raw * 4096 + 4095) >>> 0) : raw;
  let last = base + limit; // as a JS number, no wrap
  if (base >= HYPERVISOR_VIRT_START) return undefined;
  if (last > GUEST_LIMIT) last = GUEST_LIMIT;
  let newLimit = last - base;
  let newHi = hi & ~(3 << 13) & ~0xf0000 & ~(1 << 23);
  if (newLimit > 0xfffff) { newLimit = Math.floor((newLimit - 4095) / 4096); newHi |= 1 << 23; }
  newHi |= (dpl << 13) | (newLimit & 0xf0000);
  return [((lo & 0xffff0000) | (newLimit & 0xffff)) >>> 0, newHi >>> 0];
}

/** Where the region's frames are, and the state the CPU needs to run a guest under it. */
export class Region {
  readonly ptFrame: number;
  readonly gdt0: number;
  readonly zero: number;
  readonly gdtXen: number;
  readonly idt: number;
  readonly tss: number;
  readonly stubs: number;
  readonly stack: number;

  /** `frames`: REGION_FRAMES physical page addresses owned by the VMM. */
  constructor(private readonly core: Core, frames: number[]) {
    if (frames.length < REGION_FRAMES) throw new RangeError('region: too few frames');
    [this.ptFrame, this.gdt0, this.zero, this.gdtXen, this.idt, this.tss, this.stubs,
      this.stack] = frames;
    for (const f of frames) core.writePhys(f, new Uint8Array(4096));
    this.buildPageTable();
    this.buildGdt();
    this.buildStubs();
    for (let v = 0; v < 256; v++) this.setVmmGate(v);
    this.buildTss();
  }

  /** The PDE the VMM puts in slot 1023 of every guest page directory it validates. */
  get pde(): number { return (this.ptFrame | PTE_P | PTE_RW) >>> 0; }

  private w32(pa: number, v: number): void {
    writePhys32(this.core, pa, v);
  }
  private r32(pa: number): number {
    return readPhys32(this.core, pa);
  }

  private buildPageTable(): void {
    const map = (va: number, pa: number, rw: boolean) =>
      this.w32(this.ptFrame + ((va >>> 12) & 0x3ff) * 4, pa | PTE_P | (rw ? PTE_RW : 0));
    map(GDT_VA, this.gdt0, true);
    for (let i = 1; i < FIRST_RESERVED_GDT_PAGE; i++) map(GDT_VA + i * 4096, this.zero, false);
    map(GDT_VA + FIRST_RESERVED_GDT_PAGE * 4096, this.gdtXen, true);
    map(IDT_VA, this.idt, true);
    map(TSS_VA, this.tss, true);
    map(STUBS_VA, this.stubs, false);
    map(STACK_VA, this.stack, true);
  }

  private buildGdt(): void {
    const lim = GUEST_LIMIT >>> 12; // 4 KiB granular
    const put = (sel: number, d: [number, number]) => {
      const off = (sel & ~7) - FIRST_RESERVED_GDT_PAGE * 4096;
      this.w32(this.gdtXen + off, d[0]);
      this.w32(this.gdtXen + off + 4, d[1]);
    };
    put(HYPERVISOR_CS, descriptor(0, 0xfffff, 0xb, 0));
    put(HYPERVISOR_DS, descriptor(0, 0xfffff, 0x3, 0));
    put(FLAT_RING1_CS, descriptor(0, lim, 0xb, 1));
    put(FLAT_RING1_DS, descriptor(0, lim, 0x3, 1));
    put(FLAT_RING3_CS, descriptor(0, lim, 0xb, 3));
    put(FLAT_RING3_DS, descriptor(0, lim, 0x3, 3));
    // 32-bit TSS, busy (type 0xB; SDM vol. 3A, 7.2.2), limit 103: no I/O bitmap.
    put(HYPERVISOR_TSS, descriptor(TSS_VA, 103, 0xb, 0, 0, 0));
  }

  private buildStubs(): void {
    const code = new Uint8Array(4096);
    for (let v = 0; v < 256; v++) {
      const at = v * STUB_SIZE;
      let i = at;
      if (!ERROR_CODE_VECTORS.has(v)) { code[i++] = 0x6a; code[i++] = 0x00; } // push 0
      code[i++] = 0xf4; // hlt: the exit to the VMM
      code[i++] = 0x0f; code[i++] = 0x0b; // ud2: never reached (the VMM moves EIP)
    }
    // add esp, 4; iret
    code.set([0x83, 0xc4, 0x04, 0xcf], RETURN_STUB_VA - STUBS_VA);
    this.core.writePhys(this.stubs, code);
  }

  private buildTss(): void {
    this.w32(this.tss + 4, STACK_TOP); // ESP0
    this.w32(this.tss + 8, HYPERVISOR_DS); // SS0
    this.w32(this.tss + 0x66 - 2, 104 << 16); // I/O map base past the limit
  }

  /** Points vector `v` at the VMM's stub (an interrupt gate: events stay off in ring 0). */
  setVmmGate(v: number, dpl = 0): void {
    const [lo, hi] = gate(HYPERVISOR_CS, STUBS_VA + v * STUB_SIZE, dpl);
    this.w32(this.idt + v * 8, lo);
    this.w32(this.idt + v * 8 + 4, hi);
  }

  /** A gate straight to the guest's ring-1 handler (Xen's fast trap for int 0x80). */
  setDirectGate(v: number, cs: number, eip: number, dpl: number): void {
    const [lo, hi] = gate(cs, eip, dpl, true);
    this.w32(this.idt + v * 8, lo);
    this.w32(this.idt + v * 8 + 4, hi);
  }

  /** The guest's kernel stack for transitions from ring 3 (TSS.SS1:ESP1). */
  setKernelStack(ss: number, esp: number): void {
    this.w32(this.tss + 12, esp);
    this.w32(this.tss + 16, ss);
  }

  /** Writes guest GDT entry `index` (0-511) as the CPU may use it; false when refused. */
  setGuestDescriptor(index: number, lo: number, hi: number): boolean {
    if (!Number.isInteger(index) || index < 1 || index >= 512) return false;
    const d = shadowDescriptor(lo, hi);
    if (!d) return false;
    this.w32(this.gdt0 + index * 8, d[0]);
    this.w32(this.gdt0 + index * 8 + 4, d[1]);
    return true;
  }
  /** Puts back an entry saved from this table (already shadowed). */
  restoreGuestDescriptor(index: number, lo: number, hi: number): void {
    this.w32(this.gdt0 + index * 8, lo);
    this.w32(this.gdt0 + index * 8 + 4, hi);
  }
  guestDescriptor(index: number): [number, number] {
    return [this.r32(this.gdt0 + index * 8), this.r32(this.gdt0 + index * 8 + 4)];
  }

  /** Loads the CPU's tables and the guest's first state: ring 1, flat truncated segments. */
  enter(cr3: number, eip: number, esp: number, esi: number): void {
    const core = this.core;
    core.setTable('gdtr', { base: GDT_VA, limit: GDT_LIMIT });
    core.setTable('idtr', { base: IDT_VA, limit: 256 * 8 - 1 });
    const seg = (selector: number, type: number, dpl: number): Segment => ({
      selector, base: 0, limit: GUEST_LIMIT,
      access: type | (1 << 4) | (dpl << 5) | (1 << 7) | (1 << 14) | (1 << 15),
    });
    core.setSegment('tr', { selector: HYPERVISOR_TSS, base: TSS_VA, limit: 103, access: 0x8b });
    core.setSegment('ldtr', { selector: 0, base: 0, limit: 0, access: 1 << 16 });
    // CR0: PE, ET, NE, WP (the guest's read-only page tables bind ring 1 too), PG.
    core.setRegs({ cr0: 0x80010031, cr3, cr4: 0, eip, esp, esi, eflags: 0x202 });
    for (const s of ['ds', 'es', 'fs', 'gs'] as const) {
      core.setSegment(s, seg(FLAT_RING1_DS, 3, 1));
    }
    core.setSegment('ss', seg(FLAT_RING1_SS, 3, 1));
    core.setSegment('cs', seg(FLAT_RING1_CS, 0xb, 1));
  }

  /** The vector whose stub executed the HLT that ended run(), or -1 when EIP is not one. */
  static stubVector(cpl: number, eip: number): number {
    if (cpl !== 0) return -1;
    const off = (eip - 1 - STUBS_VA) >>> 0;
    if (off >= 256 * STUB_SIZE) return -1;
    return Math.floor(off / STUB_SIZE);
  }
}
