// Nested paging (AMD APM vol. 2, 15.25): the second dimension of a guest-physical address
// in SVM guest mode with NP_ENABLE. N_CR3 holds the nested table root in the host's paging
// format (15.25.3):
//   - legacy 2-level (a 32-bit host without PAE, the guest's own VMM in native mode):
//     4-byte entries, 4 MB pages when the host had CR4.PSE at VMRUN (bits 21:13 of a 4-MB
//     PDE reserved: no PSE-36);
//   - long 4-level (the TypeScript VMM, which plays a 64-bit host as KVM does): 8-byte
//     entries, 2 MB pages at the PDE, no 1 GB pages (CPUID 8000_0001h EDX.Page1GB is
//     clear: PS at the PDPE and the PML4E is reserved), address bits 51:32 reserved
//     (32-bit physical-address width), bit 63 NX (the host's EFER.NXE taken as 1).
// Every nested access is a user access (15.25.5); guest page-table accesses are user
// writes (the walk may set A/D). The walk sets the A bit at every level and D in the leaf
// on a write. A failure records the #NPF error code (15.25.6): P 0, RW 1, US 2, RSV 3, ID 4,
// bit 32 the access was to the final guest-physical address, bit 33 to a guest page table.
import { physRead32, physWrite32 } from '../mem/phys';
import { pwcLookup, pwcFill, pwcLo, pwcHi } from '../mem/nested';

export const NPF_P: u64 = 1;
export const NPF_RW: u64 = 2;
export const NPF_US: u64 = 4;
export const NPF_RSV: u64 = 8;
export const NPF_ID: u64 = 16;
export const NPF_FINAL: u64 = <u64>1 << 32;
export const NPF_TABLE: u64 = <u64>1 << 33;

/** Whether the legacy format has 4-MB pages (the host's CR4.PSE at VMRUN). */
export let nptPse: bool = false;
export function setNptPse(on: bool): void { nptPse = on; }
let nptRoot: u32 = 0;

/** Result of nptWalk: the host-physical address, or the #NPF error code (nptFault != 0). */
export let nptHpa: u32 = 0;
export let nptFault: u64 = 0;
/** Memory references of the last walk (for the counters). */
export let nptRefs: u32 = 0;
/** The permissions of a successful walk (mem/nested.ts ACC_* bits: read 1, write 2,
 *  execute 4) and whether its leaf is dirty: the TLB may not let writes through a page
 *  that is not. */
export let nptPerm: u32 = 0;
export let nptDirty: bool = false;

const E_P: u32 = 1, E_RW: u32 = 2, E_US: u32 = 4, E_A: u32 = 0x20, E_D: u32 = 0x40;
const E_PS: u32 = 0x80;

/** The page-walk cache (mem/nested.ts) over the non-leaf entries of both formats: an entry
 *  found there is neither read (no reference counted) nor written (its A bit was set when
 *  it was cached). Switched with setNestedCaches. */
let pwcOn: bool = false;
export function setNptPwc(on: bool): void { pwcOn = on; }

/** Translates guest-physical `gpa`: `write`, `fetch`; `table` when the access is the
 *  guest's own page walk. Returns false with nptFault set on a nested page fault. */
export function nptWalk(gpa: u32, write: bool, fetch: bool, table: bool, long: bool,
  root: u32): bool {
  nptFault = 0;
  nptRefs = 0;
  nptRoot = root & 0xfffff000;
  const kind: u64 = table ? NPF_TABLE : NPF_FINAL;
  const base: u64 = kind | NPF_US | (write || table ? NPF_RW : 0) | (fetch ? NPF_ID : 0);
  const w = write || table;
  return long ? walkLong(gpa, w, fetch, base) : walkLegacy(gpa, w, base);
}

