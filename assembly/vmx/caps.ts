// The VMX capability MSRs (Intel SDM vol. 3D, appendix A), made to say exactly what the
// VMX code implements; VM entry checks the controls against the same values (SDM vol. 3C,
// 27.2.1.1). Each control MSR reports its allowed-0 settings in bits 31:0 (a 1 there: the
// control must be 1) and its allowed-1 settings in bits 63:32 (a 0 there: it must be 0).
//
// IA32_VMX_BASIC bit 55 is 1: the IA32_VMX_TRUE_*_CTLS MSRs exist (A.3.1 .. A.5). They
// differ from the plain ones only for the processor-based controls, where "CR3-load
// exiting" and "CR3-store exiting" (default 1) may be 0; entry checks use the TRUE values.

/** Pin-based controls (A.3.1): default-1 bits 1, 2, 4; supported: external-interrupt
 *  exiting (0), NMI exiting (3), virtual NMIs (5), activate VMX-preemption timer (6). */
export const PIN_DEFAULT1: u32 = 0x16;
export const PIN_ALLOWED1: u32 = 0x16 | 0x01 | 0x08 | 0x20 | 0x40;
/** Primary processor-based controls (A.3.2): default-1 bits 1, 4-6, 8, 13-16, 26;
 *  supported besides: interrupt-window exiting 2, use TSC offsetting 3, HLT exiting 7,
 *  INVLPG 9, MWAIT 10, RDPMC 11, RDTSC 12, CR3-load 15, CR3-store 16, NMI-window 22,
 *  MOV-DR 23, unconditional I/O 24, use I/O bitmaps 25, monitor trap flag 27, use MSR
 *  bitmaps 28, MONITOR 29, PAUSE 30, activate secondary controls 31. Not: CR8-load/store
 *  17/18 (no IA-32e mode), use TPR shadow 21. */
export const PROC_DEFAULT1: u32 = 0x0401e172;
export const PROC_TRUE_DEFAULT1: u32 = 0x04006172;
export const PROC_ALLOWED1: u32 = PROC_DEFAULT1 | (1 << 2) | (1 << 3) | (1 << 7) | (1 << 9) |
  (1 << 10) | (1 << 11) | (1 << 12) | (1 << 22) | (1 << 23) | (1 << 24) | (1 << 25) |
  (1 << 27) | (1 << 28) | (1 << 29) | (1 << 30) | (1 << 31);
/** Secondary processor-based controls (A.3.3): enable EPT 1, descriptor-table exiting 2,
 *  enable VPID 5, WBINVD exiting 6, unrestricted guest 7. */
export const PROC2_ALLOWED1: u32 = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 6) | (1 << 7);
/** VM-exit controls (A.4): default-1 bits 0-8, 10, 11, 13, 14, 16, 17; supported besides:
 *  acknowledge interrupt on exit 15, save VMX-preemption timer value 22. Not: host address-
 *  space size 9 (no IA-32e mode), PAT/EFER/PERF_GLOBAL_CTRL (no such MSRs). */
export const EXIT_DEFAULT1: u32 = 0x00036dff;
export const EXIT_ALLOWED1: u32 = EXIT_DEFAULT1 | (1 << 15) | (1 << 22);
/** VM-entry controls (A.5): default-1 bits 0-8, 12; nothing else (IA-32e mode guest 9,
 *  SMM 10/11, PERF_GLOBAL_CTRL/PAT/EFER loading 13-15 are not supported). */
export const ENTRY_DEFAULT1: u32 = 0x000011ff;
export const ENTRY_ALLOWED1: u32 = ENTRY_DEFAULT1;
/** IA32_VMX_MISC (A.6): preemption-timer rate 4:0 = 0 (the timer counts every TSC tick),
 *  activity state HLT supported (bit 6; shutdown and wait-for-SIPI are not), 4 CR3-target
 *  values (24:16), at most 512 MSRs per list (27:25 = 0), MSEG revision 0. */
export const VMX_MISC: u32 = 0 | (1 << 6) | (4 << 16);
/** IA32_VMX_EPT_VPID_CAP (A.10): page-walk length 4 (bit 6), WB memory type (14) and UC
 *  (8), 2 MiB (16) and 1 GiB (17) pages, INVEPT (20), accessed and dirty flags (21),
 *  single-context (25) and all-context (26) INVEPT; INVVPID (32), individual-address (40),
 *  single-context (41), all-context (42), single-context-retaining-globals (43). Not:
 *  execute-only translations (bit 0). */
export const EPT_CAP_LO: u32 = (1 << 6) | (1 << 8) | (1 << 14) | (1 << 16) | (1 << 17) |
  (1 << 20) | (1 << 21) | (1 << 25) | (1 << 26);
export const EPT_CAP_HI: u32 = 1 | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11);
