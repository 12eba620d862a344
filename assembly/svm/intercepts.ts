// SVM guest mode (AMD APM vol. 2, chapter 15): the SVM side of the intercept points of the
// shared non-root layer (assembly/vmm/intercept.ts dispatches here in SVM guest mode; each
// returns true after raising a #VMEXIT, false when the guest goes on), the #VMEXIT itself
// (svmExitPerform), the instruction-boundary checks (svmBoundary: EVENTINJ, the INTR and
// NMI intercepts, virtual interrupts) and the nested-paging walk of assembly/mem/nested.ts.
// Intercept vectors and exit codes: table B-1 and appendix C; the information of each exit
// (EXITINFO1, EXITINFO2, NRIP) by the sections cited beside it. This CPU reports no decode
// assists (CPUID 8000_000Ah EDX bit 7 clear), so the CR, DR, INVLPG and INTn exits carry
// EXITINFO1 = 0 as on such a CPU (15.33 lists what a CPU with them would add).
import {
  STATE_BASE, S_SVM_ICPT_CR, S_SVM_ICPT_DR, S_SVM_ICPT_EXC, S_SVM_ICPT1, S_SVM_ICPT2,
  S_SVM_IOPM, S_SVM_MSRPM, S_CR0, S_CR2, S_SVM_VINTR, S_SVM_VVEC, S_INT_SHADOW,
  S_INTR_PENDING, INTR_RETURNED, S_NMI_PENDING, S_NMI_BLOCKED, S_GIF_CLEAR, S_VM_HSAVE_PA,
  S_CNT_NWALK,
  S_CNT_NWALK_REFS, EXIT_VMEXIT, S_ECX,
} from '../generated/layout';
import {
  SVM_EXIT_READ_CR0, SVM_EXIT_WRITE_CR0, SVM_EXIT_READ_DR0, SVM_EXIT_WRITE_DR0, SVM_EXIT_EXCP0,
  SVM_EXIT_INTR, SVM_EXIT_NMI, SVM_EXIT_VINTR, SVM_EXIT_CR0_SEL_WRITE, SVM_EXIT_IDTR_READ,
  SVM_EXIT_RDTSC, SVM_EXIT_RDPMC, SVM_EXIT_PUSHF, SVM_EXIT_POPF, SVM_EXIT_CPUID,
  SVM_EXIT_IRET, SVM_EXIT_SWINT, SVM_EXIT_INVD, SVM_EXIT_PAUSE, SVM_EXIT_HLT,
  SVM_EXIT_INVLPG, SVM_EXIT_IOIO, SVM_EXIT_MSR, SVM_EXIT_TASK_SWITCH, SVM_EXIT_SHUTDOWN,
  SVM_EXIT_ICEBP, SVM_EXIT_WBINVD, SVM_EXIT_MONITOR, SVM_EXIT_MWAIT, SVM_EXIT_NPF,
  SVM_EXIT_RSM, VMCB_EVENT_TYPE_NMI, VMCB_EVENT_TYPE_EXCEPTION, VMCB_EVENT_TYPE_SOFT_INT,
  VMCB_RFLAGS,
} from '../generated/svm';
import { ip } from '../cpu/access';
import { flags, IF } from '../cpu/flags';
import { raiseVmExit, clearFault } from '../cpu/fault';
import { deliverForVmm } from '../cpu/run';
import {
  EV_EXTERNAL, EV_NMI, EV_HW_EXCEPTION, EV_SOFT_INT,
} from '../cpu/system/interrupts';
import { TASK_JMP, TASK_IRET } from '../cpu/system/task';
import {
  NO_EXIT, GUEST_SVM, countExit, vectoringFirst, vectoringFirstCode, clearVectoring, injecting,
  setInjecting, setGuestAttn,
} from '../vmm/guest';
import { ACC_WRITE, ACC_EXEC } from '../mem/nested';
import { pfLinear } from '../mem/tlb';
import {
  recordExit, exitCode, setExitIntInfo, svmWorldExit, injEvent, injError, clearInjection,
  svmResync, hostRflags,
} from './svm';
import { pr8, pr32 } from './vmcb';
import { nptWalk, nptHpa, nptFault as nptCode, nptRefs, NPF_FINAL, NPF_TABLE, NPF_RW } from
  './npt';

