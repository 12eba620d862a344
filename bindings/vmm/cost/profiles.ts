/**
 * Named CPU profiles of the cost model: what one event costs, in cycles, on a given CPU.
 * Every constant carries its source. The published figures are in REFERENCES.md-style
 * citations: Adams & Agesen, "A Comparison of Software and Hardware Techniques for x86
 * Virtualization", ASPLOS 2006 (A&A); Agesen et al., "The Evolution of an x86 Virtual
 * Machine Monitor", OSR 2010; Ben-Yehuda et al. / Landau et al., "SplitX", WIOV 2011;
 * Bhargava et al., "Accelerating Two-Dimensional Page Walks", ASPLOS 2008. Where no source
 * gives a number, `estimate` is set and `source` says how the number was chosen.
 */

/** One constant of a profile: its value in cycles and where it comes from. */
export interface Cited {
  readonly value: number;
  readonly source: string;
  /** True when no publication gives the number: `source` explains the estimate. */
  readonly estimate?: boolean;
}

/** The events the model prices, one constant each. */
export const COST_KEYS = [
  'instruction', 'vmEntry', 'vmExit', 'vmcsRead', 'vmcsWrite', 'exitHandler', 'deviceModel',
  'portIo', 'emulation', 'walkRef', 'translation', 'callout', 'tcEmulation', 'hypercall',
  'eventDelivery',
  // Shadow paging (issue 10): the VMM's work beyond a plain exit.
  'shadowTrace', 'shadowBuild', 'cr3Switch',
] as const;
export type CostKey = (typeof COST_KEYS)[number];

export interface CpuProfile {
  readonly name: string;
  readonly description: string;
  /** Clock in GHz, to turn cycles into simulated time. */
  readonly ghz: Cited;
  /** Hardware assists the CPU had: a profile without EPT cannot price nested paging. */
  readonly features: { readonly vtx: boolean; readonly ept: boolean; readonly vpid: boolean };
  readonly cost: { readonly [K in CostKey]: Cited };
}

const AA = 'Adams & Agesen, ASPLOS 2006';

/** Costs that come from the software VMM and the guest, shared by the profiles that have no
 *  measurement of their own (they scale with the clock less than exits do). */
const P4_SOFTWARE = {
  instruction: {
    value: 1,
    source: `${AA}, figure 4: a native call/ret pair costs 11 cycles on the P4; one cycle ` +
      'per simple instruction is the average the loops guests approach (estimate)',
    estimate: true,
  },
  exitHandler: {
    value: 3891,
    source: `${AA}, figure 4: a true guest page fault costs 11242 cycles under the hardware ` +
      'VMM; minus the exit and entry (4340), ten VMCS reads and two writes (2122) and the ' +
      'delivery of the fault to the guest (889, divzero) leaves 3891 cycles of VMM work per ' +
      'exit (derived from the published figures)',
  },
  deviceModel: {
    value: 5473,
    source: `${AA}, figure 4: "in" costs 15826 cycles under the hardware VMM; minus one ` +
      'exit as priced here (exit, entry, reads, writes, handler: 10353) leaves 5473 cycles ' +
      'for the device model to answer the access (derived from the published figures)',
  },
  portIo: {
    value: 3209,
    source: `${AA}, figure 4: a native "in" from port 0x80 costs 3209 cycles (the bus cycle ` +
      'of a real device)',
  },
  emulation: {
    value: 2030 - 1931,
    source: `${AA}: rdtsc costs 2030 cycles by trap-and-emulate; minus the 1931-cycle exit, ` +
      'about 100 cycles to decode and emulate one instruction',
  },
  translation: { value: 2300, source: `${AA}: the translator costs about 2300 cycles per ` +
    'x86 instruction translated' },
  callout: { value: 1254, source: `${AA}: rdtsc by a callout out of the translation cache` },
  tcEmulation: { value: 216, source: `${AA}: rdtsc emulated inside the translation cache` },
  hypercall: {
    value: 816,
    source: 'Barham et al., SOSP 2003, lmbench: a protection fault costs 1.06 us native and ' +
      '1.40 us under Xen, so one pass through the hypervisor (trap into ring 0, bounce back ' +
      'to the ring-1 kernel) costs 0.34 us, 816 cycles on their 2.4 GHz Xeon (derived)',
  },
  eventDelivery: {
    value: 889,
    source: `${AA}, figure 4: divzero, an exception delivered to the guest kernel and ` +
      'returned from, costs 889 cycles natively',
  },
  // Shadow paging (issue 10). A hidden or true fault is an exit priced by vmExit, vmEntry,
  // the VMCS accesses and exitHandler (which A&A's pgfault defines); these are the extras.
  shadowTrace: {
    value: 2380,
    source: `${AA}, figure 4: ptemod (a traced PTE write) costs 12733 cycles under the ` +
      'hardware VMM, pgfault 11242; the trace is one exit like the fault (4340 exit and ' +
      'entry, 3891 handler, 2122 VMCS accesses) plus 2380 cycles to emulate the store and ' +
      'resynchronize the shadow entry (derived from the published figures)',
  },
  shadowBuild: {
    value: 600,
    source: 'No publication gives it: a new shadow table is a 4 KiB page cleared (256 ' +
      'cycles at 16 bytes per cycle) plus its hash, reverse-map and write-protection ' +
      'bookkeeping, about as much again (estimate)',
    estimate: true,
  },
  cr3Switch: {
    value: 300,
    source: 'No publication gives it: a CR3 load under shadow paging looks up the root ' +
      'cache (a hash lookup) and flushes the TLB; A&A figure 4 prices the exit itself ' +
      '(estimate for the lookup and flush bookkeeping)',
    estimate: true,
  },
} as const;

