// POPF/POPFD and the other writes of EFLAGS from the guest (SDM vol. 2B, POPF): VM, RF
// and VIF/VIP never change; IOPL only at CPL 0; IF only when CPL <= IOPL; in V86 mode
// POPF is IOPL-sensitive (#GP(0) unless IOPL = 3).
import { STATE_BASE, S_CPL, S_CR0 } from '../../generated/layout';
import { getFlags, setFlags, IOPL, IF, VM, RF, VIF, VIP } from '../flags';
import { raiseGP } from '../fault';
import { CR0_PE } from '../state';

export function popf(v: u32, osz: u32): void {
  const cur = getFlags();
  let mask: u32 = 0x3f7fd5 & ~(VM | RF | VIF | VIP);
  if ((cur & VM) != 0) {
    if ((cur & IOPL) != IOPL) { raiseGP(0); return; }
    mask &= ~IOPL;
  } else if ((load<u32>(STATE_BASE + S_CR0) & CR0_PE) != 0) {
    const cpl = load<u32>(STATE_BASE + S_CPL);
    if (cpl > 0) mask &= ~IOPL;
    if (cpl > ((cur & IOPL) >> 12)) mask &= ~IF;
  }
  if (osz == 16) mask &= 0xffff;
  setFlags((cur & ~mask) | (v & mask));
}

/** PUSHF in V86 mode is IOPL-sensitive; elsewhere it always works. Returns false after #GP. */
export function pushfAllowed(): bool {
  const cur = getFlags();
  if ((cur & VM) != 0 && (cur & IOPL) != IOPL) { raiseGP(0); return false; }
  return true;
}

/** CLI/STI: allowed when CPL <= IOPL (V86: IOPL = 3). Returns false after #GP. */
export function ifChangeAllowed(): bool {
  const cur = getFlags();
  if ((load<u32>(STATE_BASE + S_CR0) & CR0_PE) == 0) return true;
  const lvl: u32 = (cur & VM) != 0 ? 3 : load<u32>(STATE_BASE + S_CPL);
  if (lvl > ((cur & IOPL) >> 12)) { raiseGP(0); return false; }
  return true;
}
