// What the TypeScript VMM's shadow paging (bindings/vmm/shadow, issue 10) needs of the
// core: invalidating translations it cached from shadow entries it changed, in the live
// TLB and in the entries a tagged world switch set aside (as INVVPID / INVLPGA and a
// TLB_CONTROL flush do for a VMM on hardware), and the linear address of the last INVLPG
// the emulator executed (an SVM INVLPG intercept carries none without decode assists:
// AMD APM vol. 2, 15.33, so the VMM emulates it, as KVM does).
import {
  TLBSAVE_TAGS, TLBSAVE_N, TLBSAVE_TABLE, TLBSAVE_ENTRY_SIZE, FILL_LOG_MAX, TS_TAG, TS_GLOBAL,
} from '../generated/layout';
import { tlbFlushAll, tlbFlushPage } from './tlb';
import { tagDrop } from './tags';

/** Invalidation kinds of vmmTlbInvalidate. */
export const INV_PAGE: u32 = 0;
export const INV_NONGLOBAL: u32 = 1;
export const INV_ALL: u32 = 2;

/** The linear address of the last INVLPG executed (cpu/system/cr.ts). */
export let lastInvlpg: u32 = 0;
export function noteInvlpg(lin: u32): void { lastInvlpg = lin; }

/** Drops translations of every address space: of the page holding `lin` (INV_PAGE), all
 *  but global ones (INV_NONGLOBAL), or all (INV_ALL). */
export function vmmTlbInvalidate(lin: u32, kind: u32): void {
  if (kind >= INV_ALL) {
    tlbFlushAll(false);
    tagDrop(0, true);
    return;
  }
  if (kind == INV_PAGE) tlbFlushPage(lin);
  else tlbFlushAll(true);
  const page = lin & 0xfffff000;
  for (let s: u32 = 0; s < <u32>TLBSAVE_TAGS; s++) {
    const n = load<u32>(TLBSAVE_N + (s << 2));
    for (let k: u32 = 0; k < n && k < <u32>FILL_LOG_MAX; k++) {
      const e = TLBSAVE_TABLE + (s * <u32>FILL_LOG_MAX + k) * TLBSAVE_ENTRY_SIZE;
      const tag = load<u32>(e + TS_TAG);
      if (tag == 0xffffffff) continue;
      const drop = kind == INV_PAGE ? (tag & 0xfffff000) == page
        : load<u32>(e + TS_GLOBAL) == 0;
      if (drop) {
        store<u32>(e + TS_TAG, 0xffffffff);
        store<u32>(e + TS_GLOBAL, 0);
      }
    }
  }
}
