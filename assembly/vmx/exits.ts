// VMX non-root operation (Intel SDM vol. 3C, chapters 26 "VMX Non-Root Operation" and 28
// "VM Exits"): what makes the guest exit, the exit information, saving the guest state and
// loading the host state. The intercept points (assembly/vmm/intercept.ts) call the vmx*
// functions below; each decides from the VM-execution controls cached at VM entry
// (vmxCache) whether the instruction exits, records the exit information (28.2) in the VMCS
// and raises the exit (cpu/fault.ts raiseVmExit). The run loop then calls vmxExitPerform()
// (28.3 saving guest state, 28.4 MSR store, 28.5 loading host state) - or returns
// EXIT_VMEXIT to the TypeScript VMM when it made the entry (host-owned: the state block then
// keeps the guest's registers and the VMCS guest area is authoritative).
import {
  STATE_BASE, S_EIP, S_EFLAGS, S_ESP, S_CR0, S_CR2, S_CR3, S_CR4, S_DR7, S_SEG, SEG_SIZE, SEG_SEL,
  SEG_BASE, SEG_LIMIT, SEG_ACCESS, S_GDTR_BASE, S_GDTR_LIMIT, S_IDTR_BASE, S_IDTR_LIMIT,
  S_SYSENTER_CS, S_SYSENTER_ESP, S_SYSENTER_EIP, S_INT_SHADOW, S_NMI_PENDING, S_NMI_BLOCKED,
  S_INTR_PENDING, S_HALTED, S_CPL, S_DR6, S_VMX_PREEMPT, S_TSC_PER_INSN, S_TLB_TAGS, EXIT_VMEXIT,
  EXIT_SHUTDOWN, S_EXIT_REASON, S_EXIT_DETAIL, WHY_TRIPLE_FAULT,
} from '../generated/layout';
import {
  VMCS_PIN_BASED_VM_EXEC_CONTROL, VMCS_CPU_BASED_VM_EXEC_CONTROL, VMCS_SECONDARY_VM_EXEC_CONTROL,
  VMCS_VM_EXIT_CONTROLS, VMCS_VM_ENTRY_CONTROLS, VMCS_EXCEPTION_BITMAP,
  VMCS_PAGE_FAULT_ERROR_CODE_MASK, VMCS_PAGE_FAULT_ERROR_CODE_MATCH, VMCS_CR0_GUEST_HOST_MASK,
  VMCS_CR4_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW, VMCS_CR4_READ_SHADOW, VMCS_CR3_TARGET_COUNT,
  VMCS_CR3_TARGET_VALUE0, VMCS_IO_BITMAP_A, VMCS_IO_BITMAP_B, VMCS_MSR_BITMAP, VMCS_TSC_OFFSET,
  VMCS_EPT_POINTER, VMCS_VIRTUAL_PROCESSOR_ID, VMCS_VM_EXIT_REASON, VMCS_EXIT_QUALIFICATION,
  VMCS_VM_EXIT_INTR_INFO, VMCS_VM_EXIT_INTR_ERROR_CODE, VMCS_IDT_VECTORING_INFO_FIELD,
  VMCS_IDT_VECTORING_ERROR_CODE, VMCS_VM_EXIT_INSTRUCTION_LEN, VMCS_VMX_INSTRUCTION_INFO,
  VMCS_GUEST_LINEAR_ADDRESS, VMCS_GUEST_PHYSICAL_ADDRESS, VMCS_VM_ENTRY_INTR_INFO_FIELD,
  VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_GUEST_DR7, VMCS_GUEST_RSP, VMCS_GUEST_RIP,
  VMCS_GUEST_RFLAGS, VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT,
  VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_GDTR_BASE, VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_BASE,
  VMCS_GUEST_IDTR_LIMIT, VMCS_GUEST_SYSENTER_CS, VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP,
  VMCS_GUEST_INTERRUPTIBILITY_INFO, VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
  VMCS_VMX_PREEMPTION_TIMER_VALUE, VMCS_GUEST_IA32_DEBUGCTL, VMCS_HOST_CR0, VMCS_HOST_CR3,
  VMCS_HOST_CR4, VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR,
  VMCS_HOST_DS_SELECTOR, VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR, VMCS_HOST_TR_SELECTOR,
  VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_TR_BASE, VMCS_HOST_GDTR_BASE,
  VMCS_HOST_IDTR_BASE, VMCS_HOST_IA32_SYSENTER_CS, VMCS_HOST_IA32_SYSENTER_ESP,
  VMCS_HOST_IA32_SYSENTER_EIP, VMCS_HOST_RSP, VMCS_HOST_RIP, VMCS_VM_EXIT_MSR_STORE_COUNT,
  VMCS_VM_EXIT_MSR_STORE_ADDR, VMCS_VM_EXIT_MSR_LOAD_COUNT, VMCS_VM_EXIT_MSR_LOAD_ADDR,
  VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, VMCS_VM_ENTRY_INSTRUCTION_LEN,
  EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_TRIPLE_FAULT,
  EXIT_REASON_PENDING_INTERRUPT, EXIT_REASON_NMI_WINDOW, EXIT_REASON_TASK_SWITCH,
  EXIT_REASON_CPUID, EXIT_REASON_HLT, EXIT_REASON_INVD, EXIT_REASON_INVLPG, EXIT_REASON_RDPMC,
  EXIT_REASON_RDTSC, EXIT_REASON_VMCALL, EXIT_REASON_CR_ACCESS, EXIT_REASON_DR_ACCESS,
  EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE,
  EXIT_REASON_MWAIT_INSTRUCTION, EXIT_REASON_MONITOR_TRAP_FLAG, EXIT_REASON_MONITOR_INSTRUCTION,
  EXIT_REASON_PAUSE_INSTRUCTION, EXIT_REASON_GDTR_IDTR, EXIT_REASON_LDTR_TR,
  EXIT_REASON_EPT_VIOLATION, EXIT_REASON_EPT_MISCONFIG, EXIT_REASON_PREEMPTION_TIMER,
  EXIT_REASON_WBINVD,
} from '../generated/vmx';
import { vr, vw, vr64, vw64 } from './vmcs';
import {
  GUEST_NONE, GUEST_VMX, NO_EXIT, hostOwned, setGuestMode, setGuestAttn, countExit, vectoring,
  setGuestIntrOpen,
  vectoringCode, vectoringLen, clearVectoring, injecting, setInjecting, guestMode,
} from '../vmm/guest';
import { raiseVmExit, faulted } from '../cpu/fault';
import { ip, startIp, setIp, updateCpl, segUpdateAll } from '../cpu/access';
import { getFlags, setFlags, IF, TF } from '../cpu/flags';
import { reg32, ECX, ES, CS, SS, DS, FS, GS, LDTR, TR, AR_UNUSABLE } from '../cpu/state';
import { asz, osz, modrm, eaSeg } from '../cpu/decode';
import { rdSlow } from '../cpu/access';
import { segBase } from '../cpu/state';
import { physRead32, physWrite32 } from '../mem/phys';
import { tlbFlushAll, pfLinear } from '../mem/tlb';
import { setNested, nestedFlush, NESTED_OFF, NESTED_EPT } from '../mem/nested';
import { msrRead, msrWrite, msrOk } from '../cpu/system/msr';
import { updateDebug, dr6Bits, dr6Before } from '../cpu/debug';
import { boundaryTick, deliverForVmm } from '../cpu/run';
import { tlbWorldSwitch, tlbExitToHost } from '../mem/tags';
import { monitorArmedNow } from '../cpu/exec0f';

