// AMD-V, Secure Virtual Machine (AMD APM vol. 2, chapter 15): the configuration (EFER.SVME,
// VM_CR, VM_HSAVE_PA, CPUID 8000_0001h ECX.SVM and 8000_000Ah), the SVM instructions
// (VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA, VMMCALL, SKINIT), VMRUN's consistency checks
// and the world switch of VMRUN (15.5) and #VMEXIT (15.6). Off unless the host configured
// the CPU with SVM (S_SVM): then CPUID reports it and EFER exists; otherwise EFER, the SVM
// MSRs and every SVM instruction are as on a CPU without SVM (#GP, #UD).
//
// The host save area (VM_HSAVE_PA, 15.30.4): its format is implementation-specific. Ours is
// the state-save area of a VMCB (appendix B offsets: ES, CS, SS, DS, GDTR, IDTR, EFER, CR0,
// CR3, CR4, RFLAGS, RIP, RSP, RAX), written by VMRUN; #VMEXIT reloads the host state from a
// copy kept inside the CPU (as Bochs does), or from that area after a loadState.
//
// Not implemented: SKINIT and the SVM-lock / DEV features (CPUID 8000_0001h ECX.SKINIT is
// clear: SKINIT is #UD), long mode (no EFER.LME: the 64-bit VMCB fields hold 32-bit values
// here and their upper halves are checked or ignored as below), LBR virtualization, AVIC,
// pause filtering, decode assists, SEV.
import {
  STATE_BASE, S_EFER, S_VM_CR, S_VM_HSAVE_PA, S_GIF_CLEAR, S_SVM, S_CPL, S_CR0, S_CR2, S_CR3,
  S_CR4, S_DR6, S_DR7, S_EAX, S_ESP, S_GDTR_BASE, S_GDTR_LIMIT, S_IDTR_BASE, S_IDTR_LIMIT,
  S_SVM_VMCB, S_SVM_ICPT_CR, S_SVM_ICPT_DR, S_SVM_ICPT_EXC, S_SVM_ICPT1, S_SVM_ICPT2,
  S_SVM_IOPM, S_SVM_MSRPM, S_SVM_TSC_OFFSET, S_SVM_ASID, S_SVM_VINTR, S_SVM_VVEC, S_SVM_NP,
  S_SVM_NCR3, S_SVM_CACHED, S_INT_SHADOW, S_HALTED, S_SYSENTER_CS, S_SYSENTER_ESP,
  S_SYSENTER_EIP, S_EIP, S_EFLAGS, S_TSC,
} from '../generated/layout';
import {
  VMCB_INTERCEPT_CR, VMCB_INTERCEPT_DR, VMCB_INTERCEPT_EXCEPTIONS, VMCB_INTERCEPT_MISC1,
  VMCB_INTERCEPT_MISC2, VMCB_IOPM_BASE_PA, VMCB_MSRPM_BASE_PA, VMCB_TSC_OFFSET,
  VMCB_GUEST_ASID, VMCB_TLB_CONTROL, VMCB_VINTR_CONTROL, VMCB_VINTR_VECTOR,
  VMCB_INTERRUPT_SHADOW, VMCB_EXITCODE, VMCB_EXITINFO1, VMCB_EXITINFO2, VMCB_EXITINTINFO,
  VMCB_EXITINTINFO_ERROR_CODE, VMCB_NP_CONTROL, VMCB_EVENTINJ, VMCB_EVENTINJ_ERROR_CODE,
  VMCB_N_CR3, VMCB_VMCB_CLEAN, VMCB_NRIP, VMCB_ES_SELECTOR, VMCB_CS_SELECTOR,
  VMCB_SS_SELECTOR, VMCB_DS_SELECTOR, VMCB_FS_SELECTOR, VMCB_GS_SELECTOR, VMCB_LDTR_SELECTOR,
  VMCB_TR_SELECTOR, VMCB_GDTR_LIMIT, VMCB_GDTR_BASE, VMCB_IDTR_LIMIT, VMCB_IDTR_BASE,
  VMCB_CPL, VMCB_EFER, VMCB_CR4, VMCB_CR3, VMCB_CR0, VMCB_DR7, VMCB_DR6, VMCB_RFLAGS,
  VMCB_RIP, VMCB_RSP, VMCB_RAX, VMCB_CR2, VMCB_SYSENTER_CS, VMCB_SYSENTER_ESP,
  VMCB_SYSENTER_EIP, VMCB_CLEAN_I, VMCB_CLEAN_IOPM, VMCB_CLEAN_ASID, VMCB_CLEAN_TPR,
  VMCB_CLEAN_NP, VMCB_TLB_CONTROL_DO_NOTHING, VMCB_TLB_CONTROL_FLUSH_ALL_ASID,
  VMCB_TLB_CONTROL_FLUSH_ASID, VMCB_TLB_CONTROL_FLUSH_ASID_LOCAL, VMCB_EVENT_TYPE_INTR,
  VMCB_EVENT_TYPE_NMI, VMCB_EVENT_TYPE_EXCEPTION, VMCB_EVENT_TYPE_SOFT_INT,
  MSR_EFER, MSR_VM_CR, MSR_VM_HSAVE_PA, SVM_EXIT_ERR, SVM_EXIT_VMRUN, SVM_EXIT_VMMCALL,
  SVM_EXIT_VMLOAD, SVM_EXIT_VMSAVE, SVM_EXIT_STGI, SVM_EXIT_CLGI, SVM_EXIT_SKINIT,
  SVM_EXIT_INVLPGA, SVM_EXIT_RDTSCP,
} from '../generated/svm';
import { EAX, ECX, EBX, EDX, ES, CS, SS, DS, FS, GS, LDTR, TR, reg32, setReg32, CR0_PE,
  CR0_ET, CR4_VALID, CR4_TSD } from '../cpu/state';
