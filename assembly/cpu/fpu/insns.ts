// The x87 instructions, opcodes D8-DF (Intel SDM vol. 2, appendix A.4 "x87 FPU opcode map",
// tables ), with the stack and the exception machinery of SDM vol. 1, chapter 8:
// stack overflow and underflow (8.5.1.1), masked and unmasked responses (8.5.1-8.5.6),
// pending unmasked exceptions reported at the next waiting instruction (8.6, #MF or, with
// CR0.NE = 0, FERR# which the platform routes to IRQ 13), #NM for CR0.EM / CR0.TS (2.5), and
// the last instruction and data pointers (8.1.8, 8.1.9).
import { STATE_BASE, S_CR0, S_IRQ_WINDOW } from '../../generated/layout';
import { needAttention } from '../events';
import { guestMode } from '../../vmm/guest';
import { modrm, eaOff, eaSeg, decodeModrm, regField, osz } from '../decode';
import { rd8, rd16, rd32, wr16, wr32, probeWrite, probeRead, startIp } from '../access';
import { faulted, raise, NM, MF } from '../fault';
import { reg16, setReg16, EAX, CS, segSel } from '../state';
import { flags, setFlagsWord, materialize, CF, PF, ZF, testCC } from '../flags';
import {
  fx, roundedUp, outSign, outExp, outMan, fxClear, setFx, FE_IE, FE_DE, FE_ZE, FE_OE, FE_UE,
  FE_PE, FE_SF, INDEF_SE, INDEF_MAN, classify, K_ZERO, K_SNAN, K_QNAN, QBIT, BIAS, TOP,
  roundPack, FMT_EXT,
  fromInteger, setOutParts, setRoundedUp,
} from './f80';
import {
  arith, fsqrt, frndint, fabs, fchs, fcompare, fxamClass, fxtract, sigSe, sigMan, fscale,
  fprem, premCodes, denStop, srcDenormal, clearSrcDenormal, fromSingle, fromDouble, fromBcd,
  toSingle, toDouble, toInteger, toBcd,
  bcdHi, roundingOf, OP_ADD, OP_MUL,
} from './ops';
import { trig, outOfRange, fpatan, f2xm1, fyl2x, fyl2xp1 } from './trans';
import { storeEnv, loadEnv, fsave, frstor, recomputeSummary } from './env';
import {
  fcw, setFcw, fsw, setFsw, ftw, setFtw, top, setTop, phys, stEmpty, stMan, stSe, setSt,
  pop, pushTop, fpuInit, setInsnPointer, setDataPointer, tagOf, setTag, manOf, seOf, setPhys,
  fip, fcs, fop, fdp, fds, TAG_EMPTY, TAG_VALID, TAG_ZERO, TAG_SPECIAL, SW_ES, SW_B, SW_C0,
  SW_C1, SW_C2, SW_C3, SW_CC, ferrLine, ferrAssertions, assertFerr, resetFerr, ferrFollowEs,
} from './state';

const CR0_MP: u32 = 1 << 1;
const CR0_EM: u32 = 1 << 2;
const CR0_TS: u32 = 1 << 3;
const CR0_NE: u32 = 1 << 5;

@inline function cr0(): u32 { return load<u32>(STATE_BASE + S_CR0); }

/**
 * FERR#, the processor's floating-point error output (SDM vol. 1, 8.7 "Handling x87 FPU
 * Exceptions in Software", and D.2.1 "MS-DOS Compatibility Sub-mode"): with CR0.NE = 0 a
 * waiting instruction that finds an unmasked exception pending asserts it, and it stays
 * asserted until the exception is cleared (FNCLEX, FNINIT, FLDENV, FRSTOR, FXRSTOR, FLDCW:
 * the status word's ES goes 0; state.ts ferrFollowEs). The platform routes it to IRQ 13
 * (bindings/devices/fpu-irq.ts): a new assertion ends the run at the next instruction
 * boundary where an interrupt could be taken (the host's interrupt-window exit), so the
 * interrupt comes as soon as on the PC. The instruction itself proceeds, as it does with
 * IGNNE# asserted (QEMU and Bochs do the same); the stall of a real CPU with IGNNE#
 * deasserted until the interrupt arrives is not modelled.
 */
export function ferrAsserted(): bool { return ferrLine; }
export function ferrCount(): u32 { return ferrAssertions; }
export function clearFerr(): void { resetFerr(); }

