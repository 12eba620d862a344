// The cost model: simulated cycles from counters and a CPU profile. The expected figures are
// the published ones (Adams & Agesen, ASPLOS 2006, figure 4 and section 6), not outputs of
// the model.
import { describe, expect, it } from 'vitest';
import {
  COST_KEYS, PROFILES, UnknownProfileError, cyclesPerIteration, profile, simulate,
} from '../../bindings/vmm/cost/index.js';

const p4 = profile('p4-prescott');

describe('cost profiles', () => {
  it('has the profiles the issue names, each constant with a source', () => {
    expect(PROFILES.map((p) => p.name)).toEqual(['p4-prescott', 'core2', 'nehalem', 'modern']);
    for (const p of PROFILES) {
      for (const k of COST_KEYS) {
        const c = p.cost[k];
        expect(c.value, `${p.name}.${k}`).toBeGreaterThanOrEqual(0);
        expect(c.source.length, `${p.name}.${k}`).toBeGreaterThan(20);
        if (c.estimate) expect(c.source, `${p.name}.${k}`).toMatch(/estimate/);
      }
    }
  });

  it('refuses an unknown profile, listing those that exist', () => {
    expect(() => profile('pentium-pro')).toThrow(UnknownProfileError);
    expect(() => profile('pentium-pro')).toThrow(/p4-prescott, core2, nehalem, modern/);
  });

  it('reproduces the P4 null guest-VMM-guest round trip of 4340 cycles (Agesen 2010)', () => {
    expect(simulate({ vmEntries: 1, vmExits: 1 }, p4).total - p4.cost.exitHandler.value)
      .toBe(4340);
  });

  it('reproduces A&A figure 4 for the hardware VMM on the P4: in, pgfault', () => {
    // One "in" under VT-x: an exit, ten VMCS reads and two writes (A&A: "a typical exit
    // needs about ten VMCS reads"), the device model's answer, the entry.
    const inVtx = { vmExits: 1, vmEntries: 1, vmcsReads: 10, vmcsWrites: 2, deviceAccesses: 1 };
    expect(simulate(inVtx, p4).total).toBe(15826);
    // A true guest page fault: the same exit, then the fault delivered to the guest.
    const pf = { vmExits: 1, vmEntries: 1, vmcsReads: 10, vmcsWrites: 2, eventsDelivered: 1 };
    expect(simulate(pf, p4).total).toBe(11242);
    // Natively: the port access and the fault delivery.
    expect(simulate({ nativePortIo: 1 }, p4).total).toBe(3209);
    expect(simulate({ eventsDelivered: 1 }, p4).total).toBe(889);
  });

  it('reproduces the rdtsc costs of the software VMM (A&A section 3)', () => {
    expect(simulate({ vmExits: 0, callouts: 1 }, p4).total).toBe(1254);
    expect(simulate({ tcEmulated: 1 }, p4).total).toBe(216);
    expect(p4.cost.vmExit.value + p4.cost.emulation.value).toBe(2030);
  });

  it('prices 2D walks: a 14-reference walk costs 7 times a native 2-reference one', () => {
    const native = simulate({ walkRefs: 2 }, p4).total;
    const twoD = simulate({ walkRefs: 2, nestedRefs: 12 }, p4).total;
    expect(twoD / native).toBe(7);
  });

  it('is a pure function of its inputs, per iteration from two snapshots', () => {
    const before = { instructions: 1000, vmExits: 3, vmEntries: 3 };
    const after = { instructions: 3000, vmExits: 13, vmEntries: 13 };
    const a = cyclesPerIteration(before, after, 10, p4);
    expect(a).toBe(cyclesPerIteration(before, after, 10, p4));
    expect(a).toBe((2000 * 1 + 10 * (2409 + 1931 + 3891)) / 10);
    expect(() => cyclesPerIteration(before, after, 0, p4)).toThrow(/positive integer/);
    expect(() => simulate({ vmExits: -1 }, p4)).toThrow(/count/);
  });

  it('the later CPUs are cheaper per exit, as the papers report', () => {
    const exit = (name: string): number => simulate({ vmExits: 1, vmEntries: 1 },
      profile(name)).total - profile(name).cost.exitHandler.value;
    expect(exit('core2')).toBe(937 + 1186);
    expect(exit('p4-prescott')).toBeGreaterThan(exit('core2'));
    expect(exit('nehalem')).toBe(2000);
    expect(exit('modern')).toBeLessThan(exit('p4-prescott') / 5);
  });
});
