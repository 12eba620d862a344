// PUSH and POP on SS:ESP or SS:SP (the stack size is SS.B, SDM vol. 1, 6.2.3). ESP changes
// only after the memory access succeeded, so a fault leaves it as it was.
import { rd16, rd32, wr16, wr32, stack32 } from './access';
import { reg32, setReg32, setReg16, ESP, SS } from './state';
import { faulted } from './fault';

@inline export function sp(): u32 { return stack32 ? reg32(ESP) : reg32(ESP) & 0xffff; }
@inline export function setSp(v: u32): void {
  if (stack32) setReg32(ESP, v); else setReg16(ESP, v);
}
/** Offset of the stack slot `d` bytes above the top (wrapping like the stack pointer). */
@inline export function spOff(d: u32): u32 {
  return stack32 ? reg32(ESP) + d : (reg32(ESP) + d) & 0xffff;
}
/** ESP after moving the stack pointer by `d` with the current stack size: on a 16-bit
 *  stack SP wraps and ESP's upper half stays. For paths that change SS before ESP. */
@inline export function espOff(d: u32): u32 {
  const e = reg32(ESP);
  return stack32 ? e + d : (e & 0xffff0000) | ((e + d) & 0xffff);
}

export function push16(v: u32): void {
  const n = spOff(-2);
  wr16(SS, n, v);
  if (faulted) return;
  setSp(n);
}
export function push32(v: u32): void {
  const n = spOff(-4);
  wr32(SS, n, v);
  if (faulted) return;
  setSp(n);
}
@inline export function pushSz(size: u32, v: u32): void {
  if (size == 32) push32(v); else push16(v);
}

export function pop16(): u32 {
  const v = rd16(SS, sp());
  if (faulted) return 0;
  setSp(spOff(2));
  return v;
}
export function pop32(): u32 {
  const v = rd32(SS, sp());
  if (faulted) return 0;
  setSp(spOff(4));
  return v;
}
@inline export function popSz(size: u32): u32 { return size == 32 ? pop32() : pop16(); }
/** Reads the stack slot `d` bytes above the top without popping. */
export function peek(size: u32, d: u32): u32 {
  return size == 32 ? rd32(SS, spOff(d)) : rd16(SS, spOff(d));
}