// Vector 3 (MISC1, offset 0Ch) and vector 4 (MISC2, offset 10h) bits, table B-1.
export const I1_INTR: u32 = 1 << 0;
export const I1_NMI: u32 = 1 << 1;
export const I1_VINTR: u32 = 1 << 4;
export const I1_CR0_SEL: u32 = 1 << 5;
export const I1_IDTR_READ: u32 = 1 << 6; // then GDTR, LDTR, TR reads (7-9), writes (10-13)
export const I1_RDTSC: u32 = 1 << 14;
export const I1_RDPMC: u32 = 1 << 15;
export const I1_PUSHF: u32 = 1 << 16;
export const I1_POPF: u32 = 1 << 17;
export const I1_CPUID: u32 = 1 << 18;
export const I1_RSM: u32 = 1 << 19;
export const I1_IRET: u32 = 1 << 20;
export const I1_INTN: u32 = 1 << 21;
export const I1_INVD: u32 = 1 << 22;
export const I1_PAUSE: u32 = 1 << 23;
export const I1_HLT: u32 = 1 << 24;
export const I1_INVLPG: u32 = 1 << 25;
export const I1_INVLPGA: u32 = 1 << 26;
export const I1_IOIO: u32 = 1 << 27;
export const I1_MSR: u32 = 1 << 28;
export const I1_TASK: u32 = 1 << 29;
export const I1_SHUTDOWN: u32 = 1 << 31;
export const I2_ICEBP: u32 = 1 << 8;
export const I2_WBINVD: u32 = 1 << 9;
export const I2_MONITOR: u32 = 1 << 10;
export const I2_MWAIT: u32 = 1 << 11;

@inline function ld(off: u32): u32 { return load<u32>(STATE_BASE + off); }
@inline function on1(bit: u32): bool { return (ld(S_SVM_ICPT1) & bit) != 0; }
@inline function on2(bit: u32): bool { return (ld(S_SVM_ICPT2) & bit) != 0; }

/** A fault-like exit of an instruction intercept (15.9): RIP is the instruction's, NRIP
 *  the next one's (15.7.1). */
function insnExit(code: i64, info1: u64, info2: u64): bool {
  recordExit(code, info1, info2, <i64>ip);
  raiseVmExit(false);
  return true;
}
/** An exit with NRIP = 0 (not an instruction intercept). */
function eventExit(code: i64, info1: u64, info2: u64): bool {
  recordExit(code, info1, info2, -1);
  raiseVmExit(false);
  return true;
}

// ---- Instruction intercepts (15.9 and the sections named) ----
export function svmCpuid(): bool { return on1(I1_CPUID) && insnExit(SVM_EXIT_CPUID, 0, 0); }
export function svmHlt(): bool { return on1(I1_HLT) && insnExit(SVM_EXIT_HLT, 0, 0); }
export function svmInvlpg(lin: u32): bool {
  return on1(I1_INVLPG) && insnExit(SVM_EXIT_INVLPG, 0, 0);
}
export function svmRdtsc(): bool { return on1(I1_RDTSC) && insnExit(SVM_EXIT_RDTSC, 0, 0); }
export function svmRdpmc(): bool { return on1(I1_RDPMC) && insnExit(SVM_EXIT_RDPMC, 0, 0); }
export function svmInvd(): bool { return on1(I1_INVD) && insnExit(SVM_EXIT_INVD, 0, 0); }
export function svmWbinvd(): bool { return on2(I2_WBINVD) && insnExit(SVM_EXIT_WBINVD, 0, 0); }
/** PAUSE (15.14.4): without a PAUSE filter (count 0 is all this CPU has) every PAUSE
 *  exits. */
export function svmPause(): bool { return on1(I1_PAUSE) && insnExit(SVM_EXIT_PAUSE, 0, 0); }
export function svmMonitor(): bool {
  return on2(I2_MONITOR) && insnExit(SVM_EXIT_MONITOR, 0, 0);
}
export function svmMwait(): bool { return on2(I2_MWAIT) && insnExit(SVM_EXIT_MWAIT, 0, 0); }
export function svmRsm(): bool { return on1(I1_RSM) && insnExit(SVM_EXIT_RSM, 0, 0); }
export function svmPushf(): bool { return on1(I1_PUSHF) && insnExit(SVM_EXIT_PUSHF, 0, 0); }
export function svmPopf(): bool { return on1(I1_POPF) && insnExit(SVM_EXIT_POPF, 0, 0); }
/** IRET (15.9): checked before the instruction does anything. */
export function svmIret(): bool { return on1(I1_IRET) && insnExit(SVM_EXIT_IRET, 0, 0); }
/** INT n (kind 4: the INTn intercept), INT1/ICEBP (kind 5: the ICEBP intercept), INT3 and
 *  INTO (kind 6: exceptions 3 and 4, through the exception intercepts with NRIP, 15.12). */
