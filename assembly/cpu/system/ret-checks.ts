// The stack segment of a return to an outer privilege level (RETF and IRET; SDM vol. 2B,
// RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL", vol. 2A, IRET "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
import { faulted, raiseGP, raise, SS_VEC } from '../fault';
import { readDescriptor, dplOf, typeOf, presentOf, isWritableData } from './descriptor';

/**
 * Checks the popped SS for a return to privilege `rpl` (the RPL of the popped CS): not null
 * (#GP(0)), inside its table, RPL = rpl, a writable data segment with DPL = rpl (#GP(SS)),
 * present (exception `notPresent` with the selector: #SS for RET as its pseudo-code says;
 * #NP for IRET, the "#NP(selector) if the return code or stack segment is not present" of its
 * exception list, which is what Bochs and QEMU raise). Returns its descriptor; after
 * raising the fault returns 0 (check `faulted`).
 */
export function checkReturnSs(ss: u32, rpl: u32, notPresent: i32): u64 {
  if ((ss & 0xfffc) == 0) { raiseGP(0); return 0; }
  const d = readDescriptor(ss); if (faulted) return 0;
  if ((ss & 3) != rpl || !isWritableData(typeOf(d)) || dplOf(d) != rpl) {
    raiseGP(ss & 0xfffc);
    return 0;
  }
  if (!presentOf(d)) { raise(notPresent, ss & 0xfffc, true); return 0; }
  return d;
}
