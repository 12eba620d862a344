// The software TLB and the one page walk.
//
// TLB: TLB_ENTRIES direct-mapped entries indexed by the linear page number. An entry is
// a tag (linear page address | deny bits) and an addend (host address - linear address).
// A hit is one masked compare: (tag & (0xFFFFF000 | denyBit)) == (lin & 0xFFFFF000).
// Deny bits send the access to the slow path: writes to clean (D=0) pages so the walk can
// set D, writes to ROM, anything to MMIO, accesses the page tables forbid.
//
// The walk (walk()) is the one place that turns a linear address into a guest-physical
// one: 32-bit paging with 4 KiB and 4 MiB pages (Intel SDM vol. 3A, 4.3). Each guest-
// physical reference it makes goes through nestedRef(), where a second dimension (EPT/NPT)
// plugs in.
import {
  STATE_BASE, S_CR0, S_CR3, S_CR4, S_CR2, TLB_ENTRIES, TLB_TAG, TLB_ADD, TLB_GLOBAL, TLB_FILL_LOG,
  FILL_LOG_MAX, S_CNT_TLB_MISS, S_CNT_WALK, S_CNT_WALK_REFS, S_CNT_TLB_FLUSH,
} from '../generated/layout';
import {
  a20Mask, classify, classHost, pageIsMixed, physRead32, physWrite32, PAGE_RAM, PAGE_ROM,
  PAGE_MMIO,
} from './phys';
import { raise, faulted, PF_VEC } from '../cpu/fault';
import { guestMode } from '../vmm/guest';
import {
  nestedFormat, nestedWalk, nestedPerm, nestedDirty, ACC_READ, ACC_WRITE, ACC_EXEC,
} from './nested';
import { CR0_PG, CR0_WP, CR4_PSE, CR4_PGE } from '../cpu/state';

export const TLB_MASK: u32 = TLB_ENTRIES - 1;
export { TLB_TAG, TLB_ADD };

export const DENY_SR: u32 = 1;
export const DENY_SW: u32 = 2;
export const DENY_UR: u32 = 4;
export const DENY_UW: u32 = 8;
export const DENY_ALL: u32 = 15;
/** Always set in a valid tag; the access masks include it only to force the slow path. */
export const DENY_SLOW: u32 = 0x800;
const INVALID_TAG: u32 = 0xffffffff;

// Page-table entry bits (SDM vol. 3A, tables 4-5 and 4-6).
const PTE_P: u32 = 1 << 0;
const PTE_W: u32 = 1 << 1;
const PTE_U: u32 = 1 << 2;
const PTE_A: u32 = 1 << 5;
const PTE_D: u32 = 1 << 6;
const PTE_PS: u32 = 1 << 7;
const PTE_G: u32 = 1 << 8;

// #PF error code bits (SDM vol. 3A, 4.7).
export const PFEC_P: u32 = 1;
export const PFEC_W: u32 = 2;
export const PFEC_U: u32 = 4;
export const PFEC_RSVD: u32 = 8;

/** Bits 21:13 of a PDE that maps a 4 MiB page: reserved without PSE-36, which CPUID does
 *  not report (SDM vol. 3A, 4.3, table 4-4; a set bit is a #PF with RSVD, 4.7). */
const PDE_4M_RESERVED: u32 = 0x003fe000;

/** Counters kept in globals on the hot path and folded into the state block at exit. */
export let tlbHits: u64 = 0;
@inline export function countHit(): void { tlbHits++; }
export function takeHits(): u64 { const h = tlbHits; tlbHits = 0; return h; }

/** Bumped on every flush. */
export let tlbEpoch: u32 = 1;

