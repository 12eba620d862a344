// RDMSR/WRMSR (SDM vol. 2B; MSR numbers from SDM vol. 4, table 2-2): IA32_TIME_STAMP_COUNTER
// (0x10), IA32_PLATFORM_ID (0x17, reads 0), IA32_APIC_BASE (0x1B), IA32_BIOS_SIGN_ID (0x8B,
// the microcode revision: reads 0, writes ignored), IA32_SYSENTER_CS/ESP/EIP (0x174-0x176).
// With VMX configured, IA32_FEATURE_CONTROL (0x3A) and the VMX capability MSRs
// (assembly/cpu/system/vmx.ts); with SVM configured, EFER, VM_CR and VM_HSAVE_PA
// (assembly/svm/svm.ts). Any other MSR, and reserved bits set in IA32_APIC_BASE,
// raise #GP(0).
import {
  STATE_BASE, S_TSC, S_APIC_BASE, S_SYSENTER_CS, S_SYSENTER_ESP, S_SYSENTER_EIP, S_CPL,
} from '../../generated/layout';
import { EAX, ECX, EDX, reg32, setReg32 } from '../state';
import { raiseGP } from '../fault';
import { guestMode } from '../../vmm/guest';
import { icptMsr } from '../../vmm/intercept';
import { tscPending, tscExitOn, tscNeedsHost, tscTaken, addTscWriteAdjust } from '../tsc';
import { v86Mode } from './segments';
import { vmxMsrRead, vmxMsrWrite, vmxMsrOk } from './vmx';
import { svmMsrRead, svmMsrWrite, svmMsrOk } from '../../svm/svm';

export const MSR_TSC: u32 = 0x10;
export const MSR_PLATFORM_ID: u32 = 0x17;
export const MSR_APIC_BASE: u32 = 0x1b;
export const MSR_BIOS_SIGN_ID: u32 = 0x8b;
/** IA32_APIC_BASE bits (SDM vol. 3A, 10.4.4, figure 10-5): BSP 8 (read-only), enable 11,
 *  base 31:12; with a 32-bit physical address width everything else is reserved. */
const APIC_BASE_BSP: u64 = 0x100;
const APIC_BASE_ENABLE: u64 = 0x800;
const APIC_BASE_RESERVED: u64 = 0xffffffff000006ff;
export const MSR_SYSENTER_CS: u32 = 0x174;
export const MSR_SYSENTER_ESP: u32 = 0x175;
export const MSR_SYSENTER_EIP: u32 = 0x176;

export let msrOk: bool = true;

/** Reads MSR `index` (sets msrOk = false for an unknown one). Also used by the host. */
export function msrRead(index: u32): u64 {
  msrOk = true;
  switch (index) {
    // The state block's TSC plus the ticks the running loop has not folded in yet.
    case MSR_TSC: return load<u64>(STATE_BASE + S_TSC) + tscPending();
    case MSR_PLATFORM_ID: return 0;
    case MSR_APIC_BASE: return load<u64>(STATE_BASE + S_APIC_BASE);
    case MSR_BIOS_SIGN_ID: return 0;
    case MSR_SYSENTER_CS: return load<u32>(STATE_BASE + S_SYSENTER_CS);
    case MSR_SYSENTER_ESP: return load<u32>(STATE_BASE + S_SYSENTER_ESP);
    case MSR_SYSENTER_EIP: return load<u32>(STATE_BASE + S_SYSENTER_EIP);
  }
  const v = vmxMsrRead(index);
  msrOk = vmxMsrOk;
  if (msrOk) return v;
  const w = svmMsrRead(index);
  msrOk = svmMsrOk;
  return w;
}

export function msrWrite(index: u32, v: u64): void {
  msrOk = true;
  switch (index) {
    case MSR_TSC: store<u64>(STATE_BASE + S_TSC, v - tscPending()); return;
    case MSR_APIC_BASE: {
      if ((v & APIC_BASE_RESERVED) != 0) break;
      const old = load<u64>(STATE_BASE + S_APIC_BASE);
      // Once globally disabled, the APIC stays so until a reset (SDM vol. 3A, 10.4.3; QEMU
      // and Bochs 2.7 likewise keep bit 11 clear).
      const en: u64 = (old & APIC_BASE_ENABLE) != 0 ? APIC_BASE_ENABLE : 0;
      v = (v & ~APIC_BASE_ENABLE) | (v & en);
      store<u64>(STATE_BASE + S_APIC_BASE, (v & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP));
      return;
    }
    case MSR_BIOS_SIGN_ID: return;
    case MSR_SYSENTER_CS: store<u32>(STATE_BASE + S_SYSENTER_CS, <u32>v & 0xffff); return;
    case MSR_SYSENTER_ESP: store<u32>(STATE_BASE + S_SYSENTER_ESP, <u32>v); return;
    case MSR_SYSENTER_EIP: store<u32>(STATE_BASE + S_SYSENTER_EIP, <u32>v); return;
  }
  vmxMsrWrite(index, v);
  msrOk = vmxMsrOk;
  if (msrOk) return;
  svmMsrWrite(index, v);
  msrOk = svmMsrOk;
}

export function rdmsr(): void {
  if (v86Mode() || load<u32>(STATE_BASE + S_CPL) != 0) { raiseGP(0); return; }
  if (guestMode != 0 && icptMsr(false)) return;
  // Simulated time: the host answers (assembly/cpu/tsc.ts).
  if (tscExitOn && reg32(ECX) == MSR_TSC) {
    if (tscNeedsHost()) return;
    setReg32(EAX, <u32>tscTaken); setReg32(EDX, <u32>(tscTaken >> 32));
    return;
  }
  const v = msrRead(reg32(ECX));
  if (!msrOk) { raiseGP(0); return; }
  setReg32(EAX, <u32>v); setReg32(EDX, <u32>(v >> 32));
}

export function wrmsr(): void {
  if (v86Mode() || load<u32>(STATE_BASE + S_CPL) != 0) { raiseGP(0); return; }
  if (guestMode != 0 && icptMsr(true)) return;
  const index = reg32(ECX), v = (<u64>reg32(EDX) << 32) | reg32(EAX);
  // The guest's own TSC writes, kept for simulated time (SDM vol. 3B, 17.17).
  if (index == MSR_TSC) addTscWriteAdjust(v - (load<u64>(STATE_BASE + S_TSC) + tscPending()));
  msrWrite(index, v);
  if (!msrOk) raiseGP(0);
}
