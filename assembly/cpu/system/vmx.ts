// VMX root operation (Intel SDM vol. 3C): VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD,
// VMWRITE with the checks of their pseudocode (chapter 31, "VMX Instruction Reference"),
// the capability MSRs they depend on (appendix A) and IA32_FEATURE_CONTROL (24.7). Off
// unless the host configured the CPU with VMX (S_VMX): then CPUID.1:ECX.VMX is set, CR4.VMXE
// is writable and these MSRs read; otherwise every instruction here is #UD (CR4.VMXE = 0).
// VMLAUNCH and VMRESUME check the launch state (errors 4 and 5) and enter through
// assembly/vmx/entry.ts (chapter 27; blocking by MOV SS, error 26, is not checked: the core
// keeps one interrupt shadow for STI and MOV SS); non-root operation and its exits are in
// assembly/vmx/exits.ts. VMCALL in VMX root operation fails as the SDM says (VMfail(1)).
// INVEPT and INVVPID are in invept() / invvpid() below.
//
// The VMCS region (SDM 25.2: its data layout past the first 8 bytes is implementation-
// specific). Ours, in guest-physical memory, 4 KiB:
//   +0   VMCS revision identifier (bits 30:0; bit 31, shadow-VMCS indicator, is 0)
//   +4   VMX-abort indicator
//   +8   launch state: 0 clear, 1 launched
//   +12  0
//   +16  the fields, 4 bytes per slot in the order of VMCS_ENCODINGS
//        (assembly/generated/vmx.ts): a 64-bit field is two slots (FULL, HIGH), a 16-bit
//        one is zero-extended, a natural-width one is 32 bits.
// The current VMCS lives in the VM's own memory (VMCS_FIELDS, scripts/layout.mjs), is read
// from its region by VMPTRLD and written back by VMCLEAR (and by a VMPTRLD of another VMCS).
import {
  STATE_BASE, S_CPL, S_CR0, S_CR4, S_VMX, S_VMX_OP, S_FEATURE_CONTROL, S_VMXON_PTR,
  S_VMCS_PTR, S_VMCS_LAUNCHED, VMCS_FIELDS,
} from '../../generated/layout';
import {
  VMCS_ENCODINGS, VMCS_FIELD_COUNT, VMXERR_VMCLEAR_INVALID_ADDRESS,
  VMXERR_VMCLEAR_VMXON_POINTER, VMXERR_VMPTRLD_INVALID_ADDRESS, VMXERR_VMPTRLD_VMXON_POINTER,
  VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID, VMXERR_UNSUPPORTED_VMCS_COMPONENT,
  VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, VMXERR_VMXON_IN_VMX_ROOT_OPERATION,
  VMXERR_VMCALL_IN_VMX_ROOT_OPERATION, VMXERR_VMLAUNCH_NONCLEAR_VMCS,
  VMXERR_VMRESUME_NONLAUNCHED_VMCS, VMXERR_ENTRY_INVALID_CONTROL_FIELD, VMCS_VM_INSTRUCTION_ERROR,
  MSR_IA32_FEATURE_CONTROL, MSR_IA32_VMX_BASIC, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1,
  MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1, MSR_IA32_VMX_VMCS_ENUM,
  MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS,
  MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_EXIT_CTLS,
  MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
  MSR_IA32_VMX_MISC, MSR_IA32_VMX_EPT_VPID_CAP,
  FEATURE_CONTROL_LOCKED, FEATURE_CONTROL_VMX_INSIDE_SMX, FEATURE_CONTROL_VMX_OUTSIDE_SMX,
  EXIT_REASON_VMON, EXIT_REASON_VMOFF, EXIT_REASON_VMCLEAR, EXIT_REASON_VMPTRLD,
  EXIT_REASON_VMPTRST, EXIT_REASON_VMREAD, EXIT_REASON_VMWRITE, EXIT_REASON_VMLAUNCH,
  EXIT_REASON_VMRESUME, EXIT_REASON_INVEPT, EXIT_REASON_INVVPID,
  VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,
} from '../../generated/vmx';
import { eptpOk } from '../../vmx/entry';
import { nestedFlush } from '../../mem/nested';
import { tagDrop } from '../../mem/tags';
import { a20Mask, physRead32, physWrite32 } from '../../mem/phys';
import { reg32, CR4_VALID } from '../state';
import { rd32, wr32, probeWrite, code32, fetch8 } from '../access';
import {
  osz, rep, modrm, eaOff, eaSeg, regField, readRM, writeRM, decodeModrm,
} from '../decode';
import { faulted, raiseGP, raiseUD } from '../fault';
import { materialize, flags, setFlagsWord, CF, PF, AF, ZF, SF, OF } from '../flags';
import { protectedMode, v86Mode } from './segments';
import { guestMode, GUEST_VMX } from '../../vmm/guest';
import { vmEntry, ENTRY_FAIL } from '../../vmx/entry';
import {
  PIN_DEFAULT1, PIN_ALLOWED1, PROC_DEFAULT1, PROC_TRUE_DEFAULT1, PROC_ALLOWED1, PROC2_ALLOWED1,
  EXIT_DEFAULT1, EXIT_ALLOWED1, ENTRY_DEFAULT1, ENTRY_ALLOWED1, VMX_MISC, EPT_CAP_LO, EPT_CAP_HI,
} from '../../vmx/caps';
import { icptVmxInsn, icptVmcall } from '../../vmm/intercept';

