// Segmented and linear memory access: segment limit and rights checks, the TLB fast path
// (one masked compare), and the slow path (TLB miss, page-crossing accesses, ROM, MMIO,
// unclaimed addresses). Also the instruction fetch with its cached code page.
import {
  STATE_BASE, S_CR0, S_CPL, SEGX_TABLE, SEGX_ENTRY_SIZE, SX_BASE, SX_LO, SX_SPAN_READ,
  SX_SPAN_WRITE,
} from '../generated/layout';
import {
  TLB_TAG, TLB_ADD, TLB_MASK, DENY_SR, DENY_SW, DENY_UR, DENY_UW, translate, walkPhys, setWalkExec,
  countHit, DENY_SLOW, fetchClamp, fetchStart, fetchEnd, fetchEnd2, fetchEnd4, fetchBias,
  setFetch, fetchInvalidate,
} from '../mem/tlb';
import { classify, classHost, PAGE_RAM, PAGE_ROM, PAGE_MMIO } from '../mem/phys';
import { raise, raiseGP, GP, SS_VEC, faulted } from './fault';
import { hostAccess, KIND_MMIO } from './iolog';
import { segBase, segLimit, segAccess, segSel, SS, CS, CR0_PE, AR_UNUSABLE, AR_DB } from './state';
import { flags, VM } from './flags';
import { updateDebug, slowData, checkData } from './debug';

/** Derived per-segment check data (SEGX_ENTRY in scripts/layout.mjs). */
@inline function segx(s: u32): u32 { return SEGX_TABLE + s * SEGX_ENTRY_SIZE; }

/** True when the current privilege level is 3 (paging's user/supervisor distinction). */
export let user: bool = false;
let rdMask: u32 = 0xfffff001; // | DENY_SR (a literal: mem/tlb.ts may initialize later)
let wrMask: u32 = 0xfffff002; // | DENY_SW

/** Default operand/address size of the code segment (CS.D) and stack size (SS.B). */
export let code32: bool = false;
export let stack32: bool = false;
/** True when the decoder's per-instruction prefix state must be reset to the defaults
 *  (after a prefixed instruction, or when CS.D changed). */
export let prefixDirty: bool = true;
@inline export function setPrefixDirty(v: bool): void { prefixDirty = v; }

/** EIP of the next byte to decode; the instruction's EIP when it started. */
export let ip: u32 = 0;
export let startIp: u32 = 0;
/** Sets EIP; a target below the cached code window drops the window (see fetchEnd). */
@inline export function setIp(v: u32): void { ip = v; if (v < fetchStart) fetchInvalidate(); }
/** Marks the start of an instruction (the restart point of a fault). */
@inline export function beginInsn(): void { startIp = ip; }


@inline export function wrMaskNow(): u32 { return wrMask; }

/** Recomputes the privilege-dependent masks after a CPL change. */
export function updateCpl(): void {
  user = load<u32>(STATE_BASE + S_CPL) == 3;
  updateDebug(); // calls refreshMasks()
  fetchInvalidate();
}

/** Recomputes the TLB masks of the current privilege (and of the debug/alignment state). */
export function refreshMasks(): void {
  // DENY_SLOW is set in every TLB tag: adding it to the masks sends every data access to
  // the slow path, where alignment checks and data breakpoints are done.
  const slow: u32 = slowData ? DENY_SLOW : 0;
  rdMask = 0xfffff000 | (user ? DENY_UR : DENY_SR) | slow;
  wrMask = 0xfffff000 | (user ? DENY_UW : DENY_SW) | slow;
  fetchMask = 0xfffff000 | (user ? DENY_UR : DENY_SR);
}
let fetchMask: u32 = 0xfffff001; // | DENY_SR

/**
 * Recomputes the check data of segment register `s` from its cache in the state block.
 * Called whenever a segment register changes. Limits and types: SDM vol. 3A, 5.3 and 3.4.5.1.
 */
