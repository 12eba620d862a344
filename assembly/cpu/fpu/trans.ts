// The transcendental instructions (Intel SDM vol. 2A/2B: FSIN, FCOS, FSINCOS, FPTAN,
// FPATAN, F2XM1, FYL2X, FYL2XP1) computed in a 128-bit significand format and rounded once to
// the register format by the rounding control, so the results are the correctly rounded
// values except where the CPU's own method shows through: FSIN, FCOS, FSINCOS and FPTAN
// reduce their argument by a 66-bit approximation of pi (SDM vol. 1, 8.3.10 "Pi"), exactly,
// as the x87 FPU does; the reduction here is exact integer arithmetic with that constant.
import {
  fx, setFx, roundPack, outIndefinite, outInf, outZero, setOutParts, nanResult, classify,
  normExp, normMan, FE_IE, FE_ZE, FE_PE, K_ZERO, K_DENORM, K_INF, K_QNAN, K_SNAN, K_UNSUPP,
  BIAS, TOP, FMT_EXT, mul64, mulHiOut, mulLoOut, outSign,
} from './f80';
import { denStop, roundingOf } from './ops';

/** A value s * (hi:lo / 2^127) * 2^e, hi with its top bit set (z: zero). */
class F { s: u32 = 0; e: i32 = 0; hi: u64 = 0; lo: u64 = 0; z: bool = true; }

function setF(d: F, a: F): void { d.s = a.s; d.e = a.e; d.hi = a.hi; d.lo = a.lo; d.z = a.z; }
function normF(d: F): void {
  if (d.hi == 0 && d.lo == 0) { d.z = true; return; }
  d.z = false;
  const n = d.hi != 0 ? <i32>clz<u64>(d.hi) : 64 + <i32>clz<u64>(d.lo);
  if (n == 0) return;
  if (n >= 64) { d.hi = d.lo << <u64>(n - 64); d.lo = 0; }
  else { d.hi = (d.hi << <u64>n) | (d.lo >> <u64>(64 - n)); d.lo <<= <u64>n; }
  d.e -= n;
}
function fromParts(d: F, s: u32, e: i32, hi: u64, lo: u64): void {
  d.s = s; d.e = e; d.hi = hi; d.lo = lo; normF(d);
}
function fromInt(d: F, v: i64): void {
  const neg = v < 0;
  fromParts(d, neg ? 1 : 0, 127, 0, <u64>(neg ? -v : v));
}
/** An extended value (finite) as F. */
function fromX(d: F, se: u32, m: u64): void {
  if (m == 0) { d.z = true; d.s = se >> 15; return; }
  fromParts(d, se >> 15, normExp(se, m) - BIAS, normMan(se, m), 0);
}

/** d = a + b (a, b, d may alias: the inputs are read first). */
const tA = new F(), tB = new F();
function addF(d: F, a: F, b: F): void {
  if (a.z) { setF(d, b); return; }
  if (b.z) { setF(d, a); return; }
  setF(tA, a); setF(tB, b);
  let x = tA, y = tB;
  if (y.e > x.e || (y.e == x.e && (y.hi > x.hi || (y.hi == x.hi && y.lo > x.lo)))) {
    x = tB; y = tA;
  }
  const sh = x.e - y.e;
  let yh = y.hi, yl = y.lo;
  // Bits shifted out of y fold into a sticky unit in the last place, so a contribution too
  // small for 128 bits still shows which way the sum lies.
  let lost = false;
  if (sh >= 128) { yh = 0; yl = 0; lost = true; }
  else if (sh >= 64) {
    lost = y.lo != 0 || (sh > 64 && (y.hi << <u64>(128 - sh)) != 0);
    yl = sh == 64 ? y.hi : y.hi >> <u64>(sh - 64); yh = 0;
  } else if (sh > 0) {
    lost = (yl << <u64>(64 - sh)) != 0;
    yl = (yl >> <u64>sh) | (yh << <u64>(64 - sh)); yh >>= <u64>sh;
  }
  if (lost) yl |= 1;
  if (x.s == y.s) {
    let lo = x.lo + yl;
    let c: u64 = lo < yl ? 1 : 0;
    let hi = x.hi + yh + c;
    const carry = hi < x.hi || (c != 0 && hi == x.hi);
    let e = x.e;
    if (carry) { lo = (lo >> 1) | (hi << 63); hi = (hi >> 1) | TOP; e++; }
    d.s = x.s; d.e = e; d.hi = hi; d.lo = lo; d.z = false;
    return;
  }
  const lo = x.lo - yl;
  const bw: u64 = x.lo < yl ? 1 : 0;
  const hi = x.hi - yh - bw;
  fromParts(d, x.s, x.e, hi, lo);
}
function subF(d: F, a: F, b: F): void {
  setF(tC, b); tC.s ^= 1;
  addF(d, a, tC);
}
const tC = new F();