// ---- VM-execution, exit and entry control bits (SDM vol. 3C, 25.6 and 25.7-25.8) ----
export const PIN_EXT_INT: u32 = 1 << 0;
export const PIN_NMI: u32 = 1 << 3;
export const PIN_VIRTUAL_NMI: u32 = 1 << 5;
export const PIN_PREEMPT: u32 = 1 << 6;
export const PROC_INT_WINDOW: u32 = 1 << 2;
export const PROC_TSC_OFFSET: u32 = 1 << 3;
export const PROC_HLT: u32 = 1 << 7;
export const PROC_INVLPG: u32 = 1 << 9;
export const PROC_MWAIT: u32 = 1 << 10;
export const PROC_RDPMC: u32 = 1 << 11;
export const PROC_RDTSC: u32 = 1 << 12;
export const PROC_CR3_LOAD: u32 = 1 << 15;
export const PROC_CR3_STORE: u32 = 1 << 16;
export const PROC_NMI_WINDOW: u32 = 1 << 22;
export const PROC_MOV_DR: u32 = 1 << 23;
export const PROC_UNCOND_IO: u32 = 1 << 24;
export const PROC_IO_BITMAPS: u32 = 1 << 25;
export const PROC_MTF: u32 = 1 << 27;
export const PROC_MSR_BITMAPS: u32 = 1 << 28;
export const PROC_MONITOR: u32 = 1 << 29;
export const PROC_PAUSE: u32 = 1 << 30;
export const PROC_SECONDARY: u32 = 1 << 31;
export const P2_EPT: u32 = 1 << 1;
export const P2_DESC: u32 = 1 << 2;
export const P2_VPID: u32 = 1 << 5;
export const P2_WBINVD: u32 = 1 << 6;
export const P2_UNRESTRICTED: u32 = 1 << 7;
export const EXIT_SAVE_DEBUG: u32 = 1 << 2;
export const EXIT_ACK_INT: u32 = 1 << 15;
export const EXIT_SAVE_PREEMPT: u32 = 1 << 22;
export const ENTRY_LOAD_DEBUG: u32 = 1 << 2;

// ---- Controls cached at VM entry ----
export let pinCtl: u32 = 0;
export let procCtl: u32 = 0;
export let proc2Ctl: u32 = 0;
export let exitCtl: u32 = 0;
let excBitmap: u32 = 0;
let cr0Mask: u32 = 0, cr4Mask: u32 = 0, cr0Shadow: u32 = 0, cr4Shadow: u32 = 0;
/** The TSC offset RDTSC adds in non-root operation (0 without "use TSC offsetting"). */
export let guestTscOffset: u64 = 0;
/** An event to inject at the first boundary after VM entry (27.6), in the VM-entry
 *  interruption-information format, with its error code and instruction length. */
let injectInfo: u32 = 0;
let injectCode: u32 = 0;
let injectLen: u32 = 0;
/** The boundary tick of the entry or of the last check (MTF, the preemption timer). */
let lastTick: u32 = 0;
/** The preemption timer's sub-count (IA32_VMX_MISC bits 4:0 = 0: one per TSC tick). */
export const PREEMPT_RATE: u32 = 0;

/** Reads the controls of the current VMCS into the globals above; sets the nested format
 *  and whether the run loop checks every boundary. */
export function vmxCache(): void {
  pinCtl = vr(VMCS_PIN_BASED_VM_EXEC_CONTROL);
  procCtl = vr(VMCS_CPU_BASED_VM_EXEC_CONTROL);
  proc2Ctl = (procCtl & PROC_SECONDARY) != 0 ? vr(VMCS_SECONDARY_VM_EXEC_CONTROL) : 0;
  exitCtl = vr(VMCS_VM_EXIT_CONTROLS);
  excBitmap = vr(VMCS_EXCEPTION_BITMAP);
  cr0Mask = vr(VMCS_CR0_GUEST_HOST_MASK); cr4Mask = vr(VMCS_CR4_GUEST_HOST_MASK);
  cr0Shadow = vr(VMCS_CR0_READ_SHADOW); cr4Shadow = vr(VMCS_CR4_READ_SHADOW);
  guestTscOffset = (procCtl & PROC_TSC_OFFSET) != 0 ? vr64(VMCS_TSC_OFFSET) : 0;
  if ((proc2Ctl & P2_EPT) != 0) {
    const eptp = vr(VMCS_EPT_POINTER);
    setNested(NESTED_EPT, eptp & 0xfffff000, (eptp & 0x40) != 0, hostOwned);
  } else setNested(NESTED_OFF, 0, false);
  updateAttn();
  setGuestIntrOpen((pinCtl & PIN_EXT_INT) != 0);
}

