// Debug exceptions (#DB) and alignment checks (#AC) (Intel SDM vol. 3B, 17.2-17.3; vol. 3A,
// 6.15 interrupt 17). All of it stays off the fast path: `debugActive` is recomputed when
// EFLAGS, CPL, CR0 or DR7 change, and only then does the run loop look at breakpoints,
// single-step and RF, and do data accesses leave the TLB fast path (slowData) for the
// alignment and data-breakpoint checks.
import {
  STATE_BASE, S_DR, S_DR6, S_DR7, S_CR0, S_CPL, HOSTDBG_COUNT, HOSTDBG_SKIP, HOSTDBG_ADDRS,
  HOSTDBG_MAX,
} from '../generated/layout';
import { CR0_AM } from './state';
import { flags, TF, RF, AC } from './flags';
import { raise, AC_VEC } from './fault';

/** The host debugger has instruction breakpoints (HOSTDBG): every boundary checks them. */
export let hostDebug: bool = false;

/** The host changed its breakpoint table (HOSTDBG_COUNT, HOSTDBG_ADDRS). */
export function hostDebugChanged(): void {
  hostDebug = load<u32>(HOSTDBG_COUNT) != 0;
  if (hostDebug) needAttention();
}

/** A host breakpoint at linear `lin`, not the one address passed once (HOSTDBG_SKIP, which
 *  any boundary check consumes). */
export function hostBreakAt(lin: u32): bool {
  const skip = load<u32>(HOSTDBG_SKIP);
  store<u32>(HOSTDBG_SKIP, 0xffffffff);
  if (lin == skip) return false;
  let n = load<u32>(HOSTDBG_COUNT);
  if (n > HOSTDBG_MAX) n = HOSTDBG_MAX;
  for (let i: u32 = 0; i < n; i++) {
    if (load<u32>(HOSTDBG_ADDRS + (i << 2)) == lin) return true;
  }
  return false;
}

/** Any of: TF, RF, an enabled breakpoint in DR7, alignment checking. */
export let debugActive: bool = false;
/** Data accesses must take the slow path (alignment checks or data breakpoints). */
export let slowData: bool = false;
let acActive: bool = false;
let dataBps: u32 = 0;   // bit i: breakpoint i is an enabled data breakpoint
/** Breakpoint conditions met by the current instruction's data accesses (DR6 B0-B3). */
export let dataHits: u32 = 0;
@inline export function clearDataHits(): void { dataHits = 0; }

export function updateDebug(): void {
  const dr7 = load<u32>(STATE_BASE + S_DR7);
  acActive = (load<u32>(STATE_BASE + S_CR0) & CR0_AM) != 0 && (flags & AC) != 0 &&
    load<u32>(STATE_BASE + S_CPL) == 3;
  let d: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    const rw = (dr7 >> (16 + 4 * i)) & 3;
    if ((dr7 & (3 << (2 * i))) != 0 && (rw == 1 || rw == 3)) d |= 1 << i;
  }
  dataBps = d;
  slowData = acActive || d != 0;
  debugActive = slowData || (flags & (TF | RF)) != 0 || (dr7 & 0xff) != 0;
  if (debugActive) needAttention(); // the run loop looks at debug state only then
  refreshMasks();
}
import { refreshMasks } from './access';
import { needAttention } from './events';

/** Checks a data access of `n` bytes at linear `lin` (CPL-privilege accesses only). */
export function checkData(lin: u32, n: u32, write: bool): void {
  if (acActive && (lin & (n - 1)) != 0) { raise(AC_VEC, 0, true); return; }
  if (dataBps == 0) return;
  const dr7 = load<u32>(STATE_BASE + S_DR7);
  for (let i: u32 = 0; i < 4; i++) {
    if ((dataBps & (1 << i)) == 0) continue;
    const rw = (dr7 >> (16 + 4 * i)) & 3;
    if (rw == 1 && !write) continue;
    const lenCode = (dr7 >> (18 + 4 * i)) & 3;
    const len: u32 = lenCode == 0 ? 1 : lenCode == 1 ? 2 : lenCode == 3 ? 4 : 8;
    const a = load<u32>(STATE_BASE + S_DR + (i << 2)) & ~(len - 1);
    if (lin - a < len || a - lin < n) dataHits |= 1 << i;
  }
}

/** Instruction breakpoints matching linear address `lin` (DR7 R/W = 00), as DR6 bits. */
export function instructionHits(lin: u32): u32 {
  const dr7 = load<u32>(STATE_BASE + S_DR7);
  let h: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    if ((dr7 & (3 << (2 * i))) == 0 || ((dr7 >> (16 + 4 * i)) & 3) != 0) continue;
    if (load<u32>(STATE_BASE + S_DR + (i << 2)) == lin) h |= 1 << i;
  }
  return h;
}

/** Records debug-exception causes in DR6: B0-B3 replaced by `hits`, BS (bit 14) when
 *  single-stepping. */
/** DR6 before the last recordDr6() and the bits it reported (B0-B3, BS): a #DB that exits
 *  from VMX non-root operation leaves DR6 alone and reports them in the qualification (SDM
 *  vol. 3C, 28.1, table 28-1). */
export let dr6Before: u32 = 0;
export let dr6Bits: u32 = 0;
export function recordDr6(hits: u32, singleStep: bool): void {
  let dr6 = load<u32>(STATE_BASE + S_DR6);
  dr6Before = dr6;
  dr6Bits = hits | (singleStep ? 0x4000 : 0);
  dr6 = (dr6 & ~0xf) | hits;
  if (singleStep) dr6 |= 0x4000;
  store<u32>(STATE_BASE + S_DR6, dr6);
}
