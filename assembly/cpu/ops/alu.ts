// The eight ALU operations in the x86 /reg order (ADD OR ADC SBB AND SUB XOR CMP), INC,
// DEC, NEG, with their status flags (SDM vol. 2, each instruction's "Flags Affected").
// AND/OR/XOR/TEST leave AF undefined; the CPUs this core follows clear it.
import {
  setLazy, getCF, flags, STATUS, CF, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC,
  signOf, maskOf, setFlagsWord,
} from '../flags';

export const OP_ADD = 0; export const OP_OR = 1; export const OP_ADC = 2; export const OP_SBB = 3;
export const OP_AND = 4; export const OP_SUB = 5; export const OP_XOR = 6; export const OP_CMP = 7;

/** Returns `a op b` truncated to `size` bits and records the flags. CMP returns `a`. */
export function alu(op: u32, a: u32, b: u32, size: u32): u32 {
  const sign = signOf(size);
  const m = maskOf(sign);
  b &= m;
  let r: u32;
  switch (op) {
    case OP_ADD: r = (a + b) & m; setLazy(LF_ADD, a, b, r, sign); return r;
    case OP_OR: r = a | b; setLazy(LF_LOGIC, a, b, r, sign); return r;
    case OP_ADC: {
      const c = getCF();
      r = (a + b + c) & m; setLazy(c ? LF_ADC : LF_ADD, a, b, r, sign); return r;
    }
    case OP_SBB: {
      const c = getCF();
      r = (a - b - c) & m; setLazy(c ? LF_SBB : LF_SUB, a, b, r, sign); return r;
    }
    case OP_AND: r = a & b; setLazy(LF_LOGIC, a, b, r, sign); return r;
    case OP_SUB: r = (a - b) & m; setLazy(LF_SUB, a, b, r, sign); return r;
    case OP_XOR: r = a ^ b; setLazy(LF_LOGIC, a, b, r, sign); return r;
    default: r = (a - b) & m; setLazy(LF_SUB, a, b, r, sign); return a;
  }
}

/** Keeps CF (INC/DEC do not change it) and records the lazy flags of INC/DEC. */
function keepCF(): void {
  const c = getCF();
  // CF goes to the concrete flags; the others come from the lazy INC/DEC formulas.
  setFlagsWord((flags & ~STATUS) | c);
}

export function inc(a: u32, size: u32): u32 {
  const sign = signOf(size);
  const r = (a + 1) & maskOf(sign);
  keepCF();
  setLazy(LF_INC, a, 1, r, sign);
  return r;
}
export function dec(a: u32, size: u32): u32 {
  const sign = signOf(size);
  const r = (a - 1) & maskOf(sign);
  keepCF();
  setLazy(LF_DEC, a, 1, r, sign);
  return r;
}
export function neg(a: u32, size: u32): u32 {
  const sign = signOf(size);
  const r = (0 - a) & maskOf(sign);
  setLazy(LF_SUB, 0, a, r, sign);
  return r;
}
