/**
 * Random hypercalls with random arguments (100,000 by default; PV_FUZZ=N for more): the
 * host never throws, every call returns a number, and after each call the invariants of
 * direct paging hold (FrameTable.check: no frame both a page table and writable, every
 * mapping the domain's own, type and reference counts equal to a recount, the VMM's PDE in
 * every live page directory). Every 64 calls and at the end: the VMM's frames are as built,
 * every descriptor the CPU can load from the guest's GDT has DPL >= 1 and ends below
 * HYPERVISOR_VIRT_START, every IDT gate is the VMM's stub or a ring-1 gate below the region,
 * TSS.SS1 is a ring-1 selector, and CR3 is a validated page directory.
 */
import { describe, expect, it } from 'vitest';
import { harness, SCRATCH, type Harness } from './harness.js';
import { GUEST_LIMIT, STUBS_VA } from '../../bindings/vmm/depriv/region.js';
import { HYPERVISOR_CS, HYPERVISOR_VIRT_START, DOMID_SELF } from '../../bindings/vmm/pv/xen.js';
import { T_L2 } from '../../bindings/vmm/pv/mm.js';

const N = Number(process.env.PV_FUZZ ?? 100_000);

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

function vmmFrames(h: Harness): Uint8Array[] {
  const r = h.region;
  return [r.ptFrame, r.zero, r.gdtXen, r.stubs].map((f) => h.core.readPhys(f, 4096));
}

function same(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.every((x, i) => Buffer.compare(x, b[i]) === 0);
}

function checkCpuTables(h: Harness): string[] {
  const bad: string[] = [];
  const gdt = new DataView(h.core.readPhys(h.region.gdt0, 4096).buffer);
  const idt = new DataView(h.core.readPhys(h.region.idt, 2048).buffer);
  for (let i = 1; i < 512; i++) {
    const lo = gdt.getUint32(i * 8, true), hi = gdt.getUint32(i * 8 + 4, true);
    if (!(hi & 0x8000)) continue;
    if (!(hi & 0x1000)) { bad.push(`gdt ${i}: system descriptor`); continue; }
    if (((hi >>> 13) & 3) === 0) bad.push(`gdt ${i}: DPL 0`);
    const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
    const raw = (lo & 0xffff) | (hi & 0xf0000);
    const limit = hi & (1 << 23) ? raw * 4096 + 4095 : raw;
    if (base + limit > GUEST_LIMIT) bad.push(`gdt ${i}: reaches the region`);
  }
  for (let v = 0; v < 256; v++) {
    const lo = idt.getUint32(v * 8, true), hi = idt.getUint32(v * 8 + 4, true);
    const sel = lo >>> 16, off = ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0;
    if (sel === HYPERVISOR_CS) {
      if (off !== STUBS_VA + v * 8) bad.push(`idt ${v}: VMM gate elsewhere`);
    } else if ((sel & 3) !== 1 || off >= HYPERVISOR_VIRT_START) {
      bad.push(`idt ${v}: gate ${sel.toString(16)}:${off.toString(16)}`);
    }
  }
  const ss1 = h.get32(h.region.tss + 16) & 0xffff;
  if ((ss1 & 3) !== 1) bad.push(`TSS.SS1 ${ss1.toString(16)}`);
  const cr3 = h.core.getRegs().cr3 >>> 12;
  if (h.frames.type[cr3] !== T_L2 || h.frames.typeCount[cr3] === 0) bad.push('CR3 not an L2');
  return bad;
}

describe(`hypercall fuzz (${N} calls)`, () => {
  it('keeps every invariant and never reaches outside the caller\'s memory', async () => {
    const h = await harness(4 << 20);
    const r = rng(0x9e3779b9);
    const pick = <T>(a: T[]): T => a[r() % a.length];
    const pd = h.pageDirectory >>> 12;
    const pt0 = h.get32(h.pageDirectory) >>> 12;
    const nr = h.frames.nrFrames;
    const vmm0 = vmmFrames(h);
    const frame = () => pick([pd, pt0, pt0 + 1, 0x2c0 + (r() % 8), r() % nr,
      h.region.ptFrame >>> 12, r() >>> 12, 0x100 + (r() % 16)]);
    const entry = () => (frame() << 12) | pick([0, 1, 3, 5, 7, 0x83, r() & 0xfff]);
    const va = () => pick([0x280000 + (r() % 64) * 4096, SCRATCH, r(), 0xffc00000,
      0x2c0000 + (r() % 8) * 4096, (frame() << 12) >>> 0]);
    const ptr = () => pick([SCRATCH, SCRATCH + 0x800, SCRATCH + (r() % 4096), r(), 0xffc10000]);
    const fillScratch = () => {
      const words: number[] = [];
      for (let i = 0; i < 256; i++) {
        words.push(pick([r(), entry(), (frame() << 12) | ((r() % 1024) * 4) | pick([0, 0, 1, 3]),
          0, r() % 64, DOMID_SELF, 0xe019, 0xe021, va()]));
      }
      h.put32(SCRATCH, ...words);
    };
    const hcs = [0, 1, 1, 1, 2, 3, 4, 10, 13, 14, 14, 15, 17, 18, 20, 24, 26, 26, 29, 32, 32,
      33, r() % 64];
    let calls = 0;
    for (let i = 0; i < N; i++) {
      if (i % 16 === 0) fillScratch();
      const n = pick(hcs);
      let args: number[];
      switch (n) {
        case 1: case 26: args = [ptr(), r() % 5, pick([0, SCRATCH + 0xf00]),
          pick([DOMID_SELF, 1, r() & 0xffff])]; break;
        case 14: args = [va(), entry(), pick([0, 0, r()]), r() % 9]; break;
        case 29: args = [pick([0, 1, 3, 4]), ptr()]; break; // never SCHEDOP_shutdown
        case 32: args = [r() % 12, ptr()]; break;
        case 20: args = [r() % 8, ptr(), r() % 3]; break;
        case 24: args = [r() % 12, r() % 2, ptr()]; break;
        case 13: args = [ptr(), r() % 4]; break;
        case 33: args = [pick([6, r() % 32]), ptr()]; break; // physdev_op, set_iopl mostly
        default: args = [pick([r(), ptr(), 0xe019, 0xe021]), pick([r(), va(), entry()]),
          pick([r(), ptr(), 0]), pick([r(), 0, 0x00cf9a00]), r(), r()];
      }
      const rc = h.domain.hypercall(n, args);
      calls++;
      if (!Number.isInteger(rc)) throw new Error(`call ${i}: hypercall ${n} returned ${rc}`);
      h.domain.blocked = false;
      const bad = h.frames.check();
      if (bad.length) throw new Error(`call ${i} (hypercall ${n} ${args}): ${bad.join('; ')}`);
      if (i % 64 === 0) {
        const t = checkCpuTables(h);
        if (t.length) throw new Error(`call ${i} (hypercall ${n}): ${t.join('; ')}`);
        if (!same(vmmFrames(h), vmm0)) throw new Error(`call ${i}: the VMM's frames changed`);
      }
    }
    expect(checkCpuTables(h)).toEqual([]);
    expect(same(vmmFrames(h), vmm0)).toBe(true);
    expect(calls).toBe(N);
    // The fuzz reached the interesting paths, not only -EFAULT.
    const s = h.domain.stats;
    expect(s.mmuUpdates).toBeGreaterThan(N / 100);
    expect(Object.keys(s.errors)).toEqual(expect.arrayContaining(['EINVAL', 'EPERM',
      'EFAULT', 'ENOSYS']));
  }, 600_000);
});