// The instruction fetch's cached code window (cpu/access.ts): EIPs [fetchStart, fetchEnd)
// are at host address fetchBias + eip. While a window is cached, ip >= fetchStart (setIp
// drops the window otherwise), so a fetch compares only with the end: fetchEnd for one
// byte, fetchEnd2 (= fetchEnd - 1) for two, fetchEnd4 (= fetchEnd - 3) for four. All three
// are 0 when no window is cached; a window ends at 0xFFFFFFF0 at most, so no sum wraps.
// Lives here so that every flush drops it.
export let fetchStart: u32 = 0;
export let fetchEnd: u32 = 0;
export let fetchEnd2: u32 = 0;
export let fetchEnd4: u32 = 0;
export let fetchBias: u32 = 0;
const FETCH_TOP: u32 = 0xfffffff0;
function setFetchEnd(end: u32): void {
  fetchEnd = end;
  fetchEnd2 = end > 1 ? end - 1 : 0;
  fetchEnd4 = end > 3 ? end - 3 : 0;
}
/** Caches EIPs [start, end) at host address bias + eip. */
export function setFetch(start: u32, end: u32, bias: u32): void {
  fetchStart = start;
  fetchBias = bias;
  if (end > FETCH_TOP) end = FETCH_TOP;
  if (fetchClamp != 0 && fetchClamp < end) end = fetchClamp > start ? fetchClamp : 0;
  setFetchEnd(end);
}
/** While a heavily prefixed instruction decodes, fetches from `fetchClamp` on (the 16th
 *  byte) leave the fast path so the slow path can raise #GP for the length (0 = off). */
export let fetchClamp: u32 = 0;
export function clampFetch(endEip: u32): void {
  fetchClamp = endEip;
  if (endEip <= fetchStart) fetchInvalidate();
  else if (endEip < fetchEnd) setFetchEnd(endEip);
}
export function unclampFetch(): void { if (fetchClamp != 0) { fetchClamp = 0; fetchInvalidate(); } }
export function fetchInvalidate(): void { fetchEnd = 0; fetchEnd2 = 0; fetchEnd4 = 0; }

@inline function cnt(off: u32): void {
  store<u64>(STATE_BASE + off, load<u64>(STATE_BASE + off) + 1);
}

// Entries filled since the last full flush, so a flush of a small working set clears only
// those instead of the whole array (context switches, the fuzz driver's resets).
export let fillCount: u32 = 0;
export function setFillCount(n: u32): void { fillCount = n; }
/** Records entry `i` in the fill log (a restored tagged entry, mem/tags.ts). */
export function noteFill(i: u32): void {
  if (fillCount < FILL_LOG_MAX) store<u32>(TLB_FILL_LOG + (fillCount << 2), i);
  if (fillCount <= FILL_LOG_MAX) fillCount++;
}

export function tlbFlushAll(keepGlobal: bool): void {
  cnt(S_CNT_TLB_FLUSH);
  tlbEpoch++;
  fetchInvalidate();
  if (fillCount <= FILL_LOG_MAX) {
    let kept: u32 = 0;
    for (let k: u32 = 0; k < fillCount; k++) {
      const i = load<u32>(TLB_FILL_LOG + (k << 2));
      if (keepGlobal && load<u32>(TLB_GLOBAL + (i << 2)) != 0) {
        store<u32>(TLB_FILL_LOG + (kept << 2), i); kept++;
        continue;
      }
      store<u32>(TLB_TAG + (i << 2), INVALID_TAG);
      store<u32>(TLB_GLOBAL + (i << 2), 0);
    }
    fillCount = kept;
    return;
  }
  fillCount = 0;
  if (!keepGlobal) {
    memory.fill(TLB_TAG, 0xff, TLB_ENTRIES * 4);
    memory.fill(TLB_GLOBAL, 0, TLB_ENTRIES * 4);
    return;
  }
  for (let i: u32 = 0; i < <u32>TLB_ENTRIES; i++) {
    if (load<u32>(TLB_GLOBAL + (i << 2)) == 0) store<u32>(TLB_TAG + (i << 2), INVALID_TAG);
    else if (fillCount < FILL_LOG_MAX) {
      store<u32>(TLB_FILL_LOG + (fillCount << 2), i);
      fillCount++;
    }
    else fillCount = FILL_LOG_MAX + 1;
  }
}

