// One-byte-map instructions with longer bodies, called from the dispatch in exec.ts:
// segment-register and multi-register stack instructions (PUSH/POP Sreg, PUSHA/POPA,
// ENTER, LDS..LSS), BOUND, groups 3 and 5, and the real-mode far-transfer limit checks.
import {
  reg32, setReg32, reg16, segSel, segLimit, EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, CS, SS,
} from './state';
import { fetch8, fetch16, stack32, rd16, rd32, wr16, wr32, probeWrite } from './access';

import {
  osz, asz, modrm, eaOff, eaSeg, decodeModrm, regField, getReg, setReg, readRM, writeRM, fetchImm,
} from './decode';
import { faulted, raiseGP, raiseUD, raise, BR } from './fault';

import { alu, inc, dec, neg, OP_AND } from './ops/alu';

import { mul, imul1, imul2, div, idiv } from './ops/muldiv';

import { rmwRead, rmwWrite } from './rmw';
import { jumpTo, callTo } from './control';
import { push16, pushSz, sp, setSp, spOff, espOff } from './stack';

import { loadSeg } from './system/segments';
import { farJump, farCall } from './system/far';

import { protectedMode, v86Mode } from './system/segments';
import { setShadowNext } from './shadow';
import { setFlag, ZF } from './flags';

@inline export function segLimitCS(): u32 { return segLimit(CS); }

/**
 * Real and V86 mode far transfers keep the CS limit, and a target offset beyond it raises
 * #GP(0) before anything changes (SDM vol. 2A, JMP/CALL/RET/IRET, real-address mode). The
 * engine checks it here, before the system machinery loads CS. Returns false after #GP.
 */
export function realFarTargetOk(off: u32): bool {
  if (protectedMode() && !v86Mode()) return true;
  if (off > segLimitCS()) { raiseGP(0); return false; }
  return true;
}
/** The same check for RETF/IRET, whose target offset is on the stack. */
export function realFarReturnOk(): bool {
  if (protectedMode() && !v86Mode()) return true;
  const off = osz == 32 ? rd32(SS, sp()) : rd16(SS, sp());
  if (faulted) return false;
  return realFarTargetOk(off);
}

export function imm2(a: u32, b: u32): u32 { return imul2(a, b, osz); }

export function pushSeg(s: u32): void {
  // A 32-bit push of a segment register writes 16 bits on P6-family CPUs (SDM vol. 2B, PUSH).
  if (osz == 32) {
    const n = spOff(-4);
    wr16(SS, n, segSel(s)); if (faulted) return;
    setSp(n);
  } else push16(segSel(s));
}

export function popSeg(s: u32): void {
  const v = osz == 32 ? rd32(SS, sp()) : rd16(SS, sp()); if (faulted) return;
  // The increment follows the stack the selector was popped from: POP SS may change the
  // stack size, and the new SS's B bit does not apply to this pop (SDM vol. 2B, POP:
  // "ESP <- ESP + 4" / "SP <- SP + 2" by the StackAddrSize at the start).
  const esp = espOff(osz >> 3);
  loadSeg(s, v & 0xffff); if (faulted) return;
  setReg32(ESP, esp);
  if (s == SS) setShadowNext();
}

/** ARPL r/m16, r16 (SDM vol. 2A, ARPL): the destination is written only when its RPL is
 *  below the source's, so a read-only destination faults only then. */
export function arplRM(): void {
  decodeModrm(); if (faulted) return;
  const a = readRM(16); if (faulted) return;
  const src = reg16(regField());
  if ((a & 3) < (src & 3)) {
    writeRM(16, (a & 0xfffc) | (src & 3)); if (faulted) return;
    setFlag(ZF, true);
  } else setFlag(ZF, false);
}
export function popSegReg(s: u32): void { popSeg(s); }
export function pushSegReg(s: u32): void { pushSeg(s); }

export function pusha(): void {
  const n: u32 = osz >> 3;
  const base = spOff(-8 * n);
  probeWrite(SS, base, 8 * n); if (faulted) return;
  const origSp = reg32(ESP);
  for (let r: u32 = 0; r < 8; r++) {
    const v = r == ESP ? origSp : reg32(r);
    const off = stack32 ? base + (7 - r) * n : (base + (7 - r) * n) & 0xffff;
    if (osz == 32) wr32(SS, off, v); else wr16(SS, off, v);
    if (faulted) return;
  }
  setSp(base);
}

export function popa(): void {
  const n: u32 = osz >> 3;
  let v0: u32 = 0, v1: u32 = 0, v2: u32 = 0, v3: u32 = 0, v5: u32 = 0, v6: u32 = 0, v7: u32 = 0;
  v7 = peekAt(0); if (faulted) return;
  v6 = peekAt(n); if (faulted) return;
  v5 = peekAt(2 * n); if (faulted) return;
  v3 = peekAt(4 * n); if (faulted) return;
  v2 = peekAt(5 * n); if (faulted) return;
  v1 = peekAt(6 * n); if (faulted) return;
  v0 = peekAt(7 * n); if (faulted) return;
  setReg(osz, EDI, v7); setReg(osz, ESI, v6); setReg(osz, EBP, v5);
  setReg(osz, EBX, v3); setReg(osz, EDX, v2); setReg(osz, ECX, v1); setReg(osz, EAX, v0);
  setSp(spOff(8 * n));
}
@inline function peekAt(d: u32): u32 { return osz == 32 ? rd32(SS, spOff(d)) : rd16(SS, spOff(d)); }