export function segUpdate(s: u32): void {
  const p = segx(s);
  const base = segBase(s);
  const limit = segLimit(s);
  const ar = segAccess(s);
  store<u32>(p + SX_BASE, base);
  let lo: u32 = 0;
  let spanR: i64 = <i64>limit;
  let spanW: i64 = <i64>limit;
  const pe = (load<u32>(STATE_BASE + S_CR0) & CR0_PE) != 0 && (flags & VM) == 0;
  if (pe) {
    if ((ar & AR_UNUSABLE) != 0) {
      spanR = -1; spanW = -1;
    } else {
      const type = ar & 0xf;
      if ((type & 8) != 0) {          // code: readable if type bit 1, never writable
        if ((type & 2) == 0) spanR = -1;
        spanW = -1;
      } else {
        // Expand-down data: valid offsets limit+1 .. 0xFFFF or 0xFFFFFFFF.
        if ((type & 4) != 0) {
          const hi: u32 = (ar & AR_DB) != 0 ? 0xffffffff : 0xffff;
          lo = limit + 1;
          spanR = lo > hi || limit == 0xffffffff ? -1 : <i64>(hi - lo);
          spanW = spanR;
        }
        if ((type & 2) == 0) spanW = -1;
      }
    }
  }
  store<u32>(p + SX_LO, lo);
  store<i64>(p + SX_SPAN_READ, spanR);
  store<i64>(p + SX_SPAN_WRITE, spanW);
  const bit: u32 = 1 << s;
  const flat = base == 0 && lo == 0;
  flatRd = flat && spanR == 0xffffffff ? flatRd | bit : flatRd & ~bit;
  flatWr = flat && spanW == 0xffffffff ? flatWr | bit : flatWr & ~bit;
  if (s == CS) { fetchInvalidate(); code32 = pe && (ar & AR_DB) != 0; prefixDirty = true; }
  else if (s == SS) stack32 = pe && (ar & AR_DB) != 0;
}

export function segUpdateAll(): void {
  for (let s: u32 = 0; s < 6; s++) segUpdate(s);
}

function segFault(s: u32): void {
  // #SS(0) for the stack segment, #GP(0) otherwise (SDM vol. 3A, 6.15, interrupts 12 and 13).
  if (s == SS) raise(SS_VEC, 0, true); else raise(GP, 0, true);
}

/**
 * Segments whose base is 0 and whose offsets 0..0xFFFFFFFF are all valid for a read
 * (flatRd) or a write (flatWr), one bit per segment register, kept by segUpdate: for them
 * the linear address is the offset, and only an access running past 0xFFFFFFFF faults.
 */
let flatRd: u32 = 0, flatWr: u32 = 0;

/** Linear address of seg:off for a read of `n` bytes, or faults. */
@inline export function linRd(s: u32, off: u32, n: u32): u32 {
  if ((flatRd & (1 << s)) != 0 && off <= ~(n - 1)) return off;
  const p = segx(s);
  if (<i64>(<u64>(off - load<u32>(p, SX_LO)) + <u64>(n - 1)) > load<i64>(p, SX_SPAN_READ)) {
    segFault(s);
    return 0;
  }
  return load<u32>(p, SX_BASE) + off;
}
@inline export function linWr(s: u32, off: u32, n: u32): u32 {
  if ((flatWr & (1 << s)) != 0 && off <= ~(n - 1)) return off;
  const p = segx(s);
  if (<i64>(<u64>(off - load<u32>(p, SX_LO)) + <u64>(n - 1)) > load<i64>(p, SX_SPAN_WRITE)) {
    segFault(s);
    return 0;
  }
  return load<u32>(p, SX_BASE) + off;
}

/** True when offsets off .. off+len-1 (len >= 1, not wrapping) of segment `s` may be read
 *  (or written) without a fault; raises nothing. */
export function segSpanOk(s: u32, off: u32, len: u32, write: bool): bool {
  const p = segx(s);
  const span = write ? load<i64>(p, SX_SPAN_WRITE) : load<i64>(p, SX_SPAN_READ);
  return <i64>(<u64>(off - load<u32>(p, SX_LO)) + <u64>(len - 1)) <= span;
}

/** Host address of linear `lin` when its page is in the TLB for a data read (or write)
 *  with the current privilege and no slow-path check pending, else 0. */
export function tlbHost(lin: u32, write: bool): u32 {
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & (write ? wrMask : rdMask)) != (lin & 0xfffff000)) return 0;
  return load<u32>(TLB_ADD + (i << 2)) + lin;
}

// ---- Linear accesses with the current privilege (fast path inline) ----

