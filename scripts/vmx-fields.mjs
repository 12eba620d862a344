// The one source of the Intel VT-x architectural numbers shared by the core (assembly/) and the
// host (bindings/): VMCS field encodings, basic exit reasons, VM-instruction error numbers and
// the VMX capability MSRs. scripts/gen-vmm-tables.mjs checks every encoding against its
// declared width and type and writes assembly/generated/vmx.ts and bindings/generated/vmx.ts.
//
// Sources (Intel 64 and IA-32 Architectures Software Developer's Manual, vol. 3C):
//   appendix B "Field Encoding in VMCS" (tables B-1 .. B-12) for the fields;
//   section 25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields" (table 25-21) for the
//     layout of an encoding: bit 0 access type (0 full, 1 high), bits 9:1 index,
//     bits 11:10 type, bit 12 reserved, bits 14:13 width, bits 31:15 reserved;
//   appendix C "VMX Basic Exit Reasons" (table C-1) for the exit reasons;
//   section 31.4 "VM Instruction Error Numbers" (table 31-1) for the error numbers;
//   vol. 4, table 2-2 and appendix A.1 for IA32_FEATURE_CONTROL and IA32_VMX_* MSRs.

/** Width field of an encoding (bits 14:13), SDM vol. 3C table 25-21. */
export const VMCS_WIDTH = { '16': 0, '64': 1, '32': 2, natural: 3 };
/** Type field of an encoding (bits 11:10), SDM vol. 3C table 25-21. */
export const VMCS_TYPE = { control: 0, exitInfo: 1, guest: 2, host: 3 };

