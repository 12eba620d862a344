/**
 * The hypervisor: the VMs of one host process, each its own WebAssembly instance, run in
 * turn. A VM that fails (a triple fault, an invalid state, even an exception from its own
 * core) ends with its reason; the hypervisor and the other VMs go on.
 */
import { Vm, type VmOptions } from './vm.js';
import type { StopReason } from './vcpu.js';

export interface HypervisorRunOptions {
  /** Instructions a VM runs before the next VM's turn (default 1,000,000). */
  slice?: number;
  /** Instructions each VM may run in this call (default: until it ends). */
  maxInstructions?: number;
}

export class Hypervisor {
  private readonly list: Vm[] = [];

  /** The VMs, in creation order (ended ones included until removed). */
  get vms(): readonly Vm[] { return this.list; }

  /** Creates and boots a VM (see VmOptions; `mode` chooses native, vtx or svm). */
  async createVm(options: VmOptions): Promise<Vm> {
    const vm = await Vm.create(options, options.name ?? `vm${this.list.length}`);
    this.list.push(vm);
    return vm;
  }

  /** Forgets a VM (its instance is garbage once unreferenced). */
  removeVm(vm: Vm): void {
    const i = this.list.indexOf(vm);
    if (i >= 0) this.list.splice(i, 1);
  }

  /**
   * Runs the VMs round-robin, a slice each, until every VM has ended or run
   * `maxInstructions`, or none can make progress (halted, waiting for input). Returns each
   * VM's last stop reason.
   */
  run(options: HypervisorRunOptions = {}): Map<Vm, StopReason> {
    const slice = options.slice ?? 1_000_000;
    if (!Number.isInteger(slice) || slice < 1) {
      throw new RangeError(`slice must be a positive integer, got ${slice}`);
    }
    const budget = options.maxInstructions ?? Infinity;
    const stops = new Map<Vm, StopReason>();
    const used = new Map<Vm, number>();
    for (let active = true; active;) {
      active = false;
      let progress = false;
      for (const vm of this.list) {
        if (vm.ended) { stops.set(vm, vm.ended); continue; }
        const left = budget - (used.get(vm) ?? 0);
        if (left <= 0) continue;
        const before = vm.machine.workDone;
        let stop: StopReason;
        try {
          stop = vm.run(Math.min(slice, left));
        } catch (e) {
          // The VM's own instance failed: it ends, the others go on.
          vm.kill({ kind: 'invalid', why: `host error in ${vm.name}: ${(e as Error).message}` });
          stop = vm.ended!;
        }
        const ran = vm.machine.workDone - before;
        used.set(vm, (used.get(vm) ?? 0) + ran);
        stops.set(vm, stop);
        if (ran > 0 || vm.ended) progress = true;
        if (!vm.ended) active = true;
      }
      // VMs that only wait (a halted guest waiting for input) end the call.
      if (!progress) break;
    }
    return stops;
  }
}