/** The run loop must look at every boundary while a window, the preemption timer, the
 *  monitor trap flag or an injection is pending. */
function updateAttn(): void {
  setGuestAttn(injectInfo != 0 || (pinCtl & PIN_PREEMPT) != 0 ||
    (procCtl & (PROC_MTF | PROC_INT_WINDOW | PROC_NMI_WINDOW)) != 0);
}

/** The state block was replaced while in non-root operation (loadState). */
export function vmxReload(): void {
  lastTick = boundaryTick;
  vmxCache();
  nestedFlush();
}

// ---- Recording an exit (28.2) ----
/** Writes the basic exit information and raises the exit. Instruction-caused exits are
 *  fault-like: the guest RIP saved is the instruction's, the length is recorded. */
function exitWith(reason: u32, qual: u32): bool {
  vw(VMCS_VM_EXIT_REASON, reason);
  vw(VMCS_EXIT_QUALIFICATION, qual);
  vw(VMCS_VM_EXIT_INTR_INFO, 0);
  vw(VMCS_VM_EXIT_INSTRUCTION_LEN, ip - startIp);
  recordVectoring();
  raiseVmExit(false);
  return true;
}
/** IDT-vectoring information (28.2.4): the event whose delivery the exit interrupted. */
function recordVectoring(): void {
  const v = vectoring;
  vw(VMCS_IDT_VECTORING_INFO_FIELD, v);
  if (v != 0) {
    vw(VMCS_IDT_VECTORING_ERROR_CODE, vectoringCode);
    const t = (v >> 8) & 7;
    // The exit during delivery of a software event records that event's length (28.2.4).
    if (t == 4 || t == 5 || t == 6) vw(VMCS_VM_EXIT_INSTRUCTION_LEN, vectoringLen);
  }
}
/** The displacement of the last memory operand decoded by insnInfo() (the qualification
 *  of exits that report instruction information: 28.2.1). */
let infoDisp: u32 = 0;
/** A byte of the current instruction (already fetched, so it translates). */
function insnByte(k: u32): u32 { return rdSlow(segBase(CS) + startIp + k, 1, false) & 0xff; }
/** VM-exit instruction information (28.2.5, tables 28-10 .. 28-14) of the ModRM operand:
 *  scaling 1:0, reg1 6:3 (register operand), address size 9:7, register (1) or memory (0)
 *  10, segment 17:15, index 21:18 and index invalid 22, base 26:23 and base invalid 27,
 *  reg2 31:28 (the ModRM reg field). The instruction's bytes are decoded again from its
 *  start for the SIB byte and the displacement (infoDisp). */
function insnInfo(): u32 {
  let v: u32 = ((modrm >> 3) & 7) << 28;
  infoDisp = 0;
  if (modrm >= 0xc0) return v | (1 << 10) | ((modrm & 7) << 3);
  // Find the ModRM byte: past the prefixes, 0F and the opcode (0F 38 xx: three bytes).
  let k: u32 = 0;
  while (k < 14) {
    const b = insnByte(k);
    const prefix = b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 || b == 0xf0 ||
      b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
    if (!prefix) break;
    k++;
  }
  if (insnByte(k) == 0x0f) { k++; if (insnByte(k) == 0x38) k++; }
  k++; // the opcode; k is at ModRM
  const mod = modrm >> 6, rm = modrm & 7;
  let base: i32 = -1, index: i32 = -1, scale: u32 = 0;
  k++;
  if (asz == 32) {
    v |= 1 << 7;
    if (rm == 4) {
      const sib = insnByte(k); k++;
      scale = sib >> 6;
      const ix = (sib >> 3) & 7;
      if (ix != 4) index = <i32>ix;
      const bs = sib & 7;
      if (!(bs == 5 && mod == 0)) base = <i32>bs;
      if (bs == 5 && mod == 0) { infoDisp = dispAt(k, 4); }
    } else if (rm == 5 && mod == 0) {
      infoDisp = dispAt(k, 4);
    } else base = <i32>rm;
    if (mod == 1) infoDisp = <u32><i32><i8>insnByte(k);
    else if (mod == 2) infoDisp = dispAt(k, 4);
  } else {
    // 16-bit forms (SDM vol. 2A, table 2-1): BX=3 BP=5 SI=6 DI=7.
    const b16: StaticArray<i32> = [3, 3, 5, 5, 6, 7, 5, 3];
    const i16: StaticArray<i32> = [6, 7, 6, 7, -1, -1, -1, -1];
    if (mod == 0 && rm == 6) infoDisp = <u32><i32><i16>dispAt(k, 2);
    else { base = unchecked(b16[rm]); index = unchecked(i16[rm]); }
    if (mod == 1) infoDisp = <u32><i32><i8>insnByte(k);
    else if (mod == 2) infoDisp = <u32><i32><i16>dispAt(k, 2);
  }
  v |= scale;
  v |= (eaSeg & 7) << 15;
  v |= index >= 0 ? (<u32>index << 18) : (1 << 22);
  v |= base >= 0 ? (<u32>base << 23) : (1 << 27);
  return v;
}
function dispAt(k: u32, n: u32): u32 {
  let d: u32 = 0;
  for (let i: u32 = 0; i < n; i++) d |= insnByte(k + i) << (i << 3);
  return d;
}

// ---- The intercept points (26.1.2, 26.1.3) ----
export function vmxCpuid(): bool { return exitWith(EXIT_REASON_CPUID, 0); }
export function vmxHlt(): bool {
  return (procCtl & PROC_HLT) != 0 ? exitWith(EXIT_REASON_HLT, 0) : false;
}
export function vmxInvlpg(lin: u32): bool {
  return (procCtl & PROC_INVLPG) != 0 ? exitWith(EXIT_REASON_INVLPG, lin) : false;
}
export function vmxRdtsc(): bool {
  return (procCtl & PROC_RDTSC) != 0 ? exitWith(EXIT_REASON_RDTSC, 0) : false;
}
export function vmxRdpmc(): bool {
  return (procCtl & PROC_RDPMC) != 0 ? exitWith(EXIT_REASON_RDPMC, 0) : false;
}
/** CR-access qualification (table 28-3): CR number 3:0, access type 5:4 (0 MOV to CR, 1 MOV
 *  from CR, 2 CLTS, 3 LMSW), LMSW operand type 6 (1 memory), GPR 11:8, LMSW data 31:16. */