// The fields, one group per table of appendix B. Each group is [width, type, SDM table,
// fields], each field [NAME, encoding]. A 64-bit field is declared once, by its full
// (access type 0) encoding; the generator adds its _HIGH half (encoding | 1).
// The set: the fields of a processor that runs 32-bit guests with the controls the
// hypervisor uses (EPT, VPID, unrestricted guest, the preemption timer, PAT/EFER loading,
// PAUSE-loop exiting). Later extensions (posted interrupts, PML, VM functions, VMCS
// shadowing, #VE, XSAVES, SGX, CET, PKS, Intel PT, tertiary controls) are left out.
// Names follow Linux KVM's enum vmcs_field where it has the field, so that readers of KVM
// feel at home; the others take the SDM's words.
export const vmcsGroups = [
  ['16', 'control', 'B-1 16-bit control fields', [
    ['VIRTUAL_PROCESSOR_ID', 0x0000],
  ]],
  ['16', 'guest', 'B-2 16-bit guest-state fields', [
    ['GUEST_ES_SELECTOR', 0x0800], ['GUEST_CS_SELECTOR', 0x0802],
    ['GUEST_SS_SELECTOR', 0x0804], ['GUEST_DS_SELECTOR', 0x0806],
    ['GUEST_FS_SELECTOR', 0x0808], ['GUEST_GS_SELECTOR', 0x080a],
    ['GUEST_LDTR_SELECTOR', 0x080c], ['GUEST_TR_SELECTOR', 0x080e],
  ]],
  ['16', 'host', 'B-3 16-bit host-state fields', [
    ['HOST_ES_SELECTOR', 0x0c00], ['HOST_CS_SELECTOR', 0x0c02],
    ['HOST_SS_SELECTOR', 0x0c04], ['HOST_DS_SELECTOR', 0x0c06],
    ['HOST_FS_SELECTOR', 0x0c08], ['HOST_GS_SELECTOR', 0x0c0a],
    ['HOST_TR_SELECTOR', 0x0c0c],
  ]],
  ['64', 'control', 'B-4 64-bit control fields', [
    ['IO_BITMAP_A', 0x2000], ['IO_BITMAP_B', 0x2002], ['MSR_BITMAP', 0x2004],
    ['VM_EXIT_MSR_STORE_ADDR', 0x2006], ['VM_EXIT_MSR_LOAD_ADDR', 0x2008],
    ['VM_ENTRY_MSR_LOAD_ADDR', 0x200a], ['EXECUTIVE_VMCS_POINTER', 0x200c],
    ['TSC_OFFSET', 0x2010], ['VIRTUAL_APIC_PAGE_ADDR', 0x2012],
    ['APIC_ACCESS_ADDR', 0x2014], ['EPT_POINTER', 0x201a],
  ]],
  ['64', 'exitInfo', 'B-5 64-bit read-only data field', [
    ['GUEST_PHYSICAL_ADDRESS', 0x2400],
  ]],
  ['64', 'guest', 'B-6 64-bit guest-state fields', [
    ['VMCS_LINK_POINTER', 0x2800], ['GUEST_IA32_DEBUGCTL', 0x2802],
    ['GUEST_IA32_PAT', 0x2804], ['GUEST_IA32_EFER', 0x2806],
    ['GUEST_IA32_PERF_GLOBAL_CTRL', 0x2808],
    ['GUEST_PDPTR0', 0x280a], ['GUEST_PDPTR1', 0x280c],
    ['GUEST_PDPTR2', 0x280e], ['GUEST_PDPTR3', 0x2810],
  ]],
  ['64', 'host', 'B-7 64-bit host-state fields', [
    ['HOST_IA32_PAT', 0x2c00], ['HOST_IA32_EFER', 0x2c02],
    ['HOST_IA32_PERF_GLOBAL_CTRL', 0x2c04],
  ]],
  ['32', 'control', 'B-8 32-bit control fields', [
    ['PIN_BASED_VM_EXEC_CONTROL', 0x4000], ['CPU_BASED_VM_EXEC_CONTROL', 0x4002],
    ['EXCEPTION_BITMAP', 0x4004], ['PAGE_FAULT_ERROR_CODE_MASK', 0x4006],
    ['PAGE_FAULT_ERROR_CODE_MATCH', 0x4008], ['CR3_TARGET_COUNT', 0x400a],
    ['VM_EXIT_CONTROLS', 0x400c], ['VM_EXIT_MSR_STORE_COUNT', 0x400e],
    ['VM_EXIT_MSR_LOAD_COUNT', 0x4010], ['VM_ENTRY_CONTROLS', 0x4012],
    ['VM_ENTRY_MSR_LOAD_COUNT', 0x4014], ['VM_ENTRY_INTR_INFO_FIELD', 0x4016],
    ['VM_ENTRY_EXCEPTION_ERROR_CODE', 0x4018], ['VM_ENTRY_INSTRUCTION_LEN', 0x401a],
    ['TPR_THRESHOLD', 0x401c], ['SECONDARY_VM_EXEC_CONTROL', 0x401e],
    ['PLE_GAP', 0x4020], ['PLE_WINDOW', 0x4022],
  ]],
  ['32', 'exitInfo', 'B-9 32-bit read-only data fields', [
    ['VM_INSTRUCTION_ERROR', 0x4400], ['VM_EXIT_REASON', 0x4402],
    ['VM_EXIT_INTR_INFO', 0x4404], ['VM_EXIT_INTR_ERROR_CODE', 0x4406],
    ['IDT_VECTORING_INFO_FIELD', 0x4408], ['IDT_VECTORING_ERROR_CODE', 0x440a],
    ['VM_EXIT_INSTRUCTION_LEN', 0x440c], ['VMX_INSTRUCTION_INFO', 0x440e],
  ]],
  ['32', 'guest', 'B-10 32-bit guest-state fields', [
    ['GUEST_ES_LIMIT', 0x4800], ['GUEST_CS_LIMIT', 0x4802], ['GUEST_SS_LIMIT', 0x4804],
    ['GUEST_DS_LIMIT', 0x4806], ['GUEST_FS_LIMIT', 0x4808], ['GUEST_GS_LIMIT', 0x480a],
    ['GUEST_LDTR_LIMIT', 0x480c], ['GUEST_TR_LIMIT', 0x480e],
    ['GUEST_GDTR_LIMIT', 0x4810], ['GUEST_IDTR_LIMIT', 0x4812],
    ['GUEST_ES_AR_BYTES', 0x4814], ['GUEST_CS_AR_BYTES', 0x4816],
    ['GUEST_SS_AR_BYTES', 0x4818], ['GUEST_DS_AR_BYTES', 0x481a],
    ['GUEST_FS_AR_BYTES', 0x481c], ['GUEST_GS_AR_BYTES', 0x481e],
    ['GUEST_LDTR_AR_BYTES', 0x4820], ['GUEST_TR_AR_BYTES', 0x4822],
    ['GUEST_INTERRUPTIBILITY_INFO', 0x4824], ['GUEST_ACTIVITY_STATE', 0x4826],
    ['GUEST_SMBASE', 0x4828], ['GUEST_SYSENTER_CS', 0x482a],
    ['VMX_PREEMPTION_TIMER_VALUE', 0x482e],
  ]],
  ['32', 'host', 'B-11 32-bit host-state field', [
    ['HOST_IA32_SYSENTER_CS', 0x4c00],
  ]],
  ['natural', 'control', 'B-12 natural-width control fields', [
    ['CR0_GUEST_HOST_MASK', 0x6000], ['CR4_GUEST_HOST_MASK', 0x6002],
    ['CR0_READ_SHADOW', 0x6004], ['CR4_READ_SHADOW', 0x6006],
    ['CR3_TARGET_VALUE0', 0x6008], ['CR3_TARGET_VALUE1', 0x600a],
    ['CR3_TARGET_VALUE2', 0x600c], ['CR3_TARGET_VALUE3', 0x600e],
  ]],
  ['natural', 'exitInfo', 'B-13 natural-width read-only data fields', [
    ['EXIT_QUALIFICATION', 0x6400], ['IO_RCX', 0x6402], ['IO_RSI', 0x6404],
    ['IO_RDI', 0x6406], ['IO_RIP', 0x6408], ['GUEST_LINEAR_ADDRESS', 0x640a],
  ]],
  ['natural', 'guest', 'B-14 natural-width guest-state fields', [
    ['GUEST_CR0', 0x6800], ['GUEST_CR3', 0x6802], ['GUEST_CR4', 0x6804],
    ['GUEST_ES_BASE', 0x6806], ['GUEST_CS_BASE', 0x6808], ['GUEST_SS_BASE', 0x680a],
    ['GUEST_DS_BASE', 0x680c], ['GUEST_FS_BASE', 0x680e], ['GUEST_GS_BASE', 0x6810],
    ['GUEST_LDTR_BASE', 0x6812], ['GUEST_TR_BASE', 0x6814],
    ['GUEST_GDTR_BASE', 0x6816], ['GUEST_IDTR_BASE', 0x6818],
    ['GUEST_DR7', 0x681a], ['GUEST_RSP', 0x681c], ['GUEST_RIP', 0x681e],
    ['GUEST_RFLAGS', 0x6820], ['GUEST_PENDING_DBG_EXCEPTIONS', 0x6822],
    ['GUEST_SYSENTER_ESP', 0x6824], ['GUEST_SYSENTER_EIP', 0x6826],
  ]],
  ['natural', 'host', 'B-15 natural-width host-state fields', [
    ['HOST_CR0', 0x6c00], ['HOST_CR3', 0x6c02], ['HOST_CR4', 0x6c04],
    ['HOST_FS_BASE', 0x6c06], ['HOST_GS_BASE', 0x6c08], ['HOST_TR_BASE', 0x6c0a],
    ['HOST_GDTR_BASE', 0x6c0c], ['HOST_IDTR_BASE', 0x6c0e],
    ['HOST_IA32_SYSENTER_ESP', 0x6c10], ['HOST_IA32_SYSENTER_EIP', 0x6c12],
    ['HOST_RSP', 0x6c14], ['HOST_RIP', 0x6c16],
  ]],
];

