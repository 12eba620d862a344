// VM entry (Intel SDM vol. 3C, chapter 27 "VM Entries"), for VMLAUNCH/VMRESUME of a guest's
// own VMM (cpu/system/vmx.ts) and for the TypeScript VMM (vmxHostEnter in assembly/index.ts).
// In order: 27.2.1 checks on the VMX controls (failure: VMfailValid(7)), 27.2.2 on the host-
// state area (VMfailValid(8)), 27.3.1 on the guest-state area (an entry failure: exit reason
// 33 with bit 31), 27.3.2 loading the guest state, 27.4 the MSR-load area (reason 34), then
// 27.6 event injection (armed here, done at the first instruction boundary:
// assembly/vmx/exits.ts) with the activity and interruptibility states.
//
// This CPU has no IA-32e mode, no PAE, no PAT/EFER/PERF_GLOBAL_CTRL MSRs, no SMM, no APIC
// virtualization, no shadow VMCS, no #VE and no PML. The checks that only concern those are
// omitted, being vacuous here:
//   27.2.1: the TPR-shadow / virtual-APIC / APIC-access / x2APIC / posted-interrupt /
//     virtual-interrupt-delivery checks (those controls must be 0 and are); PML, VM
//     functions, VMCS shadowing, #VE, SPP, Intel PT, XSAVES, TSC scaling; "IA-32e mode
//     guest" and "host address-space size" consistency (both must be 0); PERF_GLOBAL_CTRL,
//     PAT, EFER, BNDCFGS, RTIT, CET, PKRS loading; entry to SMM / dual-monitor treatment.
//   27.2.2: canonical-address checks of host bases and RIP (no 64-bit addresses); host
//     PAT/EFER; CR3/RIP bits 63:32 (natural-width fields are 32 bits here).
//   27.3.1: canonical-address checks and bits 63:32 of guest bases, RIP and DR7; PDPTEs
//     (no PAE); IA32_DEBUGCTL (no such MSR: the field is not loaded); IA-32e mode checks of
//     segments; PAT/EFER/BNDCFGS; the SMBASE and SMM checks; enclave interruption.
//   Blocking by MOV SS of VMLAUNCH/VMRESUME itself (error 26): the core keeps one shadow for
//     STI and MOV SS.
import {
  STATE_BASE, S_ESP, S_CR0, S_CR3, S_CR4, S_DR7, S_SEG, SEG_SIZE, SEG_SEL, SEG_BASE,
  SEG_LIMIT, SEG_ACCESS, S_GDTR_BASE, S_GDTR_LIMIT, S_IDTR_BASE, S_IDTR_LIMIT, S_SYSENTER_CS,
  S_SYSENTER_ESP, S_SYSENTER_EIP, S_INT_SHADOW, S_NMI_BLOCKED, S_HALTED, S_VMX_PREEMPT, S_CPL,
  S_CNT_VMENTRY, S_VMCS_LAUNCHED,
} from '../generated/layout';
import {
  VMCS_PIN_BASED_VM_EXEC_CONTROL, VMCS_CPU_BASED_VM_EXEC_CONTROL, VMCS_SECONDARY_VM_EXEC_CONTROL,
  VMCS_VM_EXIT_CONTROLS, VMCS_VM_ENTRY_CONTROLS, VMCS_CR3_TARGET_COUNT, VMCS_IO_BITMAP_A,
  VMCS_IO_BITMAP_B, VMCS_MSR_BITMAP, VMCS_EPT_POINTER, VMCS_VIRTUAL_PROCESSOR_ID,
  VMCS_VM_EXIT_MSR_STORE_ADDR, VMCS_VM_EXIT_MSR_LOAD_ADDR, VMCS_VM_ENTRY_MSR_LOAD_ADDR,
  VMCS_VM_EXIT_MSR_STORE_COUNT, VMCS_VM_EXIT_MSR_LOAD_COUNT, VMCS_VM_ENTRY_MSR_LOAD_COUNT,
  VMCS_VM_ENTRY_INTR_INFO_FIELD, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, VMCS_VM_ENTRY_INSTRUCTION_LEN,
  VMCS_HOST_CR0, VMCS_HOST_CR4, VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR,
  VMCS_HOST_SS_SELECTOR, VMCS_HOST_TR_SELECTOR, VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4,
  VMCS_GUEST_DR7, VMCS_GUEST_RSP, VMCS_GUEST_RIP, VMCS_GUEST_RFLAGS, VMCS_GUEST_ES_SELECTOR,
  VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_GDTR_BASE,
  VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_BASE, VMCS_GUEST_IDTR_LIMIT, VMCS_GUEST_SYSENTER_CS,
  VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP, VMCS_GUEST_INTERRUPTIBILITY_INFO,
  VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, VMCS_VMX_PREEMPTION_TIMER_VALUE,
  VMCS_VMCS_LINK_POINTER, VMCS_VM_EXIT_REASON, VMCS_EXIT_QUALIFICATION,
  VMXERR_ENTRY_INVALID_CONTROL_FIELD, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD,
  EXIT_REASON_INVALID_STATE, EXIT_REASON_MSR_LOAD_FAIL,
} from '../generated/vmx';
import { vr, vr64, vw } from './vmcs';
import {
  PIN_DEFAULT1, PIN_ALLOWED1, PROC_TRUE_DEFAULT1, PROC_ALLOWED1, PROC2_ALLOWED1, EXIT_DEFAULT1,
  EXIT_ALLOWED1, ENTRY_DEFAULT1, ENTRY_ALLOWED1,
} from './caps';
import {
  vmxCache, armInjection, markEntry, loadHost, loadMsrs, reloadWorking, PIN_NMI,
  PIN_VIRTUAL_NMI, PIN_PREEMPT, PROC_NMI_WINDOW, PROC_IO_BITMAPS, PROC_MSR_BITMAPS,
  PROC_SECONDARY, P2_EPT, P2_VPID, P2_UNRESTRICTED, EXIT_SAVE_PREEMPT, ENTRY_LOAD_DEBUG,
} from './exits';
import { setGuestMode, GUEST_VMX } from '../vmm/guest';
import { tlbWorldSwitch } from '../mem/tags';
import { physRead32 } from '../mem/phys';
import { setShadowNext, clearShadowNext } from '../cpu/shadow';
import { VMX_CR0_FIXED0, VMX_CR4_FIXED0, VMX_CR4_FIXED1, VMCS_REVISION } from '../cpu/system/vmx';

