// The second dimension of address translation (issue 9, section 4): every guest-physical
// address the walk of mem/tlb.ts produces (each guest paging-structure reference and the
// final address) goes through nestedWalk() while a nested format is active, and becomes a
// host-physical address.
//
// Formats:
//   NESTED_EPT    Intel EPT, 4 levels (SDM vol. 3C, 29.3 "The Extended Page Table
//                 Mechanism"): 64-bit entries, R/W/X permissions, 1 GiB and 2 MiB pages,
//                 accessed and dirty flags when EPTP bit 6 is set (29.3.5), EPT violations
//                 (29.3.3.2) and misconfigurations (29.3.3.1) reported to assembly/vmx.
//   NESTED_NPT32  AMD nested paging with a legacy 2-level table (APM vol. 2, 15.25) and the
//   NESTED_NPT64  4-level long-mode format: the walk of assembly/svm/npt.ts, #NPF reported
//                 by assembly/svm/intercepts.ts; the same page-walk cache (non-leaf
//                 entries, in npt.ts's walks) and nested TLB as EPT.
// Counters: nested walks (S_CNT_NWALK) and their memory references (S_CNT_NWALK_REFS); the
// page-walk cache (S_CNT_PWC_HIT/MISS) keeps nested non-leaf entries by level and
// address; the nested TLB (S_CNT_NTLB_HIT/MISS) keeps the final guest-physical page ->
// host-physical page with its permissions. Both are switchable (S_NESTED_CACHES,
// setNestedCaches) and emptied by every change of the nested tables' root or INVEPT.
// With both off, a 2-level guest walk under 4-level EPT costs 2 + 3 x 4 = 14 references
// (Bhargava et al., "Accelerating two-dimensional page walks for virtualized systems",
// ASPLOS 2008: (n + 1)(m + 1) - 1 with n = 2, m = 4).
import {
  STATE_BASE, S_CNT_NWALK, S_CNT_NWALK_REFS, S_CNT_PWC_HIT, S_CNT_PWC_MISS, S_CNT_NTLB_HIT,
  S_CNT_NTLB_MISS, S_NESTED_CACHES, NTLB_TAG, NTLB_VAL, NTLB_ENTRIES, PWC_TAG, PWC_VAL,
  PWC_ENTRIES,
} from '../generated/layout';
import { physRead32, physWrite32 } from './phys';
import { faulted } from '../cpu/fault';
import { eptViolation, eptMisconfig } from '../vmx/exits';
import { nptFault, nptTranslate } from '../svm/intercepts';
import { nptPerm, nptDirty, setNptPwc } from '../svm/npt';

export const NESTED_OFF: u32 = 0;
export const NESTED_EPT: u32 = 1;
export const NESTED_NPT32: u32 = 2;
export const NESTED_NPT64: u32 = 3;

/** Access kinds of a nested reference (EPT violation qualification bits 2:0). */
export const ACC_READ: u32 = 1;
export const ACC_WRITE: u32 = 2;
export const ACC_EXEC: u32 = 4;

/** The active format (NESTED_*), the root (EPTP bits 31:12 / nCR3) and, for EPT, whether
 *  accessed and dirty flags are on (EPTP bit 6). */
export let nestedFormat: u32 = NESTED_OFF;
let root: u32 = 0;
let adOn: bool = false;
/** Permissions (ACC_* bits) of the last successful translation, all levels combined, and
 *  whether its leaf is dirty (or dirty flags are off): a TLB entry of a page that may not
 *  be written through allows no writes. */
export let nestedPerm: u32 = 0;
export let nestedDirty: bool = true;

let pwcOn: bool = false;
let ntlbOn: bool = false;

@inline function cnt(off: u32): void {
  store<u64>(STATE_BASE + off, load<u64>(STATE_BASE + off) + 1);
}

