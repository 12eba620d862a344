// Extended-precision (80-bit) arithmetic in software, as the x87 FPU computes it (Intel SDM
// vol. 1, chapter 4 "Data Types" 4.2.2 and 4.8, chapter 8 "Programming with the x87 FPU").
// WebAssembly has only f32 and f64, so every operation works on the parts of the format:
// a sign, a 15-bit biased exponent and a 64-bit significand with its integer bit explicit.
//
// An operation takes unpacked operands, computes the exact result to 64 significand bits
// plus a 64-bit extension (the bits below, with a sticky bit folded into the lowest), and
// roundPack() rounds it as the control word says: the precision control (24, 53 or 64
// bits, SDM vol. 1, 8.1.5.2) and the rounding control (8.1.5.3), into the exponent range of
// the destination (the register format, or single/double for stores), raising the
// precision, underflow and overflow exceptions (4.9.1.4-4.9.1.6) with their masked
// responses. Results go to the globals outSign/outExp/outMan; exception flags accumulate in
// `fx`, and `roundedUp` is C1 for an inexact result (SDM vol. 1, 8.1.3.3).

// Exception flags, as in the status word (SDM vol. 1, 8.1.3.1, figure 8-4).
export const FE_IE: u32 = 0x01;
export const FE_DE: u32 = 0x02;
export const FE_ZE: u32 = 0x04;
export const FE_OE: u32 = 0x08;
export const FE_UE: u32 = 0x10;
export const FE_PE: u32 = 0x20;
export const FE_SF: u32 = 0x40;

// Control word fields (SDM vol. 1, 8.1.5, figure 8-6).
export const CW_OM: u32 = 0x08;
export const CW_UM: u32 = 0x10;
export const RC_NEAREST: u32 = 0;
export const RC_DOWN: u32 = 1;
export const RC_UP: u32 = 2;
export const RC_ZERO: u32 = 3;

export const BIAS: i32 = 16383;
export const EXP_MAX: i32 = 0x7fff;
export const TOP: u64 = 0x8000000000000000;
export const QBIT: u64 = 0x4000000000000000;
/** The real indefinite: a negative QNaN with only the top two significand bits (4.8.3.7). */
export const INDEF_SE: u32 = 0xffff;
export const INDEF_MAN: u64 = 0xc000000000000000;
/** The scaling of a result whose overflow or underflow exception is unmasked (4.9.1.5). */
export const SCALE: i32 = 24576;

// Value classes (SDM vol. 1, 8.3.2 and table 8-7 for FXAM).
export const K_ZERO: u32 = 0;
export const K_DENORM: u32 = 1;   // exponent 0, significand not 0 (pseudo-denormals too)
export const K_NORMAL: u32 = 2;
export const K_INF: u32 = 3;
export const K_QNAN: u32 = 4;
export const K_SNAN: u32 = 5;
/** Unnormals, pseudo-NaNs, pseudo-infinities: invalid operands since the 387 (8.2.2). */
export const K_UNSUPP: u32 = 6;

export let fx: u32 = 0;
export let roundedUp: bool = false;
export let outSign: u32 = 0;
export let outExp: i32 = 0;
export let outMan: u64 = 0;

export function setFx(v: u32): void { fx = v; }
export function setRoundedUp(v: bool): void { roundedUp = v; }
export function setOutParts(sign: u32, exp: i32, man: u64): void {
  outSign = sign; outExp = exp; outMan = man;
}

/** Clears the exception flags and C1 before an operation. */
export function fxClear(): void { fx = 0; roundedUp = false; }

export function classify(se: u32, m: u64): u32 {
  const e = se & 0x7fff;
  if (e == 0) return m == 0 ? K_ZERO : K_DENORM;
  if ((m & TOP) == 0) return K_UNSUPP;
  if (<i32>e == EXP_MAX) {
    if ((m << 1) == 0) return K_INF;
    return (m & QBIT) != 0 ? K_QNAN : K_SNAN;
  }
  return K_NORMAL;
}

/** The unbiased-scale exponent of a finite non-zero value after normalization: a denormal
 *  has exponent 1 - (leading zeros) and its significand shifted to bit 63. */
@inline export function normExp(se: u32, m: u64): i32 {
  const e = <i32>(se & 0x7fff);
  return e == 0 ? 1 - <i32>clz<u64>(m) : e;
}
@inline export function normMan(se: u32, m: u64): u64 {
  return (se & 0x7fff) == 0 ? m << clz<u64>(m) : m;
}