/** vmEntry() results besides 0 (entered) and the VM-instruction errors 7 and 8. */
export const ENTRY_FAIL: u32 = 0x80000000;

// RFLAGS reserved bits (27.3.1.4): 63:22, 15, 5, 3 must be 0 and bit 1 must be 1.
const RFLAGS_RESERVED: u32 = 0xffc08028;
const RF_VM: u32 = 1 << 17;
const RF_IF: u32 = 1 << 9;

/** A physical address of a VMX data structure: 4 KiB aligned (or `align`), and within the
 *  32-bit physical-address width (A.1 bit 48). */
@inline function addrOk(enc: u32, align: u32): bool {
  return (vr64(enc) & (0xffffffff00000000 | <u64>(align - 1))) == 0;
}
/** A control value against its capability: default-1 bits set, only allowed-1 bits set. */
@inline function ctlOk(v: u32, default1: u32, allowed1: u32): bool {
  return (v & default1) == default1 && (v & ~allowed1) == 0;
}

/** 27.2.1 "Checks on VMX Controls". */
function checkControls(): bool {
  const pin = vr(VMCS_PIN_BASED_VM_EXEC_CONTROL);
  const proc = vr(VMCS_CPU_BASED_VM_EXEC_CONTROL);
  const proc2 = (proc & PROC_SECONDARY) != 0 ? vr(VMCS_SECONDARY_VM_EXEC_CONTROL) : 0;
  const exit = vr(VMCS_VM_EXIT_CONTROLS);
  const entry = vr(VMCS_VM_ENTRY_CONTROLS);
  // 27.2.1.1 VM-execution control fields.
  if (!ctlOk(pin, PIN_DEFAULT1, PIN_ALLOWED1)) return false;
  if (!ctlOk(proc, PROC_TRUE_DEFAULT1, PROC_ALLOWED1)) return false;
  if (!ctlOk(proc2, 0, PROC2_ALLOWED1)) return false;
  if (vr(VMCS_CR3_TARGET_COUNT) > 4) return false;
  if ((proc & PROC_IO_BITMAPS) != 0 &&
    (!addrOk(VMCS_IO_BITMAP_A, 4096) || !addrOk(VMCS_IO_BITMAP_B, 4096))) return false;
  if ((proc & PROC_MSR_BITMAPS) != 0 && !addrOk(VMCS_MSR_BITMAP, 4096)) return false;
  if ((pin & PIN_NMI) == 0 && (pin & PIN_VIRTUAL_NMI) != 0) return false;
  if ((pin & PIN_VIRTUAL_NMI) == 0 && (proc & PROC_NMI_WINDOW) != 0) return false;
  if ((proc2 & P2_VPID) != 0 && vr(VMCS_VIRTUAL_PROCESSOR_ID) == 0) return false;
  if ((proc2 & P2_EPT) != 0 && !eptpOk(vr64(VMCS_EPT_POINTER))) return false;
  if ((proc2 & P2_UNRESTRICTED) != 0 && (proc2 & P2_EPT) == 0) return false;
  // 27.2.1.2 VM-exit control fields.
  if (!ctlOk(exit, EXIT_DEFAULT1, EXIT_ALLOWED1)) return false;
  if ((pin & PIN_PREEMPT) == 0 && (exit & EXIT_SAVE_PREEMPT) != 0) return false;
  if (vr(VMCS_VM_EXIT_MSR_STORE_COUNT) != 0 && !addrOk(VMCS_VM_EXIT_MSR_STORE_ADDR, 16)) {
    return false;
  }
  if (vr(VMCS_VM_EXIT_MSR_LOAD_COUNT) != 0 && !addrOk(VMCS_VM_EXIT_MSR_LOAD_ADDR, 16)) {
    return false;
  }
  // 27.2.1.3 VM-entry control fields.
  if (!ctlOk(entry, ENTRY_DEFAULT1, ENTRY_ALLOWED1)) return false;
  if (!injectionOk()) return false;
  if (vr(VMCS_VM_ENTRY_MSR_LOAD_COUNT) != 0 && !addrOk(VMCS_VM_ENTRY_MSR_LOAD_ADDR, 16)) {
    return false;
  }
  return true;
}

