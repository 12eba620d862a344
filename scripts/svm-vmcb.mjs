// The one source of the AMD-V (SVM) architectural numbers shared by the core (assembly/) and
// the host (bindings/): the VMCB layout, its bit fields, the exit codes and the SVM MSRs.
// scripts/gen-vmm-tables.mjs checks the layout (bounds, alignment, no overlap) and writes
// assembly/generated/svm.ts and bindings/generated/svm.ts.
//
// Sources (AMD64 Architecture Programmer's Manual, vol. 2, "System Programming", pub. 24593):
//   appendix B "Layout of VMCB": table B-1 "VMCB Layout, Control Area" and table B-2
//     "VMCB Layout, State Save Area" (state save offsets there are relative to 400h; here
//     they are absolute, from the start of the 4-KB VMCB);
//   appendix C "SVM Intercept Exit Codes", table C-1;
//   section 15.30 "SVM-Related MSRs" (VM_CR, VM_HSAVE_PA) and 3.1.7 "Extended Feature Enable
//     Register (EFER)" (SVME, bit 12).

/** Start of the state save area; the control area is 000h-3FFh (APM vol. 2, appendix B). */
export const VMCB_SAVE_BASE = 0x400;
/** A VMCB is one 4-KB page (APM vol. 2, 15.5.1). */
export const VMCB_SIZE = 0x1000;

/** Control area fields (APM vol. 2, table B-1): [NAME, offset, size in bytes]. */
export const vmcbControl = [
  /** Bits 15:0 intercept reads of CR0-CR15, bits 31:16 writes. */
  ['INTERCEPT_CR', 0x000, 4],
  /** Bits 15:0 intercept reads of DR0-DR15, bits 31:16 writes. */
  ['INTERCEPT_DR', 0x004, 4],
  /** Bit n intercepts exception vector n. */
  ['INTERCEPT_EXCEPTIONS', 0x008, 4],
  /** INTR, NMI, SMI, INIT, VINTR, CR0 selective write, ..., FERR_FREEZE, shutdown. */
  ['INTERCEPT_MISC1', 0x00c, 4],
  /** VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, RDTSCP, ICEBP, WBINVD, ... */
  ['INTERCEPT_MISC2', 0x010, 4],
  ['PAUSE_FILTER_THRESHOLD', 0x03c, 2],
  ['PAUSE_FILTER_COUNT', 0x03e, 2],
  ['IOPM_BASE_PA', 0x040, 8],
  ['MSRPM_BASE_PA', 0x048, 8],
  ['TSC_OFFSET', 0x050, 8],
  ['GUEST_ASID', 0x058, 4],
  ['TLB_CONTROL', 0x05c, 1],
  /** V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING (bits 31:0 of the 8-byte field). */
  ['VINTR_CONTROL', 0x060, 4],
  /** V_INTR_VECTOR (bits 39:32 of the same 8-byte field). */
  ['VINTR_VECTOR', 0x064, 4],
  /** Bit 0 INTERRUPT_SHADOW, bit 1 GUEST_INTERRUPT_MASK. */
  ['INTERRUPT_SHADOW', 0x068, 8],
  ['EXITCODE', 0x070, 8],
  ['EXITINFO1', 0x078, 8],
  ['EXITINFO2', 0x080, 8],
  /** EXITINTINFO: bits 31:0 the event, bits 63:32 its error code. */
  ['EXITINTINFO', 0x088, 4],
  ['EXITINTINFO_ERROR_CODE', 0x08c, 4],
  /** Bit 0 NP_ENABLE. */
  ['NP_CONTROL', 0x090, 8],
  /** EVENTINJ: bits 31:0 the event, bits 63:32 its error code. */
  ['EVENTINJ', 0x0a8, 4],
  ['EVENTINJ_ERROR_CODE', 0x0ac, 4],
  ['N_CR3', 0x0b0, 8],
  /** Bit 0 LBR_VIRTUALIZATION_ENABLE, bit 1 virtualized VMSAVE/VMLOAD. */
  ['LBR_VIRTUALIZATION', 0x0b8, 8],
  ['VMCB_CLEAN', 0x0c0, 4],
  ['NRIP', 0x0c8, 8],
  ['GUEST_INSN_BYTES_FETCHED', 0x0d0, 1],
  ['GUEST_INSN_BYTES', 0x0d1, 15],
];

