// The decoder's state for the current instruction: operand and address size after the
// 66/67 prefixes, the segment override, REP/LOCK, and the ModRM/SIB effective address
// (Intel SDM vol. 2, 2.1 and tables 2-1 to 2-3).
import { fetch8, fetch16, fetch32, rd8, rd16, rd32, wr8, wr16, wr32 } from './access';
import { reg8, reg16, reg32, setReg8, setReg16, setReg32, DS, SS } from './state';

/** Operand size in bits: 16 or 32. */
export let osz: u32 = 32;
/** Address size in bits: 16 or 32. */
export let asz: u32 = 32;
/** Segment register of a memory operand: the default, or the override prefix. */
export let segOvr: i32 = -1;
/** 0, 0xF2 (REPNE) or 0xF3 (REP/REPE). */
export let rep: u32 = 0;
export let lock: bool = false;

export let modrm: u32 = 0;
/** Effective-address offset and segment of the ModRM memory operand. */
export let eaOff: u32 = 0;
export let eaSeg: u32 = DS;

@inline export function setEaOff(v: u32): void { eaOff = v; }
@inline export function setOsz(v: u32): void { osz = v; }
@inline export function setAsz(v: u32): void { asz = v; }
@inline export function setSegOvr(v: i32): void { segOvr = v; }
@inline export function setRep(v: u32): void { rep = v; }
@inline export function setLock(v: bool): void { lock = v; }

@inline export function modIsReg(): bool { return modrm >= 0xc0; }
@inline export function regField(): u32 { return (modrm >> 3) & 7; }
@inline export function rmField(): u32 { return modrm & 7; }

/** Reads the ModRM byte and, for a memory operand, its SIB and displacement. */
export function decodeModrm(): void {
  decodeModrmWith(fetch8());
}

/** decodeModrmWith with the commonest 32-bit forms inline: [reg] and [reg + disp8]
 *  (no SIB, no disp32, base not EBP/ESP, so the default segment is DS). */
@inline export function decodeModrmFast(m: u32): void {
  const rm = m & 7;
  if (asz == 32 && m < 0x80 && rm != 4 && rm != 5) {
    modrm = m;
    let off = reg32(rm);
    if (m >= 0x40) off += <u32><i32><i8>fetch8();
    eaOff = off;
    eaSeg = segOvr >= 0 ? <u32>segOvr : DS;
  } else {
    decodeModrmWith(m);
  }
}

/** As decodeModrm, with the ModRM byte already fetched. */
export function decodeModrmWith(m: u32): void {
  modrm = m;
  if (m >= 0xc0) return;
  const mod = m >> 6;
  const rm = m & 7;
  let seg: u32 = DS;
  let off: u32 = 0;
  if (asz == 32) {
    if (rm == 4) {
      const sib = fetch8();
      const base = sib & 7;
      const idx = (sib >> 3) & 7;
      if (idx != 4) off = reg32(idx) << (sib >> 6);
      if (base == 5 && mod == 0) {
        off += fetch32();
      } else {
        off += reg32(base);
        if (base == 4 || base == 5) seg = SS;
      }
    } else if (rm == 5 && mod == 0) {
      off = fetch32();
    } else {
      off = reg32(rm);
      if (rm == 5) seg = SS;
    }
    if (mod == 1) off += <u32><i32><i8>fetch8();
    else if (mod == 2) off += fetch32();
  } else {
    switch (rm) {
      case 0: off = reg16(3) + reg16(6); break;               // [BX+SI]
      case 1: off = reg16(3) + reg16(7); break;               // [BX+DI]
      case 2: off = reg16(5) + reg16(6); seg = SS; break;     // [BP+SI]
      case 3: off = reg16(5) + reg16(7); seg = SS; break;     // [BP+DI]
      case 4: off = reg16(6); break;                          // [SI]
      case 5: off = reg16(7); break;                          // [DI]
      case 6:
        if (mod == 0) off = fetch16(); else { off = reg16(5); seg = SS; } // [disp16] / [BP]
        break;
      default: off = reg16(3); break;                         // [BX]
    }
    if (mod == 1) off += <u32><i32><i8>fetch8();
    else if (mod == 2) off += fetch16();
    off &= 0xffff;
  }
  eaOff = off;
  eaSeg = segOvr >= 0 ? <u32>segOvr : seg;
}

/** Segment for a default-DS memory access (string sources, XLAT, moffs), honouring overrides. */
@inline export function dataSeg(): u32 { return segOvr >= 0 ? <u32>segOvr : DS; }

// ---- Operand access by size (8, 16, 32) ----

@inline export function getReg(size: u32, r: u32): u32 {
  if (size == 32) return reg32(r);
  if (size == 16) return reg16(r);
  return reg8(r);
}
@inline export function setReg(size: u32, r: u32, v: u32): void {
  if (size == 32) setReg32(r, v);
  else if (size == 16) setReg16(r, v);
  else setReg8(r, v);
}
/** Reads the ModRM r/m operand. */
@inline export function readRM(size: u32): u32 {
  if (modrm >= 0xc0) return getReg(size, modrm & 7);
  if (size == 32) return rd32(eaSeg, eaOff);
  if (size == 16) return rd16(eaSeg, eaOff);
  return rd8(eaSeg, eaOff);
}
/** Writes the ModRM r/m operand. */
@inline export function writeRM(size: u32, v: u32): void {
  if (modrm >= 0xc0) { setReg(size, modrm & 7, v); return; }
  if (size == 32) wr32(eaSeg, eaOff, v);
  else if (size == 16) wr16(eaSeg, eaOff, v);
  else wr8(eaSeg, eaOff, v);
}
/** Immediate of the operand size (8: byte, 16, 32). */
@inline export function fetchImm(size: u32): u32 {
  if (size == 32) return fetch32();
  if (size == 16) return fetch16();
  return fetch8();
}
/** Sign-extended 8-bit immediate. */
@inline export function fetchSimm8(): u32 { return <u32><i32><i8>fetch8(); }
