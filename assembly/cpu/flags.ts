// EFLAGS with lazy arithmetic flags. The six status flags (CF PF AF ZF SF OF) of the
// last ALU operation are computed only when read, from its operands and result; every
// other EFLAGS bit lives in `flags`. Bit positions: Intel SDM vol. 1, 3.4.3.

export const CF: u32 = 1 << 0;
export const PF: u32 = 1 << 2;
export const AF: u32 = 1 << 4;
export const ZF: u32 = 1 << 6;
export const SF: u32 = 1 << 7;
export const TF: u32 = 1 << 8;
export const IF: u32 = 1 << 9;
export const DF: u32 = 1 << 10;
export const OF: u32 = 1 << 11;
export const IOPL: u32 = 3 << 12;
export const NT: u32 = 1 << 14;
export const RF: u32 = 1 << 16;
export const VM: u32 = 1 << 17;
export const AC: u32 = 1 << 18;
export const VIF: u32 = 1 << 19;
export const VIP: u32 = 1 << 20;
export const ID: u32 = 1 << 21;
/** Bit 1 always reads 1 (SDM vol. 1, figure 3-8). */
export const FLAGS_FIXED: u32 = 1 << 1;
export const STATUS: u32 = CF | PF | AF | ZF | SF | OF;

// Lazy operation kinds: which formulas give the status flags.
export const LF_NONE = 0;   // all flags are in `flags`
export const LF_ADD = 1;    // r = a + b
export const LF_ADC = 2;    // r = a + b + 1
export const LF_SUB = 3;    // r = a - b
export const LF_SBB = 4;    // r = a - b - 1
export const LF_LOGIC = 5;  // CF = OF = AF = 0; ZF SF PF from r
export const LF_INC = 6;    // as ADD with b = 1, CF kept in `flags`
export const LF_DEC = 7;    // as SUB with b = 1, CF kept in `flags`
export const LF_RES = 8;    // ZF SF PF from r; CF OF AF in `flags`

export let flags: u32 = FLAGS_FIXED;
export let lfOp: i32 = LF_NONE;
export let lfA: u32 = 0;
export let lfB: u32 = 0;
export let lfR: u32 = 0;
/** Sign bit of the operation's size: 0x80, 0x8000 or 0x80000000. */
export let lfSign: u32 = 0x80000000;

@inline export function signOf(size: u32): u32 { return <u32>1 << (size - 1); }
@inline export function maskOf(sign: u32): u32 { return (sign << 1) - 1; }

@inline export function setLazy(op: i32, a: u32, b: u32, r: u32, sign: u32): void {
  lfOp = op; lfA = a; lfB = b; lfR = r; lfSign = sign;
}

/** AND/OR/XOR/TEST: the operands are not needed (CF = OF = AF = 0). */
@inline export function setLazyLogic(r: u32, sign: u32): void {
  lfOp = LF_LOGIC; lfR = r; lfSign = sign;
}

/** Records a result whose ZF SF PF are lazy and whose CF OF AF the caller sets in `flags`. */
@inline export function setResultFlags(r: u32, sign: u32, cfofaf: u32): void {
  flags = (flags & ~STATUS) | cfofaf;
  lfOp = LF_RES; lfR = r; lfSign = sign;
}

/** CF, with the commonest lazy cases (SUB/CMP, ADD, logic) inline. */
@inline export function getCF(): u32 {
  const op = lfOp;
  if (op == LF_SUB) { const m = maskOf(lfSign); return <u32>((lfA & m) < (lfB & m)); }
  if (op == LF_LOGIC) return 0;
  return getCFslow();
}

function getCFslow(): u32 {
  const op = lfOp;
  const m = maskOf(lfSign);
  switch (op) {
    case LF_ADD: return <u32>((lfR & m) < (lfA & m));
    case LF_ADC: return <u32>((lfR & m) <= (lfA & m));
    case LF_SUB: return <u32>((lfA & m) < (lfB & m));
    case LF_SBB: return <u32>((lfA & m) <= (lfB & m));
    case LF_LOGIC: return 0;
    default: return flags & CF;
  }
}

export function getOF(): u32 {
  const op = lfOp;
  switch (op) {
    case LF_ADD: case LF_ADC: case LF_INC:
      return <u32>(((lfA ^ lfR) & (lfB ^ lfR) & lfSign) != 0);
    case LF_SUB: case LF_SBB: case LF_DEC:
      return <u32>(((lfA ^ lfB) & (lfA ^ lfR) & lfSign) != 0);
    case LF_LOGIC: return 0;
    default: return (flags >> 11) & 1;
  }
}

@inline export function getZF(): u32 {
  if (lfOp == LF_NONE) return (flags >> 6) & 1;
  return <u32>((lfR & maskOf(lfSign)) == 0);
}
@inline export function getSF(): u32 {
  if (lfOp == LF_NONE) return (flags >> 7) & 1;
  return <u32>((lfR & lfSign) != 0);
}
export function getPF(): u32 {
  if (lfOp == LF_NONE) return (flags >> 2) & 1;
  // PF is set when the low byte has an even number of 1 bits (SDM vol. 1, 3.4.3.1).
  return (~popcnt<u32>(lfR & 0xff)) & 1;
}
export function getAF(): u32 {
  const op = lfOp;
  switch (op) {
    case LF_ADD: case LF_ADC: case LF_SUB: case LF_SBB: case LF_INC: case LF_DEC:
      return ((lfA ^ lfB ^ lfR) >> 4) & 1;
    case LF_LOGIC: return 0;
    default: return (flags >> 4) & 1;
  }
}