/** Segment register layout in the state save area (APM vol. 2, table B-2): selector,
 *  attributes (the descriptor's bits 8-15 and 20-23 packed into 12 bits), limit, base. */
export const vmcbSegment = [['SELECTOR', 0, 2], ['ATTRIB', 2, 2], ['LIMIT', 4, 4], ['BASE', 8, 8]];
/** Segments in the state save area, 16 bytes each from 400h; GDTR and IDTR use only
 *  the limit and base. */
export const vmcbSegments = [
  ['ES', 0x400], ['CS', 0x410], ['SS', 0x420], ['DS', 0x430], ['FS', 0x440], ['GS', 0x450],
  ['GDTR', 0x460], ['LDTR', 0x470], ['IDTR', 0x480], ['TR', 0x490],
];

/** The rest of the state save area (APM vol. 2, table B-2): [NAME, offset, size]. */
export const vmcbSave = [
  ['CPL', 0x4cb, 1],
  ['EFER', 0x4d0, 8],
  ['CR4', 0x548, 8], ['CR3', 0x550, 8], ['CR0', 0x558, 8],
  ['DR7', 0x560, 8], ['DR6', 0x568, 8],
  ['RFLAGS', 0x570, 8], ['RIP', 0x578, 8],
  ['RSP', 0x5d8, 8],
  ['RAX', 0x5f8, 8],
  ['STAR', 0x600, 8], ['LSTAR', 0x608, 8], ['CSTAR', 0x610, 8], ['SFMASK', 0x618, 8],
  ['KERNEL_GS_BASE', 0x620, 8],
  ['SYSENTER_CS', 0x628, 8], ['SYSENTER_ESP', 0x630, 8], ['SYSENTER_EIP', 0x638, 8],
  ['CR2', 0x640, 8],
  ['G_PAT', 0x668, 8], ['DBGCTL', 0x670, 8],
  ['BR_FROM', 0x678, 8], ['BR_TO', 0x680, 8],
  ['LASTEXCPFROM', 0x688, 8], ['LASTEXCPTO', 0x690, 8],
];

/** Bit fields inside control area fields (APM vol. 2, table B-1; 15.21 "Interrupt and
 *  Local APIC Support", 15.20 "Event Injection", 15.25 "Nested Paging", 15.24 "Last Branch
 *  Record Virtualization"): [NAME, field, lowest bit, width in bits]. */
export const vmcbBits = [
  /** Bits 3:0 hold the virtual TPR; bits 7:4 are SBZ. */
  ['V_TPR', 'VINTR_CONTROL', 0, 4],
  ['V_IRQ', 'VINTR_CONTROL', 8, 1],
  ['V_INTR_PRIO', 'VINTR_CONTROL', 16, 4],
  ['V_IGN_TPR', 'VINTR_CONTROL', 20, 1],
  ['V_INTR_MASKING', 'VINTR_CONTROL', 24, 1],
  ['V_INTR_VECTOR', 'VINTR_VECTOR', 0, 8],
  ['INTERRUPT_SHADOW_BIT', 'INTERRUPT_SHADOW', 0, 1],
  ['NP_ENABLE', 'NP_CONTROL', 0, 1],
  ['LBR_VIRTUALIZATION_ENABLE', 'LBR_VIRTUALIZATION', 0, 1],
  /** EVENTINJ and EXITINTINFO share the format: vector, type, error-code valid, valid. */
  ['EVENT_VECTOR', 'EVENTINJ', 0, 8],
  ['EVENT_TYPE', 'EVENTINJ', 8, 3],
  ['EVENT_EV', 'EVENTINJ', 11, 1],
  ['EVENT_V', 'EVENTINJ', 31, 1],
];

/** TLB_CONTROL values (APM vol. 2, 15.16.1 "TLB Flush"). */
export const tlbControl = {
  TLB_CONTROL_DO_NOTHING: 0, TLB_CONTROL_FLUSH_ALL_ASID: 1,
  TLB_CONTROL_FLUSH_ASID: 3, TLB_CONTROL_FLUSH_ASID_LOCAL: 7,
};

/** EVENTINJ / EXITINTINFO types (APM vol. 2, 15.20). */
export const eventTypes = {
  EVENT_TYPE_INTR: 0, EVENT_TYPE_NMI: 2, EVENT_TYPE_EXCEPTION: 3, EVENT_TYPE_SOFT_INT: 4,
};