export function bound(): void {
  decodeModrm(); if (faulted) return;
  if (modrm >= 0xc0) { raiseUD(); return; }
  const idx = getReg(osz, regField());
  if (osz == 32) {
    const lo = <i32>rd32(eaSeg, eaOff); if (faulted) return;
    const hi = <i32>rd32(eaSeg, eaOff + 4); if (faulted) return;
    if (<i32>idx < lo || <i32>idx > hi) raise(BR, 0, false);
  } else {
    const lo = <i32><i16>rd16(eaSeg, eaOff); if (faulted) return;
    const hiOff = (eaOff + 2) & (asz == 16 ? 0xffff : 0xffffffff);
    const hi = <i32><i16>rd16(eaSeg, hiOff); if (faulted) return;
    const i = <i32><i16>idx;
    if (i < lo || i > hi) raise(BR, 0, false);
  }
}

export function loadFar(s: u32): void {
  decodeModrm(); if (faulted) return;
  if (modrm >= 0xc0) { raiseUD(); return; }
  const off = osz == 32 ? rd32(eaSeg, eaOff) : rd16(eaSeg, eaOff); if (faulted) return;
  const sel = rd16(eaSeg, eaOff + (osz >> 3)); if (faulted) return;
  loadSeg(s, sel); if (faulted) return;
  setReg(osz, regField(), off);
  // Unlike MOV SS and POP SS, LSS opens no interrupt shadow (SDM vol. 2B, MOV: only
  // "loading the SS register with a MOV or POP" inhibits interrupts).
}
export function loadFarPointer(s: u32): void { loadFar(s); }

/** ENTER imm16, imm8 (SDM vol. 2A, ENTER): all stores go to a local frame pointer first, so a
 *  fault leaves ESP and EBP as they were. */
export function enter(): void {
  const size = fetch16(); if (faulted) return;
  const level = fetch8() & 31; if (faulted) return;
  const n: u32 = osz >> 3;
  let s = spOff(-n);
  const bpv = getReg(osz, EBP);
  if (osz == 32) wr32(SS, s, bpv); else wr16(SS, s, bpv);
  if (faulted) return;
  // FrameTemp is ESP after the push: on a 16-bit stack only SP moved, the upper half of ESP
  // stays and goes into EBP and the frame-pointer copy with a 32-bit operand size.
  const frame = stack32 ? s : (reg32(ESP) & 0xffff0000) | s;
  let bp = stack32 ? reg32(EBP) : reg16(EBP);
  if (level > 0) {
    for (let i: u32 = 1; i < level; i++) {
      bp = stack32 ? bp - n : (bp - n) & 0xffff;
      const v = osz == 32 ? rd32(SS, bp) : rd16(SS, bp); if (faulted) return;
      s = stack32 ? s - n : (s - n) & 0xffff;
      if (osz == 32) wr32(SS, s, v); else wr16(SS, s, v);
      if (faulted) return;
    }
    s = stack32 ? s - n : (s - n) & 0xffff;
    if (osz == 32) wr32(SS, s, frame); else wr16(SS, s, frame);
    if (faulted) return;
  }
  const newSp = stack32 ? s - size : (s - size) & 0xffff;
  // The new stack top must be writable (the processor checks it: SDM vol. 2A, ENTER).
  if (size != 0) { probeWrite(SS, newSp, 1); if (faulted) return; }
  setReg(osz, EBP, frame);
  setSp(newSp);
}

export function group3(size: u32): void {
  decodeModrm(); if (faulted) return;
  const r = regField();
  switch (r) {
    case 0: case 1: { // TEST (/1 is an alias on real CPUs)
      const a = readRM(size); if (faulted) return;
      const imm = fetchImm(size); if (faulted) return;
      alu(OP_AND, a, imm, size);
      return;
    }
    case 2: { const a = rmwRead(size); if (faulted) return; rmwWrite(size, ~a); return; }
    case 3: { const a = rmwRead(size); if (faulted) return; rmwWrite(size, neg(a, size)); return; }
    default: {
      const v = readRM(size); if (faulted) return;
      if (r == 4) mul(v, size);
      else if (r == 5) imul1(v, size);
      else if (r == 6) div(v, size);
      else idiv(v, size);
    }
  }
}

export function group5(): void {
  decodeModrm(); if (faulted) return;
  const r = regField();
  switch (r) {
    case 0: { const a = rmwRead(osz); if (faulted) return; rmwWrite(osz, inc(a, osz)); return; }
    case 1: { const a = rmwRead(osz); if (faulted) return; rmwWrite(osz, dec(a, osz)); return; }
    case 2: { const t = readRM(osz); if (faulted) return; callTo(t); return; }
    case 4: { const t = readRM(osz); if (faulted) return; jumpTo(t); return; }
    case 3: case 5: {
      if (modrm >= 0xc0) { raiseUD(); return; }
      const off = osz == 32 ? rd32(eaSeg, eaOff) : rd16(eaSeg, eaOff); if (faulted) return;
      const sel = rd16(eaSeg, eaOff + (osz >> 3)); if (faulted) return;
      if (!realFarTargetOk(off)) return;
      if (r == 3) farCall(sel, off, osz); else farJump(sel, off, osz);
      return;
    }
    case 6: { const v = readRM(osz); if (faulted) return; pushSz(osz, v); return; }
    default: raiseUD();
  }
}

/** Re-decodes the current instruction's prefixes, opcode and ModRM (POP Ev needs the
 *  effective address computed after ESP was incremented). */
export function redecodeAfterPrefixes(): void {
  let b = fetch8();
  while (b == 0x66 || b == 0x67 || b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
    b == 0x64 || b == 0x65 || b == 0xf0 || b == 0xf2 || b == 0xf3) b = fetch8();
  decodeModrm();
}

