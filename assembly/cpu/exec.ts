// One instruction: step() and the handlers of the one-byte opcode map (SDM vol. 2D, table
// A-2); prefixes in prefixes.ts, two-byte opcodes in exec0f.ts. Every handler checks
// `faulted` after each access that can fault and returns without further changes.
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
  decodeModrmFast, regField, getReg, setReg, readRM, writeRM, fetchImm, fetchSimm8, dataSeg, rep,
} from './decode';
import { faulted, raiseGP, raiseUD, raise, NM } from './fault';
import {
  getFlags, materialize, flags, setFlagsWord, testCC, getCF, getOF, getZF, setLazy, CF, DF, IF,
  VM, RF, STATUS, LF_INC, LF_DEC, setCFOF,
} from './flags';
import { alu, inc, dec, OP_CMP, OP_AND } from './ops/alu';
import { shift } from './ops/shift';
import { aam, aad } from './ops/bcd';
import { stringOp } from './ops/string';
import { portIn, portOut } from './ops/io';
import { rmwRead, rmwWrite } from './rmw';
import { jumpRel, callTo } from './control';
import { pushSz, popSz, sp, setSp, spOff } from './stack';
import { dispatch1, dispatch0f } from '../generated/dispatch';
import { setShadowNext, setSoftInt } from './shadow';
import { aluMem32, aluRM, alu32 } from './alu-paths';
import {
  segLimitCS, realFarTargetOk, realFarReturnOk, imm2, loadFar, group3, redecodeAfterPrefixes,
  arplRM,
} from './insns';
import { setSliceCount } from './tsc';
import { needAttention } from './events';
import { prefixPending, clearPrefixPending } from './prefixes';
import { loadSeg } from './system/segments';
import { farJump, farCall, farReturn } from './system/far';
import { deliver, iret, EV_SOFT_INT, EV_SOFT_EXC, EV_PRIV_SOFT_EXC } from './system/interrupts';
import { popf, pushfAllowed, ifChangeAllowed } from './system/eflags';
import { protectedMode, v86Mode } from './system/segments';
import { guestMode } from '../vmm/guest';
import {
  icptSoftInt, icptIret, icptPushf, icptPopf, icptHlt, icptPause,
} from '../vmm/intercept';

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
  dispatch1(fetch8(), retired);
}

// The handlers of the one-byte map, one per case of the generated dispatch (dispatch1 in
// assembly/generated/dispatch.ts, from the table in scripts/opcodes.mjs). Each is @inline,
// so the dispatch inlined into the run loop has the handlers' bodies in its cases.
// Handlers of other files are re-exported here for the dispatch.
export { aluEvGv, aluGvEv, aluAccImm } from './alu-paths';
export { pushSeg, popSeg, pusha, popa, bound, enter, group5 } from './insns';
export { daa, das, aaa, aas } from './ops/bcd';
export { prefixes } from './prefixes';

/** 0F: the two-byte map. */
@inline export function twoByte(retired: u32): void {
  const b2 = fetch8(); if (faulted) return;
  setSliceCount(retired); // RDTSC and RDMSR(TSC) read the pending count
  dispatch0f(b2);
}

// ---- ALU: 00-3F (forms 0, 2 and 4 of each row; 1, 3 and 5 are in alu-paths.ts) ----
@inline export function aluEbGb(b: u32): void {
  const size = wsize(b);
  decodeModrm();
  if (faulted) return;
  aluRM(b >> 3, size, getReg(size, regField()));
}
@inline export function aluGbEb(b: u32): void {
  const size = wsize(b);
  decodeModrm();
  if (faulted) return;
  const v = readRM(size); if (faulted) return;
  const r = regField();
  const res = alu(b >> 3, getReg(size, r), v, size);
  if ((b >> 3) != OP_CMP) setReg(size, r, res);
}
@inline export function aluALIb(b: u32): void {
  const v = fetch8(); if (faulted) return;
  const res = alu(b >> 3, reg8(0), v, 8);
  if ((b >> 3) != OP_CMP) setReg8(0, res);
}