@inline function crQual(cr: u32, type: u32, gpr: u32): u32 { return cr | (type << 4) | (gpr << 8); }
export function vmxCrRead(cr: u32, gpr: u32): bool {
  if (cr == 3 && (procCtl & PROC_CR3_STORE) != 0) {
    return exitWith(EXIT_REASON_CR_ACCESS, crQual(3, 1, gpr));
  }
  return false;
}
export function vmxCrWrite(cr: u32, gpr: u32, value: u32): bool {
  let exit = false;
  if (cr == 0) exit = ((value ^ cr0Shadow) & cr0Mask) != 0;
  else if (cr == 4) exit = ((value ^ cr4Shadow) & cr4Mask) != 0;
  else if (cr == 3 && (procCtl & PROC_CR3_LOAD) != 0) {
    // CR3-target values (26.1.3): no exit for a value among the first CR3_TARGET_COUNT.
    exit = true;
    const n = vr(VMCS_CR3_TARGET_COUNT);
    for (let i: u32 = 0; i < n && i < 4; i++) {
      if (vr(VMCS_CR3_TARGET_VALUE0 + (i << 1)) == value) { exit = false; break; }
    }
  }
  return exit ? exitWith(EXIT_REASON_CR_ACCESS, crQual(cr, 0, gpr)) : false;
}
/** What a guest's MOV from CR0/CR4 (and SMSW) reads: the read shadow in the bits the host
 *  owns (26.3, "MOV from CR0/CR4"). */
export function vmxCrShadow(cr: u32, v: u32): u32 {
  if (cr == 0) return (v & ~cr0Mask) | (cr0Shadow & cr0Mask);
  if (cr == 4) return (v & ~cr4Mask) | (cr4Shadow & cr4Mask);
  return v;
}
/** What a guest's MOV to CR0/CR4 (that did not exit) writes: the bits the host owns keep
 *  their values (26.3, "MOV to CR0/CR4", "CLTS", "LMSW"). */
export function vmxCrMerge(cr: u32, old: u32, v: u32): u32 {
  const m = cr == 0 ? cr0Mask : cr == 4 ? cr4Mask : 0;
  return (old & m) | (v & ~m);
}
export function vmxClts(): bool {
  const ts: u32 = 1 << 3;
  if ((cr0Mask & ts) != 0 && (cr0Shadow & ts) != 0) {
    return exitWith(EXIT_REASON_CR_ACCESS, crQual(0, 2, 0));
  }
  return false;
}
export function vmxLmsw(value: u32, lin: u32, isMem: bool): bool {
  // 26.1.3 "LMSW": PE set by the source over a clear shadow bit, or any of MP, EM, TS
  // differing from the shadow, in bits the host owns.
  const pe = (cr0Mask & 1) != 0 && (cr0Shadow & 1) == 0 && (value & 1) != 0;
  const other = (cr0Mask & 0xe & (value ^ cr0Shadow)) != 0;
  if (!pe && !other) return false;
  const gpr: u32 = isMem ? 0 : modrm & 7;
  if (isMem) vw(VMCS_GUEST_LINEAR_ADDRESS, lin);
  return exitWith(EXIT_REASON_CR_ACCESS,
    crQual(0, 3, gpr) | (isMem ? 1 << 6 : 0) | ((value & 0xffff) << 16));
}
export function vmxSmsw(): bool { return false; }
/** MOV DR qualification (table 28-4): DR 2:0, direction 4 (1 = MOV from DR), GPR 11:8. */
export function vmxDr(dr: u32, gpr: u32, write: bool): bool {
  if ((procCtl & PROC_MOV_DR) == 0) return false;
  return exitWith(EXIT_REASON_DR_ACCESS, dr | (write ? 0 : 1 << 4) | (gpr << 8));
}
/** I/O (26.1.3; qualification table 28-5: size - 1 in 2:0, direction 3 (1 = IN), string 4,
 *  REP 5, operand encoding 6 (1 = immediate), port 31:16). `imm`: the port is an immediate. */
export function vmxIo(
  port: u32, size: u32, isIn: bool, isString: bool, isRep: bool, addrSize: u32, imm: bool,
): bool {
  let exit: bool;
  if ((procCtl & PROC_IO_BITMAPS) != 0) {
    exit = false;
    for (let k: u32 = 0; k < size; k++) {
      const p = port + k;
      if (p > 0xffff) { exit = true; break; } // wraps around: exits (26.1.3)
      const bm = p < 0x8000 ? vr(VMCS_IO_BITMAP_A) : vr(VMCS_IO_BITMAP_B);
      const byte = physRead32(bm + ((p & 0x7fff) >> 3) & ~3);
      if (((byte >> ((p & 0x1f))) & 1) != 0) { exit = true; break; }
    }
  } else exit = (procCtl & PROC_UNCOND_IO) != 0;
  if (!exit) return false;
  if (isString) {
    // Guest-linear address of the memory operand and the instruction information (28.2.5,
    // table 28-8: address size 9:7, segment 17:15 for OUTS).
    vw(VMCS_VMX_INSTRUCTION_INFO, ((addrSize == 32 ? 1 : 0) << 7) | ((isIn ? ES : ioSeg) << 15));
  }
  return exitWith(EXIT_REASON_IO_INSTRUCTION, (size - 1) | (isIn ? 8 : 0) | (isString ? 16 : 0) |
    (isRep ? 32 : 0) | (imm ? 64 : 0) | (port << 16));
}
/** The linear address and segment of a string I/O instruction's memory operand. */
let ioSeg: u32 = 3;
export function vmxIoLinear(lin: u32, seg: u32): void {
  vw(VMCS_GUEST_LINEAR_ADDRESS, lin);
  ioSeg = seg;
}
/** RDMSR/WRMSR (26.1.3; MSR bitmaps 25.6.9: read low 0x000, read high 0x400, write low
 *  0x800, write high 0xC00; MSRs outside both ranges always exit). */