/** The format, root and A/D flag the caches were last filled under (kept across NESTED_OFF:
 *  cached translations are tagged by their tables and survive a world switch, SDM vol. 3C
 *  29.4.1 and APM vol. 2 15.16, until INVEPT, a TLB_CONTROL flush or another root). */
let cachedFormat: u32 = NESTED_OFF;
let cachedRoot: u32 = 0;
let cachedAd: bool = false;

/** Selects the nested format and its root (entry to non-root operation); NESTED_OFF on exit.
 *  Entering with a different root or format empties the caches; so does every entry with
 *  `keep` false (a guest's own VMM: the tables may have changed, as no reference keeps
 *  translations across its entries), while the TypeScript VMM's entries (`keep`, tables
 *  that only gain entries) find them again. */
export function setNested(format: u32, rootAddr: u32, ad: bool, keep: bool = false): void {
  if (format != NESTED_OFF) {
    if (!keep || format != cachedFormat || rootAddr != cachedRoot || ad != cachedAd) {
      nestedFlush();
    }
    cachedFormat = format; cachedRoot = rootAddr; cachedAd = ad;
  }
  nestedFormat = format;
  root = rootAddr;
  adOn = ad;
  const c = load<u32>(STATE_BASE + S_NESTED_CACHES);
  pwcOn = (c & 1) != 0;
  ntlbOn = (c & 2) != 0;
  setNptPwc(pwcOn);
}

/** Empties the page-walk cache and the nested TLB (INVEPT, a new root, setNestedCaches). */
export function nestedFlush(): void {
  memory.fill(NTLB_TAG, 0xff, NTLB_ENTRIES * 4);
  memory.fill(PWC_TAG, 0xff, PWC_ENTRIES * 4);
}

/** Re-reads the switches (setNestedCaches) and empties both caches. */
export function nestedCachesChanged(): void {
  const c = load<u32>(STATE_BASE + S_NESTED_CACHES);
  pwcOn = (c & 1) != 0;
  ntlbOn = (c & 2) != 0;
  setNptPwc(pwcOn);
  nestedFlush();
}

// EPT entry bits (SDM vol. 3C, tables 29-1 .. 29-6).
const EPT_R: u32 = 1;
const EPT_W: u32 = 2;
const EPT_X: u32 = 4;
const EPT_PS: u32 = 1 << 7;
const EPT_A: u32 = 1 << 8;
const EPT_D: u32 = 1 << 9;

/**
 * Translates guest-physical `gpa` for an access of kind `acc` (ACC_*). `lin`, `linValid`:
 * the guest-linear address that led here, and whether there is one; `final`: the reference
 * is the final translation of that linear address (not a guest paging-structure entry).
 * Returns the host-physical address; on a violation or misconfiguration the vendor code
 * raises its exit and `faulted` is set (the return value is then 0).
 */
export function nestedWalk(gpa: u32, acc: u32, lin: u32, linValid: bool, final: bool): u32 {
  if (nestedFormat == NESTED_EPT) return eptWalk(gpa, acc, lin, linValid, final);
  if (nestedFormat == NESTED_NPT32 || nestedFormat == NESTED_NPT64) {
    // The AMD formats (APM vol. 2, 15.25): the SVM code's walk (with the page-walk cache
    // of its non-leaf entries), behind the same nested TLB as EPT.
    if (ntlbOn) {
      const hit = ntlbLookup(gpa, acc);
      if (hit != 0xffffffff) return hit;
    }
    const h = nptTranslate(gpa, acc, nestedFormat == NESTED_NPT64, root);
    if (!faulted && h == 0xffffffff) { nptFault(gpa, acc, final); return 0; }
    nestedPerm = nptPerm; nestedDirty = nptDirty;
    if (ntlbOn && !faulted) ntlbFill(gpa, h, nptPerm, nptDirty);
    return h;
  }
  return gpa;
}

/** The nested TLB slot of a guest-physical page. */
@inline function ntlbSlot(gpa: u32): u32 { return (gpa >>> 12) & (<u32>NTLB_ENTRIES - 1); }