// ---- moves with ModRM (89 and 8B have 32-bit register fast paths) ----
@inline export function movEvGv(): void {
  const m = fetch8(); if (faulted) return;
  if (m >= 0xc0) { setReg(osz, m & 7, getReg(osz, (m >> 3) & 7)); return; }
  decodeModrmFast(m); if (faulted) return;
  if (osz == 32) wr32(eaSeg, eaOff, reg32((m >> 3) & 7));
  else wr16(eaSeg, eaOff, reg16((m >> 3) & 7));
}
@inline export function movGvEv(): void {
  const m = fetch8(); if (faulted) return;
  if (m >= 0xc0) { setReg(osz, (m >> 3) & 7, getReg(osz, m & 7)); return; }
  decodeModrmFast(m); if (faulted) return;
  const v = osz == 32 ? rd32(eaSeg, eaOff) : rd16(eaSeg, eaOff); if (faulted) return;
  setReg(osz, (m >> 3) & 7, v);
}
@inline export function movEbGb(): void {
  decodeModrm(); if (faulted) return;
  writeRM(8, getReg(8, regField()));
}
@inline export function movGbEb(): void {
  decodeModrm(); if (faulted) return;
  const v = readRM(8); if (faulted) return;
  setReg(8, regField(), v);
}

// ---- INC/DEC/PUSH/POP r ----
@inline export function incDecReg(b: u32): void {
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
}
@inline export function pushReg(b: u32): void {
  if (osz == 32 && stack32) {
    const n = reg32(ESP) - 4;
    wr32(SS, n, reg32(b & 7)); if (faulted) return;
    setReg32(ESP, n);
    return;
  }
  pushSz(osz, getReg(osz, b & 7));
}
@inline export function popReg(b: u32): void {
  if (osz == 32 && stack32) {
    const e = reg32(ESP);
    const v = rd32(SS, e); if (faulted) return;
    setReg32(ESP, e + 4);
    setReg32(b & 7, v); // POP ESP loads the popped value (after the increment)
    return;
  }
  const v = popSz(osz); if (faulted) return;
  setReg(osz, b & 7, v);
}

// ---- jumps ----
/** JZ/JNZ rel8 (the commonest condition, without testCC). */
@inline export function jzJnz(b: u32): void {
  const dsp = fetchSimm8(); if (faulted) return;
  if ((getZF() != 0) == (b == 0x74)) jumpRel(dsp);
}
@inline export function jccRel8(b: u32): void {
  const dsp = fetchSimm8(); if (faulted) return;
  if (testCC(b & 15)) jumpRel(dsp);
}

// ---- 60-6F ----
/** ARPL Ew, Gw (#UD in real and V86 mode). */
@inline export function arplEwGw(): void {
  if (!protectedMode() || v86Mode()) { raiseUD(); return; }
  arplRM();
}
@inline export function pushIz(): void {
  const v = fetchImm(osz); if (faulted) return;
  pushSz(osz, v);
}
@inline export function pushIb(): void {
  const v = fetchSimm8(); if (faulted) return;
  pushSz(osz, v);
}
@inline export function imulGvEvI(b: u32): void {
  decodeModrm(); if (faulted) return;
  const imm = b == 0x69 ? fetchImm(osz) : fetchSimm8(); if (faulted) return;
  const a = readRM(osz); if (faulted) return;
  setReg(osz, regField(), imm2(a, imm));
}
@inline export function insString(b: u32): void { stringOp(5, wsize(b)); }
@inline export function outsString(b: u32): void { stringOp(6, wsize(b)); }

// ---- group 1 ----
@inline export function group1Ev(b: u32): void {
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
}
@inline export function group1Eb(b: u32): void {
  decodeModrm(); if (faulted) return;
  const imm = fetch8(); if (faulted) return;
  aluRM(regField(), 8, imm);
}

