// Far JMP, CALL and RET (SDM vol. 2A JMP and CALL, vol. 2B RET, their pseudo-code; vol. 3A,
// 5.8 privilege-level checks when transferring program control between code segments).
// Real and V86 mode load CS as base = selector * 16. Protected mode: direct transfers to
// code segments, call gates (16- and 32-bit) with the stack switch to an inner level and
// parameter copying, and task switches to a TSS descriptor or through a task gate (task.ts).
//
// Every transfer checks everything that can fault before it changes a register, so that
// a fault restarts the instruction cleanly (the run loop restores only EIP and ESP).
import { STATE_BASE, S_CPL } from '../../generated/layout';
import { CS, SS, ESP, reg32, setReg32, segSel, AR_DB } from '../state';
import { ip, setIp, stack32 } from '../access';
import { faulted, raiseGP, raiseNP, raise, SS_VEC } from '../fault';
import { push16, push32, peek, spOff, setSp } from '../stack';
import {
  readDescriptor, markAccessed, typeOf, dplOf, presentOf, limitOf, baseOf, accessOf,
  isCode, isConforming, gateSelector, gateOffset, gateParams, SYS_CALL_GATE16, SYS_CALL_GATE32,
  SYS_TSS16_AVAIL, SYS_TSS32_AVAIL, SYS_TSS16_BUSY, SYS_TSS32_BUSY, SYS_TASK_GATE,
} from './descriptor';
import { protectedMode, v86Mode, loadCsReal, loadSegFrom, nullInvalidSegments } from './segments';
import { checkReturnSs } from './ret-checks';
import { taskSwitch, TASK_JMP, TASK_CALL } from './task';
import {
  tssStack, stackSs, stackEsp, innerStackSeg, stackRoom, frameStart, framePush, frameEsp,
} from './stack-switch';

@inline function curCpl(): u32 { return load<u32>(STATE_BASE + S_CPL); }

/**
 * Checks descriptor `d` of `sel` as the code segment of a JMP or CALL at privilege `cpl`
 * without a privilege change (SDM vol. 3A, 5.8.1): conforming needs DPL <= CPL,
 * non-conforming RPL <= CPL and DPL = CPL; then present. Raises and returns false.
 */
function checkDirectCode(sel: u32, d: u64, cpl: u32): bool {
  const t = typeOf(d);
  const dpl = dplOf(d);
  if (!isCode(t)) { raiseGP(sel & 0xfffc); return false; }
  if (isConforming(t) ? dpl > cpl : ((sel & 3) > cpl || dpl != cpl)) {
    raiseGP(sel & 0xfffc); return false;
  }
  if (!presentOf(d)) { raiseNP(sel & 0xfffc); return false; }
  return true;
}

/** Checks call gate `gate` of `sel` for JMP/CALL: DPL >= CPL and >= RPL, present. */
function checkGate(sel: u32, gate: u64, cpl: u32): bool {
  const dpl = dplOf(gate);
  if (dpl < cpl || dpl < (sel & 3)) { raiseGP(sel & 0xfffc); return false; }
  if (!presentOf(gate)) { raiseNP(sel & 0xfffc); return false; }
  return true;
}

/** Reads and checks the code segment `tsel` a call gate names: a code segment with DPL <=
 *  CPL (JMP: conforming, or DPL = CPL), present. Returns its descriptor, or 0 after raising
 *  the fault (check `faulted`). */
function gateTarget(tsel: u32, cpl: u32, isJmp: bool): u64 {
  if ((tsel & 0xfffc) == 0) { raiseGP(0); return 0; }
  const d = readDescriptor(tsel); if (faulted) return 0;
  const t = typeOf(d);
  const dpl = dplOf(d);
  if (!isCode(t) || dpl > cpl || (isJmp && !isConforming(t) && dpl != cpl)) {
    raiseGP(tsel & 0xfffc); return 0;
  }
  if (!presentOf(d)) { raiseNP(tsel & 0xfffc); return 0; }
  return d;
}

