// The SVM side of the intercept points (assembly/vmm/intercept.ts dispatches here in SVM
// guest mode): each returns true after raising a #VMEXIT, false when the guest goes on.
// Intercept vectors and exit codes: AMD APM vol. 2, table B-1 and appendix C; the
// information of each exit (EXITINFO1, EXITINFO2, NRIP) by the sections cited beside it.
// This CPU reports no decode assists (CPUID 8000_000Ah EDX bit 7 clear), so the CR, DR,
// INVLPG and INTn exits carry EXITINFO1 = 0 as on such a CPU (15.33 describes the bits a
// CPU with them would add).
import {
  STATE_BASE, S_SVM_ICPT_CR, S_SVM_ICPT_DR, S_SVM_ICPT_EXC, S_SVM_ICPT1, S_SVM_ICPT2,
  S_SVM_IOPM, S_SVM_MSRPM, S_CR0, S_CR2,
} from '../generated/layout';
import {
  SVM_EXIT_READ_CR0, SVM_EXIT_WRITE_CR0, SVM_EXIT_READ_DR0, SVM_EXIT_WRITE_DR0, SVM_EXIT_EXCP0,
  SVM_EXIT_INTR, SVM_EXIT_NMI, SVM_EXIT_SMI, SVM_EXIT_INIT, SVM_EXIT_VINTR,
  SVM_EXIT_CR0_SEL_WRITE, SVM_EXIT_IDTR_READ, SVM_EXIT_RDTSC, SVM_EXIT_RDPMC, SVM_EXIT_PUSHF,
  SVM_EXIT_POPF, SVM_EXIT_CPUID, SVM_EXIT_RSM, SVM_EXIT_IRET, SVM_EXIT_SWINT, SVM_EXIT_INVD,
  SVM_EXIT_PAUSE, SVM_EXIT_HLT, SVM_EXIT_INVLPG, SVM_EXIT_IOIO, SVM_EXIT_MSR,
  SVM_EXIT_TASK_SWITCH, SVM_EXIT_FERR_FREEZE, SVM_EXIT_SHUTDOWN, SVM_EXIT_RDTSCP,
  SVM_EXIT_ICEBP, SVM_EXIT_WBINVD, SVM_EXIT_MONITOR, SVM_EXIT_MWAIT, SVM_EXIT_NPF,
} from '../generated/svm';
import { ip } from '../cpu/access';
import { recordExit } from './svm';
import { pr8 } from './vmcb';
import { svmRaise } from './glue';

// Vector 3 (MISC1, offset 0Ch) and vector 4 (MISC2, offset 10h) bits, table B-1.
export const I1_INTR: u32 = 1 << 0;
export const I1_NMI: u32 = 1 << 1;
export const I1_SMI: u32 = 1 << 2;
export const I1_INIT: u32 = 1 << 3;
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
export const I1_FERR: u32 = 1 << 30;
export const I1_SHUTDOWN: u32 = 1 << 31;
export const I2_VMRUN: u32 = 1 << 0; // VMMCALL 1, VMLOAD 2, VMSAVE 3, STGI 4, CLGI 5, SKINIT 6
export const I2_RDTSCP: u32 = 1 << 7;
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
  svmRaise();
  return true;
}
/** An exit with NRIP = 0 (not an instruction intercept). */
function eventExit(code: i64, info1: u64, info2: u64): bool {
  recordExit(code, info1, info2, -1);
  svmRaise();
  return true;
}