function setOut(sign: u32, exp: i32, man: u64): void { outSign = sign; outExp = exp; outMan = man; }
export function outIndefinite(): void { setOut(1, EXP_MAX, INDEF_MAN); }
export function outInf(sign: u32): void { setOut(sign, EXP_MAX, TOP); }
export function outZero(sign: u32): void { setOut(sign, 0, 0); }

/** The QNaN an operation returns for NaN operands (SDM vol. 1, 4.8.3.5, table 4-7): an
 *  SNaN is made quiet (and raises #IA); of two NaNs, a QNaN wins over an SNaN, else the one
 *  with the larger significand (the sign does not count; on a tie, the first). */
export function nanResult(sa: u32, ma: u64, ka: u32, sb: u32, mb: u64, kb: u32, two: bool): void {
  if (ka == K_SNAN || (two && kb == K_SNAN)) fx |= FE_IE;
  const aNan = ka == K_QNAN || ka == K_SNAN;
  const bNan = two && (kb == K_QNAN || kb == K_SNAN);
  let useA = aNan;
  if (aNan && bNan) {
    if (ka != kb) useA = ka == K_QNAN;
    else useA = (ma | QBIT) >= (mb | QBIT);
  }
  if (useA) setOut(sa, EXP_MAX, ma | QBIT);
  else setOut(sb, EXP_MAX, mb | QBIT);
}

/** Result exponent range and precision of a destination. */
export const FMT_EXT: u32 = 0;
export const FMT_DOUBLE: u32 = 1;
export const FMT_SINGLE: u32 = 2;
/** Smallest normal and largest finite biased exponent of each destination, in the
 *  extended format's bias (4.2.2, table 4-3). */
@inline function minExpOf(fmt: u32): i32 {
  return fmt == FMT_EXT ? 1 : fmt == FMT_DOUBLE ? BIAS - 1022 : BIAS - 126;
}
@inline function maxExpOf(fmt: u32): i32 {
  return fmt == FMT_EXT ? 0x7ffe : fmt == FMT_DOUBLE ? BIAS + 1023 : BIAS + 127;
}

/** Shifts hi:lo right by n (n >= 1) with the bits shifted out ORed into bit 0 of lo. */
let shHi: u64 = 0, shLo: u64 = 0;
function shiftRightSticky(hi: u64, lo: u64, n: i32): void {
  if (n <= 0) { shHi = hi; shLo = lo; return; }
  if (n >= 128) { shHi = 0; shLo = (hi | lo) != 0 ? 1 : 0; return; }
  if (n >= 64) {
    const k = n - 64;
    const lost = (k == 0 ? 0 : (hi << <u64>(64 - k))) | lo;
    shHi = 0;
    shLo = (k == 0 ? hi : hi >> <u64>k) | (lost != 0 ? 1 : 0);
    return;
  }
  const lost = lo << <u64>(64 - n);
  shLo = (lo >> <u64>n) | (hi << <u64>(64 - n)) | (lost != 0 ? 1 : 0);
  shHi = hi >> <u64>n;
}

/**
 * Rounds sign * (man:ext / 2^63) * 2^(exp - BIAS) to `prec` significand bits in the
 * exponent range of `fmt`, with rounding control `rc`. `man` has bit 63 set (or man and
 * ext are both 0). `cw` gives the overflow and underflow masks; with one unmasked (only for
 * the register destination) the result is scaled by 2^-24576 or 2^24576 (4.9.1.5).
 * Tininess is detected before rounding, as the x87 FPU does.
 */
