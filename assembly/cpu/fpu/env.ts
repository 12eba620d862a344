// The x87 environment and state images (Intel SDM vol. 1, 8.1.10, figures 8-9 to 8-12):
// FNSTENV/FLDENV (14 bytes in the 16-bit forms, 28 in the 32-bit ones) and FNSAVE/FRSTOR
// (the environment and the eight registers in stack order, 80 bytes).
import { STATE_BASE } from '../../generated/layout';
import { rd16, rd32, wr16, wr32, probeWrite, probeRead } from '../access';
import { faulted } from '../fault';
import { classify, K_ZERO, TOP } from './f80';
import {
  fcw, setFcw, fsw, setFsw, setFtw, phys, fpuInit, setInsnPointer, setDataPointer, tagOf,
  setTag, manOf, seOf, setPhys, fip, fcs, fop, fdp, fds, TAG_EMPTY, TAG_VALID, TAG_ZERO,
  TAG_SPECIAL, SW_ES, SW_B, ferrFollowEs,
} from './state';

/** FRSTOR reads the registers before the environment (a fault leaves the state alone). */
const regs = new StaticArray<u64>(8);
const ses = new StaticArray<u32>(8);

/** The tag word as FNSTENV reports it: empty stays empty, others from the contents. */
function fullTagWord(): u32 {
  let tw: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) {
    let t = tagOf(p);
    if (t != TAG_EMPTY) {
      const se = seOf(p), m = manOf(p);
      const k = classify(se, m);
      t = k == K_ZERO ? TAG_ZERO : (se & 0x7fff) != 0 && (se & 0x7fff) != 0x7fff &&
        (m & TOP) != 0 ? TAG_VALID : TAG_SPECIAL;
    }
    tw |= t << (p << 1);
  }
  return tw;
}

/** Writes the environment (14 bytes in 16-bit forms, 28 in 32-bit) at seg:off. */
export function storeEnv(s: u32, o: u32, size32: bool): void {
  if (size32) {
    wr32(s, o, fcw() | 0xffff0000); if (faulted) return;
    wr32(s, o + 4, fsw() | 0xffff0000);
    wr32(s, o + 8, fullTagWord() | 0xffff0000);
    wr32(s, o + 12, fip());
    wr32(s, o + 16, fcs() | (fop() << 16));
    wr32(s, o + 20, fdp());
    wr32(s, o + 24, fds() | 0xffff0000);
  } else {
    wr16(s, o, fcw()); if (faulted) return;
    wr16(s, o + 2, fsw());
    wr16(s, o + 4, fullTagWord());
    wr16(s, o + 6, fip());
    wr16(s, o + 8, fcs());
    wr16(s, o + 10, fdp());
    wr16(s, o + 12, fds());
  }
}

export function loadEnv(s: u32, o: u32, size32: bool): void {
  const n: u32 = size32 ? 28 : 14;
  probeRead(s, o, n); if (faulted) return;
  const w: u32 = size32 ? 4 : 2;
  const cw = rd16(s, o), sw = rd16(s, o + w), tw = rd16(s, o + 2 * w);
  if (faulted) return;
  let ipv: u32, csv: u32, opv: u32, dpv: u32, dsv: u32;
  if (size32) {
    ipv = rd32(s, o + 12); const x = rd32(s, o + 16);
    csv = x & 0xffff; opv = (x >> 16) & 0x7ff;
    dpv = rd32(s, o + 20); dsv = rd16(s, o + 24);
  } else {
    ipv = rd16(s, o + 6); csv = rd16(s, o + 8); opv = 0;
    dpv = rd16(s, o + 10); dsv = rd16(s, o + 12);
  }
  if (faulted) return;
  setFcw(cw);
  setFsw(sw);
  // A loaded tag word: empty or not for each register; the rest is recomputed from the
  // contents (8.1.7).
  let t: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) {
    const e = ((tw >> (p << 1)) & 3) == 3;
    t |= (e ? TAG_EMPTY : TAG_VALID) << (p << 1);
  }
  setFtw(t);
  for (let p: u32 = 0; p < 8; p++) {
    if (tagOf(p) != TAG_EMPTY) setPhys(p, seOf(p), manOf(p));
  }
  setInsnPointer(ipv, csv, opv);
  setDataPointer(dpv, dsv);
  // The loaded status word may hold unmasked exceptions: ES and B follow them.
  recomputeSummary();
}

export function recomputeSummary(): void {
  let sw = fsw();
  if ((sw & 0x3f & ~fcw()) != 0) sw |= SW_ES | SW_B; else sw &= ~(SW_ES | SW_B);
  setFsw(sw);
  ferrFollowEs();
}