export function svmSoftInt(vector: u32, kind: u32): bool {
  if (kind == 5) return on2(I2_ICEBP) && insnExit(SVM_EXIT_ICEBP, 0, 0);
  if (kind == 6) {
    return vector < 32 && ((ld(S_SVM_ICPT_EXC) >> vector) & 1) != 0 &&
      insnExit(SVM_EXIT_EXCP0 + <i64>vector, 0, 0);
  }
  return on1(I1_INTN) && insnExit(SVM_EXIT_SWINT, 0, 0);
}
/** VMRUN..SKINIT (exit codes 80h-86h: MISC2 bits 0-6), INVLPGA (7Ah: MISC1 bit 26). */
export function svmSvmInsn(code: u32): bool {
  if (code == 0x7a) return on1(I1_INVLPGA) && insnExit(<i64>code, 0, 0);
  const bit = code - 0x80;
  return bit < 7 && on2(<u32>1 << bit) && insnExit(<i64>code, 0, 0);
}
/** VMCALL is #UD on an AMD CPU (no exit); VMMCALL is svmSvmInsn(81h). */
export function svmVmcall(): bool { return false; }
/** The VMX instructions are #UD on an AMD CPU: no exit. */
export function svmVmxInsn(reason: u32): bool { return false; }

/** MOV from CRn. */
export function svmCrRead(cr: u32, gpr: u32): bool {
  return cr < 16 && ((ld(S_SVM_ICPT_CR) >> cr) & 1) != 0 &&
    insnExit(SVM_EXIT_READ_CR0 + <i64>cr, 0, 0);
}
/** SMSW: a read of CR0. */
export function svmSmsw(): bool { return svmCrRead(0, 0); }
/** A write of `value` to CRn: the CR write intercept first, then for CR0 the selective
 *  write intercept, which fires when a bit other than TS and MP changes (15.8.1). */
function crWrite(cr: u32, value: u32): bool {
  if (cr < 16 && ((ld(S_SVM_ICPT_CR) >> (16 + cr)) & 1) != 0) {
    return insnExit(SVM_EXIT_WRITE_CR0 + <i64>cr, 0, 0);
  }
  if (cr == 0 && on1(I1_CR0_SEL) && ((ld(S_CR0) ^ value) & ~<u32>0xa) != 0) {
    return insnExit(SVM_EXIT_CR0_SEL_WRITE, 0, 0);
  }
  return false;
}
export function svmCrWrite(cr: u32, gpr: u32, value: u32): bool { return crWrite(cr, value); }
/** CLTS changes only TS: the CR0 write intercept catches it, the selective one never. */
export function svmClts(): bool { return crWrite(0, ld(S_CR0) & ~<u32>8); }
/** LMSW loads CR0 bits 3:0 and cannot clear PE (SDM vol. 2A, LMSW; APM 15.8.1). */
export function svmLmsw(value: u32, lin: u32, isMem: bool): bool {
  const old = ld(S_CR0);
  return crWrite(0, (old & ~<u32>0xe) | (value & 0xf) | (old & 1));
}
/** MOV to/from DRn. */
export function svmDr(dr: u32, gpr: u32, write: bool): bool {
  const bit = dr + (write ? 16 : 0);
  return dr < 16 && ((ld(S_SVM_ICPT_DR) >> bit) & 1) != 0 &&
    insnExit((write ? SVM_EXIT_WRITE_DR0 : SVM_EXIT_READ_DR0) + <i64>dr, 0, 0);
}
/** SGDT 0, SIDT 1, LGDT 2, LIDT 3, SLDT 4, STR 5, LLDT 6, LTR 7 (the shared numbering) to
 *  the order of the exit codes 66h-6Dh: IDTR, GDTR, LDTR, TR reads, then writes. */
