// Read-modify-write of the ModRM operand (ALU ops, shifts, INC/DEC/NOT/NEG, XCHG, XADD,
// CMPXCHG, BTS/BTR/BTC). The fast path resolves the host address once for both accesses.
// The slow path checks the write permission before reading, so the write cannot fault on
// paging; if the write still abandons the instruction (an MMIO exit), the lazy flags the
// operation computed are rolled back so the replayed instruction sees the flags it found.
import { modrm, eaSeg, eaOff, getReg, setReg } from './decode';
import { linWr, user, probeLinWrite, rdSlow, wrSlow, wrMaskNow } from './access';
import { TLB_TAG, TLB_ADD, TLB_MASK, countHit } from '../mem/tlb';
import { faulted } from './fault';
import { slowData, checkData } from './debug';
import { flags, lfOp, lfA, lfB, lfR, lfSign, restoreLazy } from './flags';

let rmwHost: u32 = 0;
let rmwLin: u32 = 0;
let sFlags: u32 = 0, sOp: i32 = 0, sA: u32 = 0, sB: u32 = 0, sR: u32 = 0, sSign: u32 = 0;

/** Reads the r/m operand for a following rmwWrite. */
export function rmwRead(size: u32): u32 {
  if (modrm >= 0xc0) return getReg(size, modrm & 7);
  const n = size >> 3;
  const lin = linWr(eaSeg, eaOff, n);
  if (faulted) return 0;
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & wrMaskNow()) == (lin & 0xfffff000) &&
      (lin & 0xfff) <= 0x1000 - n) {
    countHit();
    const h = load<u32>(TLB_ADD + (i << 2)) + lin;
    rmwHost = h;
    if (n == 4) return load<u32>(h);
    if (n == 2) return load<u16>(h);
    return load<u8>(h);
  }
  rmwHost = 0;
  rmwLin = lin;
  if (slowData) { checkData(lin, n, true); if (faulted) return 0; }
  probeLinWrite(lin, n, user);
  if (faulted) return 0;
  const v = rdSlow(lin, n, user);
  sFlags = flags; sOp = lfOp; sA = lfA; sB = lfB; sR = lfR; sSign = lfSign;
  return v;
}

/** Writes the r/m operand read by rmwRead. */
export function rmwWrite(size: u32, v: u32): void {
  if (modrm >= 0xc0) { setReg(size, modrm & 7, v); return; }
  const h = rmwHost;
  if (h != 0) {
    if (size == 32) store<u32>(h, v);
    else if (size == 16) store<u16>(h, <u16>v);
    else store<u8>(h, <u8>v);
    return;
  }
  wrSlow(rmwLin, v, size >> 3, user);
  if (faulted) restoreLazy(sFlags, sOp, sA, sB, sR, sSign);
}