@inline export function rdLin8(lin: u32): u32 {
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & rdMask) == (lin & 0xfffff000)) {
    countHit();
    return load<u8>(load<u32>(TLB_ADD + (i << 2)) + lin);
  }
  return rdData(lin, 1);
}
@inline export function rdLin16(lin: u32): u32 {
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & rdMask) == (lin & 0xfffff000) && (lin & 0xfff) <= 0xffe) {
    countHit();
    return load<u16>(load<u32>(TLB_ADD + (i << 2)) + lin);
  }
  return rdData(lin, 2);
}
@inline export function rdLin32(lin: u32): u32 {
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & rdMask) == (lin & 0xfffff000) && (lin & 0xfff) <= 0xffc) {
    countHit();
    return load<u32>(load<u32>(TLB_ADD + (i << 2)) + lin);
  }
  return rdData(lin, 4);
}
@inline export function wrLin8(lin: u32, v: u32): void {
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & wrMask) == (lin & 0xfffff000)) {
    countHit();
    store<u8>(load<u32>(TLB_ADD + (i << 2)) + lin, <u8>v);
    return;
  }
  wrData(lin, v, 1);
}
@inline export function wrLin16(lin: u32, v: u32): void {
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & wrMask) == (lin & 0xfffff000) && (lin & 0xfff) <= 0xffe) {
    countHit();
    store<u16>(load<u32>(TLB_ADD + (i << 2)) + lin, <u16>v);
    return;
  }
  wrData(lin, v, 2);
}
@inline export function wrLin32(lin: u32, v: u32): void {
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & wrMask) == (lin & 0xfffff000) && (lin & 0xfff) <= 0xffc) {
    countHit();
    store<u32>(load<u32>(TLB_ADD + (i << 2)) + lin, v);
    return;
  }
  wrData(lin, v, 4);
}

// ---- Segmented accesses ----

@inline export function rd8(s: u32, off: u32): u32 {
  const l = linRd(s, off, 1); if (faulted) return 0; return rdLin8(l);
}
@inline export function rd16(s: u32, off: u32): u32 {
  const l = linRd(s, off, 2); if (faulted) return 0; return rdLin16(l);
}
@inline export function rd32(s: u32, off: u32): u32 {
  const l = linRd(s, off, 4); if (faulted) return 0; return rdLin32(l);
}
@inline export function wr8(s: u32, off: u32, v: u32): void {
  const l = linWr(s, off, 1); if (faulted) return; wrLin8(l, v);
}
@inline export function wr16(s: u32, off: u32, v: u32): void {
  const l = linWr(s, off, 2); if (faulted) return; wrLin16(l, v);
}
@inline export function wr32(s: u32, off: u32, v: u32): void {
  const l = linWr(s, off, 4); if (faulted) return; wrLin32(l, v);
}

export function rdSized(s: u32, off: u32, size: u32): u32 {
  if (size == 32) return rd32(s, off);
  if (size == 16) return rd16(s, off);
  return rd8(s, off);
}
export function wrSized(s: u32, off: u32, v: u32, size: u32): void {
  if (size == 32) wr32(s, off, v);
  else if (size == 16) wr16(s, off, v);
  else wr8(s, off, v);
}

/** Checks that seg:off can be written with `n` bytes (segment and paging) without writing:
 *  used before a read-modify-write or a multi-part store so that a fault leaves no trace. */
export function probeWrite(s: u32, off: u32, n: u32): void {
  const lin = linWr(s, off, n);
  if (faulted) return;
  probeLinWrite(lin, n, user);
}
export function probeLinWrite(lin: u32, n: u32, usr: bool): void {
  if (!translate(lin, true, usr)) return;
  const last = lin + n - 1;
  // The second page is checked at its first byte (CR2 names it on a fault there).
  if ((last ^ lin) >= 0x1000) translate(last & 0xfffff000, true, usr);
}
export function probeRead(s: u32, off: u32, n: u32): void {
  const lin = linRd(s, off, n);
  if (faulted) return;
  if (!translate(lin, false, user)) return;
  const last = lin + n - 1;
  if ((last ^ lin) >= 0x1000) translate(last & 0xfffff000, false, user);
}

// ---- Slow path ----

/** Data accesses with the current privilege that missed the fast path. */
function rdData(lin: u32, n: u32): u32 {
  if (slowData) { checkData(lin, n, false); if (faulted) return 0; }
  return rdSlow(lin, n, user);
}
function wrData(lin: u32, v: u32, n: u32): void {
  if (slowData) { checkData(lin, n, true); if (faulted) return; }
  wrSlow(lin, v, n, user);
}

/** One byte (or a whole access inside one page) after the TLB missed or denied. */
function rdPage(lin: u32, n: u32, usr: bool): u32 {
  if (!translate(lin, false, usr)) return 0;
  const pa = walkPhys;
  const k = classify(pa);
  if (k == PAGE_MMIO) return hostAccess(KIND_MMIO, pa, n, false, 0);
  const h = classHost;
  if (k == PAGE_RAM || k == PAGE_ROM) {
    if (n == 4) return load<u32>(h);
    if (n == 2) return load<u16>(h);
    return load<u8>(h);
  }
  return n == 4 ? 0xffffffff : ((<u32>1 << (n << 3)) - 1);
}

