// BT, BTS, BTR, BTC, BSF, BSR (SDM vol. 2A). With a memory operand and a register bit
// offset, the offset is signed and addresses beyond the operand: the operand used is at
// EA + (offset >> 5) * 4 (32-bit) or EA + (offset >> 4) * 2 (16-bit).
import { materialize, flags, setFlagsWord, CF, ZF } from '../flags';

/** Sets CF to `bit`, keeps every other flag. */
export function setCarryOnly(bit: u32): void {
  materialize();
  setFlagsWord((flags & ~CF) | (bit & 1));
}

/** BT* op (0 BT, 1 BTS, 2 BTR, 3 BTC) on value `v` and bit `b` (already reduced). */
export function bitOp(op: u32, v: u32, b: u32): u32 {
  setCarryOnly(v >> b);
  const m: u32 = 1 << b;
  if (op == 1) return v | m;
  if (op == 2) return v & ~m;
  if (op == 3) return v ^ m;
  return v;
}

/** BSF/BSR: ZF = 1 and the destination unchanged for a zero source (returns -1). */
export function bitScan(reverse: bool, v: u32, size: u32): i32 {
  materialize();
  if (v == 0) { setFlagsWord(flags | ZF); return -1; }
  setFlagsWord(flags & ~ZF);
  if (reverse) return 31 - <i32>clz<u32>(v);
  return <i32>ctz<u32>(v);
}