export function vmxMsr(write: bool): bool {
  const ecx = reg32(ECX);
  let exit = true;
  if ((procCtl & PROC_MSR_BITMAPS) != 0) {
    let off: i32 = -1;
    if (ecx <= 0x1fff) off = 0;
    else if (ecx - 0xc0000000 <= 0x1fff) off = 0x400;
    if (off >= 0) {
      const bit = ecx & 0x1fff;
      const a = vr(VMCS_MSR_BITMAP) + <u32>off + (write ? 0x800 : 0) + ((bit >> 3) & ~3);
      exit = ((physRead32(a) >> (bit & 31)) & 1) != 0;
    }
  }
  if (!exit) return false;
  return exitWith(write ? EXIT_REASON_MSR_WRITE : EXIT_REASON_MSR_READ, 0);
}
/** Descriptor-table exiting (26.1.3): SGDT SIDT LGDT LIDT (46) and SLDT STR LLDT LTR (47);
 *  instruction information tables 28-10 / 28-11 (identity in bits 29:28). */
export function vmxDescTable(which: u32): bool {
  if ((proc2Ctl & P2_DESC) == 0) return false;
  let info = insnInfo() & ~(0xf << 28);
  info |= (which & 3) << 28;
  // Operand size (bit 11) for SGDT/SIDT/LGDT/LIDT: 1 with a 32-bit operand (table 28-10).
  if (which < 4 && osz == 32) info |= 1 << 11;
  vw(VMCS_VMX_INSTRUCTION_INFO, info);
  return exitWith(which < 4 ? EXIT_REASON_GDTR_IDTR : EXIT_REASON_LDTR_TR, infoDisp);
}
export function vmxInvd(): bool { return exitWith(EXIT_REASON_INVD, 0); }
export function vmxWbinvd(): bool {
  return (proc2Ctl & P2_WBINVD) != 0 ? exitWith(EXIT_REASON_WBINVD, 0) : false;
}
export function vmxPause(): bool {
  return (procCtl & PROC_PAUSE) != 0 ? exitWith(EXIT_REASON_PAUSE_INSTRUCTION, 0) : false;
}
export function vmxMonitor(): bool {
  return (procCtl & PROC_MONITOR) != 0 ? exitWith(EXIT_REASON_MONITOR_INSTRUCTION, 0) : false;
}
/** MWAIT's qualification: bit 0 set when the monitor hardware is armed (table 28-?,
 *  "MWAIT": 28.2.1). */
export function vmxMwait(): bool {
  if ((procCtl & PROC_MWAIT) == 0) return false;
  return exitWith(EXIT_REASON_MWAIT_INSTRUCTION, monitorArmedNow() ? 1 : 0);
}
export function vmxVmcall(): bool { return exitWith(EXIT_REASON_VMCALL, 0); }
/** VMX instructions in non-root operation always exit (26.1.2), with the instruction
 *  information of table 28-13/28-14 and the displacement in the qualification. */
export function vmxVmxInsn(reason: u32): bool {
  vw(VMCS_VMX_INSTRUCTION_INFO, insnInfo());
  return exitWith(reason, infoDisp);
}
export function vmxSvmInsn(exitCode: u32): bool { return false; }
/** INT3, INTO (type 6) and INT1 (type 5) are exceptions for the exception bitmap (25.6.3);
 *  INT n never exits. */
export function vmxSoftInt(vector: u32, kind: u32): bool {
  if (kind == 4 || vector > 31 || ((excBitmap >> vector) & 1) == 0) return false;
  exitWith(EXIT_REASON_EXCEPTION_NMI, 0);
  vw(VMCS_VM_EXIT_INTR_INFO, vector | (kind << 8) | 0x80000000);
  return true;
}
export function vmxIret(): bool { return false; }
export function vmxPushf(): bool { return false; }
export function vmxPopf(): bool { return false; }
/** Task switches always exit (26.1.2); qualification table 28-2: selector 15:0, source
 *  31:30 (0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT). `source`: cpu/system/task.ts. */
export function vmxTaskSwitch(selector: u32, source: u32): bool {
  // TASK_JMP 0, TASK_CALL 1, TASK_IRET 2, TASK_INT 3 -> 2, 0, 1, 3.
  const src: u32 = source == 0 ? 2 : source == 1 ? 0 : source == 2 ? 1 : 3;
  return exitWith(EXIT_REASON_TASK_SWITCH, (selector & 0xffff) | (src << 30));
}
/** A hardware exception about to be delivered (26.2): the exception bitmap, and for #PF
 *  the error-code mask/match (25.6.3). The exit interruption information (28.2.2) and
 *  qualification (#PF: the linear address, CR2 untouched). */
export function vmxException(vector: u32, code: u32, hasCode: bool, type: u32): bool {
  if (injecting) { setInjecting(false); return false; }
  let exit = vector < 32 && ((excBitmap >> vector) & 1) != 0;
  if (vector == 14) {
    const m = ((code & vr(VMCS_PAGE_FAULT_ERROR_CODE_MASK)) ==
      vr(VMCS_PAGE_FAULT_ERROR_CODE_MATCH));
    exit = exit == m;
  }
  if (!exit) {
    if (vector == 14) store<u32>(STATE_BASE + S_CR2, pfLinear);
    return false;
  }
  let q: u32 = vector == 14 ? pfLinear : 0;
  if (vector == 1) {
    // #DB (28.1, table 28-1): the qualification has the B0-B3 and BS bits; DR6 unchanged.
    q = dr6Bits;
    store<u32>(STATE_BASE + S_DR6, dr6Before);
  }
  exitWith(EXIT_REASON_EXCEPTION_NMI, q);
  vw(VMCS_VM_EXIT_INTR_INFO, vector | (type << 8) | (hasCode ? 0x800 : 0) | 0x80000000);
  if (hasCode) vw(VMCS_VM_EXIT_INTR_ERROR_CODE, code);
  return true;
}
/** A triple fault in non-root operation exits (26.2). */
export function vmxShutdown(): bool { return exitWith(EXIT_REASON_TRIPLE_FAULT, 0); }

