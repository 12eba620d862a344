/**
 * The deprivileging layer on its own: descriptor shadowing (the descriptor format of SDM
 * vol. 3A, 3.4.5 figure 3-8: limit 15:0 and base 15:0 in the low dword; base 23:16, type,
 * S, DPL, P, limit 19:16, AVL, D/B, G, base 31:24 in the high dword) as Xen's
 * check_descriptor does it, and the region's exit recognition.
 */
import { describe, expect, it } from 'vitest';
import { shadowDescriptor, descriptor, Region, STUBS_VA, STUB_SIZE, GUEST_LIMIT }
  from '../../bindings/vmm/depriv/region.js';

const dpl = (hi: number) => (hi >>> 13) & 3;
const limitOf = (lo: number, hi: number) => {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return hi & (1 << 23) ? raw * 4096 + 4095 : raw;
};
const baseOf = (lo: number, hi: number) =>
  ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;

describe('guest descriptors as the CPU gets them', () => {
  it('a flat ring-0 code segment becomes DPL 1 and ends below 0xFC000000', () => {
    const [lo, hi] = shadowDescriptor(0x0000ffff, 0x00cf9a00)!;
    expect(dpl(hi)).toBe(1);
    expect(limitOf(lo, hi)).toBe(GUEST_LIMIT);
    expect(baseOf(lo, hi)).toBe(0);
    expect((hi >>> 8) & 0xf).toBe(0xa); // still code, execute/read
    expect(hi & (1 << 22)).not.toBe(0); // still 32-bit
  });
  it('a small user data segment is kept as it is', () => {
    const d = descriptor(0x1000, 0xfff, 0x3, 3, 0x4);
    expect(shadowDescriptor(d[0], d[1])).toEqual(d);
  });
  it('a segment that reaches into the region is cut at its start', () => {
    const d = descriptor(0xfbfff000, 0xffff, 0x3, 1, 0x4); // byte granular
    const [lo, hi] = shadowDescriptor(d[0], d[1])!;
    expect(baseOf(lo, hi) + limitOf(lo, hi)).toBe(GUEST_LIMIT);
  });
  it('refuses what could reach ring 0 or the region', () => {
    expect(shadowDescriptor(0x00081000, 0x0000ec00)).toBeUndefined(); // call gate
    expect(shadowDescriptor(0x00000067, 0x00008900)).toBeUndefined(); // TSS
    expect(shadowDescriptor(0x0000ffff, 0x00cf9600)).toBeUndefined(); // expand-down data
    expect(shadowDescriptor(0x0000ffff, 0xfccf9200)).toBeUndefined(); // based in the region
  });
  it('keeps a not-present descriptor (it can only fault)', () => {
    expect(shadowDescriptor(0x0000ffff, 0x00cf1a00)).toEqual([0x0000ffff, 0x00cf1a00]);
  });
});

describe('the exit to the VMM', () => {
  it('is a HLT at CPL 0 inside the stub page, and names its vector', () => {
    expect(Region.stubVector(0, STUBS_VA + 14 * STUB_SIZE + 1)).toBe(14);
    expect(Region.stubVector(0, STUBS_VA + 0x82 * STUB_SIZE + 3)).toBe(0x82);
    expect(Region.stubVector(1, STUBS_VA + 14 * STUB_SIZE + 1)).toBe(-1);
    expect(Region.stubVector(0, 0x100000)).toBe(-1);
    expect(Region.stubVector(0, STUBS_VA)).toBe(-1);
  });
});