import { ip, setIp, segUpdateAll, updateCpl } from '../cpu/access';
import { asz } from '../cpu/decode';
import { raiseGP, raiseUD, raiseVmExit } from '../cpu/fault';
import { tscPending, tscExitOn, tscNeedsHost, tscTaken } from '../cpu/tsc';
import { getFlags, setFlags, flags } from '../cpu/flags';
import { needAttention } from '../cpu/events';
import { setShadowNext } from '../cpu/shadow';
import { updateDebug } from '../cpu/debug';
import { tlbFlushAll, tlbFlushPage } from '../mem/tlb';
import { protectedMode, v86Mode } from '../cpu/system/segments';
import {
  pr8, pr16, pr32, pr64, pw8, pw16, pw32, pw64, loadSeg, saveSeg, vmcbForget, vmcbBindPage,
} from './vmcb';
import { inSvmGuest, svmHostOwned, setSvmGuest } from './mode';
import { svmSvmInsn } from './intercepts';
import { setNptPse } from './npt';
import { setNested, nestedFlush, NESTED_OFF, NESTED_NPT32, NESTED_NPT64 } from '../mem/nested';
import { tlbWorldSwitch, tlbExitToHost, tagDrop } from '../mem/tags';
import { S_CNT_VMENTRY } from '../generated/layout';
import { CR4_PSE } from '../cpu/state';

/** EFER.SVME, bit 12 (APM vol. 2, 3.1.7). The only EFER bit of this core: no long mode, no
 *  SYSCALL, no NX (CPUID 8000_0001h EDX reports none of them). */
export const EFER_SVME: u32 = 1 << 12;
/** VM_CR (15.30.1): DPD 0, R_INIT 1, DIS_A20M 2, LOCK 3, SVMDIS 4; the rest reserved. */
const VM_CR_LOCK: u32 = 1 << 3;
const VM_CR_SVMDIS: u32 = 1 << 4;
const VM_CR_VALID: u32 = 0x1f;
/** CPUID 8000_000Ah (15.4 and the CPUID specification): EAX the SVM revision, EBX the
 *  number of ASIDs, EDX the features: NP (bit 0), VmcbClean (bit 5), FlushByAsid (bit 6),
 *  and NRIPS (bit 3) when configured. */
export const SVM_REVISION: u32 = 1;
export const SVM_ASIDS: u32 = 16;
export const SVM_FEATURES: u32 = (1 << 0) | (1 << 5) | (1 << 6);
export const FEAT_NRIPS: u32 = 1 << 3;
/** S_SVM: bit 0 SVM, bit 1 NRIPS reported (setSvm's second argument). Without NRIPS the
 *  NRIP field is written only for the host's own entries (svmHostEnter), whose VMM is this
 *  project's and reads it; a guest's VMM sees a CPU without it, as Bochs' and QEMU's
 *  phenom models (the references of guests/systests/svm-*). */
const S_SVM_NRIPS: u32 = 2;
@inline export function nripsReported(): bool {
  return (load<u32>(STATE_BASE + S_SVM) & S_SVM_NRIPS) != 0;
}
/** CPUID 8000_0001h EDX bit 27: RDTSCP (the SVM model's; TSC_AUX is not kept: ECX 0). */
export const FEAT_RDTSCP: u32 = 1 << 27;
/** CPUID 8000_0001h ECX bit 2: SVM. */
export const FEAT_SVM: u32 = 1 << 2;
/** The physical-address width this core reports (CPUID 8000_0008h EAX[7:0]): 32 bits. */
export const PHYS_BITS: u32 = 32;
/** MISC2 bit 0: the VMRUN intercept (table B-1), which VMRUN requires (15.5.1). */
export const ICPT2_VMRUN: u32 = 1 << 0;
/** Sizes of the I/O and MSR permission maps (15.10.1: 12 KB; 15.11: 8 KB). */
const IOPM_BYTES: u64 = 0x3000;
const MSRPM_BYTES: u64 = 0x2000;

@inline export function svmEnabled(): bool { return load<u32>(STATE_BASE + S_SVM) != 0; }
@inline export function svme(): bool { return (load<u32>(STATE_BASE + S_EFER) & EFER_SVME) != 0; }
@inline function st32(off: u32, v: u32): void { store<u32>(STATE_BASE + off, v); }
@inline function ld32(off: u32): u32 { return load<u32>(STATE_BASE + off); }
@inline function ld64(off: u32): u64 { return load<u64>(STATE_BASE + off); }

/** GIF (15.17): interrupts, NMIs, SMIs and INIT are held while it is clear. */
@inline export function gifSet(): bool { return ld32(S_GIF_CLEAR) == 0; }
/** The current VMCB (in guest mode). */
@inline export function vmcbAddr(): u32 { return <u32>ld64(S_SVM_VMCB); }

// ---- CPUID (the extended leaves an SVM CPU answers) ----
/** Leaves 8000_0000h..8000_000Ah of a CPU with SVM; false for any other leaf. */
export function svmCpuidLeaf(leaf: u32): bool {
  if (!svmEnabled() || (leaf & 0xffff0000) != 0x80000000) return false;
  let a: u32 = 0, b: u32 = 0, c: u32 = 0, d: u32 = 0;
  if (leaf == 0x80000000) {
    a = 0x8000000a;
    b = 0x68747541; d = 0x69746e65; c = 0x444d4163; // "Auth" "enti" "cAMD"
  } else if (leaf == 0x80000001) {
    c = FEAT_SVM;
    d = FEAT_RDTSCP;
  } else if (leaf == 0x80000008) {
    a = PHYS_BITS | (32 << 8); // physical and linear address widths
  } else if (leaf == 0x8000000a) {
    a = SVM_REVISION; b = SVM_ASIDS; d = SVM_FEATURES | (nripsReported() ? FEAT_NRIPS : 0);
  }
  // Leaves above 8000_000Ah and the others of the range read as zeros, as AMD CPUs answer.
  setReg32(EAX, a); setReg32(EBX, b); setReg32(ECX, c); setReg32(EDX, d);
  return true;
}