export function roundPack(sign: u32, exp: i32, man: u64, ext: u64, prec: i32, fmt: u32,
  rc: u32, cw: u32): void {
  if (man == 0 && ext == 0) { setOut(sign, 0, 0); return; }
  const minExp = minExpOf(fmt), maxExp = maxExpOf(fmt);
  let tiny = exp < minExp;
  if (tiny && fmt == FMT_EXT && (cw & CW_UM) == 0) {
    fx |= FE_UE;
    if (exp + SCALE < minExp) {
      // Still too small after the bias adjustment (FSCALE by a huge negative power): the
      // CPU delivers a signed zero with #U and #P.
      fx |= FE_PE; roundedUp = false; setOut(sign, 0, 0); return;
    }
    exp += SCALE; tiny = false;
  } else if (exp > maxExp && fmt == FMT_EXT && (cw & CW_OM) == 0) {
    fx |= FE_OE;
    if (exp - SCALE > maxExp) {
      // Still too large after the bias adjustment: infinity, rounded up, with #O and #P.
      fx |= FE_PE; roundedUp = true; setOut(sign, EXP_MAX, TOP); return;
    }
    exp -= SCALE;
  }
  if (tiny) {
    shiftRightSticky(man, ext, minExp - exp);
    man = shHi; ext = shLo;
    exp = minExp;
  }
  // The bits below the precision: the low (64 - prec) bits of man, then ext.
  const drop = <u64>(64 - prec);
  const lowMask: u64 = drop == 0 ? 0 : ((<u64>1 << drop) - 1);
  const low = man & lowMask;
  const inexact = low != 0 || ext != 0;
  let up = false;
  if (inexact) {
    if (rc == RC_NEAREST) {
      // Compare the dropped bits with half a unit in the last place.
      let above: bool, exactHalf: bool;
      if (drop == 0) {
        above = ext > TOP; exactHalf = ext == TOP;
      } else {
        const half = <u64>1 << (drop - 1);
        above = low > half || (low == half && ext != 0);
        exactHalf = low == half && ext == 0;
      }
      const lsb = drop == 0 ? man & 1 : (man >> drop) & 1;
      up = above || (exactHalf && lsb != 0);
    } else if (rc == RC_UP) up = sign == 0;
    else if (rc == RC_DOWN) up = sign != 0;
  }
  man &= ~lowMask;
  if (up) {
    const unit: u64 = <u64>1 << drop;
    const next = man + unit;
    if (next < man) { man = TOP; exp++; } // carry out of bit 63
    else man = next;
  }
  if (tiny && (man & TOP) != 0 && exp == minExp) {
    // A denormal that rounded up to the smallest normal stays at minExp, now normal.
  }
  if (exp > maxExp && fmt == FMT_EXT && (cw & CW_OM) == 0) {
    // Overflow found by the rounding itself, unmasked: the result scaled down (4.9.1.5).
    fx |= FE_OE;
    exp -= SCALE;
  }
  if (exp > maxExp) {
    // Overflow, masked (4.9.1.4): infinity or the largest finite value by rounding mode.
    fx |= FE_OE | FE_PE;
    const toInf = rc == RC_NEAREST || (rc == RC_UP && sign == 0) || (rc == RC_DOWN && sign != 0);
    if (toInf) { setOut(sign, EXP_MAX, TOP); roundedUp = true; }
    else { setOut(sign, maxExp, ~lowMask); roundedUp = false; }
    return;
  }
  if (inexact) {
    fx |= FE_PE;
    roundedUp = up;
    if (tiny) fx |= FE_UE;
  }
  // A result below the smallest normal keeps exponent minExp with bit 63 clear: packers
  // write it as a denormal (exponent field 0).
  setOut(sign, (man & TOP) == 0 ? (man == 0 ? 0 : minExp - 1) : exp, man);
  if (man == 0) outExp = 0;
}

// ---- Addition and subtraction (SDM vol. 1, 4.8.3; FADD/FSUB in vol. 2A) ----

