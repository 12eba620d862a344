// Access to a VMCB (AMD APM vol. 2, appendix B) and to the host save area by physical
// address, at the offsets of assembly/generated/svm.ts. A page of RAM is read and written
// in place (its host address cached per page); anything else goes through the bounds-
// checked physical accessors (reads of unclaimed memory give all ones, writes are dropped),
// so a VMCB anywhere cannot make the core touch memory outside the VM.
import { a20Mask, classify, classHost, pageIsMixed, physRead32, physWrite32, PAGE_RAM } from
  '../mem/phys';
import { STATE_BASE, S_SEG, SEG_SIZE, SEG_SEL, SEG_BASE, SEG_LIMIT, SEG_ACCESS } from
  '../generated/layout';
import { AR_P, AR_UNUSABLE } from '../cpu/state';

let cPage: u32 = 0xffffffff;
let cHost: u32 = 0;

/** Maps the 4-KB page at physical `pa` to the host address `host` until the next
 *  vmcbForget (the host-state copy of assembly/svm/svm.ts). */
export function vmcbBindPage(pa: u32, host: u32): void { cPage = pa & 0xfffff000; cHost = host; }

/** Forgets the cached page (at every VMRUN and #VMEXIT: RAM may have been remapped). */
export function vmcbForget(): void { cPage = 0xffffffff; cHost = 0; }

function hostOf(pa: u32): u32 {
  const pg = pa & 0xfffff000;
  if (pg != cPage) {
    cPage = pg;
    const p = pg & a20Mask;
    cHost = classify(p) == PAGE_RAM && !pageIsMixed(p) ? classHost : 0;
  }
  return cHost;
}

/** 32-bit read at physical `pa` (4-aligned). */
export function pr32(pa: u32): u32 {
  const h = hostOf(pa);
  return h != 0 ? load<u32>(h + (pa & 0xffc)) : physRead32(pa & 0xfffffffc);
}
export function pw32(pa: u32, v: u32): void {
  const h = hostOf(pa);
  if (h != 0) store<u32>(h + (pa & 0xffc), v); else physWrite32(pa & 0xfffffffc, v);
}
export function pr64(pa: u32): u64 { return <u64>pr32(pa) | (<u64>pr32(pa + 4) << 32); }
export function pw64(pa: u32, v: u64): void { pw32(pa, <u32>v); pw32(pa + 4, <u32>(v >> 32)); }
export function pr16(pa: u32): u32 { return (pr32(pa & ~3) >> ((pa & 2) << 3)) & 0xffff; }
export function pr8(pa: u32): u32 { return (pr32(pa & ~3) >> ((pa & 3) << 3)) & 0xff; }
export function pw16(pa: u32, v: u32): void {
  const a = pa & ~3, sh = (pa & 2) << 3;
  pw32(a, (pr32(a) & ~(<u32>0xffff << sh)) | ((v & 0xffff) << sh));
}
export function pw8(pa: u32, v: u32): void {
  const a = pa & ~3, sh = (pa & 3) << 3;
  pw32(a, (pr32(a) & ~(<u32>0xff << sh)) | ((v & 0xff) << sh));
}

// ---- Segment registers (APM vol. 2, table B-2 and 15.5.1) ----
// The VMCB keeps a segment's attributes in 12 bits: the descriptor's byte 5 (type, S, DPL,
// P) in bits 7:0 and its bits 55:52 (AVL, L, D/B, G) in bits 11:8. The core keeps them in
// the VMCS access-rights format (Intel SDM vol. 3C, 25.4.1): bits 7:0 the same, bits 15:12
// AVL, L, D/B, G, bit 16 unusable.

/** The core's access rights of a VMCB attribute word; a segment with P = 0 is unusable. */
export function arOfAttrib(a: u32): u32 {
  const ar = (a & 0xff) | ((a & 0xf00) << 4);
  return (a & AR_P) != 0 ? ar : ar | AR_UNUSABLE;
}
/** The VMCB attribute word of the core's access rights (0 for an unusable segment). */
export function attribOfAr(ar: u32): u32 {
  return (ar & AR_UNUSABLE) != 0 ? 0 : (ar & 0xff) | ((ar >> 4) & 0xf00);
}

@inline function segAt(s: u32): u32 { return STATE_BASE + S_SEG + SEG_SIZE * s; }

/** Loads segment register `s` from the VMCB-format record at physical `pa`. */
export function loadSeg(s: u32, pa: u32, realOrV86: bool): void {
  const p = segAt(s);
  const attr = pr16(pa + 2);
  let ar = arOfAttrib(attr);
  // Real and virtual-8086 mode: every segment is usable (as Bochs' VMRUN does).
  if (realOrV86) ar &= ~AR_UNUSABLE;
  store<u32>(p + SEG_SEL, pr16(pa));
  store<u32>(p + SEG_ACCESS, ar);
  store<u32>(p + SEG_LIMIT, pr32(pa + 4));
  store<u32>(p + SEG_BASE, pr32(pa + 8));
}
/** Stores segment register `s` as a VMCB-format record at physical `pa`. */
export function saveSeg(s: u32, pa: u32): void {
  const p = segAt(s);
  pw16(pa, load<u32>(p + SEG_SEL));
  pw16(pa + 2, attribOfAr(load<u32>(p + SEG_ACCESS)));
  pw32(pa + 4, load<u32>(p + SEG_LIMIT));
  pw64(pa + 8, <u64>load<u32>(p + SEG_BASE));
}
