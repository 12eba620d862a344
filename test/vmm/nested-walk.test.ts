/**
 * The two-dimensional walk (assembly/mem/nested.ts) and the tagged TLB (assembly/mem/tags.ts)
 * under a host-owned VT-x guest. Expected counts: a 2-level 32-bit guest walk under 4-level
 * EPT makes (n + 1)(m + 1) - 1 = 3 x 5 - 1 = 14 memory references with no caches (Bhargava,
 * Serebrin, Spadini, Manne, "Accelerating Two-Dimensional Page Walks for Virtualized
 * Systems", ASPLOS 2008, section 3); a native 2-level walk makes 2 (SDM vol. 3A, 4.3).
 */
import { describe, expect, it } from 'vitest';
import type { Core } from '../../bindings/core/index.js';
import {
  CODE, F, PROC, PROC2, guestCore, identityEpt, writeGuestVmcs, enterRun,
} from './vmx-guest.js';

const HLT = 0xf4;
const PD = 0x10000, PT = 0x11000;

/** A guest with 32-bit paging (4 KiB pages, identity for the first 4 MiB) that reads one
 *  data page and halts: two guest walks (the code page, the data page). */
async function pagedGuest(): Promise<{ core: Core; eptp: number }> {
  const core = await guestCore([0xa1, 0x00, 0x50, 0, 0, HLT]); // mov eax, [0x5000]
  const pd = new DataView(new ArrayBuffer(4096));
  pd.setUint32(0, PT | 3, true);
  core.writePhys(PD, new Uint8Array(pd.buffer));
  const pt = new DataView(new ArrayBuffer(4096));
  for (let i = 0; i < 1024; i++) pt.setUint32(4 * i, (i << 12) | 3, true);
  core.writePhys(PT, new Uint8Array(pt.buffer));
  const eptp = identityEpt(core, 1 << 22);
  return { core, eptp };
}

describe('two-dimensional walks', () => {
  it('costs 14 references per 2-level guest walk under 4-level EPT with no caches', async () => {
    const { core, eptp } = await pagedGuest();
    writeGuestVmcs(core, { eptp, proc: PROC.HLT, cr0: 0x80000031, cr3: PD });
    core.setNestedCaches(false, false);
    const before = core.counters();
    expect(enterRun(core)).toBe(12);
    const c = core.counters();
    const walks = c.pageWalks - before.pageWalks;
    const refs = (c.walkMemRefs - before.walkMemRefs) +
      (c.nestedWalkMemRefs - before.nestedWalkMemRefs);
    expect(walks).toBe(2); // the code page and the data page
    expect(refs).toBe(14 * walks);
    expect(c.walkMemRefs - before.walkMemRefs).toBe(2 * walks); // the guest's own 2
    expect(c.nestedWalks - before.nestedWalks).toBe(3 * walks); // PDE, PTE, final
  });

  it('a native 2-level walk makes 2 references', async () => {
    const { core } = await pagedGuest();
    core.setSegment('cs', { selector: 8, base: 0, limit: 0xffffffff, access: 0xc09b });
    core.setSegment('ds', { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc093 });
    core.setRegs({ cr3: PD, cr0: 0x80000011, eip: CODE });
    const before = core.counters();
    expect(core.run(100).reason).toBe('hlt');
    const c = core.counters();
    expect(c.walkMemRefs - before.walkMemRefs).toBe(2 * (c.pageWalks - before.pageWalks));
    expect(c.nestedWalkMemRefs).toBe(0);
  });

  it('the page-walk cache and the nested TLB hit and cut the references', async () => {
    const { core, eptp } = await pagedGuest();
    writeGuestVmcs(core, { eptp, proc: PROC.HLT, cr0: 0x80000031, cr3: PD });
    core.setNestedCaches(true, true);
    expect(enterRun(core)).toBe(12);
    const c = core.counters();
    expect(c.pwcHits).toBeGreaterThan(0);
    expect(c.nestedTlbHits).toBeGreaterThan(0);
    expect(c.walkMemRefs + c.nestedWalkMemRefs).toBeLessThan(14 * c.pageWalks);
  });
});

describe('tagged TLB (VPID)', () => {
  async function twoRuns(tags: boolean, vpid: boolean) {
    const { core, eptp } = await pagedGuest();
    const proc2 = PROC2.EPT | PROC2.UNRESTRICTED | (vpid ? PROC2.VPID : 0);
    writeGuestVmcs(core, { eptp, proc: PROC.HLT, proc2, cr0: 0x80000031, cr3: PD, vpid: 1 });
    core.setTlbTags(tags);
    expect(enterRun(core)).toBe(12);
    // Back to the start (the HLT exit is fault-like): the same pages again.
    core.vmcsWrite(F.GUEST_RIP, CODE);
    const before = core.counters();
    expect(enterRun(core)).toBe(12);
    const c = core.counters();
    return { survivors: c.tlbSurvivors - before.tlbSurvivors,
      walks: c.pageWalks - before.pageWalks, flushes: c.tlbFlushes - before.tlbFlushes };
  }
  it('with tags and a VPID, the guest\'s entries survive the exit and the next entry',
    async () => {
      const r = await twoRuns(true, true);
      expect(r.survivors).toBeGreaterThan(0);
      // The data page was kept (no walk); the instruction fetch translates its code window
      // afresh whatever the TLB holds (cpu/access.ts fetchSlow): one walk instead of two.
      expect(r.walks).toBe(1);
    });
  it('without tags every entry and exit flushes: nothing survives, the walks repeat',
    async () => {
      const r = await twoRuns(false, true);
      expect(r.survivors).toBe(0);
      expect(r.walks).toBe(2);
      expect(r.flushes).toBeGreaterThanOrEqual(2);
    });
  it('without a VPID (tags on) the switch flushes too (SDM vol. 3C, 29.4.3.3)', async () => {
    const r = await twoRuns(true, false);
    expect(r.survivors).toBe(0);
    expect(r.walks).toBe(2);
  });
});
