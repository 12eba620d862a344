// Non-root operation, vendor-neutral (issue 9): which kind of guest the CPU runs (VMX
// non-root operation, SVM guest mode or none), who entered it (the TypeScript VMM or a
// guest's own VMM, nested), and the VM-exit plumbing between the instruction that exits
// (cpu/fault.ts raiseVmExit), the run loop (cpu/run.ts) and the vendor code
// (assembly/vmx/exits.ts, assembly/svm/intercepts.ts).
//
// Off the VMX/SVM path the cost is one global load and a branch: every call site reads
// `guestMode` first (`if (guestMode != 0 && icptX(...)) return;`).
import {
  STATE_BASE, S_GUEST_MODE, S_HOST_OWNED, S_CNT_VMEXIT, VMX_EXIT_COUNTS, VMX_EXIT_SLOTS,
  SVM_EXIT_COUNTS, SVM_EXIT_SLOTS,
} from '../generated/layout';
import { vmxExitPerform, vmxBoundary, vmxReload } from '../vmx/exits';
import { needAttention } from '../cpu/events';
import { svmExitPerform, svmBoundary, svmReload } from '../svm/intercepts';
import { setNested, NESTED_OFF } from '../mem/nested';

export const GUEST_NONE: u32 = 0;
export const GUEST_VMX: u32 = 1;
export const GUEST_SVM: u32 = 2;
/** What guestBoundary() and vmExitPerform() return when the run loop goes on. */
export const NO_EXIT: u32 = 0xffffffff;

/** GUEST_NONE, GUEST_VMX or GUEST_SVM; mirrored in S_GUEST_MODE. */
export let guestMode: u32 = GUEST_NONE;
/** True when the current entry was made by the TypeScript VMM (S_HOST_OWNED). */
export let hostOwned: bool = false;
/** True while the guest needs the run loop's boundary check after every instruction
 *  (preemption timer, monitor trap flag, windows, intercepted interrupts): read by
 *  cpu/events.ts recomputeAttention(). Set by the vendor code. */
export let guestAttn: bool = false;
export function setGuestAttn(on: bool): void { guestAttn = on; }
/** True while external interrupts exit whatever RFLAGS.IF (VMX external-interrupt exiting:
 *  SDM vol. 3C 26.3.1.1; SVM's INTR intercept with V_INTR_MASKING): the run loop's
 *  interrupt window is open with IF = 0. */
export let guestIntrOpen: bool = false;
export function setGuestIntrOpen(on: bool): void { guestIntrOpen = on; }

/** Enters (or leaves, GUEST_NONE) non-root operation. */
export function setGuestMode(mode: u32, owned: bool): void {
  guestMode = mode;
  hostOwned = mode != GUEST_NONE && owned;
  store<u32>(STATE_BASE + S_GUEST_MODE, mode);
  store<u32>(STATE_BASE + S_HOST_OWNED, hostOwned ? 1 : 0);
  if (mode == GUEST_NONE) { guestAttn = false; guestIntrOpen = false; }
  needAttention(); // the next boundary runs the checks of the new mode (injection first)
}

/** The host replaced the state block (loadState, reset): take the mode from it and let the
 *  vendor recompute what it caches from the VMCS/VMCB. */
export function syncGuestMode(): void {
  let m = load<u32>(STATE_BASE + S_GUEST_MODE);
  if (m > GUEST_SVM) m = GUEST_NONE;
  guestMode = m;
  hostOwned = m != GUEST_NONE && load<u32>(STATE_BASE + S_HOST_OWNED) != 0;
  guestAttn = false;
  // Out of non-root operation no nested format applies (a reset in the middle of a guest).
  if (m == GUEST_NONE) setNested(NESTED_OFF, 0, false);
  guestIntrOpen = false;
  if (m == GUEST_VMX) vmxReload();
  else if (m == GUEST_SVM) svmReload();
}

/** The run loop after an instruction or an event delivery raised a VM exit (raiseVmExit):
 *  saves the guest state and either loads the host state of the guest's own VMM (nested:
 *  returns NO_EXIT, the loop goes on) or returns EXIT_VMEXIT for the TypeScript VMM. */
export function vmExitPerform(): u32 {
  if (guestMode == GUEST_VMX) return vmxExitPerform();
  if (guestMode == GUEST_SVM) return svmExitPerform();
  return NO_EXIT;
}

/** At an instruction boundary in non-root operation, before events are taken: exits that
 *  happen between instructions (external-interrupt and NMI exiting, interrupt and NMI
 *  windows, V_IRQ, the preemption timer, the monitor trap flag) and event injection.
 *  Returns NO_EXIT (also after a nested exit, with the host state loaded) or an exit code
 *  for run(). */
export function guestBoundary(): u32 {
  if (guestMode == GUEST_VMX) return vmxBoundary();
  if (guestMode == GUEST_SVM) return svmBoundary();
  return NO_EXIT;
}

/** Counts an exit: all exits, and by VMX basic reason or SVM exit-code index. */
export function countExit(vendor: u32, index: u32): void {
  store<u64>(STATE_BASE + S_CNT_VMEXIT, load<u64>(STATE_BASE + S_CNT_VMEXIT) + 1);
  let a: u32 = 0;
  if (vendor == GUEST_VMX) {
    if (index >= <u32>VMX_EXIT_SLOTS) return;
    a = VMX_EXIT_COUNTS + (index << 3);
  } else {
    if (index >= <u32>SVM_EXIT_SLOTS) index = <u32>SVM_EXIT_SLOTS - 1;
    a = SVM_EXIT_COUNTS + (index << 3);
  }
  store<u64>(a, load<u64>(a) + 1);
}

// ---- Event delivery in progress (for the IDT-vectoring information of an exit) ----
/** The event being delivered, in the VMX interruption-information format (vector 7:0,
 *  type 10:8, error code valid 11, valid 31), or 0; its error code; the instruction length
 *  of a software event. */
export let vectoring: u32 = 0;
export let vectoringCode: u32 = 0;
export let vectoringLen: u32 = 0;
export function setVectoring(vector: u32, type: u32, code: u32, hasCode: bool, len: u32): void {
  const v = (vector & 0xff) | ((type & 7) << 8) | (hasCode ? 0x800 : 0) | 0x80000000;
  if (vectoring == 0) { vectoringFirst = v; vectoringFirstCode = code; }
  vectoring = v;
  vectoringCode = code;
  vectoringLen = len;
}
export function clearVectoring(): void { vectoring = 0; vectoringFirst = 0; }
/** The first event of the current chain of deliveries (the event whose delivery led to the
 *  later ones: #DF, a triple fault): SVM's EXITINTINFO reports it (APM vol. 2, 15.7.2). */
export let vectoringFirst: u32 = 0;
export let vectoringFirstCode: u32 = 0;
/** An injected event's first delivery attempt is not subject to the exception bitmap or
 *  the exception intercepts (SDM vol. 3C, 27.6.1): set by the vendor before it delivers. */
export let injecting: bool = false;
export function setInjecting(on: bool): void { injecting = on; }
