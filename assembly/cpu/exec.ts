// One instruction: the one-byte opcode map (SDM vol. 2D, table A-2); prefixes in prefixes.ts.
// Two-byte opcodes are in exec0f.ts. Every handler checks `faulted` after each access
// that can fault and returns without further changes.
import { STATE_BASE, S_CPL, S_HALTED } from '../generated/layout';
import {
  reg32, setReg32, reg16, setReg16, reg8, setReg8, segSel, cr0, EAX, ECX, EDX, EBX, ESP, EBP,
  ES, CS, SS, DS, CR0_EM, CR0_TS, CR0_MP,
} from './state';
import {
  ip, setIp, startIp, beginInsn, prefixDirty, setPrefixDirty, fetch8, fetch16, fetch32, code32,
  stack32, rd8, rd16, rd32, wr8, wr16, wr32, rdSized,
} from './access';
import { unclampFetch } from '../mem/tlb';
import {
  osz, asz, modrm, eaOff, eaSeg, setOsz, setAsz, setSegOvr, setRep, setLock, decodeModrm,
  decodeModrmFast, regField, getReg, setReg, readRM, writeRM, fetchImm, fetchSimm8, dataSeg,
} from './decode';
import { faulted, raiseGP, raiseUD, raise, NM } from './fault';
import {
  getFlags, materialize, flags, setFlagsWord, testCC, getCF, getOF, getZF, setLazy, CF, DF, IF,
  VM, RF, STATUS, LF_INC, LF_DEC, setCFOF,
} from './flags';
import { alu, inc, dec, OP_CMP, OP_AND } from './ops/alu';
import { shift } from './ops/shift';

import { daa, das, aaa, aas, aam, aad } from './ops/bcd';
import { stringOp } from './ops/string';
import { portIn, portOut } from './ops/io';
import { rmwRead, rmwWrite } from './rmw';
import { jumpRel, callTo } from './control';
import { pushSz, popSz, sp, setSp, spOff } from './stack';
import { exec0f } from './exec0f';
import { setShadowNext, setSoftInt } from './shadow';
import { aluMem32, aluRM, alu32, aluEvGv, aluGvEv, aluAccImm } from './alu-paths';
import {
  segLimitCS, realFarTargetOk, realFarReturnOk, imm2, pushSeg, popSeg, pusha, popa, bound,
  loadFar, enter, group3, group5, redecodeAfterPrefixes,
} from './insns';
import { setSliceCount } from './tsc';
import { needAttention } from './events';
import { prefixes, prefixPending, clearPrefixPending } from './prefixes';
import { loadSeg } from './system/segments';
import { farJump, farCall, farReturn } from './system/far';
import { deliver, iret, EV_SOFT_INT, EV_SOFT_EXC, EV_PRIV_SOFT_EXC } from './system/interrupts';
import { popf, pushfAllowed, ifChangeAllowed } from './system/eflags';
import { arpl } from './system/tables';
import { protectedMode, v86Mode } from './system/segments';

/** Operand size (bits) of a w-bit opcode: byte when w = 0. */
@inline function wsize(b: u32): u32 { return (b & 1) != 0 ? osz : 8; }

/** Executes one instruction at `ip` (inlined into the run loop), or only its prefixes:
 *  then `prefixPending` is set and the next step() dispatches the opcode with them.
 *  `retired`: instructions retired so far in this slice of the run loop (the time stamp
 *  counter's pending part, published for the two-byte opcodes that read it). */
@inline export function step(retired: u32): void {
  if (prefixDirty) {
    if (prefixPending) {
      clearPrefixPending(); // the prefixes just consumed apply; the instruction began at startIp
    } else {
      beginInsn();
      unclampFetch();
      const d: u32 = code32 ? 32 : 16;
      setOsz(d); setAsz(d); setSegOvr(-1); setRep(0); setLock(false);
      setPrefixDirty(false);
    }
  } else {
    beginInsn();
  }
  exec1(fetch8(), retired);
}