const DT_ORDER: StaticArray<u32> = [1, 0, 5, 4, 2, 3, 6, 7];
export function svmDescTable(which: u32): bool {
  if (which >= 8) return false;
  const k = unchecked(DT_ORDER[which]);
  return on1(I1_IDTR_READ << k) && insnExit(SVM_EXIT_IDTR_READ + <i64>k, 0, 0);
}

/**
 * IN, OUT, INS, OUTS with the IOPM (15.10): intercepted when any of the `size` bits from
 * bit `port` of the 12-KB map is set (the map's third page holds the bits past port FFFFh
 * of an access that straddles it). EXITINFO1 (15.10.2, figure 15-2): bit 0 TYPE (1 = IN),
 * bit 2 STR, bit 3 REP, bits 6:4 SZ8/SZ16/SZ32, bits 9:7 A16/A32/A64 (the address size,
 * for every form: QEMU 7.2 leaves them 0), bits 12:10 the segment (decode assists only:
 * 0), bits 31:16 the port; EXITINFO2 the next RIP.
 */
export function svmIo(port: u32, size: u32, isIn: bool, isString: bool, isRep: bool,
  addrSize: u32, imm: bool): bool {
  if (!on1(I1_IOIO)) return false;
  const map = ld(S_SVM_IOPM);
  let hit = false;
  for (let p = port; p < port + size; p++) {
    if (((pr8(map + (p >> 3)) >> (p & 7)) & 1) != 0) { hit = true; break; }
  }
  if (!hit) return false;
  const sz: u32 = size == 1 ? 0x10 : size == 2 ? 0x20 : 0x40;
  const a: u32 = addrSize == 16 ? 0x80 : 0x100;
  const info = (port << 16) | a | sz | (isRep ? 8 : 0) | (isString ? 4 : 0) | (isIn ? 1 : 0);
  return insnExit(SVM_EXIT_IOIO, <u64>info, <u64>ip);
}

/**
 * RDMSR/WRMSR with the MSRPM (15.11): two bits per MSR (read, then write) for MSRs
 * 0000_0000h-0000_1FFFh (bytes 0-7FFh), C000_0000h-C000_1FFFh (800h-FFFh) and
 * C001_0000h-C001_1FFFh (1000h-17FFh); any other MSR is always intercepted. EXITINFO1 is
 * 0 for RDMSR, 1 for WRMSR.
 */
export function svmMsr(write: bool): bool {
  if (!on1(I1_MSR)) return false;
  const index = ld(S_ECX);
  let base: i32 = -1;
  if (index < 0x2000) base = 0;
  else if (index - 0xc0000000 < 0x2000) base = 0x800;
  else if (index - 0xc0010000 < 0x2000) base = 0x1000;
  let hit = true;
  if (base >= 0) {
    const bit = ((index & 0x1fff) << 1) + (write ? 1 : 0);
    hit = ((pr8(ld(S_SVM_MSRPM) + <u32>base + (bit >> 3)) >> (bit & 7)) & 1) != 0;
  }
  return hit && insnExit(SVM_EXIT_MSR, write ? 1 : 0, 0);
}

/** Task switch (15.14): EXITINFO1 the new TSS selector; EXITINFO2 bit 36 by IRET, bit 38
 *  by a far JMP (bit 44 with an error code in 31:0 is not reported: no such source here). */
export function svmTaskSwitch(selector: u32, source: u32): bool {
  if (!on1(I1_TASK)) return false;
  let info2: u64 = 0;
  if (source == TASK_IRET) info2 |= <u64>1 << 36;
  if (source == TASK_JMP) info2 |= <u64>1 << 38;
  return eventExit(SVM_EXIT_TASK_SWITCH, <u64>selector, info2);
}

/** Exception `vector` about to be delivered (15.12): EXITINFO1 the error code when the
 *  exception has one, EXITINFO2 the faulting address of a #PF (CR2). An injected event is
 *  not intercepted (15.20); NMIs have their own intercept (svmBoundary). */
