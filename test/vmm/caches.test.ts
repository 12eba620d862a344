/**
 * The switches of nested paging under a hardware mode: tagged TLB (VPID/ASID), page-walk
 * cache, nested TLB. Each changes what is counted, never what the guest computes: JeOS
 * prints the same lines (but cycles) with every combination. What each counter must do
 * when its cache is off follows from its definition (README, "The counters").
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, type VmmStats } from '../../bindings/index.js';
import { createCore } from '../../bindings/core/index.js';
import { modeAvailable } from '../../bindings/vmm/modes/index.js';

const root = join(__dirname, '..', '..');
const kernel = readFileSync(join(root, 'guests/jeos/jeos.elf'));

async function boot(mode: 'vtx' | 'svm', flags: { tags?: boolean; pwc?: boolean; ntlb?: boolean }) {
  let text = '';
  const m = await Machine.create({
    ramBytes: 32 << 20, kernel, cmdline: 'only=syscall,pgfault,tlb,forkwait iters=20',
    mode, paging: 'nested', ...flags, serialOut: (b) => { text += String.fromCharCode(b); },
  });
  const stop = m.run(200_000_000);
  return { text: text.replace(/\b(\w*cycles|per_iter)=\d+/g, '$1=N'), stop, vmm: m.stats().vmm! };
}

describe('tags, page-walk cache and nested TLB switches', () => {
  for (const mode of ['vtx', 'svm'] as const) {
    it(`${mode}: the guest's output is the same; each cache off counts no hits`, async () => {
      if (!modeAvailable(await createCore({ ramBytes: 2 << 20 }), mode)) {
        await expect(boot(mode, {})).rejects.toMatchObject({ code: 'mode-not-available' });
        return;
      }
      const on = await boot(mode, {});
      expect(on.stop).toEqual({ kind: 'poweroff' });
      expect(on.text).toContain('jeos exit code=0');
      const check = (v: VmmStats, tags: boolean, pwc: boolean, ntlb: boolean) => {
        expect([v.tags, v.pwc, v.ntlb]).toEqual([tags, pwc, ntlb]);
        expect(v.nestedWalks).toBeGreaterThan(0);
        if (!pwc) expect(v.pwcHits).toBe(0);
        if (!ntlb) expect(v.ntlbHits).toBe(0);
        if (!tags) expect(v.tlbSurvivors).toBe(0);
      };
      check(on.vmm, true, true, true);
      expect(on.vmm.tlbSurvivors).toBeGreaterThan(0);
      // EPT and both NPT formats have the page-walk cache and the nested TLB.
      expect(on.vmm.pwcHits).toBeGreaterThan(0);
      expect(on.vmm.ntlbHits).toBeGreaterThan(0);
      for (const f of [{ tags: false }, { pwc: false }, { ntlb: false },
        { tags: false, pwc: false, ntlb: false }]) {
        const r = await boot(mode, f);
        expect(r.stop, JSON.stringify(f)).toEqual({ kind: 'poweroff' });
        expect(r.text, JSON.stringify(f)).toBe(on.text);
        check(r.vmm, f.tags ?? true, f.pwc ?? true, f.ntlb ?? true);
      }
      // Without the page-walk cache every nested walk reads all its entries.
      const noPwc = await boot(mode, { pwc: false, ntlb: false });
      expect(noPwc.vmm.nestedWalkRefs / noPwc.vmm.nestedWalks)
        .toBeGreaterThan(on.vmm.nestedWalkRefs / on.vmm.nestedWalks);
    }, 300_000);
  }
});