/** WAIT/FWAIT (9B): #NM when CR0.MP and CR0.TS; then reports a pending exception. */
export function fwait(): void {
  const c = cr0();
  if ((c & CR0_MP) != 0 && (c & CR0_TS) != 0) { raise(NM, 0, false); return; }
  pendingCheck();
}

/** A pending unmasked exception: #MF with CR0.NE, else FERR# (IRQ 13 through the PIC). */
function pendingCheck(): bool {
  if ((fsw() & SW_ES) == 0) return false;
  if ((cr0() & CR0_NE) != 0) { raise(MF, 0, false); return true; }
  if (!ferrLine) {
    assertFerr();
    // Out to the host at the next boundary where the interrupt can be taken.
    if (guestMode == 0) { store<u32>(STATE_BASE + S_IRQ_WINDOW, 1); needAttention(); }
  }
  return false;
}

/** After an operation: the flags it raised into the status word; an unmasked one sets ES
 *  and B (the summary bits) for the next waiting instruction to report. */
function report(flagsRaised: u32): void {
  let sw = fsw() | (flagsRaised & 0x7f);
  if ((flagsRaised & 0x3f & ~fcw()) != 0) sw |= SW_ES | SW_B;
  setFsw(sw);
}
function setC1(on: bool): void { setFsw(on ? fsw() | SW_C1 : fsw() & ~SW_C1); }

/** Exceptions that leave the destination untouched when unmasked (8.5.1-8.5.3). */
@inline function blocked(): bool { return (fx & ~fcw() & (FE_IE | FE_DE | FE_ZE)) != 0; }

@inline function packedSe(): u32 { return (outSign << 15) | (<u32>outExp & 0x7fff); }

/** Stack underflow (8.5.1.1): #IS with C1 = 0; masked, the destination gets the indefinite. */
function underflow(): void { setFx(fx | FE_IE | FE_SF); setOutParts(1, 0x7fff, INDEF_MAN); }

// ---- Operand fetch ----

let memSe: u32 = 0;
let memMan: u64 = 0;
/** Reads and converts the memory operand of format `f` (0 m32real, 1 m32int, 2 m64real,
 *  3 m16int; 4 m80real; 5 m64int; 6 m80bcd); exceptions of the conversion go to fx. */
function readMem(f: u32): void {
  const s = eaSeg, o = eaOff;
  clearSrcDenormal();
  if (f == 0) { const v = rd32(s, o); if (faulted) return; fromSingle(v); }
  else if (f == 1) {
    const v = rd32(s, o); if (faulted) return;
    fromInteger(v >> 31, <u64>((v >> 31) != 0 ? <u32>0 - v : v));
  } else if (f == 2) {
    probeRead(s, o, 8); if (faulted) return;
    const lo = rd32(s, o); if (faulted) return;
    const hi = rd32(s, o + 4); if (faulted) return;
    fromDouble((<u64>hi << 32) | lo);
  } else if (f == 3) {
    const v = rd16(s, o); if (faulted) return;
    const neg = (v & 0x8000) != 0;
    fromInteger(neg ? 1 : 0, <u64>(neg ? (0x10000 - v) : v));
  } else {
    probeRead(s, o, f == 5 ? 8 : 10); if (faulted) return;
    const lo = rd32(s, o); if (faulted) return;
    const hi = rd32(s, o + 4); if (faulted) return;
    const m = (<u64>hi << 32) | lo;
    if (f == 5) {
      const neg = (hi >> 31) != 0;
      fromInteger(neg ? 1 : 0, neg ? <u64>0 - m : m);
    } else {
      const se = rd16(s, o + 8); if (faulted) return;
      if (f == 4) setOutParts(se >> 15, <i32>(se & 0x7fff), m);
      else fromBcd(m, se);
    }
  }
  memSe = packedSe(); memMan = outMan;
}

/** Begins a non-control instruction: #NM checks, the pending exception, the pointers. */
function begin(b: u32, memory: bool): bool {
  const c = cr0();
  if ((c & (CR0_EM | CR0_TS)) != 0) { raise(NM, 0, false); return false; }
  if (pendingCheck()) return false;
  fxClear();
  setInsnPointer(startIp, segSel(CS), ((b & 7) << 8) | modrm);
  if (memory) setDataPointer(eaOff, segSel(eaSeg));
  return true;
}
/** Begins a control instruction (FNINIT, FNSTSW...): #NM only, no pending check. */
function beginControl(): bool {
  if ((cr0() & (CR0_EM | CR0_TS)) != 0) { raise(NM, 0, false); return false; }
  fxClear();
  return true;
}

