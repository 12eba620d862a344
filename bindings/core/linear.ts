/**
 * Linear-to-physical translation for the host's view of guest memory (a debugger, the
 * trace's instruction bytes): 32-bit paging as Intel SDM vol. 3A, 4.3 describes it, walked
 * without side effects. No accessed or dirty bit is set, no TLB entry filled and no fault
 * raised: a linear address that does not translate is `undefined`.
 */

/** The control state the translation depends on. */
export interface PagingState {
  cr0: number;
  cr3: number;
  cr4: number;
  /** 0xFFFFFFFF with the A20 gate on, 0xFFEFFFFF with it off: applied to every physical
   *  address, those of the paging structures included. */
  a20Mask: number;
}

const CR0_PG = 1 << 31;
const CR4_PSE = 1 << 4, CR4_PAE = 1 << 5;
const P = 1, PS = 1 << 7;

/**
 * The physical address of linear address `lin`, or `undefined` when it is not mapped.
 * `read32` reads a paging-structure entry at a physical address (`undefined` where no
 * memory answers). Without CR0.PG the linear address is the physical one. With CR0.PG:
 * the PDE at CR3[31:12] | lin[31:22] * 4; with CR4.PSE and PDE.PS it maps a 4 MiB page
 * (PDE[31:22] | lin[21:0]; PDE[20:13] are physical address bits 39:32, so a nonzero value
 * is above the 4 GiB this machine has); otherwise the PTE at PDE[31:12] | lin[21:12] * 4
 * maps a 4 KiB page (PTE[31:12] | lin[11:0]). An entry with P = 0 ends the walk. PAE
 * paging (CR4.PAE) is not walked: such an address is `undefined`.
 */
export function linearToPhysical(s: PagingState, lin: number,
  read32: (pa: number) => number | undefined): number | undefined {
  lin >>>= 0;
  const mask = s.a20Mask >>> 0;
  // CR0.PG is only ever set with CR0.PE (MOV to CR0 faults otherwise).
  if (!(s.cr0 & CR0_PG)) return (lin & mask) >>> 0;
  if (s.cr4 & CR4_PAE) return undefined;
  const pde = read32(((s.cr3 & 0xfffff000) | ((lin >>> 22) << 2)) & mask);
  if (pde === undefined || !(pde & P)) return undefined;
  if ((s.cr4 & CR4_PSE) && (pde & PS)) {
    if ((pde >>> 13) & 0xff) return undefined;
    return (((pde & 0xffc00000) | (lin & 0x3fffff)) & mask) >>> 0;
  }
  const pte = read32(((pde & 0xfffff000) | (((lin >>> 12) & 0x3ff) << 2)) & mask);
  if (pte === undefined || !(pte & P)) return undefined;
  return (((pte & 0xfffff000) | (lin & 0xfff)) & mask) >>> 0;
}

/**
 * Up to `length` bytes from linear address `lin` (wrapping at 4 GiB), each translated by
 * linearToPhysical and read by `readByte`; the first byte that does not translate or that
 * no memory answers ends the result, which may then be shorter (or empty).
 */
export function readLinearBytes(s: PagingState, lin: number, length: number,
  read32: (pa: number) => number | undefined,
  readByte: (pa: number) => number | undefined): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const pa = linearToPhysical(s, (lin + i) >>> 0, read32);
    const b = pa === undefined ? undefined : readByte(pa >>> 0);
    if (b === undefined) break;
    out.push(b);
  }
  return Uint8Array.from(out);
}