// ---- MSRs: EFER, VM_CR, VM_HSAVE_PA (15.30, 3.1.7) ----
export let svmMsrOk: bool = false;
/** Reads an SVM MSR; svmMsrOk = false when `index` is none of them or SVM is off. */
export function svmMsrRead(index: u32): u64 {
  svmMsrOk = svmEnabled();
  if (!svmMsrOk) return 0;
  if (index == MSR_EFER) return ld32(S_EFER);
  if (index == MSR_VM_CR) return ld32(S_VM_CR);
  if (index == MSR_VM_HSAVE_PA) return ld64(S_VM_HSAVE_PA);
  svmMsrOk = false;
  return 0;
}
/** Writes an SVM MSR; svmMsrOk = false (#GP) for a reserved bit or an unknown MSR. */
export function svmMsrWrite(index: u32, v: u64): void {
  svmMsrOk = false;
  if (!svmEnabled()) return;
  if (index == MSR_EFER) {
    // Reserved bits are MBZ (3.1.7); SVME is MBZ while VM_CR.SVMDIS is set (15.30.1).
    if ((v & ~(<u64>EFER_SVME)) != 0) return;
    if ((<u32>v & EFER_SVME) != 0 && (ld32(S_VM_CR) & VM_CR_SVMDIS) != 0) return;
    st32(S_EFER, <u32>v);
    svmMsrOk = true;
    return;
  }
  if (index == MSR_VM_CR) {
    if ((v & ~(<u64>VM_CR_VALID)) != 0) return;
    const old = ld32(S_VM_CR);
    let nv = <u32>v;
    // With LOCK set, writes to LOCK and SVMDIS are ignored (15.30.1).
    if ((old & VM_CR_LOCK) != 0) nv = (nv & ~(VM_CR_LOCK | VM_CR_SVMDIS)) | (old & 0x18);
    // Setting SVMDIS while EFER.SVME is 1 is #GP.
    if ((nv & VM_CR_SVMDIS) != 0 && svme()) return;
    st32(S_VM_CR, nv);
    svmMsrOk = true;
    return;
  }
  if (index == MSR_VM_HSAVE_PA) {
    // 4 KB aligned, within the physical-address width (15.30.4).
    if ((v & 0xfff) != 0 || (v >> PHYS_BITS) != 0) return;
    store<u64>(STATE_BASE + S_VM_HSAVE_PA, v);
    svmMsrOk = true;
  }
}

// ---- The exit being raised (recorded by the intercept, written by svmWorldExit) ----
export let exitCode: i64 = 0;
export let exitInfo1: u64 = 0;
export let exitInfo2: u64 = 0;
/** The next sequential RIP of an instruction intercept (15.7.1), or -1: NRIP is 0. */
export let exitNrip: i64 = -1;
/** EXITINTINFO (15.7.2): the event being delivered when the exit occurred, 0 if none. */
export let exitIntInfo: u64 = 0;
export function recordExit(code: i64, info1: u64, info2: u64, nrip: i64): void {
  exitCode = code; exitInfo1 = info1; exitInfo2 = info2; exitNrip = nrip;
}
export function setExitIntInfo(v: u64): void { exitIntInfo = v; }

// ---- Event injection (15.20) ----
/** EVENTINJ of the last VMRUN while it waits for the first guest boundary (V bit 31). */
export let injEvent: u32 = 0;
export let injError: u32 = 0;
export function clearInjection(): void { injEvent = 0; injError = 0; }
/** Exception vectors that exist (APM vol. 2, table 8-1): 0, 1, 3-8, 10-14, 16-19, 30. */
const EXC_VALID: u32 = 0x400f7dfb;

/** True when EVENTINJ `e` may be injected (15.20): a reserved type (1, 5, 6, 7) or an
 *  exception type with a vector that is no exception (vector 2 included) is illegal. */
export function eventInjValid(e: u32): bool {
  if ((e & 0x80000000) == 0) return true;
  const type = (e >> 8) & 7, vec = e & 0xff;
  if (type == VMCB_EVENT_TYPE_INTR || type == VMCB_EVENT_TYPE_NMI ||
    type == VMCB_EVENT_TYPE_SOFT_INT) return true;
  if (type == VMCB_EVENT_TYPE_EXCEPTION) return vec < 32 && ((EXC_VALID >> vec) & 1) != 0;
  return false;
}

// ---- VMRUN's checks (15.5.1, "Canonicalization and Consistency Checks") ----
/** Why the last VMRUN was refused (for tests and stats): 0 none, else the rule's number
 *  in the list of 15.5.1 as checked below. */
export let invalidWhy: u32 = 0;
const BAD_SVME: u32 = 1, BAD_CR0_NW: u32 = 2, BAD_CR0_HI: u32 = 3, BAD_CR3: u32 = 4;
const BAD_CR4: u32 = 5, BAD_DR6: u32 = 6, BAD_DR7: u32 = 7, BAD_EFER: u32 = 8;
const BAD_VMRUN_ICPT: u32 = 9, BAD_MAPS: u32 = 10, BAD_EVENTINJ: u32 = 11;
const BAD_ASID: u32 = 12, BAD_TLB_CONTROL: u32 = 13, BAD_NCR3: u32 = 14;

/** Whether the 12-KB IOPM or 8-KB MSRPM at `base` (bits 11:0 ignored) reaches past the
 *  physical-address width. */
@inline function mapOutside(base: u64, bytes: u64): bool {
  return (base & ~(<u64>0xfff)) + bytes > (<u64>1 << PHYS_BITS);
}