/** Writes the result (out*) to ST(i), unless an unmasked exception blocks it. */
function writeSt(i: u32): bool {
  if (blocked()) return false;
  setSt(i, packedSe(), outMan);
  return true;
}

/** Finishes an arithmetic-style instruction: flags, C1 from rounding (or the stack fault). */
function finish(): void {
  if ((fx & FE_SF) != 0) setC1((fx & FE_IE) != 0 && false);
  else setC1((fx & FE_PE) != 0 && roundedUp);
  report(fx);
}

// ---- Arithmetic: D8 / DC / DA / DE ----

/** ST(dst) = ST(a) op src for register forms; `popAfter` for the P forms. */
function arithRegs(op: u32, dst: u32, srcIdx: u32, popAfter: bool): void {
  if (stEmpty(0) || stEmpty(srcIdx)) {
    underflow();
  } else {
    // dst == 0: ST(0) op ST(i); dst == i: ST(i) op ST(0) (the DC/DE forms).
    const aIdx: u32 = dst == 0 ? 0 : dst, bIdx: u32 = dst == 0 ? srcIdx : 0;
    arith(op, stSe(aIdx), stMan(aIdx), stSe(bIdx), stMan(bIdx), fcw());
  }
  const ok = writeSt(dst);
  finish();
  if (popAfter && (ok || (fx & ~fcw() & 0x3f) == 0)) pop();
}

function arithMem(op: u32, f: u32): void {
  readMem(f); if (faulted) return;
  if (stEmpty(0)) underflow();
  else {
    const convFx = fx;
    if (blocked()) { finish(); return; } // an SNaN source with #IA unmasked
    arith(op, stSe(0), stMan(0), memSe, memMan, fcw(), srcDenormal);
    setFx(fx | convFx);
  }
  writeSt(0);
  finish();
}

// ---- Comparisons ----

/** C3 C2 C0 (or ZF PF CF for FCOMI) from a comparison result (0 >, 1 <, 2 =, 3 unordered). */
function setCompareCodes(r: u32): void {
  let sw = fsw() & ~SW_CC;
  if (r == 1) sw |= SW_C0;
  else if (r == 2) sw |= SW_C3;
  else if (r == 3) sw |= SW_C0 | SW_C2 | SW_C3;
  setFsw(sw);
}
function compareWith(bSe: u32, bMan: u64, quiet: bool, pops: u32, eflags: bool,
  srcDen: bool = false): void {
  let r: u32 = 3;
  if (stEmpty(0)) setFx(fx | FE_IE | FE_SF);
  else r = fcompare(stSe(0), stMan(0), bSe, bMan, quiet, srcDen);
  // Comparisons set their codes even when #IA or #D is unmasked, but then do not pop
  // (measured on the host CPU).
  const stop = (fx & ~fcw() & (FE_IE | FE_DE)) != 0;
  if (eflags) {
    {
      materialize();
      let f = flags & ~(ZF | PF | CF);
      if (r == 1) f |= CF; else if (r == 2) f |= ZF; else if (r == 3) f |= ZF | PF | CF;
      setFlagsWord(f);
    }
    setFsw(fsw() & ~SW_C1);
  } else setCompareCodes(r);
  if ((fx & FE_SF) != 0 || !eflags) setFsw(fsw() & ~SW_C1);
  report(fx);
  if (!stop) for (let i: u32 = 0; i < pops; i++) pop();
}
function compareReg(i: u32, quiet: bool, pops: u32, eflags: bool): void {
  if (stEmpty(i)) {
    setFx(fx | FE_IE | FE_SF);
    compareWith(INDEF_SE, INDEF_MAN, quiet, pops, eflags);
    return;
  }
  compareWith(stSe(i), stMan(i), quiet, pops, eflags);
}

// ---- Loads and stores ----

/** FLD m32fp / m64fp: an SNaN is made quiet with #IA; a denormal raises #D (SDM vol. 2A,
 *  FLD: neither happens for m80fp). */
