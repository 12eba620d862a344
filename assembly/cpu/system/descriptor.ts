// Segment descriptors (Intel SDM vol. 3A, 3.4.5 code and data, 3.5 system descriptors and
// gates): reading them from the GDT/LDT and converting them to the segment cache (VMCS
// access-rights format, SDM vol. 3C, 25.4.1).
//
// A descriptor is a value: one u64 with bytes 0-3 in the low half and bytes 4-7 in the high
// half, returned by the readers and passed to the field helpers. Paths that need several at
// once (a gate, its code segment and a new stack segment) simply keep several locals. Where
// a descriptor lives (for its accessed or busy bit) is descriptorAddr(sel).
import { STATE_BASE, S_GDTR_BASE, S_GDTR_LIMIT } from '../../generated/layout';
import { segBase, segLimit, segAccess, LDTR, AR_UNUSABLE } from '../state';
import { sysRd32, sysWr32 } from './sysmem';
import { faulted, raise, GP } from '../fault';

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

/** The table (GDT or LDT) base and limit `sel` names; the LDT's limit is -1 (nothing fits)
 *  while LDTR is unusable. */
@inline function tableBase(sel: u32): u32 {
  return (sel & 4) != 0 ? segBase(LDTR) : load<u32>(STATE_BASE + S_GDTR_BASE);
}
@inline function tableLimit(sel: u32): u64 {
  if ((sel & 4) == 0) return <u64>load<u32>(STATE_BASE + S_GDTR_LIMIT);
  return (segAccess(LDTR) & AR_UNUSABLE) != 0 ? <u64>-1 : <u64>segLimit(LDTR);
}
/** True when the 8 bytes of `sel`'s descriptor lie inside its table. */
@inline function inTable(sel: u32): bool {
  const lim = tableLimit(sel);
  return lim != <u64>-1 && <u64>(sel & 0xfff8) + 7 <= lim;
}

/** Linear address of `sel`'s descriptor in the current GDT or LDT (for its accessed or busy
 *  bit; the caller has read it there). */
export function descriptorAddr(sel: u32): u32 { return tableBase(sel) + (sel & 0xfff8); }

/** Reads the 8 bytes at linear address `at` as a descriptor (check `faulted`). */
export function descriptorAt(at: u32): u64 {
  const lo = sysRd32(at);
  if (faulted) return 0;
  const hi = sysRd32(at + 4);
  if (faulted) return 0;
  return (<u64>hi << 32) | <u64>lo;
}

/**
 * Returns the descriptor of `sel`. When the selector is outside its table (or names the LDT
 * while LDTR is unusable) raises exception `vector` with the error code `sel & ~3 | ext`
 * and returns 0; a page fault on the table is raised too: the caller checks `faulted`. Null
 * selectors are the caller's business.
 */
export function fetchDescriptor(sel: u32, vector: i32, ext: u32): u64 {
  if (!inTable(sel)) { raise(vector, (sel & 0xfffc) | ext, true); return 0; }
  return descriptorAt(descriptorAddr(sel));
}

/** Returns the descriptor of `sel` like fetchDescriptor, but a selector outside its table
 *  gives 0 (type 0, which LAR, LSL, VERR and VERW all refuse: they clear ZF there instead
 *  of faulting). A page fault on the table is still raised (check `faulted`). */
export function peekDescriptor(sel: u32): u64 {
  if (!inTable(sel)) return 0;
  return descriptorAt(descriptorAddr(sel));
}

/** fetchDescriptor with #GP(sel), the common case (SDM vol. 3A, 5.4 and 6.13). */
export function readDescriptor(sel: u32): u64 { return fetchDescriptor(sel, GP, 0); }

// ---- Field helpers (the descriptor as a u64: bytes 0-3 low, 4-7 high) ----

@inline export function loOf(d: u64): u32 { return <u32>d; }
@inline export function hiOf(d: u64): u32 { return <u32>(d >>> 32); }
@inline export function baseOf(d: u64): u32 {
  const lo = <u32>d, hi = <u32>(d >>> 32);
  return (lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000);
}
/** The limit in bytes: with G set, 4 KiB units and the low 12 bits all ones (SDM 3.4.5). */
@inline export function limitOf(d: u64): u32 {
  const lo = <u32>d, hi = <u32>(d >>> 32);
  const l = (hi & 0xf0000) | (lo & 0xffff);
  return (hi & (1 << 23)) != 0 ? (l << 12) | 0xfff : l;
}
/** Access rights in the VMCS format: descriptor bits 40-47 to 0-7 and 52-55 to 12-15. */
@inline export function accessOf(d: u64): u32 { return <u32>(d >>> 40) & 0xf0ff; }
@inline export function dplOf(d: u64): u32 { return <u32>(d >>> 45) & 3; }
@inline export function presentOf(d: u64): bool { return (d & (<u64>1 << 47)) != 0; }
/** Type with the S bit: 0x00-0x0f system, 0x10-0x17 data, 0x18-0x1f code. */
@inline export function typeOf(d: u64): u32 { return <u32>(d >>> 40) & 0x1f; }
@inline export function isCode(t: u32): bool { return (t & 0x18) == 0x18; }
@inline export function isConforming(t: u32): bool { return (t & 0x1c) == 0x1c; }
/** A writable data segment: the only kind SS accepts (SDM vol. 3A, 5.5 and 5.6). */
@inline export function isWritableData(t: u32): bool { return (t & 0x1a) == 0x12; }

/** Gate fields (SDM vol. 3A, figures 5-8 and 6-2): target selector, offset, parameter count. */
@inline export function gateSelector(d: u64): u32 { return <u32>d >>> 16; }
@inline export function gateOffset(d: u64, is32: bool): u32 {
  return is32 ? <u32>(d >>> 32) & 0xffff0000 | <u32>d & 0xffff : <u32>d & 0xffff;
}
@inline export function gateParams(d: u64): u32 { return <u32>(d >>> 32) & 0x1f; }

/** Sets the accessed bit of code/data descriptor `d` of `sel` in memory (SDM vol. 3A,
 *  3.4.5.1); returns the descriptor with the bit. May fault (a page fault on the table). */
export function markAccessed(sel: u32, d: u64): u64 {
  const hi = <u32>(d >>> 32);
  if ((hi & 0x100) != 0) return d;
  sysWr32(descriptorAddr(sel) + 4, hi | 0x100);
  return d | (<u64>0x100 << 32);
}