function wrPage(lin: u32, v: u32, n: u32, usr: bool): void {
  if (!translate(lin, true, usr)) return;
  const pa = walkPhys;
  const k = classify(pa);
  if (k == PAGE_MMIO) { hostAccess(KIND_MMIO, pa, n, true, v); return; }
  if (k != PAGE_RAM) return; // ROM and unclaimed addresses ignore writes
  const h = classHost;
  if (n == 4) store<u32>(h, v);
  else if (n == 2) store<u16>(h, <u16>v);
  else store<u8>(h, <u8>v);
}

export function rdSlow(lin: u32, n: u32, usr: bool): u32 {
  if (((lin & 0xfff) + n) <= 0x1000) return rdPage(lin, n, usr);
  // Crosses a page boundary: byte by byte (each page translated and checked).
  let v: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const b = rdPage(lin + k, 1, usr);
    if (faulted) return 0;
    v |= b << (k << 3);
  }
  return v;
}

export function wrSlow(lin: u32, v: u32, n: u32, usr: bool): void {
  if (((lin & 0xfff) + n) <= 0x1000) { wrPage(lin, v, n, usr); return; }
  // Crosses a page boundary: check both pages first so a fault writes nothing.
  probeLinWrite(lin, n, usr);
  if (faulted) return;
  for (let k: u32 = 0; k < n; k++) {
    wrPage(lin + k, (v >> (k << 3)) & 0xff, 1, usr);
    if (faulted) return;
  }
}

// ---- Supervisor linear accesses for the system machinery (descriptor tables, TSS, IDT) ----

export function sysRead8(lin: u32): u32 { return rdSlow(lin, 1, false); }
export function sysRead16(lin: u32): u32 { return rdSlow(lin, 2, false); }
export function sysRead32(lin: u32): u32 { return rdSlow(lin, 4, false); }
export function sysWrite8(lin: u32, v: u32): void { wrSlow(lin, v, 1, false); }
export function sysWrite16(lin: u32, v: u32): void { wrSlow(lin, v, 2, false); }
export function sysWrite32(lin: u32, v: u32): void { wrSlow(lin, v, 4, false); }

// ---- Instruction fetch ----

@inline export function fetch8(): u32 {
  const p = ip;
  if (p < fetchEnd) { ip = p + 1; return load<u8>(fetchBias + p); }
  return fetchSlow();
}
@inline export function fetch16(): u32 {
  const p = ip;
  if (p < fetchEnd2) { ip = p + 2; return load<u16>(fetchBias + p); }
  const lo = fetchSlow();
  return lo | (fetchSlow() << 8);
}
@inline export function fetch32(): u32 {
  const p = ip;
  if (p < fetchEnd4) { ip = p + 4; return load<u32>(fetchBias + p); }
  const a = fetchSlow(); const b = fetchSlow(); const c = fetchSlow(); const e = fetchSlow();
  return a | (b << 8) | (c << 16) | (e << 24);
}

function fetchSlow(): u32 {
  if (faulted) return 0;
  if (fetchClamp != 0 && ip - startIp >= 15) { raiseGP(0); return 0; } // SDM vol. 2A, 2.3.11
  const limit = segLimit(CS);
  if (ip > limit) { raiseGP(0); return 0; }
  const lin = segBase(CS) + ip;
  setWalkExec(true); // EPT checks execute permission for fetches (mem/nested.ts)
  const ok = translate(lin, false, user);
  setWalkExec(false);
  if (!ok) return 0;
  const k = classify(walkPhys);
  if (k == PAGE_RAM || k == PAGE_ROM) {
    // Cache this page for the following fetches: EIPs from max(ip - pageOffset, 0) to the
    // end of the page or the CS limit, whichever comes first.
    const off = lin & 0xfff;
    const back: u32 = off <= ip ? off : ip;
    const start = ip - back;
    let len: u64 = <u64>(0x1000 - off) + back;
    const toLimit: u64 = <u64>limit - <u64>start + 1;
    if (toLimit < len) len = toLimit;
    const i = (lin >>> 12) & TLB_MASK;
    if ((load<u32>(TLB_TAG + (i << 2)) & fetchMask) == (lin & 0xfffff000)) {
      const end: u64 = <u64>start + len;
      setFetch(start, end > 0xffffffff ? 0xffffffff : <u32>end, classHost - back - start);
    } else {
      fetchInvalidate();
    }
    setIp(ip + 1); // at 0xFFFFFFFF it wraps below the window, which setIp drops
    return load<u8>(classHost);
  }
  const v = rdPage(lin, 1, user);
  if (faulted) return 0;
  setIp(ip + 1);
  return v;
}