function loadReal(f: u32): void {
  readMem(f); if (faulted) return;
  const k = classify(memSe, memMan);
  if (k == K_SNAN) { setFx(fx | FE_IE); setOutParts(memSe >> 15, 0x7fff, memMan | QBIT); }
  else if (srcDenormal && denStop(fcw())) { report(fx); return; }
  pushOut();
}

/** Pushes the value in out* (after a memory conversion or a constant). */
function pushOut(): void {
  if (!stEmpty(7)) {
    // Stack overflow (8.5.1.1): #IS with C1 = 1; masked, the indefinite is pushed.
    setFx(fx | FE_IE | FE_SF);
    if ((fcw() & FE_IE) == 0) { setC1(true); report(fx); return; }
    pushTop();
    setSt(0, INDEF_SE, INDEF_MAN);
    setC1(true);
    report(fx);
    return;
  }
  if (blocked()) { report(fx); return; }
  const se = packedSe(), m = outMan;
  pushTop();
  setSt(0, se, m);
  setC1(false);
  report(fx);
}

function storeMem(f: u32, popAfter: bool): void {
  const s = eaSeg, o = eaOff;
  const bytes: u32 = f == 0 ? 4 : f == 1 ? 4 : f == 2 ? 8 : f == 3 ? 2 : f == 5 ? 8 : 10;
  probeWrite(s, o, bytes); if (faulted) return;
  let se: u32 = INDEF_SE, m: u64 = INDEF_MAN;
  const empty = stEmpty(0);
  if (empty) setFx(fx | FE_IE | FE_SF);
  else { se = stSe(0); m = stMan(0); }
  const cw = fcw();
  if (f == 4) {
    if (!empty || (cw & FE_IE) != 0) {
      wr32(s, o, <u32>m); wr32(s, o + 4, <u32>(m >> 32)); wr16(s, o + 8, se);
    }
  } else {
    let lo: u64 = 0, hi16: u32 = 0;
    if (f == 0) lo = empty ? 0xffc00000 : <u64>toSingle(se, m, cw);
    else if (f == 2) lo = empty ? 0xfff8000000000000 : toDouble(se, m, cw);
    else if (f == 1) lo = empty ? 0x80000000 : toInteger(se, m, 32, cw);
    else if (f == 3) lo = empty ? 0x8000 : toInteger(se, m, 16, cw);
    else if (f == 5) lo = empty ? 0x8000000000000000 : toInteger(se, m, 64, cw);
    else { lo = empty ? 0xc000000000000000 : toBcd(se, m, cw); hi16 = empty ? 0xffff : bcdHi; }
    // Unmasked invalid, overflow or underflow: memory is not written (8.5.1.2, 8.5.4).
    const noStore = (fx & ~cw & (FE_IE | FE_DE | FE_OE | FE_UE)) != 0;
    if (!noStore) {
      if (bytes == 2) wr16(s, o, <u32>lo);
      else {
        wr32(s, o, <u32>lo);
        if (bytes >= 8) wr32(s, o + 4, <u32>(lo >> 32));
        if (bytes == 10) wr16(s, o + 8, hi16);
      }
    }
  }
  const stop = (fx & ~cw & 0x3f & (FE_IE | FE_DE | FE_OE | FE_UE)) != 0;
  finish();
  if (popAfter && !stop) pop();
}

/** FLD constants (D9 E8-EE), rounded by the rounding control: the 66-bit values the SDM
 *  gives (8.3.8 "Load Constant Instructions": internal constants rounded as the RC says). */
function loadConstant(k: u32): void {
  let e: i32 = 0, m: u64 = 0, below: u64 = 0;
  // Each constant: exponent, 64 significand bits, and the next bits (for rounding).
  if (k == 0) { e = BIAS; m = TOP; }                                      // 1
  else if (k == 1) { e = BIAS + 1; m = 0xd49a784bcd1b8afe; below = 0x4000000000000000; } // l2t
  else if (k == 2) { e = BIAS; m = 0xb8aa3b295c17f0bb; below = 0xc000000000000000; }  // l2e
  else if (k == 3) { e = BIAS + 1; m = 0xc90fdaa22168c234; below = 0xc000000000000000; } // pi
  else if (k == 4) { e = BIAS - 2; m = 0x9a209a84fbcff798; below = 0x8000000000000001; } // lg2
  else if (k == 5) { e = BIAS - 1; m = 0xb17217f7d1cf79ab; below = 0xc000000000000000; } // ln2
  else { setOutParts(0, 0, 0); pushOut(); return; }                       // +0
  const rc = roundingOf(fcw());
  // Rounded as the SDM describes: to nearest with the extra bits, else by direction; no
  // precision exception (the constants' loads raise none).
  let mm = m;
  if (below != 0) {
    if (rc == 0) { if (below > TOP || (below == TOP && (m & 1) != 0)) mm = m + 1; }
    else if (rc == 2) mm = m + 1;
  }
  setOutParts(0, e, mm);
  pushOut();
}