/** CR4.VMXE (SDM vol. 3A, 2.5). */
export const CR4_VMXE: u32 = 1 << 13;
/** The VMCS revision identifier of this implementation (IA32_VMX_BASIC bits 30:0). */
export const VMCS_REVISION: u32 = 1;
/** Bytes of a VMCS or VMXON region (IA32_VMX_BASIC bits 44:32). */
const VMCS_REGION_BYTES: u64 = 4096;
/** Offsets in our VMCS region (the layout above). */
const REGION_LAUNCH: u32 = 8;
const REGION_FIELDS: u32 = 16;
/** IA32_VMX_BASIC (SDM vol. 3D, A.1): revision 30:0, region size 44:32, bit 48 (addresses
 *  of the VMXON region, VMCS and data structures limited to 32 bits: this core has no
 *  IA-32e mode), memory type 53:50 = 6 (write-back), bit 54 (INS/OUTS exits report the
 *  instruction information), bit 55 (the IA32_VMX_TRUE_*_CTLS MSRs exist:
 *  assembly/vmx/caps.ts). */
const VMX_BASIC: u64 = <u64>VMCS_REVISION | (VMCS_REGION_BYTES << 32) | (<u64>1 << 48) |
  (<u64>6 << 50) | (<u64>1 << 54) | (<u64>1 << 55);
/** A control capability MSR: allowed-0 settings in 31:0, allowed-1 in 63:32 (A.3). */
@inline function ctls(default1: u32, allowed1: u32): u64 {
  return (<u64>allowed1 << 32) | <u64>default1;
}
/** CR0 bits fixed to 1 in VMX operation, A.7: PE, NE, PG (without unrestricted guest). */
export const VMX_CR0_FIXED0: u32 = 0x80000021;
/** CR0 bits allowed to be 1, A.7: all (the core's MOV CR0 keeps the bits it has). */
const VMX_CR0_FIXED1: u32 = 0xffffffff;
/** CR4 bits fixed to 1 in VMX operation, A.8: VMXE. */
export const VMX_CR4_FIXED0: u32 = CR4_VMXE;
/** CR4 bits allowed to be 1, A.8: those this CPU has (MOV CR4's CR4_VALID), and VMXE. */
export const VMX_CR4_FIXED1: u32 = CR4_VALID | CR4_VMXE;
const NO_VMCS: u64 = 0xffffffffffffffff;
/** The VM-instruction error field's slot. */
let errorSlot: i32 = -1;
/** Bits 9:1 of IA32_VMX_VMCS_ENUM: the highest index of any supported encoding (A.9). */
let enumIndex: u32 = 0;

/** The current-VMCS pointer of a VMCS made by the TypeScript VMM (vmcsClearHost): outside
 *  the 32-bit physical-address space, so that no VMCS region in memory can match it. */
export const HOST_VMCS: u64 = 0x100000000;

/** A fresh current VMCS for the TypeScript VMM (no VMXON needed): every field 0, launch
 *  state clear (the fields after VMCLEAR are implementation-specific, SDM 25.11.3). */
