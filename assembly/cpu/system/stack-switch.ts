// Stacks of privilege changes, shared by call gates (far.ts) and interrupt/trap gates
// (interrupts.ts):
// - the inner stack SS:ESP for privilege level n from the current TSS (32-bit TSS: ESPn at
//   4 + 8n, SSn at 8 + 8n, SDM vol. 3A, 7.2.1, figure 7-2; 16-bit TSS: SPn at 2 + 4n, SSn at
//   4 + 4n, 7.6, figure 7-11) and the checks of the CALL and INT n pseudo-code (vol. 2A);
// - room checks against a stack segment's limit (expand-up or expand-down, SDM 5.3);
// - a frame writer that builds the whole frame in memory before any register changes, so
//   that a fault half-way (a page fault on the new stack) leaves the CPU as it was.
import { segBase, segLimit, segAccess, segSel, TR, AR_DB } from '../state';
import { sysRd16, sysRd32, stackWrite } from './sysmem';
import { faulted, raise, TS, SS_VEC } from '../fault';
import { fetchDescriptor, dplOf, typeOf, presentOf, isWritableData } from './descriptor';

/**
 * Reads the stack of privilege level `pl` from the current TSS: returns SS in the high
 * half and ESP in the low half (stackSs, stackEsp); #TS(TR|ext) when the TSS is too short
 * (returns 0; check `faulted`).
 */
export function tssStack(pl: u32, ext: u32): u64 {
  const type = segAccess(TR) & 0xf;
  const base = segBase(TR);
  const limit = <u64>segLimit(TR);
  const trErr = (segSel(TR) & 0xfffc) | ext;
  let esp: u32, ss: u32;
  if (type == 9 || type == 11) {
    if (limit < <u64>(9 + 8 * pl)) { raise(TS, trErr, true); return 0; }
    esp = sysRd32(base + 4 + 8 * pl); if (faulted) return 0;
    ss = sysRd16(base + 8 + 8 * pl); if (faulted) return 0;
  } else {
    if (limit < <u64>(5 + 4 * pl)) { raise(TS, trErr, true); return 0; }
    esp = sysRd16(base + 2 + 4 * pl); if (faulted) return 0;
    ss = sysRd16(base + 4 + 4 * pl); if (faulted) return 0;
  }
  return (<u64>ss << 32) | <u64>esp;
}
@inline export function stackSs(stack: u64): u32 { return <u32>(stack >>> 32); }
@inline export function stackEsp(stack: u64): u32 { return <u32>stack; }

/**
 * Checks the inner stack segment `sel` of level `pl` (from tssStack) as the CALL and INT n
 * pseudo-code do: not null (#TS(ext)), inside its table, RPL = DPL = pl, a writable data
 * segment (#TS(SS|ext)), present (#SS(SS|ext)). Returns its descriptor, or 0 after raising
 * the fault (check `faulted`).
 */
export function innerStackSeg(sel: u32, pl: u32, ext: u32): u64 {
  if ((sel & 0xfffc) == 0) { raise(TS, ext, true); return 0; }
  const d = fetchDescriptor(sel, TS, ext); if (faulted) return 0;
  if ((sel & 3) != pl) { raise(TS, (sel & 0xfffc) | ext, true); return 0; }
  if (dplOf(d) != pl || !isWritableData(typeOf(d))) {
    raise(TS, (sel & 0xfffc) | ext, true); return 0;
  }
  if (!presentOf(d)) { raise(SS_VEC, (sel & 0xfffc) | ext, true); return 0; }
  return d;
}

/**
 * True when `bytes` bytes can be pushed below offset `esp` of a stack segment with byte
 * limit `limit` and access rights `ar` (SS.B picks a 16- or 32-bit stack pointer).
 */
export function stackRoom(limit: u32, ar: u32, esp: u32, bytes: u32): bool {
  const b32 = (ar & AR_DB) != 0;
  const top: u64 = b32 ? 0xffffffff : 0xffff;
  const expandDown = (ar & 0x1c) == 0x14;
  if (!expandDown && b32 && limit == 0xffffffff) return true;
  const lo = <u64>((esp - bytes) & <u32>top);
  const hi = lo + <u64>bytes - 1;
  if (hi > top) return false;
  if (expandDown) return lo > <u64>limit;
  return hi <= <u64>limit;
}

// ---- Frame writer ----

let fBase: u32 = 0;
let fOff: u32 = 0;
let fMask: u32 = 0xffffffff;
let fUser: bool = false;

/** Starts a frame on the stack at base + esp (SS.B = `b32`), written with privilege `cpl`. */
export function frameStart(base: u32, esp: u32, b32: bool, cpl: u32): void {
  fBase = base;
  fMask = b32 ? 0xffffffff : 0xffff;
  fOff = esp & fMask;
  fUser = cpl == 3;
}

/** Pushes a word or dword onto the frame (nothing after a fault). */
export function framePush(v: u32, size4: bool): void {
  if (faulted) return;
  const n: u32 = size4 ? 4 : 2;
  fOff = (fOff - n) & fMask;
  stackWrite(fBase + fOff, v, n, fUser);
}

/** The stack pointer after the frame: ESP keeps its upper half on a 16-bit stack. */
export function frameEsp(esp: u32): u32 {
  return fMask == 0xffff ? (esp & 0xffff0000) | fOff : fOff;
}
