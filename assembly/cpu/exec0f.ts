// Two-byte opcodes 0F xx (SDM vol. 2D, table A-3).
import { STATE_BASE, S_CPL, S_TSC, S_CR4 } from '../generated/layout';
import {
  reg32, setReg32, reg16, setReg16, EAX, ECX, EDX, EBX, ES, SS, FS, GS, CR4_TSD,
} from './state';
import { fetch8, rd32, wr32, probeWrite, updateCpl } from './access';
import {
  osz, asz, modrm, eaOff, eaSeg, decodeModrm, regField, getReg, setReg, readRM, writeRM, fetchImm,
  setEaOff,
} from './decode';
import { faulted, raiseGP, raiseUD } from './fault';
import { testCC, setResultFlags, materialize, flags, setFlagsWord, ZF, CF } from './flags';
import { alu, OP_CMP, OP_ADD } from './ops/alu';
import { shiftDouble } from './ops/shift';
import { imul2 } from './ops/muldiv';
import { bitOp, bitScan } from './ops/bitops';
import { rmwRead, rmwWrite } from './rmw';
import { jumpRel } from './control';
import { popSegReg, pushSegReg, loadFarPointer } from './insns';
import { protectedMode, v86Mode } from './system/segments';
import { loadTable, storeTable, lldt, ltr, sldt, str, lar, lsl, verr, verw } from './system/tables';
import { movToCr, movFromCr, movToDr, movFromDr, lmsw, smsw, clts, invlpg, invd } from './system/cr';
import { cpuid } from './system/cpuid';
import { rdmsr, wrmsr } from './system/msr';
import { sysenter, sysexit } from './system/sysenter';

function cplNow(): u32 { return load<u32>(STATE_BASE + S_CPL); }

