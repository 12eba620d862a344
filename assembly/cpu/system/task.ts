// Hardware task switching (Intel SDM vol. 3A, 7.3 "Task switching", 7.4 "Task linking";
// TSS layouts: 32-bit figure 7-2, 16-bit figure 7-11): JMP or CALL to a TSS descriptor or a
// task gate, INT n / exceptions / interrupts through an IDT task gate, and IRET with
// EFLAGS.NT = 1 (return to the task in the back link).
//
// One difference from the SDM, so that a fault always restarts cleanly under the engine's
// fault convention (EIP and ESP restored to the instruction's start): every check of the
// new task's state (its LDT, CS, SS and data segments, and the room for an error code on
// its stack) is made before anything is written, and a failing check is reported in the
// old task. The SDM makes those checks after the switch and reports them in the new task.
// A new task with EFLAGS.VM = 1 starts in virtual-8086 mode: its segments load as in real
// mode (base = selector * 16, limit 0xffff) and its CPL is 3.
import { guestMode } from '../../vmm/guest';
import { icptTaskSwitch } from '../../vmm/intercept';
import { STATE_BASE, S_CR0, S_CR3, S_CPL, S_GDTR_BASE } from '../../generated/layout';
import {
  reg32, setReg32, segSel, segBase, segLimit, segAccess, setSegRaw,
  ES, CS, SS, DS, FS, GS, LDTR, TR,
  CR0_TS, CR0_PG, AR_UNUSABLE,
} from '../state';
import { ip, setIp, segUpdate, sysRead16, sysRead32, sysWrite16, sysWrite32 } from '../access';
import { getFlags, setFlags, NT, VM } from '../flags';
import { faulted, raise, raiseGP, GP, TS, NP, SS_VEC } from '../fault';
import { tlbFlushAll } from '../../mem/tlb';
import {
  fetchDescriptor, descriptorAt, descriptorAddr, loOf, hiOf, typeOf, dplOf, presentOf, limitOf,
  baseOf,
  accessOf, isCode, isConforming, isWritableData, SYS_LDT,
} from './descriptor';
import { setCpl } from './segments';
import { stackRoom, frameStart, framePush, frameEsp } from './stack-switch';

export const TASK_JMP: u32 = 0;
export const TASK_CALL: u32 = 1;
export const TASK_IRET: u32 = 2;
export const TASK_INT: u32 = 3;

// The new task's state, read and checked before anything changes.
// Slots in static memory: descriptor lo 0-5, hi 6-11, address 12-17 and selector 18-23 of
// ES..GS, general registers 24-31.
const NEW_STATE = memory.data(32 * 4);
const SEG_LO: u32 = 0, SEG_HI: u32 = 6, SEG_ADDR: u32 = 12, SEG_SEL_NEW: u32 = 18, GPR: u32 = 24;
@inline function slot(i: u32): u32 { return load<u32>(NEW_STATE + (i << 2)); }
@inline function setSlot(i: u32, v: u32): void { store<u32>(NEW_STATE + (i << 2), v); }
/** The checked descriptor of segment `s` of the new task (0 for a null selector). */
@inline function segDesc(s: u32): u64 {
  return (<u64>slot(SEG_HI + s) << 32) | <u64>slot(SEG_LO + s);
}
/** Keeps descriptor `d` of segment `s`, read at linear address `at`. */
@inline function keepSeg(s: u32, d: u64, at: u32): void {
  setSlot(SEG_LO + s, loOf(d)); setSlot(SEG_HI + s, hiOf(d)); setSlot(SEG_ADDR + s, at);
}

/** Where the new task's descriptor of `sel` lives: the GDT, or for TI = 1 the new LDT
 *  (base given), which is not loaded yet. */
@inline function newAddr(sel: u32, ldtBase: u32): u32 {
  return (sel & 4) != 0 ? ldtBase + (sel & 0xfff8) : descriptorAddr(sel);
}

