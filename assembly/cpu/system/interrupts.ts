// Interrupt and exception delivery.
// Real mode: through the IVT (SDM vol. 3A, 20.1.4; the IDTR base and limit still apply).
// Protected mode: through the IDT's interrupt and trap gates, 16- and 32-bit (SDM vol. 3A,
// 6.10-6.12, and the INT n pseudo-code of vol. 2A), with the stack switch to the TSS stack
// on a privilege change. Error codes raised while delivering carry the EXT bit when the
// event is not a software INT n / INT3 / INTO (6.13).
//
// Event types are the VMCS interruption types (SDM vol. 3C, 24.8.3): 0 external, 2 NMI,
// 3 hardware exception, 4 software interrupt (INT n), 5 privileged software exception
// (INT1), 6 software exception (INT3, INTO).
//
// Task gates in the IDT switch tasks (task.ts). From virtual-8086 mode, INT n is
// IOPL-sensitive (#GP(0) unless IOPL = 3) and every event goes to a ring-0 handler with
// GS, FS, DS and ES pushed and then nulled (SDM vol. 3A, 20.3.1.1, figure 20-4).
//
// Delivery checks everything and writes the whole frame before it changes a register, so a
// fault during delivery leaves the CPU as it was; the run loop then turns that fault into
// #DF or a shutdown (combineFaults).
import {
  STATE_BASE, S_CPL, S_IDTR_BASE, S_IDTR_LIMIT, S_NMI_BLOCKED,
} from '../../generated/layout';
import {
  ES, CS, SS, DS, FS, GS, ESP, reg32, setReg32, segSel, segBase, segLimit, segAccess, setSegRaw,
  AR_DB, AR_UNUSABLE,
} from '../state';
import { ip, setIp, segUpdate, startIp } from '../access';
import { guestMode, setVectoring, clearVectoring } from '../../vmm/guest';
import { icptException } from '../../vmm/intercept';
import { sysRd16 } from './sysmem';
import { getFlags, setFlags, IF, TF, NT, RF, VM, AC, IOPL } from '../flags';
import { faulted, raise, raiseGP, GP, NP, SS_VEC, DF_VEC } from '../fault';
import { push16 } from '../stack';
import {
  fetchDescriptor, descriptorAt, markAccessed, typeOf, dplOf, presentOf, limitOf, baseOf, accessOf,
  isCode, isConforming, gateSelector, gateOffset,
  SYS_INT_GATE16, SYS_TRAP_GATE16, SYS_INT_GATE32, SYS_TRAP_GATE32, SYS_TASK_GATE,
} from './descriptor';
import { taskSwitch, TASK_INT } from './task';
import { protectedMode, v86Mode, loadCsReal, loadSegFrom } from './segments';
import {
  tssStack, stackSs, stackEsp, innerStackSeg, stackRoom, frameStart, framePush, frameEsp,
} from './stack-switch';

export { iret } from './iret';

export const EV_EXTERNAL: u32 = 0;
export const EV_NMI: u32 = 2;
export const EV_HW_EXCEPTION: u32 = 3;
export const EV_SOFT_INT: u32 = 4;
export const EV_PRIV_SOFT_EXC: u32 = 5;
export const EV_SOFT_EXC: u32 = 6;

/**
 * Delivers event `vector` of type `type`. The return address pushed is the engine's `ip`
 * (the run loop sets it to the faulting instruction for faults, past the instruction for
 * traps and INT n). Raises a fault (and changes nothing) when delivery itself fails.
 */
export function deliver(vector: u32, type: u32, code: u32, hasCode: bool): void {
  if (guestMode != 0) { deliverGuest(vector, type, code, hasCode); return; }
  deliverNative(vector, type, code, hasCode);
}

/**
 * Delivery in non-root operation: a hardware exception may exit (the exception bitmap, SDM
 * vol. 3C 26.2; an injected event is exempt, 27.6.1); otherwise the event is recorded as
 * being delivered, so that an exit during its delivery (an EPT violation, a task switch, a
 * second exception that exits) reports it as IDT-vectoring information (28.2.4).
 */
