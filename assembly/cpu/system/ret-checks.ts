// The stack segment of a return to an outer privilege level (RETF and IRET; SDM vol. 2B,
// RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL", vol. 2A, IRET "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
import { faulted, raiseGP, raise, SS_VEC } from '../fault';
import { readDescriptor, descHi, dplOf, typeOf, presentOf, isWritableData } from './descriptor';

/**
 * Checks the popped SS for a return to privilege `rpl` (the RPL of the popped CS): not null
 * (#GP(0)), inside its table, RPL = rpl, a writable data segment with DPL = rpl (#GP(SS)),
 * present (exception `notPresent` with the selector: #SS for RET as its pseudo-code says;
 * #NP for IRET, the "#NP(selector) if the return code or stack segment is not present" of its
 * exception list, which is what Bochs and QEMU raise). Leaves its descriptor current;
 * returns false after raising the fault.
 */
export function checkReturnSs(ss: u32, rpl: u32, notPresent: i32): bool {
  if ((ss & 0xfffc) == 0) { raiseGP(0); return false; }
  if (!readDescriptor(ss)) return false;
  if ((ss & 3) != rpl || !isWritableData(typeOf(descHi)) || dplOf(descHi) != rpl) {
    raiseGP(ss & 0xfffc);
    return false;
  }
  if (!presentOf(descHi)) { raise(notPresent, ss & 0xfffc, true); return false; }
  return !faulted;
}