/** a + b (or a - b with `negB`) of two finite values (zeros included), rounded. */
export function addFinite(sa: u32, ea: i32, ma: u64, sb: u32, eb: i32, mb: u64,
  prec: i32, rc: u32, cw: u32): void {
  if (ma == 0 && mb == 0) {
    // Exact zero sum: -0 only when both are -0, or with rounding down when signs differ.
    const s: u32 = sa == sb ? sa : (rc == RC_DOWN ? 1 : 0);
    setOut(s, 0, 0);
    return;
  }
  if (mb == 0) { roundPack(sa, ea, ma, 0, prec, FMT_EXT, rc, cw); return; }
  if (ma == 0) { roundPack(sb, eb, mb, 0, prec, FMT_EXT, rc, cw); return; }
  // Order by magnitude: x is the larger exponent.
  let sx = sa, ex = ea, mx = ma, sy = sb, ey = eb, my = mb;
  if (eb > ea || (eb == ea && mb > ma)) { sx = sb; ex = eb; mx = mb; sy = sa; ey = ea; my = ma; }
  shiftRightSticky(my, 0, ex - ey);
  const yHi = shHi, yLo = shLo;
  if (sx == sy) {
    let hi = mx + yHi;
    let lo = yLo;
    let e = ex;
    if (hi < mx) { // carry: shift right one, the carry becomes bit 63
      lo = (lo >> 1) | (hi << 63) | (lo & 1);
      hi = (hi >> 1) | TOP;
      e++;
    }
    roundPack(sx, e, hi, lo, prec, FMT_EXT, rc, cw);
    return;
  }
  // Magnitude subtraction mx:0 - yHi:yLo (x >= y).
  let lo = <u64>0 - yLo;
  let hi = mx - yHi - (yLo != 0 ? 1 : 0);
  if (hi == 0 && lo == 0) {
    setOut(rc == RC_DOWN ? 1 : 0, 0, 0);
    return;
  }
  let e = ex;
  const n = hi != 0 ? <i32>clz<u64>(hi) : 64 + <i32>clz<u64>(lo);
  if (n > 0) {
    if (n >= 64) { hi = lo << <u64>(n - 64); lo = 0; }
    else { hi = (hi << <u64>n) | (lo >> <u64>(64 - n)); lo = lo << <u64>n; }
    e -= n;
  }
  roundPack(sx, e, hi, lo, prec, FMT_EXT, rc, cw);
}

// ---- Multiplication ----

