// Two-byte opcodes 0F xx (SDM vol. 2D, table A-3): the handlers.
import { STATE_BASE, S_CPL, S_TSC, S_CR4, S_CR0 } from '../generated/layout';
import { fxsave, fxrstor } from './fpu/env';
import {
  reg32, setReg32, reg16, setReg16, EAX, ECX, EDX, EBX, ES, SS, FS, GS, CR4_TSD, CR0_TS,
  segBase,
} from './state';
import { fetch8, rd32, wr32, probeWrite, updateCpl } from './access';
import {
  osz, asz, modrm, eaOff, eaSeg, decodeModrm, regField, getReg, setReg, readRM, writeRM, fetchImm,
  setEaOff,
} from './decode';
import { faulted, raiseGP, raiseUD, raise, NM } from './fault';
import { testCC, setResultFlags, materialize, flags, setFlagsWord, ZF, CF } from './flags';
import { alu, OP_CMP, OP_ADD } from './ops/alu';
import { shiftDouble } from './ops/shift';
import { imul2 } from './ops/muldiv';
import { bitOp, bitScan } from './ops/bitops';
import { rmwRead, rmwWrite } from './rmw';
import { jumpRel } from './control';
import { popSegReg, pushSegReg, loadFarPointer } from './insns';
import { protectedMode, v86Mode } from './system/segments';
import { group0f00, group0f01 } from '../generated/dispatch';
import { loadTable, storeTable, lldt, ltr, sldt, str, lar, lsl, verr, verw } from './system/tables';
import { movToCr, movFromCr, movToDr, movFromDr, lmsw, smsw, invlpg } from './system/cr';
import { guestMode, GUEST_SVM } from '../vmm/guest';
import {
  icptRdtsc, icptDescTable, icptSmsw, icptRdpmc, icptMonitor, icptMwait,
} from '../vmm/intercept';
import { vmxEnabled } from './system/vmx';
import { guestTscOffset } from '../vmx/exits';

/** CR4.PCE (SDM vol. 3A, 2.5). */
const CR4_PCE: u32 = 1 << 8;
function cplNow(): u32 { return load<u32>(STATE_BASE + S_CPL); }
function cplZero(): bool { return cplNow() == 0 && !v86Mode(); }

// The handlers of the 0F map, one per case of the generated dispatch (dispatch0f in
// assembly/generated/dispatch.ts, from the table in scripts/opcodes.mjs). Handlers of other
// files are re-exported here for the dispatch.
export { clts, invd, wbinvd } from './system/cr';
export { cpuid } from './system/cpuid';
export { rdmsr, wrmsr } from './system/msr';
export { sysenter, sysexit } from './system/sysenter';
export { vmread, vmwrite, map0f38 } from './system/vmx';
import { group9Vmx, group7Vmx } from './system/vmx';
import { group7Svm, svmTscOffset, svmEnabled, rdtscp } from '../svm/svm';

