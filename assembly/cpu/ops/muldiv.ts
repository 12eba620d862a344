// MUL, IMUL (one, two and three operands), DIV, IDIV (SDM vol. 2A/2B). DIV and IDIV raise
// #DE on a zero divisor and on a quotient that does not fit, before changing anything.
import { EAX, EDX, reg32, reg16, reg8, setReg32, setReg16 } from '../state';
import { materialize, flags, setFlagsWord, CF, OF, SF, ZF, PF, AF } from '../flags';
import { raiseDE } from '../fault';

/** CF = OF = `overflow`. SF ZF AF PF are undefined; the CPUs this core follows (AMD
 *  family 19h, the test vectors' source) leave them unchanged. */
@inline function mulFlags(low: u32, size: u32, overflow: bool): void {
  materialize();
  setFlagsWord((flags & ~(CF | OF)) | (overflow ? (CF | OF) : 0));
}

/** After DIV/IDIV every status flag is undefined; those CPUs keep CF and OF, clear SF ZF
 *  PF and set AF. */
@inline function divFlags(): void {
  materialize();
  setFlagsWord((flags & ~(SF | ZF | PF)) | AF);
}

@inline function sx(v: u32, size: u32): i32 { return (<i32>(v << (32 - size))) >> (32 - size); }

export function mul(src: u32, size: u32): void {
  if (size == 8) {
    const r = reg8(0) * src;
    setReg16(EAX, r);
    mulFlags(r & 0xff, 8, (r >> 8) != 0);
  } else if (size == 16) {
    const r = reg16(EAX) * src;
    setReg16(EAX, r); setReg16(EDX, r >> 16);
    mulFlags(r & 0xffff, 16, (r >> 16) != 0);
  } else {
    const r: u64 = <u64>reg32(EAX) * <u64>src;
    setReg32(EAX, <u32>r); setReg32(EDX, <u32>(r >> 32));
    mulFlags(<u32>r, 32, (r >> 32) != 0);
  }
}

export function imul1(src: u32, size: u32): void {
  if (size == 8) {
    const r = sx(reg8(0), 8) * sx(src, 8);
    setReg16(EAX, <u32>r);
    mulFlags(<u32>r & 0xff, 8, r != sx(<u32>r & 0xff, 8));
  } else if (size == 16) {
    const r = sx(reg16(EAX), 16) * sx(src, 16);
    setReg16(EAX, <u32>r); setReg16(EDX, <u32>r >> 16);
    mulFlags(<u32>r & 0xffff, 16, r != sx(<u32>r & 0xffff, 16));
  } else {
    const r: i64 = <i64><i32>reg32(EAX) * <i64><i32>src;
    setReg32(EAX, <u32>r); setReg32(EDX, <u32>(r >> 32));
    mulFlags(<u32>r, 32, r != <i64><i32><u32>r);
  }
}

/** Two/three-operand IMUL: returns the truncated product of a and b. */
export function imul2(a: u32, b: u32, size: u32): u32 {
  if (size == 16) {
    const r = sx(a, 16) * sx(b, 16);
    const t = <u32>r & 0xffff;
    mulFlags(t, 16, r != sx(t, 16));
    return t;
  }
  const r: i64 = <i64><i32>a * <i64><i32>b;
  mulFlags(<u32>r, 32, r != <i64><i32><u32>r);
  return <u32>r;
}

export function div(src: u32, size: u32): void {
  if (src == 0) { raiseDE(); return; }
  if (size == 8) {
    const n = reg16(EAX);
    const q = n / src;
    if (q > 0xff) { raiseDE(); return; }
    setReg16(EAX, ((n % src) << 8) | q);
    divFlags();
  } else if (size == 16) {
    const n = (reg16(EDX) << 16) | reg16(EAX);
    const q = n / src;
    if (q > 0xffff) { raiseDE(); return; }
    setReg16(EAX, q); setReg16(EDX, n % src);
    divFlags();
  } else {
    const n: u64 = (<u64>reg32(EDX) << 32) | reg32(EAX);
    const q = n / <u64>src;
    if (q > 0xffffffff) { raiseDE(); return; }
    setReg32(EAX, <u32>q); setReg32(EDX, <u32>(n % <u64>src));
    divFlags();
  }
}

export function idiv(src: u32, size: u32): void {
  if (src == 0) { raiseDE(); return; }
  if (size == 8) {
    const n = sx(reg16(EAX), 16);
    const d = sx(src, 8);
    const q = n / d;
    if (q > 127 || q < -128) { raiseDE(); return; }
    setReg16(EAX, ((<u32>(n % d) & 0xff) << 8) | (<u32>q & 0xff));
    divFlags();
  } else if (size == 16) {
    const n = <i32>((reg16(EDX) << 16) | reg16(EAX));
    const d = sx(src, 16);
    if (n == i32.MIN_VALUE && d == -1) { raiseDE(); return; }
    const q = n / d;
    if (q > 32767 || q < -32768) { raiseDE(); return; }
    setReg16(EAX, <u32>q); setReg16(EDX, <u32>(n % d));
    divFlags();
  } else {
    const n: i64 = <i64>((<u64>reg32(EDX) << 32) | reg32(EAX));
    const d: i64 = <i64><i32>src;
    if (n == i64.MIN_VALUE && d == -1) { raiseDE(); return; }
    const q = n / d;
    if (q > 0x7fffffff || q < -0x80000000) { raiseDE(); return; }
    setReg32(EAX, <u32>q); setReg32(EDX, <u32>(n % d));
    divFlags();
  }
}