function deliverGuest(vector: u32, type: u32, code: u32, hasCode: bool): void {
  if (type == EV_HW_EXCEPTION && icptException(vector, code, hasCode, type)) return;
  const soft = type == EV_SOFT_INT || type == EV_SOFT_EXC || type == EV_PRIV_SOFT_EXC;
  setVectoring(vector, type, code, hasCode, soft ? ip - startIp : 0);
  deliverNative(vector, type, code, hasCode);
  if (!faulted) clearVectoring();
}

function deliverNative(vector: u32, type: u32, code: u32, hasCode: bool): void {
  if (!protectedMode()) {
    deliverReal(vector);
    // NMIs are blocked until the next IRET in every mode (SDM vol. 3A, 6.7.1).
    if (!faulted && type == EV_NMI) store<u32>(STATE_BASE + S_NMI_BLOCKED, 1);
    return;
  }
  // Software INT n, INT3 and INTO check the gate's DPL and do not set EXT (SDM 6.12.1.1, 6.13).
  const soft = type == EV_SOFT_INT || type == EV_SOFT_EXC;
  const ext: u32 = soft ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  const vm = v86Mode();
  if (vm && type == EV_SOFT_INT && (getFlags() & IOPL) != IOPL) { raiseGP(0); return; }
  if (vector * 8 + 7 > load<u32>(STATE_BASE + S_IDTR_LIMIT)) { raiseGP(idtErr); return; }
  const gateAt = load<u32>(STATE_BASE + S_IDTR_BASE) + vector * 8;
  const gate = descriptorAt(gateAt); if (faulted) return;
  const gt = typeOf(gate);
  const gate32 = gt == SYS_INT_GATE32 || gt == SYS_TRAP_GATE32;
  if (!(gate32 || gt == SYS_INT_GATE16 || gt == SYS_TRAP_GATE16 || gt == SYS_TASK_GATE)) {
    raiseGP(idtErr); return;
  }
  const cpl = load<u32>(STATE_BASE + S_CPL);
  if (soft && dplOf(gate) < cpl) { raiseGP(vector * 8 + 2); return; }
  if (!presentOf(gate)) { raise(NP, idtErr, true); return; }
  if (gt == SYS_TASK_GATE) {
    // A task switch; the error code goes on the new task's stack (SDM vol. 3A, 6.12.2).
    taskSwitch(gateSelector(gate), TASK_INT, ext, code, hasCode);
    if (!faulted && type == EV_NMI) store<u32>(STATE_BASE + S_NMI_BLOCKED, 1);
    return;
  }

  // The handler's code segment.
  const tsel = gateSelector(gate);
  const eip = gateOffset(gate, gate32);
  if ((tsel & 0xfffc) == 0) { raiseGP(ext); return; }
  const cd = fetchDescriptor(tsel, GP, ext); if (faulted) return;
  const ct = typeOf(cd);
  const dpl = dplOf(cd);
  if (!isCode(ct) || dpl > cpl) { raiseGP((tsel & 0xfffc) | ext); return; }
  if (!presentOf(cd)) { raise(NP, (tsel & 0xfffc) | ext, true); return; }

  const n: u32 = gate32 ? 4 : 2;
  const oldFlags = getFlags();
  const oldCs = segSel(CS) & 0xffff;
  const oldEsp = reg32(ESP);
  const retIp = ip;
  let newCpl = cpl;
  let innerSs: u32 = 0, innerEsp: u32 = 0, ssDesc: u64 = 0;
  if (!isConforming(ct) && dpl < cpl) {
    // Inner privilege: the TSS stack of level `dpl` (SDM 6.12.1, figure 6-4); from V86 mode
    // only to ring 0, with the data segments saved as well (figure 20-4).
    if (vm && dpl != 0) { raiseGP((tsel & 0xfffc) | ext); return; }
    newCpl = dpl;
    const stack = tssStack(dpl, ext); if (faulted) return;
    innerSs = stackSs(stack); innerEsp = stackEsp(stack);
    ssDesc = innerStackSeg(innerSs, dpl, ext); if (faulted) return;
    const ssAr = accessOf(ssDesc);
    const bytes = ((hasCode ? 6 : 5) + (vm ? 4 : 0)) * n;
    if (!stackRoom(limitOf(ssDesc), ssAr, innerEsp, bytes)) {
      raise(SS_VEC, (innerSs & 0xfffc) | ext, true); return;
    }
    if (eip > limitOf(cd)) { raiseGP(ext); return; }
    frameStart(baseOf(ssDesc), innerEsp, (ssAr & AR_DB) != 0, dpl);
    if (vm) {
      framePush(segSel(GS), gate32);
      framePush(segSel(FS), gate32);
      framePush(segSel(DS), gate32);
      framePush(segSel(ES), gate32);
    }
    framePush(segSel(SS) & 0xffff, gate32);
    framePush(oldEsp, gate32);
  } else {
    // A V86-mode event needs a ring-0 non-conforming handler.
    if (vm) { raiseGP((tsel & 0xfffc) | ext); return; }
    // Same privilege: the frame goes on the current stack; #SS(EXT) when it does not fit.
    const bytes = (hasCode ? 4 : 3) * n;
    if (!stackRoom(segLimit(SS), segAccess(SS), oldEsp, bytes)) {
      raise(SS_VEC, ext, true); return;
    }
    if (eip > limitOf(cd)) { raiseGP(ext); return; }
    frameStart(segBase(SS), oldEsp, (segAccess(SS) & AR_DB) != 0, cpl);
  }
  framePush(oldFlags, gate32);
  framePush(oldCs, gate32);
  framePush(retIp, gate32);
  if (hasCode) framePush(code, gate32);
  if (faulted) return;
  if (newCpl != cpl) { ssDesc = markAccessed(innerSs, ssDesc); if (faulted) return; }
  const csDesc = markAccessed(tsel, cd); if (faulted) return;

  // Commit. EFLAGS first: leaving V86 mode changes how segment registers load.
  // TF, NT, RF and VM clear; an interrupt gate also clears IF (SDM 6.12.1.3).
  let f = oldFlags & ~(TF | NT | RF | VM);
  if (gt == SYS_INT_GATE16 || gt == SYS_INT_GATE32) f &= ~IF;
  setFlags(f);
  if (vm) {
    for (let s: u32 = 0; s < 6; s++) {
      if (s == CS || s == SS) continue;
      setSegRaw(s, 0, 0, 0, AR_UNUSABLE);
      segUpdate(s);
    }
  }
  if (newCpl != cpl) {
    loadSegFrom(SS, (innerSs & 0xfffc) | newCpl, ssDesc);
    setReg32(ESP, frameEsp(innerEsp));
  } else {
    setReg32(ESP, frameEsp(oldEsp));
  }
  loadSegFrom(CS, (tsel & 0xfffc) | newCpl, csDesc);
  setIp(eip);
  if (type == EV_NMI) store<u32>(STATE_BASE + S_NMI_BLOCKED, 1);
}