// ---- The escape opcodes ----

/** Executes the x87 instruction whose first byte is `b` (D8-DF). */
export function x87(b: u32): void {
  decodeModrm(); if (faulted) return;
  const mem = modrm < 0xc0;
  const r = regField();
  const i = modrm & 7;
  if (mem) execMem(b, r); else execReg(b, r, i);
}

function execMem(b: u32, r: u32): void {
  const s = eaSeg, o = eaOff;
  if (b == 0xd8 || b == 0xdc || b == 0xda || b == 0xde) {
    // Arithmetic with a memory operand: m32real, m64real, m32int, m16int.
    if (!begin(b, true)) return;
    const f: u32 = b == 0xd8 ? 0 : b == 0xdc ? 2 : b == 0xda ? 1 : 3;
    if (r == 2 || r == 3) {
      readMem(f); if (faulted) return;
      compareWith(memSe, memMan, false, r == 3 ? 1 : 0, false, srcDenormal);
      return;
    }
    arithMem(r, f);
    return;
  }
  if (b == 0xd9) {
    if (r == 0) { if (!begin(b, true)) return; loadReal(0); return; }
    if (r == 2 || r == 3) { if (!begin(b, true)) return; storeMem(0, r == 3); return; }
    if (r == 4) { if (!beginControl()) return; loadEnv(s, o, osz == 32); return; }
    if (r == 5) {
      if (!beginControl()) return;
      const v = rd16(s, o); if (faulted) return;
      setFcw(v); recomputeSummary(); return;
    }
    if (r == 6) {
      if (!beginControl()) return;
      probeWrite(s, o, osz == 32 ? 28 : 14); if (faulted) return;
      storeEnv(s, o, osz == 32);
      // FNSTENV masks every exception afterwards (SDM vol. 2A, FSTENV).
      setFcw(fcw() | 0x3f);
      return;
    }
    if (r == 7) { if (!beginControl()) return; wr16(s, o, fcw()); return; }
    raise(6, 0, false); return;
  }
  if (b == 0xdb) {
    if (r == 0) { if (!begin(b, true)) return; readMem(1); if (faulted) return; pushOut(); return; }
    if (r == 2 || r == 3) { if (!begin(b, true)) return; storeMem(1, r == 3); return; }
    if (r == 5) { if (!begin(b, true)) return; readMem(4); if (faulted) return; pushOut(); return; }
    if (r == 7) { if (!begin(b, true)) return; storeMem(4, true); return; }
    raise(6, 0, false); return; // FISTTP (SSE3) and the reserved forms
  }
  if (b == 0xdd) {
    if (r == 0) { if (!begin(b, true)) return; loadReal(2); return; }
    if (r == 2 || r == 3) { if (!begin(b, true)) return; storeMem(2, r == 3); return; }
    if (r == 4) { if (!beginControl()) return; frstor(s, o, osz == 32); return; }
    if (r == 6) { if (!beginControl()) return; fsave(s, o, osz == 32); return; }
    if (r == 7) { if (!beginControl()) return; wr16(s, o, fsw()); return; }
    raise(6, 0, false); return;
  }
  // DF
  if (r == 0) { if (!begin(b, true)) return; readMem(3); if (faulted) return; pushOut(); return; }
  if (r == 2 || r == 3) { if (!begin(b, true)) return; storeMem(3, r == 3); return; }
  if (r == 4) { if (!begin(b, true)) return; readMem(6); if (faulted) return; pushOut(); return; }
  if (r == 5) { if (!begin(b, true)) return; readMem(5); if (faulted) return; pushOut(); return; }
  if (r == 6) { if (!begin(b, true)) return; storeMem(6, true); return; }
  if (r == 7) { if (!begin(b, true)) return; storeMem(5, true); return; }
  raise(6, 0, false);
}