export function svmException(vector: u32, code: u32, hasCode: bool, type: u32): bool {
  if (injecting || type == EV_NMI) return false;
  if (vector >= 32 || ((ld(S_SVM_ICPT_EXC) >> vector) & 1) == 0) {
    // A #PF the guest takes writes CR2 as it is delivered (the walk left it alone in guest
    // mode, for the intercepted case below).
    if (vector == 14) store<u32>(STATE_BASE + S_CR2, pfLinear);
    return false;
  }
  // An intercepted #PF leaves CR2 alone (the linear address is in pfLinear).
  const info2: u64 = vector == 14 ? <u64>pfLinear : 0;
  return eventExit(SVM_EXIT_EXCP0 + <i64>vector, hasCode ? <u64>code : 0, info2);
}

/** A triple fault in the guest: #VMEXIT(SHUTDOWN) when intercepted. */
export function svmShutdown(): bool {
  return on1(I1_SHUTDOWN) && eventExit(SVM_EXIT_SHUTDOWN, 0, 0);
}

// ---- #VMEXIT ----
/** The exit counter index of an exit code (scripts/layout.mjs SVM_EXIT_SLOTS). */
function slotOf(code: i64): u32 {
  if (code >= 0 && code < 0xa0) return <u32>code;
  if (code == SVM_EXIT_NPF) return 0xa0;
  if (code == -1) return 0xa1;
  return 0xa2;
}

/** EXITINTINFO (15.7.2) of the event whose delivery was under way, from the shared layer's
 *  record (the VMX interruption-information format): SVM types 0 INTR, 2 NMI, 3 exception
 *  (VMX 3, 5 and 6: hardware and software exceptions), 4 software interrupt. The event is
 *  the first of the chain: an exception during its delivery, the #DF and the shutdown that
 *  may follow report it (as QEMU's svm-events reference records; Bochs has no SHUTDOWN
 *  intercept). */
function intInfo(): u64 {
  const v = vectoringFirst;
  if ((v & 0x80000000) == 0) return 0;
  let t = (v >> 8) & 7;
  if (t == 5 || t == 6) t = VMCB_EVENT_TYPE_EXCEPTION;
  const ev = (v & 0x800) != 0;
  let r: u64 = <u64>((v & 0xff) | (t << 8) | (ev ? 0x800 : 0) | 0x80000000);
  if (ev) r |= <u64>vectoringFirstCode << 32;
  return r;
}

/** After raiseVmExit() in SVM guest mode: the #VMEXIT of 15.6. Returns EXIT_VMEXIT when it
 *  goes to the TypeScript VMM, NO_EXIT when the guest's own VMM goes on. */
export function svmExitPerform(): u32 {
  setExitIntInfo(intInfo());
  clearVectoring();
  countExit(GUEST_SVM, slotOf(exitCode));
  setGuestAttn(false);
  return svmWorldExit() ? EXIT_VMEXIT : NO_EXIT;
}

// ---- Instruction boundaries (15.13, 15.17, 15.20, 15.21) ----
/** The core's event type of an EVENTINJ type. */
function evType(t: u32): u32 {
  if (t == VMCB_EVENT_TYPE_NMI) return EV_NMI;
  if (t == VMCB_EVENT_TYPE_EXCEPTION) return EV_HW_EXCEPTION;
  if (t == VMCB_EVENT_TYPE_SOFT_INT) return EV_SOFT_INT;
  return EV_EXTERNAL;
}

/** The physical-interrupt mask of guest mode (15.21.1): with V_INTR_MASKING the host's
 *  EFLAGS.IF (saved by VMRUN), else the guest's. */
function physIf(): bool {
  if ((ld(S_SVM_VINTR) & (1 << 24)) == 0) return (flags & IF) != 0;
  return (hostRflags() & IF) != 0;
}

/**
 * At an instruction boundary in guest mode, before the run loop takes events: the event of
 * EVENTINJ (15.20: delivered before the first guest instruction, through the guest's IDT,
 * not subject to intercepts); a physical INTR or NMI with its intercept set exits
 * (15.13.1, 15.13.2: the event stays pending for the host); then a virtual interrupt
 * (15.21.4: V_IRQ with the guest's EFLAGS.IF set, no interrupt shadow and V_INTR_PRIO above
 * V_TPR unless V_IGN_TPR) exits when VINTR is intercepted (V_IRQ stays set) or is
 * delivered through the guest's IDT with V_INTR_VECTOR, clearing V_IRQ.
 */
