/**
 * core.readLinear: guest memory at a linear address for the host, through 32-bit paging as
 * Intel SDM vol. 3A, 4.3 defines it (page tables built here per tables 4-4 to 4-6: PDE at
 * CR3[31:12] | lin[31:22] * 4; with CR4.PSE and PDE.PS a 4 MiB page PDE[31:22] | lin[21:0];
 * else the PTE at PDE[31:12] | lin[21:12] * 4 and PTE[31:12] | lin[11:0]), the A20 gate
 * (bit 20 of every physical address forced to 0), ROMs and shadow RAM, without side effects.
 */
import { describe, it, expect } from 'vitest';
import { createCore } from '../../bindings/core/index.js';
import type { Core } from '../../bindings/core/types.js';

const P = 1, W = 2, A = 0x20, D = 0x40, PS = 0x80;
const CR0_PE = 1, CR0_PG = 0x80000000, CR4_PSE = 0x10;
const PD = 0x100000, PT = 0x101000;

const le32 = (v: number) => Uint8Array.from([v, v >>> 8, v >>> 16, v >>> 24].map((b) => b & 0xff));
const put32 = (core: Core, pa: number, v: number) => core.writePhys(pa, le32(v));
const pattern = (seed: number, n = 4096) =>
  Uint8Array.from({ length: n }, (_, i) => (seed + i * 7) & 0xff);

async function core(): Promise<Core> {
  const c = await createCore({ ramBytes: 8 << 20 });
  c.reset();
  return c;
}
const paging = (c: Core, cr4 = 0) => c.setRegs({ cr3: PD, cr4, cr0: CR0_PG | CR0_PE });

