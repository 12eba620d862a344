// The intercept points of non-root operation, one function per point (issue 9,
// the shared non-root layer). Each returns true when it raised a VM exit (the caller then
// returns at once, as after a fault); it dispatches on guestMode to the VMX code
// (assembly/vmx/exits.ts) or the SVM code (assembly/svm/intercepts.ts). Call sites in
// assembly/cpu are guarded `if (guestMode != 0 && icptX(...)) return;`, placed where the
// manuals put the exit among the instruction's checks (SDM vol. 3C, 26.1.1: #UD, faults
// based on CPL and the TSS I/O-bitmap #GP come before the exit; faults on the operands
// come before exits that depend on the operands' contents).
import { guestMode, GUEST_VMX } from './guest';
import * as vmx from '../vmx/exits';
import * as svm from '../svm/intercepts';

/** Cpuid. */
export function icptCpuid(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxCpuid();
  return svm.svmCpuid();
}
/** Hlt. */
export function icptHlt(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxHlt();
  return svm.svmHlt();
}
/** Invlpg: `lin`: the linear address operand. */
export function icptInvlpg(lin: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxInvlpg(lin);
  return svm.svmInvlpg(lin);
}
/** Rdtsc. */
export function icptRdtsc(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxRdtsc();
  return svm.svmRdtsc();
}
/** Rdpmc. */
export function icptRdpmc(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxRdpmc();
  return svm.svmRdpmc();
}
/** CrRead: MOV from CR`cr` into general register `gpr`. */
export function icptCrRead(cr: u32, gpr: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxCrRead(cr, gpr);
  return svm.svmCrRead(cr, gpr);
}
/** CrWrite: MOV to CR`cr` of `value` from general register `gpr`. */
export function icptCrWrite(cr: u32, gpr: u32, value: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxCrWrite(cr, gpr, value);
  return svm.svmCrWrite(cr, gpr, value);
}
/** Clts. */
export function icptClts(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxClts();
  return svm.svmClts();
}
/** Lmsw: LMSW of `value` (a register, or the memory operand at linear `lin`). */
export function icptLmsw(value: u32, lin: u32, isMem: bool): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxLmsw(value, lin, isMem);
  return svm.svmLmsw(value, lin, isMem);
}
/** Smsw. */
export function icptSmsw(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxSmsw();
  return svm.svmSmsw();
}
/** Dr: MOV to (`write`) or from DR`dr` with general register `gpr`. */
export function icptDr(dr: u32, gpr: u32, write: bool): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxDr(dr, gpr, write);
  return svm.svmDr(dr, gpr, write);
}
/** Io: IN/OUT/INS/OUTS of `size` bytes at `port`; `addrSize` 16 or 32 for INS/OUTS; `imm`:
 *  the port is an immediate operand (IN/OUT imm8). */
export function icptIo(
  port: u32, size: u32, isIn: bool, isString: bool, isRep: bool, addrSize: u32,
  imm: bool = false,
): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxIo(port, size, isIn, isString, isRep, addrSize, imm);
  return svm.svmIo(port, size, isIn, isString, isRep, addrSize, imm);
}
/** Msr: RDMSR or WRMSR (`write`) of the MSR in ECX. */
export function icptMsr(write: bool): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxMsr(write);
  return svm.svmMsr(write);
}
/** DescTable: 0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT, 4 SLDT, 5 STR, 6 LLDT, 7 LTR. */
export function icptDescTable(which: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxDescTable(which);
  return svm.svmDescTable(which);
}
/** Invd. */
export function icptInvd(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxInvd();
  return svm.svmInvd();
}
/** Wbinvd. */
export function icptWbinvd(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxWbinvd();
  return svm.svmWbinvd();
}
/** Pause. */
export function icptPause(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxPause();
  return svm.svmPause();
}
/** Monitor. Not called yet: MONITOR and MWAIT are #UD on this CPU (CPUID.1:ECX.MONITOR =
 *  0), and #UD comes before the exit (SDM vol. 3C, 26.1.1). The same holds for RDPMC, which
 *  the core does not implement (#UD). */
export function icptMonitor(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxMonitor();
  return svm.svmMonitor();
}
/** Mwait. */
export function icptMwait(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxMwait();
  return svm.svmMwait();
}
/** Vmcall. */
export function icptVmcall(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxVmcall();
  return svm.svmVmcall();
}
/** VmxInsn: a VMX instruction, by its VMX exit reason (18-27, 50 INVEPT, 53 INVVPID). */
export function icptVmxInsn(reason: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxVmxInsn(reason);
  return svm.svmVmxInsn(reason);
}
/** SvmInsn: an SVM instruction, by its SVM exit code (VMRUN, VMLOAD, ..., VMMCALL on SVM). */
export function icptSvmInsn(exitCode: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxSvmInsn(exitCode);
  return svm.svmSvmInsn(exitCode);
}
/** SoftInt: INT n (kind 4), INT1 (5), INT3 or INTO (6) at `vector`, before delivery. */
export function icptSoftInt(vector: u32, kind: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxSoftInt(vector, kind);
  return svm.svmSoftInt(vector, kind);
}
/** Iret. */
export function icptIret(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxIret();
  return svm.svmIret();
}
/** Pushf. */
export function icptPushf(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxPushf();
  return svm.svmPushf();
}
/** Popf. */
export function icptPopf(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxPopf();
  return svm.svmPopf();
}
/** TaskSwitch: a task switch to TSS `selector` by `source` (cpu/system/task.ts TASK_*). */
export function icptTaskSwitch(selector: u32, source: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxTaskSwitch(selector, source);
  return svm.svmTaskSwitch(selector, source);
}
/** Exception: delivery of an exception (`type` 3 hardware) or NMI (2). */
export function icptException(vector: u32, code: u32, hasCode: bool, type: u32): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxException(vector, code, hasCode, type);
  return svm.svmException(vector, code, hasCode, type);
}
/** Shutdown: a triple fault (the shutdown that would follow). */
export function icptShutdown(): bool {
  if (guestMode == GUEST_VMX) return vmx.vmxShutdown();
  return svm.svmShutdown();
}

/** What a guest's MOV from CR0/CR4 or SMSW reads (VMX: the read shadows in the bits the
 *  host owns, SDM vol. 3C 26.3); `v` is the register's value. */
export function guestCrRead(cr: u32, v: u32): u32 {
  if (guestMode == GUEST_VMX) return vmx.vmxCrShadow(cr, v);
  return v;
}
/** What a guest's MOV to CR0/CR4, CLTS or LMSW that did not exit writes (VMX: the bits the
 *  host owns keep `old`). */
export function guestCrWrite(cr: u32, old: u32, v: u32): u32 {
  if (guestMode == GUEST_VMX) return vmx.vmxCrMerge(cr, old, v);
  return v;
}
