// Loading segment registers (MOV/POP to a segment register, LDS..LSS, far transfers).
// Real mode and virtual-8086 mode: base = selector * 16. Protected mode: the descriptor
// checks of SDM vol. 3A, 5.4-5.6 and the MOV instruction's pseudo-code (vol. 2B, MOV).
import { STATE_BASE, S_CPL, S_CR0 } from '../../generated/layout';
import {
  setSegRaw, segLimit, segAccess, ES, CS, SS, DS, FS, GS, CR0_PE, AR_UNUSABLE,
} from '../state';
import { segUpdate, updateCpl } from '../access';
import { flags, VM } from '../flags';
import { faulted, raiseGP, raiseNP, raiseSS } from '../fault';
import {
  readDescriptor, markAccessed, baseOf, limitOf, accessOf, dplOf, presentOf, typeOf,
} from './descriptor';

@inline export function protectedMode(): bool {
  return (load<u32>(STATE_BASE + S_CR0) & CR0_PE) != 0;
}
@inline export function v86Mode(): bool { return (flags & VM) != 0; }

/** Sets the current privilege level and everything that depends on it. */
export function setCpl(c: u32): void {
  store<u32>(STATE_BASE + S_CPL, c);
  updateCpl();
}

/**
 * Loads data or stack segment register `s` (ES SS DS FS GS) with `sel`. Raises the fault
 * of the checks (#GP, #SS, #NP with the selector as error code) and leaves the register
 * unchanged in that case. CS is loaded only by far transfers (loadCs).
 */
export function loadSeg(s: u32, sel: u32): void {
  sel &= 0xffff;
  if (!protectedMode() || v86Mode()) {
    if (v86Mode()) setSegRaw(s, sel, sel << 4, 0xffff, 0xf3);
    else setSegRaw(s, sel, sel << 4, segLimit(s), segAccess(s) & ~AR_UNUSABLE | 0x80);
    segUpdate(s);
    return;
  }
  const cpl = load<u32>(STATE_BASE + S_CPL);
  const rpl = sel & 3;
  if ((sel & 0xfffc) == 0) {
    if (s == SS) { raiseGP(0); return; }
    setSegRaw(s, sel, 0, 0, AR_UNUSABLE);
    segUpdate(s);
    return;
  }
  let d = readDescriptor(sel); if (faulted) return;
  const type = typeOf(d);
  const dpl = dplOf(d);
  if (s == SS) {
    // Writable data segment with RPL = DPL = CPL.
    if (rpl != cpl || dpl != cpl || (type & 0x1a) != 0x12) { raiseGP(sel & 0xfffc); return; }
    if (!presentOf(d)) { raiseSS(sel & 0xfffc); return; }
  } else {
    // Data or readable code; unless conforming code, DPL >= max(CPL, RPL).
    if ((type & 0x10) == 0 || (type & 0x1a) == 0x18) { raiseGP(sel & 0xfffc); return; }
    const conforming = (type & 0x1c) == 0x1c;
    if (!conforming && (dpl < cpl || dpl < rpl)) { raiseGP(sel & 0xfffc); return; }
    if (!presentOf(d)) { raiseNP(sel & 0xfffc); return; }
  }
  d = markAccessed(sel, d);
  if (faulted) return;
  setSegRaw(s, sel, baseOf(d), limitOf(d), accessOf(d) | 1);
  segUpdate(s);
}

/** Loads segment register `s` from a checked descriptor `d`; the caller has set its
 *  accessed bit. For CS, `sel` carries the new CPL as its RPL and the CPL follows. */
export function loadSegFrom(s: u32, sel: u32, d: u64): void {
  setSegRaw(s, sel & 0xffff, baseOf(d), limitOf(d), accessOf(d) | 1);
  segUpdate(s);
  if (s == CS) setCpl(sel & 3);
}

/** Real-mode / V86 CS load: base = selector * 16. */
export function loadCsReal(sel: u32): void {
  sel &= 0xffff;
  if (v86Mode()) setSegRaw(CS, sel, sel << 4, 0xffff, 0xf3);
  else setSegRaw(CS, sel, sel << 4, segLimit(CS), segAccess(CS) & ~AR_UNUSABLE | 0x80);
  segUpdate(CS);
}

/** After a privilege drop (RET/IRET to an outer level): data segments the new CPL may not
 *  use become null (SDM vol. 2B, RET, "RETURN-TO-OUTER-PRIVILEGE-LEVEL"). */
export function nullInvalidSegments(): void {
  const cpl = load<u32>(STATE_BASE + S_CPL);
  for (let s: u32 = 0; s < 6; s++) {
    if (s == CS || s == SS) continue;
    const ar = segAccess(s);
    if ((ar & AR_UNUSABLE) != 0) continue;
    const type = ar & 0x1f;
    const dpl = (ar >> 5) & 3;
    const conformingCode = (type & 0x1c) == 0x1c;
    if ((type & 0x10) != 0 && !conformingCode && dpl < cpl) {
      setSegRaw(s, 0, 0, 0, AR_UNUSABLE);
      segUpdate(s);
    }
  }
}