// ---- EPT violations and misconfigurations (29.3.3) ----
/** Qualification (28.3.3.2 / table 28-7): access 2:0 (read, write, fetch), the
 *  permissions of the translation 5:3 (all levels combined; 0 when not present), guest-
 *  linear address valid 7, and with it bit 8: the access was the final translation (1) or
 *  a guest paging-structure entry (0). */
export function eptViolation(
  gpa: u32, acc: u32, perm: u32, lin: u32, linValid: bool, final: bool,
): void {
  vw64(VMCS_GUEST_PHYSICAL_ADDRESS, <u64>gpa);
  if (linValid) vw(VMCS_GUEST_LINEAR_ADDRESS, lin);
  vw(VMCS_VMX_INSTRUCTION_INFO, 0);
  exitWith(EXIT_REASON_EPT_VIOLATION,
    (acc & 7) | ((perm & 7) << 3) | (linValid ? 0x80 : 0) | (linValid && final ? 0x100 : 0));
}
export function eptMisconfig(gpa: u32, lin: u32, linValid: bool): void {
  vw64(VMCS_GUEST_PHYSICAL_ADDRESS, <u64>gpa);
  exitWith(EXIT_REASON_EPT_MISCONFIG, 0);
}

// ---- Instruction boundaries (26.2, 26.7) ----
/** Exits between instructions, by priority: the injection made at entry, the monitor trap
 *  flag (26.7.8), the preemption timer (26.7.4), NMI-window exiting (26.7.6), NMIs with NMI
 *  exiting, interrupt-window exiting (26.7.5), external interrupts with external-interrupt
 *  exiting (RFLAGS.IF does not block them then: 26.3.1.1). */
export function vmxBoundary(): u32 {
  const tick = boundaryTick;
  const ran = tick - lastTick;
  lastTick = tick;
  if (injectInfo != 0) {
    const info = injectInfo;
    injectInfo = 0;
    updateAttn();
    return inject(info);
  }
  if ((procCtl & PROC_MTF) != 0 && ran != 0) return boundaryExit(EXIT_REASON_MONITOR_TRAP_FLAG);
  if ((pinCtl & PIN_PREEMPT) != 0) {
    // A halted guest waits until the timer runs out (26.5.1: it counts in the HLT state).
    if (load<u32>(STATE_BASE + S_HALTED) != 0) store<u32>(STATE_BASE + S_VMX_PREEMPT, 0);
    let t = load<u32>(STATE_BASE + S_VMX_PREEMPT);
    const dec = <u64>ran * <u64>load<u32>(STATE_BASE + S_TSC_PER_INSN);
    t = dec >= <u64>t ? 0 : t - <u32>dec;
    store<u32>(STATE_BASE + S_VMX_PREEMPT, t);
    if (t == 0) return boundaryExit(EXIT_REASON_PREEMPTION_TIMER);
  }
  const shadow = load<u32>(STATE_BASE + S_INT_SHADOW) != 0;
  const nmiBlocked = load<u32>(STATE_BASE + S_NMI_BLOCKED) != 0;
  if ((procCtl & PROC_NMI_WINDOW) != 0 && !nmiBlocked && !shadow) {
    return boundaryExit(EXIT_REASON_NMI_WINDOW);
  }
  if ((pinCtl & PIN_NMI) != 0 && load<u32>(STATE_BASE + S_NMI_PENDING) != 0 && !shadow &&
    !nmiBlocked) {
    store<u32>(STATE_BASE + S_NMI_PENDING, 0);
    vw(VMCS_VM_EXIT_REASON, EXIT_REASON_EXCEPTION_NMI);
    return finishBoundaryExit(EXIT_REASON_EXCEPTION_NMI, 2 | (2 << 8) | 0x80000000);
  }
  if ((procCtl & PROC_INT_WINDOW) != 0 && (getFlags() & IF) != 0 && !shadow) {
    return boundaryExit(EXIT_REASON_PENDING_INTERRUPT);
  }
  const p = load<u32>(STATE_BASE + S_INTR_PENDING);
  if ((pinCtl & PIN_EXT_INT) != 0 && (p & 0x100) != 0 && !shadow) {
    let info: u32 = 0;
    if ((exitCtl & EXIT_ACK_INT) != 0) {
      // Acknowledge interrupt on exit (27.2.1? 25.7.1): the vector goes in the exit
      // interruption information and the interrupt is taken from the controller.
      store<u32>(STATE_BASE + S_INTR_PENDING, 0);
      info = (p & 0xff) | 0x80000000;
    }
    return finishBoundaryExit(EXIT_REASON_EXTERNAL_INTERRUPT, info);
  }
  return NO_EXIT;
}
function boundaryExit(reason: u32): u32 { return finishBoundaryExit(reason, 0); }
function finishBoundaryExit(reason: u32, intInfo: u32): u32 {
  vw(VMCS_VM_EXIT_REASON, reason);
  vw(VMCS_EXIT_QUALIFICATION, 0);
  vw(VMCS_VM_EXIT_INTR_INFO, intInfo);
  vw(VMCS_IDT_VECTORING_INFO_FIELD, 0);
  vw(VMCS_VM_EXIT_INSTRUCTION_LEN, 0);
  return vmxExitPerform();
}

/** Event injection (27.6): delivers the event through the guest's IDT as if it had occurred
 *  at the boundary; a software event pushes RIP + the VM-entry instruction length. Not
 *  subject to the exception bitmap; an exit during its delivery records it as IDT-vectoring
 *  information. */
