// Decimal adjusts DAA, DAS, AAA, AAS, AAM, AAD (SDM vol. 2A, each instruction's operation).
import { EAX, reg8, setReg8, reg16, setReg16 } from '../state';
import { getCF, getAF, setResultFlags, CF, AF } from '../flags';
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
  done(al, cf | (af << 4));
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
  done(al, cf | (af << 4));
}

export function aaa(): void {
  let ax = reg16(EAX);
  let f: u32 = 0;
  if ((ax & 0xf) > 9 || getAF() != 0) { ax = (ax + 0x106) & 0xffff; f = CF | AF; }
  ax &= 0xff0f;
  setReg16(EAX, ax);
  done(ax & 0xff, f);
}

export function aas(): void {
  let ax = reg16(EAX);
  let f: u32 = 0;
  if ((ax & 0xf) > 9 || getAF() != 0) {
    // AX <- AX - 6 (the borrow reaches AH), then AH <- AH - 1 (SDM vol. 2A, AAS).
    ax = (ax - 6) & 0xffff;
    ax = (ax - 0x100) & 0xffff;
    f = CF | AF;
  }
  ax &= 0xff0f;
  setReg16(EAX, ax);
  done(ax & 0xff, f);
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
  const al = ((ax & 0xff) + (ax >> 8) * imm) & 0xff;
  setReg16(EAX, al);
  done(al, 0);
}
