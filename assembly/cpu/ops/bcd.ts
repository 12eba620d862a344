// Decimal adjusts DAA, DAS, AAA, AAS, AAM, AAD (SDM vol. 2A, each instruction's operation).
import { EAX, reg8, setReg8, reg16, setReg16 } from '../state';
import { getCF, getAF, setResultFlags, setLazy, LF_ADD, CF, AF } from '../flags';
import { raiseDE } from '../fault';

/** Sets the given status flags exactly and ZF SF PF from the 8-bit `r`. */
@inline function done(r: u32, cfaf: u32): void { setResultFlags(r, 0x80, cfaf); }

export function daa(): void {
  const oldAl = reg8(0);
  const oldCf = getCF();
  let al = oldAl;
  let cf: u32 = 0, af: u32 = 0;
  if ((al & 0xf) > 9 || getAF() != 0) {
    al += 6;
    cf = oldCf | (al >> 8);
    al &= 0xff;
    af = 1;
  }
  if (oldAl > 0x99 || oldCf != 0) { al = (al + 0x60) & 0xff; cf = 1; } else cf = 0;
  setReg8(0, al);
  // OF is undefined; the CPUs this core follows give the overflow of AL + the adjustment.
  const adj = (al - oldAl) & 0xff;
  const ofv = <u32>(((oldAl ^ al) & (adj ^ al) & 0x80) != 0);
  done(al, cf | (af << 4) | (ofv << 11));
}

export function das(): void {
  const oldAl = reg8(0);
  const oldCf = getCF();
  let al = oldAl;
  let cf: u32 = 0, af: u32 = 0;
  if ((al & 0xf) > 9 || getAF() != 0) {
    cf = oldCf | <u32>(al < 6);
    al = (al - 6) & 0xff;
    af = 1;
  }
  if (oldAl > 0x99 || oldCf != 0) { al = (al - 0x60) & 0xff; cf = 1; }
  setReg8(0, al);
  // OF as the overflow of AL - the adjustment (undefined; see DAA).
  const adj = (oldAl - al) & 0xff;
  const ofv = <u32>(((oldAl ^ adj) & (oldAl ^ al) & 0x80) != 0);
  done(al, cf | (af << 4) | (ofv << 11));
}

// AAA/AAS leave OF SF ZF PF undefined; the CPUs this core follows take them from the
// 16-bit AX after the adjustment and before AL is masked (the vectors confirm it).
export function aaa(): void {
  const ax = reg16(EAX);
  let t = ax;
  let f: u32 = 0;
  if ((ax & 0xf) > 9 || getAF() != 0) {
    t = (ax + 0x106) & 0xffff;
    f = CF | AF | (<u32>(((ax ^ t) & (0x106 ^ t) & 0x8000) != 0) << 11);
  }
  setReg16(EAX, t & 0xff0f);
  setResultFlags(t, 0x8000, f);
}

export function aas(): void {
  const ax = reg16(EAX);
  let t = ax;
  let f: u32 = 0;
  if ((ax & 0xf) > 9 || getAF() != 0) {
    // AX <- AX - 6 (the borrow reaches AH), then AH <- AH - 1 (SDM vol. 2A, AAS).
    t = (ax - 0x106) & 0xffff;
    f = CF | AF | (<u32>(((ax ^ 0x106) & (ax ^ t) & 0x8000) != 0) << 11);
  }
  setReg16(EAX, t & 0xff0f);
  setResultFlags(t, 0x8000, f);
}

export function aam(imm: u32): void {
  if (imm == 0) { raiseDE(); return; }
  const al = reg8(0);
  const q = al / imm, r = al % imm;
  setReg16(EAX, (q << 8) | r);
  done(r, 0);
}

export function aad(imm: u32): void {
  const ax = reg16(EAX);
  const a = ax & 0xff;
  const b = ((ax >> 8) * imm) & 0xff;
  const al = (a + b) & 0xff;
  setReg16(EAX, al);
  // CF, AF, OF are undefined; the CPUs this core follows give those of the byte addition
  // AL + AH * imm8.
  setLazy(LF_ADD, a, b, al, 0x80);
}