/** LAR, LSL */
@inline export function larLsl(b: u32): void {
  decodeModrm(); if (faulted) return;
  const sel = readRM(16); if (faulted) return;
  const v = b == 0x02 ? lar(sel) : lsl(sel);
  if (faulted) return;
  if (v >= 0) setReg(osz, regField(), <u32>v);
}
/** Hint NOPs, among them the multi-byte NOP 0F 1F /0 (SDM vol. 2B, NOP): no access. */
@inline export function hintNop(): void { decodeModrm(); }
/** MOV to and from control and debug registers (mod is ignored: always registers). */
@inline export function movCrDr(b: u32): void {
  const m = fetch8(); if (faulted) return;
  const r = (m >> 3) & 7, rm = m & 7;
  if (b == 0x20) { const v = movFromCr(r, rm); if (!faulted) setReg32(rm, v); }
  else if (b == 0x21) { const v = movFromDr(r, rm); if (!faulted) setReg32(rm, v); }
  else if (b == 0x22) movToCr(r, reg32(rm), rm);
  else movToDr(r, reg32(rm), rm);
  if (b >= 0x22 && !faulted) updateCpl(); // CR0.AM or DR7 may change the debug checks
}
/** RDTSC: #GP at CPL > 0 when CR4.TSD (SDM vol. 2B, RDTSC). */
@inline export function rdtsc(): void {
  const tsd = (load<u32>(STATE_BASE + S_CR4) & CR4_TSD) != 0;
  if (tsd && (cplNow() != 0 || v86Mode()) && protectedMode()) {
    raiseGP(0); return;
  }
  if (guestMode != 0 && icptRdtsc()) return;
  let t = load<u64>(STATE_BASE + S_TSC) + tscOffset();
  // Simulated time: the host's answer (assembly/cpu/tsc.ts); one branch when off.
  if (tscExitOn) {
    if (tscNeedsHost()) return;
    t = tscTaken;
  }
  if (guestMode != 0) {
    // TSC offsetting (SDM vol. 3C, 26.3, 26.6.5; APM vol. 2, 15.30.5: TSC_OFFSET)
    t += guestMode == GUEST_SVM ? svmTscOffset() : guestTscOffset;
  }
  setReg32(EAX, <u32>t); setReg32(EDX, <u32>(t >> 32));
}
@inline export function cmov(b: u32): void {
  decodeModrm(); if (faulted) return;
  const v = readRM(osz); if (faulted) return;
  if (testCC(b & 15)) setReg(osz, regField(), v);
  else if (osz == 32) setReg32(regField(), reg32(regField())); // 32-bit CMOV writes even if false
}
@inline export function jccRel(b: u32): void {
  const d = fetchImm(osz); if (faulted) return;
  if (testCC(b & 15)) jumpRel(d);
}
@inline export function setcc(b: u32): void {
  decodeModrm(); if (faulted) return;
  writeRM(8, testCC(b & 15) ? 1 : 0);
}
@inline export function pushFs(): void { pushSegReg(FS); }
@inline export function popFs(): void { popSegReg(FS); }
@inline export function pushGs(): void { pushSegReg(GS); }
@inline export function popGs(): void { popSegReg(GS); }
/** BT BTS BTR BTC Ev, Gv */
@inline export function btEvGv(b: u32): void {
  decodeModrm(); if (faulted) return;
  const off = getReg(osz, regField());
  const op: u32 = b == 0xa3 ? 0 : b == 0xab ? 1 : b == 0xb3 ? 2 : 3;
  bitMem(op, off, true);
}
/** Group 8: BT BTS BTR BTC Ev, Ib */
@inline export function group8(): void {
  decodeModrm(); if (faulted) return;
  const r = regField();
  const imm = fetch8(); if (faulted) return;
  if (r < 4) { raiseUD(); return; }
  bitMem(r - 4, imm, false);
}
/** SHLD / SHRD */
@inline export function shiftDoubleInsn(b: u32): void {
  decodeModrm(); if (faulted) return;
  let c: u32 = reg32(ECX) & 0xff;
  if (b == 0xa4 || b == 0xac) { c = fetch8(); if (faulted) return; }
  const a = rmwRead(osz); if (faulted) return;
  if ((c & 31) == 0) return;
  rmwWrite(osz, shiftDouble(b < 0xa8, a, getReg(osz, regField()), c, osz));
}
@inline export function imulGvEv(): void {
  decodeModrm(); if (faulted) return;
  const v = readRM(osz); if (faulted) return;
  setReg(osz, regField(), imul2(getReg(osz, regField()), v, osz));
}
@inline export function cmpxchg(b: u32): void {
  const size: u32 = b == 0xb0 ? 8 : osz;
  decodeModrm(); if (faulted) return;
  const d = rmwRead(size); if (faulted) return;
  const acc = getReg(size, EAX);
  alu(OP_CMP, acc, d, size);
  if (acc == d) rmwWrite(size, getReg(size, regField()));
  else {
    rmwWrite(size, d); if (faulted) return; // the destination is always written back
    setReg(size, EAX, d);
  }
}
@inline export function lss(): void { loadFarPointer(SS); }
@inline export function lfs(): void { loadFarPointer(FS); }
@inline export function lgs(): void { loadFarPointer(GS); }
/** MOVZX, MOVSX */
@inline export function movx(b: u32): void {
  decodeModrm(); if (faulted) return;
  const small: u32 = (b & 1) != 0 ? 16 : 8;
  let v = readRM(small); if (faulted) return;
  if (b >= 0xbe) v = small == 8 ? <u32><i32><i8>v : <u32><i32><i16>v;
  setReg(osz, regField(), v);
}
/** BSF, BSR */
@inline export function bitScanInsn(b: u32): void {
  decodeModrm(); if (faulted) return;
  const v = readRM(osz); if (faulted) return;
  const r = bitScan(b == 0xbd, v, osz);
  if (r >= 0) setReg(osz, regField(), <u32>r);
}
@inline export function xadd(b: u32): void {
  const size: u32 = b == 0xc0 ? 8 : osz;
  decodeModrm(); if (faulted) return;
  const d = rmwRead(size); if (faulted) return;
  const s = getReg(size, regField());
  const sum = alu(OP_ADD, d, s, size);
  rmwWrite(size, sum); if (faulted) return;
  setReg(size, regField(), d);
  if (modrm >= 0xc0 && (modrm & 7) == regField()) setReg(size, regField(), sum);
}
/**
 * Group 15 (0F AE) of a P6 with FXSR and without SSE: FXSAVE m512byte (/0) and FXRSTOR
 * m512byte (/1). The others (LDMXCSR, STMXCSR, the fences, CLFLUSH) need SSE, SSE2 or
 * CLFSH: #UD. SDM vol. 2A, FXSAVE / FXRSTOR, "Protected Mode Exceptions": #UD with CR0.EM
 * (before #NM with CR0.TS), #GP(0) when the operand is not 16-byte aligned "regardless of
 * segment" (the linear address, as Bochs and QEMU check it).
 */