/** The EPTP (27.2.1.1, 25.6.11): memory type 2:0 UC (0) or WB (6), page-walk length - 1 in
 *  5:3 = 3, bit 6 (accessed/dirty flags: supported), bits 11:7 and 63:32 zero. */
export function eptpOk(e: u64): bool {
  const mt = <u32>e & 7;
  if (mt != 0 && mt != 6) return false;
  if (((<u32>e >> 3) & 7) != 3) return false;
  return (e & 0xffffffff00000f80) == 0;
}

/** VM-entry interruption information (27.2.1.3). */
function injectionOk(): bool {
  const info = vr(VMCS_VM_ENTRY_INTR_INFO_FIELD);
  if ((info & 0x80000000) == 0) return true;
  const vector = info & 0xff;
  const type = (info >> 8) & 7;
  // Type 1 is reserved; type 7 (other event) needs the monitor trap flag's pending-MTF
  // support, which IA32_VMX_PROCBASED_CTLS reports but injection of type 7 is not offered.
  if (type == 1 || type == 7) return false;
  if (type == 2 && vector != 2) return false;
  if (type == 3 && vector > 31) return false;
  // Deliver-error-code (bit 11): set exactly for a hardware exception with an error code
  // (8, 10-14, 17) when the guest is in protected mode (unrestricted guest may have PE = 0).
  const pe = (vr(VMCS_GUEST_CR0) & 1) != 0;
  const hasCode = (info & 0x800) != 0;
  const wants = pe && type == 3 &&
    (vector == 8 || (vector >= 10 && vector <= 14) || vector == 17);
  if (hasCode != wants) return false;
  if ((info & 0x7ffff000) != 0) return false; // reserved bits 30:12
  if (hasCode && (vr(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff8000) != 0) return false;
  if (type == 4 || type == 5 || type == 6) {
    const len = vr(VMCS_VM_ENTRY_INSTRUCTION_LEN);
    if (len < 1 || len > 15) return false; // IA32_VMX_MISC bit 30 is 0: no length 0
  }
  return true;
}

/** 27.2.2 "Checks on Host Control Registers, MSRs and Segment Registers". */
function checkHost(): bool {
  const c0 = vr(VMCS_HOST_CR0);
  const c4 = vr(VMCS_HOST_CR4);
  if ((c0 & VMX_CR0_FIXED0) != VMX_CR0_FIXED0) return false;
  if ((c4 & VMX_CR4_FIXED0) != VMX_CR4_FIXED0 || (c4 & ~VMX_CR4_FIXED1) != 0) return false;
  // Selectors (27.2.2.3): RPL and TI of ES CS SS DS FS GS TR zero; CS and TR not null; SS
  // not null (host address-space size is 0).
  for (let s: u32 = 0; s < 7; s++) {
    if ((vr(VMCS_HOST_ES_SELECTOR + (s << 1)) & 7) != 0) return false;
  }
  if (vr(VMCS_HOST_CS_SELECTOR) == 0 || vr(VMCS_HOST_TR_SELECTOR) == 0) return false;
  if (vr(VMCS_HOST_SS_SELECTOR) == 0) return false;
  return true;
}

/** A segment's G flag against its limit (27.3.1.2): a limit with any of bits 11:0 clear
 *  needs G = 0, one with any of bits 31:20 set needs G = 1. */
@inline function granOk(limit: u32, ar: u32): bool {
  const g = (ar & 0x8000) != 0;
  if ((limit & 0xfff) != 0xfff && g) return false;
  if ((limit & 0xfff00000) != 0 && !g) return false;
  return true;
}

/** 27.3.1 "Checks on the Guest State Area". Returns 0, or the exit qualification + 1 of
 *  the failure (qualification 0 for most; 4 for the VMCS link pointer: 27.8). */
function checkGuest(): u32 {
  const proc = vr(VMCS_CPU_BASED_VM_EXEC_CONTROL);
  const proc2 = (proc & PROC_SECONDARY) != 0 ? vr(VMCS_SECONDARY_VM_EXEC_CONTROL) : 0;
  const unrestricted = (proc2 & P2_UNRESTRICTED) != 0;
  const c0 = vr(VMCS_GUEST_CR0);
  const c4 = vr(VMCS_GUEST_CR4);
  // 27.3.1.1 control registers: the fixed bits (PE and PG exempt with unrestricted guest);
  // PG needs PE.
  const fixed0 = unrestricted ? VMX_CR0_FIXED0 & ~0x80000001 : VMX_CR0_FIXED0;
  if ((c0 & fixed0) != fixed0) return 1;
  if ((c0 & 0x80000001) == 0x80000000) return 1;
  if ((c4 & VMX_CR4_FIXED0) != VMX_CR4_FIXED0 || (c4 & ~VMX_CR4_FIXED1) != 0) return 1;
  // 27.3.1.4 RFLAGS.
  const fl = vr(VMCS_GUEST_RFLAGS);
  if ((fl & RFLAGS_RESERVED) != 0 || (fl & 2) == 0) return 1;
  if ((fl & RF_VM) != 0 && (c0 & 1) == 0) return 1;
  const info = vr(VMCS_VM_ENTRY_INTR_INFO_FIELD);
  const injType = (info & 0x80000000) != 0 ? (info >> 8) & 7 : 8;
  if (injType == 0 && (fl & RF_IF) == 0) return 1;
  // 27.3.1.2 segment registers.
  if (!segmentsOk(c0, fl, unrestricted)) return 1;
  // Descriptor-table registers: limits bits 31:16 zero.
  if ((vr(VMCS_GUEST_GDTR_LIMIT) | vr(VMCS_GUEST_IDTR_LIMIT)) > 0xffff) return 1;
  // 27.3.1.5 non-register state: activity (0 active, 1 HLT: IA32_VMX_MISC), HLT needs
  // SS.DPL = 0 and only external interrupts, NMIs, #DB and #MC may be injected into it.
  const act = vr(VMCS_GUEST_ACTIVITY_STATE);
  if (act > 1) return 1;
  const ssDpl = (vr(VMCS_GUEST_ES_AR_BYTES + (2 << 1)) >> 5) & 3;
  if (act == 1) {
    if (ssDpl != 0) return 1;
    if (injType != 8 && injType != 0 && injType != 2) {
      const v = info & 0xff;
      if (!(injType == 3 && (v == 1 || v == 18))) return 1;
    }
  }
  // Interruptibility: bits 31:5 reserved (bit 4, enclave interruption, unsupported too);
  // STI and MOV SS blocking not both; STI blocking needs IF; no SMI blocking outside SMM;
  // no STI/MOV SS blocking when injecting an external interrupt, none by MOV SS for an
  // NMI; no virtual-NMI blocking when injecting an NMI with virtual NMIs.
  const intr = vr(VMCS_GUEST_INTERRUPTIBILITY_INFO);
  if ((intr & 0xfffffff0) != 0) return 1;
  if ((intr & 3) == 3) return 1;
  if ((intr & 1) != 0 && (fl & RF_IF) == 0) return 1;
  if ((intr & 4) != 0) return 1;
  if (injType == 0 && (intr & 3) != 0) return 1;
  if (injType == 2 && (intr & 2) != 0) return 1;
  const pin = vr(VMCS_PIN_BASED_VM_EXEC_CONTROL);
  if (injType == 2 && (pin & PIN_VIRTUAL_NMI) != 0 && (intr & 8) != 0) return 1;
  // Pending debug exceptions: bits 3:0, 12, 14, 16 only; with STI/MOV SS blocking or HLT,
  // BS (14) must equal TF (IA32_DEBUGCTL.BTF is 0 here).
  const pend = vr(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
  if ((pend & ~0x1500f) != 0) return 1;
  if (((intr & 3) != 0 || act == 1) &&
    (((pend >> 14) & 1) != ((fl >> 8) & 1))) return 1;
  // VMCS link pointer (27.3.1.5): all ones, or a 4 KiB aligned 32-bit address of a region
  // with our revision and the shadow bit clear (no VMCS shadowing).
  const link = vr64(VMCS_VMCS_LINK_POINTER);
  if (link != 0xffffffffffffffff) {
    if ((link & 0xffffffff00000fff) != 0) return 5;
    if (physRead32(<u32>link) != VMCS_REVISION) return 5;
  }
  return 0;
}

@inline function gsel(s: u32): u32 { return vr(VMCS_GUEST_ES_SELECTOR + (s << 1)); }
@inline function gbase(s: u32): u32 { return vr(VMCS_GUEST_ES_BASE + (s << 1)); }
@inline function glimit(s: u32): u32 { return vr(VMCS_GUEST_ES_LIMIT + (s << 1)); }
@inline function gar(s: u32): u32 { return vr(VMCS_GUEST_ES_AR_BYTES + (s << 1)); }

/** 27.3.1.2 "Checks on Guest Segment Registers" (no IA-32e mode). */
function segmentsOk(c0: u32, fl: u32, unrestricted: bool): bool {
  const v86 = (fl & RF_VM) != 0;
  const tr = gsel(7), ldtr = gsel(6);
  if ((tr & 4) != 0) return false;
  const ldtrAr = gar(6);
  if ((ldtrAr & 0x10000) == 0 && (ldtr & 4) != 0) return false;
  if (!v86 && !unrestricted && (gsel(2) & 3) != (gsel(1) & 3)) return false;
  for (let s: u32 = 0; s < 6; s++) {
    const ar = gar(s);
    if (v86) {
      // Virtual-8086 mode: base = selector << 4, limit 0xFFFF, access rights 0xF3.
      if (gbase(s) != (gsel(s) << 4) || glimit(s) != 0xffff || ar != 0xf3) return false;
      continue;
    }
    if (s != 1 && (ar & 0x10000) != 0) continue; // unusable (CS is always usable)
    if ((ar & 0xfffe0f00) != 0) return false; // reserved bits 11:8, 31:17
    if ((ar & 0x10) == 0 || (ar & 0x80) == 0) return false; // S = 1, P = 1
    if (!granOk(glimit(s), ar)) return false;
    const type = ar & 0xf;
    const dpl = (ar >> 5) & 3;
    const ssDpl = (gar(2) >> 5) & 3;
    if (s == 1) {
      // CS: accessed code (9, 11, 13, 15) or, with unrestricted guest, read/write accessed
      // data (3); DPL against SS.DPL.
      const okType = type == 9 || type == 11 || type == 13 || type == 15 ||
        (unrestricted && type == 3);
      if (!okType) return false;
      if (type == 3 && dpl != 0) return false;
      if ((type == 9 || type == 11) && dpl != ssDpl) return false;
      if ((type == 13 || type == 15) && dpl > ssDpl) return false;
    } else if (s == 2) {
      // SS: read/write data (3, 7); DPL = RPL unless unrestricted; DPL 0 in real mode.
      if (type != 3 && type != 7) return false;
      if (!unrestricted && dpl != (gsel(2) & 3)) return false;
      if ((c0 & 1) == 0 && dpl != 0) return false;
      if ((gar(1) & 0xf) == 3 && dpl != 0) return false;
    } else {
      // DS ES FS GS: accessed; a code segment must be readable; DPL >= RPL for data and
      // non-conforming code unless unrestricted.
      if ((type & 1) == 0) return false;
      if ((type & 8) != 0 && (type & 2) == 0) return false;
      if (!unrestricted && type <= 11 && dpl < (gsel(s) & 3)) return false;
    }
  }
  // TR: busy 32-bit TSS (11) or busy 16-bit TSS (3), S = 0, P = 1, usable.
  const trAr = gar(7);
  const trType = trAr & 0xf;
  if ((trAr & 0x10000) != 0) return false;
  if ((trType != 11 && trType != 3) || (trAr & 0x10) != 0 || (trAr & 0x80) == 0) return false;
  if ((trAr & 0xfffe0f00) != 0 || !granOk(glimit(7), trAr)) return false;
  // LDTR if usable: type 2, S = 0, P = 1.
  if ((ldtrAr & 0x10000) == 0) {
    if ((ldtrAr & 0xf) != 2 || (ldtrAr & 0x10) != 0 || (ldtrAr & 0x80) == 0) return false;
    if ((ldtrAr & 0xfffe0f00) != 0 || !granOk(glimit(6), ldtrAr)) return false;
  }
  return true;
}

/** 27.3.2 "Loading Guest State" (and 27.7 for the activity state, 27.3.2.5 interruptibility).
 *  Also hostEmulate()'s start. */
export function loadGuest(nested: bool): void {
  store<u32>(STATE_BASE + S_CR0, vr(VMCS_GUEST_CR0) | 0x10);
  store<u32>(STATE_BASE + S_CR3, vr(VMCS_GUEST_CR3));
  store<u32>(STATE_BASE + S_CR4, vr(VMCS_GUEST_CR4));
  if ((vr(VMCS_VM_ENTRY_CONTROLS) & ENTRY_LOAD_DEBUG) != 0) {
    store<u32>(STATE_BASE + S_DR7, (vr(VMCS_GUEST_DR7) & 0xffff2bff) | 0x400);
  }
  store<u32>(STATE_BASE + S_SYSENTER_CS, vr(VMCS_GUEST_SYSENTER_CS));
  store<u32>(STATE_BASE + S_SYSENTER_ESP, vr(VMCS_GUEST_SYSENTER_ESP));
  store<u32>(STATE_BASE + S_SYSENTER_EIP, vr(VMCS_GUEST_SYSENTER_EIP));
  for (let s: u32 = 0; s < 8; s++) {
    const a = STATE_BASE + S_SEG + s * SEG_SIZE;
    store<u32>(a + SEG_SEL, gsel(s));
    store<u32>(a + SEG_BASE, gbase(s));
    store<u32>(a + SEG_LIMIT, glimit(s));
    store<u32>(a + SEG_ACCESS, gar(s) & 0x1f0ff);
  }
  store<u32>(STATE_BASE + S_GDTR_BASE, vr(VMCS_GUEST_GDTR_BASE));
  store<u32>(STATE_BASE + S_GDTR_LIMIT, vr(VMCS_GUEST_GDTR_LIMIT));
  store<u32>(STATE_BASE + S_IDTR_BASE, vr(VMCS_GUEST_IDTR_BASE));
  store<u32>(STATE_BASE + S_IDTR_LIMIT, vr(VMCS_GUEST_IDTR_LIMIT));
  store<u32>(STATE_BASE + S_ESP, vr(VMCS_GUEST_RSP));
  const fl = vr(VMCS_GUEST_RFLAGS);
  // CPL: SS.DPL (3 in virtual-8086 mode, 0 with CR0.PE = 0).
  let cpl = (gar(2) >> 5) & 3;
  if ((fl & RF_VM) != 0) cpl = 3;
  if ((vr(VMCS_GUEST_CR0) & 1) == 0) cpl = 0;
  store<u32>(STATE_BASE + S_CPL, cpl);
  const intr = vr(VMCS_GUEST_INTERRUPTIBILITY_INFO);
  store<u32>(STATE_BASE + S_NMI_BLOCKED, (intr & 8) != 0 ? 1 : 0);
  const shadow = (intr & 3) != 0;
  store<u32>(STATE_BASE + S_INT_SHADOW, shadow ? 1 : 0);
  if (nested) { if (shadow) setShadowNext(); else clearShadowNext(); }
  store<u32>(STATE_BASE + S_HALTED, vr(VMCS_GUEST_ACTIVITY_STATE) == 1 ? 1 : 0);
  store<u32>(STATE_BASE + S_VMX_PREEMPT, vr(VMCS_VMX_PREEMPTION_TIMER_VALUE));
  reloadWorking(vr(VMCS_GUEST_RIP), fl);
}

/**
 * VM entry with the current VMCS. `launch`: VMLAUNCH (the launch state becomes launched);
 * `nested`: made by a guest's VMM (inside the run loop) rather than the TypeScript VMM.
 * Returns 0 when the CPU is in non-root operation; VMXERR 7 or 8 (nothing changed); or
 * ENTRY_FAIL | 33 / 34 with the exit reason and qualification written in the VMCS (27.8).
 */
export function vmEntry(launch: bool, nested: bool): u32 {
  if (!checkControls()) return VMXERR_ENTRY_INVALID_CONTROL_FIELD;
  // The host-state area of a host-owned VMCS is never loaded (the TypeScript VMM is the
  // host): it is not checked either.
  if (nested && !checkHost()) return VMXERR_ENTRY_INVALID_HOST_STATE_FIELD;
  const g = checkGuest();
  if (g != 0) return entryFailure(EXIT_REASON_INVALID_STATE, g - 1, nested);
  loadGuest(nested);
  const m = loadMsrs(vr(VMCS_VM_ENTRY_MSR_LOAD_ADDR), vr(VMCS_VM_ENTRY_MSR_LOAD_COUNT));
  if (m != 0) return entryFailure(EXIT_REASON_MSR_LOAD_FAIL, m, nested);
  if (launch) store<u32>(STATE_BASE + S_VMCS_LAUNCHED, 1);
  store<u64>(STATE_BASE + S_CNT_VMENTRY, load<u64>(STATE_BASE + S_CNT_VMENTRY) + 1);
  setGuestMode(GUEST_VMX, !nested);
  const proc = vr(VMCS_CPU_BASED_VM_EXEC_CONTROL);
  const proc2 = (proc & PROC_SECONDARY) != 0 ? vr(VMCS_SECONDARY_VM_EXEC_CONTROL) : 0;
  // Without VPID every entry and exit flushes the TLB (29.4.3.3); with it, the entries of
  // other VPIDs are kept aside (mem/tags.ts).
  tlbWorldSwitch(0, (proc2 & P2_VPID) != 0 ? vr(VMCS_VIRTUAL_PROCESSOR_ID) : 0xffffffff);
  markEntry(nested);
  const info = vr(VMCS_VM_ENTRY_INTR_INFO_FIELD);
  vmxCache();
  if ((info & 0x80000000) != 0) {
    // An injected event wakes a halted guest (27.6, 27.7).
    store<u32>(STATE_BASE + S_HALTED, 0);
    armInjection(info, vr(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), vr(VMCS_VM_ENTRY_INSTRUCTION_LEN));
  }
  return 0;
}

/** A VM-entry failure after the checks on controls and host state (27.8): exit reason with
 *  bit 31 set, the qualification; a guest's VMM gets its host state back. */
function entryFailure(reason: u32, qual: u32, nested: bool): u32 {
  vw(VMCS_VM_EXIT_REASON, reason | 0x80000000);
  vw(VMCS_EXIT_QUALIFICATION, qual);
  if (nested) {
    loadHost();
    loadMsrs(vr(VMCS_VM_EXIT_MSR_LOAD_ADDR), vr(VMCS_VM_EXIT_MSR_LOAD_COUNT)); // 28.6
  }
  return ENTRY_FAIL | reason;
}
