/** The messages between the page and a VM's worker. */

/** What to boot: the bundled JeOS (with its command line) or a file the user dropped. */
export type BootSource =
  | { kind: 'jeos'; cmdline: string }
  | { kind: 'file'; name: string; bytes: ArrayBuffer; cmdline: string };

export interface BootRequest {
  source: BootSource;
  /** A mode of the package's MODES, and the user's choice for it. */
  mode: string;
  paging?: string;
  switches?: Record<string, boolean>;
  ramMiB: number;
  /** A local APIC and an I/O APIC in front of the 8259 pair (Machine.create's `apic`). */
  apic?: boolean;
}

export type ToWorker =
  | { type: 'boot'; request: BootRequest }
  | { type: 'input'; bytes: Uint8Array }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'reset' }
  /** Snapshots (docs/snapshots.md): save the VM between two slices; restore one from a file. */
  | { type: 'save' }
  | { type: 'restore'; name: string; bytes: ArrayBuffer };

/** A sample of the machine's counters (cumulative since boot). */
export interface Sample {
  /** Wall-clock milliseconds since boot, running time only (pauses left out). */
  wallMs: number;
  virtualNs: number;
  haltedNs: number;
  instructions: number;
  exits: Record<string, number>;
  interruptsInjected: number;
  core: Record<string, number>;
  /** The counts the cost model prices (package's costCounters). */
  costCounters: Record<string, number>;
  /** Any other count the machine's stats carry (new modes add theirs), flattened:
   *  `name` or `name.key`. */
  extra: Record<string, number>;
}

/** One workload of JeOS, measured between the end of the line before and its own line. */
export interface WorkloadSample {
  workload: string;
  iterations: number;
  /** The counters the cost model prices, as the difference over the workload. */
  counters: Record<string, number>;
  exits: number;
  tlbMisses: number;
  /** Cycles JeOS measured itself (virtual TSC) per iteration. */
  guestPerIter?: number;
  status: string;
}

export type FromWorker =
  | { type: 'booted'; what: string }
  | { type: 'out'; bytes: Uint8Array }
  | { type: 'sample'; sample: Sample }
  | { type: 'workload'; result: WorkloadSample }
  | { type: 'state'; state: 'running' | 'paused' | 'waiting' }
  | { type: 'stopped'; reason: string; detail: string; abnormal: boolean }
  | { type: 'error'; message: string }
  | { type: 'snapshot'; bytes: Uint8Array };