function execReg(b: u32, r: u32, i: u32): void {
  if (b == 0xd8) {
    if (!begin(b, false)) return;
    if (r == 2 || r == 3) { compareReg(i, false, r == 3 ? 1 : 0, false); return; }
    arithRegs(r, 0, i, false);
    return;
  }
  if (b == 0xdc) {
    if (!begin(b, false)) return;
    if (r == 2 || r == 3) { compareReg(i, false, r == 3 ? 1 : 0, false); return; }
    // ST(i) = ST(i) op ST(0): /4 is FSUBR, /5 FSUB, /6 FDIVR, /7 FDIV (table A-17).
    arithRegs(r < 4 ? r : r ^ 1, i, i, false);
    return;
  }
  if (b == 0xde) {
    if (!begin(b, false)) return;
    if (r == 2) { compareReg(i, false, 1, false); return; }
    if (r == 3) {
      if (i != 1) { raise(6, 0, false); return; }
      compareReg(1, false, 2, false); return; // FCOMPP
    }
    arithRegs(r < 4 ? r : r ^ 1, i, i, true);
    return;
  }
  if (b == 0xd9) { execD9(b, r, i); return; }
  if (b == 0xda) {
    if (r < 4) { if (!begin(b, false)) return; fcmov(r, false, i); return; }
    if (r == 5 && i == 1) { if (!begin(b, false)) return; compareReg(1, true, 2, false); return; }
    raise(6, 0, false); return;
  }
  if (b == 0xdb) {
    if (r < 4) { if (!begin(b, false)) return; fcmov(r, true, i); return; }
    if (r == 4) {
      if (i == 2) { if (!beginControl()) return; clearEx(); return; }
      if (i == 3) { if (!beginControl()) return; fpuInit(); return; }
      if (i == 0 || i == 1 || i == 4) { beginControl(); return; } // FENI, FDISI, FSETPM: no-ops
      raise(6, 0, false); return;
    }
    if (r == 5) { if (!begin(b, false)) return; compareReg(i, true, 0, true); return; }
    if (r == 6) { if (!begin(b, false)) return; compareReg(i, false, 0, true); return; }
    raise(6, 0, false); return;
  }
  if (b == 0xdd) {
    if (!begin(b, false)) return;
    if (r == 0) { setTag(phys(i), TAG_EMPTY); report(0); return; } // FFREE
    if (r == 1) { fxch(i); return; }
    if (r == 2 || r == 3) { fstReg(i, r == 3); return; }
    if (r == 4) { compareReg(i, true, 0, false); return; }
    if (r == 5) { compareReg(i, true, 1, false); return; }
    raise(6, 0, false); return;
  }
  // DF
  if (r == 4 && i == 0) { if (!beginControl()) return; setReg16(EAX, fsw()); return; }
  if (!begin(b, false)) return;
  if (r == 0) { setTag(phys(i), TAG_EMPTY); pop(); report(0); return; } // FFREEP
  if (r == 1) { fxch(i); return; }
  if (r == 2 || r == 3) { fstReg(i, true); return; }
  if (r == 5) { compareReg(i, true, 1, true); return; }
  if (r == 6) { compareReg(i, false, 1, true); return; }
  raise(6, 0, false);
}

function clearEx(): void {
  // FNCLEX: clears the exception flags, SF, ES and B (SDM vol. 2A, FCLEX).
  setFsw(fsw() & ~(0x7f | SW_ES | SW_B));
  ferrFollowEs();
}

function fxch(i: u32): void {
  let aSe: u32 = INDEF_SE, aM: u64 = INDEF_MAN, bSe: u32 = INDEF_SE, bM: u64 = INDEF_MAN;
  const e0 = stEmpty(0), ei = stEmpty(i);
  if (e0 || ei) {
    setFx(fx | FE_IE | FE_SF);
    if ((fcw() & FE_IE) == 0) { finish(); return; }
  }
  if (!e0) { aSe = stSe(0); aM = stMan(0); }
  if (!ei) { bSe = stSe(i); bM = stMan(i); }
  setSt(0, bSe, bM); setSt(i, aSe, aM);
  setC1(false);
  report(fx);
}