/** Reads a descriptor of the new task: GDT, or the new LDT (base/limit given) for TI = 1.
 *  Raises #TS(sel) outside the table and returns 0 (check `faulted`). */
function fetchNew(sel: u32, ldtBase: u32, ldtLimit: u32, ldtOk: bool): u64 {
  if ((sel & 4) != 0) {
    if (!ldtOk || <u64>(sel & 0xfff8) + 7 > <u64>ldtLimit) {
      raise(TS, sel & 0xfffc, true); return 0;
    }
    return descriptorAt(newAddr(sel, ldtBase));
  }
  return fetchDescriptor(sel, TS, 0);
}

/**
 * Switches to the task of TSS selector `sel` (SDM 7.3, steps 1-13). The caller has made the
 * privilege checks of its source (JMP/CALL: the TSS descriptor's or task gate's DPL; INT n:
 * the gate's DPL). `ext` goes into the error codes of the checks; an exception delivered
 * through a task gate passes its error code, which is pushed on the new task's stack.
 */
export function taskSwitch(sel: u32, source: u32, ext: u32, code: u32, hasCode: bool): void {
  // Task switches always exit in VMX non-root operation (SDM vol. 3C, 26.1.2).
  if (guestMode != 0 && icptTaskSwitch(sel, source)) return;
  // The new TSS descriptor: in the GDT, a TSS, available (busy for IRET), present, big enough.
  if ((sel & 4) != 0) { raiseGP((sel & 0xfffc) | ext); return; }
  const tss = fetchDescriptor(sel, GP, ext); if (faulted) return;
  const t = typeOf(tss);
  const busy = t == 3 || t == 11;
  if (!(t == 1 || t == 9 || busy)) { raiseGP((sel & 0xfffc) | ext); return; }
  if (source == TASK_IRET ? !busy : busy) {
    if (source == TASK_IRET) raise(TS, (sel & 0xfffc) | ext, true);
    else raiseGP((sel & 0xfffc) | ext);
    return;
  }
  if (!presentOf(tss)) { raise(NP, (sel & 0xfffc) | ext, true); return; }
  const new32 = t == 9 || t == 11;
  const nBase = baseOf(tss);
  const nLimit = limitOf(tss);
  const minLimit: u32 = new32 ? 0x67 : 0x2b;
  if (nLimit < minLimit) { raise(TS, (sel & 0xfffc) | ext, true); return; }

  // Read the new task's state.
  let nCr3: u32 = 0, nEip: u32, nFlags: u32, nLdt: u32;
  if (new32) {
    nCr3 = sysRead32(nBase + 0x1c);
    nEip = sysRead32(nBase + 0x20);
    nFlags = sysRead32(nBase + 0x24);
    for (let r = 0; r < 8; r++) setSlot(GPR + r, sysRead32(nBase + 0x28 + 4 * r));
    for (let s = 0; s < 6; s++) setSlot(SEG_SEL_NEW + s, sysRead16(nBase + 0x48 + 4 * s));
    nLdt = sysRead16(nBase + 0x60);
  } else {
    nEip = sysRead16(nBase + 0x0e);
    nFlags = sysRead16(nBase + 0x10); // the upper EFLAGS bits are 0 in a 16-bit task
    // The upper halves of the general registers read as ones after a switch to a 16-bit
    // task (as Bochs does, following the hardware); FS and GS become null.
    for (let r = 0; r < 8; r++) setSlot(GPR + r, sysRead16(nBase + 0x12 + 2 * r) | 0xffff0000);
    for (let s = 0; s < 4; s++) setSlot(SEG_SEL_NEW + s, sysRead16(nBase + 0x22 + 2 * s));
    setSlot(SEG_SEL_NEW + FS, 0); setSlot(SEG_SEL_NEW + GS, 0);
    nLdt = sysRead16(nBase + 0x2a);
  }
  if (faulted) return;
  if (source == TASK_CALL || source == TASK_INT) nFlags |= NT;
  const v86 = (nFlags & VM) != 0;

  // Check the new task's LDT and segments (see the file comment).
  let ldtBase: u32 = 0, ldtLimit: u32 = 0, ldt: u64 = 0;
  const ldtOk = (nLdt & 0xfffc) != 0;
  if (ldtOk) {
    if ((nLdt & 4) != 0) { raise(TS, nLdt & 0xfffc, true); return; }
    ldt = fetchDescriptor(nLdt, TS, 0); if (faulted) return;
    if (typeOf(ldt) != SYS_LDT) { raise(TS, nLdt & 0xfffc, true); return; }
    if (!presentOf(ldt)) { raise(TS, nLdt & 0xfffc, true); return; }
    ldtBase = baseOf(ldt); ldtLimit = limitOf(ldt);
  }
  const csSel = slot(SEG_SEL_NEW + CS);
  const cpl: u32 = v86 ? 3 : csSel & 3;
  if (v86) {
    // Virtual-8086 task: real-mode style segments, described here as descriptors.
    for (let s: u32 = 0; s < 6; s++) {
      const sel = slot(SEG_SEL_NEW + s);
      const base = sel << 4;
      setSlot(SEG_LO + s, (base << 16) | 0xffff);
      setSlot(SEG_HI + s, ((base >> 16) & 0xff) | 0xf300);
      setSlot(SEG_ADDR + s, 0);
    }
  } else {
  if ((csSel & 0xfffc) == 0) { raise(TS, csSel & 0xfffc, true); return; }
  {
    const d = fetchNew(csSel, ldtBase, ldtLimit, ldtOk); if (faulted) return;
    const ct = typeOf(d), dpl = dplOf(d);
    if (!isCode(ct) || (isConforming(ct) ? dpl > cpl : dpl != cpl)) {
      raise(TS, csSel & 0xfffc, true); return;
    }
    if (!presentOf(d)) { raise(NP, csSel & 0xfffc, true); return; }
    keepSeg(CS, d, newAddr(csSel, ldtBase));
  }
  const ssSel = slot(SEG_SEL_NEW + SS);
  if ((ssSel & 0xfffc) == 0) { raise(TS, ssSel & 0xfffc, true); return; }
  {
    const d = fetchNew(ssSel, ldtBase, ldtLimit, ldtOk); if (faulted) return;
    if ((ssSel & 3) != cpl || dplOf(d) != cpl || !isWritableData(typeOf(d))) {
      raise(TS, ssSel & 0xfffc, true); return;
    }
    if (!presentOf(d)) { raise(SS_VEC, ssSel & 0xfffc, true); return; }
    keepSeg(SS, d, newAddr(ssSel, ldtBase));
  }
  for (let s: u32 = 0; s < 6; s++) {
    if (s == CS || s == SS) continue;
    const ds = slot(SEG_SEL_NEW + s);
    setSlot(SEG_HI + s, 0);
    if ((ds & 0xfffc) == 0) continue;
    const d = fetchNew(ds, ldtBase, ldtLimit, ldtOk); if (faulted) return;
    const dt = typeOf(d), dpl = dplOf(d);
    if ((dt & 0x10) == 0 || (isCode(dt) && (dt & 2) == 0)) { raise(TS, ds & 0xfffc, true); return; }
    if (!isConforming(dt) && (dpl < cpl || dpl < (ds & 3))) {
      raise(TS, ds & 0xfffc, true); return;
    }
    if (!presentOf(d)) { raise(NP, ds & 0xfffc, true); return; }
    keepSeg(s, d, newAddr(ds, ldtBase));
  }
  }
  // Room for the error code of an exception on the new task's stack.
  const n: u32 = new32 ? 4 : 2;
  const nEsp = slot(GPR + 4);
  if (hasCode) {
    if (!stackRoom(limitOf(segDesc(SS)), accessOf(segDesc(SS)), nEsp, n)) {
      raise(SS_VEC, ext, true); return;
    }
  }

  // Save the current task (its TSS format), set the links and busy bits. Memory only.
  const oSel = segSel(TR);
  const oBase = segBase(TR);
  const old32 = (segAccess(TR) & 0xf) == 9 || (segAccess(TR) & 0xf) == 11;
  let oFlags = getFlags();
  if (source == TASK_IRET) oFlags &= ~NT;
  if (old32) {
    sysWrite32(oBase + 0x20, ip);
    sysWrite32(oBase + 0x24, oFlags);
    for (let r: u32 = 0; r < 8; r++) sysWrite32(oBase + 0x28 + 4 * r, reg32(r));
    for (let s: u32 = 0; s < 6; s++) sysWrite16(oBase + 0x48 + 4 * s, segSel(s));
  } else {
    sysWrite16(oBase + 0x0e, ip);
    sysWrite16(oBase + 0x10, oFlags);
    for (let r: u32 = 0; r < 8; r++) sysWrite16(oBase + 0x12 + 2 * r, reg32(r));
    for (let s: u32 = 0; s < 4; s++) sysWrite16(oBase + 0x22 + 2 * s, segSel(s));
  }
  if (faulted) return;
  if (hasCode) {
    frameStart(baseOf(segDesc(SS)), nEsp, (accessOf(segDesc(SS)) & (1 << 14)) != 0, cpl);
    framePush(code, new32);
    if (faulted) return;
    setSlot(GPR + 4, frameEsp(nEsp));
  }
  const gdt = load<u32>(STATE_BASE + S_GDTR_BASE);
  if (source == TASK_JMP || source == TASK_IRET) {
    // The old task is no longer busy (7.3, step 6).
    const at = gdt + (oSel & 0xfff8) + 4;
    const h = sysRead32(at); if (faulted) return;
    sysWrite32(at, h & ~0x200); if (faulted) return;
  }
  if (source == TASK_CALL || source == TASK_INT) {
    sysWrite16(nBase, oSel); if (faulted) return; // back link (7.4)
  }
  let newTss = tss;
  if (source != TASK_IRET) {
    newTss = tss | (<u64>0x200 << 32);
    sysWrite32(descriptorAddr(sel) + 4, hiOf(newTss)); if (faulted) return;
  }
  // Accessed bits of the new segments.
  for (let s = 0; s < 6; s++) {
    const h = slot(SEG_HI + s);
    if (!v86 && h != 0 && (h & 0x100) == 0) {
      sysWrite32(slot(SEG_ADDR + s) + 4, h | 0x100); if (faulted) return;
      setSlot(SEG_HI + s, h | 0x100);
    }
  }

  // Commit: TR, CR0.TS, CR3, registers, LDTR, segments, CPL.
  setSegRaw(TR, sel & 0xffff, nBase, nLimit, accessOf(newTss));
  store<u32>(STATE_BASE + S_CR0, load<u32>(STATE_BASE + S_CR0) | CR0_TS);
  if (new32 && (load<u32>(STATE_BASE + S_CR0) & CR0_PG) != 0) {
    store<u32>(STATE_BASE + S_CR3, nCr3);
    tlbFlushAll(true);
  }
  for (let r: u32 = 0; r < 8; r++) setReg32(r, slot(GPR + r));
  setFlags(nFlags | 2); // before the segments: VM decides how they are checked
  if (ldtOk) setSegRaw(LDTR, nLdt, ldtBase, ldtLimit, accessOf(ldt));
  else setSegRaw(LDTR, nLdt, 0, 0, AR_UNUSABLE);
  for (let s: u32 = 0; s < 6; s++) {
    const d = segDesc(s);
    if (hiOf(d) == 0) setSegRaw(s, slot(SEG_SEL_NEW + s), 0, 0, AR_UNUSABLE);
    else setSegRaw(s, slot(SEG_SEL_NEW + s), baseOf(d), limitOf(d), accessOf(d));
  }
  setCpl(cpl);
  for (let s: u32 = 0; s < 6; s++) segUpdate(s);
  setIp(nEip);
}
