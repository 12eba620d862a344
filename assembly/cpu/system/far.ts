// Far JMP, CALL and RET (SDM vol. 2A JMP and CALL, vol. 2B RET, their pseudo-code; vol. 3A,
// 5.8 privilege-level checks when transferring program control between code segments).
// Real and V86 mode load CS as base = selector * 16. Protected mode: direct transfers to
// code segments, call gates (16- and 32-bit) with the stack switch to an inner level and
// parameter copying, and task switches to a TSS descriptor or through a task gate (task.ts).
//
// Every transfer checks everything that can fault before it changes a register, so that
// a fault restarts the instruction cleanly (the run loop restores only EIP and ESP).
import { STATE_BASE, S_CPL } from '../../generated/layout';
import { CS, SS, ESP, reg32, setReg32, segSel, segBase, segLimit, segAccess, AR_DB } from '../state';
import { ip, setIp, stack32 } from '../access';
import { faulted, raiseGP, raiseNP, raise, SS_VEC } from '../fault';
import { push16, push32, peek, spOff, setSp } from '../stack';
import {
  readDescriptor, descLo, descHi, descAddr, descSave, descUse, typeOf, dplOf, presentOf, limitOf, baseOf,
  isCode, isConforming, gateSelector, gateOffset, gateParams, SYS_CALL_GATE16, SYS_CALL_GATE32,
  SYS_TSS16_AVAIL, SYS_TSS32_AVAIL, SYS_TSS16_BUSY, SYS_TSS32_BUSY, SYS_TASK_GATE,
} from './descriptor';
import { protectedMode, v86Mode, loadCsReal, loadSegFrom, markAccessed, nullInvalidSegments } from './segments';
import { checkReturnSs } from './ret-checks';
import { taskSwitch, TASK_JMP, TASK_CALL } from './task';
import { tssStack, innerSs, innerEsp, innerSsLo, innerSsHi, innerSsAddr, stackRoom, frameStart, framePush, frameEsp } from './stack-switch';

@inline function curCpl(): u32 { return load<u32>(STATE_BASE + S_CPL); }

/**
 * Checks the current descriptor as the code segment of a JMP or CALL at privilege `cpl`
 * without a privilege change (SDM vol. 3A, 5.8.1): conforming needs DPL <= CPL,
 * non-conforming RPL <= CPL and DPL = CPL; then present. Raises and returns false.
 */
function checkDirectCode(sel: u32, cpl: u32): bool {
  const t = typeOf(descHi);
  const dpl = dplOf(descHi);
  if (!isCode(t)) { raiseGP(sel & 0xfffc); return false; }
  if (isConforming(t) ? dpl > cpl : ((sel & 3) > cpl || dpl != cpl)) { raiseGP(sel & 0xfffc); return false; }
  if (!presentOf(descHi)) { raiseNP(sel & 0xfffc); return false; }
  return true;
}

/** Checks a call gate (the current descriptor) for JMP/CALL: DPL >= CPL and >= RPL, present. */
function checkGate(sel: u32, cpl: u32): bool {
  const dpl = dplOf(descHi);
  if (dpl < cpl || dpl < (sel & 3)) { raiseGP(sel & 0xfffc); return false; }
  if (!presentOf(descHi)) { raiseNP(sel & 0xfffc); return false; }
  return true;
}

/** Reads and checks the code segment a call gate names: a code segment with DPL <= CPL
 *  (JMP: conforming, or DPL = CPL), present. Leaves it as the current descriptor. */
function gateTarget(tsel: u32, cpl: u32, isJmp: bool): bool {
  if ((tsel & 0xfffc) == 0) { raiseGP(0); return false; }
  if (!readDescriptor(tsel)) return false;
  const t = typeOf(descHi);
  const dpl = dplOf(descHi);
  if (!isCode(t) || dpl > cpl || (isJmp && !isConforming(t) && dpl != cpl)) { raiseGP(tsel & 0xfffc); return false; }
  if (!presentOf(descHi)) { raiseNP(tsel & 0xfffc); return false; }
  return true;
}