function fstReg(i: u32, popAfter: bool): void {
  if (stEmpty(0)) {
    setFx(fx | FE_IE | FE_SF);
    if ((fcw() & FE_IE) == 0) { finish(); return; }
    setSt(i, INDEF_SE, INDEF_MAN);
  } else setSt(i, stSe(0), stMan(0));
  setC1(false);
  report(fx);
  if (popAfter) pop();
}

/** FCMOVcc (P6): B, E, BE, U and their negations (DB). */
function fcmov(r: u32, negate: bool, i: u32): void {
  if (stEmpty(0) || stEmpty(i)) {
    setFx(fx | FE_IE | FE_SF);
    if ((fcw() & FE_IE) == 0) { finish(); return; }
  }
  // cc: B = CF (2), E = ZF (4), BE = CF|ZF (6), U = PF (10) in testCC's numbering.
  const cc: u32 = r == 0 ? 2 : r == 1 ? 4 : r == 2 ? 6 : 10;
  let take = testCC(cc);
  if (negate) take = !take;
  if (take) {
    if (stEmpty(i)) setSt(0, INDEF_SE, INDEF_MAN); else setSt(0, stSe(i), stMan(i));
  }
  setC1(false);
  report(fx);
}

function execD9(b: u32, r: u32, i: u32): void {
  if (r == 0) { // FLD ST(i)
    if (!begin(b, false)) return;
    if (stEmpty(i)) { underflow(); pushOut(); return; }
    setOutParts(stSe(i) >> 15, <i32>(stSe(i) & 0x7fff), stMan(i));
    pushOut();
    return;
  }
  if (r == 1) { if (!begin(b, false)) return; fxch(i); return; }
  if (r == 2) {
    if (i == 0) { if (!begin(b, false)) return; report(0); return; } // FNOP
    raise(6, 0, false); return;
  }
  if (r == 3) { if (!begin(b, false)) return; fstReg(i, true); return; } // FSTP1 alias
  const x = (r << 3) | i; // D9 E0-FF
  if (!begin(b, false)) return;
  if (r == 5) {
    if (i == 7) { raise(6, 0, false); return; }
    loadConstant(i);
    return;
  }
  if (x == 0x20 || x == 0x21) { // FCHS, FABS
    if (stEmpty(0)) { underflow(); writeSt(0); finish(); return; }
    if (x == 0x20) fchs(stSe(0), stMan(0)); else fabs(stSe(0), stMan(0));
    writeSt(0); setC1(false); report(fx);
    return;
  }
  if (x == 0x24) { // FTST
    compareWith(0, 0, false, 0, false);
    return;
  }
  if (x == 0x25) { // FXAM
    let c: u32;
    const p = phys(0);
    if (tagOf(p) == TAG_EMPTY) c = 5;
    else c = fxamClass(seOf(p), manOf(p));
    let sw = fsw() & ~SW_CC;
    if ((c & 1) != 0) sw |= SW_C0;
    if ((c & 2) != 0) sw |= SW_C2;
    if ((c & 4) != 0) sw |= SW_C3;
    if ((seOf(p) & 0x8000) != 0) sw |= SW_C1;
    setFsw(sw);
    return;
  }
  if (x == 0x36) { setTop(top() - 1); setC1(false); report(0); return; } // FDECSTP
  if (x == 0x37) { setTop(top() + 1); setC1(false); report(0); return; } // FINCSTP
  if (x == 0x3a) { // FSQRT
    if (stEmpty(0)) underflow(); else fsqrt(stSe(0), stMan(0), fcw());
    writeSt(0); finish();
    return;
  }
  if (x == 0x3c) { // FRNDINT
    if (stEmpty(0)) underflow(); else frndint(stSe(0), stMan(0), fcw());
    writeSt(0); finish();
    return;
  }
  if (x == 0x3d) { // FSCALE
    if (stEmpty(0) || stEmpty(1)) underflow();
    else fscale(stSe(0), stMan(0), stSe(1), stMan(1), fcw());
    writeSt(0); finish();
    return;
  }
  if (x == 0x38 || x == 0x35) { // FPREM, FPREM1
    let codes: u32 = 0;
    if (stEmpty(0) || stEmpty(1)) underflow();
    else { fprem(stSe(0), stMan(0), stSe(1), stMan(1), x == 0x35, fcw()); codes = premCodes; }
    const ok = writeSt(0);
    let sw = fsw() & ~SW_CC;
    if (ok && (fx & FE_IE) == 0) {
      if ((codes & 1) != 0) sw |= SW_C0;
      if ((codes & 2) != 0) sw |= SW_C1;
      if ((codes & 4) != 0) sw |= SW_C2;
      if ((codes & 8) != 0) sw |= SW_C3;
    }
    setFsw(sw);
    report(fx);
    return;
  }
  if (x == 0x34) { // FXTRACT: ST(0) = exponent, then push the significand
    if (stEmpty(0)) {
      underflow(); writeSt(0);
      if (!blocked()) { pushOut(); return; }
      finish(); return;
    }
    if (!stEmpty(7)) {
      setFx(fx | FE_IE | FE_SF);
      if ((fcw() & FE_IE) != 0) {
        setSt(0, INDEF_SE, INDEF_MAN); pushTop(); setSt(0, INDEF_SE, INDEF_MAN);
      }
      setC1(true); report(fx); return;
    }
    fxtract(stSe(0), stMan(0), fcw());
    if (blocked()) { finish(); return; }
    setSt(0, packedSe(), outMan);
    pushTop();
    setSt(0, sigSe, sigMan);
    setC1(false);
    report(fx);
    return;
  }
  if (x == 0x30) { // F2XM1
    if (stEmpty(0)) underflow(); else f2xm1(stSe(0), stMan(0), fcw());
    writeSt(0); finish();
    return;
  }
  if (x == 0x31 || x == 0x33 || x == 0x39) { // FYL2X, FPATAN, FYL2XP1: ST(1) = f, pop
    if (stEmpty(0) || stEmpty(1)) underflow();
    else if (x == 0x31) fyl2x(stSe(0), stMan(0), stSe(1), stMan(1), fcw());
    else if (x == 0x39) fyl2xp1(stSe(0), stMan(0), stSe(1), stMan(1), fcw());
    else fpatan(stSe(1), stMan(1), stSe(0), stMan(0), fcw());
    const ok = writeSt(1);
    finish();
    if (ok) pop();
    return;
  }
  if (x == 0x3e || x == 0x3f || x == 0x32 || x == 0x3b) { // FSIN, FCOS, FPTAN, FSINCOS
    const pushes = x == 0x32 || x == 0x3b;
    if (stEmpty(0)) {
      underflow(); writeSt(0);
      if (pushes && !blocked()) { pushTop(); setSt(0, INDEF_SE, INDEF_MAN); }
      finish(); return;
    }
    if (pushes && !stEmpty(7)) {
      setFx(fx | FE_IE | FE_SF);
      if ((fcw() & FE_IE) != 0) {
        setSt(0, INDEF_SE, INDEF_MAN); pushTop(); setSt(0, INDEF_SE, INDEF_MAN);
      }
      setC1(true); report(fx); return;
    }
    const se = stSe(0), m = stMan(0), cw = fcw();
    trig(x == 0x3f ? 1 : x == 0x32 ? 2 : 0, se, m, cw);
    if (outOfRange) { setFsw((fsw() & ~(SW_C1 | SW_C2)) | SW_C2); report(fx); return; }
    if (blocked()) { finish(); return; }
    let r0Se = packedSe(), r0M = outMan;
    const nan = classify(se, m) == K_QNAN || classify(se, m) == K_SNAN ||
      (fx & FE_IE) != 0;
    if (nan && pushes) {
      // A NaN operand or a masked invalid operation: the QNaN in ST(0) and pushed as the
      // second result (measured).
      setSt(0, r0Se, r0M); pushTop(); setSt(0, r0Se, r0M);
      setFsw(fsw() & ~SW_C2); finish(); return;
    }
    const up0 = roundedUp;
    if (x == 0x3b) { // FSINCOS: the sine replaces ST(0), then the cosine is pushed
      trig(1, se, m, cw);
      setSt(0, r0Se, r0M);
      pushTop();
      setSt(0, packedSe(), outMan);
      setRoundedUp(up0); // C1 follows the sine (measured)
    } else {
      setSt(0, r0Se, r0M);
      if (x == 0x32) { pushTop(); setSt(0, BIAS, TOP); setRoundedUp(up0); }
    }
    setFsw(fsw() & ~SW_C2);
    finish();
    return;
  }
  raise(6, 0, false);
}