/** VMCB clean bits (APM vol. 2, 15.15.3, table 15-9): bit numbers in VMCB_CLEAN. */
export const vmcbCleanBits = {
  CLEAN_I: 0, CLEAN_IOPM: 1, CLEAN_ASID: 2, CLEAN_TPR: 3, CLEAN_NP: 4, CLEAN_CRX: 5,
  CLEAN_DRX: 6, CLEAN_DT: 7, CLEAN_SEG: 8, CLEAN_CR2: 9, CLEAN_LBR: 10, CLEAN_AVIC: 11,
};

/** Exit codes written to EXITCODE (APM vol. 2, appendix C, table C-1), as numbers. Ranges
 *  (CRn/DRn reads and writes, exceptions, CRn write traps) are listed in full. Names as
 *  Linux KVM's SVM_EXIT_*. */
export const svmExitCodes = (() => {
  const c = {};
  for (let n = 0; n < 16; n++) {
    c[`READ_CR${n}`] = 0x000 + n;
    c[`WRITE_CR${n}`] = 0x010 + n;
    c[`READ_DR${n}`] = 0x020 + n;
    c[`WRITE_DR${n}`] = 0x030 + n;
  }
  for (let n = 0; n < 32; n++) c[`EXCP${n}`] = 0x040 + n;
  Object.assign(c, {
    INTR: 0x060, NMI: 0x061, SMI: 0x062, INIT: 0x063, VINTR: 0x064, CR0_SEL_WRITE: 0x065,
    IDTR_READ: 0x066, GDTR_READ: 0x067, LDTR_READ: 0x068, TR_READ: 0x069,
    IDTR_WRITE: 0x06a, GDTR_WRITE: 0x06b, LDTR_WRITE: 0x06c, TR_WRITE: 0x06d,
    RDTSC: 0x06e, RDPMC: 0x06f, PUSHF: 0x070, POPF: 0x071, CPUID: 0x072, RSM: 0x073,
    IRET: 0x074, SWINT: 0x075, INVD: 0x076, PAUSE: 0x077, HLT: 0x078, INVLPG: 0x079,
    INVLPGA: 0x07a, IOIO: 0x07b, MSR: 0x07c, TASK_SWITCH: 0x07d, FERR_FREEZE: 0x07e,
    SHUTDOWN: 0x07f, VMRUN: 0x080, VMMCALL: 0x081, VMLOAD: 0x082, VMSAVE: 0x083,
    STGI: 0x084, CLGI: 0x085, SKINIT: 0x086, RDTSCP: 0x087, ICEBP: 0x088, WBINVD: 0x089,
    MONITOR: 0x08a, MWAIT: 0x08b, MWAIT_COND: 0x08c, XSETBV: 0x08d, RDPRU: 0x08e,
    EFER_WRITE_TRAP: 0x08f,
  });
  for (let n = 0; n < 16; n++) c[`CR${n}_WRITE_TRAP`] = 0x090 + n;
  Object.assign(c, {
    INVLPGB: 0x0a0, INVLPGB_ILLEGAL: 0x0a1, INVPCID: 0x0a2, MCOMMIT: 0x0a3, TLBSYNC: 0x0a4,
    /** Nested page fault: EXITINFO1 the #PF-style error code, EXITINFO2 the guest-physical
     *  address (APM vol. 2, 15.25.6). */
    NPF: 0x400, AVIC_INCOMPLETE_IPI: 0x401, AVIC_UNACCELERATED_ACCESS: 0x402, VMGEXIT: 0x403,
    /** VMEXIT_INVALID: VMRUN found an illegal guest state (-1 in the 64-bit EXITCODE). */
    ERR: -1,
  });
  return c;
})();

/** SVM MSRs and bits (APM vol. 2, 15.30 and 3.1.7). */
export const svmMsrs = {
  MSR_EFER: 0xc0000080,
  MSR_VM_CR: 0xc0010114,
  MSR_VM_HSAVE_PA: 0xc0010117,
};
export const svmMsrBits = {
  /** EFER.SVME, bit 12: SVM enable. */
  EFER_SVME_BIT: 12,
  /** VM_CR bits: 3 SVM_LOCK, 4 SVMDIS. */
  VM_CR_LOCK_BIT: 3,
  VM_CR_SVMDIS_BIT: 4,
};