/** The checks of 15.5.1 on the VMCB at `v`. The controls must be loaded (loadControls). */
function checkVmcb(v: u32): u32 {
  const efer = pr64(v + VMCB_EFER), cr0 = pr64(v + VMCB_CR0), cr3 = pr64(v + VMCB_CR3);
  const cr4 = pr64(v + VMCB_CR4), dr6 = pr64(v + VMCB_DR6), dr7 = pr64(v + VMCB_DR7);
  if ((<u32>efer & EFER_SVME) == 0) return BAD_SVME;
  // CR0.CD = 0 with CR0.NW = 1.
  if ((<u32>cr0 & 0x60000000) == 0x20000000) return BAD_CR0_NW;
  if ((cr0 >> 32) != 0) return BAD_CR0_HI;
  // CR3 MBZ: none in legacy mode without PAE, the only guest paging mode here (the MBZ
  // bits of figure 3-5 are for long mode; a 32-bit CR3 has no MBZ bit and VMRUN takes its
  // low half, as Bochs does: guests/systests svm-vmrun). BAD_CR3 is kept for the numbering.
  void cr3; void BAD_CR3;
  // CR4 MBZ: every bit MOV CR4 refuses on this CPU (PAE and VMXE included) and 63:32.
  if ((cr4 & ~(<u64>CR4_VALID)) != 0) return BAD_CR4;
  if ((dr6 >> 32) != 0) return BAD_DR6;
  if ((dr7 >> 32) != 0) return BAD_DR7;
  // EFER MBZ: everything but SVME. (So EFER.LME = 0: the long-mode checks of the list,
  // LME with PG and without PAE or PE, LME/PG/PAE/CS.L/CS.D, cannot apply.)
  if ((efer & ~(<u64>EFER_SVME)) != 0) return BAD_EFER;
  if ((ld32(S_SVM_ICPT2) & ICPT2_VMRUN) == 0) return BAD_VMRUN_ICPT;
  if (mapOutside(pr64(v + VMCB_IOPM_BASE_PA), IOPM_BYTES) ||
    mapOutside(pr64(v + VMCB_MSRPM_BASE_PA), MSRPM_BYTES)) return BAD_MAPS;
  if (!eventInjValid(pr32(v + VMCB_EVENTINJ))) return BAD_EVENTINJ;
  if (ld32(S_SVM_ASID) == 0) return BAD_ASID;
  // TLB_CONTROL: the values of 15.16.1 (0, 1, 3, 7: FlushByAsid is reported); the others
  // are refused as KVM's nested VMRUN refuses them.
  const tc = pr8(v + VMCB_TLB_CONTROL);
  if (tc != VMCB_TLB_CONTROL_DO_NOTHING && tc != VMCB_TLB_CONTROL_FLUSH_ALL_ASID &&
    tc != VMCB_TLB_CONTROL_FLUSH_ASID && tc != VMCB_TLB_CONTROL_FLUSH_ASID_LOCAL) {
    return BAD_TLB_CONTROL;
  }
  // N_CR3 beyond the physical-address width (15.25.3; Bochs checks it in long mode).
  if (ld32(S_SVM_NP) != 0 && (ld64(S_SVM_NCR3) >> PHYS_BITS) != 0) return BAD_NCR3;
  return 0;
}

/** Reads the control area into the state block, keeping a group the VMCB marks clean when
 *  the cache was filled from this VMCB (15.15.3: hardware may then use its cached copy). */
function loadControls(v: u32): void {
  const cached = ld64(S_SVM_CACHED) == (<u64>v | 1);
  const clean = cached ? pr32(v + VMCB_VMCB_CLEAN) : 0;
  if (((clean >> VMCB_CLEAN_I) & 1) == 0) {
    st32(S_SVM_ICPT_CR, pr32(v + VMCB_INTERCEPT_CR));
    st32(S_SVM_ICPT_DR, pr32(v + VMCB_INTERCEPT_DR));
    st32(S_SVM_ICPT_EXC, pr32(v + VMCB_INTERCEPT_EXCEPTIONS));
    st32(S_SVM_ICPT1, pr32(v + VMCB_INTERCEPT_MISC1));
    st32(S_SVM_ICPT2, pr32(v + VMCB_INTERCEPT_MISC2));
    store<u64>(STATE_BASE + S_SVM_TSC_OFFSET, pr64(v + VMCB_TSC_OFFSET));
  }
  if (((clean >> VMCB_CLEAN_IOPM) & 1) == 0) {
    st32(S_SVM_IOPM, <u32>pr64(v + VMCB_IOPM_BASE_PA) & 0xfffff000);
    st32(S_SVM_MSRPM, <u32>pr64(v + VMCB_MSRPM_BASE_PA) & 0xfffff000);
  }
  if (((clean >> VMCB_CLEAN_ASID) & 1) == 0) st32(S_SVM_ASID, pr32(v + VMCB_GUEST_ASID));
  if (((clean >> VMCB_CLEAN_TPR) & 1) == 0) {
    st32(S_SVM_VINTR, pr32(v + VMCB_VINTR_CONTROL));
  } else {
    // Only V_TPR is in the TPR group; V_IRQ and the rest are read at every VMRUN.
    st32(S_SVM_VINTR, (pr32(v + VMCB_VINTR_CONTROL) & ~0xff) | (ld32(S_SVM_VINTR) & 0xff));
  }
  st32(S_SVM_VVEC, pr32(v + VMCB_VINTR_VECTOR) & 0xff);
  if (((clean >> VMCB_CLEAN_NP) & 1) == 0) {
    st32(S_SVM_NP, pr32(v + VMCB_NP_CONTROL) & 1);
    store<u64>(STATE_BASE + S_SVM_NCR3, pr64(v + VMCB_N_CR3));
  }
}

// ---- World switch ----
/** GDTR and IDTR (limit and base) from a VMCB-format area. */
function loadTables(v: u32): void {
  st32(S_GDTR_BASE, pr32(v + VMCB_GDTR_BASE));
  st32(S_GDTR_LIMIT, pr32(v + VMCB_GDTR_LIMIT) & 0xffff);
  st32(S_IDTR_BASE, pr32(v + VMCB_IDTR_BASE));
  st32(S_IDTR_LIMIT, pr32(v + VMCB_IDTR_LIMIT) & 0xffff);
}
/** Loads the guest state of VMRUN (15.5.1): ES, CS, SS, DS, GDTR, IDTR, EFER, CR0, CR2,
 *  CR3, CR4, DR6, DR7, RFLAGS, RIP, RSP, RAX, CPL and the interrupt shadow. */