export function vmcsClearHost(): void {
  store<u64>(STATE_BASE + S_VMCS_PTR, HOST_VMCS);
  store<u32>(STATE_BASE + S_VMCS_LAUNCHED, 0);
  memory.fill(VMCS_FIELDS, 0, <u32>VMCS_FIELD_COUNT << 2);
}

/** True when the host configured this CPU with VMX. */
@inline export function vmxEnabled(): bool { return load<u32>(STATE_BASE + S_VMX) != 0; }
@inline function inVmxOperation(): bool { return load<u32>(STATE_BASE + S_VMX_OP) != 0; }
@inline function cpl(): u32 { return load<u32>(STATE_BASE + S_CPL); }
@inline function currentVmcs(): u64 { return load<u64>(STATE_BASE + S_VMCS_PTR); }

/** The slot of VMCS field `enc` in VMCS_ENCODINGS (ascending), or -1: not a supported
 *  component. */
export function vmcsSlot(enc: u32): i32 {
  let lo = 0, hi = VMCS_FIELD_COUNT - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = unchecked(VMCS_ENCODINGS[mid]);
    if (e == enc) return mid;
    if (e < enc) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}
function slotAddr(slot: i32): u32 { return VMCS_FIELDS + (<u32>slot << 2); }
/** The width mask of a field by its encoding (bits 14:13, SDM 25.11.2, table 25-21): 16-bit
 *  fields keep 16 bits, the others 32 (a 64-bit field is two 32-bit halves, FULL and HIGH;
 *  natural width is 32 bits without IA-32e mode). */
@inline function widthMask(enc: u32): u32 { return ((enc >> 13) & 3) == 0 ? 0xffff : 0xffffffff; }

function tables(): void {
  if (errorSlot >= 0) return;
  errorSlot = vmcsSlot(VMCS_VM_INSTRUCTION_ERROR);
  for (let i = 0; i < VMCS_FIELD_COUNT; i++) {
    const idx = (unchecked(VMCS_ENCODINGS[i]) >> 1) & 0x1ff;
    if (idx > enumIndex) enumIndex = idx;
  }
}

// ---- RFLAGS conventions (SDM vol. 3C, 31.2) ----
const ARITH: u32 = CF | PF | AF | ZF | SF | OF;
function setArith(v: u32): void { materialize(); setFlagsWord((flags & ~ARITH) | v); }
function vmSucceed(): void { setArith(0); }
function vmFailInvalid(): void { setArith(CF); }
function vmFailValid(n: u32): void {
  setArith(ZF);
  tables();
  store<u32>(slotAddr(errorSlot), n);
}
/** VMfail(n): VMfailValid(n) with a current VMCS, VMfailInvalid without one. */
function vmFail(n: u32): void {
  if (currentVmcs() != NO_VMCS) vmFailValid(n); else vmFailInvalid();
}

// ---- Capability MSRs and IA32_FEATURE_CONTROL ----
export let vmxMsrOk: bool = false;
/** Reads a VMX MSR; vmxMsrOk = false when `index` is none of them or VMX is off. */
export function vmxMsrRead(index: u32): u64 {
  vmxMsrOk = vmxEnabled();
  if (!vmxMsrOk) return 0;
  tables();
  if (index == MSR_IA32_FEATURE_CONTROL) return load<u32>(STATE_BASE + S_FEATURE_CONTROL);
  if (index == MSR_IA32_VMX_BASIC) return VMX_BASIC;
  if (index == MSR_IA32_VMX_CR0_FIXED0) return VMX_CR0_FIXED0;
  if (index == MSR_IA32_VMX_CR0_FIXED1) return VMX_CR0_FIXED1;
  if (index == MSR_IA32_VMX_CR4_FIXED0) return VMX_CR4_FIXED0;
  if (index == MSR_IA32_VMX_CR4_FIXED1) return VMX_CR4_FIXED1;
  if (index == MSR_IA32_VMX_VMCS_ENUM) return enumIndex << 1;
  if (index == MSR_IA32_VMX_PINBASED_CTLS || index == MSR_IA32_VMX_TRUE_PINBASED_CTLS) {
    return ctls(PIN_DEFAULT1, PIN_ALLOWED1);
  }
  if (index == MSR_IA32_VMX_PROCBASED_CTLS) return ctls(PROC_DEFAULT1, PROC_ALLOWED1);
  if (index == MSR_IA32_VMX_TRUE_PROCBASED_CTLS) return ctls(PROC_TRUE_DEFAULT1, PROC_ALLOWED1);
  if (index == MSR_IA32_VMX_PROCBASED_CTLS2) return ctls(0, PROC2_ALLOWED1);
  if (index == MSR_IA32_VMX_EXIT_CTLS || index == MSR_IA32_VMX_TRUE_EXIT_CTLS) {
    return ctls(EXIT_DEFAULT1, EXIT_ALLOWED1);
  }
  if (index == MSR_IA32_VMX_ENTRY_CTLS || index == MSR_IA32_VMX_TRUE_ENTRY_CTLS) {
    return ctls(ENTRY_DEFAULT1, ENTRY_ALLOWED1);
  }
  if (index == MSR_IA32_VMX_MISC) return <u64>VMX_MISC;
  if (index == MSR_IA32_VMX_EPT_VPID_CAP) return ctls(EPT_CAP_LO, EPT_CAP_HI);
  vmxMsrOk = false;
  return 0;
}
/** Writes IA32_FEATURE_CONTROL (vol. 4, table 2-2: lock bit 0, VMX inside SMX 1, VMX outside
 *  SMX 2; writable until locked, then #GP). The capability MSRs are read-only (#GP). */