/** Empties the whole TLB unconditionally (initialization). */
export function tlbReset(): void {
  memory.fill(TLB_TAG, 0xff, TLB_ENTRIES * 4);
  memory.fill(TLB_GLOBAL, 0, TLB_ENTRIES * 4);
  fillCount = 0;
  fetchInvalidate();
}

/** INVLPG (SDM vol. 3A, 4.10.4.1): drops the entry of one linear page, global or not. */
export function tlbFlushPage(lin: u32): void {
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & 0xfffff000) == (lin & 0xfffff000)) {
    store<u32>(TLB_TAG + (i << 2), INVALID_TAG);
    store<u32>(TLB_GLOBAL + (i << 2), 0);
  }
  tlbEpoch++;
  fetchInvalidate();
}

/** Set by the instruction fetch around its translate(): the nested dimension checks
 *  execute permission (EPT X) for it. */
export let walkExec: bool = false;
export function setWalkExec(on: bool): void { walkExec = on; }

/**
 * The nested dimension of every guest-physical reference (assembly/mem/nested.ts): the
 * identity outside non-root operation or without EPT/NPT. `acc`: ACC_* of the reference;
 * `final`: the final address of `lin` rather than a guest paging-structure entry. On a
 * violation the vendor raised a VM exit (`faulted`).
 */
@inline export function nestedRef(gpa: u32, acc: u32, lin: u32, final: bool): u32 {
  if (nestedFormat == 0) return gpa;
  return nestedWalk(gpa, acc, lin, true, final);
}

/** Outcome of translate(): guest-physical address of `lin`, or faulted. */
export let walkPhys: u32 = 0;

/**
 * Translates linear `lin` for an access (write: store; user: CPL 3 access) and fills the
 * TLB entry. Returns false after raising #PF (CR2 and the error code set).
 */