export function exec0f(b: u32): void {
  switch (b) {
    case 0x00: group6(); return;
    case 0x01: group7(); return;
    case 0x02: case 0x03: { // LAR, LSL
      decodeModrm(); if (faulted) return;
      const sel = readRM(16); if (faulted) return;
      const v = b == 0x02 ? lar(sel) : lsl(sel);
      if (faulted) return;
      if (v >= 0) setReg(osz, regField(), <u32>v);
      return;
    }
    case 0x06: clts(); return;
    case 0x08: case 0x09: invd(); return;
    case 0x0b: case 0xb9: case 0xff: raiseUD(); return; // UD2, UD1, UD0
    case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f:
      // Hint NOPs, among them the multi-byte NOP 0F 1F /0 (SDM vol. 2B, NOP): no access.
      decodeModrm();
      return;
    case 0x20: case 0x21: case 0x22: case 0x23: {
      const m = fetch8(); if (faulted) return;
      const r = (m >> 3) & 7, rm = m & 7;
      if (b == 0x20) { const v = movFromCr(r); if (!faulted) setReg32(rm, v); }
      else if (b == 0x21) { const v = movFromDr(r); if (!faulted) setReg32(rm, v); }
      else if (b == 0x22) movToCr(r, reg32(rm));
      else movToDr(r, reg32(rm));
      if (b >= 0x22 && !faulted) updateCpl(); // CR0.AM or DR7 may change the debug checks
      return;
    }
    case 0x30: wrmsr(); return;
    case 0x31: { // RDTSC: #GP at CPL > 0 when CR4.TSD (SDM vol. 2B, RDTSC)
      if ((load<u32>(STATE_BASE + S_CR4) & CR4_TSD) != 0 && (cplNow() != 0 || v86Mode()) && protectedMode()) { raiseGP(0); return; }
      const t = load<u64>(STATE_BASE + S_TSC) + tscOffset();
      setReg32(EAX, <u32>t); setReg32(EDX, <u32>(t >> 32));
      return;
    }
    case 0x32: rdmsr(); return;
    case 0x34: sysenter(); return;
    case 0x35: sysexit(); return;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
      decodeModrm(); if (faulted) return;
      const v = readRM(osz); if (faulted) return;
      if (testCC(b & 15)) setReg(osz, regField(), v);
      else if (osz == 32) setReg32(regField(), reg32(regField())); // 32-bit CMOV writes even if false
      return;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
    case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8c: case 0x8d: case 0x8e: case 0x8f: {
      const d = fetchImm(osz); if (faulted) return;
      if (testCC(b & 15)) jumpRel(d);
      return;
    }
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9a: case 0x9b: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
      decodeModrm(); if (faulted) return;
      writeRM(8, testCC(b & 15) ? 1 : 0);
      return;
    case 0xa0: pushSegReg(FS); return;
    case 0xa1: popSegReg(FS); return;
    case 0xa8: pushSegReg(GS); return;
    case 0xa9: popSegReg(GS); return;
    case 0xa2: cpuid(); return;
    case 0xa3: case 0xab: case 0xb3: case 0xbb: { // BT BTS BTR BTC Ev, Gv
      decodeModrm(); if (faulted) return;
      const off = getReg(osz, regField());
      const op: u32 = b == 0xa3 ? 0 : b == 0xab ? 1 : b == 0xb3 ? 2 : 3;
      bitMem(op, off, true);
      return;
    }
    case 0xba: { // group 8: BT BTS BTR BTC Ev, Ib
      decodeModrm(); if (faulted) return;
      const r = regField();
      const imm = fetch8(); if (faulted) return;
      if (r < 4) { raiseUD(); return; }
      bitMem(r - 4, imm, false);
      return;
    }
    case 0xa4: case 0xa5: case 0xac: case 0xad: { // SHLD / SHRD
      decodeModrm(); if (faulted) return;
      let c: u32 = reg32(ECX) & 0xff;
      if (b == 0xa4 || b == 0xac) { c = fetch8(); if (faulted) return; }
      const a = rmwRead(osz); if (faulted) return;
      if ((c & 31) == 0) return;
      rmwWrite(osz, shiftDouble(b < 0xa8, a, getReg(osz, regField()), c, osz));
      return;
    }
    case 0xaf: {
      decodeModrm(); if (faulted) return;
      const v = readRM(osz); if (faulted) return;
      setReg(osz, regField(), imul2(getReg(osz, regField()), v, osz));
      return;
    }
    case 0xb0: case 0xb1: { // CMPXCHG
      const size: u32 = b == 0xb0 ? 8 : osz;
      decodeModrm(); if (faulted) return;
      const d = rmwRead(size); if (faulted) return;
      const acc = getReg(size, EAX);
      alu(OP_CMP, acc, d, size);
      if (acc == d) rmwWrite(size, getReg(size, regField()));
      else {
        rmwWrite(size, d); if (faulted) return; // the destination is always written back
        setReg(size, EAX, d);
      }
      return;
    }
    case 0xb2: loadFarPointer(SS); return;
    case 0xb4: loadFarPointer(FS); return;
    case 0xb5: loadFarPointer(GS); return;
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: { // MOVZX, MOVSX
      decodeModrm(); if (faulted) return;
      const small: u32 = (b & 1) != 0 ? 16 : 8;
      let v = readRM(small); if (faulted) return;
      if (b >= 0xbe) v = small == 8 ? <u32><i32><i8>v : <u32><i32><i16>v;
      setReg(osz, regField(), v);
      return;
    }
    case 0xbc: case 0xbd: { // BSF, BSR
      decodeModrm(); if (faulted) return;
      const v = readRM(osz); if (faulted) return;
      const r = bitScan(b == 0xbd, v, osz);
      if (r >= 0) setReg(osz, regField(), <u32>r);
      return;
    }
    case 0xc0: case 0xc1: { // XADD
      const size: u32 = b == 0xc0 ? 8 : osz;
      decodeModrm(); if (faulted) return;
      const d = rmwRead(size); if (faulted) return;
      const s = getReg(size, regField());
      const sum = alu(OP_ADD, d, s, size);
      rmwWrite(size, sum); if (faulted) return;
      setReg(size, regField(), d);
      if (modrm >= 0xc0 && (modrm & 7) == regField()) setReg(size, regField(), sum);
      return;
    }
    case 0xc7: { // CMPXCHG8B m64
      decodeModrm(); if (faulted) return;
      if (regField() != 1 || modrm >= 0xc0) { raiseUD(); return; }
      probeWrite(eaSeg, eaOff, 8); if (faulted) return;
      const lo = rd32(eaSeg, eaOff); if (faulted) return;
      const hi = rd32(eaSeg, eaOff + 4); if (faulted) return;
      materialize();
      if (lo == reg32(EAX) && hi == reg32(EDX)) {
        wr32(eaSeg, eaOff, reg32(EBX)); if (faulted) return;
        wr32(eaSeg, eaOff + 4, reg32(ECX)); if (faulted) return;
        setFlagsWord(flags | ZF);
      } else {
        wr32(eaSeg, eaOff, lo); if (faulted) return;
        wr32(eaSeg, eaOff + 4, hi); if (faulted) return;
        setReg32(EAX, lo); setReg32(EDX, hi);
        setFlagsWord(flags & ~ZF);
      }
      return;
    }
    case 0xc8: case 0xc9: case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf: {
      const r = b & 7;
      if (osz == 32) setReg32(r, bswap<u32>(reg32(r)));
      else setReg16(r, 0); // BSWAP r16 is undefined; P6-family CPUs clear the low word
      return;
    }
    default:
      raiseUD();
  }
}