export function vmxMsrWrite(index: u32, v: u64): void {
  vmxMsrOk = false;
  if (!vmxEnabled() || index != MSR_IA32_FEATURE_CONTROL) return;
  const known: u64 = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_INSIDE_SMX |
    FEATURE_CONTROL_VMX_OUTSIDE_SMX;
  if ((load<u32>(STATE_BASE + S_FEATURE_CONTROL) & FEATURE_CONTROL_LOCKED) != 0) return;
  if ((v & ~known) != 0) return;
  store<u32>(STATE_BASE + S_FEATURE_CONTROL, <u32>v);
  vmxMsrOk = true;
}

/** In VMX operation CR0 and CR4 keep their fixed bits (SDM vol. 3C, 24.8): a MOV to CR0 or
 *  CR4 that would change one is #GP(0). True when `v` may be written to CR`n`. */
export function crAllowedInVmx(n: u32, v: u32): bool {
  // In non-root operation the fixed bits are the host's business: it owns them through the
  // guest/host masks (SDM vol. 3C, 26.3).
  if (!inVmxOperation() || guestMode != 0) return true;
  if (n == 0) return (v & VMX_CR0_FIXED0) == VMX_CR0_FIXED0 && (v & ~VMX_CR0_FIXED1) == 0;
  return (v & VMX_CR4_FIXED0) == VMX_CR4_FIXED0 && (v & ~VMX_CR4_FIXED1) == 0;
}

// ---- VMCS storage ----
/** Writes the current VMCS back to its region (fields and launch state). */
function writeBack(): void {
  if ((currentVmcs() >> 32) != 0) return; // the host's VMCS (vmcsClearHost) has no region
  const base = <u32>currentVmcs();
  physWrite32(base + REGION_LAUNCH, load<u32>(STATE_BASE + S_VMCS_LAUNCHED));
  for (let i: i32 = 0; i < VMCS_FIELD_COUNT; i++) {
    physWrite32(base + REGION_FIELDS + (<u32>i << 2), load<u32>(slotAddr(i)));
  }
}
function readIn(base: u32): void {
  store<u32>(STATE_BASE + S_VMCS_LAUNCHED, physRead32(base + REGION_LAUNCH) & 1);
  for (let i: i32 = 0; i < VMCS_FIELD_COUNT; i++) {
    const enc = unchecked(VMCS_ENCODINGS[i]);
    store<u32>(slotAddr(i), physRead32(base + REGION_FIELDS + (<u32>i << 2)) & widthMask(enc));
  }
}

// ---- Operand forms ----
/** #UD unless in VMX operation, in protected mode and not in V86 mode; then #GP(0) unless
 *  CPL 0 (the first lines of every pseudocode in chapter 31; IA32_EFER.LMA is always 0
 *  here). True when the instruction may go on. */