function walkLegacy(gpa: u32, write: bool, base: u64): bool {
  const pdeAddr = nptRoot | ((gpa >>> 22) << 2);
  let pde: u32;
  const cached = pwcOn && pwcLookup(pdeAddr, 2);
  if (cached) pde = pwcLo;
  else { nptRefs++; pde = physRead32(pdeAddr); }
  if ((pde & E_P) == 0) { nptFault = base; return false; }
  if (nptPse && (pde & E_PS) != 0) {
    if ((pde & 0x003fe000) != 0) { nptFault = base | NPF_P | NPF_RSV; return false; }
    if (!allowed(pde, write)) { nptFault = base | NPF_P; return false; }
    const npde = pde | E_A | (write ? E_D : 0);
    if (npde != pde) physWrite32(pdeAddr, npde);
    setPerm(pde, npde, false);
    nptHpa = (pde & 0xffc00000) | (gpa & 0x3fffff);
    return true;
  }
  const pteAddr = (pde & 0xfffff000) | (((gpa >>> 12) & 0x3ff) << 2);
  nptRefs++;
  const pte = physRead32(pteAddr);
  if ((pte & E_P) == 0) { nptFault = base; return false; }
  if (!allowed(pde & pte, write)) { nptFault = base | NPF_P; return false; }
  if ((pde & E_A) == 0) { pde |= E_A; physWrite32(pdeAddr, pde); }
  if (pwcOn && !cached) pwcFill(pdeAddr, 2, pde, 0);
  const npte = pte | E_A | (write ? E_D : 0);
  if (npte != pte) physWrite32(pteAddr, npte);
  setPerm(pde & pte, npte, false);
  nptHpa = (pte & 0xfffff000) | (gpa & 0xfff);
  return true;
}

function setPerm(perm: u32, leaf: u32, nx: bool): void {
  nptPerm = (perm & E_US) == 0 ? 0 : 1 | ((perm & E_RW) != 0 ? 2 : 0) | (nx ? 0 : 4);
  nptDirty = (leaf & E_D) != 0;
}

/** User access rights (every nested access is a user access, 15.25.5). */
@inline function allowed(perm: u32, write: bool): bool {
  return (perm & E_US) != 0 && (!write || (perm & E_RW) != 0);
}

function walkLong(gpa: u32, write: bool, fetch: bool, base: u64): bool {
  let table = nptRoot;
  let perm: u32 = E_RW | E_US;
  let nx = false;
  // Levels 4 (PML4), 3 (PDPT), 2 (PD), 1 (PT); a 32-bit GPA uses entry 0 of the PML4 and
  // entries 0-3 of the PDPT.
  for (let level: i32 = 4; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const idx: u32 = level >= 4 ? 0 : (gpa >>> shift) & 0x1ff;
    const at = table | (idx << 3);
    let lo: u32, hi: u32;
    const cached = pwcOn && level >= 2 && pwcLookup(at, <u32>level);
    if (cached) { lo = pwcLo; hi = pwcHi; }
    else { nptRefs++; lo = physRead32(at); hi = physRead32(at + 4); }
    if ((lo & E_P) == 0) { nptFault = base; return false; }
    // Bits 51:32 are beyond the physical-address width: reserved.
    if ((hi & 0x000fffff) != 0) { nptFault = base | NPF_P | NPF_RSV; return false; }
    const ps = (lo & E_PS) != 0;
    if (ps && level >= 3) { nptFault = base | NPF_P | NPF_RSV; return false; }
    if (ps && level == 2 && (lo & 0x001fe000) != 0) {
      nptFault = base | NPF_P | NPF_RSV; return false;
    }
    perm &= lo;
    if ((hi & 0x80000000) != 0) nx = true;
    const leaf = level == 1 || ps;
    if (leaf) {
      if (!allowed(perm, write) || (fetch && nx)) { nptFault = base | NPF_P; return false; }
      const nlo = lo | E_A | (write ? E_D : 0);
      if (nlo != lo) physWrite32(at, nlo);
      setPerm(perm, nlo, nx);
      nptHpa = ps ? (lo & 0xffe00000) | (gpa & 0x1fffff) : (lo & 0xfffff000) | (gpa & 0xfff);
      return true;
    }
    if ((lo & E_A) == 0) physWrite32(at, lo | E_A);
    if (pwcOn && !cached) pwcFill(at, <u32>level, lo | E_A, hi);
    table = lo & 0xfffff000;
  }
  nptFault = base;
  return false;
}
