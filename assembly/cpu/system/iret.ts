// IRET / IRETD (SDM vol. 2A, IRET pseudo-code): real mode, protected-mode returns to the
// same or an outer privilege level, and the task return of EFLAGS.NT = 1 (to the task in
// the current TSS's back link, task.ts), and the return to virtual-8086 mode (VM = 1 in the
// EFLAGS popped at CPL 0, "RETURN-TO-VIRTUAL-8086-MODE").
import { STATE_BASE, S_CPL, S_NMI_BLOCKED } from '../../generated/layout';
import { ES, CS, SS, DS, FS, GS, ESP, TR, reg32, setReg32, segBase } from '../state';
import { setIp, stack32 } from '../access';
import { sysRd16 } from './sysmem';
import { taskSwitch, TASK_IRET } from './task';
import { getFlags, setFlags, IF, NT, VM, VIF, VIP, IOPL } from '../flags';
import { faulted, raiseGP, raiseNP, NP } from '../fault';
import { peek, spOff, setSp } from '../stack';
import {
  readDescriptor, markAccessed, typeOf, dplOf, presentOf, limitOf, isCode, isConforming,
} from './descriptor';
import {
  protectedMode, v86Mode, loadCsReal, loadSeg, loadSegFrom, nullInvalidSegments, setCpl,
} from './segments';
import { checkReturnSs } from './ret-checks';
import { needAttention } from '../events';

/** EFLAGS bits IRET restores in protected mode before the privilege rules: CF PF AF ZF SF
 *  TF IF DF OF IOPL NT RF AC ID (SDM vol. 2A, IRET). */
const IRET_BITS: u32 = 0x257fd5;

export function iret(osz: u32): void {
  // IRET ends the blocking of NMIs (SDM vol. 3A, 6.7.1).
  store<u32>(STATE_BASE + S_NMI_BLOCKED, 0);
  needAttention(); // an NMI held pending may be taken after this instruction
  const n: u32 = osz == 32 ? 4 : 2;
  const newIp = peek(osz, 0); if (faulted) return;
  const newCs = peek(osz, n) & 0xffff; if (faulted) return;
  const newFl = peek(osz, 2 * n); if (faulted) return;
  const cur = getFlags();
  if (!protectedMode()) {
    // Real mode: VIF, VIP and VM are kept (EFLAGS = temp AND 257FD5H OR EFLAGS AND 1A0000H).
    setSp(spOff(3 * n));
    loadCsReal(newCs);
    setIp(osz == 16 ? newIp & 0xffff : newIp);
    setFlags(osz == 32 ? (newFl & IRET_BITS) | (cur & 0x1a0000)
      : (cur & 0xffff0000) | (newFl & 0xffff));
    return;
  }
  if (v86Mode()) {
    // IOPL-sensitive in V86 mode (SDM vol. 3A, 20.2.7).
    if ((cur & IOPL) != IOPL) { raiseGP(0); return; }
    setSp(spOff(3 * n));
    loadCsReal(newCs);
    setIp(osz == 16 ? newIp & 0xffff : newIp);
    const keep: u32 = IOPL | VM | VIF | VIP;
    setFlags(osz == 32 ? (newFl & ~keep & 0x3f7fd5) | (cur & keep)
      : (cur & 0xffff0000) | (newFl & 0xcfff) | (cur & IOPL));
    return;
  }
  if ((cur & NT) != 0) {
    // Task return: the back link is the first word of the current TSS (SDM vol. 3A, 7.4).
    const link = sysRd16(segBase(TR)); if (faulted) return;
    taskSwitch(link, TASK_IRET, 0, 0, false);
    return;
  }
  const cpl = load<u32>(STATE_BASE + S_CPL);
  if (osz == 32 && (newFl & VM) != 0 && cpl == 0) { iretToV86(newIp, newCs, newFl); return; }

  // The code segment to return to.
  if ((newCs & 0xfffc) == 0) { raiseGP(0); return; }
  const d = readDescriptor(newCs); if (faulted) return;
  const rpl = newCs & 3;
  const t = typeOf(d);
  const dpl = dplOf(d);
  if (!isCode(t) || rpl < cpl || (isConforming(t) ? dpl > rpl : dpl != rpl)) {
    raiseGP(newCs & 0xfffc); return;
  }
  if (!presentOf(d)) { raiseNP(newCs & 0xfffc); return; }
  const eip = osz == 16 ? newIp & 0xffff : newIp;

  // EFLAGS: IOPL (and VIF/VIP) only at CPL 0, IF only when CPL <= IOPL; the CPL is the one
  // before the return.
  let mask: u32 = IRET_BITS;
  if (cpl > 0) mask &= ~IOPL;
  else if (osz == 32) mask |= VIF | VIP;
  if (cpl > ((cur & IOPL) >> 12)) mask &= ~IF;
  if (osz == 16) mask &= 0xffff;
  const nf = (cur & ~mask) | (newFl & mask);

  if (rpl == cpl) {
    if (eip > limitOf(d)) { raiseGP(0); return; }
    const code = markAccessed(newCs, d); if (faulted) return;
    setSp(spOff(3 * n));
    loadSegFrom(CS, newCs, code);
    setIp(eip);
    setFlags(nf);
    return;
  }
  // Outer level: SS:ESP follow EFLAGS on the stack.
  const newSp = peek(osz, 3 * n); if (faulted) return;
  const newSs = peek(osz, 4 * n) & 0xffff; if (faulted) return;
  const ssDesc = checkReturnSs(newSs, rpl, NP); if (faulted) return;
  if (eip > limitOf(d)) { raiseGP(0); return; }
  const code = markAccessed(newCs, d); if (faulted) return;
  const ssLoaded = markAccessed(newSs, ssDesc); if (faulted) return;
  loadSegFrom(SS, newSs, ssLoaded);
  const espv = osz == 16 ? newSp & 0xffff : newSp;
  if (stack32) setReg32(ESP, espv);
  else setReg32(ESP, (reg32(ESP) & 0xffff0000) | espv);
  loadSegFrom(CS, newCs, code);
  setIp(eip);
  setFlags(nf);
  nullInvalidSegments();
}

/** IRETD at CPL 0 with VM set in the popped EFLAGS: ESP, SS, ES, DS, FS, GS follow on the
 *  stack; every segment is loaded as in real mode, CPL becomes 3 (SDM vol. 2A, IRET). */
function iretToV86(newIp: u32, newCs: u32, newFl: u32): void {
  const esp = peek(32, 12); if (faulted) return;
  const ss = peek(32, 16) & 0xffff; if (faulted) return;
  const es = peek(32, 20) & 0xffff; if (faulted) return;
  const ds = peek(32, 24) & 0xffff; if (faulted) return;
  const fs = peek(32, 28) & 0xffff; if (faulted) return;
  const gs = peek(32, 32) & 0xffff; if (faulted) return;
  if (newIp > 0xffff) { raiseGP(0); return; }
  setFlags((newFl & 0x3f7fd5) | 2);
  loadCsReal(newCs);
  loadSeg(SS, ss); loadSeg(ES, es); loadSeg(DS, ds); loadSeg(FS, fs); loadSeg(GS, gs);
  setReg32(ESP, esp);
  setCpl(3);
  setIp(newIp);
}