/** TSC ticks not yet folded into the state block (the run loop keeps them in a local). */
import { tscPending } from './tsc';
@inline function tscOffset(): u64 { return tscPending(); }

/** BT* with ModRM destination. `regOffset`: bit offset from a register (signed, may address
 *  beyond the operand in memory) or from an immediate (taken modulo the operand size). */
function bitMem(op: u32, off: u32, regOffset: bool): void {
  const size = osz;
  const bit = off & (size - 1);
  if (modrm < 0xc0 && regOffset) {
    const words: i32 = size == 32 ? (<i32>off >> 5) : (<i32><i16>off >> 4);
    let ea = eaOff + <u32>(words * <i32>(size >> 3));
    if (asz == 16) ea &= 0xffff;
    setEaOff(ea);
  }
  if (op == 0) {
    const v = readRM(size); if (faulted) return;
    bitOp(0, v, bit);
    return;
  }
  const v = rmwRead(size); if (faulted) return;
  rmwWrite(size, bitOp(op, v, bit));
}

function group6(): void {
  decodeModrm(); if (faulted) return;
  if (!protectedMode() || v86Mode()) { raiseUD(); return; }
  const r = regField();
  switch (r) {
    case 0: case 1: {
      const v = r == 0 ? sldt() : str();
      if (modrm >= 0xc0) setReg(osz, modrm & 7, v); else writeRM(16, v);
      return;
    }
    case 2: case 3: {
      const v = readRM(16); if (faulted) return;
      if (r == 2) lldt(v); else ltr(v);
      return;
    }
    case 4: case 5: {
      const v = readRM(16); if (faulted) return;
      if (r == 4) verr(v); else verw(v);
      return;
    }
    default: raiseUD();
  }
}

function group7(): void {
  decodeModrm(); if (faulted) return;
  const r = regField();
  switch (r) {
    case 0: case 1: case 2: case 3: {
      if (modrm >= 0xc0) { raiseUD(); return; }
      if (r < 2) storeTable(r == 1, eaSeg, eaOff);
      else loadTable(r == 3, eaSeg, eaOff, osz);
      return;
    }
    case 4: { // SMSW
      const v = smsw();
      if (modrm >= 0xc0) setReg(osz, modrm & 7, v); else writeRM(16, v);
      return;
    }
    case 6: { const v = readRM(16); if (faulted) return; lmsw(v); updateCpl(); return; }
    case 7: {
      if (modrm >= 0xc0) { raiseUD(); return; }
      invlpg(segBaseOf(eaSeg) + eaOff);
      return;
    }
    default: raiseUD();
  }
}

import { segBase } from './state';
@inline function segBaseOf(s: u32): u32 { return segBase(s); }