export const PROFILES: readonly CpuProfile[] = [
  {
    name: 'p4-prescott',
    description: 'Pentium 4 672 (Prescott, 3.8 GHz), the first VT-x: no EPT, no VPID',
    ghz: { value: 3.8, source: `${AA}, section 6 (the test machine)` },
    features: { vtx: true, ept: false, vpid: false },
    cost: {
      ...P4_SOFTWARE,
      vmEntry: { value: 2409, source: `${AA}: VM entry 2409 cycles on the P4` },
      vmExit: { value: 1931, source: `${AA}: a page-fault VM exit 1931 cycles on the P4` },
      vmcsRead: { value: 178, source: `${AA}: VMCB read 178 cycles` },
      vmcsWrite: { value: 171, source: `${AA}: VMCB write 171 cycles` },
      walkRef: {
        value: 27,
        source: 'No publication of ours gives it: one page-walk reference priced as a ' +
          'Prescott L2 hit (about 27 cycles; walks rarely hit L1 and rarely miss L2 on ' +
          'small working sets) (estimate)',
        estimate: true,
      },
    },
  },
  {
    name: 'core2',
    description: 'Pre-production Core 2 (Merom) with VT-x: no EPT, no VPID',
    ghz: { value: 2.66, source: 'A&A do not give the clock: a typical Core 2 Duo (estimate)',
      estimate: true },
    features: { vtx: true, ept: false, vpid: false },
    cost: {
      ...P4_SOFTWARE,
      vmEntry: { value: 937, source: `${AA}: VM entry 937 cycles on a pre-production Core 2` },
      vmExit: { value: 1186, source: `${AA}: VM exit 1186 cycles on a pre-production Core 2` },
      vmcsRead: { value: 52, source: `${AA}: VMCB read 52 cycles on Core 2` },
      vmcsWrite: { value: 44, source: `${AA}: VMCB write 44 cycles on Core 2` },
      hypercall: { value: 816, source: 'No publication measures a 32-bit PV hypercall on ' +
        'this CPU: the figure derived from Barham et al. (SOSP 2003) for their 2.4 GHz ' +
        'Xeon is kept (estimate)', estimate: true },
      walkRef: { value: 14, source: 'Core 2 L2 hit latency, about 14 cycles (estimate)',
        estimate: true },
    },
  },
  {
    name: 'nehalem',
    description: 'Xeon X5570 (Nehalem, 2.93 GHz) with EPT and VPID',
    ghz: { value: 2.93, source: 'Intel Xeon X5570 specification: 2.93 GHz' },
    features: { vtx: true, ept: true, vpid: true },
    cost: {
      ...P4_SOFTWARE,
      vmEntry: { value: 1000, source: 'SplitX (WIOV 2011): about 2000 cycles for a null ' +
        'exit round trip with KVM on a Xeon X5570, split evenly between exit and entry ' +
        '(the split is an estimate)', estimate: true },
      vmExit: { value: 1000, source: 'SplitX (WIOV 2011): about 2000 cycles per null exit ' +
        'round trip, half of it for the exit (estimate of the split)', estimate: true },
      vmcsRead: { value: 20, source: 'No published figure: VMREAD fell from 178 (P4) to 52 ' +
        '(Core 2) cycles (A&A); 20 continues that trend (estimate)', estimate: true },
      vmcsWrite: { value: 20, source: 'As vmcsRead (estimate)', estimate: true },
      hypercall: { value: 816, source: 'No publication measures a 32-bit PV hypercall on ' +
        'this CPU: the figure derived from Barham et al. (SOSP 2003) for their 2.4 GHz ' +
        'Xeon is kept (estimate)', estimate: true },
      walkRef: { value: 10, source: 'Nehalem L2 hit latency, about 10 cycles (estimate)',
        estimate: true },
    },
  },
  {
    name: 'modern',
    description: 'A current x86 core with EPT/NPT, VPID/ASID',
    ghz: { value: 3.5, source: 'A typical current desktop clock (estimate)', estimate: true },
    features: { vtx: true, ept: true, vpid: true },
    cost: {
      ...P4_SOFTWARE,
      vmEntry: { value: 250, source: 'Agesen et al., OSR 2010: later CPUs cut exit costs ' +
        '"by almost an order of magnitude" from the P4 (4340-cycle round trip), to several ' +
        'hundred cycles: 500 per round trip, half for the entry (estimate)', estimate: true },
      vmExit: { value: 250, source: 'As vmEntry: half of a 500-cycle round trip (estimate)',
        estimate: true },
      vmcsRead: { value: 10, source: 'No published figure (estimate)', estimate: true },
      vmcsWrite: { value: 10, source: 'No published figure (estimate)', estimate: true },
      hypercall: { value: 816, source: 'No publication measures a 32-bit PV hypercall on ' +
        'this CPU: the figure derived from Barham et al. (SOSP 2003) for their 2.4 GHz ' +
        'Xeon is kept (estimate)', estimate: true },
      walkRef: { value: 12, source: 'A current L2 hit latency, about 12 cycles (estimate)',
        estimate: true },
    },
  },
];

/** A profile name that does not exist. */
export class UnknownProfileError extends Error {
  constructor(readonly requested: string) {
    super(`unknown CPU profile "${requested}"; profiles: ${PROFILES.map((p) => p.name)
      .join(', ')}`);
    this.name = 'UnknownProfileError';
  }
}

/** The profile named `name`, or an UnknownProfileError listing the names that exist. */
export function profile(name: string): CpuProfile {
  const p = PROFILES.find((q) => q.name === name);
  if (!p) throw new UnknownProfileError(name);
  return p;
}
