// Descriptor-table and task-register instructions: LGDT/LIDT/SGDT/SIDT, LLDT/SLDT,
// LTR/STR, LAR/LSL/VERR/VERW, ARPL (SDM vol. 2A/2B, each instruction's pseudo-code).
import {
  STATE_BASE, S_GDTR_BASE, S_GDTR_LIMIT, S_IDTR_BASE, S_IDTR_LIMIT, S_CPL,
} from '../../generated/layout';
import { setSegRaw, segSel, LDTR, TR, AR_UNUSABLE } from '../state';
import { rd16, rd32, wr16, wr32, sysWrite32 } from '../access';
import { faulted, raiseGP, raiseNP, raiseUD } from '../fault';
import { setFlag, ZF } from '../flags';
import {
  readDescriptor, peekDescriptor, descriptorAddr, baseOf, limitOf, accessOf, dplOf, presentOf,
  typeOf, hiOf,
} from './descriptor';
import { protectedMode, v86Mode } from './segments';

function cpl(): u32 { return load<u32>(STATE_BASE + S_CPL); }

/** LGDT/LIDT m16&32: with a 16-bit operand only 24 bits of the base are used. */
export function loadTable(idt: bool, seg: u32, off: u32, osz: u32): void {
  if (cpl() != 0) { raiseGP(0); return; }
  const limit = rd16(seg, off); if (faulted) return;
  let base = rd32(seg, off + 2); if (faulted) return;
  if (osz == 16) base &= 0xffffff;
  store<u32>(STATE_BASE + (idt ? S_IDTR_BASE : S_GDTR_BASE), base);
  store<u32>(STATE_BASE + (idt ? S_IDTR_LIMIT : S_GDTR_LIMIT), limit);
}

/** SGDT/SIDT m: stores the limit and the 32-bit base (no operand-size masking on P6+). */
export function storeTable(idt: bool, seg: u32, off: u32): void {
  wr16(seg, off, load<u32>(STATE_BASE + (idt ? S_IDTR_LIMIT : S_GDTR_LIMIT)));
  if (faulted) return;
  wr32(seg, off + 2, load<u32>(STATE_BASE + (idt ? S_IDTR_BASE : S_GDTR_BASE)));
}

export function lldt(sel: u32): void {
  if (!protectedMode() || v86Mode()) { raiseUD(); return; }
  if (cpl() != 0) { raiseGP(0); return; }
  if ((sel & 0xfffc) == 0) { setSegRaw(LDTR, sel, 0, 0, AR_UNUSABLE); return; }
  if ((sel & 4) != 0) { raiseGP(sel & 0xfffc); return; }
  const d = readDescriptor(sel); if (faulted) return;
  if (typeOf(d) != 0x02) { raiseGP(sel & 0xfffc); return; }
  if (!presentOf(d)) { raiseNP(sel & 0xfffc); return; }
  setSegRaw(LDTR, sel, baseOf(d), limitOf(d), accessOf(d));
}

export function ltr(sel: u32): void {
  if (!protectedMode() || v86Mode()) { raiseUD(); return; }
  if (cpl() != 0) { raiseGP(0); return; }
  if ((sel & 0xfffc) == 0 || (sel & 4) != 0) { raiseGP(sel & 0xfffc); return; }
  const d = readDescriptor(sel); if (faulted) return;
  const t = typeOf(d);
  if (t != 0x09 && t != 0x01) { raiseGP(sel & 0xfffc); return; } // available TSS
  if (!presentOf(d)) { raiseNP(sel & 0xfffc); return; }
  sysWrite32(descriptorAddr(sel) + 4, hiOf(d) | 0x200); // mark busy
  if (faulted) return;
  setSegRaw(TR, sel, baseOf(d), limitOf(d), accessOf(d) | 2);
}

export function sldt(): u32 { return segSel(LDTR); }
export function str(): u32 { return segSel(TR); }

/** Shared visibility test of LAR/LSL/VERR/VERW on descriptor `d` of `sel` (0 for a selector
 *  outside its table); returns false when ZF must be cleared. */
function visible(sel: u32, d: u64, forLar: bool, forLsl: bool): bool {
  if ((sel & 0xfffc) == 0) return false;
  const t = typeOf(d);
  if (t == 0) return false;
  if ((t & 0x10) == 0) {
    // System descriptors: LAR accepts TSS/LDT/gates, LSL only TSS/LDT (SDM vol. 2A, LAR, LSL).
    const okLar = t == 1 || t == 2 || t == 3 || t == 4 || t == 5 || t == 9 || t == 0xb || t == 0xc;
    const okLsl = t == 1 || t == 2 || t == 3 || t == 9 || t == 0xb;
    if (forLsl ? !okLsl : (forLar ? !okLar : true)) return false;
  }
  const conformingCode = (t & 0x1c) == 0x1c;
  if (!conformingCode && (dplOf(d) < cpl() || dplOf(d) < (sel & 3))) return false;
  return true;
}

/** LAR: the access-rights dword (descriptor bytes 4-7 masked with 0x00FXFF00), or -1 (ZF=0). */
export function lar(sel: u32): i64 {
  if (!protectedMode() || v86Mode()) { raiseUD(); return -1; }
  const d = (sel & 0xfffc) != 0 ? peekDescriptor(sel) : 0; if (faulted) return -1;
  const ok = visible(sel, d, true, false);
  setFlag(ZF, ok);
  return ok ? <i64>(hiOf(d) & 0x00ffff00) : -1;
}
export function lsl(sel: u32): i64 {
  if (!protectedMode() || v86Mode()) { raiseUD(); return -1; }
  const d = (sel & 0xfffc) != 0 ? peekDescriptor(sel) : 0; if (faulted) return -1;
  const ok = visible(sel, d, false, true);
  setFlag(ZF, ok);
  return ok ? <i64>limitOf(d) : -1;
}
export function verr(sel: u32): void {
  if (!protectedMode() || v86Mode()) { raiseUD(); return; }
  const d = (sel & 0xfffc) != 0 ? peekDescriptor(sel) : 0; if (faulted) return;
  const t = typeOf(d);
  setFlag(ZF, visible(sel, d, false, false) && (t & 0x10) != 0 && ((t & 8) == 0 || (t & 2) != 0));
}
export function verw(sel: u32): void {
  if (!protectedMode() || v86Mode()) { raiseUD(); return; }
  const d = (sel & 0xfffc) != 0 ? peekDescriptor(sel) : 0; if (faulted) return;
  const t = typeOf(d);
  setFlag(ZF, visible(sel, d, false, false) && (t & 0x18) == 0x10 && (t & 2) != 0);
}