/** Basic exit reasons, bits 15:0 of the exit-reason field (SDM vol. 3C, appendix C, table
 *  C-1). Numbers missing here are reserved. Names as Linux KVM's EXIT_REASON_* where it has
 *  them. */
export const vmxExitReasons = {
  EXCEPTION_NMI: 0, EXTERNAL_INTERRUPT: 1, TRIPLE_FAULT: 2, INIT_SIGNAL: 3, SIPI_SIGNAL: 4,
  IO_SMI: 5, OTHER_SMI: 6,
  /** "Interrupt window". */
  PENDING_INTERRUPT: 7, NMI_WINDOW: 8, TASK_SWITCH: 9, CPUID: 10, GETSEC: 11, HLT: 12,
  INVD: 13, INVLPG: 14, RDPMC: 15, RDTSC: 16, RSM: 17, VMCALL: 18, VMCLEAR: 19,
  VMLAUNCH: 20, VMPTRLD: 21, VMPTRST: 22, VMREAD: 23, VMRESUME: 24, VMWRITE: 25,
  VMOFF: 26, VMON: 27, CR_ACCESS: 28, DR_ACCESS: 29, IO_INSTRUCTION: 30, MSR_READ: 31,
  MSR_WRITE: 32,
  /** VM-entry failure due to invalid guest state (with bit 31 of the exit reason set). */
  INVALID_STATE: 33,
  /** VM-entry failure due to MSR loading (with bit 31 set). */
  MSR_LOAD_FAIL: 34,
  MWAIT_INSTRUCTION: 36, MONITOR_TRAP_FLAG: 37, MONITOR_INSTRUCTION: 39,
  PAUSE_INSTRUCTION: 40, MCE_DURING_VMENTRY: 41, TPR_BELOW_THRESHOLD: 43, APIC_ACCESS: 44,
  EOI_INDUCED: 45, GDTR_IDTR: 46, LDTR_TR: 47, EPT_VIOLATION: 48, EPT_MISCONFIG: 49,
  INVEPT: 50, RDTSCP: 51, PREEMPTION_TIMER: 52, INVVPID: 53, WBINVD: 54, XSETBV: 55,
  APIC_WRITE: 56, RDRAND: 57, INVPCID: 58, VMFUNC: 59, ENCLS: 60, RDSEED: 61,
  PML_FULL: 62, XSAVES: 63, XRSTORS: 64, PCONFIG: 65, SPP: 66, UMWAIT: 67, TPAUSE: 68,
  LOADIWKEY: 69, ENCLV: 70, SGX_CONFLICT: 71, ENQCMD_PASID: 72, ENQCMDS_PASID: 73,
  BUS_LOCK: 74, NOTIFY: 75,
};

