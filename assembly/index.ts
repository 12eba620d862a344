// The core's only export surface. The loader (bindings/core/) calls these; everything else
// it reads and writes through the state block at STATE_BASE (scripts/layout.mjs).
import { fpuReset } from './cpu/fpu/state';
import { ferrAsserted, ferrCount, clearFerr } from './cpu/fpu/insns';
import {
  STATE_BASE, RAM_BASE, S_CR0, S_EDX, S_DR6, S_DR7, S_GDTR_LIMIT, S_IDTR_LIMIT, S_APIC_BASE,
  S_TSC_PER_INSN, S_EFLAGS, S_EIP, STATE_SIZE, S_RAM_BYTES, S_COUNTERS,
} from './generated/layout';
import { setSegRaw, CS, LDTR, TR } from './cpu/state';
import {
  physInit, setA20 as physSetA20, addRom as physAddRom, addMmio as physAddMmio,
  setShadow as physSetShadow, classify, classHost, PAGE_RAM, PAGE_ROM,
} from './mem/phys';
import { tlbFlushAll, tlbReset } from './mem/tlb';
import { tlbSettle } from './mem/tags';
import { run as runLoop, enterState, leaveState } from './cpu/run';
import { completeRead, logClear } from './cpu/iolog';
import {
  setTscExit as tscSetExit, setTscAnswer, tscWriteAdjust, setTscWriteAdjust,
} from './cpu/tsc';
import { msrRead, msrWrite, msrOk } from './cpu/system/msr';
import { setApicPresent as cpuidSetApicPresent } from './cpu/system/cpuid';
import { clearFault } from './cpu/fault';
import { syncGuestMode } from './vmm/guest';
import { tagDrop } from './mem/tags';
import {
  vmmTlbInvalidate as shadowInvalidate, lastInvlpg as shadowLastInvlpg,
} from './mem/shadow';
import { addVmmRam as physAddVmmRam } from './mem/phys';
import {
  STATE_BASE as SB, S_CNT_VMCS_READ, S_CNT_VMCS_WRITE, S_CNT_EMULATED, S_CNT_INSN,
  S_VMCS_PTR, S_VMCS_LAUNCHED, S_NESTED_CACHES, S_TLB_TAGS, S_INT_SHADOW, S_INTR_PENDING,
  INTR_RETURNED,
} from './generated/layout';
import {
  VMXERR_UNSUPPORTED_VMCS_COMPONENT, VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT,
} from './generated/vmx';
import { fieldAddr, vr64, vw64 } from './vmx/vmcs';
import { vmcsClearHost as clearHostVmcs } from './cpu/system/vmx';
import { setHostEmulating } from './cpu/ops/string';
import { vmEntry, loadGuest } from './vmx/entry';
import { saveGuest } from './vmx/exits';
import { guestMode, guestIntrOpen } from './vmm/guest';
import { nestedCachesChanged } from './mem/nested';
import {
  svmHostEnterAt, svmHostVmcb, svmEmulateEnter, svmEmulateLeave,
} from './svm/svm';

export { STATE_BASE };

/** Sizes linear memory for `ramBytes` of guest RAM and powers the CPU on. Returns false when
 *  the memory cannot grow. */
export function init(ramBytes: u32): bool {
  const end: u64 = <u64>RAM_BASE + <u64>ramBytes;
  if (end > 0xffff0000) return false;
  const need = <i32>((end + 0xffff) >> 16);
  const have = memory.size();
  if (need > have && memory.grow(need - have) < 0) return false;
  memory.fill(STATE_BASE, 0, STATE_SIZE);
  physInit(ramBytes);
  physSetA20(true);
  tlbReset();
  store<u32>(STATE_BASE + S_TSC_PER_INSN, 1);
  reset();
  return true;
}

