// The stack segment of a return to an outer privilege level (RETF and IRET; SDM vol. 2B,
// RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL", vol. 2A, IRET "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
import { faulted, raiseGP, raise, SS_VEC } from '../fault';
import { readDescriptor, descHi, dplOf, typeOf, presentOf, isWritableData } from './descriptor';

/**
 * Checks the popped SS for a return to privilege `rpl` (the RPL of the popped CS): not null
 * (#GP(0)), inside its table, RPL = rpl, a writable data segment with DPL = rpl (#GP(SS)),
 * present (#SS(SS)). Leaves its descriptor current; returns false after raising the fault.
 */
export function checkReturnSs(ss: u32, rpl: u32): bool {
  if ((ss & 0xfffc) == 0) { raiseGP(0); return false; }
  if (!readDescriptor(ss)) return false;
  if ((ss & 3) != rpl || !isWritableData(typeOf(descHi)) || dplOf(descHi) != rpl) {
    raiseGP(ss & 0xfffc);
    return false;
  }
  if (!presentOf(descHi)) { raise(SS_VEC, ss & 0xfffc, true); return false; }
  return !faulted;
}