/** d = a * b, truncated to 128 bits. */
function mulF(d: F, a: F, b: F): void {
  if (a.z || b.z) { d.z = true; d.s = a.s ^ b.s; return; }
  // (ah:al) * (bh:bl): the top 128 bits of the 256-bit product.
  mul64(a.hi, b.hi); const hh = mulHiOut(), hl = mulLoOut();
  mul64(a.hi, b.lo); const mh1 = mulHiOut(), ml1 = mulLoOut();
  mul64(a.lo, b.hi); const mh2 = mulHiOut(), ml2 = mulLoOut();
  mul64(a.lo, b.lo); const lh = mulHiOut();
  // Column 1 (bits 64-127 of the product): hl + mh1 + mh2 + carries from column 0.
  let c0 = ml1 + ml2; let k0: u64 = c0 < ml1 ? 1 : 0;
  const c0b = c0 + lh; if (c0b < c0) k0++;
  let c1 = hl + mh1; let k1: u64 = c1 < hl ? 1 : 0;
  const c1b = c1 + mh2; if (c1b < c1) k1++;
  const c1c = c1b + k0; if (c1c < c1b) k1++;
  const top = hh + k1;
  const s = a.s ^ b.s, e = a.e + b.e + 1;
  fromParts(d, s, e, top, c1c);
}

/** d = a / b (b not zero), 128 quotient bits (truncated). */
function divF(d: F, a: F, b: F): void {
  if (a.z) { d.z = true; d.s = a.s ^ b.s; return; }
  let rh = a.hi, rl = a.lo;
  let e = a.e - b.e;
  let qh: u64 = 0, ql: u64 = 0;
  let n = 0;
  if (rh > b.hi || (rh == b.hi && rl >= b.lo)) {
    const bw: u64 = rl < b.lo ? 1 : 0;
    rl -= b.lo; rh = rh - b.hi - bw;
    ql = 1; n = 1;
  } else e--;
  while (n < 128) {
    const over = (rh & TOP) != 0;
    rh = (rh << 1) | (rl >> 63); rl <<= 1;
    let bit: u64 = 0;
    if (over || rh > b.hi || (rh == b.hi && rl >= b.lo)) {
      const bw: u64 = rl < b.lo ? 1 : 0;
      rl -= b.lo; rh = rh - b.hi - bw;
      bit = 1;
    }
    qh = (qh << 1) | (ql >> 63); ql = (ql << 1) | bit;
    n++;
  }
  d.s = a.s ^ b.s; d.e = e; d.hi = qh; d.lo = ql; d.z = false;
}

function mulInt(d: F, a: F, n: i64): void { fromInt(tD, n); mulF(d, a, tD); }
function divInt(d: F, a: F, n: i64): void { fromInt(tD, n); divF(d, a, tD); }
const tD = new F();

/** Rounds F to the register format (out*), with the control word's rounding; a
 *  transcendental result is inexact (#P). */
function toX(a: F, cw: u32): void {
  setFx(fx | FE_PE);
  if (a.z) { setOutParts(a.s, 0, 0); return; }
  roundPack(a.s, a.e + BIAS, a.hi, a.lo, 64, FMT_EXT, roundingOf(cw), cw);
}

/** y * lg, rounded: the last step of FYL2X and FYL2XP1. */
function timesY(lg: F, ySe: u32, yM: u64, cw: u32): void {
  fromX(fy, ySe, yM);
  mulF(lg, lg, fy);
  toX(lg, cw);
}

