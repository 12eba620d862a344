// String instructions MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE, the segment
// override on the source, and the address-size prefix choosing SI/DI/CX or ESI/EDI/ECX
// (SDM vol. 2B, REP/REPE/REPZ/REPNE/REPNZ). Each iteration updates the registers after its
// accesses succeeded, so a fault restarts the instruction at the iteration that faulted.
// A long REP yields after a bounded number of iterations (EIP stays on the instruction),
// which lets the run loop take interrupts and honour the budget, as a real CPU does.
import { reg32, setReg32, setReg16, ECX, ESI, EDI, EAX, EDX, ES, reg16 } from '../state';
import { rdSized, wrSized, setIp, startIp, probeWrite } from '../access';
import { asz, rep, dataSeg, getReg, setReg } from '../decode';
import { faulted } from '../fault';
import { flags, DF, getZF } from '../flags';
import { alu, OP_CMP } from './alu';
import { logLen, logClear } from '../iolog';
import { portIn, portOut } from './io';

const MAX_ITER: u32 = 1024;

@inline function idx(r: u32): u32 { return asz == 32 ? reg32(r) : reg16(r); }
@inline function setIdx(r: u32, v: u32): void { if (asz == 32) setReg32(r, v); else setReg16(r, v); }

export const STR_MOVS: u32 = 0;
export const STR_CMPS: u32 = 1;
export const STR_STOS: u32 = 2;
export const STR_LODS: u32 = 3;
export const STR_SCAS: u32 = 4;
export const STR_INS: u32 = 5;
export const STR_OUTS: u32 = 6;

export function stringOp(kind: u32, size: u32): void {
  const n: u32 = size >> 3;
  const delta: u32 = (flags & DF) != 0 ? -n : n;
  const src = dataSeg();
  if (rep == 0) { iterate(kind, size, src, delta); return; }
  let count = idx(ECX);
  let iter: u32 = 0;
  while (count != 0) {
    iterate(kind, size, src, delta);
    if (faulted) return;
    count--;
    setIdx(ECX, count);
    if (kind == STR_CMPS || kind == STR_SCAS) {
      // REPE stops when ZF = 0, REPNE when ZF = 1.
      const zf = getZF();
      if ((rep == 0xf3 && zf == 0) || (rep == 0xf2 && zf != 0)) return;
    }
    iter++;
    if (count != 0 && (iter >= MAX_ITER || logLen != 0)) {
      if (logLen != 0) logClear();
      setIp(startIp);
      return;
    }
  }
}

function iterate(kind: u32, size: u32, src: u32, delta: u32): void {
  switch (kind) {
    case STR_MOVS: {
      const v = rdSized(src, idx(ESI), size); if (faulted) return;
      wrSized(ES, idx(EDI), v, size); if (faulted) return;
      setIdx(ESI, idx(ESI) + delta); setIdx(EDI, idx(EDI) + delta);
      return;
    }
    case STR_CMPS: {
      const a = rdSized(src, idx(ESI), size); if (faulted) return;
      const b = rdSized(ES, idx(EDI), size); if (faulted) return;
      alu(OP_CMP, a, b, size);
      setIdx(ESI, idx(ESI) + delta); setIdx(EDI, idx(EDI) + delta);
      return;
    }
    case STR_STOS: {
      wrSized(ES, idx(EDI), getReg(size, EAX), size); if (faulted) return;
      setIdx(EDI, idx(EDI) + delta);
      return;
    }
    case STR_LODS: {
      const v = rdSized(src, idx(ESI), size); if (faulted) return;
      setReg(size, EAX, v);
      setIdx(ESI, idx(ESI) + delta);
      return;
    }
    case STR_SCAS: {
      const b = rdSized(ES, idx(EDI), size); if (faulted) return;
      alu(OP_CMP, getReg(size, EAX), b, size);
      setIdx(EDI, idx(EDI) + delta);
      return;
    }
    case STR_INS: {
      // The destination is checked before the port is read (a fault must not lose input).
      const off = idx(EDI);
      probeWrite(ES, off, size >> 3); if (faulted) return;
      const v = portIn(reg16(EDX), size >> 3); if (faulted) return;
      wrSized(ES, off, v, size); if (faulted) return;
      setIdx(EDI, off + delta);
      return;
    }
    default: { // OUTS
      const v = rdSized(src, idx(ESI), size); if (faulted) return;
      portOut(reg16(EDX), size >> 3, v); if (faulted) return;
      setIdx(ESI, idx(ESI) + delta);
      return;
    }
  }
}
