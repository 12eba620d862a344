// Supervisor-privilege memory accesses of the system machinery (descriptor tables, IDT,
// TSS, frames on a new stack) with the engine's TLB fast path: one masked compare of the
// page's TLB tag, else the engine's slow path (page walk, A/D bits, faults, ROM/MMIO).
// Interrupt delivery and IRET make a dozen such accesses each; this keeps a system call
// from paying a page walk lookup for every one of them.
import { TLB_TAG, TLB_ADD, TLB_MASK, DENY_SR, DENY_SW, DENY_UW, countHit } from '../../mem/tlb';
import { sysRead16, sysRead32, sysWrite32, wrSlow } from '../access';

/** True when the TLB entry of `lin`'s page matches it with none of the `deny` bits and
 *  the `n` bytes at `lin` lie within the page: the access may go straight to host memory. */
@inline function tlbFits(lin: u32, deny: u32, n: u32): bool {
  const tag = load<u32>(TLB_TAG + (((lin >>> 12) & TLB_MASK) << 2));
  return (tag & (0xfffff000 | deny)) == (lin & 0xfffff000) && (lin & 0xfff) <= 0x1000 - n;
}

/** Reads a dword at linear `lin` with supervisor rights. */
@inline export function sysRd32(lin: u32): u32 {
  const i = (lin >>> 12) & TLB_MASK;
  // Safe: a tag that matches with DENY_SR clear maps the whole page to host RAM/ROM for reads.
  if (tlbFits(lin, DENY_SR, 4)) {
    countHit();
    return load<u32>(load<u32>(TLB_ADD + (i << 2)) + lin);
  }
  return sysRead32(lin);
}

/** Reads a word at linear `lin` with supervisor rights. */
@inline export function sysRd16(lin: u32): u32 {
  const i = (lin >>> 12) & TLB_MASK;
  if (tlbFits(lin, DENY_SR, 2)) {
    countHit();
    return load<u16>(load<u32>(TLB_ADD + (i << 2)) + lin);
  }
  return sysRead16(lin);
}

/** Writes a dword at linear `lin` with supervisor rights. */
@inline export function sysWr32(lin: u32, v: u32): void {
  const i = (lin >>> 12) & TLB_MASK;
  // Safe: a tag that matches with DENY_SW clear is a writable RAM page whose dirty bit is set.
  if (tlbFits(lin, DENY_SW, 4)) {
    countHit();
    store<u32>(load<u32>(TLB_ADD + (i << 2)) + lin, v);
    return;
  }
  sysWrite32(lin, v);
}

/** Writes `n` (2 or 4) bytes at linear `lin` with user (`usr`) or supervisor rights. */
@inline export function stackWrite(lin: u32, v: u32, n: u32, usr: bool): void {
  const i = (lin >>> 12) & TLB_MASK;
  const deny: u32 = usr ? DENY_UW : DENY_SW;
  if (tlbFits(lin, deny, n)) {
    countHit();
    const h = load<u32>(TLB_ADD + (i << 2)) + lin;
    if (n == 4) store<u32>(h, v); else store<u16>(h, <u16>v);
    return;
  }
  wrSlow(lin, v, n, usr);
}