let mulHi: u64 = 0, mulLo: u64 = 0;
/** The 128-bit product of two 64-bit numbers. */
export function mulHiOut(): u64 { return mulHi; }
export function mulLoOut(): u64 { return mulLo; }
export function mul64(a: u64, b: u64): void {
  const a0 = a & 0xffffffff, a1 = a >> 32, b0 = b & 0xffffffff, b1 = b >> 32;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  mulLo = (mid << 32) | (p00 & 0xffffffff);
  mulHi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

export function mulFinite(sa: u32, ea: i32, ma: u64, sb: u32, eb: i32, mb: u64,
  prec: i32, rc: u32, cw: u32): void {
  const s = sa ^ sb;
  if (ma == 0 || mb == 0) { setOut(s, 0, 0); return; }
  mul64(ma, mb);
  let hi = mulHi, lo = mulLo;
  let e = ea + eb - BIAS + 1;
  if ((hi & TOP) == 0) { hi = (hi << 1) | (lo >> 63); lo <<= 1; e--; }
  roundPack(s, e, hi, lo, prec, FMT_EXT, rc, cw);
}

// ---- Division ----

/** a / b of finite non-zero values. */
export function divFinite(sa: u32, ea: i32, ma: u64, sb: u32, eb: i32, mb: u64,
  prec: i32, rc: u32, cw: u32): void {
  const s = sa ^ sb;
  // Restoring division of ma by mb, 66 quotient bits (two for rounding), remainder sticky.
  let rem = ma;
  let carry = false;
  let q: u64 = 0;
  let e = ea - eb + BIAS;
  if (ma < mb) e--; // quotient below 1: its first bit is the next one
  else { rem = ma - mb; q = 1; }
  let bits = ma < mb ? 0 : 1;
  let qx: u64 = 0; // the quotient bits past 64
  let extra = 0;
  while (bits < 64 || extra < 2) {
    carry = (rem & TOP) != 0;
    rem <<= 1;
    let bit: u64 = 0;
    if (carry || rem >= mb) { rem -= mb; bit = 1; }
    if (bits < 64) { q = (q << 1) | bit; bits++; }
    else { qx = (qx << 1) | bit; extra++; }
  }
  // qx: two bits below the quotient; then the remainder as sticky.
  let ext: u64 = qx << 62;
  if (rem != 0) ext |= 1;
  roundPack(s, e, q, ext, prec, FMT_EXT, rc, cw);
}

// ---- Square root ----

export function sqrtFinite(ea: i32, ma: u64, prec: i32, rc: u32, cw: u32): void {
  if (ma == 0) { setOut(0, 0, 0); return; }
  // value = ma / 2^63 * 2^E with E = ea - BIAS. With E even, root = sqrt(ma * 2^63) scaled
  // 2^(E/2); with E odd, sqrt(ma * 2^64) scaled 2^((E-1)/2). Both radicands are 128-bit and
  // give a 64-bit root with bit 63 set.
  const E = ea - BIAS;
  const odd = (E & 1) != 0;
  let rHi: u64, rLo: u64;
  if (odd) { rHi = ma; rLo = 0; } else { rHi = ma >> 1; rLo = ma << 63; }
  // Digit-by-digit square root: two radicand bits per root bit; remainder up to 66 bits,
  // kept as remH:remL (remH holds the bits above 64).
  let root: u64 = 0;
  let remH: u64 = 0, remL: u64 = 0;
  for (let i = 0; i < 64; i++) {
    const two = rHi >> 62;
    rHi = (rHi << 2) | (rLo >> 62);
    rLo <<= 2;
    remH = (remH << 2) | (remL >> 62);
    remL = (remL << 2) | two;
    // trial = (root << 2) | 1, up to 66 bits.
    const tH = root >> 62;
    const tL = (root << 2) | 1;
    const ge = remH > tH || (remH == tH && remL >= tL);
    if (ge) {
      const borrow: u64 = remL < tL ? 1 : 0;
      remL -= tL; remH = remH - tH - borrow;
      root = (root << 1) | 1;
    } else root <<= 1;
  }
  // Above half a unit when remainder > root (the half point is never exact).
  let ext: u64 = 0;
  if (remH != 0 || remL != 0) {
    const above = remH != 0 || remL > root;
    ext = above ? 0xc000000000000000 : 0x4000000000000000;
  }
  const e = (odd ? (E - 1) >> 1 : E >> 1) + BIAS;
  roundPack(0, e, root, ext, prec, FMT_EXT, rc, cw);
}

// ---- Integers ----

/** Result of roundToInteger(): the magnitude, and whether it did not fit 64 bits. */
export let intMag: u64 = 0;
export let intHuge: bool = false;

/** Rounds a finite value to an integer with rounding control rc (FRNDINT, FIST, FBSTP):
 *  sets intMag (the magnitude), intHuge (2^64 or more), and PE/roundedUp when inexact. */
export function roundToInteger(sign: u32, exp: i32, man: u64, rc: u32): void {
  intHuge = false;
  if (man == 0) { intMag = 0; return; }
  const E = exp - BIAS; // value = man * 2^(E - 63)
  if (E >= 64) { intHuge = true; intMag = 0; return; }
  if (E >= 63) { intMag = man; return; }
  let ip: u64, frac: u64; // frac: the fraction's bits, left aligned (frac / 2^64)
  if (E < 0) {
    ip = 0;
    const n = -E - 1; // value = man * 2^(E + 1) / 2^64
    if (n == 0) frac = man;
    else if (n < 64) frac = (man >> <u64>n) | ((man << <u64>(64 - n)) != 0 ? 1 : 0);
    else frac = 1; // below 2^-64: not zero, below half
  } else {
    const sh = <u64>(63 - E);
    ip = man >> sh;
    frac = man << <u64>(64 - <i32>sh);
  }
  let up = false;
  if (frac != 0) {
    fx |= FE_PE;
    if (rc == RC_NEAREST) up = frac > TOP || (frac == TOP && (ip & 1) != 0);
    else if (rc == RC_UP) up = sign == 0;
    else if (rc == RC_DOWN) up = sign != 0;
    roundedUp = up;
  }
  if (up) { ip++; if (ip == 0) { intHuge = true; } }
  intMag = ip;
}

/** Unpacks an integer magnitude to the register format (exact). */
export function fromInteger(sign: u32, mag: u64): void {
  if (mag == 0) { setOut(sign, 0, 0); return; }
  const n = <i32>clz<u64>(mag);
  setOut(sign, BIAS + 63 - n, mag << <u64>n);
}

// ---- Comparison ----

/** Compares two finite values: -1, 0 or 1. */
export function compareFinite(sa: u32, ea: i32, ma: u64, sb: u32, eb: i32, mb: u64): i32 {
  if (ma == 0 && mb == 0) return 0;
  if (ma == 0) return sb != 0 ? 1 : -1;
  if (mb == 0) return sa != 0 ? -1 : 1;
  if (sa != sb) return sa != 0 ? -1 : 1;
  let c: i32 = 0;
  if (ea != eb) c = ea > eb ? 1 : -1;
  else if (ma != mb) c = ma > mb ? 1 : -1;
  return sa != 0 ? -c : c;
}
