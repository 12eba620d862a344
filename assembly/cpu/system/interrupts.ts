// Interrupt and exception delivery and IRET.
// Real mode: through the IVT (SDM vol. 3A, 20.1.4). Protected mode: through the IDT's
// interrupt and trap gates (SDM vol. 3A, 6.10-6.12), with the stack switch to the TSS
// stack on a privilege change. Event types are the VMCS interruption types (SDM vol. 3C,
// 24.8.3): 0 external, 2 NMI, 3 hardware exception, 4 software interrupt (INT n),
// 5 privileged software exception (INT1), 6 software exception (INT3, INTO).
// This first version: no task gates, no V86-mode delivery (both raise #GP).
import {
  STATE_BASE, S_CPL, S_IDTR_BASE, S_IDTR_LIMIT, S_NMI_BLOCKED, S_SEG, SEG_SEL,
} from '../../generated/layout';
import { CS, SS, ESP, reg32, setReg32, segBase, segSel, segLimit, TR, AR_DB, segAccess } from '../state';
import { ip, setIp, sysRead16, sysRead32, stack32 } from '../access';
import { flags, getFlags, setFlags, IF, TF, NT, RF, VM, AC, IOPL } from '../flags';
import { faulted, raiseGP, raiseNP, raiseTS, raise, DF_VEC } from '../fault';
import { push16, push32, pop16, pop32, peek, spOff, setSp } from '../stack';
import { readDescriptor, descDpl, descPresent, descType, descLimit, descLo, descHi } from './descriptor';
import { protectedMode, v86Mode, loadCsReal, loadCsChecked, loadSeg, setCpl, nullInvalidSegments } from './segments';

export const EV_EXTERNAL: u32 = 0;
export const EV_NMI: u32 = 2;
export const EV_HW_EXCEPTION: u32 = 3;
export const EV_SOFT_INT: u32 = 4;
export const EV_PRIV_SOFT_EXC: u32 = 5;
export const EV_SOFT_EXC: u32 = 6;

/**
 * Delivers event `vector` of type `type`. The return address pushed is the engine's `ip`
 * (the run loop sets it to the faulting instruction for faults, past the instruction for
 * traps and INT n). Raises a fault (and changes nothing) when delivery itself fails; the
 * run loop turns that into #DF or a shutdown.
 */
export function deliver(vector: u32, type: u32, code: u32, hasCode: bool): void {
  if (!protectedMode()) { deliverReal(vector); return; }
  if (v86Mode()) { raiseGP(0); return; }
  const ext: u32 = (type == EV_SOFT_INT || type == EV_SOFT_EXC) ? 0 : 1;
  const idtBase = load<u32>(STATE_BASE + S_IDTR_BASE);
  const idtLimit = load<u32>(STATE_BASE + S_IDTR_LIMIT);
  if (vector * 8 + 7 > idtLimit) { raiseGP(vector * 8 + 2 + ext); return; }
  const lo = sysRead32(idtBase + vector * 8); if (faulted) return;
  const hi = sysRead32(idtBase + vector * 8 + 4); if (faulted) return;
  const gtype = (hi >> 8) & 0x1f;
  const is32 = gtype == 0x0e || gtype == 0x0f;
  if (!(is32 || gtype == 0x06 || gtype == 0x07)) { raiseGP(vector * 8 + 2 + ext); return; }
  const cpl = load<u32>(STATE_BASE + S_CPL);
  if ((type == EV_SOFT_INT || type == EV_SOFT_EXC) && ((hi >> 13) & 3) < cpl) { raiseGP(vector * 8 + 2); return; }
  if ((hi & 0x8000) == 0) { raiseNP(vector * 8 + 2 + ext); return; }
  const sel = lo >>> 16;
  const off = is32 ? (hi & 0xffff0000) | (lo & 0xffff) : lo & 0xffff;
  if ((sel & 0xfffc) == 0) { raiseGP(ext); return; }
  if (!readDescriptor(sel)) return;
  const dt = descType();
  const dpl = descDpl();
  if ((dt & 0x18) != 0x18 || dpl > cpl) { raiseGP((sel & 0xfffc) + ext); return; }
  if (!descPresent()) { raiseNP((sel & 0xfffc) + ext); return; }
  if (off > descLimit()) { raiseGP(ext); return; }

  const oldFlags = getFlags();
  const oldCs = segSel(CS);
  const oldIp = ip;
  const conforming = (dt & 4) != 0;
  const newCpl = conforming ? cpl : dpl;
  if (newCpl < cpl) {
    // Inner privilege: new stack from the 32-bit TSS (SDM vol. 3A, 7.2.1: ESPn at 4+8n, SSn at 8+8n).
    const tss = segBase(TR);
    if (segLimit(TR) < 8 * newCpl + 9) { raiseTS(segSel(TR) & 0xfffc); return; }
    const newEsp = sysRead32(tss + 4 + 8 * newCpl); if (faulted) return;
    const newSs = sysRead16(tss + 8 + 8 * newCpl); if (faulted) return;
    const oldSs = segSel(SS);
    const oldEsp = reg32(ESP);

    setCpl(newCpl); // the SS checks compare with the new CPL
    loadSeg(SS, newSs);
    if (faulted) { setCpl(cpl); return; }
    setReg32(ESP, newEsp);
    pushGate(is32, oldSs); pushGate(is32, oldEsp);
  } else {
    // nothing to switch
  }
  pushGate(is32, oldFlags);
  pushGate(is32, oldCs);
  pushGate(is32, oldIp);
  if (hasCode) pushGate(is32, code);
  if (faulted) return;
  // Reload the descriptor (the TSS reads may have clobbered the globals).
  readDescriptor(sel);

  loadCsChecked(sel, newCpl);
  setIp(off);
  let f = getFlags() & ~(TF | NT | RF | VM);
  if ((gtype & 1) == 0) f &= ~IF; // interrupt gate
  setFlags(f);
  if (type == EV_NMI) store<u32>(STATE_BASE + S_NMI_BLOCKED, 1);
}