function rootChecks(reason: u32): bool {
  // In VMX non-root operation (which is VMX operation) the instruction exits, after the
  // #UD checks (SDM vol. 3C, 26.1.2 and the pseudocode of chapter 31).
  if (guestMode == GUEST_VMX) {
    if (!protectedMode() || v86Mode()) raiseUD();
    else icptVmxInsn(reason);
    return false;
  }
  if (!inVmxOperation() || !protectedMode() || v86Mode()) { raiseUD(); return false; }
  if (cpl() != 0) { raiseGP(0); return false; }
  return true;
}
/** The 64-bit physical address at the memory operand; -1 (with `faulted`) on a fault. */
function readPointer(): u64 {
  const lo = rd32(eaSeg, eaOff); if (faulted) return NO_VMCS;
  const hi = rd32(eaSeg, eaOff + 4); if (faulted) return NO_VMCS;
  return (<u64>hi << 32) | lo;
}
/** 4 KiB aligned and within the 32-bit physical-address width (IA32_VMX_BASIC bit 48). */
@inline function validAddr(a: u64): bool { return (a & 0xffffffff00000fff) == 0; }
/** The region's first 32 bits: revision 30:0 matches ours and bit 31 (shadow) is 0. */
@inline function revisionOk(a: u64): bool { return physRead32(<u32>a) == VMCS_REVISION; }

/** 0F C7 (group 9), reg 6 and 7 (ModRM decoded): VMPTRLD, VMCLEAR (66), VMXON (F3),
 *  VMPTRST. Their register forms (RDRAND, RDSEED) are #UD: not implemented. */
export function group9Vmx(r: u32): void {
  if (modrm >= 0xc0) { raiseUD(); return; }
  // A mandatory 66 prefix shows as the other operand size (SDM vol. 2A, 2.1.2).
  const p66 = osz != (code32 ? <u32>32 : <u32>16);
  if (r == 7) {
    if (rep != 0 || p66) { raiseUD(); return; }
    vmptrst();
  } else if (rep == 0xf3) vmxon();
  else if (rep != 0) raiseUD();
  else if (p66) vmclear();
  else vmptrld();
}

