// Far JMP, CALL and RET (SDM vol. 2A/2B, JMP, CALL, RET pseudo-code). Real and V86 mode
// load CS as base = selector * 16; protected mode checks the code descriptor. This first
// version handles direct transfers to code segments and same/outer-privilege returns;
// call gates and task switches raise #GP (to be completed by the system machinery).
import { STATE_BASE, S_CPL } from '../../generated/layout';
import { CS, SS, ESP, reg32, setReg32 } from '../state';
import { ip, setIp, stack32 } from '../access';
import { faulted, raiseGP, raiseNP } from '../fault';
import { push16, push32, peek, spOff, setSp } from '../stack';
import { readDescriptor, descDpl, descPresent, descType, descLimit, setAccessed } from './descriptor';
import { protectedMode, v86Mode, loadCsReal, loadCsChecked, loadSeg, nullInvalidSegments } from './segments';

/** Checks a code-segment descriptor (already read) as the target of a far JMP/CALL/RET
 *  at privilege `cpl` with selector RPL `rpl`; returns false after raising the fault. */
function checkCode(sel: u32, cpl: u32, rpl: u32, isRet: bool): bool {
  const type = descType();
  if ((type & 0x18) != 0x18) { raiseGP(sel & 0xfffc); return false; }
  const dpl = descDpl();
  const conforming = (type & 4) != 0;
  if (isRet) {
    if (rpl < cpl || (conforming ? dpl > rpl : dpl != rpl)) { raiseGP(sel & 0xfffc); return false; }
  } else if (conforming ? dpl > cpl : (dpl != cpl || rpl > cpl)) {
    raiseGP(sel & 0xfffc); return false;
  }
  if (!descPresent()) { raiseNP(sel & 0xfffc); return false; }
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
  const cpl = load<u32>(STATE_BASE + S_CPL);
  if ((descType() & 0x10) == 0) { raiseGP(sel & 0xfffc); return; } // gates, TSS: not yet
  if (!checkCode(sel, cpl, sel & 3, false)) return;
  if (osz == 16) off &= 0xffff;
  if (off > descLimit()) { raiseGP(0); return; }
  setAccessed();
  if (faulted) return;
  loadCsChecked(sel, cpl);
  setIp(off);
}

export function farCall(sel: u32, off: u32, osz: u32): void {
  const retCs = load<u32>(STATE_BASE + 64 + 16 * CS) & 0xffff;
  const retIp = ip;
  if (!protectedMode() || v86Mode()) {
    if (osz == 32) {
      push32(retCs); if (faulted) return;
      push32(retIp); if (faulted) return;
    } else {
      push16(retCs); if (faulted) return;
      push16(retIp); if (faulted) return;
    }
    loadCsReal(sel);
    setIp(osz == 16 ? off & 0xffff : off);
    return;
  }
  if ((sel & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(sel)) return;
  const cpl = load<u32>(STATE_BASE + S_CPL);
  if ((descType() & 0x10) == 0) { raiseGP(sel & 0xfffc); return; } // call gates: not yet
  if (!checkCode(sel, cpl, sel & 3, false)) return;
  if (osz == 16) off &= 0xffff;
  if (off > descLimit()) { raiseGP(0); return; }
  const esp0 = reg32(ESP);
  if (osz == 32) {
    push32(retCs); if (faulted) return;
    push32(retIp); if (faulted) { setReg32(ESP, esp0); return; }
  } else {
    push16(retCs); if (faulted) return;
    push16(retIp); if (faulted) { setReg32(ESP, esp0); return; }
  }
  setAccessed();
  loadCsChecked(sel, cpl);
  setIp(off);
}

/** RETF [imm16]: pops EIP and CS (and ESP/SS when returning to an outer level). */
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
  const cpl = load<u32>(STATE_BASE + S_CPL);
  const rpl = newCs & 3;
  if (!checkCode(newCs, cpl, rpl, true)) return;
  const lim = descLimit();
  const ipv = osz == 16 ? newIp & 0xffff : newIp;
  if (ipv > lim) { raiseGP(0); return; }
  if (rpl == cpl) {
    setSp(spOff(2 * n + imm));
    loadCsChecked(newCs, cpl);
    setIp(ipv);
    return;
  }
  // Return to an outer privilege level: ESP and SS follow the immediate.
  const newSp = peek(osz, 2 * n + imm); if (faulted) return;
  const newSs = peek(osz, 3 * n + imm) & 0xffff; if (faulted) return;
  const hiDesc = readDescriptor(newCs); if (!hiDesc) return;
  loadCsChecked(newCs, rpl);
  loadSeg(SS, newSs);
  if (faulted) return;
  if (stack32) setReg32(ESP, (osz == 16 ? newSp & 0xffff : newSp) + imm);
  else setReg32(ESP, (reg32(ESP) & 0xffff0000) | ((newSp + imm) & 0xffff));
  setIp(ipv);
  nullInvalidSegments();

}