export function farJump(sel: u32, off: u32, osz: u32): void {
  if (!protectedMode() || v86Mode()) {
    loadCsReal(sel);
    setIp(osz == 16 ? off & 0xffff : off);
    return;
  }
  if ((sel & 0xfffc) == 0) { raiseGP(0); return; }
  const d = readDescriptor(sel); if (faulted) return;
  const cpl = curCpl();
  const t = typeOf(d);
  if ((t & 0x10) != 0) {
    if (!checkDirectCode(sel, d, cpl)) return;
    const eip = osz == 16 ? off & 0xffff : off;
    if (eip > limitOf(d)) { raiseGP(0); return; }
    const code = markAccessed(sel, d); if (faulted) return;
    loadSegFrom(CS, (sel & 0xfffc) | cpl, code);
    setIp(eip);
    return;
  }
  if (t == SYS_CALL_GATE16 || t == SYS_CALL_GATE32) {
    // Through a call gate: CS is the gate's selector with the CPL (SDM vol. 2A, JMP,
    // "CALL-GATE"); the target's descriptor gives base, limit and rights.
    if (!checkGate(sel, d, cpl)) return;
    const eip = gateOffset(d, t == SYS_CALL_GATE32);
    const tsel = gateSelector(d);
    const target = gateTarget(tsel, cpl, true); if (faulted) return;
    if (eip > limitOf(target)) { raiseGP(0); return; }
    const code = markAccessed(tsel, target); if (faulted) return;
    loadSegFrom(CS, (tsel & 0xfffc) | cpl, code);
    setIp(eip);
    return;
  }
  toTask(sel, d, cpl, TASK_JMP);
}

/** JMP/CALL to a TSS descriptor or a task gate `d` of `sel`: DPL >= CPL and >= RPL
 *  (#GP(sel)), present (#NP(sel)), then the switch (SDM vol. 3A, 7.3, step 2). */
