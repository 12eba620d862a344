// The x87 operations on register-format values, with their special cases (Intel SDM vol. 1,
// 4.8.3 and chapter 8; vol. 2A/2B, the instruction pages: FADD, FSUB, FMUL, FDIV, FSQRT,
// FPREM, FPREM1, FSCALE, FRNDINT, FXTRACT, FCOM/FUCOM, FXAM) and the conversions between the
// register format and the memory formats (single, double, integers, packed BCD). Operands
// are (sign/exponent word, significand) pairs; results go to f80's outSign/outExp/outMan and
// exception flags to f80's `fx`.
import {
  fx, roundedUp, outSign, outExp, outMan, classify, normExp, normMan, nanResult,
  outIndefinite, outInf, outZero, roundPack, addFinite, mulFinite, divFinite, sqrtFinite,
  roundToInteger, intMag, intHuge, fromInteger, compareFinite, FE_IE, FE_DE, FE_ZE, FE_PE,
  FE_UE, FE_OE, SCALE, K_ZERO, K_DENORM, K_NORMAL, K_INF, K_QNAN, K_SNAN, K_UNSUPP, TOP, QBIT,
  BIAS, EXP_MAX, FMT_EXT, FMT_DOUBLE, FMT_SINGLE, RC_NEAREST, RC_UP, RC_DOWN, RC_ZERO,
  setFx, setRoundedUp, setOutParts,
} from './f80';

export const OP_ADD: u32 = 0;
export const OP_MUL: u32 = 1;
export const OP_SUB: u32 = 4;
export const OP_SUBR: u32 = 5;
export const OP_DIV: u32 = 6;
export const OP_DIVR: u32 = 7;

@inline function isNan(k: u32): bool { return k == K_QNAN || k == K_SNAN; }
@inline function signOf(se: u32): u32 { return (se >> 15) & 1; }

/** Precision control → significand bits (SDM vol. 1, 8.1.5.2, table 8-4; 01b reserved:
 *  treated as 64 bits). */
export function precisionOf(cw: u32): i32 {
  const pc = (cw >> 8) & 3;
  return pc == 0 ? 24 : pc == 2 ? 53 : 64;
}
@inline export function roundingOf(cw: u32): u32 { return (cw >> 10) & 3; }

/** ST(0) op src for the six arithmetic operations, with every special case. */
/** Raises #D; true when it is unmasked, which stops the instruction before it computes
 *  anything (SDM vol. 1, 4.9.2 and 8.5.2). */
export function denStop(cw: u32): bool {
  setFx(fx | FE_DE);
  return (cw & FE_DE) == 0;
}

/** Set by fromSingle/fromDouble when the memory operand was a denormal of its own format
 *  (it converts exactly to a normal extended value, but still raises #D). */
export let srcDenormal: bool = false;
export function clearSrcDenormal(): void { srcDenormal = false; }