function loadGuest(v: u32): void {
  const cr0 = pr32(v + VMCB_CR0) | CR0_ET;
  const rflags = pr32(v + VMCB_RFLAGS);
  const pe = (cr0 & CR0_PE) != 0, vm = (rflags & (1 << 17)) != 0;
  const flat = !pe || vm;
  loadSeg(ES, v + VMCB_ES_SELECTOR, flat);
  loadSeg(CS, v + VMCB_CS_SELECTOR, flat);
  loadSeg(SS, v + VMCB_SS_SELECTOR, flat);
  loadSeg(DS, v + VMCB_DS_SELECTOR, flat);
  loadTables(v);
  st32(S_EFER, pr32(v + VMCB_EFER));
  st32(S_CR0, cr0);
  st32(S_CR2, pr32(v + VMCB_CR2));
  st32(S_CR3, pr32(v + VMCB_CR3));
  st32(S_CR4, pr32(v + VMCB_CR4));
  st32(S_DR6, (pr32(v + VMCB_DR6) & 0xe00f) | 0xffff0ff0);
  st32(S_DR7, (pr32(v + VMCB_DR7) & 0xffff2bff) | 0x400);
  st32(S_ESP, pr32(v + VMCB_RSP));
  st32(S_EAX, pr32(v + VMCB_RAX));
  // CPL comes from the VMCB (table B-2); real mode is CPL 0 and virtual-8086 mode CPL 3.
  st32(S_CPL, !pe ? 0 : vm ? 3 : pr8(v + VMCB_CPL) & 3);
  st32(S_HALTED, 0);
  st32(S_INT_SHADOW, 0);
  setFlags(rflags);
  setIp(pr32(v + VMCB_RIP));
  segUpdateAll();
  updateCpl();
  updateDebug();
  // The interrupt shadow covers the first guest instruction: after a guest's VMRUN the run
  // loop turns shadowNext into it; the host's entries set it directly.
  if ((pr32(v + VMCB_INTERRUPT_SHADOW) & 1) != 0) {
    if (svmHostOwnedEntry) st32(S_INT_SHADOW, 1); else setShadowNext();
  }
}
/** Set while the host's svmHostEnter / hostEmulate loads a guest state. */
let svmHostOwnedEntry: bool = false;

/** The state #VMEXIT saves for the guest and VMRUN saves for the host alike (15.5.1,
 *  15.6): ES, CS, SS, DS, GDTR, IDTR, EFER, CR0, CR3, CR4, RFLAGS, RSP, RAX. */
function saveCommon(v: u32): void {
  saveSeg(ES, v + VMCB_ES_SELECTOR);
  saveSeg(CS, v + VMCB_CS_SELECTOR);
  saveSeg(SS, v + VMCB_SS_SELECTOR);
  saveSeg(DS, v + VMCB_DS_SELECTOR);
  pw64(v + VMCB_GDTR_BASE, <u64>ld32(S_GDTR_BASE)); pw32(v + VMCB_GDTR_LIMIT, ld32(S_GDTR_LIMIT));
  pw64(v + VMCB_IDTR_BASE, <u64>ld32(S_IDTR_BASE)); pw32(v + VMCB_IDTR_LIMIT, ld32(S_IDTR_LIMIT));
  pw64(v + VMCB_EFER, <u64>ld32(S_EFER));
  pw64(v + VMCB_CR0, <u64>ld32(S_CR0));
  pw64(v + VMCB_CR3, <u64>ld32(S_CR3));
  pw64(v + VMCB_CR4, <u64>ld32(S_CR4));
  pw64(v + VMCB_RFLAGS, <u64>getFlags());
  pw64(v + VMCB_RSP, <u64>ld32(S_ESP));
  pw64(v + VMCB_RAX, <u64>ld32(S_EAX));
}

/** Saves the guest state of #VMEXIT into the VMCB at `v` (15.6). EIP and EFLAGS are the
 *  engine's working copies. */
function saveGuest(v: u32): void {
  saveCommon(v);
  pw64(v + VMCB_CR2, <u64>ld32(S_CR2));
  pw64(v + VMCB_DR6, <u64>ld32(S_DR6));
  pw64(v + VMCB_DR7, <u64>ld32(S_DR7));
  pw64(v + VMCB_RIP, <u64>ip);
  pw8(v + VMCB_CPL, ld32(S_CPL));
  pw64(v + VMCB_INTERRUPT_SHADOW, <u64>(ld32(S_INT_SHADOW) != 0 ? 1 : 0));
  // V_TPR and V_IRQ are written back (15.21.1); the other bits stay as the VMM wrote them.
  const vi = pr32(v + VMCB_VINTR_CONTROL);
  pw32(v + VMCB_VINTR_CONTROL, (vi & ~0x10f) | (ld32(S_SVM_VINTR) & 0x10f));
}

/** Saves the host state of VMRUN into a VMCB-format area (see the top of this file). */
function saveHost(h: u32, nextRip: u32): void {
  saveCommon(h);
  pw64(h + VMCB_RIP, <u64>nextRip);
}

// The host state VMRUN saves is also kept here, as Bochs keeps it inside the CPU, and
// #VMEXIT reloads it from this copy: a guest that overwrites the host save area (the VMM
// did not protect it) cannot hand the host an arbitrary state. After a loadState (a new
// instance) the copy is gone and #VMEXIT reads the host save area itself.
const HOST_COPY: usize = memory.data(0x1000);
let hostCopyValid: bool = false;
/** Writes the host state to the copy and to the host save area at `h`. */
function saveHostBoth(h: u32, nextRip: u32): void {
  vmcbBindPage(h, <u32>HOST_COPY);
  saveHost(h, nextRip);
  vmcbForget();
  for (let o: u32 = 0x400; o < 0x600; o += 4) pw32(h + o, load<u32>(HOST_COPY + o));
  hostCopyValid = true;
}
/** Reloads the host state from the copy (or the host save area without one). */
function loadHostSaved(h: u32): void {
  if (hostCopyValid) vmcbBindPage(h, <u32>HOST_COPY);
  loadHost(h);
  vmcbForget();
  hostCopyValid = false;
}
/** The host's RFLAGS as VMRUN saved it (V_INTR_MASKING: its IF masks physical
 *  interrupts, 15.21.1). */