/** Exit-reason bits above the basic reason (SDM vol. 3C, 25.9.1 "Basic VM-Exit Information"). */
export const vmxExitReasonBits = {
  /** Bit 27: the exit was incident to enclave mode. */
  VMX_EXIT_REASON_FROM_ENCLAVE: 0x08000000,
  /** Bit 31: VM-entry failure. */
  VMX_EXIT_REASONS_FAILED_VMENTRY: 0x80000000,
};

/** VM-instruction error numbers (SDM vol. 3C, section 31.4, table 31-1); 14, 21 and 27 are
 *  reserved. Names as Linux KVM's VMXERR_*. */
export const vmxInstructionErrors = {
  VMCALL_IN_VMX_ROOT_OPERATION: 1, VMCLEAR_INVALID_ADDRESS: 2, VMCLEAR_VMXON_POINTER: 3,
  VMLAUNCH_NONCLEAR_VMCS: 4, VMRESUME_NONLAUNCHED_VMCS: 5, VMRESUME_AFTER_VMXOFF: 6,
  ENTRY_INVALID_CONTROL_FIELD: 7, ENTRY_INVALID_HOST_STATE_FIELD: 8,
  VMPTRLD_INVALID_ADDRESS: 9, VMPTRLD_VMXON_POINTER: 10,
  VMPTRLD_INCORRECT_VMCS_REVISION_ID: 11, UNSUPPORTED_VMCS_COMPONENT: 12,
  VMWRITE_READ_ONLY_VMCS_COMPONENT: 13, VMXON_IN_VMX_ROOT_OPERATION: 15,
  ENTRY_INVALID_EXECUTIVE_VMCS_POINTER: 16, ENTRY_NONLAUNCHED_EXECUTIVE_VMCS: 17,
  ENTRY_EXECUTIVE_VMCS_POINTER_NOT_VMXON_POINTER: 18, VMCALL_NONCLEAR_VMCS: 19,
  VMCALL_INVALID_VM_EXIT_CONTROL_FIELDS: 20, VMCALL_INCORRECT_MSEG_REVISION_ID: 22,
  VMXOFF_UNDER_DUAL_MONITOR_TREATMENT_OF_SMIS_AND_SMM: 23,
  VMCALL_INVALID_SMM_MONITOR_FEATURES: 24,
  ENTRY_INVALID_VM_EXECUTION_CONTROL_FIELDS_IN_EXECUTIVE_VMCS: 25,
  ENTRY_EVENTS_BLOCKED_BY_MOV_SS: 26, INVALID_OPERAND_TO_INVEPT_INVVPID: 28,
};

/** MSR indices (SDM vol. 4, table 2-2; the VMX capability MSRs are described in vol. 3D,
 *  appendix A). IA32_FEATURE_CONTROL bits from vol. 3C, 24.7 "Enabling and Entering VMX
 *  Operation". */
export const vmxMsrs = {
  IA32_FEATURE_CONTROL: 0x3a,
  IA32_VMX_BASIC: 0x480, IA32_VMX_PINBASED_CTLS: 0x481, IA32_VMX_PROCBASED_CTLS: 0x482,
  IA32_VMX_EXIT_CTLS: 0x483, IA32_VMX_ENTRY_CTLS: 0x484, IA32_VMX_MISC: 0x485,
  IA32_VMX_CR0_FIXED0: 0x486, IA32_VMX_CR0_FIXED1: 0x487, IA32_VMX_CR4_FIXED0: 0x488,
  IA32_VMX_CR4_FIXED1: 0x489, IA32_VMX_VMCS_ENUM: 0x48a, IA32_VMX_PROCBASED_CTLS2: 0x48b,
  IA32_VMX_EPT_VPID_CAP: 0x48c, IA32_VMX_TRUE_PINBASED_CTLS: 0x48d,
  IA32_VMX_TRUE_PROCBASED_CTLS: 0x48e, IA32_VMX_TRUE_EXIT_CTLS: 0x48f,
  IA32_VMX_TRUE_ENTRY_CTLS: 0x490, IA32_VMX_VMFUNC: 0x491,
};

/** IA32_FEATURE_CONTROL bits (SDM vol. 3C, 24.7). */
export const featureControlBits = {
  FEATURE_CONTROL_LOCKED: 1 << 0,
  FEATURE_CONTROL_VMX_INSIDE_SMX: 1 << 1,
  FEATURE_CONTROL_VMX_OUTSIDE_SMX: 1 << 2,
};
