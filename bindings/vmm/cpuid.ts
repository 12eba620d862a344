/**
 * The CPUID the VMM offers a guest under vtx or svm, written once for both vendors: the
 * CPU's own leaves with the hypervisor bit set and the CPU's virtualization extension
 * hidden (no nested virtualization under the TypeScript VMM), and the VMM's own leaves
 * from 0x40000000, the range hypervisors share (KVM, Xen, Hyper-V and VMware answer there;
 * Intel SDM vol. 2A, CPUID: leaves 40000000H-4FFFFFFFH are invalid on real hardware, so
 * software reads them only when CPUID.1:ECX bit 31 says a hypervisor is present).
 */

/** The signature in EBX, ECX, EDX of leaf 0x40000000: the 12 bytes "wasmvisorVMM". */
export const VMM_SIGNATURE = 'wasmvisorVMM';
/** The highest VMM leaf (EAX of leaf 0x40000000). */
export const VMM_MAX_LEAF = 0x40000001;
/** CPUID.1:ECX bit 31: a hypervisor is present (reserved for hypervisor use). */
export const CPUID1_ECX_HYPERVISOR = 1 << 31;
/** CPUID.1:ECX bit 5: VMX (SDM vol. 2A, CPUID, table 3-10). */
export const CPUID1_ECX_VMX = 1 << 5;
/** CPUID.80000001h:ECX bit 2: SVM (APM vol. 3, appendix E.4.2). */
export const CPUID81_ECX_SVM = 1 << 2;

export interface CpuidRegs { eax: number; ebx: number; ecx: number; edx: number }

const sigWord = (i: number): number =>
  [0, 1, 2, 3].reduce((v, b) => v | (VMM_SIGNATURE.charCodeAt(i * 4 + b) << (8 * b)), 0) >>> 0;

/**
 * The guest's answer for `leaf`, given what the CPU answered (`cpu`): the VMM's leaves
 * 0x40000000 (maximum VMM leaf, signature) and 0x40000001 (VMM features: none yet; the
 * paravirtual interface arrives with its own issue), zero for the rest of that range.
 */
export function vmmCpuid(leaf: number, cpu: CpuidRegs): CpuidRegs {
  leaf >>>= 0;
  if (leaf === 1) {
    return { ...cpu, ecx: ((cpu.ecx | CPUID1_ECX_HYPERVISOR) & ~CPUID1_ECX_VMX) >>> 0 };
  }
  if (leaf === 0x80000001) return { ...cpu, ecx: (cpu.ecx & ~CPUID81_ECX_SVM) >>> 0 };
  if (leaf === 0x40000000) {
    return { eax: VMM_MAX_LEAF, ebx: sigWord(0), ecx: sigWord(1), edx: sigWord(2) };
  }
  if (leaf > 0x40000000 && leaf <= 0x400000ff) return { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  return cpu;
}
