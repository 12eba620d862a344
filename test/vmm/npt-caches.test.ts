/**
 * The page-walk cache and the nested TLB over the legacy 2-level NPT format (AMD APM vol. 2,
 * 15.25.3: the nested tables of a 32-bit host without PAE, which a guest's own hypervisor
 * builds): the SVM system guest that uses nested paging prints their reference lines (Bochs
 * 2.7 / QEMU 7.2 fixtures, which have no such caches) with the caches on as with them off,
 * and the caches hit. Host-owned long-mode NPT: test/vmm/svm-host.test.ts; EPT:
 * nested-walk.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createCore } from '../../bindings/core/index.js';
import { runGuest } from '../../bindings/testing/harness.js';
import { GUEST_RAM, fixture, guestBootOptions, guestImage } from '../system/guests.js';

async function run(name: string, caches: boolean) {
  const core = await createCore({ ramBytes: GUEST_RAM });
  core.setSvm(true);
  core.setNestedCaches(caches, caches);
  const r = runGuest(core, guestImage(name), { ...guestBootOptions(name),
    maxInstructions: 20_000_000 });
  return { output: r.output, c: core.counters() };
}

describe('legacy NPT: page-walk cache and nested TLB', () => {
  for (const name of ['svm-npt']) {
    it(`${name} prints its reference lines with the caches on; they hit`, async () => {
      const off = await run(name, false);
      const on = await run(name, true);
      expect(on.output).toBe(off.output);
      expect(on.output).toBe(fixture(name).output);
      expect(off.c.nestedWalks).toBeGreaterThan(0);
      expect([off.c.pwcHits, off.c.nestedTlbHits]).toEqual([0, 0]);
      expect(on.c.pwcHits).toBeGreaterThan(0);
      expect(on.c.nestedTlbHits).toBeGreaterThan(0);
      // Each nested TLB hit saves a whole nested walk.
      expect(on.c.nestedWalkMemRefs).toBeLessThan(off.c.nestedWalkMemRefs);
    });
  }
});