/** Power-on reset (Intel SDM vol. 3A, 9.1.1, table 9-1). RAM is kept. */
export function reset(): void {
  const ram = load<u32>(STATE_BASE + S_RAM_BYTES);
  const tpi = load<u32>(STATE_BASE + S_TSC_PER_INSN);
  // Registers, segments, tables, CRs, DRs, MSRs, events, exit: everything before the
  // counters and the configuration.
  memory.fill(STATE_BASE, 0, S_COUNTERS);
  store<u32>(STATE_BASE + S_RAM_BYTES, ram);
  store<u32>(STATE_BASE + S_TSC_PER_INSN, tpi);
  store<u32>(STATE_BASE + S_EIP, 0xfff0);
  store<u32>(STATE_BASE + S_EFLAGS, 2);
  store<u32>(STATE_BASE + S_CR0, 0x60000010);
  store<u32>(STATE_BASE + S_EDX, 0x0680);
  store<u32>(STATE_BASE + S_DR6, 0xffff0ff0);
  store<u32>(STATE_BASE + S_DR7, 0x400);
  store<u32>(STATE_BASE + S_GDTR_LIMIT, 0xffff);
  store<u32>(STATE_BASE + S_IDTR_LIMIT, 0xffff);
  store<u64>(STATE_BASE + S_APIC_BASE, 0xfee00900);
  for (let s: u32 = 0; s < 6; s++) setSegRaw(s, 0, 0, 0xffff, 0x93);
  setSegRaw(CS, 0xf000, 0xffff0000, 0xffff, 0x9b);
  setSegRaw(LDTR, 0, 0, 0xffff, 0x82);
  setSegRaw(TR, 0, 0, 0xffff, 0x8b);
  fpuReset();
  clearFerr();
  logClear();
  clearFault();
  syncGuestMode(); // out of non-root operation (S_GUEST_MODE was cleared)
  tagDrop(0, true);
  tlbFlushAll(false);
}

export function run(budget: u32): u32 {
  // The host's own code runs: a deferred switch from a host-owned guest is made first.
  if (guestMode == 0) tlbSettle();
  return runLoop(budget);
}

/** The FERR# output (assembly/cpu/fpu/insns.ts): the platform's IRQ 13 source. */
export function ferr(): bool { return ferrAsserted(); }
/** How many times FERR# has been asserted (a new assertion is a new IRQ 13 request). */
export function ferrAssertions(): u32 { return ferrCount(); }

/** The host changed the state block: drop cached translations and derived data. */
export function stateChanged(): void {
  nestedCachesChanged();
  syncGuestMode();
  tagDrop(0, true);
  tlbFlushAll(false);
  enterState();
  leaveState();
}

export function completeIo(value: u32): void { completeRead(value); }
/** Simulated time (assembly/cpu/tsc.ts): RDTSC, RDTSCP and RDMSR(IA32_TSC) exit to the host
 *  (EXIT_RDTSC) while on; completeTsc gives the answer the instruction then reads. */
export function setTscExit(on: bool): void { tscSetExit(on); }
export function completeTsc(v: u64): void { setTscAnswer(v); }
/** What the guest's WRMSR of IA32_TSC added to its counter (0 until it writes it). */
export function tscWriteAdjustment(): u64 { return tscWriteAdjust; }
export function setTscWriteAdjustment(v: u64): void { setTscWriteAdjust(v); }
/** The host's debugger breakpoint table (HOSTDBG) changed. */
export { hostDebugChanged } from './cpu/debug';
/** A loaded state starts a new instruction: the port and MMIO accesses that the one in
 *  flight completed (the replay log) belong to the state replaced. */
export function dropPendingIo(): void { logClear(); }
export function setA20(on: bool): void { physSetA20(on); tlbFlushAll(false); }
/** Reserves host memory for a ROM at `phys`; the loader copies the image to the returned
 *  host address (0 when no more ROMs fit). */
export function addRom(phys: u32, len: u32): u32 {
  const h = physAddRom(phys, len);
  tlbFlushAll(false);
  return h;
}
/** PAM shadow mode of a BIOS-area region (see mem/phys.ts); flushes the TLB. */
export function setShadow(region: u32, mode: u32): bool {
  const ok = physSetShadow(region, mode);
  tlbFlushAll(false);
  return ok;
}
export function addMmio(phys: u32, len: u32): bool {
  const ok = physAddMmio(phys, len);
  tlbFlushAll(false);
  return ok;
}
export function ramBase(): u32 { return RAM_BASE; }
/** VMM RAM (issue 9): `bytes` of zeroed host-physical memory after guest RAM for the
 *  TypeScript VMM's own structures; returns its host-physical address (4 KiB aligned), 0
 *  when memory cannot grow. Bindings reach it through physHost(). */