export function farJump(sel: u32, off: u32, osz: u32): void {
  if (!protectedMode() || v86Mode()) {
    loadCsReal(sel);
    setIp(osz == 16 ? off & 0xffff : off);
    return;
  }
  if ((sel & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(sel)) return;
  const cpl = curCpl();
  const t = typeOf(descHi);
  if ((t & 0x10) != 0) {
    if (!checkDirectCode(sel, cpl)) return;
    const eip = osz == 16 ? off & 0xffff : off;
    if (eip > limitOf(descLo, descHi)) { raiseGP(0); return; }
    markAccessed(descAddr, descHi); if (faulted) return;
    loadSegFrom(CS, (sel & 0xfffc) | cpl, descLo, descHi);
    setIp(eip);
    return;
  }
  if (t == SYS_CALL_GATE16 || t == SYS_CALL_GATE32) {
    if (!checkGate(sel, cpl)) return;
    const eip = gateOffset(descLo, descHi, t == SYS_CALL_GATE32);
    if (!gateTarget(gateSelector(descLo), cpl, true)) return;
    const tsel = gateSelector(descLo);
    if (eip > limitOf(descLo, descHi)) { raiseGP(0); return; }
    markAccessed(descAddr, descHi); if (faulted) return;
    loadSegFrom(CS, (tsel & 0xfffc) | cpl, descLo, descHi);
    setIp(eip);
    return;
  }
  toTask(sel, cpl, TASK_JMP);
}

/** JMP/CALL to a TSS descriptor or a task gate (the current descriptor): DPL >= CPL and
 *  >= RPL (#GP(sel)), present (#NP(sel)), then the switch (SDM vol. 3A, 7.3, step 2). */
function toTask(sel: u32, cpl: u32, source: u32): void {
  const t = typeOf(descHi);
  if (t != SYS_TSS16_AVAIL && t != SYS_TSS32_AVAIL && t != SYS_TASK_GATE && t != SYS_TSS16_BUSY && t != SYS_TSS32_BUSY) {
    raiseGP(sel & 0xfffc);
    return;
  }
  const dpl = dplOf(descHi);
  if (dpl < cpl || dpl < (sel & 3)) { raiseGP(sel & 0xfffc); return; }
  if (t == SYS_TASK_GATE) {
    if (!presentOf(descHi)) { raiseNP(sel & 0xfffc); return; }
    taskSwitch(gateSelector(descLo), source, 0, 0, false);
    return;
  }
  taskSwitch(sel, source, 0, 0, false);
}

export function farCall(sel: u32, off: u32, osz: u32): void {
  const retCs = segSel(CS) & 0xffff;
  const retIp = ip;
  if (!protectedMode() || v86Mode()) {
    const esp0 = reg32(ESP);
    if (osz == 32) { push32(retCs); push32(retIp); } else { push16(retCs); push16(retIp); }
    if (faulted) { setReg32(ESP, esp0); return; }
    loadCsReal(sel);
    setIp(osz == 16 ? off & 0xffff : off);
    return;
  }
  if ((sel & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(sel)) return;
  const cpl = curCpl();
  const t = typeOf(descHi);
  if ((t & 0x10) != 0) {
    if (!checkDirectCode(sel, cpl)) return;
    const eip = osz == 16 ? off & 0xffff : off;
    if (eip > limitOf(descLo, descHi)) { raiseGP(0); return; }
    const code = descSave(); const codeAddr = descAddr;
    const esp0 = reg32(ESP);
    if (osz == 32) { push32(retCs); push32(retIp); } else { push16(retCs); push16(retIp); }
    if (faulted) { setReg32(ESP, esp0); return; }
    descUse(code, codeAddr);
    markAccessed(descAddr, descHi); if (faulted) { setReg32(ESP, esp0); return; }
    loadSegFrom(CS, (sel & 0xfffc) | cpl, descLo, descHi);
    setIp(eip);
    return;
  }
  if (t != SYS_CALL_GATE16 && t != SYS_CALL_GATE32) { toTask(sel, cpl, TASK_CALL); return; }
  if (!checkGate(sel, cpl)) return;
  const gate32 = t == SYS_CALL_GATE32;
  const eip = gateOffset(descLo, descHi, gate32);
  const params = gateParams(descHi);
  const tsel = gateSelector(descLo);
  if (!gateTarget(tsel, cpl, false)) return;
  const code = descSave(); const codeAddr = descAddr;
  const dpl = dplOf(descHi);
  const n: u32 = gate32 ? 4 : 2;
  if (isConforming(typeOf(descHi)) || dpl == cpl) {
    // Same privilege through the gate: push CS:EIP with the gate's size.
    if (eip > limitOf(descLo, descHi)) { raiseGP(0); return; }
    const esp0 = reg32(ESP);
    if (gate32) { push32(retCs); push32(retIp); } else { push16(retCs); push16(retIp & 0xffff); }
    if (faulted) { setReg32(ESP, esp0); return; }
    descUse(code, codeAddr);
    markAccessed(descAddr, descHi); if (faulted) { setReg32(ESP, esp0); return; }
    loadSegFrom(CS, (tsel & 0xfffc) | cpl, descLo, descHi);
    setIp(eip);
    return;
  }
  // More privileged, non-conforming: switch to the TSS stack of level `dpl` and copy the
  // parameters (SDM vol. 3A, 5.8.5, figure 5-13).
  if (!tssStack(dpl, 0)) return;
  const ssLimit = limitOf(innerSsLo, innerSsHi);
  const ssAr = (innerSsHi >>> 8) & 0xf0ff;
  if (!stackRoom(ssLimit, ssAr, innerEsp, (4 + params) * n)) { raise(SS_VEC, innerSs & 0xfffc, true); return; }
  descUse(code, codeAddr);
  if (eip > limitOf(descLo, descHi)) { raiseGP(0); return; }
  // Read the parameters from the caller's stack (with the caller's privilege) first.
  const oldSs = segSel(SS), oldEsp = reg32(ESP);
  frameStart(baseOf(innerSsLo, innerSsHi), innerEsp, (ssAr & AR_DB) != 0, dpl);
  framePush(oldSs, gate32);
  framePush(oldEsp, gate32);
  for (let i: i32 = <i32>params - 1; i >= 0; i--) {
    const v = peek(gate32 ? 32 : 16, <u32>i * n);
    if (faulted) return;
    framePush(v, gate32);
  }
  framePush(retCs, gate32);
  framePush(gate32 ? retIp : retIp & 0xffff, gate32);
  if (faulted) return;
  markAccessed(innerSsAddr, innerSsHi); if (faulted) return;
  descUse(code, codeAddr);
  markAccessed(descAddr, descHi); if (faulted) return;
  const newEsp = frameEsp(innerEsp);
  loadSegFrom(SS, (innerSs & 0xfffc) | dpl, innerSsLo, innerSsHi);
  setReg32(ESP, newEsp);
  loadSegFrom(CS, (tsel & 0xfffc) | dpl, descLo, descHi);
  setIp(eip);
}

/** RETF [imm16] (SDM vol. 2B, RET): same level, or to an outer level with SS:ESP popped. */
export function farReturn(osz: u32, imm: u32): void {
  const n: u32 = osz == 32 ? 4 : 2;
  const newIp = peek(osz, 0); if (faulted) return;
  const newCs = peek(osz, n) & 0xffff; if (faulted) return;
  if (!protectedMode() || v86Mode()) {
    setSp(spOff(2 * n + imm));
    loadCsReal(newCs);
    setIp(osz == 16 ? newIp & 0xffff : newIp);
    return;
  }
  if ((newCs & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(newCs)) return;
  const cpl = curCpl();
  const rpl = newCs & 3;
  const t = typeOf(descHi);
  const dpl = dplOf(descHi);
  if (!isCode(t) || rpl < cpl || (isConforming(t) ? dpl > rpl : dpl != rpl)) { raiseGP(newCs & 0xfffc); return; }
  if (!presentOf(descHi)) { raiseNP(newCs & 0xfffc); return; }
  const eip = osz == 16 ? newIp & 0xffff : newIp;
  if (rpl == cpl) {
    if (eip > limitOf(descLo, descHi)) { raiseGP(0); return; }
    markAccessed(descAddr, descHi); if (faulted) return;
    setSp(spOff(2 * n + imm));
    loadSegFrom(CS, newCs, descLo, descHi);
    setIp(eip);
    return;
  }
  // Return to an outer privilege level: SS:ESP above the parameters.
  const code = descSave(); const codeAddr = descAddr;
  const newSp = peek(osz, 2 * n + imm); if (faulted) return;
  const newSs = peek(osz, 3 * n + imm) & 0xffff; if (faulted) return;
  if (!checkReturnSs(newSs, rpl, SS_VEC)) return;
  const ss = descSave(); const ssAddr = descAddr;
  descUse(code, codeAddr);
  if (eip > limitOf(descLo, descHi)) { raiseGP(0); return; }
  markAccessed(descAddr, descHi); if (faulted) return;
  descUse(ss, ssAddr);
  markAccessed(descAddr, descHi); if (faulted) return;
  loadSegFrom(SS, newSs, descLo, descHi);
  const espv = osz == 16 ? newSp & 0xffff : newSp;
  // ESP (or SP on a 16-bit stack) of the outer level, then RET's immediate.
  if (stack32) setReg32(ESP, espv + imm);
  else setReg32(ESP, (reg32(ESP) & 0xffff0000) | ((espv + imm) & 0xffff));
  descUse(code, codeAddr);
  loadSegFrom(CS, newCs, descLo, descHi);
  setIp(eip);
  nullInvalidSegments();
}