export function arith(op: u32, aSe: u32, aMan: u64, bSe: u32, bMan: u64, cw: u32,
  srcDen: bool = false): void {
  // The reversed forms compute src op ST(0).
  if (op == OP_SUBR || op == OP_DIVR) {
    const tSe = aSe; aSe = bSe; bSe = tSe;
    const tM = aMan; aMan = bMan; bMan = tM;
    op = op == OP_SUBR ? OP_SUB : OP_DIV;
  }
  const ka = classify(aSe, aMan), kb = classify(bSe, bMan);
  const sa = signOf(aSe);
  let sb = signOf(bSe);
  if (ka == K_UNSUPP || kb == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (isNan(ka) || isNan(kb)) { nanResult(sa, aMan, ka, sb, bMan, kb, true); return; }
  const prec = precisionOf(cw), rc = roundingOf(cw);
  const den = ka == K_DENORM || kb == K_DENORM || srcDen;
  if (op == OP_SUB) { sb ^= 1; op = OP_ADD; }
  if (op == OP_ADD) {
    if (ka == K_INF || kb == K_INF) {
      if (ka == K_INF && kb == K_INF && sa != sb) { setFx(fx | FE_IE); outIndefinite(); return; }
      if (den && denStop(cw)) return;
      outInf(ka == K_INF ? sa : sb);
      return;
    }
    if (den && denStop(cw)) return;
    addFinite(sa, normExp(aSe, aMan), normMan(aSe, aMan), sb, normExp(bSe, bMan),
      normMan(bSe, bMan), prec, rc, cw);
    return;
  }
  const s = sa ^ sb;
  if (op == OP_MUL) {
    if (ka == K_INF || kb == K_INF) {
      if (ka == K_ZERO || kb == K_ZERO) { setFx(fx | FE_IE); outIndefinite(); return; }
      if (den && denStop(cw)) return;
      outInf(s);
      return;
    }
    if (den && denStop(cw)) return;
    mulFinite(sa, normExp(aSe, aMan), normMan(aSe, aMan), sb, normExp(bSe, bMan),
      normMan(bSe, bMan), prec, rc, cw);
    return;
  }
  // Division a / b.
  if (ka == K_INF) {
    if (kb == K_INF) { setFx(fx | FE_IE); outIndefinite(); return; }
    if (den && denStop(cw)) return;
    outInf(s);
    return;
  }
  if (kb == K_INF) { if (den && denStop(cw)) return; outZero(s); return; }
  if (kb == K_ZERO) {
    if (ka == K_ZERO) { setFx(fx | FE_IE); outIndefinite(); return; }
    // Zero divide outranks the denormal operand (SDM vol. 1, 4.9.2): only #Z.
    setFx(fx | FE_ZE);
    outInf(s);
    return;
  }
  if (den && denStop(cw)) return;
  if (ka == K_ZERO) { outZero(s); return; }
  divFinite(sa, normExp(aSe, aMan), normMan(aSe, aMan), sb, normExp(bSe, bMan),
    normMan(bSe, bMan), prec, rc, cw);
}

/** FSQRT (SDM vol. 2A): negative non-zero operands are invalid; -0 gives -0. */
export function fsqrt(aSe: u32, aMan: u64, cw: u32): void {
  const k = classify(aSe, aMan), s = signOf(aSe);
  if (k == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (isNan(k)) { nanResult(s, aMan, k, 0, 0, K_ZERO, false); return; }
  if (k == K_ZERO) { outZero(s); return; }
  if (s != 0) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (k == K_INF) { outInf(0); return; }
  if (k == K_DENORM && denStop(cw)) return;
  sqrtFinite(normExp(aSe, aMan), normMan(aSe, aMan), precisionOf(cw), roundingOf(cw), cw);
}

/** FRNDINT: rounds to an integer by the rounding control (precision control ignored). */
export function frndint(aSe: u32, aMan: u64, cw: u32): void {
  const k = classify(aSe, aMan), s = signOf(aSe);
  if (k == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (isNan(k)) { nanResult(s, aMan, k, 0, 0, K_ZERO, false); return; }
  if (k == K_ZERO || k == K_INF) { setOutParts(s, <i32>(aSe & 0x7fff), aMan); return; }
  if (k == K_DENORM && denStop(cw)) return;
  const e = normExp(aSe, aMan), m = normMan(aSe, aMan);
  if (e - BIAS >= 63) { setOutParts(s, e, m); return; }
  roundToInteger(s, e, m, roundingOf(cw));
  fromInteger(s, intMag);
  if (intHuge) setOutParts(s, BIAS + 64, TOP); // 2^64, from rounding up 2^64 - epsilon
}

/** FABS and FCHS change only the sign, whatever the operand (no exception but #IS). */
export function fabs(aSe: u32, aMan: u64): void {
  setOutParts(0, <i32>(aSe & 0x7fff), aMan);
}
export function fchs(aSe: u32, aMan: u64): void {
  setOutParts(signOf(aSe) ^ 1, <i32>(aSe & 0x7fff), aMan);
}

/** Condition codes of a comparison (SDM vol. 2A, FCOM table 3-?): C3 C2 C0. */
export const CMP_GT: u32 = 0;
export const CMP_LT: u32 = 1;     // C0
export const CMP_EQ: u32 = 0x40;  // C3 (in the C3..C0 positions of cmpCodes below)
export const CMP_UN: u32 = 0x45;
/** Compares a with b: 0 greater, 1 less, 2 equal, 3 unordered. `quiet`: FUCOM (QNaNs do
 *  not raise #IA). */
export function fcompare(aSe: u32, aMan: u64, bSe: u32, bMan: u64, quiet: bool,
  srcDen: bool = false): u32 {
  const ka = classify(aSe, aMan), kb = classify(bSe, bMan);
  if (ka == K_UNSUPP || kb == K_UNSUPP) { setFx(fx | FE_IE); return 3; }
  if (isNan(ka) || isNan(kb)) {
    if (!quiet || ka == K_SNAN || kb == K_SNAN) setFx(fx | FE_IE);
    return 3;
  }
  if (ka == K_DENORM || kb == K_DENORM || srcDen) setFx(fx | FE_DE);
  const sa = signOf(aSe), sb = signOf(bSe);
  let c: i32;
  if (ka == K_INF || kb == K_INF) {
    const va: i32 = ka == K_INF ? (sa != 0 ? -1 : 1) : 0;
    const vb: i32 = kb == K_INF ? (sb != 0 ? -1 : 1) : 0;
    if (ka == K_INF && kb == K_INF) c = va == vb ? 0 : va > vb ? 1 : -1;
    else if (ka == K_INF) c = va;
    else c = -vb;
  } else {
    c = compareFinite(sa, normExp(aSe, aMan), normMan(aSe, aMan), sb, normExp(bSe, bMan),
      normMan(bSe, bMan));
  }
  return c > 0 ? 0 : c < 0 ? 1 : 2;
}

/** FXAM's class in C3 C2 C0 (SDM vol. 2A, FXAM table 3-?): the caller handles empty. */
export function fxamClass(aSe: u32, aMan: u64): u32 {
  // Result bits: C3 = 4, C2 = 2, C0 = 1.
  const k = classify(aSe, aMan);
  if (k == K_UNSUPP) return 0;
  if (k == K_QNAN || k == K_SNAN) return 1;
  if (k == K_NORMAL) return 2;
  if (k == K_INF) return 3;
  if (k == K_ZERO) return 4;
  return 6; // denormal
}

/** FXTRACT: exponent to ST(1)'s place (returned in out*), significand in sigSe/sigMan. */
export let sigSe: u32 = 0;
export let sigMan: u64 = 0;
export function fxtract(aSe: u32, aMan: u64, cw: u32): void {
  const k = classify(aSe, aMan), s = signOf(aSe);
  if (k == K_UNSUPP) {
    setFx(fx | FE_IE); outIndefinite(); sigSe = 0xffff; sigMan = 0xc000000000000000; return;
  }
  if (isNan(k)) {
    nanResult(s, aMan, k, 0, 0, K_ZERO, false);
    sigSe = (outSign << 15) | <u32>outExp; sigMan = outMan;
    return;
  }
  if (k == K_ZERO) {
    // Zero: #Z; the exponent is -infinity and the significand the zero (SDM vol. 2A).
    setFx(fx | FE_ZE);
    outInf(1);
    sigSe = aSe; sigMan = aMan;
    return;
  }
  if (k == K_INF) { outInf(0); sigSe = aSe; sigMan = aMan; return; }
  if (k == K_DENORM && denStop(cw)) return;
  const e = normExp(aSe, aMan);
  sigSe = (s << 15) | <u32>BIAS;
  sigMan = normMan(aSe, aMan);
  const E = e - BIAS;
  fromInteger(E < 0 ? 1 : 0, <u64>(E < 0 ? -E : E));
}

/** FSCALE: ST(0) * 2^RoundTowardZero(ST(1)) (SDM vol. 2A, FSCALE, table 3-?). */
export function fscale(aSe: u32, aMan: u64, bSe: u32, bMan: u64, cw: u32): void {
  const ka = classify(aSe, aMan), kb = classify(bSe, bMan);
  const sa = signOf(aSe), sb = signOf(bSe);
  if (ka == K_UNSUPP || kb == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (isNan(ka) || isNan(kb)) { nanResult(sa, aMan, ka, sb, bMan, kb, true); return; }
  if ((ka == K_DENORM || kb == K_DENORM) && denStop(cw)) return;
  if (kb == K_INF) {
    if (sb == 0) {
      if (ka == K_ZERO) { setFx(fx | FE_IE); outIndefinite(); return; }
      outInf(sa); return;
    }
    if (ka == K_INF) { setFx(fx | FE_IE); outIndefinite(); return; }
    outZero(sa); return;
  }
  if (ka == K_ZERO || ka == K_INF) { setOutParts(sa, <i32>(aSe & 0x7fff), aMan); return; }
  // The scale: ST(1) truncated to an integer; huge scales saturate (the result over- or
  // underflows either way).
  let n: i32;
  if (kb == K_ZERO) n = 0;
  else {
    const eb = normExp(bSe, bMan) - BIAS;
    if (eb >= 31) n = 0x40000000;
    else if (eb < 0) n = 0;
    else n = <i32>(normMan(bSe, bMan) >> <u64>(63 - eb));
    if (sb != 0) n = -n;
  }
  const e = normExp(aSe, aMan);
  roundPack(sa, e + n, normMan(aSe, aMan), 0, 64, FMT_EXT, roundingOf(cw), cw);
}

/**
 * FPREM (`round` false: quotient truncated) and FPREM1 (IEEE remainder: quotient rounded to
 * nearest even), SDM vol. 2A. The remainder replaces ST(0); C0, C3, C1 get quotient bits 2,
 * 1, 0; C2 is set when the reduction is partial (exponent difference 64 or more: the
 * remainder is then reduced by a power of two, and software repeats the instruction).
 */
export let premCodes: u32 = 0; // bit 0 C0, bit 1 C1, bit 2 C2, bit 3 C3
export function fprem(aSe: u32, aMan: u64, bSe: u32, bMan: u64, round: bool, cw: u32): void {
  premCodes = 0;
  const ka = classify(aSe, aMan), kb = classify(bSe, bMan);
  const sa = signOf(aSe), sb = signOf(bSe);
  if (ka == K_UNSUPP || kb == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (isNan(ka) || isNan(kb)) { nanResult(sa, aMan, ka, sb, bMan, kb, true); return; }
  if (ka == K_INF || kb == K_ZERO) { setFx(fx | FE_IE); outIndefinite(); return; }
  if ((ka == K_DENORM || kb == K_DENORM) && denStop(cw)) return;
  if (ka == K_ZERO || kb == K_INF) { passThrough(aSe, aMan); return; }
  const ea = normExp(aSe, aMan), eb = normExp(bSe, bMan);
  const ma = normMan(aSe, aMan), mb = normMan(bSe, bMan);
  let d = ea - eb;
  if (d < 0) {
    // |a| < |b| except when FPREM1 rounds the quotient (0.5 < |a/b|: quotient 1).
    if (!round || d < -1) { passThrough(aSe, aMan); return; }
  }
  let partial = false;
  let shift = d;
  if (d >= 64) {
    // Partial reduction: reduce the exponent difference to a value between 32 and 63.
    partial = true;
    shift = 32 + ((d - 32) & 31);
  }
  // Long division of ma * 2^shift by mb: r = ma, quotient bits as we go.
  let r = ma;
  let q: u64 = 0;
  const steps = shift < 0 ? 0 : shift + 1;
  let rExp = eb; // the remainder's exponent scale: r is in units of mb's
  for (let i = 0; i < steps; i++) {
    if (i > 0) {
      // r < mb here; double it (r may reach 2^64: keep the carry).
      const carry = (r & TOP) != 0;
      r <<= 1;
      q <<= 1;
      if (carry || r >= mb) { r -= mb; q |= 1; }
    } else if (r >= mb) { r -= mb; q |= 1; }
  }
  let rs = sa;
  if (partial) {
    // The remainder keeps ST(0)'s sign and exponent minus the part reduced.
    rExp = ea - shift;
  }
  if (round && !partial) {
    if (shift < 0) {
      // d == -1: the quotient rounds to 1 when a > b/2, i.e. ma > mb; the remainder is
      // then b - a = (2 mb - ma) * 2^(eb - 1 - 63), below mb (a tie keeps the even 0).
      if (ma <= mb) { passThrough(aSe, aMan); return; }
      setCodes(1);
      normalizeRemainder(sa ^ 1, eb - 1, (mb - ma) + mb, cw);
      return;
    }
    // Nearest: compare 2r with mb (the half point), ties to the even quotient.
    const over = (r & TOP) != 0;
    const twice = r << 1;
    const gt = over || twice > mb;
    const eq = !over && twice == mb;
    if (gt || (eq && (q & 1) != 0)) { r = mb - r; q++; rs = sa ^ 1; }
  }
  setCodes(partial ? 0 : q);
  if (partial) premCodes |= 4;
  if (r == 0) { setOutParts(sa, 0, 0); return; }
  normalizeRemainder(rs, rExp, r, cw);
}

/** An operand returned as the result: a pseudo-denormal comes back with exponent 1, the
 *  form the CPU computes with (SDM vol. 1, 8.2.2: pseudo-denormals are read as denormals
 *  with exponent 1). */
function passThrough(se: u32, m: u64): void {
  const e = <i32>(se & 0x7fff);
  setOutParts(signOf(se), e == 0 && (m & TOP) != 0 ? 1 : e, m);
}

function setCodes(q: u64): void {
  // C0 = Q2, C3 = Q1, C1 = Q0.
  premCodes = (<u32>((q >> 2) & 1)) | (<u32>(q & 1) << 1) | (<u32>((q >> 1) & 1) << 3);
}

function normalizeRemainder(sign: u32, exp: i32, r: u64, cw: u32): void {
  const n = <i32>clz<u64>(r);
  let e = exp - n;
  let m = r << <u64>n;
  if (e < 1 && (cw & FE_UE) == 0) {
    // Unmasked underflow: the (exact) remainder is delivered scaled up (4.9.1.5).
    setFx(fx | FE_UE);
    setOutParts(sign, e + SCALE, m);
    return;
  }
  if (e < 1) {
    // A remainder below the normal range is exact as a denormal.
    const sh = 1 - e;
    m = sh >= 64 ? 0 : m >> <u64>sh;
    e = 0;
  }
  setOutParts(sign, e, m);
}

// ---- Conversions from memory formats (exact, except SNaNs made quiet) ----

export function fromSingle(v: u32): void {
  const s = v >> 31, e = <i32>((v >> 23) & 0xff), f = <u64>(v & 0x7fffff);
  if (e == 0xff) {
    if (f == 0) { outInf(s); return; }
    setOutParts(s, EXP_MAX, TOP | (f << 40)); // an SNaN stays signalling: the user decides
    return;
  }
  if (e == 0) {
    if (f == 0) { outZero(s); return; }
    srcDenormal = true;
    const n = <i32>clz<u64>(f);
    setOutParts(s, BIAS - 126 - 23 + 63 - n, f << <u64>n);
    return;
  }
  setOutParts(s, e - 127 + BIAS, TOP | (f << 40));
}

export function fromDouble(v: u64): void {
  const s = <u32>(v >> 63), e = <i32>((v >> 52) & 0x7ff), f = v & 0xfffffffffffff;
  if (e == 0x7ff) {
    if (f == 0) { outInf(s); return; }
    setOutParts(s, EXP_MAX, TOP | (f << 11));
    return;
  }
  if (e == 0) {
    if (f == 0) { outZero(s); return; }
    srcDenormal = true;
    const n = <i32>clz<u64>(f);
    setOutParts(s, BIAS - 1022 - 52 + 63 - n, f << <u64>n);
    return;
  }
  setOutParts(s, e - 1023 + BIAS, TOP | (f << 11));
}

/** FBLD: 18 packed BCD digits and a sign in byte 9 bit 7. Digits above 9 are undefined by
 *  the SDM; they are taken at their binary value. */
export function fromBcd(lo: u64, hi: u32): void {
  let v: u64 = 0;
  for (let i = 8; i >= 0; i--) {
    const byte = i == 8 ? hi & 0xff : <u32>((lo >> <u64>(i * 8)) & 0xff);
    v = v * 100 + <u64>((byte >> 4) * 10 + (byte & 15));
  }
  fromInteger((hi >> 15) & 1, v);
}

// ---- Conversions to memory formats (rounded by the rounding control) ----

/** The packed single or double of a register value (FST/FSTP m32/m64). */
export function toSingle(aSe: u32, aMan: u64, cw: u32): u32 {
  const k = classify(aSe, aMan), s = signOf(aSe);
  if (k == K_UNSUPP) { setFx(fx | FE_IE); return 0xffc00000; }
  if (isNan(k)) {
    if (k == K_SNAN) setFx(fx | FE_IE);
    return (s << 31) | 0x7fc00000 | <u32>((aMan >> 40) & 0x7fffff);
  }
  if (k == K_INF) return (s << 31) | 0x7f800000;
  if (k == K_ZERO) return s << 31;
  // Stores raise no #D (SDM vol. 2A: FST, FIST, FBSTP list none).
  roundPack(s, normExp(aSe, aMan), normMan(aSe, aMan), 0, 24, FMT_SINGLE, roundingOf(cw), cw);
  if (outExp == EXP_MAX) return (s << 31) | 0x7f800000;
  if ((outMan & TOP) == 0) return (s << 31) | <u32>(outMan >> 40);
  return (s << 31) | (<u32>(outExp - BIAS + 127) << 23) | <u32>((outMan >> 40) & 0x7fffff);
}

export function toDouble(aSe: u32, aMan: u64, cw: u32): u64 {
  const k = classify(aSe, aMan);
  const s = <u64>signOf(aSe) << 63;
  if (k == K_UNSUPP) { setFx(fx | FE_IE); return 0xfff8000000000000; }
  if (isNan(k)) {
    if (k == K_SNAN) setFx(fx | FE_IE);
    return s | 0x7ff8000000000000 | ((aMan >> 11) & 0xfffffffffffff);
  }
  if (k == K_INF) return s | 0x7ff0000000000000;
  if (k == K_ZERO) return s;
  // Stores raise no #D (SDM vol. 2A: FST, FIST, FBSTP list none).
  roundPack(signOf(aSe), normExp(aSe, aMan), normMan(aSe, aMan), 0, 53, FMT_DOUBLE,
    roundingOf(cw), cw);
  if (outExp == EXP_MAX) return s | 0x7ff0000000000000;
  if ((outMan & TOP) == 0) return s | (outMan >> 11);
  return s | (<u64>(outExp - BIAS + 1023) << 52) | ((outMan >> 11) & 0xfffffffffffff);
}

/** FIST/FISTP to a `bits`-bit integer; out of range, NaN or infinity: #IA and, masked, the
 *  integer indefinite (the most negative value). */
export function toInteger(aSe: u32, aMan: u64, bits: u32, cw: u32): u64 {
  const k = classify(aSe, aMan), s = signOf(aSe);
  const indef: u64 = <u64>1 << <u64>(bits - 1);
  if (k == K_UNSUPP || isNan(k) || k == K_INF) { setFx(fx | FE_IE); return indef; }
  if (k == K_ZERO) return 0;
  // Stores raise no #D (SDM vol. 2A: FST, FIST, FBSTP list none).
  roundToInteger(s, normExp(aSe, aMan), normMan(aSe, aMan), roundingOf(cw));
  const limit: u64 = s != 0 ? indef : indef - 1;
  if (intHuge || intMag > limit) {
    setFx((fx & ~FE_PE) | FE_IE); setRoundedUp(false);
    return indef;
  }
  const v = s != 0 ? <u64>0 - intMag : intMag;
  return bits == 64 ? v : v & ((<u64>1 << <u64>bits) - 1);
}

/** FBSTP: 18 BCD digits; 10^18 or more, NaN, infinity: #IA and the BCD indefinite. */
export let bcdHi: u32 = 0;
export function toBcd(aSe: u32, aMan: u64, cw: u32): u64 {
  const k = classify(aSe, aMan), s = signOf(aSe);
  if (k == K_UNSUPP || isNan(k) || k == K_INF) {
    setFx(fx | FE_IE); bcdHi = 0xffff; return 0xc000000000000000;
  }
  let mag: u64 = 0;
  if (k != K_ZERO) {
    // Stores raise no #D (SDM vol. 2A: FST, FIST, FBSTP list none).
    roundToInteger(s, normExp(aSe, aMan), normMan(aSe, aMan), roundingOf(cw));
    if (intHuge || intMag >= 1000000000000000000) {
      setFx((fx & ~FE_PE) | FE_IE); setRoundedUp(false);
      bcdHi = 0xffff; return 0xc000000000000000;
    }
    mag = intMag;
  }
  let lo: u64 = 0;
  let hiByte: u32 = 0;
  for (let i = 0; i < 9; i++) {
    const two = <u32>(mag % 100); mag /= 100;
    const b = ((two / 10) << 4) | (two % 10);
    if (i < 8) lo |= <u64>b << <u64>(i * 8); else hiByte = b;
  }
  bcdHi = hiByte | (s << 15);
  return lo;
}