function inject(info: u32): u32 {
  const vector = info & 0xff;
  const type = (info >> 8) & 7;
  const hasCode = (info & 0x800) != 0;
  if (type == 4 || type == 5 || type == 6) setIp(ip + injectLen);
  setInjecting(type == 3);
  const r = deliverForVmm(vector, type, injectCode, hasCode);
  setInjecting(false);
  if (r != NO_EXIT) return r;
  if (guestMode != GUEST_VMX) return NO_EXIT; // a nested exit happened during delivery
  // MTF after an injected event: the exit follows its delivery (26.7.8.2).
  if ((procCtl & PROC_MTF) != 0 && type != 4 && type != 5 && type != 6) lastTick--;
  return NO_EXIT;
}

/** Arms the injection of the VM-entry interruption information (called by VM entry). */
export function armInjection(info: u32, code: u32, len: u32): void {
  injectInfo = info;
  injectCode = code;
  injectLen = len;
  updateAttn();
}
/** Starts counting boundaries at entry (MTF, the preemption timer); no injection yet. A
 *  nested entry is inside VMLAUNCH/VMRESUME, whose own completion the run loop counts
 *  next. */
export function markEntry(nested: bool): void {
  lastTick = boundaryTick + (nested ? 1 : 0);
  injectInfo = 0;
}

// ---- Saving the guest state, loading the host state (28.3 .. 28.5) ----
@inline function segAddr(s: u32): u32 { return STATE_BASE + S_SEG + s * SEG_SIZE; }

/** Writes the guest state of the CPU (working copies included) to the VMCS guest area. */
export function saveGuest(): void {
  const fl = getFlags();
  vw(VMCS_GUEST_CR0, load<u32>(STATE_BASE + S_CR0));
  vw(VMCS_GUEST_CR3, load<u32>(STATE_BASE + S_CR3));
  vw(VMCS_GUEST_CR4, load<u32>(STATE_BASE + S_CR4));
  if ((exitCtl & EXIT_SAVE_DEBUG) != 0) vw(VMCS_GUEST_DR7, load<u32>(STATE_BASE + S_DR7));
  vw(VMCS_GUEST_RSP, load<u32>(STATE_BASE + S_ESP));
  vw(VMCS_GUEST_RIP, ip);
  vw(VMCS_GUEST_RFLAGS, fl);
  for (let s: u32 = 0; s < 8; s++) {
    const a = segAddr(s);
    vw(VMCS_GUEST_ES_SELECTOR + (s << 1), load<u32>(a + SEG_SEL));
    vw(VMCS_GUEST_ES_BASE + (s << 1), load<u32>(a + SEG_BASE));
    vw(VMCS_GUEST_ES_LIMIT + (s << 1), load<u32>(a + SEG_LIMIT));
    vw(VMCS_GUEST_ES_AR_BYTES + (s << 1), load<u32>(a + SEG_ACCESS));
  }
  vw(VMCS_GUEST_GDTR_BASE, load<u32>(STATE_BASE + S_GDTR_BASE));
  vw(VMCS_GUEST_GDTR_LIMIT, load<u32>(STATE_BASE + S_GDTR_LIMIT));
  vw(VMCS_GUEST_IDTR_BASE, load<u32>(STATE_BASE + S_IDTR_BASE));
  vw(VMCS_GUEST_IDTR_LIMIT, load<u32>(STATE_BASE + S_IDTR_LIMIT));
  vw(VMCS_GUEST_SYSENTER_CS, load<u32>(STATE_BASE + S_SYSENTER_CS));
  vw(VMCS_GUEST_SYSENTER_ESP, load<u32>(STATE_BASE + S_SYSENTER_ESP));
  vw(VMCS_GUEST_SYSENTER_EIP, load<u32>(STATE_BASE + S_SYSENTER_EIP));
  // Interruptibility (25.4.2, table 25-3): the core keeps one shadow for STI and MOV SS;
  // it is reported as blocking by STI when IF is set (STI can only open a shadow with IF
  // set), else as blocking by MOV SS. Bit 3: blocking by NMI.
  let intr: u32 = 0;
  if (load<u32>(STATE_BASE + S_INT_SHADOW) != 0) intr = (fl & IF) != 0 ? 1 : 2;
  if (load<u32>(STATE_BASE + S_NMI_BLOCKED) != 0) intr |= 8;
  vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, intr);
  vw(VMCS_GUEST_ACTIVITY_STATE, load<u32>(STATE_BASE + S_HALTED) != 0 ? 1 : 0);
  vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
  if ((exitCtl & EXIT_SAVE_PREEMPT) != 0) {
    vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, load<u32>(STATE_BASE + S_VMX_PREEMPT));
  }
}

/** Loads state-block working copies after a world switch wrote the state block. */
export function reloadWorking(eip: u32, eflags: u32): void {
  store<u32>(STATE_BASE + S_EIP, eip);
  store<u32>(STATE_BASE + S_EFLAGS, eflags);
  setIp(eip);
  setFlags(eflags);
  updateCpl();
  segUpdateAll();
  updateDebug();
}

/** The MSR-store area on exit (28.4): 16-byte entries (index, reserved, value). */
function storeMsrs(): void {
  const n = vr(VMCS_VM_EXIT_MSR_STORE_COUNT);
  const a = vr(VMCS_VM_EXIT_MSR_STORE_ADDR);
  for (let i: u32 = 0; i < n && i < 512; i++) {
    const e = a + (i << 4);
    const v = msrRead(physRead32(e));
    physWrite32(e + 8, <u32>v); physWrite32(e + 12, <u32>(v >> 32));
  }
}
/** Loads an MSR list (27.4 on entry, 28.6 on exit); returns 0 or the 1-based number of the
 *  entry that failed. */
export function loadMsrs(a: u32, n: u32): u32 {
  for (let i: u32 = 0; i < n && i < 512; i++) {
    const e = a + (i << 4);
    const idx = physRead32(e);
    if (physRead32(e + 4) != 0) return i + 1;
    msrWrite(idx, (<u64>physRead32(e + 12) << 32) | <u64>physRead32(e + 8));
    if (!msrOk) return i + 1;
  }
  return 0;
}