/** The nested TLB: the host-physical address of `gpa` when a completed translation of its
 *  page allows access `acc` (a write needs a dirty leaf), counted; else 0xffffffff (a miss,
 *  counted). Sets nestedPerm and nestedDirty on a hit. */
@inline function ntlbLookup(gpa: u32, acc: u32): u32 {
  const s = ntlbSlot(gpa);
  const tag = load<u32>(NTLB_TAG + (s << 2));
  if ((tag & 0xfffff000) == (gpa & 0xfffff000) && tag != 0xffffffff) {
    const perm = tag & 7;
    const dirty = (tag & 8) != 0;
    if ((acc & ~perm) == 0 && (dirty || (acc & ACC_WRITE) == 0)) {
      cnt(S_CNT_NTLB_HIT);
      nestedPerm = perm; nestedDirty = dirty;
      return load<u32>(NTLB_VAL + (s << 2)) | (gpa & 0xfff);
    }
  }
  cnt(S_CNT_NTLB_MISS);
  return 0xffffffff;
}

/** Records a completed translation of the page of `gpa` in the nested TLB. */
function ntlbFill(gpa: u32, hpa: u32, perm: u32, dirty: bool): void {
  const s = ntlbSlot(gpa);
  store<u32>(NTLB_TAG + (s << 2), (gpa & 0xfffff000) | perm | (dirty ? 8 : 0));
  store<u32>(NTLB_VAL + (s << 2), hpa & 0xfffff000);
}

/** The page-walk cache, shared by the formats (one format at a time: a change of format
 *  empties it): the non-leaf entry at host-physical `addr` of `level`, cached when
 *  pwcLookup returns true (in pwcLo/pwcHi). Counted. */
export let pwcLo: u32 = 0;
export let pwcHi: u32 = 0;
@inline function pwcSlot(addr: u32, level: u32): u32 {
  return ((addr >>> 2) ^ (addr >>> 12) ^ (level << 7)) & (<u32>PWC_ENTRIES - 1);
}
export function pwcLookup(addr: u32, level: u32): bool {
  const s = pwcSlot(addr, level);
  if (load<u32>(PWC_TAG + (s << 2)) == (addr | level)) {
    const v = load<u64>(PWC_VAL + (s << 3));
    pwcLo = <u32>v; pwcHi = <u32>(v >> 32);
    cnt(S_CNT_PWC_HIT);
    return true;
  }
  cnt(S_CNT_PWC_MISS);
  return false;
}
export function pwcFill(addr: u32, level: u32, lo: u32, hi: u32): void {
  const s = pwcSlot(addr, level);
  store<u32>(PWC_TAG + (s << 2), addr | level);
  store<u64>(PWC_VAL + (s << 3), (<u64>hi << 32) | <u64>lo);
}

