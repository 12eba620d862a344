// String instructions MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE, the segment
// override on the source, and the address-size prefix choosing SI/DI/CX or ESI/EDI/ECX
// (SDM vol. 2B, REP/REPE/REPZ/REPNE/REPNZ). Each iteration updates the registers after its
// accesses succeeded, so a fault restarts the instruction at the iteration that faulted.
// A long REP yields after a bounded number of iterations (EIP stays on the instruction),
// which lets the run loop take interrupts and honour the budget, as a real CPU does.
import { STATE_BASE, S_STRIO, PIO_DATA_BASE, PIO_DATA_SIZE } from '../../generated/layout';
import { reg32, setReg32, setReg16, ECX, ESI, EDI, EAX, EDX, ES, reg16, segBase } from '../state';
import {
  rdSized, wrSized, setIp, startIp, probeWrite, probeRead, segSpanOk, tlbHost,
} from '../access';
import { asz, rep, dataSeg, getReg, setReg } from '../decode';
import { faulted } from '../fault';
import { flags, DF, getZF } from '../flags';
import { alu, OP_CMP } from './alu';
import { logLen, logClear, hostBatch, replayingSingle } from '../iolog';
import { portIn, portOut } from './io';
import { ioAllowed } from '../system/iopm';
import { debugActive } from '../debug';
import { guestMode, GUEST_VMX } from '../../vmm/guest';
import { icptIo } from '../../vmm/intercept';
import { vmxIoLinear } from '../../vmx/exits';

const MAX_ITER: u32 = 1024;

/** Set while the VMM's emulator runs (index.ts hostEmulate), which starts every call with
 *  an empty TLB: a batched REP INS/OUTS then translates its first element itself, so the
 *  batch it exits with is found again when the instruction replays in the next call (KVM's
 *  emulator does a whole string PIO per exit the same way). */
let hostEmulating: bool = false;
export function setHostEmulating(on: bool): void { hostEmulating = on; }

@inline function idx(r: u32): u32 { return asz == 32 ? reg32(r) : reg16(r); }
@inline function setIdx(r: u32, v: u32): void {
  if (asz == 32) setReg32(r, v); else setReg16(r, v);
}

export const STR_MOVS: u32 = 0;
export const STR_CMPS: u32 = 1;
export const STR_STOS: u32 = 2;
export const STR_LODS: u32 = 3;
export const STR_SCAS: u32 = 4;
export const STR_INS: u32 = 5;
export const STR_OUTS: u32 = 6;

export function stringOp(kind: u32, size: u32): void {
  const n: u32 = size >> 3;
  const delta: u32 = (flags & DF) != 0 ? -n : n;
  const src = dataSeg();
  if (kind >= STR_INS && guestMode != 0 && stringIoExit(kind, n, src)) return;
  if (rep == 0) { iterate(kind, size, src, delta); return; }
  let count = idx(ECX);
  let iter: u32 = 0;
  const batch = kind >= STR_INS && load<u32>(STATE_BASE + S_STRIO) != 0 && !debugActive;
  while (count != 0) {
    let k: u32 = 0;
    if (batch) { k = ioBatch(kind, n, src, count, delta); if (faulted) return; }
    if (k == 0) { iterate(kind, size, src, delta); if (faulted) return; k = 1; }
    count -= k;
    setIdx(ECX, count);
    if (kind == STR_CMPS || kind == STR_SCAS) {
      // REPE stops when ZF = 0, REPNE when ZF = 1.
      const zf = getZF();
      if ((rep == 0xf3 && zf == 0) || (rep == 0xf2 && zf != 0)) return;
    }
    iter += k;
    if (count != 0 && (iter >= MAX_ITER || logLen != 0)) {
      if (logLen != 0) logClear();
      setIp(startIp);
      return;
    }
  }
}

/**
 * REP INS/OUTS as one exit for the run of elements that lies in one page, when the host
 * enabled it (S_STRIO; KVM's KVM_EXIT_IO with a count): the elements go through the data
 * area PIO_DATA_BASE in transfer order. Applies only where no element can fault: the whole
 * run inside the segment, its page in the TLB for this access, the index not wrapping, no
 * debug registers armed; otherwise returns 0 and the caller runs one element the ordinary
 * way (which faults, or fills the TLB for the next run). Returns the elements completed,
 * 0 when it requested the exit (`faulted` is then set) or does not apply.
 */