export function fsave(s: u32, o: u32, size32: bool): void {
  const envBytes: u32 = size32 ? 28 : 14;
  probeWrite(s, o, envBytes + 80); if (faulted) return;
  storeEnv(s, o, size32); if (faulted) return;
  for (let i: u32 = 0; i < 8; i++) {
    const p = phys(i);
    const a = o + envBytes + i * 10;
    const m = manOf(p);
    wr32(s, a, <u32>m); wr32(s, a + 4, <u32>(m >> 32)); wr16(s, a + 8, seOf(p));
  }
  fpuInit();
}

export function frstor(s: u32, o: u32, size32: bool): void {
  const envBytes: u32 = size32 ? 28 : 14;
  probeRead(s, o, envBytes + 80); if (faulted) return;
  for (let i: u32 = 0; i < 8; i++) {
    const a = o + envBytes + i * 10;
    const lo = rd32(s, a), hi = rd32(s, a + 4), se = rd16(s, a + 8);
    if (faulted) return;
    unchecked(regs[i] = (<u64>hi << 32) | lo);
    unchecked(ses[i] = se);
  }
  loadEnv(s, o, size32); if (faulted) return;
  for (let i: u32 = 0; i < 8; i++) {
    const p = phys(i);
    const empty = tagOf(p) == TAG_EMPTY;
    setPhys(p, unchecked(ses[i]), unchecked(regs[i]));
    if (empty) setTag(p, TAG_EMPTY);
  }
}


// ---- FXSAVE / FXRSTOR (SDM vol. 2A, FXSAVE, table 3-53 "Non-64-bit-Mode Layout of
// FXSAVE and FXRSTOR Memory Region"; vol. 1, 10.5 "FXSAVE and FXRSTOR Instructions") ----
// A P6 with FXSR and without SSE: the x87 part of the 512-byte image (bytes 0-159) is
// written and read; MXCSR, MXCSR_MASK and the XMM registers do not exist on such a CPU,
// so bytes 24-31 and 160-511 are neither written nor read (the SDM leaves them to the
// implementation when CR4.OSFXSR is clear; here there is nothing to save in them).

/** The abridged tag word (10.5.1.1): one bit per physical register, 1 = not empty. */
function abridgedTags(): u32 {
  let t: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) if (tagOf(p) != TAG_EMPTY) t |= 1 << p;
  return t;
}

/** FXSAVE m512byte: the caller checked #UD/#NM and the 16-byte alignment. */
export function fxsave(s: u32, o: u32): void {
  probeWrite(s, o, 160); if (faulted) return;
  wr16(s, o, fcw());
  wr16(s, o + 2, fsw());
  wr16(s, o + 4, abridgedTags()); // byte 5 is reserved: written 0
  wr16(s, o + 6, fop());
  wr32(s, o + 8, fip());
  wr32(s, o + 12, fcs()); // bytes 14-15 reserved: 0
  wr32(s, o + 16, fdp());
  wr32(s, o + 20, fds()); // bytes 22-23 reserved: 0
  for (let i: u32 = 0; i < 8; i++) {
    const p = phys(i);
    const a = o + 32 + i * 16;
    const m = manOf(p);
    wr32(s, a, <u32>m); wr32(s, a + 4, <u32>(m >> 32));
    wr32(s, a + 8, seOf(p)); wr32(s, a + 12, 0); // the 6 reserved bytes: 0
  }
}

/** FXRSTOR m512byte: the caller checked #UD/#NM and the 16-byte alignment. */
export function fxrstor(s: u32, o: u32): void {
  probeRead(s, o, 160); if (faulted) return;
  for (let i: u32 = 0; i < 8; i++) {
    const a = o + 32 + i * 16;
    const lo = rd32(s, a), hi = rd32(s, a + 4), se = rd16(s, a + 8);
    if (faulted) return;
    unchecked(regs[i] = (<u64>hi << 32) | lo);
    unchecked(ses[i] = se);
  }
  const cw = rd16(s, o), sw = rd16(s, o + 2), tw = rd16(s, o + 4) & 0xff;
  const op = rd16(s, o + 6) & 0x7ff, ipv = rd32(s, o + 8), csv = rd16(s, o + 12);
  const dpv = rd32(s, o + 16), dsv = rd16(s, o + 20);
  if (faulted) return;
  setFcw(cw);
  setFsw(sw);
  setInsnPointer(ipv, csv, op);
  setDataPointer(dpv, dsv);
  // Registers in stack order at the top loaded from the status word; a set abridged bit
  // makes the register's tag follow its contents (10.5.1.1), a clear one makes it empty.
  let t: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) t |= (((tw >> p) & 1) != 0 ? TAG_VALID : TAG_EMPTY) << (p << 1);
  setFtw(t);
  for (let i: u32 = 0; i < 8; i++) {
    const p = phys(i);
    const empty = tagOf(p) == TAG_EMPTY;
    setPhys(p, unchecked(ses[i]), unchecked(regs[i]));
    if (empty) setTag(p, TAG_EMPTY);
  }
  recomputeSummary();
}
