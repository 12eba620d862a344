/**
 * The operations a virtualization mode supplies to the vCPU, as KVM's `kvm_x86_ops` keeps
 * vmx.c and svm.c behind one table: the exit loop, the device model, interrupt delivery
 * and HLT are written once in ../vcpu.ts and call these.
 */
import type { Exit } from '../../core/types.js';
import type { VmMode } from '../options.js';
import type { PvStats } from '../pv/domain.js';
import type { ShadowStats } from '../shadow/mmu.js';

export type { ShadowStats };

/** The counters of a hardware-assisted mode (vtx, svm), for --stats. */
export interface VmmStats {
  mode: VmMode;
  /** 'shadow': the VMM's shadow tables; 'direct' in mode pv (the guest's own tables,
   *  validated). */
  paging: 'nested' | 'shadow' | 'direct';
  tags: boolean;
  pwc: boolean;
  ntlb: boolean;
  /** VM entries (host-owned: the VMM's vmxHostEnter / svmHostEnter calls that entered). */
  vmEntries: number;
  /** VM exits to the VMM, all reasons. */
  vmExits: number;
  /** VM exits by basic reason, named as the SDM (VMX, appendix C) or the APM (SVM,
   *  appendix C) names them, e.g. "CPUID (10)", "IOIO (0x7b)". */
  exitsByReason: Record<string, number>;
  /** VMCS field reads and writes (VMCB fields for svm) the core counted, and per exit. */
  vmcsReads: number;
  vmcsWrites: number;
  vmcsReadsPerExit: number;
  vmcsWritesPerExit: number;
  /** Two-dimensional walks and their memory references (guest walk x nested walk). */
  nestedWalks: number;
  nestedWalkRefs: number;
  pwcHits: number; pwcMisses: number;
  ntlbHits: number; ntlbMisses: number;
  /** Whole-TLB flushes (the core's tlbFlushes counter) and entries kept across a world
   *  switch under another tag. */
  tlbFlushes: number;
  tlbSurvivors: number;
  /** Guest instructions the VMM emulated (I/O, MMIO, MSRs, CPUID). */
  emulated: number;
  /** EPT/NPT violations, and the pages of guest RAM the VMM mapped on them. */
  violations: number;
  pagesMapped: number;
  /** Interrupts the VMM injected through event injection (VM-entry interruption
   *  information / EVENTINJ), and events it re-injected after an exit during delivery. */
  eventsInjected: number;
  eventsReinjected: number;
  /** Simulated time (a cost profile): the guest's TSC reads the VMM answered, with the
   *  entries that followed them and the field accesses of their handling. The cost model
   *  leaves these out (bindings/vmm/cost/counters.ts). */
  tsc?: { exits: number; entries: number; fieldReads: number; fieldWrites: number };
  /** Mode pv: the paravirtual interface's counters. */
  pv?: PvStats;
  /** Shadow paging's counters (paging 'shadow' only): bindings/vmm/shadow/mmu.ts. */
  shadow?: ShadowStats;
}

export interface ModeOps {
  readonly mode: VmMode;
  /**
   * Runs the guest for at most `budget` instructions. The exits the mode completes itself
   * (CPUID, MSRs, CR accesses, EPT/NPT violations on RAM) never leave it; what needs the
   * platform returns as the core's Exit: 'io' and 'mmio' for the device model, 'hlt',
   * 'irq-window', 'shutdown' (triple fault), 'invalid' (a failed entry).
   */
  run(budget: number): Exit;
  /** The guest's RFLAGS.IF (a HLT with interrupts off ends the run). */
  interruptsEnabled(): boolean;
  /** True when an external interrupt can be given to the guest now. */
  canInjectInterrupt(): boolean;
  /** Gives external interrupt `vector` to the guest (the caller checked canInject). */
  injectInterrupt(vector: number): void;
  /** Asks for an 'irq-window' return as soon as the guest can take an interrupt. */
  requestInterruptWindow(on: boolean): void;
  /** Completes an IN the mode asked the device model for itself (vtx/svm fast PIO): true
   *  when it took the value, false when the core's own exit waits for it (completeIo). */
  completeIo?(value: number): boolean;
  /** The mode's counters; undefined in native mode. */
  stats(): VmmStats | undefined;
  /** vtx/svm: simulated time on, the VMM answering the guest's TSC reads from `source`
   *  (native and pv: the core exits to the vCPU loop instead, Core.setTscExit). */
  setTscSource?(source: () => bigint): void;
  /** vtx/svm: the VMM's own state for a snapshot (with Core.saveVirtState, the state block
   *  and RAM), and back into a VMM of the same mode and options made on a fresh core. */
  saveVmmState?(): VmmState;
  loadVmmState?(s: VmmState): void;
}

/** The TypeScript VMM's state (JSON-safe): its scalars (in the guest, emulating, counters,
 *  the vendor's cached controls), exits by reason, how the VM ended, its nested tables. */
export interface VmmState {
  mode: VmMode;
  fields: Record<string, number | boolean>;
  byReason: [number, number][];
  ended: { reason: string; why?: string } | null;
  tables: import('../nested-paging.js').NestedTablesState;
}
