/**
 * The counts of a machine's stats that the cost model prices: used by `wasmvisor bench
 * --workloads` and by simulated time (a VM created with a profile, whose RDTSC reads
 * simulate(costCounters(stats), profile)). Natively the TSC exits of simulated time are
 * not counted at all (only port I/O is); under vtx/svm they are subtracted (vmm.tsc).
 */
import type { MachineStats } from '../../machine/machine.js';
import type { CostCounters } from './model.js';

/** The counts of a machine's stats that the cost model prices. */
export function costCounters(s: MachineStats): CostCounters {
  const c = s.core;
  const io = s.exits.io ?? 0;
  const v = s.vmm;
  // pv: every pass through the VMM (a hypercall, a bounced trap, an upcall) is priced as
  // one hypercall; the guest's own events are the CPU's deliveries.
  if (v?.pv) {
    const p = v.pv;
    const hc = Object.values(p.hypercalls).reduce((a, b) => a + b, 0);
    const traps = Object.values(p.traps).reduce((a, b) => a + b, 0);
    return {
      instructions: c.instructions,
      hypercalls: hc - (p.multicallElements ?? 0) + traps + p.upcalls,
      walkRefs: c.walkMemRefs,
      eventsDelivered: c.interrupts + c.exceptions,
    };
  }
  if (!v) {
    return {
      instructions: c.instructions,
      // Natively a port access is a bus cycle of the device.
      nativePortIo: io,
      walkRefs: c.walkMemRefs,
      eventsDelivered: c.interrupts + c.exceptions,
    };
  }
  const t = v.tsc;
  // Under a VMM the device model answers the accesses; a two-dimensional walk makes the
  // guest's own references (walkMemRefs, as natively) and the nested ones (nestedWalkRefs).
  // The core counts every interrupt and exception it delivers, in non-root operation too
  // (the VMM's injections among them), as natively.
  return {
    instructions: c.instructions,
    // Simulated time's own TSC exits (vmm.tsc) are left out: the guest reads the cycles
    // it would have run without them.
    vmEntries: v.vmEntries - (t?.entries ?? 0),
    vmExits: v.vmExits - (t?.exits ?? 0),
    vmcsReads: v.vmcsReads - (t?.fieldReads ?? 0),
    vmcsWrites: v.vmcsWrites - (t?.fieldWrites ?? 0),
    deviceAccesses: io + (s.exits.mmio ?? 0),
    emulated: v.emulated,
    walkRefs: c.walkMemRefs,
    nestedRefs: v.nestedWalkRefs,
    eventsDelivered: c.interrupts + c.exceptions,
    // Shadow paging: the walks are of the shadow tables (the CPU's own: walkRefs above).
    ...(v.shadow ? {
      shadowTraces: v.shadow.traceFaults,
      shadowPagesBuilt: v.shadow.pagesBuilt,
      cr3Switches: v.shadow.cr3Switches,
    } : {}),
  };
}
