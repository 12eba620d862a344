// CPUID (SDM vol. 2A, CPUID). A P6-class processor without x87/MMX/SSE: leaf 0 vendor
// "GenuineIntel", leaf 1 family 6 model 8 with TSC, MSR, CX8, SEP, PGE, PSE, CMOV, DE, VME.
import { EAX, EBX, ECX, EDX, reg32, setReg32 } from '../state';

// Leaf 1 EDX feature bits (SDM vol. 2A, table 3-11).
const FEAT_VME: u32 = 1 << 1;
const FEAT_DE: u32 = 1 << 2;
const FEAT_PSE: u32 = 1 << 3;
const FEAT_TSC: u32 = 1 << 4;
const FEAT_MSR: u32 = 1 << 5;
const FEAT_CX8: u32 = 1 << 8;
const FEAT_SEP: u32 = 1 << 11;
const FEAT_PGE: u32 = 1 << 13;
const FEAT_CMOV: u32 = 1 << 15;

export function cpuid(): void {
  const leaf = reg32(EAX);
  let a: u32 = 0, b: u32 = 0, c: u32 = 0, d: u32 = 0;
  if (leaf == 0) {
    a = 1;
    b = 0x756e6547; d = 0x49656e69; c = 0x6c65746e; // "Genu" "ineI" "ntel"
  } else if (leaf == 1) {
    a = 0x0680; // family 6, model 8, stepping 0
    d = FEAT_VME | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_CX8 | FEAT_SEP | FEAT_PGE | FEAT_CMOV;
  }
  setReg32(EAX, a); setReg32(EBX, b); setReg32(ECX, c); setReg32(EDX, d);
}