// ---- 84-8F ----
@inline export function testEG(b: u32): void {
  const size = wsize(b);
  decodeModrm(); if (faulted) return;
  const a = readRM(size); if (faulted) return;
  alu(OP_AND, a, getReg(size, regField()), size);
}
@inline export function xchgEG(b: u32): void {
  const size = wsize(b);
  decodeModrm(); if (faulted) return;
  const a = rmwRead(size); if (faulted) return;
  const r = regField();
  const v = getReg(size, r);
  rmwWrite(size, v); if (faulted) return;
  setReg(size, r, a);
}
/** MOV Ev, Sreg */
@inline export function movEvSw(): void {
  decodeModrm(); if (faulted) return;
  const s = regField();
  if (s > 5) { raiseUD(); return; }
  if (modrm >= 0xc0) setReg(osz, modrm & 7, segSel(s));
  else writeRM(16, segSel(s));
}
@inline export function lea(): void {
  decodeModrm(); if (faulted) return;
  if (modrm >= 0xc0) { raiseUD(); return; }
  setReg(osz, regField(), osz == 16 ? eaOff & 0xffff : eaOff);
}
/** MOV Sreg, Ew */
@inline export function movSwEw(): void {
  decodeModrm(); if (faulted) return;
  const s = regField();
  if (s > 5 || s == CS) { raiseUD(); return; }
  const v = readRM(16); if (faulted) return;
  loadSeg(s, v); if (faulted) return;
  if (s == SS) setShadowNext();
}
/** POP Ev: the address uses ESP after the pop (SDM vol. 2B, POP). */
@inline export function popEv(): void {
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
}