/** Loads the host state (28.5) of the current VMCS: the guest's own VMM resumes at its host
 *  RIP. Also the end of a VM entry that failed after the guest-state checks (27.8). */
export function loadHost(): void {
  const c0 = load<u32>(STATE_BASE + S_CR0);
  // CR0: the bits of the host field, except those VM exits leave alone (28.5.1: reserved
  // bits, ET, CD, NW); ET is always 1 here.
  const keep: u32 = 0x60000010 | 0x1ffaffc0;
  store<u32>(STATE_BASE + S_CR0, (c0 & keep) | (vr(VMCS_HOST_CR0) & ~keep) | 0x10);
  store<u32>(STATE_BASE + S_CR3, vr(VMCS_HOST_CR3));
  store<u32>(STATE_BASE + S_CR4, vr(VMCS_HOST_CR4));
  store<u32>(STATE_BASE + S_DR7, 0x400);
  store<u32>(STATE_BASE + S_SYSENTER_CS, vr(VMCS_HOST_IA32_SYSENTER_CS));
  store<u32>(STATE_BASE + S_SYSENTER_ESP, vr(VMCS_HOST_IA32_SYSENTER_ESP));
  store<u32>(STATE_BASE + S_SYSENTER_EIP, vr(VMCS_HOST_IA32_SYSENTER_EIP));
  // Segments (28.5.2): flat 4 GiB, DPL 0; a null selector (other than CS, TR) unusable.
  setHostSeg(CS, vr(VMCS_HOST_CS_SELECTOR), 0, 0xc09b);
  for (let s: u32 = 0; s < 6; s++) {
    if (s == CS) continue;
    // The host selector fields ES CS SS DS FS GS are consecutive encodings (table B-3).
    const sel = vr(VMCS_HOST_ES_SELECTOR + (s << 1));
    const base: u32 = s == FS ? vr(VMCS_HOST_FS_BASE) : s == GS ? vr(VMCS_HOST_GS_BASE) : 0;
    if ((sel & 0xfffc) == 0 && s != SS) setHostSeg(s, sel, base, AR_UNUSABLE | 0xc093);
    else setHostSeg(s, sel, base, 0xc093);
  }
  const tr = segAddr(TR);
  store<u32>(tr + SEG_SEL, vr(VMCS_HOST_TR_SELECTOR));
  store<u32>(tr + SEG_BASE, vr(VMCS_HOST_TR_BASE));
  store<u32>(tr + SEG_LIMIT, 0x67);
  store<u32>(tr + SEG_ACCESS, 0x8b);
  const ld = segAddr(LDTR);
  store<u32>(ld + SEG_SEL, 0); store<u32>(ld + SEG_BASE, 0); store<u32>(ld + SEG_LIMIT, 0);
  store<u32>(ld + SEG_ACCESS, AR_UNUSABLE);
  store<u32>(STATE_BASE + S_GDTR_BASE, vr(VMCS_HOST_GDTR_BASE));
  store<u32>(STATE_BASE + S_GDTR_LIMIT, 0xffff);
  store<u32>(STATE_BASE + S_IDTR_BASE, vr(VMCS_HOST_IDTR_BASE));
  store<u32>(STATE_BASE + S_IDTR_LIMIT, 0xffff);
  store<u32>(STATE_BASE + S_ESP, vr(VMCS_HOST_RSP));
  store<u32>(STATE_BASE + S_INT_SHADOW, 0);
  store<u32>(STATE_BASE + S_HALTED, 0);
  store<u32>(STATE_BASE + S_CPL, 0);
  reloadWorking(vr(VMCS_HOST_RIP), 2); // RFLAGS = 2 (28.5.3)
  // The host's CPL is 0 (its CS DPL).
  tlbFlushAll(false);
}
function setHostSeg(s: u32, sel: u32, base: u32, ar: u32): void {
  const a = segAddr(s);
  store<u32>(a + SEG_SEL, sel & 0xffff);
  store<u32>(a + SEG_BASE, base);
  store<u32>(a + SEG_LIMIT, 0xffffffff);
  store<u32>(a + SEG_ACCESS, ar);
}

/** Performs the exit recorded in the VMCS (the run loop, after raiseVmExit or a boundary
 *  exit): 28.3 save the guest state, 28.4 the MSR-store area, then leave non-root
 *  operation. Host-owned: returns EXIT_VMEXIT. Nested: loads the host state (28.5) and the
 *  MSR-load area (28.6; a failure there is a VMX abort, 28.7: a shutdown) and returns
 *  NO_EXIT. */
export function vmxExitPerform(): u32 {
  const reason = vr(VMCS_VM_EXIT_REASON) & 0xffff;
  countExit(GUEST_VMX, reason);
  saveGuest();
  clearVectoring();
  setInjecting(false);
  injectInfo = 0;
  // The valid bit of the VM-entry interruption-information field is cleared (28.2.?):
  // "bit 31 ... is cleared on every VM exit" (25.8.3).
  vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, vr(VMCS_VM_ENTRY_INTR_INFO_FIELD) & 0x7fffffff);
  storeMsrs();
  setNested(NESTED_OFF, 0, false);
  const owned = hostOwned;
  const vpid = (proc2Ctl & P2_VPID) != 0 ? vr(VMCS_VIRTUAL_PROCESSOR_ID) : 0xffffffff;
  setGuestMode(GUEST_NONE, false);
  guestTscOffset = 0;
  if (owned) { tlbExitToHost(vpid); return EXIT_VMEXIT; }
  tlbWorldSwitch(vpid, 0);
  loadHost();
  if (loadMsrs(vr(VMCS_VM_EXIT_MSR_LOAD_ADDR), vr(VMCS_VM_EXIT_MSR_LOAD_COUNT)) != 0) {
    // VMX abort (28.7): the abort indicator of the VMCS region, then a shutdown.
    store<u32>(STATE_BASE + S_EXIT_REASON, EXIT_SHUTDOWN);
    store<u32>(STATE_BASE + S_EXIT_DETAIL, WHY_TRIPLE_FAULT);
    return EXIT_SHUTDOWN;
  }
  return NO_EXIT;
}

