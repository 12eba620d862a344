// SYSENTER/SYSEXIT (SDM vol. 2B): flat segments derived from IA32_SYSENTER_CS.
import {
  STATE_BASE, S_SYSENTER_CS, S_SYSENTER_ESP, S_SYSENTER_EIP, S_CPL,
} from '../../generated/layout';
import { setSegRaw, CS, SS, ESP, ECX, EDX, reg32, setReg32 } from '../state';
import { segUpdate, setIp } from '../access';
import { raiseGP } from '../fault';
import { getFlags, setFlags, IF, VM, RF } from '../flags';
import { protectedMode, setCpl } from './segments';

export function sysenter(): void {
  const cs = load<u32>(STATE_BASE + S_SYSENTER_CS);
  if (!protectedMode() || (cs & 0xfffc) == 0) { raiseGP(0); return; }
  setFlags(getFlags() & ~(VM | IF | RF));
  // CS: flat 32-bit code, DPL 0; SS: flat data, DPL 0 (SDM vol. 2B, SYSENTER operation).
  setSegRaw(CS, cs & 0xfffc, 0, 0xffffffff, 0xc09b);
  setSegRaw(SS, (cs + 8) & 0xfffc, 0, 0xffffffff, 0xc093);
  setCpl(0);
  segUpdate(CS); segUpdate(SS);
  setReg32(ESP, load<u32>(STATE_BASE + S_SYSENTER_ESP));
  setIp(load<u32>(STATE_BASE + S_SYSENTER_EIP));
}

export function sysexit(): void {
  const cs = load<u32>(STATE_BASE + S_SYSENTER_CS);
  if (!protectedMode() || (cs & 0xfffc) == 0 || load<u32>(STATE_BASE + S_CPL) != 0) {
    raiseGP(0);
    return;
  }
  setSegRaw(CS, ((cs + 16) & 0xfffc) | 3, 0, 0xffffffff, 0xc0fb);
  setSegRaw(SS, ((cs + 24) & 0xfffc) | 3, 0, 0xffffffff, 0xc0f3);
  setCpl(3);
  segUpdate(CS); segUpdate(SS);
  setReg32(ESP, reg32(ECX));
  setIp(reg32(EDX));
}