export function hostRflags(): u32 {
  if (hostCopyValid) return load<u32>(HOST_COPY + VMCB_RFLAGS);
  return pr32(<u32>ld64(S_VM_HSAVE_PA) + VMCB_RFLAGS);
}

/** Loads the host state at #VMEXIT (15.6): the saved ES, CS, SS, DS, GDTR, IDTR, EFER,
 *  CR0 (with PE forced to 1), CR3, CR4, RFLAGS (VM cleared), RIP, RSP, RAX; DR7 with every
 *  breakpoint disabled; CPL 0. */
function loadHost(h: u32): void {
  loadSeg(ES, h + VMCB_ES_SELECTOR, false);
  loadSeg(CS, h + VMCB_CS_SELECTOR, false);
  loadSeg(SS, h + VMCB_SS_SELECTOR, false);
  loadSeg(DS, h + VMCB_DS_SELECTOR, false);
  loadTables(h);
  st32(S_EFER, pr32(h + VMCB_EFER) & EFER_SVME);
  let cr0 = pr32(h + VMCB_CR0) | CR0_PE | CR0_ET;
  if ((cr0 & 0x60000000) == 0x20000000) cr0 &= ~0x20000000;
  st32(S_CR0, cr0);
  st32(S_CR3, pr32(h + VMCB_CR3));
  st32(S_CR4, pr32(h + VMCB_CR4) & CR4_VALID);
  st32(S_DR7, 0x400);
  st32(S_ESP, pr32(h + VMCB_RSP));
  st32(S_EAX, pr32(h + VMCB_RAX));
  st32(S_CPL, 0);
  st32(S_HALTED, 0);
  st32(S_INT_SHADOW, 0);
  setFlags(pr32(h + VMCB_RFLAGS) & ~(<u32>1 << 17));
  setIp(pr32(h + VMCB_RIP));
  segUpdateAll();
  updateCpl();
  updateDebug();
}

/** TLB_CONTROL at VMRUN (15.16.1): 1 flushes the entries of every ASID, 3 and 7 those of
 *  the guest's ASID (7: its non-global ones; all of them here, a superset). Then the world
 *  switch from the host's ASID 0 to the guest's (mem/tags.ts: with tags off, a flush). */
function tlbControl(v: u32, asid: u32): void {
  const tc = pr8(v + VMCB_TLB_CONTROL);
  if (tc == VMCB_TLB_CONTROL_FLUSH_ALL_ASID) {
    tagDrop(0, true); tlbFlushAll(false); nestedFlush();
  } else if (tc == VMCB_TLB_CONTROL_FLUSH_ASID || tc == VMCB_TLB_CONTROL_FLUSH_ASID_LOCAL) {
    tagDrop(asid, false); nestedFlush();
  }
  tlbWorldSwitch(0, asid);
}

/** Selects the nested tables of guest mode (15.25.3): the legacy 2-level format for a
 *  guest's own VMM (this CPU's host mode is 32-bit without PAE; 4-MB pages with its
 *  CR4.PSE), the long-mode 4-level format for the TypeScript VMM (a 64-bit host). */
function nestedSetup(hostOwned: bool, hostCr4: u32): void {
  if (ld32(S_SVM_NP) == 0) { setNested(NESTED_OFF, 0, false); return; }
  setNptPse((hostCr4 & CR4_PSE) != 0);
  setNested(hostOwned ? NESTED_NPT64 : NESTED_NPT32, <u32>ld64(S_SVM_NCR3) & 0xfffff000, false,
    hostOwned);
}

/** The state block was replaced while in guest mode (loadState): the nested tables again
 *  (the host's CR4 from the host save area). */
export function svmResync(): void {
  const host = svmHostOwned();
  nestedSetup(host, host ? 0 : pr32(<u32>ld64(S_VM_HSAVE_PA) + VMCB_CR4));
  nestedFlush();
  hostCopyValid = false;
}

/**
 * Enters guest mode with the VMCB at physical `v` (VMRUN after its instruction checks, or
 * the host's svmHostEnter). Returns 0, or the rule of 15.5.1 the VMCB broke (nothing of the
 * CPU changed then but the cached controls).
 */
export function svmEnter(v: u32, hostOwned: bool): u32 {
  vmcbForget();
  loadControls(v);
  const why = checkVmcb(v);
  invalidWhy = why;
  if (why != 0) {
    store<u64>(STATE_BASE + S_SVM_CACHED, 0);
    return why;
  }
  store<u64>(STATE_BASE + S_SVM_CACHED, <u64>v | 1);
  store<u64>(STATE_BASE + S_SVM_VMCB, <u64>v);
  const hostCr4 = ld32(S_CR4);
  loadGuest(v);
  tlbControl(v, ld32(S_SVM_ASID));
  nestedSetup(hostOwned, hostCr4);
  store<u64>(STATE_BASE + S_CNT_VMENTRY, ld64(S_CNT_VMENTRY) + 1);
  st32(S_GIF_CLEAR, 0); // VMRUN sets GIF (15.17)
  injEvent = pr32(v + VMCB_EVENTINJ);
  injError = pr32(v + VMCB_EVENTINJ_ERROR_CODE);
  exitIntInfo = 0;
  setSvmGuest(true, hostOwned);
  needAttention();
  return 0;
}

/** Writes EXITCODE -1, VMEXIT_INVALID, into the VMCB at `v` (15.5.1). */
export function writeInvalid(v: u32): void {
  pw64(v + VMCB_EXITCODE, <u64>SVM_EXIT_ERR);
}