export function translate(lin: u32, write: bool, user: bool): bool {
  cnt(S_CNT_TLB_MISS);
  const c0 = load<u32>(STATE_BASE + S_CR0);
  let phys: u32;
  let deny: u32 = 0;
  let global: u32 = 0;
  // The kind of the final access for the nested dimension.
  const acc: u32 = write ? ACC_WRITE : walkExec ? ACC_EXEC : ACC_READ;
  if ((c0 & CR0_PG) == 0) {
    phys = lin & a20Mask;
    if (nestedFormat != 0) {
      phys = nestedRef(phys, acc, lin, true);
      if (faulted) return false;
      phys &= 0xfffff000;
    }
  } else {
    cnt(S_CNT_WALK);
    const c4 = load<u32>(STATE_BASE + S_CR4);
    const pdBase = load<u32>(STATE_BASE + S_CR3) & 0xfffff000;
    const pdeAddr = nestedRef((pdBase | ((lin >>> 22) << 2)) & a20Mask, ACC_READ, lin, false);
    if (faulted) return false;
    cnt(S_CNT_WALK_REFS);
    let pde = physRead32(pdeAddr);
    const pfUser: u32 = user ? PFEC_U : 0;
    const pfWrite: u32 = write ? PFEC_W : 0;
    if ((pde & PTE_P) == 0) { pageFault(lin, pfUser | pfWrite); return false; }
    let ent: u32;
    let entAddr: u32;
    let perm: u32;
    let large = (pde & PTE_PS) != 0 && (c4 & CR4_PSE) != 0;
    if (large) {
      if ((pde & PDE_4M_RESERVED) != 0) {
        pageFault(lin, PFEC_P | PFEC_RSVD | pfUser | pfWrite);
        return false;
      }
      ent = pde; entAddr = pdeAddr; perm = pde;
      phys = (pde & 0xffc00000) | (lin & 0x3ff000);
    } else {
      entAddr = nestedRef(((pde & 0xfffff000) | (((lin >>> 12) & 0x3ff) << 2)) & a20Mask,
        ACC_READ, lin, false);
      if (faulted) return false;
      cnt(S_CNT_WALK_REFS);
      ent = physRead32(entAddr);
      if ((ent & PTE_P) == 0) { pageFault(lin, pfUser | pfWrite); return false; }
      perm = pde & ent;
      phys = ent & 0xfffff000;
    }
    // Access rights (SDM vol. 3A, 4.6.1): user accesses need U everywhere and, to write,
    // W everywhere; supervisor writes need W only when CR0.WP is set.
    const wp = (c0 & CR0_WP) != 0;
    if (user) {
      if ((perm & PTE_U) == 0 || (write && (perm & PTE_W) == 0)) {
        pageFault(lin, PFEC_P | pfUser | pfWrite); return false;
      }
    } else if (write && wp && (perm & PTE_W) == 0) {
      pageFault(lin, PFEC_P | pfWrite); return false;
    }
    // Accessed and dirty bits (SDM vol. 3A, 4.8).
    if (!large && (pde & PTE_A) == 0) {
      pde |= PTE_A;
      physWrite32(pdeAddr, pde);
      if (large) ent = pde;
    }
    let nent = ent | PTE_A;
    if (write) nent |= PTE_D;
    if (nent != ent) { physWrite32(entAddr, nent); ent = nent; }
    const dirty = (ent & PTE_D) != 0;
    if ((perm & PTE_U) == 0) deny |= DENY_UR | DENY_UW;
    if ((perm & PTE_W) == 0) { deny |= DENY_UW; if (wp) deny |= DENY_SW; }
    if (!dirty) deny |= DENY_SW | DENY_UW;
    if ((ent & PTE_G) != 0 && (c4 & CR4_PGE) != 0) global = 1;
    phys = phys & a20Mask;
    if (nestedFormat != 0) {
      // The guest-physical address of the access itself (an EPT violation reports it).
      phys = nestedRef(phys | (lin & 0xfff), acc, lin, true) & 0xfffff000;
      if (faulted) return false;
    }
  }
  if (nestedFormat != 0) {
    // A page the nested tables do not let the guest write (or whose dirty flag is still
    // clear) takes writes through the walk.
    if ((nestedPerm & ACC_WRITE) == 0 || !nestedDirty) deny |= DENY_SW | DENY_UW;
  }
  walkPhys = phys | (lin & 0xfff);
  // Fill the TLB entry according to what sits at the physical page.
  const kind = classify(phys & 0xfffff000);
  if (pageIsMixed(phys)) deny = DENY_ALL;
  else if (kind == PAGE_ROM) deny |= DENY_SW | DENY_UW;
  else if (kind == PAGE_MMIO) deny = DENY_ALL;
  else if (kind != PAGE_RAM) deny |= DENY_SW | DENY_UW;
  const i = (lin >>> 12) & TLB_MASK;
  if (fillCount < FILL_LOG_MAX) store<u32>(TLB_FILL_LOG + (fillCount << 2), i);
  if (fillCount <= FILL_LOG_MAX) fillCount++;
  store<u32>(TLB_TAG + (i << 2), (lin & 0xfffff000) | deny | DENY_SLOW);
  store<u32>(TLB_ADD + (i << 2), classHost - (lin & 0xfffff000));
  store<u32>(TLB_GLOBAL + (i << 2), global);
  return true;
}

/** The linear address of the last #PF: CR2 is written when the #PF is delivered in
 *  non-root operation (an intercepted #PF leaves CR2 alone: SDM vol. 3C, 28.1). */
export let pfLinear: u32 = 0;
function pageFault(lin: u32, code: u32): void {
  pfLinear = lin;
  if (guestMode == 0) store<u32>(STATE_BASE + S_CR2, lin);
  raise(PF_VEC, code, true);
}