function ioBatch(kind: u32, n: u32, src: u32, count: u32, delta: u32): u32 {
  if (replayingSingle()) return 0; // an element the host already performed comes first
  const ins = kind == STR_INS;
  const s: u32 = ins ? ES : src;
  const ri: u32 = ins ? EDI : ESI;
  const off = idx(ri);
  const base = segBase(s);
  const lin = base + off;
  const pageOff = lin & 0xfff;
  if (pageOff + n > 0x1000) return 0;
  const down = (flags & DF) != 0;
  // Elements inside this page, the data area, the count and the index's range.
  let k: u32 = down ? pageOff / n + 1 : (0x1000 - pageOff) / n;
  if (k > PIO_DATA_SIZE / n) k = PIO_DATA_SIZE / n;
  if (k > count) k = count;
  const top: u64 = asz == 32 ? 0x100000000 : 0x10000;
  const room: u64 = down ? <u64>(off / n) + 1 : (top - <u64>off) / <u64>n;
  if (<u64>k > room) k = <u32>room;
  if (k < 2) return 0;
  const bytes = k * n;
  const lo = down ? off - (k - 1) * n : off;
  if (!segSpanOk(s, lo, bytes, ins)) return 0;
  let host = tlbHost(base + lo, ins);
  if (host == 0 && hostEmulating && !down) {
    // The element the ordinary path would touch first, checked as it would check it (its
    // fault is the same, raised here).
    if (ins) probeWrite(ES, off, n); else probeRead(src, off, n);
    if (faulted) return 0;
    host = tlbHost(base + lo, ins);
  }
  if (host == 0) return 0;
  const port = reg16(EDX);
  if (!ioAllowed(port, n)) return 0;
  // `host` is the lowest element's address; the first transferred is the highest when DF = 1.
  let first: u32 = 0;
  if (!ins) {
    copyElements(PIO_DATA_BASE, host, k, n, down, false);
    first = n == 4 ? load<u32>(PIO_DATA_BASE)
      : n == 2 ? <u32>load<u16>(PIO_DATA_BASE) : <u32>load<u8>(PIO_DATA_BASE);
  }
  if (!hostBatch(port, n, k, !ins, first)) return 0;
  if (ins) copyElements(PIO_DATA_BASE, host, k, n, down, true);
  setIdx(ri, off + k * delta);
  return k;
}

/** Copies k elements of n bytes between the data area and guest memory at `host` (the
 *  lowest element): in order, or element-reversed when the string runs down. */
function copyElements(data: u32, host: u32, k: u32, n: u32, down: bool, toGuest: bool): void {
  if (!down) {
    if (toGuest) memory.copy(host, data, k * n); else memory.copy(data, host, k * n);
    return;
  }
  for (let i: u32 = 0; i < k; i++) {
    const g = host + (k - 1 - i) * n;
    const d = data + i * n;
    if (toGuest) memory.copy(g, d, n); else memory.copy(d, g, n);
  }
}

/** INS/OUTS in non-root operation: the permission check, then the I/O exit (SDM vol. 3C,
 *  26.1.1, 26.1.3) with the memory operand's linear address. */
function stringIoExit(kind: u32, n: u32, src: u32): bool {
  const port = reg16(EDX);
  if (!ioAllowed(port, n)) return true;
  const ins = kind == STR_INS;
  if (guestMode == GUEST_VMX) vmxIoLinear(segBase(ins ? ES : src) + idx(ins ? EDI : ESI), src);
  return icptIo(port, n, ins, true, rep != 0, asz, false);
}

function iterate(kind: u32, size: u32, src: u32, delta: u32): void {
  switch (kind) {
    case STR_MOVS: {
      const v = rdSized(src, idx(ESI), size); if (faulted) return;
      wrSized(ES, idx(EDI), v, size); if (faulted) return;
      setIdx(ESI, idx(ESI) + delta); setIdx(EDI, idx(EDI) + delta);
      return;
    }
    case STR_CMPS: {
      const a = rdSized(src, idx(ESI), size); if (faulted) return;
      const b = rdSized(ES, idx(EDI), size); if (faulted) return;
      alu(OP_CMP, a, b, size);
      setIdx(ESI, idx(ESI) + delta); setIdx(EDI, idx(EDI) + delta);
      return;
    }
    case STR_STOS: {
      wrSized(ES, idx(EDI), getReg(size, EAX), size); if (faulted) return;
      setIdx(EDI, idx(EDI) + delta);
      return;
    }
    case STR_LODS: {
      const v = rdSized(src, idx(ESI), size); if (faulted) return;
      setReg(size, EAX, v);
      setIdx(ESI, idx(ESI) + delta);
      return;
    }
    case STR_SCAS: {
      const b = rdSized(ES, idx(EDI), size); if (faulted) return;
      alu(OP_CMP, getReg(size, EAX), b, size);
      setIdx(EDI, idx(EDI) + delta);
      return;
    }
    case STR_INS: {
      // The destination is checked before the port is read (a fault must not lose input).
      const off = idx(EDI);
      probeWrite(ES, off, size >> 3); if (faulted) return;
      const v = portIn(reg16(EDX), size >> 3, false, true); if (faulted) return;
      wrSized(ES, off, v, size); if (faulted) return;
      setIdx(EDI, off + delta);
      return;
    }
    default: { // OUTS
      const v = rdSized(src, idx(ESI), size); if (faulted) return;
      portOut(reg16(EDX), size >> 3, v, false, true); if (faulted) return;
      setIdx(ESI, idx(ESI) + delta);
      return;
    }
  }
}
