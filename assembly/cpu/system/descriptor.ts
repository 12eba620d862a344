// Segment descriptors (Intel SDM vol. 3A, 3.4.5 code and data, 3.5 system descriptors and
// gates): reading them from the GDT/LDT and converting them to the segment cache (VMCS
// access-rights format, SDM vol. 3C, 25.4.1).
//
// The descriptor last read is kept in descLo/descHi/descAddr. Paths that need several at
// once (a gate, its code segment and a new stack segment) save one with descSave() and
// bring it back with descUse(); the pure helpers (baseOf, limitOf, ...) work on any copy.
import { STATE_BASE, S_GDTR_BASE, S_GDTR_LIMIT } from '../../generated/layout';
import { segBase, segLimit, segAccess, LDTR, AR_UNUSABLE } from '../state';
import { sysRd32, sysWr32 } from './sysmem';
import { faulted, raise, GP } from '../fault';

export let descLo: u32 = 0;
export let descHi: u32 = 0;
/** Linear address of the descriptor last read (for setting its accessed or busy bit). */
export let descAddr: u32 = 0;

// System descriptor types (S = 0), SDM vol. 3A, table 3-2.
export const SYS_TSS16_AVAIL: u32 = 1;
export const SYS_LDT: u32 = 2;
export const SYS_TSS16_BUSY: u32 = 3;
export const SYS_CALL_GATE16: u32 = 4;
export const SYS_TASK_GATE: u32 = 5;
export const SYS_INT_GATE16: u32 = 6;
export const SYS_TRAP_GATE16: u32 = 7;
export const SYS_TSS32_AVAIL: u32 = 9;
export const SYS_TSS32_BUSY: u32 = 11;
export const SYS_CALL_GATE32: u32 = 12;
export const SYS_INT_GATE32: u32 = 14;
export const SYS_TRAP_GATE32: u32 = 15;

/**
 * Reads the descriptor of `sel` into descLo/descHi. When the selector is outside its table
 * (or names the LDT while LDTR is unusable) raises exception `vector` with the error code
 * `sel & ~3 | ext` and returns false. Null selectors are the caller's business.
 */
export function fetchDescriptor(sel: u32, vector: i32, ext: u32): bool {
  let base: u32, limit: u32;
  if ((sel & 4) != 0) {
    if ((segAccess(LDTR) & AR_UNUSABLE) != 0) { raise(vector, (sel & 0xfffc) | ext, true); return false; }
    base = segBase(LDTR); limit = segLimit(LDTR);
  } else {
    base = load<u32>(STATE_BASE + S_GDTR_BASE); limit = load<u32>(STATE_BASE + S_GDTR_LIMIT);
  }
  const idx = sel & 0xfff8;
  if (<u64>idx + 7 > <u64>limit) { raise(vector, (sel & 0xfffc) | ext, true); return false; }
  descAddr = base + idx;
  descLo = sysRd32(descAddr);
  if (faulted) return false;
  descHi = sysRd32(descAddr + 4);
  return !faulted;
}

/** Reads the descriptor of `sel` like fetchDescriptor but only reports (false) a selector
 *  outside its table: LAR, LSL, VERR and VERW clear ZF there instead of faulting. A page
 *  fault on the table is still raised (check `faulted`). */
export function peekDescriptor(sel: u32): bool {
  let base: u32, limit: u32;
  if ((sel & 4) != 0) {
    if ((segAccess(LDTR) & AR_UNUSABLE) != 0) return false;
    base = segBase(LDTR); limit = segLimit(LDTR);
  } else {
    base = load<u32>(STATE_BASE + S_GDTR_BASE); limit = load<u32>(STATE_BASE + S_GDTR_LIMIT);
  }
  const idx = sel & 0xfff8;
  if (<u64>idx + 7 > <u64>limit) return false;
  descAddr = base + idx;
  descLo = sysRd32(descAddr);
  if (faulted) return false;
  descHi = sysRd32(descAddr + 4);
  return !faulted;
}

/** fetchDescriptor with #GP(sel), the common case (SDM vol. 3A, 5.4 and 6.13). */
export function readDescriptor(sel: u32): bool { return fetchDescriptor(sel, GP, 0); }

/** The descriptor last read as one value, for descUse(). */
@inline export function descSave(): u64 { return (<u64>descHi << 32) | <u64>descLo; }
/** Makes a saved descriptor (read at linear address `addr`) the current one again. */
export function descUse(d: u64, addr: u32): void { descLo = <u32>d; descHi = <u32>(d >>> 32); descAddr = addr; }

// ---- Pure field helpers (lo = bytes 0-3, hi = bytes 4-7) ----

@inline export function baseOf(lo: u32, hi: u32): u32 { return (lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000); }
/** The limit in bytes: with G set, 4 KiB units and the low 12 bits all ones (SDM 3.4.5). */
@inline export function limitOf(lo: u32, hi: u32): u32 {
  const l = (hi & 0xf0000) | (lo & 0xffff);
  return (hi & (1 << 23)) != 0 ? (l << 12) | 0xfff : l;
}
/** Access rights in the VMCS format: descriptor bits 40-47 to 0-7 and 52-55 to 12-15. */
@inline export function accessOf(hi: u32): u32 { return (hi >>> 8) & 0xf0ff; }
@inline export function dplOf(hi: u32): u32 { return (hi >> 13) & 3; }
@inline export function presentOf(hi: u32): bool { return (hi & (1 << 15)) != 0; }
/** Type with the S bit: 0x00-0x0f system, 0x10-0x17 data, 0x18-0x1f code. */
@inline export function typeOf(hi: u32): u32 { return (hi >> 8) & 0x1f; }
@inline export function isCode(t: u32): bool { return (t & 0x18) == 0x18; }
@inline export function isConforming(t: u32): bool { return (t & 0x1c) == 0x1c; }
/** A writable data segment: the only kind SS accepts (SDM vol. 3A, 5.5 and 5.6). */
@inline export function isWritableData(t: u32): bool { return (t & 0x1a) == 0x12; }

/** Gate fields (SDM vol. 3A, figures 5-8 and 6-2): target selector, offset, parameter count. */
@inline export function gateSelector(lo: u32): u32 { return lo >>> 16; }
@inline export function gateOffset(lo: u32, hi: u32, is32: bool): u32 {
  return is32 ? (hi & 0xffff0000) | (lo & 0xffff) : lo & 0xffff;
}
@inline export function gateParams(hi: u32): u32 { return hi & 0x1f; }

// ---- The current descriptor ----

@inline export function descBase(): u32 { return baseOf(descLo, descHi); }
@inline export function descLimit(): u32 { return limitOf(descLo, descHi); }
@inline export function descAccess(): u32 { return accessOf(descHi); }
@inline export function descDpl(): u32 { return dplOf(descHi); }
@inline export function descPresent(): bool { return presentOf(descHi); }
@inline export function descType(): u32 { return typeOf(descHi); }

/** Sets the accessed bit of a code/data descriptor in memory (SDM vol. 3A, 3.4.5.1). */
export function setAccessed(): void {
  if ((descHi & 0x100) == 0) {
    descHi |= 0x100;
    sysWr32(descAddr + 4, descHi);
  }
}