/** EPT (SDM vol. 3C, 29.3.2 "EPT Translation Mechanism"). */
function eptWalk(gpa: u32, acc: u32, lin: u32, linValid: bool, final: bool): u32 {
  // The nested TLB: page, permissions and dirty state of a completed translation.
  if (ntlbOn) {
    const hit = ntlbLookup(gpa, acc);
    if (hit != 0xffffffff) return hit;
  }
  cnt(S_CNT_NWALK);
  let table = root;
  let perm: u32 = EPT_R | EPT_W | EPT_X;
  // Levels 4 (PML4) .. 1 (PT); the index of level l is bits 12 + 9(l-1) .. of the GPA (a
  // 32-bit GPA: the PML4 index is always 0).
  for (let level: i32 = 4; level >= 1; level--) {
    const shift = <u32>(12 + 9 * (level - 1));
    const idx: u32 = level == 4 ? 0 : (gpa >>> shift) & 0x1ff;
    const addr = table + (idx << 3);
    let lo: u32, hi: u32;
    let cached = false;
    let ps: u32 = 0;
    // The page-walk cache holds non-leaf entries (levels 4..2 pointing to a table).
    const pslot = ((idx ^ (table >>> 12) ^ (<u32>level << 7)) & (<u32>PWC_ENTRIES - 1));
    if (pwcOn && level >= 2) {
      if (load<u32>(PWC_TAG + (pslot << 2)) == (addr | <u32>level)) {
        const v = load<u64>(PWC_VAL + (pslot << 3));
        lo = <u32>v; hi = <u32>(v >> 32);
        cached = true;
        cnt(S_CNT_PWC_HIT);
      } else {
        cnt(S_CNT_PWC_MISS);
        lo = 0; hi = 0;
      }
    } else { lo = 0; hi = 0; }
    if (!cached) {
      cnt(S_CNT_NWALK_REFS);
      lo = physRead32(addr);
      hi = physRead32(addr + 4);
    }
    const rwx = lo & 7;
    if (rwx == 0) { eptViolation(gpa, acc, perm & rwx, lin, linValid, final); return 0; }
    // Misconfigurations (29.3.3.1): write without read; execute-only (IA32_VMX_EPT_VPID_CAP
    // bit 0 is 0); bits above the 32-bit physical-address width (bits 51:32) set; reserved
    // bits 7:3 of a PML4E, bit 7 of a PML4E; a leaf's memory type 2, 3 or 7; the reserved
    // address bits of a large page.
    let bad = (rwx & EPT_W) != 0 && (rwx & EPT_R) == 0;
    bad = bad || rwx == EPT_X;
    bad = bad || (hi & 0x000fffff) != 0;
    ps = lo & EPT_PS;
    const leaf = level == 1 || ((level == 2 || level == 3) && ps != 0);
    if (level == 4 && (lo & 0xf8) != 0) bad = true;
    if (leaf) {
      const mt = (lo >> 3) & 7;
      if (mt == 2 || mt == 3 || mt == 7) bad = true;
      if (level == 3 && (lo & 0x3ffff000) != 0) bad = true;
      if (level == 2 && (lo & 0x001ff000) != 0) bad = true;
    } else if (level < 4 && (lo & 0x78) != 0) bad = true; // bits 6:3 of a non-leaf entry
    if (bad) { eptMisconfig(gpa, lin, linValid); return 0; }
    perm &= rwx;
    if (!cached && pwcOn && level >= 2 && !leaf) {
      store<u32>(PWC_TAG + (pslot << 2), addr | <u32>level);
      store<u64>(PWC_VAL + (pslot << 3), (<u64>hi << 32) | <u64>lo);
    }
    if (leaf) {
      if ((acc & ~perm) != 0) {
        eptViolation(gpa, acc, perm, lin, linValid, final);
        return 0;
      }
      // Accessed and dirty flags (29.3.5): set on every entry used; dirty on the leaf of a
      // write. Without them the leaf counts as dirty.
      let dirty = true;
      if (adOn) {
        let nlo = lo | EPT_A;
        if ((acc & ACC_WRITE) != 0) nlo |= EPT_D;
        if (nlo != lo) physWrite32(addr, nlo);
        dirty = (nlo & EPT_D) != 0;
      }
      const size: u32 = level == 3 ? 0x40000000 : level == 2 ? 0x200000 : 0x1000;
      const hpa = (lo & 0xfffff000 & ~(size - 1)) | (gpa & (size - 1));
      nestedPerm = perm;
      nestedDirty = dirty;
      if (ntlbOn) {
        const s = ntlbSlot(gpa);
        store<u32>(NTLB_TAG + (s << 2), (gpa & 0xfffff000) | perm | (dirty ? 8 : 0));
        store<u32>(NTLB_VAL + (s << 2), hpa & 0xfffff000);
      }
      return hpa;
    }
    if (adOn && (lo & EPT_A) == 0 && !cached) physWrite32(addr, lo | EPT_A);
    table = lo & 0xfffff000;
  }
  return 0; // not reached: level 1 is always a leaf
}
