// The 32-bit ALU fast paths of the one-byte opcode map (ALU Ev,Gv / Gv,Ev / eAX,imm and the
// memory read-modify-write), inlined per opcode into the dispatch of exec.ts so that the
// operation is a constant in each copy.

import { reg32, setReg32, EAX } from './state';
import { fetch8, rd32, linWr, wrMaskNow } from './access';
import { TLB_TAG, TLB_ADD, TLB_MASK, countHit } from '../mem/tlb';
import {
  osz, eaOff, eaSeg, decodeModrmFast, regField, getReg, setReg, readRM, fetchImm,
} from './decode';
import { faulted } from './fault';
import { flags, setLazy, LF_ADD, LF_SUB, setLazyLogic } from './flags';
import { alu, OP_CMP } from './ops/alu';

import { rmwRead, rmwWrite } from './rmw';

/** 32-bit ALU read-modify-write of the ModRM memory operand: one TLB lookup for both
 *  accesses when the page is writable through the TLB, else the general path. */
@inline export function aluMem32(op: u32, src: u32): void {
  const lin = linWr(eaSeg, eaOff, 4);
  if (faulted) return;
  const i = (lin >>> 12) & TLB_MASK;
  if ((load<u32>(TLB_TAG + (i << 2)) & wrMaskNow()) == (lin & 0xfffff000) &&
      (lin & 0xfff) <= 0xffc) {
    countHit();
    const h = load<u32>(TLB_ADD + (i << 2)) + lin;
    store<u32>(h, alu32(op, load<u32>(h), src));
    return;
  }
  aluRM(op, 32, src);
}

export function aluRM(op: u32, size: u32, src: u32): void {
  if (op == OP_CMP) {
    const a = readRM(size); if (faulted) return;
    alu(op, a, src, size);
    return;
  }
  const a = rmwRead(size); if (faulted) return;
  const r = alu(op, a, src, size);
  rmwWrite(size, r);
}

/** 32-bit ALU operation with lazy flags, inlined into the fast paths. */
@inline export function alu32(op: u32, a: u32, b: u32): u32 {
  let r: u32;
  switch (op) {
    case 0: r = a + b; setLazy(LF_ADD, a, b, r, 0x80000000); return r;
    case 1: r = a | b; setLazyLogic(r, 0x80000000); return r;
    case 4: r = a & b; setLazyLogic(r, 0x80000000); return r;
    case 5: r = a - b; setLazy(LF_SUB, a, b, r, 0x80000000); return r;
    case 6: r = a ^ b; setLazyLogic(r, 0x80000000); return r;
    case 7: r = a - b; setLazy(LF_SUB, a, b, r, 0x80000000); return a;
    default: return alu(op, a, b, 32); // ADC, SBB
  }
}

/** ALU Ev,Gv (01 09 11 19 21 29 31 39), inlined per opcode. */
@inline export function aluEvGv(b: u32): void {
  const m = fetch8(); if (faulted) return;
  if (osz == 32 && m >= 0xc0) {
    const r = alu32(b >> 3, reg32(m & 7), reg32((m >> 3) & 7));
    if (b != 0x39) setReg32(m & 7, r);
    return;
  }
  decodeModrmFast(m); if (faulted) return;
  if (osz == 32 && b != 0x39) { aluMem32(b >> 3, reg32((m >> 3) & 7)); return; }
  aluRM(b >> 3, osz, getReg(osz, regField()));
  return;
}

/** ALU Gv,Ev (03 0B 13 1B 23 2B 33 3B), inlined per opcode. */
@inline export function aluGvEv(b: u32): void {
  const m = fetch8(); if (faulted) return;
  if (osz == 32) {
    const g = (m >> 3) & 7;
    let v: u32;
    if (m >= 0xc0) v = reg32(m & 7);
    else { decodeModrmFast(m); if (faulted) return; v = rd32(eaSeg, eaOff); if (faulted) return; }
    const r = alu32(b >> 3, reg32(g), v);
    if (b != 0x3b) setReg32(g, r);
    return;
  }
  decodeModrmFast(m); if (faulted) return;
  const v = readRM(osz); if (faulted) return;
  const g = regField();
  const res = alu(b >> 3, getReg(osz, g), v, osz);
  if (b != 0x3b) setReg(osz, g, res);
  return;
}

/** ALU eAX, imm (05 0D 15 1D 25 2D 35 3D), inlined per opcode. */
@inline export function aluAccImm(b: u32): void {
  const v = fetchImm(osz); if (faulted) return;
  if (osz == 32) {
    const r = alu32(b >> 3, reg32(EAX), v);
    if (b != 0x3d) setReg32(EAX, r);
    return;
  }
  const res = alu(b >> 3, getReg(osz, EAX), v, osz);
  if ((b >> 3) != OP_CMP) setReg(osz, EAX, res);
}

