// Register access on the one state block (scripts/layout.mjs). Every field lives at a
// constant offset from STATE_BASE, so each access compiles to one load/store with an
// immediate offset.
import {
  STATE_BASE, S_GPR, S_EIP, S_SEG, S_CR0, S_CR4, S_CPL, SEG_BASE, SEG_LIMIT, SEG_ACCESS, SEG_SEL,
  SEG_SIZE,
} from '../generated/layout';

export const EAX = 0; export const ECX = 1; export const EDX = 2; export const EBX = 3;
export const ESP = 4; export const EBP = 5; export const ESI = 6; export const EDI = 7;

export const ES = 0; export const CS = 1; export const SS = 2; export const DS = 3;
export const FS = 4; export const GS = 5; export const LDTR = 6; export const TR = 7;

// CR0 bits (Intel SDM vol. 3A, 2.5).
export const CR0_PE: u32 = 1 << 0;
export const CR0_MP: u32 = 1 << 1;
export const CR0_EM: u32 = 1 << 2;
export const CR0_TS: u32 = 1 << 3;
export const CR0_ET: u32 = 1 << 4;
export const CR0_NE: u32 = 1 << 5;
export const CR0_WP: u32 = 1 << 16;
export const CR0_AM: u32 = 1 << 18;
export const CR0_NW: u32 = 1 << 29;
export const CR0_CD: u32 = 1 << 30;
export const CR0_PG: u32 = 1 << 31;
// CR4 bits (Intel SDM vol. 3A, 2.5).
export const CR4_VME: u32 = 1 << 0;
export const CR4_PVI: u32 = 1 << 1;
export const CR4_TSD: u32 = 1 << 2;
export const CR4_DE: u32 = 1 << 3;
export const CR4_PSE: u32 = 1 << 4;
export const CR4_PAE: u32 = 1 << 5;
export const CR4_PGE: u32 = 1 << 7;
export const CR4_OSFXSR: u32 = 1 << 9;
/** CR4 bits this CPU has: TSD DE PSE PGE PCE OSFXSR (SDM vol. 3A, 2.5; OSFXSR goes with
 *  CPUID.FXSR, which the core reports). VME and PVI need CPUID.VME and PAE, MCE,
 *  OSXMMEXCPT... their features, which CPUID does not report: writing them is #GP(0).
 *  With VMX configured, VMXE too (assembly/cpu/system/vmx.ts). */
export const CR4_VALID: u32 = 0x4 | 0x8 | 0x10 | 0x80 | 0x100 | CR4_OSFXSR;

// Segment access rights, VMCS format (SDM vol. 3C, table 25-2).
export const AR_TYPE_MASK: u32 = 0xf;
export const AR_S: u32 = 1 << 4;
export const AR_P: u32 = 1 << 7;
export const AR_DB: u32 = 1 << 14;
export const AR_G: u32 = 1 << 15;
export const AR_UNUSABLE: u32 = 1 << 16;

/** Address of general register `r` (its encoding: EAX ECX EDX EBX ESP EBP ESI EDI). */
@inline function gpr(r: u32): u32 { return STATE_BASE + S_GPR + (r << 2); }
@inline export function reg32(r: u32): u32 { return load<u32>(gpr(r)); }
@inline export function setReg32(r: u32, v: u32): void { store<u32>(gpr(r), v); }
@inline export function reg16(r: u32): u32 { return load<u16>(gpr(r)); }
@inline export function setReg16(r: u32, v: u32): void { store<u16>(gpr(r), <u16>v); }
/** 8-bit registers: AL CL DL BL AH CH DH BH (r & 3 picks the register, r & 4 the high byte). */
@inline export function reg8(r: u32): u32 {
  return load<u8>(gpr(r & 3) + ((r >> 2) & 1));
}
@inline export function setReg8(r: u32, v: u32): void {
  store<u8>(gpr(r & 3) + ((r >> 2) & 1), <u8>v);
}

@inline export function getEip(): u32 { return load<u32>(STATE_BASE + S_EIP); }
@inline export function setEip(v: u32): void { store<u32>(STATE_BASE + S_EIP, v); }

/** Address of the cache of segment register `s` (ES CS SS DS FS GS LDTR TR). */
@inline function seg(s: u32): u32 { return STATE_BASE + S_SEG + s * SEG_SIZE; }
@inline export function segSel(s: u32): u32 { return load<u32>(seg(s) + SEG_SEL); }
@inline export function segBase(s: u32): u32 { return load<u32>(seg(s) + SEG_BASE); }
@inline export function segLimit(s: u32): u32 { return load<u32>(seg(s) + SEG_LIMIT); }
@inline export function segAccess(s: u32): u32 { return load<u32>(seg(s) + SEG_ACCESS); }
@inline export function setSegRaw(s: u32, sel: u32, base: u32, limit: u32, access: u32): void {
  const p = seg(s);
  store<u32>(p + SEG_SEL, sel);
  store<u32>(p + SEG_BASE, base);
  store<u32>(p + SEG_LIMIT, limit);
  store<u32>(p + SEG_ACCESS, access);
}

@inline export function cr0(): u32 { return load<u32>(STATE_BASE + S_CR0); }
@inline export function cr4(): u32 { return load<u32>(STATE_BASE + S_CR4); }
@inline export function cpl(): u32 { return load<u32>(STATE_BASE + S_CPL); }

@inline export function getField(off: u32): u32 { return load<u32>(STATE_BASE + off); }
@inline export function setField(off: u32, v: u32): void { store<u32>(STATE_BASE + off, v); }
@inline export function addCounter(off: u32, n: u64): void {
  store<u64>(STATE_BASE + off, load<u64>(STATE_BASE + off) + n);
}
