/**
 * The cost model: simulated cycles as a pure function of a run's counters and a CPU
 * profile. Simulated cycles explain a technique (what the published papers measured);
 * wall-clock time is what this emulator achieves, and is never an input here.
 */
import { COST_KEYS, type CostKey, type CpuProfile } from './profiles.js';

/** The counts the model prices. Every field is a count of events in one run (or a
 *  difference of two snapshots); absent fields count as 0. */
export interface CostCounters {
  /** Guest instructions retired by the CPU (native, non-root or translated code). */
  readonly instructions?: number;
  /** VM entries and VM exits (VMX or SVM, by the VMM or by a guest hypervisor). */
  readonly vmEntries?: number;
  readonly vmExits?: number;
  /** VMCS (or VMCB) field reads and writes by the VMM. */
  readonly vmcsReads?: number;
  readonly vmcsWrites?: number;
  /** Accesses answered by the device model (port I/O and MMIO) in a virtualized mode. */
  readonly deviceAccesses?: number;
  /** Port I/O instructions that reach a real device (native mode). */
  readonly nativePortIo?: number;
  /** Instructions the VMM decoded and emulated (KVM's emulator, trap-and-emulate). */
  readonly emulated?: number;
  /** Memory references of page walks: guest dimension and nested dimension. */
  readonly walkRefs?: number;
  readonly nestedRefs?: number;
  /** Guest instructions translated by the binary translator. */
  readonly translated?: number;
  /** Callouts from the translation cache to the VMM, and instructions emulated inside it. */
  readonly callouts?: number;
  readonly tcEmulated?: number;
  /** Hypercalls (paravirtualization). */
  readonly hypercalls?: number;
  /** Exceptions and interrupts delivered to the guest (by the CPU or injected). */
  readonly eventsDelivered?: number;
  /** Shadow paging (issue 10): trace faults, shadow tables built, CR3 loads the VMM took
   *  (hidden and true faults are exits: vmExits). */
  readonly shadowTraces?: number;
  readonly shadowPagesBuilt?: number;
  readonly cr3Switches?: number;
}

/** The events behind each cost key: how many times the key's constant is paid. */
function occurrences(c: CostCounters): Record<CostKey, number> {
  const n = (v: number | undefined): number => {
    if (v === undefined) return 0;
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`counter must be a count: ${v}`);
    return v;
  };
  const exits = n(c.vmExits);
  return {
    instruction: n(c.instructions),
    vmEntry: n(c.vmEntries),
    vmExit: exits,
    vmcsRead: n(c.vmcsReads),
    vmcsWrite: n(c.vmcsWrites),
    exitHandler: exits,
    deviceModel: n(c.deviceAccesses),
    portIo: n(c.nativePortIo),
    emulation: n(c.emulated),
    walkRef: n(c.walkRefs) + n(c.nestedRefs),
    translation: n(c.translated),
    callout: n(c.callouts),
    tcEmulation: n(c.tcEmulated),
    hypercall: n(c.hypercalls),
    eventDelivery: n(c.eventsDelivered),
    shadowTrace: n(c.shadowTraces),
    shadowBuild: n(c.shadowPagesBuilt),
    cr3Switch: n(c.cr3Switches),
  };
}

/** Simulated cycles of a run, in total and by cost key. */
export interface SimulatedCycles {
  readonly profile: string;
  readonly total: number;
  readonly byKey: Readonly<Record<CostKey, number>>;
  /** total / clock: the simulated time in seconds. */
  readonly seconds: number;
}

/** Prices `counters` with `profile`. Pure: the same inputs give the same cycles. */
export function simulate(counters: CostCounters, profile: CpuProfile): SimulatedCycles {
  const occ = occurrences(counters);
  const byKey = {} as Record<CostKey, number>;
  let total = 0;
  for (const k of COST_KEYS) {
    const cycles = occ[k] * profile.cost[k].value;
    byKey[k] = cycles;
    total += cycles;
  }
  return { profile: profile.name, total, byKey, seconds: total / (profile.ghz.value * 1e9) };
}

/** Cycles per iteration of a workload: (after - before) priced, divided by iterations. */
export function cyclesPerIteration(
  before: CostCounters, after: CostCounters, iterations: number, profile: CpuProfile,
): number {
  if (!Number.isInteger(iterations) || iterations <= 0) {
    throw new RangeError(`iterations must be a positive integer: ${iterations}`);
  }
  const delta: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const b = (before as Record<string, number | undefined>)[k] ?? 0;
    if (typeof v === 'number') delta[k] = v - b;
  }
  return simulate(delta, profile).total / iterations;
}