/**
 * #VMEXIT (15.6) with the exit recorded by recordExit: saves the guest state and the exit
 * information into the VMCB, leaves guest mode and, for a guest's own VMRUN, clears GIF and
 * loads the host state from the host save area. Returns true when the exit goes to the
 * host (svmHostEnter's caller), false when the guest's VMM continues.
 */
export function svmWorldExit(): bool {
  const v = vmcbAddr();
  vmcbForget();
  saveGuest(v);
  pw64(v + VMCB_EXITCODE, <u64>exitCode);
  pw64(v + VMCB_EXITINFO1, exitInfo1);
  pw64(v + VMCB_EXITINFO2, exitInfo2);
  pw32(v + VMCB_EXITINTINFO, <u32>exitIntInfo);
  pw32(v + VMCB_EXITINTINFO_ERROR_CODE, <u32>(exitIntInfo >> 32));
  const host = svmHostOwned();
  if (host || nripsReported()) pw64(v + VMCB_NRIP, exitNrip >= 0 ? <u64>exitNrip : 0);
  // The injected event was taken (or is reported in EXITINTINFO): EVENTINJ.V is cleared.
  pw32(v + VMCB_EVENTINJ, pr32(v + VMCB_EVENTINJ) & 0x7fffffff);
  clearInjection();
  exitIntInfo = 0;
  setSvmGuest(false, false);
  setNested(NESTED_OFF, 0, false);
  if (host) tlbExitToHost(ld32(S_SVM_ASID)); else tlbWorldSwitch(ld32(S_SVM_ASID), 0);
  needAttention();
  if (host) return true;
  st32(S_GIF_CLEAR, 1);
  loadHostSaved(<u32>ld64(S_VM_HSAVE_PA));
  return false;
}

// ---- The instructions (0F 01 D8-DF; APM vol. 3, their pages) ----
/** The common first checks of VMRUN, VMLOAD, VMSAVE, CLGI, STGI, INVLPGA: #UD without
 *  EFER.SVME or outside protected mode (real and virtual-8086 mode), #GP(0) unless CPL 0. */
function svmChecks(): bool {
  if (!svme() || !protectedMode() || v86Mode()) { raiseUD(); return false; }
  if (ld32(S_CPL) != 0) { raiseGP(0); return false; }
  return true;
}
/** rAX as the instruction's address size gives it (AX with a 16-bit address size). */
@inline function rax(): u32 { return asz == 16 ? reg32(EAX) & 0xffff : reg32(EAX); }
/** The physical-address operand in rAX: 4 KB aligned (#GP(0) otherwise). */
function raxPage(): i64 {
  const a = rax();
  if ((a & 0xfff) != 0) { raiseGP(0); return -1; }
  return <i64>a;
}

/** In guest mode, the instruction's intercept (assembly/svm/intercepts.ts): true when a
 *  #VMEXIT was raised. */
@inline function svmInsnIntercept(code: i64): bool { return svmSvmInsn(<u32>code); }

/** 0F 01 with mod = 11b, reg 3 (ModRM D8-DF): the SVM instructions by rm. */
export function group7Svm(rm: u32): void {
  if (!svmEnabled()) { raiseUD(); return; }
  switch (rm) {
    case 0: vmrun(); return;
    case 1: vmmcall(); return;
    case 2: vmload(); return;
    case 3: vmsave(); return;
    case 4: stgi(); return;
    case 5: clgi(); return;
    case 6: skinit(); return;
    default: invlpga(); return;
  }
}

/** VMRUN rAX (15.5). In guest mode it is always intercepted (VMRUN requires the intercept). */
function vmrun(): void {
  if (!svmChecks()) return;
  // rAX is checked before the intercept (the instruction's pseudocode, APM vol. 3).
  const v = raxPage(); if (v < 0) return;
  if (inSvmGuest() && svmInsnIntercept(SVM_EXIT_VMRUN)) return;
  saveHostBoth(<u32>ld64(S_VM_HSAVE_PA), ip);
  const why = svmEnter(<u32>v, false);
  if (why != 0) {
    // VMEXIT_INVALID: back to the host at once, GIF clear, host state reloaded.
    writeInvalid(<u32>v);
    st32(S_GIF_CLEAR, 1);
    loadHostSaved(<u32>ld64(S_VM_HSAVE_PA));
    needAttention();
  }
}

/** VMMCALL (APM vol. 3): #VMEXIT when intercepted, #UD otherwise. */
function vmmcall(): void {
  if (inSvmGuest() && svmInsnIntercept(SVM_EXIT_VMMCALL)) return;
  raiseUD();
}

/** VMLOAD rAX (15.5.2): FS, GS, TR, LDTR with their hidden state, SYSENTER_CS/ESP/EIP.
 *  (KernelGsBase, STAR, LSTAR, CSTAR, SFMASK do not exist in this core: not loaded.) */
function vmload(): void {
  if (!svmChecks()) return;
  // rAX is checked before the intercept (the instruction's pseudocode, APM vol. 3).
  const r = raxPage(); if (r < 0) return;
  if (inSvmGuest() && svmInsnIntercept(SVM_EXIT_VMLOAD)) return;
  const v = <u32>r;
  vmcbForget();
  loadSeg(FS, v + VMCB_FS_SELECTOR, false);
  loadSeg(GS, v + VMCB_GS_SELECTOR, false);
  loadSeg(TR, v + VMCB_TR_SELECTOR, false);
  loadSeg(LDTR, v + VMCB_LDTR_SELECTOR, false);
  st32(S_SYSENTER_CS, pr32(v + VMCB_SYSENTER_CS) & 0xffff);
  st32(S_SYSENTER_ESP, pr32(v + VMCB_SYSENTER_ESP));
  st32(S_SYSENTER_EIP, pr32(v + VMCB_SYSENTER_EIP));
  segUpdateAll();
}

