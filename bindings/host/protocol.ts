/** The messages between a host and one VM's worker thread. */
import type { StopReason } from '../vmm/vcpu.js';
import type { MachineStats } from '../machine/machine.js';

/** What a VM boots, as the worker resolves it (paths are absolute by then). */
export type VmSource =
  | { kind: 'jeos'; cmdline?: string }
  | { kind: 'config'; path: string }
  | { kind: 'kernel'; path: string; cmdline?: string }
  | { kind: 'snapshot'; path: string };

export interface WorkerInit {
  name: string;
  source: VmSource;
  /** Guest RAM for jeos and kernel sources (a config or snapshot says its own). */
  ramBytes: number;
  /** COM1 input may come (a console is attachable): a halted guest waits in real time. */
  interactive: boolean;
}

export type ToVmWorker =
  | { type: 'init'; init: WorkerInit }
  | { type: 'run'; budget: number }
  | { type: 'input'; bytes: Uint8Array }
  | { type: 'stats' }
  | { type: 'save' };

export type FromVmWorker =
  | { type: 'ready'; ramBytes: number; what: string }
  | { type: 'failed'; error: string }
  | {
      type: 'ran'; work: number; stop: StopReason; halted: boolean; instructions: number;
      virtualNs: number; out?: Uint8Array;
      /** A halted interactive guest with nothing due before the wall clock catches up. */
      idle: boolean;
    }
  | { type: 'stats'; stats: MachineStats }
  | { type: 'saved'; bytes?: Uint8Array; error?: string };