// ---- Instruction intercepts (15.9 and the sections named) ----
export function svmIcptCpuid(): bool { return on1(I1_CPUID) && insnExit(SVM_EXIT_CPUID, 0, 0); }
export function svmIcptHlt(): bool { return on1(I1_HLT) && insnExit(SVM_EXIT_HLT, 0, 0); }
export function svmIcptInvlpg(lin: u32): bool {
  return on1(I1_INVLPG) && insnExit(SVM_EXIT_INVLPG, 0, 0);
}
export function svmIcptRdtsc(): bool { return on1(I1_RDTSC) && insnExit(SVM_EXIT_RDTSC, 0, 0); }
export function svmIcptRdtscp(): bool {
  return on2(I2_RDTSCP) && insnExit(SVM_EXIT_RDTSCP, 0, 0);
}
export function svmIcptRdpmc(): bool { return on1(I1_RDPMC) && insnExit(SVM_EXIT_RDPMC, 0, 0); }
export function svmIcptInvd(): bool { return on1(I1_INVD) && insnExit(SVM_EXIT_INVD, 0, 0); }
export function svmIcptWbinvd(): bool {
  return on2(I2_WBINVD) && insnExit(SVM_EXIT_WBINVD, 0, 0);
}
/** PAUSE (15.14.4): with a zero PAUSE filter count every PAUSE exits (no filter here). */
export function svmIcptPause(): bool { return on1(I1_PAUSE) && insnExit(SVM_EXIT_PAUSE, 0, 0); }
export function svmIcptMonitor(): bool {
  return on2(I2_MONITOR) && insnExit(SVM_EXIT_MONITOR, 0, 0);
}
export function svmIcptMwait(): bool { return on2(I2_MWAIT) && insnExit(SVM_EXIT_MWAIT, 0, 0); }
export function svmIcptRsm(): bool { return on1(I1_RSM) && insnExit(SVM_EXIT_RSM, 0, 0); }
export function svmIcptPushf(): bool { return on1(I1_PUSHF) && insnExit(SVM_EXIT_PUSHF, 0, 0); }
export function svmIcptPopf(): bool { return on1(I1_POPF) && insnExit(SVM_EXIT_POPF, 0, 0); }
/** IRET (15.9): checked before the instruction does anything. */
export function svmIcptIret(): bool { return on1(I1_IRET) && insnExit(SVM_EXIT_IRET, 0, 0); }
/** INTn (CD ib only; INT3 and INTO are exceptions 3 and 4, ICEBP has its own intercept). */
export function svmIcptSoftInt(vector: u32, icebp: bool): bool {
  if (icebp) return on2(I2_ICEBP) && insnExit(SVM_EXIT_ICEBP, 0, 0);
  return on1(I1_INTN) && insnExit(SVM_EXIT_SWINT, 0, 0);
}
/** VMRUN..INVLPGA by exit code (0x80-0x87 are MISC2 bits 0-7, INVLPGA is MISC1 bit 26). */
export function svmIcptSvmInsn(code: i64): bool {
  if (code == 0x7a) return on1(I1_INVLPGA) && insnExit(code, 0, 0);
  const bit = <u32>(code - 0x80);
  return bit < 8 && on2(<u32>1 << bit) && insnExit(code, 0, 0);
}
/** VMMCALL: as svmIcptSvmInsn(81h). */
export function svmIcptVmmcall(): bool { return svmIcptSvmInsn(0x81); }

/** MOV from CRn, SMSW (CR0). */
export function svmIcptCrRead(cr: u32): bool {
  return cr < 16 && ((ld(S_SVM_ICPT_CR) >> cr) & 1) != 0 &&
    insnExit(SVM_EXIT_READ_CR0 + <i64>cr, 0, 0);
}
/** MOV to CRn, LMSW and CLTS (CR0): the CR write intercept first, then for CR0 the
 *  selective write intercept, which fires when a bit other than TS and MP changes
 *  (15.8.1). CLTS changes only TS: only the CR0 write intercept catches it. */
export function svmIcptCrWrite(cr: u32, value: u32): bool {
  if (cr < 16 && ((ld(S_SVM_ICPT_CR) >> (16 + cr)) & 1) != 0) {
    return insnExit(SVM_EXIT_WRITE_CR0 + <i64>cr, 0, 0);
  }
  if (cr == 0 && on1(I1_CR0_SEL) && ((ld(S_CR0) ^ value) & ~<u32>0xa) != 0) {
    return insnExit(SVM_EXIT_CR0_SEL_WRITE, 0, 0);
  }
  return false;
}
/** MOV to/from DRn. */
export function svmIcptDr(dr: u32, write: bool): bool {
  const bit = dr + (write ? 16 : 0);
  return dr < 16 && ((ld(S_SVM_ICPT_DR) >> bit) & 1) != 0 &&
    insnExit((write ? SVM_EXIT_WRITE_DR0 : SVM_EXIT_READ_DR0) + <i64>dr, 0, 0);
}
/** SIDT, SGDT, SLDT, STR (which 0-3), LIDT, LGDT, LLDT, LTR (which 4-7): exit codes 66h-6Dh
 *  in that order, vector bits 6-13. */
export function svmIcptDescTable(which: u32): bool {
  return which < 8 && on1(I1_IDTR_READ << which) &&
    insnExit(SVM_EXIT_IDTR_READ + <i64>which, 0, 0);
}

