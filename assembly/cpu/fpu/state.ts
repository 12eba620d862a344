// The x87 FPU's registers (Intel SDM vol. 1, 8.1): eight 80-bit data registers used as a
// stack, the control, status and tag words, and the last instruction and operand pointers.
// They live in the state block (scripts/layout.mjs) so that saveState/loadState and a
// VMM see them: register i (physical) is S_FPU_MAN[i] (significand) and S_FPU_SE[i] (sign
// and exponent); the status word holds TOP in bits 13:11 as the architecture does.
import {
  STATE_BASE, S_FPU_MAN, S_FPU_SE, S_FPU_CW, S_FPU_SW, S_FPU_TW, S_FPU_FIP, S_FPU_FCS,
  S_FPU_FOP, S_FPU_FDP, S_FPU_FDS,
} from '../../generated/layout';
import { classify, K_ZERO, K_NORMAL } from './f80';

// Status word bits (SDM vol. 1, 8.1.3, figure 8-4).
export const SW_ES: u32 = 0x0080;
export const SW_C0: u32 = 0x0100;
export const SW_C1: u32 = 0x0200;
export const SW_C2: u32 = 0x0400;
export const SW_C3: u32 = 0x4000;
export const SW_B: u32 = 0x8000;
export const SW_CC: u32 = SW_C0 | SW_C1 | SW_C2 | SW_C3;

// Tag values (SDM vol. 1, 8.1.7, figure 8-7).
export const TAG_VALID: u32 = 0;
export const TAG_ZERO: u32 = 1;
export const TAG_SPECIAL: u32 = 2;
export const TAG_EMPTY: u32 = 3;

@inline export function fcw(): u32 { return load<u32>(STATE_BASE + S_FPU_CW); }
/** Bit 6 of the control word is reserved and reads as 1 (the reset value is 0040h). */
@inline export function setFcw(v: u32): void {
  store<u32>(STATE_BASE + S_FPU_CW, (v & 0x1f7f) | 0x40);
}
@inline export function fsw(): u32 { return load<u32>(STATE_BASE + S_FPU_SW); }
@inline export function setFsw(v: u32): void { store<u32>(STATE_BASE + S_FPU_SW, v & 0xffff); }
@inline export function ftw(): u32 { return load<u32>(STATE_BASE + S_FPU_TW); }
@inline export function setFtw(v: u32): void { store<u32>(STATE_BASE + S_FPU_TW, v & 0xffff); }

@inline export function top(): u32 { return (fsw() >> 11) & 7; }
@inline export function setTop(t: u32): void { setFsw((fsw() & ~0x3800) | ((t & 7) << 11)); }
/** The physical register of ST(i). */
@inline export function phys(i: u32): u32 { return (top() + i) & 7; }

@inline export function manOf(p: u32): u64 { return load<u64>(STATE_BASE + S_FPU_MAN + (p << 3)); }
@inline export function seOf(p: u32): u32 { return load<u32>(STATE_BASE + S_FPU_SE + (p << 2)); }
@inline export function tagOf(p: u32): u32 { return (ftw() >> (p << 1)) & 3; }
export function setTag(p: u32, t: u32): void {
  setFtw((ftw() & ~(3 << (p << 1))) | ((t & 3) << (p << 1)));
}

/** The tag a value earns (8.1.7): zero, valid (normal) or special (everything else). */
export function tagFor(se: u32, man: u64): u32 {
  const k = classify(se, man);
  return k == K_ZERO ? TAG_ZERO : k == K_NORMAL ? TAG_VALID : TAG_SPECIAL;
}

/** Writes physical register p and its tag. */
export function setPhys(p: u32, se: u32, man: u64): void {
  store<u64>(STATE_BASE + S_FPU_MAN + (p << 3), man);
  store<u32>(STATE_BASE + S_FPU_SE + (p << 2), se & 0xffff);
  setTag(p, tagFor(se, man));
}

@inline export function stEmpty(i: u32): bool { return tagOf(phys(i)) == TAG_EMPTY; }
@inline export function stMan(i: u32): u64 { return manOf(phys(i)); }
@inline export function stSe(i: u32): u32 { return seOf(phys(i)); }
@inline export function setSt(i: u32, se: u32, man: u64): void { setPhys(phys(i), se, man); }

/** Pops the stack: ST(0) is tagged empty and TOP moves up. */
export function pop(): void {
  setTag(top(), TAG_EMPTY);
  setTop(top() + 1);
}
/** Pushes: TOP moves down; the caller writes the new ST(0). */
export function pushTop(): void { setTop(top() - 1); }

/** FNINIT (SDM vol. 2A, FINIT/FNINIT): CW 037Fh, SW 0, all registers empty, pointers 0. */
export function fpuInit(): void {
  store<u32>(STATE_BASE + S_FPU_CW, 0x037f);
  store<u32>(STATE_BASE + S_FPU_SW, 0);
  store<u32>(STATE_BASE + S_FPU_TW, 0xffff);
  setPointers(0, 0, 0, 0, 0);
  ferrLine = false;
}

/** FERR# (insns.ts) and how many times it has been asserted (the platform's edge count). */
export let ferrLine: bool = false;
export let ferrAssertions: u32 = 0;
export function assertFerr(): void { ferrLine = true; ferrAssertions++; }
export function resetFerr(): void { ferrLine = false; }
/** FERR# goes away with the exception: called where ES may have been cleared. */
export function ferrFollowEs(): void { if ((fsw() & SW_ES) == 0) ferrLine = false; }

/** The state after RESET (SDM vol. 3A, 10.1.1, table 10-1): CW 0040h, SW 0, TW 5555h (every
 *  register +0.0, tagged zero), pointers 0. */
export function fpuReset(): void {
  fpuInit();
  store<u32>(STATE_BASE + S_FPU_CW, 0x0040);
  store<u32>(STATE_BASE + S_FPU_TW, 0x5555);
  for (let i: u32 = 0; i < 8; i++) {
    store<u64>(STATE_BASE + S_FPU_MAN + (i << 3), 0);
    store<u32>(STATE_BASE + S_FPU_SE + (i << 2), 0);
  }
}

export function setPointers(ip: u32, cs: u32, op: u32, dp: u32, ds: u32): void {
  store<u32>(STATE_BASE + S_FPU_FIP, ip);
  store<u32>(STATE_BASE + S_FPU_FCS, cs);
  store<u32>(STATE_BASE + S_FPU_FOP, op & 0x7ff);
  store<u32>(STATE_BASE + S_FPU_FDP, dp);
  store<u32>(STATE_BASE + S_FPU_FDS, ds);
}
export function setInsnPointer(ip: u32, cs: u32, op: u32): void {
  store<u32>(STATE_BASE + S_FPU_FIP, ip);
  store<u32>(STATE_BASE + S_FPU_FCS, cs);
  store<u32>(STATE_BASE + S_FPU_FOP, op & 0x7ff);
}
export function setDataPointer(dp: u32, ds: u32): void {
  store<u32>(STATE_BASE + S_FPU_FDP, dp);
  store<u32>(STATE_BASE + S_FPU_FDS, ds);
}
@inline export function fip(): u32 { return load<u32>(STATE_BASE + S_FPU_FIP); }
@inline export function fcs(): u32 { return load<u32>(STATE_BASE + S_FPU_FCS); }
@inline export function fop(): u32 { return load<u32>(STATE_BASE + S_FPU_FOP); }
@inline export function fdp(): u32 { return load<u32>(STATE_BASE + S_FPU_FDP); }
@inline export function fds(): u32 { return load<u32>(STATE_BASE + S_FPU_FDS); }
