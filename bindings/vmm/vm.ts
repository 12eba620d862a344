/**
 * A virtual machine: one WebAssembly instance (its RAM, its CPU, its VMM structures), the
 * PC platform around it (bindings/machine: devices, clock, firmware or kernel), and its
 * vCPU, which runs in the VM's mode. A VM that ends (triple fault, invalid state, power
 * off) ends alone: its instance is its own.
 */
import { Machine, type MachineConfig, type MachineStats } from '../machine/machine.js';
import type { VCpu, StopReason } from './vcpu.js';
import type { ResolvedVmmOptions } from './options.js';

export interface VmOptions extends MachineConfig {
  /** A name for listings and messages (default "vm<N>" in its hypervisor). */
  name?: string;
}

/** Stop reasons after which a VM cannot run again. */
const FINAL: ReadonlySet<StopReason['kind']> =
  new Set(['exit', 'shutdown', 'reset', 'poweroff', 'halted', 'invalid']);

export class Vm {
  private end: StopReason | undefined;

  private constructor(readonly name: string, readonly machine: Machine) {}

  /** Creates the VM's instance, boots its platform and builds its mode's structures. */
  static async create(options: VmOptions, name = options.name ?? 'vm'): Promise<Vm> {
    return new Vm(name, await Machine.create(options));
  }

  /** The VM's mode, paging and caches, defaults filled in. */
  get options(): ResolvedVmmOptions { return this.machine.vmmOptions; }

  /** Its vCPUs (the platform runs one). */
  get vcpus(): readonly VCpu[] { return [this.machine.vcpu]; }

  /** Why the VM ended, once it has (it runs no more then). */
  get ended(): StopReason | undefined { return this.end; }

  /**
   * Runs until the guest stops, `maxInstructions` more have executed, or (halted) virtual
   * time reaches `untilNs`; as Machine.run. A final stop ends the VM; later runs return it.
   */
  run(maxInstructions = Infinity, untilNs = Infinity): StopReason {
    if (this.end) return this.end;
    const stop = this.machine.run(maxInstructions, untilNs);
    if (FINAL.has(stop.kind)) this.end = stop;
    return stop;
  }

  /** Ends the VM with `reason` (a host-side failure of its own). */
  kill(reason: StopReason): void {
    this.end ??= reason;
  }

  stats(): MachineStats { return this.machine.stats(); }
}