// ---- 90-9F ----
/** NOP, and PAUSE with F3. */
/** NOP; F3 90 is PAUSE, an exit in non-root operation with PAUSE exiting. */
@inline export function nopInsn(): void { if (guestMode != 0 && rep == 0xf3) icptPause(); }
@inline export function xchgAcc(b: u32): void {
  const t = getReg(osz, EAX);
  setReg(osz, EAX, getReg(osz, b & 7));
  setReg(osz, b & 7, t);
}
/** CBW / CWDE */
@inline export function cbw(): void {
  if (osz == 16) setReg16(EAX, <u32><i32><i8>reg8(0));
  else setReg32(EAX, <u32><i32><i16>reg16(EAX));
}
/** CWD / CDQ */
@inline export function cwd(): void {
  if (osz == 16) setReg16(EDX, (reg16(EAX) & 0x8000) != 0 ? 0xffff : 0);
  else setReg32(EDX, <u32>(<i32>reg32(EAX) >> 31));
}
/** CALL ptr16:16/32 */
@inline export function callFarImm(): void {
  const off = fetchImm(osz); const sel = fetch16(); if (faulted) return;
  if (!realFarTargetOk(off)) return;
  farCall(sel, off, osz);
}
/** FWAIT: #NM when CR0.MP and CR0.TS (SDM vol. 3A, table 2-2). */
@inline export function fwait(): void {
  if ((cr0() & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) raise(NM, 0, false);
}
/** PUSHF: VM and RF are cleared in the pushed image. */
@inline export function pushf(): void {
  if (guestMode != 0 && icptPushf()) return;
  if (!pushfAllowed()) return;
  pushSz(osz, getFlags() & ~(VM | RF));
}
@inline export function popfInsn(): void {
  if (guestMode != 0 && icptPopf()) return;
  const v = popSz(osz); if (faulted) return;
  popf(v, osz);
}
/** SAHF: SF ZF AF PF CF from AH. */
@inline export function sahf(): void {
  materialize();
  setFlagsWord((flags & ~0xd5) | (reg8(4) & 0xd5));
}
@inline export function lahf(): void { setReg8(4, getFlags() & 0xff); }

// ---- A0-AF ----
@inline export function movAccMoffs(b: u32): void {
  const size = wsize(b);
  const off = asz == 32 ? fetch32() : fetch16(); if (faulted) return;
  const v = rdSized(dataSeg(), off, size); if (faulted) return;
  setReg(size, EAX, v);
}
@inline export function movMoffsAcc(b: u32): void {
  const size = wsize(b);
  const off = asz == 32 ? fetch32() : fetch16(); if (faulted) return;
  if (size == 8) wr8(dataSeg(), off, reg8(0));
  else if (size == 16) wr16(dataSeg(), off, reg16(EAX));
  else wr32(dataSeg(), off, reg32(EAX));
}
@inline export function movsString(b: u32): void { stringOp(0, wsize(b)); }
@inline export function cmpsString(b: u32): void { stringOp(1, wsize(b)); }
@inline export function testAccImm(b: u32): void {
  const size = wsize(b);
  const v = fetchImm(size); if (faulted) return;
  alu(OP_AND, getReg(size, EAX), v, size);
}
@inline export function stosString(b: u32): void { stringOp(2, wsize(b)); }
@inline export function lodsString(b: u32): void { stringOp(3, wsize(b)); }
@inline export function scasString(b: u32): void { stringOp(4, wsize(b)); }

// ---- B0-BF ----
@inline export function movR8Ib(b: u32): void {
  const v = fetch8(); if (faulted) return;
  setReg8(b & 7, v);
}
@inline export function movRIv(b: u32): void {
  const v = fetchImm(osz); if (faulted) return;
  setReg(osz, b & 7, v);
}

// ---- group 2 and returns ----
@inline export function group2Ev(b: u32): void {
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
}
@inline export function group2Eb(b: u32): void {
  decodeModrm(); if (faulted) return;
  let c: u32 = 1;
  if (b <= 0xc1) { c = fetch8(); if (faulted) return; }
  else if (b >= 0xd2) c = reg8(1);
  const a = rmwRead(8); if (faulted) return;
  if ((c & 31) == 0) return;
  rmwWrite(8, shift(regField(), a, c, 8));
}
/** RET near [imm16] */
@inline export function retNear(b: u32): void {
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
}
@inline export function lesLds(b: u32): void { loadFar(b == 0xc4 ? ES : DS); }
@inline export function movEIm(b: u32): void {
  const size = wsize(b);
  decodeModrm(); if (faulted) return;
  if (regField() != 0) { raiseUD(); return; }
  const v = fetchImm(size); if (faulted) return;
  writeRM(size, v);
}
@inline export function leave(): void {
  const bp = stack32 ? reg32(EBP) : reg16(EBP);
  const v = osz == 32 ? rd32(SS, bp) : rd16(SS, bp); if (faulted) return;
  setSp(bp);
  setSp(spOff(osz >> 3));
  setReg(osz, EBP, v);
}
@inline export function retFar(b: u32): void {
  const imm = b == 0xca ? fetch16() : 0; if (faulted) return;
  if (!realFarReturnOk()) return;
  farReturn(osz, imm);
}
// Software interrupts: in non-root operation INT3 and INTO are exceptions for the exception
// bitmap and INT n an SVM intercept (assembly/vmm/intercept.ts icptSoftInt).
@inline export function int3(): void {
  if (guestMode != 0 && icptSoftInt(3, EV_SOFT_EXC)) return;
  deliver(3, EV_SOFT_EXC, 0, false); setSoftInt();
}
@inline export function intN(): void {
  const v = fetch8(); if (faulted) return;
  if (guestMode != 0 && icptSoftInt(v, EV_SOFT_INT)) return;
  if (v86Mode() && ((flags >> 12) & 3) != 3) { raiseGP(0); return; }
  deliver(v, EV_SOFT_INT, 0, false);
  setSoftInt();
}
@inline export function into(): void {
  if (getOF() != 0) {
    if (guestMode != 0 && icptSoftInt(4, EV_SOFT_EXC)) return;
    deliver(4, EV_SOFT_EXC, 0, false); setSoftInt();
  }
}
@inline export function iretInsn(): void {
  if (guestMode != 0 && icptIret()) return;
  if (protectedMode() || realFarReturnOk()) iret(osz);
}

// ---- D4-DF ----
@inline export function aamIb(): void { const v = fetch8(); if (faulted) return; aam(v); }
@inline export function aadIb(): void { const v = fetch8(); if (faulted) return; aad(v); }
/** SALC (undocumented, flags unchanged) */
@inline export function salc(): void { setReg8(0, getCF() != 0 ? 0xff : 0); }
@inline export function xlat(): void {
  const base = asz == 32 ? reg32(EBX) : reg16(EBX);
  const off = asz == 32 ? base + reg8(0) : (base + reg8(0)) & 0xffff;
  const v = rd8(dataSeg(), off); if (faulted) return;
  setReg8(0, v);
}
/** x87 escape: #NM when CR0.EM or CR0.TS (SDM vol. 3A, table 2-2); no FPU yet: #UD. */
@inline export function x87Escape(): void {
  if ((cr0() & (CR0_EM | CR0_TS)) != 0) raise(NM, 0, false); else raiseUD();
}

// ---- E0-EF ----
/** LOOPNE, LOOPE, LOOP */
@inline export function loop(b: u32): void {
  const dsp = fetchSimm8(); if (faulted) return;
  const c = (asz == 32 ? reg32(ECX) : reg16(ECX)) - 1;
  let take = (asz == 32 ? c : c & 0xffff) != 0;
  if (b == 0xe0) take = take && !testCC(4);
  else if (b == 0xe1) take = take && testCC(4);
  if (take) { jumpRel(dsp); if (faulted) return; }
  if (asz == 32) setReg32(ECX, c); else setReg16(ECX, c);
}
/** JCXZ / JECXZ */
@inline export function jcxz(): void {
  const dsp = fetchSimm8(); if (faulted) return;
  if ((asz == 32 ? reg32(ECX) : reg16(ECX)) == 0) jumpRel(dsp);
}
@inline export function inImm(b: u32): void {
  const port = fetch8(); if (faulted) return;
  const size = wsize(b);
  const v = portIn(port, size >> 3, true); if (faulted) return;
  setReg(size, EAX, v);
}
@inline export function outImm(b: u32): void {
  const port = fetch8(); if (faulted) return;
  const size = wsize(b);
  portOut(port, size >> 3, getReg(size, EAX), true);
}
@inline export function callRel(): void {
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
}
@inline export function jmpRel(): void {
  const dsp = fetchImm(osz); if (faulted) return;
  jumpRel(dsp);
}
@inline export function jmpFarImm(): void {
  const off = fetchImm(osz); const sel = fetch16(); if (faulted) return;
  if (!realFarTargetOk(off)) return;
  farJump(sel, off, osz);
}
@inline export function jmpShort(): void {
  const dsp = fetchSimm8(); if (faulted) return;
  jumpRel(dsp);
}
@inline export function inDx(b: u32): void {
  const size = wsize(b);
  const v = portIn(reg16(EDX), size >> 3); if (faulted) return;
  setReg(size, EAX, v);
}
@inline export function outDx(b: u32): void {
  const size = wsize(b);
  portOut(reg16(EDX), size >> 3, getReg(size, EAX));
}

// ---- F0-FF ----
/** INT1 / ICEBP */
@inline export function int1(): void {
  if (guestMode != 0 && icptSoftInt(1, EV_PRIV_SOFT_EXC)) return;
  deliver(1, EV_PRIV_SOFT_EXC, 0, false); setSoftInt();
}
@inline export function hlt(): void {
  if (protectedMode() && (v86Mode() || load<u32>(STATE_BASE + S_CPL) != 0)) { raiseGP(0); return; }
  if (guestMode != 0 && icptHlt()) return;
  store<u32>(STATE_BASE + S_HALTED, 1);
  needAttention();
}
@inline export function cmc(): void { materialize(); setFlagsWord(flags ^ CF); }
@inline export function group3Insn(b: u32): void { group3(wsize(b)); }
@inline export function clc(): void { materialize(); setFlagsWord(flags & ~CF); }
@inline export function stc(): void { materialize(); setFlagsWord(flags | CF); }
@inline export function cli(): void { if (ifChangeAllowed()) setFlagsWord(flags & ~IF); }
@inline export function sti(): void {
  if (!ifChangeAllowed()) return;
  if ((flags & IF) == 0) setShadowNext(); // STI shadow (SDM vol. 2B, STI)
  setFlagsWord(flags | IF);
}
@inline export function cld(): void { setFlagsWord(flags & ~DF); }
@inline export function stdInsn(): void { setFlagsWord(flags | DF); }
/** Group 4: INC/DEC Eb. */
@inline export function group4(): void {
  decodeModrm(); if (faulted) return;
  const r = regField();
  if (r > 1) { raiseUD(); return; }
  const a = rmwRead(8); if (faulted) return;
  rmwWrite(8, r == 0 ? inc(a, 8) : dec(a, 8));
}