/** Real mode: FLAGS, CS, IP pushed; CS:IP from the 4-byte IVT entry (SDM vol. 2A, INT n,
 *  REAL-ADDRESS-MODE); IF, TF and AC cleared. */
function deliverReal(vector: u32): void {
  if (vector * 4 + 3 > load<u32>(STATE_BASE + S_IDTR_LIMIT)) { raiseGP(0); return; }
  const base = load<u32>(STATE_BASE + S_IDTR_BASE);
  const newIp = sysRd16(base + vector * 4); if (faulted) return;
  const newCs = sysRd16(base + vector * 4 + 2); if (faulted) return;
  const sp0 = reg32(ESP);
  const fl = getFlags();
  push16(fl);
  push16(segSel(CS));
  push16(ip);
  if (faulted) { setReg32(ESP, sp0); return; }
  setFlags(fl & ~(IF | TF | AC | RF));
  loadCsReal(newCs);
  setIp(newIp);
}

/** Exception classes for double-fault detection (SDM vol. 3A, 6.15, table 6-4):
 *  contributory = #DE, #TS, #NP, #SS, #GP. */
function contributory(v: i32): bool { return v == 0 || (v >= 10 && v <= 13); }

/**
 * What a fault raised while delivering exception `first` becomes (SDM vol. 3A, table 6-5):
 * 8 (#DF) for contributory after contributory and for contributory or page fault after a
 * page fault; -1 (shutdown: triple fault) for anything during #DF; otherwise the second
 * exception itself, handled serially.
 */
export function combineFaults(first: i32, second: i32): i32 {
  if (first == DF_VEC) return -1;
  const firstPf = first == 14;
  if (contributory(first) && contributory(second)) return DF_VEC;
  if (firstPf && (contributory(second) || second == 14)) return DF_VEC;
  return second;
}