/** The full EFLAGS value: one pass over the lazy state. */
export function getFlags(): u32 {
  const op = lfOp;
  if (op == LF_NONE) return flags | FLAGS_FIXED;
  const r = lfR, a = lfA, b = lfB, sign = lfSign;
  const m = maskOf(sign);
  // PF, ZF, SF come from the result for every lazy kind (SDM vol. 1, 3.4.3.1).
  let f = (flags & ~(PF | ZF | SF)) | FLAGS_FIXED | (((~popcnt<u32>(r & 0xff)) & 1) << 2);
  if ((r & m) == 0) f |= ZF;
  if ((r & sign) != 0) f |= SF;
  const af = (a ^ b ^ r) & AF;
  switch (op) {
    case LF_ADD: case LF_ADC: {
      const cf: u32 = op == LF_ADD ? <u32>((r & m) < (a & m)) : <u32>((r & m) <= (a & m));
      return (f & ~(CF | AF | OF)) | cf | af | (<u32>(((a ^ r) & (b ^ r) & sign) != 0) << 11);
    }
    case LF_SUB: case LF_SBB: {
      const cf: u32 = op == LF_SUB ? <u32>((a & m) < (b & m)) : <u32>((a & m) <= (b & m));
      return (f & ~(CF | AF | OF)) | cf | af | (<u32>(((a ^ b) & (a ^ r) & sign) != 0) << 11);
    }
    case LF_LOGIC: return f & ~(CF | AF | OF);
    case LF_INC: return (f & ~(AF | OF)) | af | (<u32>(((a ^ r) & (b ^ r) & sign) != 0) << 11);
    case LF_DEC: return (f & ~(AF | OF)) | af | (<u32>(((a ^ b) & (a ^ r) & sign) != 0) << 11);
    default: return f; // LF_RES: CF, OF, AF are in `flags`
  }
}

/** Folds the lazy flags into `flags` (before a partial update of the status flags). */
export function materialize(): void {
  if (lfOp != LF_NONE) {
    flags = getFlags();
    lfOp = LF_NONE;
  }
}

/**
 * Sets CF and OF to `cfof` (bits 0 and 11), keeping PF ZF SF AF as they are, without
 * folding the whole lazy state: ROL/ROR change only CF and OF (SDM vol. 2B, ROL/ROR).
 * The lazy result stays the source of ZF SF PF (LF_RES), AF moves into `flags`.
 */
@inline export function setCFOF(cfof: u32): void {
  const op = lfOp;
  if (op == LF_NONE || op == LF_RES) { flags = (flags & ~(CF | OF)) | cfof; return; }
  const af: u32 = op == LF_LOGIC ? 0 : (lfA ^ lfB ^ lfR) & AF;
  flags = (flags & ~STATUS) | af | cfof;
  lfOp = LF_RES;
}

/** Writes the concrete flags word as is (callers keep the lazy state consistent). */
@inline export function setFlagsWord(v: u32): void { flags = v; }

/** Restores a saved lazy-flags state (rollback of an abandoned instruction). */
export function restoreLazy(f: u32, op: i32, a: u32, b: u32, r: u32, sign: u32): void {
  flags = f; lfOp = op; lfA = a; lfB = b; lfR = r; lfSign = sign;
}

/** Replaces all of EFLAGS (POPF, IRET, task state loads). Caller applies privilege masks. */
@inline export function setFlags(v: u32): void {
  flags = (v & 0x3f7fd5) | FLAGS_FIXED;
  lfOp = LF_NONE;
  updateDebug(); // TF, RF and AC decide the debug and alignment checks
  // IF = 1 may open the interrupt window: the run loop looks at pending events again.
  if ((v & IF) != 0) needAttention();
}
import { updateDebug } from './debug';
import { needAttention } from './events';

/** Sets or clears one status flag, keeping the others. */
export function setFlag(bit: u32, on: bool): void {
  materialize();
  flags = on ? (flags | bit) : (flags & ~bit);
}

/** Condition codes of Jcc/SETcc/CMOVcc, cc = low nibble of the opcode (SDM vol. 2, B.1.4.7). */
@inline export function testCC(cc: u32): bool {
  let r: bool;
  switch (cc >> 1) {
    case 0: r = getOF() != 0; break;
    case 1: r = getCF() != 0; break;
    case 2: r = getZF() != 0; break;
    case 3: r = (getCF() | getZF()) != 0; break;
    case 4: r = getSF() != 0; break;
    case 5: r = getPF() != 0; break;
    case 6: r = getSF() != getOF(); break;
    default: r = getZF() != 0 || getSF() != getOF(); break;
  }
  return (cc & 1) ? !r : r;
}