export function addVmmRam(bytes: u32): u32 { return physAddVmmRam(bytes); }
/** Where physical byte `pa` lives in this instance's memory, as the core maps it (shadow
 *  RAM, ROM, then RAM), or 0 for MMIO and unclaimed space: for the host's reads that must
 *  touch no device. */
export function physHost(pa: u32): u32 {
  const k = classify(pa);
  return k == PAGE_RAM || k == PAGE_ROM ? classHost : 0;
}
/** The platform has a local APIC: CPUID.1:EDX.APIC follows IA32_APIC_BASE[11]. */
export function setApicPresent(on: bool): void { cpuidSetApicPresent(on); }
export function readMsr(index: u32): u64 { return msrRead(index); }
export function writeMsr(index: u32, v: u64): bool { msrWrite(index, v); return msrOk; }
export function lastMsrOk(): bool { return msrOk; }


// ---- The TypeScript VMM's VT-x interface (issue 9; SDM vol. 3C chapters 24-28) ----
@inline function bump64(off: u32, n: u64): void {
  store<u64>(SB + off, load<u64>(SB + off) + n);
}
const NO_VMCS: u64 = 0xffffffffffffffff;
/** True when `enc` names a supported VMCS field (a 64-bit field's HIGH half included). */
export function vmcsFieldOk(enc: u32): bool { return fieldAddr(enc) != 0; }
/** VMREAD for the host: field `enc` of the current VMCS (0 when unsupported or none). */
export function vmcsRead(enc: u32): u64 {
  bump64(S_CNT_VMCS_READ, 1);
  if (load<u64>(SB + S_VMCS_PTR) == NO_VMCS) return 0;
  return vr64(enc);
}
/** VMWRITE for the host: 0, or the VM-instruction error 12 (unsupported component) or 13
 *  (read-only component, SDM vol. 3C 31.4). */
export function vmcsWrite(enc: u32, v: u64): u32 {
  bump64(S_CNT_VMCS_WRITE, 1);
  if (fieldAddr(enc) == 0 || load<u64>(SB + S_VMCS_PTR) == NO_VMCS) {
    return VMXERR_UNSUPPORTED_VMCS_COMPONENT;
  }
  if (((enc >> 10) & 3) == 1) return VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT;
  vw64(enc, v);
  return 0;
}
/** A fresh current VMCS for a host-owned VM (no VMXON): fields 0, launch state clear. */
export function vmcsClearHost(): void { clearHostVmcs(); }
/** VM entry by the TypeScript VMM with the current VMCS: VMLAUNCH when its launch state is
 *  clear, else VMRESUME. Returns 0 (in VMX non-root operation: call run()), the
 *  VM-instruction error of a failed control check (7), or 0x80000000 | 33 / 34 (entry
 *  failure, the exit information in the VMCS). 5-style errors: 0xffffffff without a VMCS. */
export function vmxHostEnter(): u32 {
  if (load<u64>(SB + S_VMCS_PTR) == NO_VMCS) return 0xffffffff;
  if (guestMode != 0) return 0xffffffff;
  logClear();
  clearFault();
  return vmEntry(load<u32>(SB + S_VMCS_LAUNCHED) == 0, false);
}
/** The VMM's instruction emulator (as KVM's): at most `budget` instructions of the guest of
 *  the current VMCS, from its guest-state area, with no intercepts and guest-physical =
 *  host-physical; the state is saved back to the VMCS. Returns like run(). */