function pushGate(is32: bool, v: u32): void {
  if (faulted) return;
  if (is32) push32(v); else push16(v);
}

function deliverReal(vector: u32): void {
  const base = load<u32>(STATE_BASE + S_IDTR_BASE);
  if (vector * 4 + 3 > load<u32>(STATE_BASE + S_IDTR_LIMIT)) { raiseGP(0); return; }
  const newIp = sysRead16(base + vector * 4); if (faulted) return;
  const newCs = sysRead16(base + vector * 4 + 2); if (faulted) return;
  const sp0 = reg32(ESP);
  push16(getFlags()); if (faulted) return;
  push16(segSel(CS)); if (faulted) { setReg32(ESP, sp0); return; }
  push16(ip); if (faulted) { setReg32(ESP, sp0); return; }
  setFlags(getFlags() & ~(IF | TF | AC | RF));
  loadCsReal(newCs);
  setIp(newIp);
}

/** IRET / IRETD (SDM vol. 2A, IRET pseudo-code): real mode, and protected mode returns to
 *  the same or an outer level. Task returns (NT) and returns to V86 raise #GP for now. */
export function iret(osz: u32): void {
  store<u32>(STATE_BASE + S_NMI_BLOCKED, 0);
  const n: u32 = osz == 32 ? 4 : 2;
  const newIp = peek(osz, 0); if (faulted) return;
  const newCs = peek(osz, n) & 0xffff; if (faulted) return;
  const newFl = peek(osz, 2 * n); if (faulted) return;
  const cur = getFlags();
  if (!protectedMode()) {
    setSp(spOff(3 * n));
    loadCsReal(newCs);
    setIp(osz == 16 ? newIp & 0xffff : newIp);
    setFlags(osz == 32 ? (newFl & 0x257fd5) | (cur & 0x1a0000) : (cur & 0xffff0000) | (newFl & 0xffff));
    return;
  }
  if (v86Mode()) {
    // IOPL-sensitive in V86 mode (SDM vol. 3A, 20.2.7).
    if (((cur & IOPL) >> 12) < 3) { raiseGP(0); return; }
    setSp(spOff(3 * n));
    loadCsReal(newCs);
    setIp(osz == 16 ? newIp & 0xffff : newIp);
    const keep: u32 = IOPL | VM;
    setFlags(osz == 32 ? (newFl & ~keep & 0x3f7fd5) | (cur & keep) : (cur & 0xffff0000) | (newFl & 0xcfff) | (cur & IOPL));
    return;
  }
  if ((cur & NT) != 0) { raiseGP(0); return; }
  if (osz == 32 && (newFl & VM) != 0) { raiseGP(0); return; }
  const cpl = load<u32>(STATE_BASE + S_CPL);
  if ((newCs & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(newCs)) return;
  const rpl = newCs & 3;
  const dt = descType();
  if ((dt & 0x18) != 0x18 || rpl < cpl) { raiseGP(newCs & 0xfffc); return; }
  const conforming = (dt & 4) != 0;
  if (conforming ? descDpl() > rpl : descDpl() != rpl) { raiseGP(newCs & 0xfffc); return; }
  if (!descPresent()) { raiseNP(newCs & 0xfffc); return; }
  const ipv = osz == 16 ? newIp & 0xffff : newIp;
  if (ipv > descLimit()) { raiseGP(0); return; }
  let outerSp: u32 = 0, outerSs: u32 = 0;
  if (rpl > cpl) {
    outerSp = peek(osz, 3 * n); if (faulted) return;
    outerSs = peek(osz, 4 * n) & 0xffff; if (faulted) return;
    readDescriptor(newCs);
  }
  // EFLAGS: IOPL only at CPL 0, IF only when CPL <= IOPL (SDM vol. 2A, IRET).
  let mask: u32 = 0x3f7fd5 & ~(VM | 0x180000); // VIF/VIP unchanged outside V86 handling
  if (cpl > 0) mask &= ~IOPL;
  if (cpl > ((cur & IOPL) >> 12)) mask &= ~IF;
  if (osz == 16) mask &= 0xffff;
  const nf = (cur & ~mask) | (newFl & mask);
  if (rpl == cpl) {
    setSp(spOff(3 * n));
    loadCsChecked(newCs, cpl);
    setIp(ipv);
    setFlags(nf);
    return;
  }
  loadCsChecked(newCs, rpl);
  loadSeg(SS, outerSs);
  if (faulted) return;
  if (stack32) setReg32(ESP, osz == 16 ? outerSp & 0xffff : outerSp);
  else setReg32(ESP, (reg32(ESP) & 0xffff0000) | (outerSp & 0xffff));
  setIp(ipv);
  setFlags(nf);
  nullInvalidSegments();
}

/** Exception classes for double-fault detection (SDM vol. 3A, table 6-5). */
function contributory(v: i32): bool { return v == 0 || (v >= 10 && v <= 13); }

/**
 * Decides what a fault raised while delivering exception `first` becomes:
 * returns 8 (#DF) or -1 (shutdown: triple fault), or the second vector itself when the
 * pair is benign (SDM vol. 3A, table 6-5).
 */
export function combineFaults(first: i32, second: i32): i32 {
  if (first == DF_VEC) return -1;
  const firstPf = first == 14;
  if ((contributory(first) && contributory(second)) || (firstPf && (contributory(second) || second == 14))) return DF_VEC;
  return second;
}