/**
 * IN, OUT, INS, OUTS with the IOPM (15.10): intercepted when any of the `size` bits from
 * bit `port` of the 12-KB map is set. EXITINFO1 (15.10.2, figure 15-2): bit 0 TYPE (1 =
 * IN), bit 2 STR, bit 3 REP, bits 6:4 SZ8/SZ16/SZ32, bits 9:7 A16/A32/A64, bits 12:10 the
 * segment (decode assists only: 0), bits 31:16 the port; EXITINFO2 the next RIP.
 */
export function svmIcptIo(port: u32, size: u32, isIn: bool, isString: bool, isRep: bool,
  addrSize: u32): bool {
  if (!on1(I1_IOIO)) return false;
  const map = ld(S_SVM_IOPM);
  let hit = false;
  for (let i: u32 = 0; i < size; i++) {
    const p = (port + i) & 0xffff;
    if (((pr8(map + (p >> 3)) >> (p & 7)) & 1) != 0) { hit = true; break; }
  }
  // A multi-byte access at the top of the port space reads bits 65536.. in the third page.
  if (!hit && port + size > 0x10000) {
    for (let p: u32 = 0x10000; p < port + size; p++) {
      if (((pr8(map + (p >> 3)) >> (p & 7)) & 1) != 0) { hit = true; break; }
    }
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
export function svmIcptMsr(index: u32, write: bool): bool {
  if (!on1(I1_MSR)) return false;
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

/** Task switch (15.14, the task-switch intercept): EXITINFO1 the new TSS selector;
 *  EXITINFO2 bit 36 by IRET, bit 38 by a far JMP, bit 44 an error code pushed (then in
 *  bits 31:0). `source`: 0 CALL/INT, 1 IRET, 2 JMP, 3 task gate in the IDT. */
export function svmIcptTaskSwitch(selector: u32, source: u32, code: u32, hasCode: bool): bool {
  if (!on1(I1_TASK)) return false;
  let info2: u64 = 0;
  if (source == 1) info2 |= <u64>1 << 36;
  if (source == 2) info2 |= <u64>1 << 38;
  if (hasCode) info2 |= (<u64>1 << 44) | <u64>code;
  return eventExit(SVM_EXIT_TASK_SWITCH, <u64>selector, info2);
}

/** Exception `vector` about to be delivered (15.12): EXITINFO1 the error code when the
 *  exception has one, EXITINFO2 the faulting address of a #PF (CR2). INT3/INTO/BOUND are
 *  instruction-caused: NRIP is the next instruction's (15.7.1). */
export function svmIcptException(vector: u32, code: u32, hasCode: bool, soft: bool): bool {
  if (vector >= 32 || ((ld(S_SVM_ICPT_EXC) >> vector) & 1) == 0) return false;
  const info2: u64 = vector == 14 ? <u64>ld(S_CR2) : 0;
  recordExit(SVM_EXIT_EXCP0 + <i64>vector, hasCode ? <u64>code : 0, info2, soft ? <i64>ip : -1);
  svmRaise();
  return true;
}

/** Triple fault in the guest: #VMEXIT(SHUTDOWN) when intercepted (15.12, "shutdown"). */
export function svmIcptShutdown(): bool {
  return on1(I1_SHUTDOWN) && eventExit(SVM_EXIT_SHUTDOWN, 0, 0);
}
export function svmIcptFerr(): bool {
  return on1(I1_FERR) && eventExit(SVM_EXIT_FERR_FREEZE, 0, 0);
}

/** Physical interrupts and NMIs at an instruction boundary (15.13): the exit codes the
 *  boundary check raises when their intercepts are set. */
export function svmIntrIntercepted(): bool { return on1(I1_INTR); }
export function svmNmiIntercepted(): bool { return on1(I1_NMI); }
export function svmVintrIntercepted(): bool { return on1(I1_VINTR); }
export function svmSmiIntercepted(): bool { return on1(I1_SMI); }
export function svmInitIntercepted(): bool { return on1(I1_INIT); }
export const EXIT_INTR: i64 = SVM_EXIT_INTR;
export const EXIT_NMI: i64 = SVM_EXIT_NMI;
export const EXIT_VINTR: i64 = SVM_EXIT_VINTR;
export const EXIT_SMI: i64 = SVM_EXIT_SMI;
export const EXIT_INIT: i64 = SVM_EXIT_INIT;
export const EXIT_NPF: i64 = SVM_EXIT_NPF;