export function hostEmulate(budget: u32): u32 {
  if (guestMode != 0) return 0xffffffff;
  // A VM is one vendor: after an svmHostEnter, the VMCB it entered with.
  if (svmHostVmcb() != 0) return svmHostEmulate(budget);
  if (load<u64>(SB + S_VMCS_PTR) == NO_VMCS) return 0xffffffff;
  loadGuest(false);
  tlbSettle();
  tlbFlushAll(false);
  const before = load<u64>(SB + S_CNT_INSN);
  setHostEmulating(true);
  const r = runLoop(budget);
  setHostEmulating(false);
  saveGuest();
  tlbFlushAll(false);
  bump64(S_CNT_EMULATED, load<u64>(SB + S_CNT_INSN) - before);
  return r;
}
/** hostEmulate on the VMCB of the last svmHostEnter (AMD APM vol. 2, table B-2 state save
 *  area in, then out): all ones without one. */
function svmHostEmulate(budget: u32): u32 {
  const v = svmHostVmcb();
  if (v == 0) return 0xffffffff;
  // The replay log is kept: the port or MMIO access the host just completed is in it, and
  // the instruction that asked for it runs again here (as the VMCS path does).
  svmEmulateEnter(v);
  tlbSettle();
  tlbFlushAll(false);
  const before = load<u64>(SB + S_CNT_INSN);
  setHostEmulating(true);
  const r = runLoop(budget);
  setHostEmulating(false);
  svmEmulateLeave(v);
  tlbFlushAll(false);
  bump64(S_CNT_EMULATED, load<u64>(SB + S_CNT_INSN) - before);
  return r;
}
/** VMRUN from the TypeScript VMM (issue 9 contract; AMD APM vol. 2, 15.5): the VMCB at
 *  host-physical `vmcbHpa` (VMM RAM), nested paging in the long-mode format. Returns 0 (in
 *  SVM guest mode: call run() until EXIT_VMEXIT, the exit in the VMCB), 0x80000000 for an
 *  invalid VMCB (EXITCODE VMEXIT_INVALID, -1), all ones when misused (in a guest already, a
 *  VMCB not 4 KiB aligned). */
export function svmHostEnter(vmcbHpa: u32): u32 {
  if (guestMode != 0) return 0xffffffff;
  logClear();
  clearFault();
  return svmHostEnterAt(vmcbHpa);
}
/** The vector an INTR intercept gave back untaken (AMD APM vol. 2, 15.21), or -1; taking
 *  it clears it. The host returns it to its interrupt controller. */
export function takeReturnedInterrupt(): i32 {
  const v = load<u32>(INTR_RETURNED);
  store<u32>(INTR_RETURNED, 0);
  return (v & 0x100) != 0 ? <i32>(v & 0xff) : -1;
}
/** Switches the page-walk cache and the nested TLB (mem/nested.ts); empties both. */
export function setNestedCaches(pwc: bool, ntlb: bool): void {
  store<u32>(SB + S_NESTED_CACHES, (pwc ? 1 : 0) | (ntlb ? 2 : 0));
  nestedCachesChanged();
}
/** Tagged TLB (VPID/ASID, mem/tags.ts) on or off; off drops every saved entry. */
export function setTlbTags(on: bool): void {
  store<u32>(SB + S_TLB_TAGS, on ? 1 : 0);
  tagDrop(0, true);
}
/** True when an external interrupt set now would be taken (or exit) at the next boundary:
 *  IF = 1 or external-interrupt exiting, no interrupt shadow, none pending. */
export function interruptWindowOpen(): bool {
  const fl = load<u32>(SB + S_EFLAGS);
  return ((fl & 0x200) != 0 || guestIntrOpen) && load<u32>(SB + S_INT_SHADOW) == 0 &&
    (load<u32>(SB + S_INTR_PENDING) & 0x100) == 0;
}

// ---- Shadow paging's needs (issue 10; bindings/vmm/shadow) ----
/** Drops cached translations in every address space (mem/shadow.ts): kind 0 the page of
 *  `lin`, 1 all but global entries, 2 all. */
export function vmmTlbInvalidate(lin: u32, kind: u32): void { shadowInvalidate(lin, kind); }
/** The linear address of the last INVLPG executed (the emulator's, for an SVM intercept). */
export function lastInvlpgLinear(): u32 { return shadowLastInvlpg; }