export function group15(): void {
  decodeModrm(); if (faulted) return;
  const r = regField();
  if (r > 1 || modrm >= 0xc0) { raiseUD(); return; }
  const c0 = load<u32>(STATE_BASE + S_CR0);
  if ((c0 & CR0_EM_BIT) != 0) { raiseUD(); return; }
  if ((c0 & CR0_TS) != 0) { raise(NM, 0, false); return; }
  if (((segBase(eaSeg) + eaOff) & 15) != 0) { raiseGP(0); return; }
  if (r == 0) fxsave(eaSeg, eaOff); else fxrstor(eaSeg, eaOff);
}
const CR0_EM_BIT: u32 = 1 << 2;

/** Group 9 (0F C7): CMPXCHG8B m64 (/1); VMPTRLD, VMCLEAR, VMXON (/6), VMPTRST (/7). */
export function group9(): void {
  decodeModrm(); if (faulted) return;
  const r = regField();
  if (r == 6 || r == 7) { group9Vmx(r); return; }
  if (r != 1 || modrm >= 0xc0) { raiseUD(); return; }
  cmpxchg8b();
}
/** CMPXCHG8B m64 */
@inline function cmpxchg8b(): void {
  probeWrite(eaSeg, eaOff, 8); if (faulted) return;
  const lo = rd32(eaSeg, eaOff); if (faulted) return;
  const hi = rd32(eaSeg, eaOff + 4); if (faulted) return;
  materialize();
  if (lo == reg32(EAX) && hi == reg32(EDX)) {
    wr32(eaSeg, eaOff, reg32(EBX)); if (faulted) return;
    wr32(eaSeg, eaOff + 4, reg32(ECX)); if (faulted) return;
    setFlagsWord(flags | ZF);
  } else {
    wr32(eaSeg, eaOff, lo); if (faulted) return;
    wr32(eaSeg, eaOff + 4, hi); if (faulted) return;
    setReg32(EAX, lo); setReg32(EDX, hi);
    setFlagsWord(flags & ~ZF);
  }
}
@inline export function bswapInsn(b: u32): void {
  const r = b & 7;
  if (osz == 32) setReg32(r, bswap<u32>(reg32(r)));
  else setReg16(r, 0); // BSWAP r16 is undefined; P6-family CPUs clear the low word
}

/** TSC ticks not yet folded into the state block (the run loop keeps them in a local). */
import { tscPending, tscExitOn, tscNeedsHost, tscTaken } from './tsc';
@inline function tscOffset(): u64 { return tscPending(); }

/** BT* with ModRM destination. `regOffset`: bit offset from a register (signed, may address
 *  beyond the operand in memory) or from an immediate (taken modulo the operand size). */
function bitMem(op: u32, off: u32, regOffset: bool): void {
  const size = osz;
  const bit = off & (size - 1);
  if (modrm < 0xc0 && regOffset) {
    const words: i32 = size == 32 ? (<i32>off >> 5) : (<i32><i16>off >> 4);
    let ea = eaOff + <u32>(words * <i32>(size >> 3));
    if (asz == 16) ea &= 0xffff;
    setEaOff(ea);
  }
  if (op == 0) {
    const v = readRM(size); if (faulted) return;
    bitOp(0, v, bit);
    return;
  }
  const v = rmwRead(size); if (faulted) return;
  rmwWrite(size, bitOp(op, v, bit));
}

/** 0F 00, group 6 (#UD in real and V86 mode): the member by ModRM.reg (group0f00,
 *  generated from the table). */