/** VMSAVE rAX (15.5.2): the state VMLOAD loads, stored. */
function vmsave(): void {
  if (!svmChecks()) return;
  // rAX is checked before the intercept (the instruction's pseudocode, APM vol. 3).
  const r = raxPage(); if (r < 0) return;
  if (inSvmGuest() && svmInsnIntercept(SVM_EXIT_VMSAVE)) return;
  const v = <u32>r;
  vmcbForget();
  saveSeg(FS, v + VMCB_FS_SELECTOR);
  saveSeg(GS, v + VMCB_GS_SELECTOR);
  saveSeg(TR, v + VMCB_TR_SELECTOR);
  saveSeg(LDTR, v + VMCB_LDTR_SELECTOR);
  pw64(v + VMCB_SYSENTER_CS, <u64>ld32(S_SYSENTER_CS));
  pw64(v + VMCB_SYSENTER_ESP, <u64>ld32(S_SYSENTER_ESP));
  pw64(v + VMCB_SYSENTER_EIP, <u64>ld32(S_SYSENTER_EIP));
}

/** STGI (15.17): sets GIF; held interrupts may now be taken. */
function stgi(): void {
  if (!svmChecks()) return;
  if (inSvmGuest() && svmInsnIntercept(SVM_EXIT_STGI)) return;
  st32(S_GIF_CLEAR, 0);
  needAttention();
}
/** CLGI (15.17): clears GIF. */
function clgi(): void {
  if (!svmChecks()) return;
  if (inSvmGuest() && svmInsnIntercept(SVM_EXIT_CLGI)) return;
  st32(S_GIF_CLEAR, 1);
}
/** SKINIT: #UD (CPUID 8000_0001h ECX.SKINIT is clear); the intercept has priority only
 *  over what the instruction would do, so a guest sees the #UD too. */
function skinit(): void {
  raiseUD();
  void SVM_EXIT_SKINIT;
}
/** INVLPGA rAX, ECX (15.16.3): drops the TLB entries of the page at virtual address rAX in
 *  ASID ECX: in the live TLB for the current ASID; for another ASID, every entry kept for
 *  it (mem/tags.ts; a superset of the one page). */
function invlpga(): void {
  if (!svmChecks()) return;
  if (inSvmGuest() && svmInsnIntercept(SVM_EXIT_INVLPGA)) return;
  const asid = reg32(ECX);
  const cur: u32 = inSvmGuest() ? ld32(S_SVM_ASID) : 0;
  if (asid == cur) tlbFlushPage(rax()); else tagDrop(asid, false);
}

/** TSC_OFFSET of guest mode (table B-1; APM vol. 2, 15.30.5): added to what RDTSC reads. */
export function svmTscOffset(): u64 { return ld64(S_SVM_TSC_OFFSET); }

// ---- The host-owned path (the TypeScript VMM, issue 9 contract) ----
/**
 * VMRUN from the TypeScript VMM with the VMCB at host-physical `v` (in VMM RAM): no host
 * state is saved (the VMM is the host), nested paging takes the long-mode 4-level format
 * (the VMM plays a 64-bit host). Returns 0 (call run() until EXIT_VMEXIT), 0x80000000 when
 * the VMCB is invalid (EXITCODE VMEXIT_INVALID written), all ones when misused (already in
 * a guest, a VMCB not 4 KB aligned).
 */
export function svmHostEnterAt(v: u32): u32 {
  if (inSvmGuest() || (v & 0xfff) != 0) return 0xffffffff;
  enterWorking();
  svmHostOwnedEntry = true;
  const why = svmEnter(v, true);
  svmHostOwnedEntry = false;
  if (why != 0) { writeInvalid(v); return 0x80000000; }
  leaveWorking();
  return 0;
}

/** The state block's EIP and EFLAGS into the engine's working copies and back: the host
 *  API runs while the core is stopped (the state block is then authoritative). */
function enterWorking(): void {
  setIp(ld32(S_EIP));
  setFlags(ld32(S_EFLAGS));
}
function leaveWorking(): void {
  st32(S_EIP, ip);
  st32(S_EFLAGS, getFlags());
}

/** True when the VMM's last entry was an SVM one (hostEmulate then works on its VMCB). */
export function svmHostVmcb(): u32 { return vmcbAddr(); }

/** Loads the guest state of the VMCB at `v` outside guest mode, for hostEmulate. */
export function svmEmulateEnter(v: u32): void {
  vmcbForget();
  enterWorking();
  svmHostOwnedEntry = true;
  loadGuest(v);
  svmHostOwnedEntry = false;
  leaveWorking();
}
/** Saves the state back into the VMCB's save area after hostEmulate. */
export function svmEmulateLeave(v: u32): void {
  vmcbForget();
  enterWorking();
  saveGuest(v);
}

/** RDTSCP (APM vol. 3): #GP(0) at CPL > 0 with CR4.TSD, then the intercept (table B-1,
 *  vector 4 bit 7), then EDX:EAX = the TSC (with TSC_OFFSET in guest mode) and ECX =
 *  TSC_AUX, which this core does not keep (0). */
export function rdtscp(): void {
  if ((ld32(S_CR4) & CR4_TSD) != 0 && (ld32(S_CPL) != 0 || v86Mode()) && protectedMode()) {
    raiseGP(0); return;
  }
  if (inSvmGuest() && (ld32(S_SVM_ICPT2) & (1 << 7)) != 0) {
    recordExit(SVM_EXIT_RDTSCP, 0, 0, <i64>ip);
    raiseVmExit(false);
    return;
  }
  let t = load<u64>(STATE_BASE + S_TSC) + tscPending();
  if (tscExitOn) { // simulated time: the host's answer (assembly/cpu/tsc.ts)
    if (tscNeedsHost()) return;
    t = tscTaken;
  }
  if (inSvmGuest()) t += svmTscOffset();
  setReg32(EAX, <u32>t); setReg32(EDX, <u32>(t >> 32)); setReg32(ECX, 0);
}
