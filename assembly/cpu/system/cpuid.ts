// CPUID (SDM vol. 2A, CPUID). The core answers as a P6-class processor with the x87 FPU
// and without MMX or SSE: leaf 0 says "GenuineIntel" with 1 as the highest basic leaf;
// leaf 1 says family 6, model 8, stepping 0 and sets exactly the features the core
// implements (table 3-11): FPU (the x87, assembly/cpu/fpu), DE (CR4.DE, DR4/DR5 #UD), PSE
// (4 MiB pages), TSC (RDTSC, CR4.TSD), MSR (RDMSR/WRMSR), CX8 (CMPXCHG8B), SEP
// (SYSENTER/SYSEXIT), PGE (global pages), CMOV, FXSR (FXSAVE/FXRSTOR and CR4.OSFXSR, as
// the Pentium II has them: assembly/cpu/fpu/env.ts); APIC (bit 9) when the platform has a
// local APIC (setApicPresent: the machine's device model) and IA32_APIC_BASE[11] enables it
// (SDM vol. 3A, 10.4.3: a globally disabled APIC clears CPUID.1:EDX.APIC). Not set: VME (no
// virtual-8086 mode), PAE, MTRR, MCE, PAT, MMX, SSE.
// Leaf 1 EBX is 0 (no brand index, no CLFLUSH, no HTT); ECX has only VMX (bit 5), when the
// host configured the CPU with it (assembly/cpu/system/vmx.ts); ECX bit 31, "hypervisor
// present", is clear: bare metal.
//
// With SVM (assembly/svm/svm.ts) the vendor is "AuthenticAMD" and the extended leaves
// 8000_0000h-8000_000Ah answer as there; leaf 1 ECX.VMX stays as configured.
//
// Any other leaf, the hypervisor range 0x40000000-0x4fffffff and the extended range
// 0x80000000 included, gets the data of the highest basic leaf, as Intel processors answer
// a leaf above their maximum (SDM vol. 2A, CPUID, "INPUT EAX = 0": "If a value entered for
// CPUID.EAX is higher than the maximum input value ... the data for the highest basic
// information leaf is returned"). The hypervisor layers claim 0x40000000 themselves.
import { EAX, EBX, ECX, EDX, reg32, setReg32 } from '../state';
import { STATE_BASE, S_APIC_BASE } from '../../generated/layout';
import { vmxEnabled } from './vmx';
import { svmEnabled, svmCpuidLeaf } from '../../svm/svm';
import { guestMode } from '../../vmm/guest';
import { icptCpuid } from '../../vmm/intercept';

/** The highest basic leaf. */
export const CPUID_MAX_BASIC: u32 = 1;

// Leaf 1 EDX feature bits (SDM vol. 2A, table 3-11).
export const FEAT_FPU: u32 = 1 << 0;
export const FEAT_DE: u32 = 1 << 2;
export const FEAT_PSE: u32 = 1 << 3;
export const FEAT_TSC: u32 = 1 << 4;
export const FEAT_MSR: u32 = 1 << 5;
export const FEAT_CX8: u32 = 1 << 8;
export const FEAT_SEP: u32 = 1 << 11;
export const FEAT_PGE: u32 = 1 << 13;
export const FEAT_CMOV: u32 = 1 << 15;
export const FEAT_FXSR: u32 = 1 << 24;
export const LEAF1_EDX: u32 =
  FEAT_FPU | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_CX8 | FEAT_SEP | FEAT_PGE | FEAT_CMOV
  | FEAT_FXSR;
/** Leaf 1 EDX bit 9: APIC (table 3-11). */
export const FEAT_APIC: u32 = 1 << 9;
/** IA32_APIC_BASE bit 11: APIC global enable (SDM vol. 3A, 10.4.4, figure 10-5). */
const APIC_GLOBAL_ENABLE: u32 = 1 << 11;
/** The platform has a local APIC (the host's device model says so: setApicPresent). */
export let apicPresent: bool = false;
export function setApicPresent(on: bool): void { apicPresent = on; }
/** Leaf 1 ECX bit 5: VMX (table 3-10). */
export const FEAT_VMX: u32 = 1 << 5;
/** Leaf 1 ECX bit 3: MONITOR/MWAIT (table 3-10). */
export const FEAT_MONITOR: u32 = 1 << 3;
/** Leaf 1 EAX: stepping 3:0, model 7:4, family 11:8 (table 3-8 / figure 3-6). */
export const LEAF1_EAX: u32 = (6 << 8) | (8 << 4) | 0;

export function cpuid(): void {
  if (guestMode != 0 && icptCpuid()) return; // CPUID always exits (SDM vol. 3C, 26.1.2)
  let leaf = reg32(EAX);
  // With SVM the CPU answers the extended leaves an AMD CPU has (assembly/svm/svm.ts).
  if (svmCpuidLeaf(leaf)) return;
  if (leaf > CPUID_MAX_BASIC) leaf = CPUID_MAX_BASIC;
  let a: u32 = 0, b: u32 = 0, c: u32 = 0, d: u32 = 0;
  if (leaf == 0) {
    a = CPUID_MAX_BASIC;
    b = 0x756e6547; d = 0x49656e69; c = 0x6c65746e; // "Genu" "ineI" "ntel"
    // A CPU with SVM is an AMD one (a VM is one vendor): "AuthenticAMD".
    if (svmEnabled()) { b = 0x68747541; d = 0x69746e65; c = 0x444d4163; }
  } else {
    a = LEAF1_EAX;
    d = LEAF1_EDX;
    if (apicPresent && (load<u32>(STATE_BASE + S_APIC_BASE) & APIC_GLOBAL_ENABLE) != 0) {
      d |= FEAT_APIC;
    }
    // The VMX CPU model also has MONITOR/MWAIT (bit 3), as the Bochs model the VMX
    // references were recorded on (corei7_sandy_bridge_2600k).
    c = vmxEnabled() ? FEAT_VMX | FEAT_MONITOR : 0;
    // So has the SVM model (Bochs' phenom_8650_toliman, QEMU's phenom).
    if (svmEnabled()) c |= FEAT_MONITOR;
  }
  setReg32(EAX, a); setReg32(EBX, b); setReg32(ECX, c); setReg32(EDX, d);
}