export function group6(): void {
  decodeModrm(); if (faulted) return;
  if (!protectedMode() || v86Mode()) { raiseUD(); return; }
  group0f00(regField());
}
/** SLDT, STR */
@inline export function storeLdtrTr(r: u32): void {
  if (guestMode != 0 && icptDescTable(4 + r)) return;
  const v = r == 0 ? sldt() : str();
  if (modrm >= 0xc0) setReg(osz, modrm & 7, v); else writeRM(16, v);
}
/** LLDT, LTR */
@inline export function loadLdtrTr(r: u32): void {
  if (guestMode != 0 && cplZero() && icptDescTable(4 + r)) return;
  const v = readRM(16); if (faulted) return;
  if (r == 2) lldt(v); else ltr(v);
}
/** VERR, VERW */
@inline export function verifySeg(r: u32): void {
  const v = readRM(16); if (faulted) return;
  if (r == 4) verr(v); else verw(v);
}

/** 0F 01, group 7: the member by ModRM.reg (group0f01, generated from the table). */
export function group7(): void {
  decodeModrm(); if (faulted) return;
  group0f01(regField());
}
/** SGDT, SIDT, LGDT, LIDT (memory operand only); with mod = 11b, reg 0 holds VMCALL,
 *  VMLAUNCH, VMRESUME, VMXOFF (assembly/cpu/system/vmx.ts) and reg 3 the SVM instructions
 *  VMRUN..INVLPGA (assembly/svm/svm.ts). */
@inline export function descTable(r: u32): void {
  if (modrm >= 0xc0) {
    if (r == 0) group7Vmx(modrm & 7);
    else if (r == 1 && (modrm & 7) < 2 && (vmxEnabled() || svmEnabled())) {
      monitorMwait((modrm & 7) == 1);
    }
    else if (r == 3) group7Svm(modrm & 7);
    else raiseUD();
    return;
  }
  // Descriptor-table exiting: after the CPL check of LGDT/LIDT (SDM vol. 3C, 26.1.1).
  if (guestMode != 0 && (r < 2 || cplZero()) && icptDescTable(r)) return;
  if (r < 2) storeTable(r == 1, eaSeg, eaOff);
  else loadTable(r == 3, eaSeg, eaOff, osz);
}
/** MONITOR (0F 01 C8) and MWAIT (0F 01 C9), offered with the VMX CPU model
 *  (CPUID.1:ECX.MONITOR): #UD at CPL > 0 (SDM vol. 2B, MONITOR, MWAIT, with
 *  IA32_MISC_ENABLE's default), then the exits (MONITOR exiting, MWAIT exiting: SDM vol.
 *  3C, 26.1.3), then MONITOR arms the monitor at DS:EAX and MWAIT (ECX bits 31:1 reserved:
 *  #GP(0)) returns at once, as it may for any break event (vol. 2B, MWAIT). */
let monitorArmed: bool = false;
export function monitorArmedNow(): bool { return monitorArmed; }
function monitorMwait(mwait: bool): void {
  if (cplNow() != 0 || v86Mode()) { raiseUD(); return; }
  if (guestMode != 0 && (mwait ? icptMwait() : icptMonitor())) return;
  if (!mwait) { monitorArmed = true; return; }
  if ((reg32(ECX) & ~1) != 0) { raiseGP(0); return; }
  monitorArmed = false;
}
/** RDPMC (SDM vol. 2B): #GP(0) at CPL > 0 without CR4.PCE, then RDPMC exiting, then the
 *  counter in ECX: this P6 has counters 0 and 1 (no events counted: 0), others #GP(0). */
export function rdpmc(): void {
  const pce = (load<u32>(STATE_BASE + S_CR4) & CR4_PCE) != 0;
  if (!pce && (cplNow() != 0 || v86Mode()) && protectedMode()) { raiseGP(0); return; }
  if (guestMode != 0 && icptRdpmc()) return;
  if (reg32(ECX) > 1) { raiseGP(0); return; }
  setReg32(EAX, 0); setReg32(EDX, 0);
}
@inline export function smswInsn(): void {
  if (guestMode != 0 && icptSmsw()) return;
  const v = smsw();
  if (modrm >= 0xc0) setReg(osz, modrm & 7, v); else writeRM(16, v);
}
@inline export function lmswInsn(): void {
  const v = readRM(16); if (faulted) return;
  lmsw(v, segBase(eaSeg) + eaOff, modrm < 0xc0); updateCpl();
}
@inline export function invlpgInsn(): void {
  if (modrm >= 0xc0) {
    // 0F 01 F9: RDTSCP, offered with the SVM CPU model (assembly/svm/svm.ts).
    if (modrm == 0xf9 && svmEnabled()) rdtscp(); else raiseUD();
    return;
  }
  invlpg(segBaseOf(eaSeg) + eaOff);
}

import { segBase } from './state';
@inline function segBaseOf(s: u32): u32 { return segBase(s); }