function toTask(sel: u32, d: u64, cpl: u32, source: u32): void {
  const t = typeOf(d);
  const tss = t == SYS_TSS16_AVAIL || t == SYS_TSS32_AVAIL
    || t == SYS_TSS16_BUSY || t == SYS_TSS32_BUSY;
  if (!tss && t != SYS_TASK_GATE) {
    raiseGP(sel & 0xfffc);
    return;
  }
  const dpl = dplOf(d);
  if (dpl < cpl || dpl < (sel & 3)) { raiseGP(sel & 0xfffc); return; }
  if (t == SYS_TASK_GATE) {
    if (!presentOf(d)) { raiseNP(sel & 0xfffc); return; }
    taskSwitch(gateSelector(d), source, 0, 0, false);
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
  const d = readDescriptor(sel); if (faulted) return;
  const cpl = curCpl();
  const t = typeOf(d);
  if ((t & 0x10) != 0) {
    if (!checkDirectCode(sel, d, cpl)) return;
    const eip = osz == 16 ? off & 0xffff : off;
    if (eip > limitOf(d)) { raiseGP(0); return; }
    const esp0 = reg32(ESP);
    if (osz == 32) { push32(retCs); push32(retIp); } else { push16(retCs); push16(retIp); }
    if (faulted) { setReg32(ESP, esp0); return; }
    const code = markAccessed(sel, d); if (faulted) { setReg32(ESP, esp0); return; }
    loadSegFrom(CS, (sel & 0xfffc) | cpl, code);
    setIp(eip);
    return;
  }
  if (t != SYS_CALL_GATE16 && t != SYS_CALL_GATE32) { toTask(sel, d, cpl, TASK_CALL); return; }
  if (!checkGate(sel, d, cpl)) return;
  const gate32 = t == SYS_CALL_GATE32;
  const eip = gateOffset(d, gate32);
  const params = gateParams(d);
  const tsel = gateSelector(d);
  const target = gateTarget(tsel, cpl, false); if (faulted) return;
  const dpl = dplOf(target);
  const n: u32 = gate32 ? 4 : 2;
  if (isConforming(typeOf(target)) || dpl == cpl) {
    // Same privilege through the gate: push CS:EIP with the gate's size.
    if (eip > limitOf(target)) { raiseGP(0); return; }
    const esp0 = reg32(ESP);
    if (gate32) { push32(retCs); push32(retIp); } else { push16(retCs); push16(retIp & 0xffff); }
    if (faulted) { setReg32(ESP, esp0); return; }
    const code = markAccessed(tsel, target); if (faulted) { setReg32(ESP, esp0); return; }
    loadSegFrom(CS, (tsel & 0xfffc) | cpl, code);
    setIp(eip);
    return;
  }
  // More privileged, non-conforming: switch to the TSS stack of level `dpl` and copy the
  // parameters (SDM vol. 3A, 5.8.5, figure 5-13).
  const stack = tssStack(dpl, 0); if (faulted) return;
  const innerSs = stackSs(stack), innerEsp = stackEsp(stack);
  const ssDesc = innerStackSeg(innerSs, dpl, 0); if (faulted) return;
  const ssAr = accessOf(ssDesc);
  if (!stackRoom(limitOf(ssDesc), ssAr, innerEsp, (4 + params) * n)) {
    raise(SS_VEC, innerSs & 0xfffc, true); return;
  }
  if (eip > limitOf(target)) { raiseGP(0); return; }
  // Read the parameters from the caller's stack (with the caller's privilege) first.
  const oldSs = segSel(SS), oldEsp = reg32(ESP);
  frameStart(baseOf(ssDesc), innerEsp, (ssAr & AR_DB) != 0, dpl);
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
  const ssLoaded = markAccessed(innerSs, ssDesc); if (faulted) return;
  const code = markAccessed(tsel, target); if (faulted) return;
  const newEsp = frameEsp(innerEsp);
  loadSegFrom(SS, (innerSs & 0xfffc) | dpl, ssLoaded);
  setReg32(ESP, newEsp);
  loadSegFrom(CS, (tsel & 0xfffc) | dpl, code);
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
  const d = readDescriptor(newCs); if (faulted) return;
  const cpl = curCpl();
  const rpl = newCs & 3;
  const t = typeOf(d);
  const dpl = dplOf(d);
  if (!isCode(t) || rpl < cpl || (isConforming(t) ? dpl > rpl : dpl != rpl)) {
    raiseGP(newCs & 0xfffc); return;
  }
  if (!presentOf(d)) { raiseNP(newCs & 0xfffc); return; }
  const eip = osz == 16 ? newIp & 0xffff : newIp;
  if (rpl == cpl) {
    if (eip > limitOf(d)) { raiseGP(0); return; }
    const code = markAccessed(newCs, d); if (faulted) return;
    setSp(spOff(2 * n + imm));
    loadSegFrom(CS, newCs, code);
    setIp(eip);
    return;
  }
  // Return to an outer privilege level: SS:ESP above the parameters.
  const newSp = peek(osz, 2 * n + imm); if (faulted) return;
  const newSs = peek(osz, 3 * n + imm) & 0xffff; if (faulted) return;
  const ssDesc = checkReturnSs(newSs, rpl, SS_VEC); if (faulted) return;
  if (eip > limitOf(d)) { raiseGP(0); return; }
  const code = markAccessed(newCs, d); if (faulted) return;
  const ssLoaded = markAccessed(newSs, ssDesc); if (faulted) return;
  loadSegFrom(SS, newSs, ssLoaded);
  const espv = osz == 16 ? newSp & 0xffff : newSp;
  // ESP (or SP on a 16-bit stack) of the outer level, then RET's immediate.
  if (stack32) setReg32(ESP, espv + imm);
  else setReg32(ESP, (reg32(ESP) & 0xffff0000) | ((espv + imm) & 0xffff));
  loadSegFrom(CS, newCs, code);
  setIp(eip);
  nullInvalidSegments();
}
