/**
 * wasmvisor's public API. Everything a user of the npm package imports comes from here.
 */
export const VERSION = '0.1.0';
/** Virtual appliances (OVF/OVA) and the VM configuration they map to; browser-safe. */
export * as ovf from './ovf/index.js';
export * as vmConfig from './config/index.js';
/** The PC platform: core, devices and the run loop on a virtual clock. */
export {
  Machine, type MachineConfig, type MachineStats, type StopReason, type IoAccess, type PostCode,
} from './machine/machine.js';
export type { Cursor as ScreenCursor } from './devices/vga.js';
/** The interrupt controllers of `apic: true`, their counters, and MSI (issue 13). */
export { LocalApic, type ApicStats, type LocalApicState } from './devices/apic/local-apic.js';
export { IoApic, type IoApicStats, type IoApicState } from './devices/apic/io-apic.js';
export { writePlatformTables, acpiTable, type TableOptions } from './devices/apic/tables.js';
export {
  MsiCapability, MsixCapability, apicMsiSink, type MsiSink, type MsiRouteStats,
} from './devices/pci/msi.js';
export { EduDevice } from './devices/pci/edu.js';
/** The hypervisor: Hypervisor -> Vm -> VCpu, the modes (native, vtx, svm) and their options. */
export { Hypervisor, type HypervisorRunOptions } from './vmm/hypervisor.js';
export { Vm, type VmOptions } from './vmm/vm.js';
export { VCpu } from './vmm/vcpu.js';
export {
  VmmOptionError, resolveVmmOptions, VM_MODES, PAGING_MODES,
  type VmMode, type PagingMode, type VmmOptions, type ResolvedVmmOptions, type VmmOptionErrorCode,
} from './vmm/options.js';
export type { VmmStats, ModeOps } from './vmm/modes/ops.js';
// pv: the paravirtual interface's counters and the management domain.
export type { PvStats } from './vmm/pv/domain.js';
export { ManagementDomain, type DomainInfo } from './vmm/pv/xl.js';
export { VMM_SIGNATURE, VMM_MAX_LEAF } from './vmm/cpuid.js';
export { planFirmware, FirmwareError } from './machine/firmware.js';
/** Direct kernel boot: the Linux boot protocol (bzImage) beside Multiboot. */
export {
  planLinux, applyLinux, isLinuxKernel, readLinuxHeader, LinuxBootError,
  type LinuxPlan, type LinuxOptions, type LinuxHeader,
} from './boot/linux.js';
/** The WebAssembly core and its host contract. */
export { createCore } from './core/index.js';
export type * from './core/types.js';
/** Disk images (raw, qcow2, VMDK) as block devices, and the `img` operations; browser-safe. */
export * as disk from './disk/index.js';
/** VT-x and AMD-V architectural tables (VMCS encodings, exit reasons, VMCB layout, MSRs). */
export {
  vmcsFields, vmcs, vmxExitReasons, vmxExitReasonBits, vmxInstructionErrors, vmxMsrs,
  featureControlBits, vmcbFields, vmcbFields as vmcbLayout, vmcbBitFields, vmcbConstants,
  tlbControl, svmEventTypes, vmcbCleanBits, svmExitCodes, svmMsrs, svmMsrBits,
  vmcsField, decodeVmcsEncoding, VmcsEncodingError,
  type VmcsField, type VmcsWidth, type VmcsType, type VmcbField, type VmcsEncodingParts,
} from './vmm/tables.js';
/** The cost model: simulated cycles from counters with named CPU profiles. */
export * as cost from './vmm/cost/index.js';
/** The virtualization modes this build offers (each mode adds itself to the list). */
export {
  MODES, modeOptions, type ModeInfo, type ModeSwitch, type ModeChoice,
} from './vmm/modes-list.js';
/** The workload benchmark's pieces: A&A's figure 4, the counters the cost model prices. */
export { ADAMS_AGESEN_FIG4, costCounters } from './bench/workloads.js';
export { parseWorkloadLines, type WorkloadRow } from './machine/workloads.js';
/** Snapshots: save a running machine to a versioned, checksummed file and restore it. */
export {
  saveSnapshot, restoreSnapshot, readSnapshot, snapshotInfo, coreLayoutId, SnapshotError,
  FORMAT_VERSION as SNAPSHOT_FORMAT_VERSION, MAX_EMBEDDED_DISK,
  type SnapshotMeta, type RestoreOptions, type SnapshotContents,
} from './snapshot/index.js';
export type { PlatformState, MachineImage } from './machine/machine.js';
export type { VcpuState } from './vmm/vcpu.js';