describe('core.readLinear', () => {
  it('without paging reads physical memory, with A20 off bit 20 masked', async () => {
    const c = await core();
    c.writePhys(0x3000, pattern(1, 16));
    c.writePhys(0x103000, pattern(2, 16));
    expect(c.readLinear(0x3000, 16)).toEqual(pattern(1, 16));
    expect(c.readLinear(0x103000, 16)).toEqual(pattern(2, 16));
    c.setA20(false);
    expect(c.readLinear(0x103000, 16)).toEqual(pattern(1, 16));
  });

  it('walks 4 KiB pages, across a page boundary to a page elsewhere', async () => {
    const c = await core();
    // Linear 0x40001000 (PDE 0x100, PTE 1) -> 0x5000; 0x40002000 (PTE 2) -> 0x9000.
    put32(c, PD + 0x100 * 4, PT | P | W);
    put32(c, PT + 1 * 4, 0x5000 | P);
    put32(c, PT + 2 * 4, 0x9000 | P | W);
    c.writePhys(0x5000, pattern(3));
    c.writePhys(0x9000, pattern(4));
    paging(c);
    expect(c.readLinear(0x40001010, 8)).toEqual(pattern(3).subarray(0x10, 0x18));
    expect(c.readLinear(0x40001ffe, 4))
      .toEqual(Uint8Array.from([...pattern(3).subarray(0xffe), ...pattern(4).subarray(0, 2)]));
    // Linear 0x40003000 (PTE 3) is not present: the bytes end there.
    expect(c.readLinear(0x40002ffd, 8)).toEqual(pattern(4).subarray(0xffd));
    // Not-present PDE, and identity addresses that paging now leaves unmapped.
    expect(c.readLinear(0x40400000, 4)).toEqual(new Uint8Array(0));
    expect(c.readLinear(0x5000, 4)).toEqual(new Uint8Array(0));
  });

  it('sets no accessed or dirty bit and fills no TLB entry', async () => {
    const c = await core();
    put32(c, PD, PT | P | W);
    put32(c, PT + 5 * 4, 0x5000 | P | W);
    paging(c);
    const walks = c.counters().pageWalks, refs = c.counters().walkMemRefs;
    expect(c.readLinear(0x5000, 4)).toHaveLength(4);
    expect(c.readPhys(PD, 4)).toEqual(le32(PT | P | W));
    expect(c.readPhys(PT + 5 * 4, 4)).toEqual(le32(0x5000 | P | W));
    expect(c.readPhys(PD, 4)[0] & (A | D)).toBe(0);
    expect(c.counters().pageWalks).toBe(walks);
    expect(c.counters().walkMemRefs).toBe(refs);
  });

  it('maps 4 MiB pages with CR4.PSE and PDE.PS; without CR4.PSE the PDE points to a PT',
    async () => {
      const c = await core();
      // PDE 2 (linear 0x00800000-0x00BFFFFF) with PS, frame 0x400000.
      put32(c, PD + 2 * 4, 0x400000 | PS | P | W);
      c.writePhys(0x400000 + 0x12345, pattern(5, 8));
      paging(c, CR4_PSE);
      expect(c.readLinear(0x00812345, 8)).toEqual(pattern(5, 8));
      // PS is ignored without CR4.PSE (SDM 4.3, table 4-5): 0x400000 is then a page table,
      // whose entry 0x12 maps linear 0x00812000.
      put32(c, 0x400000 + 0x12 * 4, 0x7000 | P);
      c.writePhys(0x7345, pattern(6, 8));
      paging(c, 0);
      expect(c.readLinear(0x00812345, 8)).toEqual(pattern(6, 8));
      // A 4 MiB PDE with physical address bits 39:32 (PDE[20:13]) set is above 4 GiB.
      put32(c, PD + 2 * 4, 0x400000 | (1 << 13) | PS | P);
      paging(c, CR4_PSE);
      expect(c.readLinear(0x00812345, 8)).toEqual(new Uint8Array(0));
    });

  it('applies the A20 mask to the paging structures and to the page', async () => {
    const c = await core();
    // With A20 off the PD at 0x100000 is read at 0x000000 and frame 0x105000 is 0x005000.
    put32(c, PD & ~0x100000, (PT & ~0x100000) | P);
    put32(c, (PT & ~0x100000) + 4, 0x105000 | P);
    c.writePhys(0x5000, pattern(7, 4));
    c.setA20(false);
    paging(c);
    expect(c.readLinear(0x1000, 4)).toEqual(pattern(7, 4));
  });

  it('reads mapped ROMs, shadow RAM as the PAM mode says, nothing where nothing is', async () => {
    const c = await core();
    const rom = pattern(8, 0x10000);
    c.mapRom(0xffff0000, rom);
    c.mapRom(0xf0000, rom);
    c.writePhys(0xf0000, pattern(9, 16));
    expect(c.readLinear(0xfffffff0, 16)).toEqual(rom.subarray(0xfff0));
    expect(c.readLinear(0xf0000, 16)).toEqual(rom.subarray(0, 16));
    c.setShadow(0xf0000, 'ram-ro');
    expect(c.readLinear(0xf0000, 16)).toEqual(pattern(9, 16));
    // Linear addresses wrap at 4 GiB: the ROM's last bytes, then RAM from 0.
    c.writePhys(0, pattern(10, 2));
    expect(c.readLinear(0xfffffffe, 4)).toEqual(Uint8Array.from([...rom.subarray(0xfffe),
      ...pattern(10, 2)]));
    // Above RAM with no ROM, and an MMIO range: no bytes (no device is touched).
    expect(c.readLinear(8 << 20, 4)).toEqual(new Uint8Array(0));
    c.addMmio(0x200000, 0x1000);
    expect(c.readLinear(0x1ffffe, 4)).toHaveLength(2);
  });

  it('names a bad range', async () => {
    const c = await core();
    expect(() => c.readLinear(-1, 4)).toThrow(/readLinear: bad range -1 \+ 4/);
    expect(() => c.readLinear(2 ** 32, 1)).toThrow(/readLinear: bad range/);
    expect(() => c.readLinear(0, 1.5)).toThrow(/readLinear: bad range/);
  });
});