export function svmBoundary(): u32 {
  if ((injEvent & 0x80000000) != 0) {
    const e = injEvent, c = injError;
    clearInjection();
    setInjecting(true);
    const r = deliverForVmm(e & 0xff, evType((e >> 8) & 7), c, (e & 0x800) != 0);
    setInjecting(false);
    return r;
  }
  if (ld(S_GIF_CLEAR) != 0) return NO_EXIT;
  const shadow = ld(S_INT_SHADOW) != 0;
  if (ld(S_NMI_PENDING) != 0 && ld(S_NMI_BLOCKED) == 0 && (ld(S_SVM_ICPT1) & I1_NMI) != 0) {
    eventExit(SVM_EXIT_NMI, 0, 0);
    return takeExit();
  }
  const vi = ld(S_SVM_VINTR);
  const intr = (ld(S_INTR_PENDING) & 0x100) != 0;
  setGuestAttn(intr && (vi & (1 << 24)) != 0 && (ld(S_SVM_ICPT1) & I1_INTR) != 0);
  if (intr && (ld(S_SVM_ICPT1) & I1_INTR) != 0 && physIf() && !shadow) {
    // The interrupt is not taken: it stays pending at the interrupt controller (15.21.3,
    // 15.13.1), where what the VMM does next decides its fate (masked at the PIC, as
    // guests/systests svm-intr does, or taken after STGI). The core's latch holds a vector
    // the host already acknowledged: it goes back to the host (S_INTR_RETURNED), which
    // undoes the acknowledge at its controller (bindings/vmm/vcpu.ts).
    store<u32>(INTR_RETURNED, ld(S_INTR_PENDING) & 0x1ff);
    store<u32>(STATE_BASE + S_INTR_PENDING, 0);
    eventExit(SVM_EXIT_INTR, 0, 0);
    return takeExit();
  }
  if ((vi & 0x100) != 0 && (flags & IF) != 0 && !shadow) {
    const prio = (vi >> 16) & 0xf, tpr = vi & 0xf;
    if ((vi & (1 << 20)) != 0 || prio > tpr) {
      if ((ld(S_SVM_ICPT1) & I1_VINTR) != 0) {
        eventExit(SVM_EXIT_VINTR, 0, 0);
        return takeExit();
      }
      store<u32>(STATE_BASE + S_SVM_VINTR, vi & ~<u32>0x100);
      return deliverForVmm(ld(S_SVM_VVEC) & 0xff, EV_EXTERNAL, 0, false);
    }
  }
  return NO_EXIT;
}
/** An exit raised at a boundary (no instruction to abandon): performed at once. */
function takeExit(): u32 {
  clearFault();
  return svmExitPerform();
}

/** The state block was replaced (loadState, reset) while in SVM guest mode. */
export function svmReload(): void { svmResync(); }

// ---- Nested paging (assembly/mem/nested.ts; the walk is in ./npt.ts) ----
let lastFault: u64 = 0;
/** Host-physical address of `gpa` for an access of kind `acc` (ACC_*), or all ones for a
 *  #NPF that nptFault() then raises. Counts the walk and its references. */
export function nptTranslate(gpa: u32, acc: u32, long: bool, root: u32): u32 {
  const ok = nptWalk(gpa, (acc & ACC_WRITE) != 0, (acc & ACC_EXEC) != 0, false, long, root);
  store<u64>(STATE_BASE + S_CNT_NWALK, load<u64>(STATE_BASE + S_CNT_NWALK) + 1);
  store<u64>(STATE_BASE + S_CNT_NWALK_REFS, load<u64>(STATE_BASE + S_CNT_NWALK_REFS) +
    <u64>nptRefs);
  if (!ok) { lastFault = nptCode; return 0xffffffff; }
  return nptHpa;
}
/** #VMEXIT(NPF) (15.25.6): EXITINFO1 the error code with bit 32 (the final guest-physical
 *  address) or bit 33 (a guest page-table access: a user write, 15.25.5), EXITINFO2 the
 *  guest-physical address. */
export function nptFault(gpa: u32, acc: u32, final: bool): void {
  let code = lastFault & ~(NPF_FINAL | NPF_TABLE);
  code |= final ? NPF_FINAL : NPF_TABLE | NPF_RW;
  eventExit(SVM_EXIT_NPF, code, <u64>gpa);
}