// Constants, 128 bits of their binary expansions (computed at 400 bits with mpmath).
const PI = new F(), LN2 = new F(), LOG2E = new F(), ONE = new F(), HALF_PI = new F();
fromParts(PI, 0, 1, 0xc90fdaa22168c234, 0xc4c6628b80dc1cd1);
fromParts(HALF_PI, 0, 0, 0xc90fdaa22168c234, 0xc4c6628b80dc1cd1);
fromParts(LN2, 0, -1, 0xb17217f7d1cf79ab, 0xc9e3b39803f2f6af);
fromParts(LOG2E, 0, 0, 0xb8aa3b295c17f0bb, 0xbe87fed0691d3e88);
fromInt(ONE, 1);

/** A series stopped at a term too small to change 128 bits: the rest still decides the
 *  rounding direction, so one unit in the 128th bit goes toward the term's sign. */
function sticky(sum: F, t: F): void {
  if (t.z || sum.z) return;
  if (t.s == sum.s) { sum.lo |= 1; return; }
  if (sum.lo == 0) sum.hi -= 1;
  sum.lo -= 1;
  if ((sum.hi & TOP) == 0) normF(sum);
}

/** Sums a series until the term no longer changes the sum. */
const term = new F(), sum = new F(), sq = new F(), tmp = new F();

/** sin(r) (cos: `cosine`) by its Taylor series, |r| <= pi/4 (a little more). */
function sinCosSeries(d: F, r: F, cosine: bool): void {
  mulF(sq, r, r);
  if (cosine) { setF(term, ONE); } else setF(term, r);
  setF(sum, term);
  let n: i64 = cosine ? 1 : 2;
  for (let i = 0; i < 40; i++) {
    mulF(term, term, sq);
    divInt(term, term, n * (n + 1));
    term.s ^= 1;
    if (term.z || term.e < sum.e - 130) { sticky(sum, term); break; }
    addF(sum, sum, term);
    n += 2;
  }
  setF(d, sum);
}

// The argument reduction: x = k * (P / 2) + r with P the 66-bit pi: P = Q * 2^-64,
// Q = floor(pi * 2^64) (SDM vol. 1, 8.3.10), so P / 2 = Q * 2^-65.
const Q_HI: u64 = 0x3;                 // bits 65:64 of Q
const Q_LO: u64 = 0x243f6a8885a308d3;  // bits 63:0
let redQuad: u32 = 0;
const red = new F();
/** Reduces |x| < 2^63 (finite, non-zero) exactly: red = r, redQuad = k mod 4. */
function reduce(se: u32, m: u64): void {
  const E = normExp(se, m) - BIAS - 63; // x = M * 2^E
  const M = normMan(se, m);
  // X = M * 2^(E + 65), an integer of up to 192 bits when E + 65 >= 0.
  const sh = E + 65;
  if (sh < 0) {
    // |x| < 2^-1: already below pi/4? |x| < 0.5 < pi/4: no reduction.
    fromParts(red, 0, E + 63, M, 0);
    redQuad = 0;
    return;
  }
  // X as three limbs x2:x1:x0.
  let x0: u64 = 0, x1: u64 = 0, x2: u64 = 0;
  if (sh < 64) { x0 = M << <u64>sh; x1 = sh == 0 ? 0 : M >> <u64>(64 - sh); }
  else if (sh < 128) {
    const s2 = sh - 64;
    x1 = M << <u64>s2; x2 = s2 == 0 ? 0 : M >> <u64>(64 - s2);
  } else { x2 = M << <u64>(sh - 128); }
  // Long division by Q (66 bits): remainder r (< 2^67) and the quotient's low bits.
  let rh: u64 = 0, rl: u64 = 0, q: u64 = 0;
  for (let i = 191; i >= 0; i--) {
    const bit: u64 = i >= 128 ? (x2 >> <u64>(i - 128)) & 1
      : i >= 64 ? (x1 >> <u64>(i - 64)) & 1 : (x0 >> <u64>i) & 1;
    rh = (rh << 1) | (rl >> 63); rl = (rl << 1) | bit;
    q <<= 1;
    if (rh > Q_HI || (rh == Q_HI && rl >= Q_LO)) {
      const bw: u64 = rl < Q_LO ? 1 : 0;
      rl -= Q_LO; rh = rh - Q_HI - bw; q |= 1;
    }
  }
  // Round to the nearest multiple: r > Q/2 -> r -= Q, k += 1.
  let neg = false;
  const halfH = Q_HI >> 1, halfL = (Q_LO >> 1) | (Q_HI << 63);
  if (rh > halfH || (rh == halfH && rl > halfL)) {
    const bw: u64 = Q_LO < rl ? 1 : 0;
    rl = Q_LO - rl; rh = Q_HI - rh - bw;
    neg = true; q++;
  }
  redQuad = <u32>(q & 3);
  // r * 2^-65 (of |x|; the caller applies the argument's sign by symmetry).
  fromParts(red, neg ? 1 : 0, 127 - 65, rh, rl);
}