/** VMXON m64 (SDM vol. 3C, 31.3, VMXON). */
function vmxon(): void {
  const cr4 = load<u32>(STATE_BASE + S_CR4);
  if (!protectedMode() || (cr4 & CR4_VMXE) == 0 || v86Mode()) { raiseUD(); return; }
  if (guestMode == GUEST_VMX) { icptVmxInsn(EXIT_REASON_VMON); return; }
  if (inVmxOperation()) {
    if (cpl() != 0) { raiseGP(0); return; }
    vmFail(VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
    return;
  }
  const cr0 = load<u32>(STATE_BASE + S_CR0);
  const fc = load<u32>(STATE_BASE + S_FEATURE_CONTROL);
  if (cpl() != 0 || a20Mask != 0xffffffff ||
    (cr0 & VMX_CR0_FIXED0) != VMX_CR0_FIXED0 || (cr0 & ~VMX_CR0_FIXED1) != 0 ||
    (cr4 & VMX_CR4_FIXED0) != VMX_CR4_FIXED0 || (cr4 & ~VMX_CR4_FIXED1) != 0 ||
    (fc & FEATURE_CONTROL_LOCKED) == 0 || (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX) == 0) {
    raiseGP(0); return;
  }
  const a = readPointer(); if (faulted) return;
  if (!validAddr(a) || !revisionOk(a)) { vmFailInvalid(); return; }
  store<u64>(STATE_BASE + S_VMXON_PTR, a);
  store<u64>(STATE_BASE + S_VMCS_PTR, NO_VMCS);
  store<u32>(STATE_BASE + S_VMX_OP, 1);
  vmSucceed();
}

/** VMXOFF (31.3): leaves VMX operation. The current VMCS's cached data is dropped, as the
 *  SDM allows (software must VMCLEAR first to keep it, 24.11.1). */
export function vmxoff(): void {
  if (!rootChecks(EXIT_REASON_VMOFF)) return;
  store<u32>(STATE_BASE + S_VMX_OP, 0);
  store<u64>(STATE_BASE + S_VMCS_PTR, NO_VMCS);
  vmSucceed();
}

/** VMCLEAR m64 (31.3). */
function vmclear(): void {
  if (!rootChecks(EXIT_REASON_VMCLEAR)) return;
  const a = readPointer(); if (faulted) return;
  if (!validAddr(a)) { vmFail(VMXERR_VMCLEAR_INVALID_ADDRESS); return; }
  if (a == load<u64>(STATE_BASE + S_VMXON_PTR)) { vmFail(VMXERR_VMCLEAR_VMXON_POINTER); return; }
  if (a == currentVmcs()) {
    store<u32>(STATE_BASE + S_VMCS_LAUNCHED, 0);
    writeBack();
    store<u64>(STATE_BASE + S_VMCS_PTR, NO_VMCS);
  } else {
    physWrite32(<u32>a + REGION_LAUNCH, 0);
  }
  vmSucceed();
}

/** VMPTRLD m64 (31.3). */
function vmptrld(): void {
  if (!rootChecks(EXIT_REASON_VMPTRLD)) return;
  const a = readPointer(); if (faulted) return;
  if (!validAddr(a)) { vmFail(VMXERR_VMPTRLD_INVALID_ADDRESS); return; }
  if (a == load<u64>(STATE_BASE + S_VMXON_PTR)) { vmFail(VMXERR_VMPTRLD_VMXON_POINTER); return; }
  if (!revisionOk(a)) { vmFail(VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID); return; }
  const cur = currentVmcs();
  if (a != cur) {
    if (cur != NO_VMCS) writeBack();
    readIn(<u32>a);
    store<u64>(STATE_BASE + S_VMCS_PTR, a);
  }
  vmSucceed();
}

/** VMPTRST m64 (31.3): stores the current-VMCS pointer (all ones when none). */
function vmptrst(): void {
  if (!rootChecks(EXIT_REASON_VMPTRST)) return;
  probeWrite(eaSeg, eaOff, 8); if (faulted) return;
  const p = currentVmcs();
  wr32(eaSeg, eaOff, <u32>p); if (faulted) return;
  wr32(eaSeg, eaOff + 4, <u32>(p >> 32)); if (faulted) return;
  vmSucceed();
}

/** VMREAD r/m32, r32 (0F 78, 31.3): the field encoded by the register operand into r/m32,
 *  zero-extended when the field is narrower. */
export function vmread(): void {
  decodeModrm(); if (faulted) return;
  if (!rootChecks(EXIT_REASON_VMREAD)) return;
  if (currentVmcs() == NO_VMCS) { vmFailInvalid(); return; }
  const slot = vmcsSlot(reg32(regField()));
  if (slot < 0) { vmFailValid(VMXERR_UNSUPPORTED_VMCS_COMPONENT); return; }
  writeRM(32, load<u32>(slotAddr(slot))); if (faulted) return;
  vmSucceed();
}

/** VMWRITE r32, r/m32 (0F 79, 31.3): r/m32 into the field encoded by the register operand;
 *  bits above a narrower field's width are ignored, a wider field's high bits cleared.
 *  The VM-exit information fields are read-only (IA32_VMX_MISC bit 29 is 0). */
export function vmwrite(): void {
  decodeModrm(); if (faulted) return;
  if (!rootChecks(EXIT_REASON_VMWRITE)) return;
  if (currentVmcs() == NO_VMCS) { vmFailInvalid(); return; }
  const enc = reg32(regField());
  const slot = vmcsSlot(enc);
  if (slot < 0) { vmFailValid(VMXERR_UNSUPPORTED_VMCS_COMPONENT); return; }
  if (((enc >> 10) & 3) == 1) { vmFailValid(VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT); return; }
  const v = readRM(32); if (faulted) return;
  store<u32>(slotAddr(slot), v & widthMask(enc));
  // The FULL encoding of a 64-bit field: a 32-bit write clears the high half (VMWRITE: "if
  // the VMCS field is longer [than the operand], the high bits of the field are cleared").
  // Its HIGH slot is the next one (encoding | 1).
  if ((enc & 0x6001) == 0x2000) store<u32>(slotAddr(slot + 1), 0);
  vmSucceed();
}

/** 0F 38 xx: INVEPT (66 0F 38 80 /r) and INVVPID (66 0F 38 81 /r), memory operand only;
 *  the rest of the three-byte map is #UD (not implemented). */
export function map0f38(): void {
  const op = fetch8(); if (faulted) return;
  const p66 = osz != (code32 ? <u32>32 : <u32>16);
  if ((op != 0x80 && op != 0x81) || !p66 || rep != 0) { raiseUD(); return; }
  decodeModrm(); if (faulted) return;
  if (modrm >= 0xc0) { raiseUD(); return; }
  if (op == 0x80) invept(); else invvpid();
}

/** INVEPT r32, m128 (31.3): types 1 (single-context: the EPTP of the descriptor must pass
 *  the VM-entry checks) and 2 (all-context), IA32_VMX_EPT_VPID_CAP bits 25-26; the others
 *  VMfailValid(28). Drops the nested caches and the kept TLB entries of every guest. */
function invept(): void {
  if (!rootChecks(EXIT_REASON_INVEPT)) return;
  const type = reg32(regField());
  if (type != 1 && type != 2) { vmFail(VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID); return; }
  const lo = rd32(eaSeg, eaOff); if (faulted) return;
  const hi = rd32(eaSeg, eaOff + 4); if (faulted) return;
  if (type == 1 && !eptpOk((<u64>hi << 32) | <u64>lo)) {
    vmFail(VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID); return;
  }
  nestedFlush();
  tagDrop(0, true);
  vmSucceed();
}

/** INVVPID r32, m128 (31.3): types 0 (individual address), 1 (single context), 2 (all
 *  contexts), 3 (single context retaining globals); VPID in descriptor bits 15:0, bits
 *  63:16 reserved; VPID 0 invalid for types 0, 1, 3: VMfailValid(28). */
function invvpid(): void {
  if (!rootChecks(EXIT_REASON_INVVPID)) return;
  const type = reg32(regField());
  if (type > 3) { vmFail(VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID); return; }
  const lo = rd32(eaSeg, eaOff); if (faulted) return;
  const hi = rd32(eaSeg, eaOff + 4); if (faulted) return;
  const vpid = lo & 0xffff;
  if ((lo >>> 16) != 0 || hi != 0 || (type != 2 && vpid == 0)) {
    vmFail(VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID); return;
  }
  // The kept entries of that VPID (all of them for type 0: a superset is allowed, 28.3.3.3).
  tagDrop(vpid, type == 2);
  vmSucceed();
}

/** 0F 01 with mod = 11b and reg 0: VMCALL (C1), VMLAUNCH (C2), VMRESUME (C3), VMXOFF (C4);
 *  the other rm values are #UD. */
export function group7Vmx(rm: u32): void {
  if (rm == 4) { vmxoff(); return; }
  if (rm == 1) { vmcall(); return; }
  if (rm == 2 || rm == 3) { vmentry(rm == 3); return; }
  raiseUD();
}

/** VMCALL in VMX root operation (31.3): without the dual-monitor treatment of SMIs and SMM,
 *  VMfail(1). Outside VMX operation #UD. */
function vmcall(): void {
  if (guestMode == GUEST_VMX) { icptVmcall(); return; } // always exits (26.1.2)
  if (!inVmxOperation() || v86Mode()) { raiseUD(); return; }
  if (cpl() != 0) { raiseGP(0); return; }
  vmFail(VMXERR_VMCALL_IN_VMX_ROOT_OPERATION);
}

/** VMLAUNCH / VMRESUME (31.3): the launch-state checks, then VM entry (assembly/vmx/entry.ts,
 *  chapter 27). Not checked: blocking by MOV SS (error 26; one shadow stands for STI and
 *  MOV SS). */
function vmentry(resume: bool): void {
  if (!rootChecks(resume ? EXIT_REASON_VMRESUME : EXIT_REASON_VMLAUNCH)) return;
  if (currentVmcs() == NO_VMCS) { vmFailInvalid(); return; }
  const launched = load<u32>(STATE_BASE + S_VMCS_LAUNCHED) != 0;
  if (!resume && launched) { vmFailValid(VMXERR_VMLAUNCH_NONCLEAR_VMCS); return; }
  if (resume && !launched) { vmFailValid(VMXERR_VMRESUME_NONLAUNCHED_VMCS); return; }
  const r = vmEntry(!resume, true);
  if (r == 0) return; // in VMX non-root operation: the guest state is loaded
  // Failed checks on the controls or the host state: VMfailValid(7 or 8). A failure after
  // them (reason 33 or 34) has loaded the host state already (SDM vol. 3C, 27.8).
  if (r < ENTRY_FAIL) vmFailValid(r);
}