// Inlined into the run loop: a call per instruction into this large function costs more than its size.
@inline function exec1(b: u32, retired: u32): void {
  // Prefixes are cases of the dispatch (see prefixPending), so an instruction without
  // prefixes pays no separate test for them.
  switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: case 0x66: case 0x67:
    case 0xf0: case 0xf2: case 0xf3:
      prefixes(b);
      return;
    // ---- 32-bit register fast paths (the general forms follow) ----
    // ALU Ev,Gv and Gv,Ev: one case per opcode so the operation is a constant in each.
    case 0x01: aluEvGv(0x01); return;
    case 0x09: aluEvGv(0x09); return;
    case 0x11: aluEvGv(0x11); return;
    case 0x19: aluEvGv(0x19); return;
    case 0x21: aluEvGv(0x21); return;
    case 0x29: aluEvGv(0x29); return;
    case 0x31: aluEvGv(0x31); return;
    case 0x39: aluEvGv(0x39); return;
    case 0x03: aluGvEv(0x03); return;
    case 0x0b: aluGvEv(0x0b); return;
    case 0x13: aluGvEv(0x13); return;
    case 0x1b: aluGvEv(0x1b); return;
    case 0x23: aluGvEv(0x23); return;
    case 0x2b: aluGvEv(0x2b); return;
    case 0x33: aluGvEv(0x33); return;
    case 0x3b: aluGvEv(0x3b); return;
    case 0x89: {
      const m = fetch8(); if (faulted) return;
      if (m >= 0xc0) { setReg(osz, m & 7, getReg(osz, (m >> 3) & 7)); return; }
      decodeModrmFast(m); if (faulted) return;
      if (osz == 32) wr32(eaSeg, eaOff, reg32((m >> 3) & 7)); else wr16(eaSeg, eaOff, reg16((m >> 3) & 7));
      return;
    }
    case 0x8b: {
      const m = fetch8(); if (faulted) return;
      if (m >= 0xc0) { setReg(osz, (m >> 3) & 7, getReg(osz, m & 7)); return; }
      decodeModrmFast(m); if (faulted) return;
      const v = osz == 32 ? rd32(eaSeg, eaOff) : rd16(eaSeg, eaOff); if (faulted) return;
      setReg(osz, (m >> 3) & 7, v);
      return;
    }
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
      const r = b & 7;
      if (osz == 32) {
        const a = reg32(r);
        const c = getCF();
        setFlagsWord((flags & ~STATUS) | c);
        if (b < 0x48) { setReg32(r, a + 1); setLazy(LF_INC, a, 1, a + 1, 0x80000000); }
        else { setReg32(r, a - 1); setLazy(LF_DEC, a, 1, a - 1, 0x80000000); }
        return;
      }
      setReg16(r, b < 0x48 ? inc(reg16(r), 16) : dec(reg16(r), 16));
      return;
    }
    case 0x74: case 0x75: { // JZ/JNZ rel8 (the commonest condition, without testCC)
      const dsp = fetchSimm8(); if (faulted) return;
      if ((getZF() != 0) == (b == 0x74)) jumpRel(dsp);
      return;
    }
    // ---- ALU: 00-3F (forms 0-5 of each row) ----
    case 0x00: case 0x08: case 0x10: case 0x18: case 0x20: case 0x28: case 0x30: case 0x38: {
      const size = wsize(b);
      decodeModrm();
      if (faulted) return;
      aluRM(b >> 3, size, getReg(size, regField()));
      return;
    }
    case 0x02: case 0x0a: case 0x12: case 0x1a: case 0x22: case 0x2a: case 0x32: case 0x3a: {
      const size = wsize(b);
      decodeModrm();
      if (faulted) return;
      const v = readRM(size); if (faulted) return;
      const r = regField();
      const res = alu(b >> 3, getReg(size, r), v, size);
      if ((b >> 3) != OP_CMP) setReg(size, r, res);
      return;
    }
    case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x24: case 0x2c: case 0x34: case 0x3c: {
      const v = fetch8(); if (faulted) return;
      const res = alu(b >> 3, reg8(0), v, 8);
      if ((b >> 3) != OP_CMP) setReg8(0, res);
      return;
    }
    case 0x05: aluAccImm(0x05); return;
    case 0x0d: aluAccImm(0x0d); return;
    case 0x15: aluAccImm(0x15); return;
    case 0x1d: aluAccImm(0x1d); return;
    case 0x25: aluAccImm(0x25); return;
    case 0x2d: aluAccImm(0x2d); return;
    case 0x35: aluAccImm(0x35); return;
    case 0x3d: aluAccImm(0x3d); return;
    // ---- segment register push/pop ----
    case 0x06: case 0x0e: case 0x16: case 0x1e: pushSeg(b >> 3); return;
    case 0x07: case 0x17: case 0x1f: popSeg(b >> 3); return;
    case 0x0f: {
      const b2 = fetch8(); if (faulted) return;
      setSliceCount(retired); // RDTSC and RDMSR(TSC) read the pending count
      exec0f(b2);
      return;
    }
    case 0x27: daa(); return;
    case 0x2f: das(); return;
    case 0x37: aaa(); return;
    case 0x3f: aas(); return;
    // ---- INC/DEC/PUSH/POP r ----
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      if (osz == 32 && stack32) {
        const n = reg32(ESP) - 4;
        wr32(SS, n, reg32(b & 7)); if (faulted) return;
        setReg32(ESP, n);
        return;
      }
      pushSz(osz, getReg(osz, b & 7)); return;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f: {
      if (osz == 32 && stack32) {
        const e = reg32(ESP);
        const v = rd32(SS, e); if (faulted) return;
        setReg32(ESP, e + 4);
        setReg32(b & 7, v); // POP ESP loads the popped value (after the increment)
        return;
      }
      const v = popSz(osz); if (faulted) return;
      setReg(osz, b & 7, v);
      return;
    }
    case 0x60: pusha(); return;
    case 0x61: popa(); return;
    case 0x62: bound(); return;
    case 0x63: { // ARPL Ew, Gw (#UD in real and V86 mode)
      if (!protectedMode() || v86Mode()) { raiseUD(); return; }
      decodeModrm(); if (faulted) return;
      const a = rmwRead(16); if (faulted) return;
      rmwWrite(16, arpl(a, reg16(regField())));
      return;
    }
    case 0x68: { const v = fetchImm(osz); if (faulted) return; pushSz(osz, v); return; }
    case 0x6a: { const v = fetchSimm8(); if (faulted) return; pushSz(osz, v); return; }
    case 0x69: case 0x6b: {
      decodeModrm(); if (faulted) return;
      const imm = b == 0x69 ? fetchImm(osz) : fetchSimm8(); if (faulted) return;
      const a = readRM(osz); if (faulted) return;
      setReg(osz, regField(), imm2(a, imm));
      return;
    }
    case 0x6c: case 0x6d: stringOp(5, wsize(b)); return;
    case 0x6e: case 0x6f: stringOp(6, wsize(b)); return;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
      const dsp = fetchSimm8(); if (faulted) return;
      if (testCC(b & 15)) jumpRel(dsp);
      return;
    }
    // ---- group 1 ----
    case 0x81: case 0x83: {
      const m = fetch8(); if (faulted) return;
      if (osz == 32 && m >= 0xc0) {
        const imm = b == 0x81 ? fetch32() : fetchSimm8(); if (faulted) return;
        const op = (m >> 3) & 7;
        const r = alu32(op, reg32(m & 7), imm);
        if (op != 7) setReg32(m & 7, r);
        return;
      }
      decodeModrmFast(m); if (faulted) return;
      const imm = b == 0x81 ? fetchImm(osz) : fetchSimm8(); if (faulted) return;
      if (osz == 32 && ((m >> 3) & 7) != 7) { aluMem32((m >> 3) & 7, imm); return; }
      aluRM(regField(), osz, imm);
      return;
    }
    case 0x80: case 0x82: {
      const size = wsize(b);
      decodeModrm(); if (faulted) return;
      const imm = b == 0x81 ? fetchImm(osz) : (b == 0x83 ? fetchSimm8() : fetch8());
      if (faulted) return;
      aluRM(regField(), size, imm);
      return;
    }
    case 0x84: case 0x85: {
      const size = wsize(b);
      decodeModrm(); if (faulted) return;
      const a = readRM(size); if (faulted) return;
      alu(OP_AND, a, getReg(size, regField()), size);
      return;
    }
    case 0x86: case 0x87: {
      const size = wsize(b);
      decodeModrm(); if (faulted) return;
      const a = rmwRead(size); if (faulted) return;
      const r = regField();
      const v = getReg(size, r);
      rmwWrite(size, v); if (faulted) return;
      setReg(size, r, a);
      return;
    }
    case 0x88: {
      const size = wsize(b);
      decodeModrm(); if (faulted) return;
      writeRM(size, getReg(size, regField()));
      return;
    }
    case 0x8a: {
      const size = wsize(b);
      decodeModrm(); if (faulted) return;
      const v = readRM(size); if (faulted) return;
      setReg(size, regField(), v);
      return;
    }
    case 0x8c: { // MOV Ev, Sreg
      decodeModrm(); if (faulted) return;
      const s = regField();
      if (s > 5) { raiseUD(); return; }
      if (modrm >= 0xc0) setReg(osz, modrm & 7, segSel(s));
      else writeRM(16, segSel(s));
      return;
    }
    case 0x8d: { // LEA
      decodeModrm(); if (faulted) return;
      if (modrm >= 0xc0) { raiseUD(); return; }
      setReg(osz, regField(), osz == 16 ? eaOff & 0xffff : eaOff);
      return;
    }
    case 0x8e: { // MOV Sreg, Ew
      decodeModrm(); if (faulted) return;
      const s = regField();
      if (s > 5 || s == CS) { raiseUD(); return; }
      const v = readRM(16); if (faulted) return;
      loadSeg(s, v); if (faulted) return;
      if (s == SS) setShadowNext();
      return;
    }
    case 0x8f: { // POP Ev: the address uses ESP after the pop (SDM vol. 2B, POP)
      decodeModrm(); if (faulted) return;
      if (regField() != 0) { raiseUD(); return; }
      const v = popSz(osz); if (faulted) return;
      if (modrm < 0xc0) {
        // Recompute the effective address with the updated ESP.
        setIp(startIp);
        redecodeAfterPrefixes();
        if (faulted) return;
      }
      writeRM(osz, v);
      return;
    }
    case 0x90: return; // NOP, and PAUSE with F3
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
      const t = getReg(osz, EAX);
      setReg(osz, EAX, getReg(osz, b & 7));
      setReg(osz, b & 7, t);
      return;
    }
    case 0x98: // CBW / CWDE
      if (osz == 16) setReg16(EAX, <u32><i32><i8>reg8(0));
      else setReg32(EAX, <u32><i32><i16>reg16(EAX));
      return;
    case 0x99: // CWD / CDQ
      if (osz == 16) setReg16(EDX, (reg16(EAX) & 0x8000) != 0 ? 0xffff : 0);
      else setReg32(EDX, <u32>(<i32>reg32(EAX) >> 31));
      return;
    case 0x9a: { // CALL ptr16:16/32
      const off = fetchImm(osz); const sel = fetch16(); if (faulted) return;
      if (!realFarTargetOk(off)) return;
      farCall(sel, off, osz);
      return;
    }
    case 0x9b: // FWAIT: #NM when CR0.MP and CR0.TS (SDM vol. 3A, table 2-2)
      if ((cr0() & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) raise(NM, 0, false);
      return;
    case 0x9c: { // PUSHF: VM and RF are cleared in the pushed image
      if (!pushfAllowed()) return;
      pushSz(osz, getFlags() & ~(VM | RF));
      return;
    }
    case 0x9d: {
      const v = popSz(osz); if (faulted) return;
      popf(v, osz);
      return;
    }
    case 0x9e: { // SAHF: SF ZF AF PF CF from AH
      materialize();
      setFlagsWord((flags & ~0xd5) | (reg8(4) & 0xd5));
      return;
    }
    case 0x9f: setReg8(4, getFlags() & 0xff); return; // LAHF
    case 0xa0: case 0xa1: {
      const size = wsize(b);
      const off = asz == 32 ? fetch32() : fetch16(); if (faulted) return;
      const v = rdSized(dataSeg(), off, size); if (faulted) return;
      setReg(size, EAX, v);
      return;
    }
    case 0xa2: case 0xa3: {
      const size = wsize(b);
      const off = asz == 32 ? fetch32() : fetch16(); if (faulted) return;
      if (size == 8) wr8(dataSeg(), off, reg8(0));
      else if (size == 16) wr16(dataSeg(), off, reg16(EAX));
      else wr32(dataSeg(), off, reg32(EAX));
      return;
    }
    case 0xa4: case 0xa5: stringOp(0, wsize(b)); return;
    case 0xa6: case 0xa7: stringOp(1, wsize(b)); return;
    case 0xa8: case 0xa9: {
      const size = wsize(b);
      const v = fetchImm(size); if (faulted) return;
      alu(OP_AND, getReg(size, EAX), v, size);
      return;
    }
    case 0xaa: case 0xab: stringOp(2, wsize(b)); return;
    case 0xac: case 0xad: stringOp(3, wsize(b)); return;
    case 0xae: case 0xaf: stringOp(4, wsize(b)); return;
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7: {
      const v = fetch8(); if (faulted) return;
      setReg8(b & 7, v);
      return;
    }
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf: {
      const v = fetchImm(osz); if (faulted) return;
      setReg(osz, b & 7, v);
      return;
    }
    // ---- group 2 and returns ----
    case 0xc1: case 0xd1: case 0xd3: {
      const m = fetch8(); if (faulted) return;
      if (osz == 32 && m >= 0xc0) {
        // Shifts and rotates of a 32-bit register.
        let c: u32 = 1;
        if (b == 0xc1) { c = fetch8(); if (faulted) return; }
        else if (b == 0xd3) c = reg8(1);
        if ((c & 31) == 0) return;
        const op = (m >> 3) & 7;
        if (op < 2) {
          // ROL/ROR: only CF and OF change (SDM vol. 2B, RCL/RCR/ROL/ROR).
          const a = reg32(m & 7);
          const r = op == 0 ? rotl<u32>(a, c & 31) : rotr<u32>(a, c & 31);
          const cf: u32 = op == 0 ? r & 1 : r >>> 31;
          const ofv: u32 = op == 0 ? (r >>> 31) ^ cf : ((r >>> 31) ^ (r >>> 30)) & 1;
          setCFOF(cf | (ofv << 11));
          setReg32(m & 7, r);
          return;
        }
        setReg32(m & 7, shift(op, reg32(m & 7), c, 32));
        return;
      }
      decodeModrmFast(m); if (faulted) return;
      let c: u32 = 1;
      if (b == 0xc1) { c = fetch8(); if (faulted) return; }
      else if (b == 0xd3) c = reg8(1);
      const a = rmwRead(osz); if (faulted) return;
      if ((c & 31) == 0) return;
      rmwWrite(osz, shift(regField(), a, c, osz));
      return;
    }
    case 0xc0: case 0xd0: case 0xd2: {
      const size = wsize(b);
      decodeModrm(); if (faulted) return;
      let c: u32 = 1;
      if (b <= 0xc1) { c = fetch8(); if (faulted) return; }
      else if (b >= 0xd2) c = reg8(1);
      const a = rmwRead(size); if (faulted) return;
      if ((c & 31) == 0) return;
      rmwWrite(size, shift(regField(), a, c, size));
      return;
    }
    case 0xc2: case 0xc3: { // RET near [imm16]
      const imm = b == 0xc2 ? fetch16() : 0; if (faulted) return;
      if (osz == 32 && stack32) {
        const e = reg32(ESP);
        const t = rd32(SS, e); if (faulted) return;
        if (t > segLimitCS()) { raiseGP(0); return; }
        setReg32(ESP, e + 4 + imm);
        setIp(t);
        return;
      }
      const v = (osz == 32 ? rd32(SS, sp()) : rd16(SS, sp())); if (faulted) return;
      const t = osz == 16 ? v & 0xffff : v;
      if (t > segLimitCS()) { raiseGP(0); return; }
      setSp(spOff((osz >> 3) + imm));
      setIp(t);
      return;
    }
    case 0xc4: case 0xc5: loadFar(b == 0xc4 ? ES : DS); return;
    case 0xc6: case 0xc7: {
      const size = wsize(b);
      decodeModrm(); if (faulted) return;
      if (regField() != 0) { raiseUD(); return; }
      const v = fetchImm(size); if (faulted) return;
      writeRM(size, v);
      return;
    }
    case 0xc8: enter(); return;
    case 0xc9: { // LEAVE
      const bp = stack32 ? reg32(EBP) : reg16(EBP);
      const v = osz == 32 ? rd32(SS, bp) : rd16(SS, bp); if (faulted) return;
      setSp(bp);
      setSp(spOff(osz >> 3));
      setReg(osz, EBP, v);
      return;
    }
    case 0xca: case 0xcb: {
      const imm = b == 0xca ? fetch16() : 0; if (faulted) return;
      if (!realFarReturnOk()) return;
      farReturn(osz, imm);
      return;
    }
    case 0xcc: deliver(3, EV_SOFT_EXC, 0, false); setSoftInt(); return;
    case 0xcd: {
      const v = fetch8(); if (faulted) return;
      if (v86Mode() && ((flags >> 12) & 3) != 3) { raiseGP(0); return; }
      deliver(v, EV_SOFT_INT, 0, false);
      setSoftInt();
      return;
    }
    case 0xce: if (getOF() != 0) { deliver(4, EV_SOFT_EXC, 0, false); setSoftInt(); } return;
    case 0xcf: if (protectedMode() || realFarReturnOk()) iret(osz); return;
    case 0xd4: { const v = fetch8(); if (faulted) return; aam(v); return; }
    case 0xd5: { const v = fetch8(); if (faulted) return; aad(v); return; }
    case 0xd6: setReg8(0, getCF() != 0 ? 0xff : 0); return; // SALC (undocumented, flags unchanged)
    case 0xd7: { // XLAT
      const base = asz == 32 ? reg32(EBX) : reg16(EBX);
      const off = asz == 32 ? base + reg8(0) : (base + reg8(0)) & 0xffff;
      const v = rd8(dataSeg(), off); if (faulted) return;
      setReg8(0, v);
      return;
    }
    case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf:
      // x87 escape: #NM when CR0.EM or CR0.TS (SDM vol. 3A, table 2-2); no FPU yet: #UD.
      if ((cr0() & (CR0_EM | CR0_TS)) != 0) raise(NM, 0, false); else raiseUD();
      return;
    case 0xe0: case 0xe1: case 0xe2: { // LOOPNE, LOOPE, LOOP
      const dsp = fetchSimm8(); if (faulted) return;
      const c = (asz == 32 ? reg32(ECX) : reg16(ECX)) - 1;
      let take = (asz == 32 ? c : c & 0xffff) != 0;
      if (b == 0xe0) take = take && !testCC(4);
      else if (b == 0xe1) take = take && testCC(4);
      if (take) { jumpRel(dsp); if (faulted) return; }
      if (asz == 32) setReg32(ECX, c); else setReg16(ECX, c);
      return;
    }
    case 0xe3: { // JCXZ / JECXZ
      const dsp = fetchSimm8(); if (faulted) return;
      if ((asz == 32 ? reg32(ECX) : reg16(ECX)) == 0) jumpRel(dsp);
      return;
    }
    case 0xe4: case 0xe5: {
      const port = fetch8(); if (faulted) return;
      const size = wsize(b);
      const v = portIn(port, size >> 3); if (faulted) return;
      setReg(size, EAX, v);
      return;
    }
    case 0xe6: case 0xe7: {
      const port = fetch8(); if (faulted) return;
      const size = wsize(b);
      portOut(port, size >> 3, getReg(size, EAX));
      return;
    }
    case 0xe8: {
      const dsp = fetchImm(osz); if (faulted) return;
      if (osz == 32 && stack32) {
        // CALL rel32 on a 32-bit stack: target check, one push, jump.
        const t = ip + dsp;
        if (t > segLimitCS()) { raiseGP(0); return; }
        const n = reg32(ESP) - 4;
        wr32(SS, n, ip); if (faulted) return;
        setReg32(ESP, n);
        setIp(t);
        return;
      }
      callTo(ip + dsp);
      return;
    }
    case 0xe9: { const dsp = fetchImm(osz); if (faulted) return; jumpRel(dsp); return; }
    case 0xea: {
      const off = fetchImm(osz); const sel = fetch16(); if (faulted) return;
      if (!realFarTargetOk(off)) return;
      farJump(sel, off, osz);
      return;
    }
    case 0xeb: { const dsp = fetchSimm8(); if (faulted) return; jumpRel(dsp); return; }
    case 0xec: case 0xed: {
      const size = wsize(b);
      const v = portIn(reg16(EDX), size >> 3); if (faulted) return;
      setReg(size, EAX, v);
      return;
    }
    case 0xee: case 0xef: {
      const size = wsize(b);
      portOut(reg16(EDX), size >> 3, getReg(size, EAX));
      return;
    }
    case 0xf1: deliver(1, EV_PRIV_SOFT_EXC, 0, false); setSoftInt(); return; // INT1 / ICEBP
    case 0xf4: { // HLT
      if (protectedMode() && (v86Mode() || load<u32>(STATE_BASE + S_CPL) != 0)) { raiseGP(0); return; }
      store<u32>(STATE_BASE + S_HALTED, 1);
      needAttention();
      return;
    }
    case 0xf5: materialize(); setFlagsWord(flags ^ CF); return; // CMC
    case 0xf6: case 0xf7: group3(wsize(b)); return;
    case 0xf8: materialize(); setFlagsWord(flags & ~CF); return;
    case 0xf9: materialize(); setFlagsWord(flags | CF); return;
    case 0xfa: if (ifChangeAllowed()) setFlagsWord(flags & ~IF); return;
    case 0xfb: {
      if (!ifChangeAllowed()) return;
      if ((flags & IF) == 0) setShadowNext(); // STI shadow (SDM vol. 2B, STI)
      setFlagsWord(flags | IF);
      return;
    }
    case 0xfc: setFlagsWord(flags & ~DF); return;
    case 0xfd: setFlagsWord(flags | DF); return;
    case 0xfe: {
      decodeModrm(); if (faulted) return;
      const r = regField();
      if (r > 1) { raiseUD(); return; }
      const a = rmwRead(8); if (faulted) return;
      rmwWrite(8, r == 0 ? inc(a, 8) : dec(a, 8));
      return;
    }
    case 0xff: group5(); return;
    default:
      raiseUD();
      return;
  }
}