/** sin (which 0) or cos (which 1) of a reduced argument, in d. */
function sinCosOf(d: F, which: u32): void {
  // sin(k pi/2 + r): k = 0 sin r, 1 cos r, 2 -sin r, 3 -cos r; cos: shifted by one.
  const k = (redQuad + which) & 3;
  if (red.z) {
    if ((k & 1) == 0) { d.z = true; d.s = red.s; }
    else setF(d, ONE);
  } else sinCosSeries(d, red, (k & 1) != 0);
  if (k >= 2) d.s ^= 1;
}

/** The "operand out of range" result of FSIN/FCOS/FPTAN/FSINCOS: |x| >= 2^63 sets C2 and
 *  leaves ST(0) unchanged (SDM vol. 2A, FSIN). */
export let outOfRange: bool = false;

/** FSIN (which 0), FCOS (1), FPTAN (2): the result in out*. For FSINCOS call twice. */
export function trig(which: u32, se: u32, m: u64, cw: u32): void {
  outOfRange = false;
  const k = classify(se, m), s = se >> 15;
  if (k == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (k == K_QNAN || k == K_SNAN) { nanResult(s, m, k, 0, 0, K_ZERO, false); return; }
  if (k == K_INF) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (k == K_DENORM && denStop(cw)) return;
  if (k == K_ZERO) {
    if (which == 1) setOutParts(0, BIAS, TOP); else setOutParts(s, 0, 0);
    return;
  }
  if (normExp(se, m) - BIAS >= 63) { outOfRange = true; return; }
  reduce(se, m);
  if (which == 2) {
    sinCosOf(sum2, 0); sinCosOf(tmp2, 1);
    divF(sum2, sum2, tmp2);
    sum2.lo |= 1; // the truncated quotient of inexact values: inexact, toward larger
  } else sinCosOf(sum2, which);
  // sin and tan are odd, cos even: the reduction was of |x|.
  if (s != 0 && which != 1) sum2.s ^= 1;
  toX(sum2, cw);
}
const sum2 = new F(), tmp2 = new F();

/** atan(t) for 0 <= t <= 1. */
const at = new F(), at2 = new F();
function atanSmall(d: F, t: F): void {
  // Two halvings: atan(t) = 2 atan(t / (1 + sqrt(1 + t^2))).
  setF(at, t);
  for (let h = 0; h < 2; h++) {
    mulF(at2, at, at); addF(at2, at2, ONE); sqrtF(at2, at2); addF(at2, at2, ONE);
    divF(at, at, at2);
  }
  // Series: t - t^3/3 + t^5/5 ...
  mulF(sq, at, at);
  setF(term, at); setF(sum, at);
  let n: i64 = 3;
  for (let i = 0; i < 60; i++) {
    mulF(term, term, sq); term.s ^= 1;
    divInt(tmp, term, n);
    if (tmp.z || tmp.e < sum.e - 130) { sticky(sum, tmp); break; }
    addF(sum, sum, tmp);
    n += 2;
  }
  mulInt(d, sum, 4);
}

/** Square root by Newton's iteration from a double's estimate. */
const sq1 = new F(), sq2 = new F();
function sqrtF(d: F, a: F): void {
  if (a.z) { d.z = true; return; }
  // Estimate: the double of the top bits.
  const ed = a.e;
  const hiD = <f64>(a.hi >> 11) * 2.0 ** -52;
  let est = Math.sqrt(hiD * 2.0 ** <f64>(ed & 1));
  const m = <u64>(est * 2.0 ** 52) << 11;
  fromParts(sq1, 0, (ed >> 1), m, 0);
  for (let i = 0; i < 4; i++) {
    divF(sq2, a, sq1); addF(sq2, sq2, sq1); sq2.e -= 1;
    setF(sq1, sq2);
  }
  setF(d, sq1);
}

/** FPATAN: atan(ST(1) / ST(0)) with the quadrant from both signs (SDM vol. 2A, FPATAN,
 *  table 3-?). y = ST(1), x = ST(0). */
const fy = new F(), fxv = new F(), ang = new F();
export function fpatan(ySe: u32, yM: u64, xSe: u32, xM: u64, cw: u32): void {
  const ky = classify(ySe, yM), kx = classify(xSe, xM);
  const sy = ySe >> 15, sx = xSe >> 15;
  if (ky == K_UNSUPP || kx == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (ky == K_QNAN || ky == K_SNAN || kx == K_QNAN || kx == K_SNAN) {
    nanResult(xSe >> 15, xM, kx, ySe >> 15, yM, ky, true);
    return;
  }
  if ((ky == K_DENORM || kx == K_DENORM) && denStop(cw)) return;
  // Zeros and infinities: exact multiples of pi/4 (rounded).
  if (ky == K_ZERO || kx == K_INF || ky == K_INF || kx == K_ZERO) {
    let q: i32 = 0; // angle in units of pi/4
    if (ky == K_INF && kx == K_INF) q = sx != 0 ? 3 : 1;
    else if (ky == K_INF) q = 2;
    else if (kx == K_INF) q = sx != 0 ? 4 : 0;
    else if (ky == K_ZERO) q = sx != 0 ? 4 : 0;
    else q = 2; // x zero, y finite non-zero
    if (q == 0) { setOutParts(sy, 0, 0); return; }
    setF(ang, PI); ang.e -= 2;
    mulInt(ang, ang, q);
    ang.s = sy;
    toX(ang, cw);
    return;
  }
  fromX(fy, ySe, yM); fromX(fxv, xSe, xM);
  fy.s = 0; fxv.s = 0;
  const swap = fy.e > fxv.e || (fy.e == fxv.e && (fy.hi > fxv.hi ||
    (fy.hi == fxv.hi && fy.lo > fxv.lo)));
  if (swap) divF(tmp2, fxv, fy); else divF(tmp2, fy, fxv);
  atanSmall(ang, tmp2);
  if (swap) subF(ang, HALF_PI, ang);
  if (sx != 0) subF(ang, PI, ang);
  ang.s = sy;
  toX(ang, cw);
}

/** F2XM1: 2^x - 1 for -1 <= x <= 1 (outside: undefined by the SDM; computed the same). */
const ey = new F();
export function f2xm1(se: u32, m: u64, cw: u32): void {
  const k = classify(se, m), s = se >> 15;
  if (k == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (k == K_QNAN || k == K_SNAN) { nanResult(s, m, k, 0, 0, K_ZERO, false); return; }
  if (k == K_INF) { if (s != 0) setOutParts(1, BIAS, TOP); else outInf(0); return; }
  if (k == K_DENORM && denStop(cw)) return;
  if (k == K_ZERO) { setOutParts(s, 0, 0); return; }
  // Outside -1..1 the SDM leaves the result undefined; the CPU measured returns the
  // operand with #P.
  if (normExp(se, m) - BIAS >= 1 || (normExp(se, m) - BIAS == 0 && normMan(se, m) != TOP)) {
    setOutParts(s, <i32>(se & 0x7fff), m); setFx(fx | FE_PE); return;
  }
  fromX(ey, se, m);
  mulF(ey, ey, LN2);
  // e^y - 1 = y + y^2/2! + y^3/3! ...
  setF(term, ey); setF(sum, ey);
  for (let n: i64 = 2; n < 60; n++) {
    mulF(term, term, ey);
    divInt(term, term, n);
    if (term.z || term.e < sum.e - 130) { sticky(sum, term); break; }
    addF(sum, sum, term);
  }
  toX(sum, cw);
}

/** ln(1 + z') via 2 atanh(w), w = z / (2 + z) or (m - 1) / (m + 1): sum of w^(2n+1)/(2n+1). */
function atanh2(d: F, w: F): void {
  mulF(sq, w, w);
  setF(term, w); setF(sum, w);
  let n: i64 = 3;
  for (let i = 0; i < 80; i++) {
    mulF(term, term, sq);
    divInt(tmp, term, n);
    if (tmp.z || tmp.e < sum.e - 130) { sticky(sum, tmp); break; }
    addF(sum, sum, tmp);
    n += 2;
  }
  setF(d, sum); d.e += 1;
}

const lg = new F(), lw = new F(), lm = new F();
/** FYL2X: ST(1) * log2(ST(0)) (SDM vol. 2B, FYL2X, table 3-?). x = ST(0), y = ST(1). */
export function fyl2x(xSe: u32, xM: u64, ySe: u32, yM: u64, cw: u32): void {
  const kx = classify(xSe, xM), ky = classify(ySe, yM);
  const sx = xSe >> 15, sy = ySe >> 15;
  if (kx == K_UNSUPP || ky == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (kx == K_QNAN || kx == K_SNAN || ky == K_QNAN || ky == K_SNAN) {
    nanResult(sx, xM, kx, sy, yM, ky, true); return;
  }
  if (sx != 0 && kx != K_ZERO) { setFx(fx | FE_IE); outIndefinite(); return; }
  if ((kx == K_DENORM || ky == K_DENORM) && denStop(cw)) return;
  // log2 x: -inf (x = 0), +inf (x = inf), 0 (x = 1), finite.
  if (kx == K_ZERO) {
    if (ky == K_ZERO) { setFx(fx | FE_IE); outIndefinite(); return; }
    // log2(0) = -inf: a divide-by-zero for finite y; an infinite y gives the infinity
    // with no exception (SDM vol. 2B, FYL2X, table 3-?; measured).
    if (ky != K_INF) setFx(fx | FE_ZE);
    outInf(sy ^ 1); return;
  }
  if (kx == K_INF) {
    if (ky == K_ZERO) { setFx(fx | FE_IE); outIndefinite(); return; }
    outInf(sy); return;
  }
  const e = normExp(xSe, xM) - BIAS;
  const mm = normMan(xSe, xM);
  const one = mm == TOP;
  if (one && e == 0) {
    if (ky == K_INF) { setFx(fx | FE_IE); outIndefinite(); return; }
    setOutParts(sy ^ 0, 0, 0);
    if (sy != 0) setOutParts(1, 0, 0); // y * +0
    return;
  }
  if (ky == K_INF) { outInf(sy ^ (e < 0 ? 1 : 0)); return; }
  if (ky == K_ZERO) { setOutParts(sy ^ (e < 0 ? 1 : 0), 0, 0); return; }
  // x = m * 2^e, m in [1, 2): log2 x = e' + log2 m' with m' in [sqrt(1/2), sqrt(2)).
  let ee = e;
  fromParts(lm, 0, 0, mm, 0);
  if (mm > 0xb504f333f9de6484) { lm.e -= 1; ee++; }
  if (one) { lg.z = true; }
  else {
    subF(lw, lm, ONE); addF(tmp2, lm, ONE); divF(lw, lw, tmp2);
    atanh2(lg, lw);
    mulF(lg, lg, LOG2E);
  }
  fromInt(tmp2, ee);
  addF(lg, lg, tmp2);
  timesY(lg, ySe, yM, cw);
}

/** FYL2XP1: ST(1) * log2(ST(0) + 1) for |x| < 1 - sqrt(2)/2 (SDM vol. 2B, FYL2XP1). */
export function fyl2xp1(xSe: u32, xM: u64, ySe: u32, yM: u64, cw: u32): void {
  const kx = classify(xSe, xM), ky = classify(ySe, yM);
  const sx = xSe >> 15, sy = ySe >> 15;
  if (kx == K_UNSUPP || ky == K_UNSUPP) { setFx(fx | FE_IE); outIndefinite(); return; }
  if (kx == K_QNAN || kx == K_SNAN || ky == K_QNAN || ky == K_SNAN) {
    nanResult(sx, xM, kx, sy, yM, ky, true); return;
  }
  if ((kx == K_DENORM || ky == K_DENORM) && denStop(cw)) return;
  if (kx == K_ZERO) {
    if (ky == K_INF) { setFx(fx | FE_IE); outIndefinite(); return; }
    setOutParts(sx ^ sy, 0, 0); return;
  }
  if (ky == K_ZERO) { setOutParts(sx ^ sy, 0, 0); return; }
  if (ky == K_INF || kx == K_INF) {
    if (kx == K_INF && sx != 0) { setFx(fx | FE_IE); outIndefinite(); return; }
    outInf(sx ^ sy); return;
  }
  fromX(lm, xSe, xM);
  fromInt(tmp2, 2); addF(tmp2, tmp2, lm);
  divF(lw, lm, tmp2);
  atanh2(lg, lw);
  mulF(lg, lg, LOG2E);
  timesY(lg, ySe, yM, cw);
}

