// SVM guest mode (AMD APM vol. 2, chapter 15): the intercepts of the shared non-root
// layer (assembly/vmm/intercept.ts). Not built yet on this branch: every intercept answers
// false (no #VMEXIT) and nothing is cached. The SVM branch fills these in.
import { NO_EXIT } from '../vmm/guest';

export function svmCpuid(): bool { return false; }
export function svmHlt(): bool { return false; }
export function svmInvlpg(lin: u32): bool { return false; }
export function svmRdtsc(): bool { return false; }
export function svmRdpmc(): bool { return false; }
export function svmCrRead(cr: u32, gpr: u32): bool { return false; }
export function svmCrWrite(cr: u32, gpr: u32, value: u32): bool { return false; }
export function svmClts(): bool { return false; }
export function svmLmsw(value: u32, lin: u32, isMem: bool): bool { return false; }
export function svmSmsw(): bool { return false; }
export function svmDr(dr: u32, gpr: u32, write: bool): bool { return false; }
export function svmIo(
  port: u32, size: u32, isIn: bool, isString: bool, isRep: bool, addrSize: u32, imm: bool,
): bool { return false; }
export function svmMsr(write: bool): bool { return false; }
export function svmDescTable(which: u32): bool { return false; }
export function svmInvd(): bool { return false; }
export function svmWbinvd(): bool { return false; }
export function svmPause(): bool { return false; }
export function svmMonitor(): bool { return false; }
export function svmMwait(): bool { return false; }
export function svmVmcall(): bool { return false; }
export function svmVmxInsn(reason: u32): bool { return false; }
export function svmSvmInsn(exitCode: u32): bool { return false; }
export function svmSoftInt(vector: u32, kind: u32): bool { return false; }
export function svmIret(): bool { return false; }
export function svmPushf(): bool { return false; }
export function svmPopf(): bool { return false; }
export function svmTaskSwitch(selector: u32, source: u32): bool { return false; }
export function svmException(vector: u32, code: u32, hasCode: bool, type: u32): bool {
  return false;
}
export function svmShutdown(): bool { return false; }
/** After raiseVmExit() in SVM guest mode: #VMEXIT. */
export function svmExitPerform(): u32 { return NO_EXIT; }
/** The instruction-boundary checks of SVM guest mode (V_IRQ, INTR/NMI intercepts). */
export function svmBoundary(): u32 { return NO_EXIT; }
/** Recomputes what the SVM code caches from the VMCB after the state block was replaced. */
export function svmReload(): void {}
/** The nested-paging walk of the AMD formats (assembly/mem/nested.ts): host-physical
 *  address of `gpa`, or all ones for a #NPF that nptFault() then raises. */
export function nptTranslate(gpa: u32, acc: u32, long: bool, root: u32): u32 {
  return 0xffffffff;
}
export function nptFault(gpa: u32, acc: u32, final: bool): void {}
