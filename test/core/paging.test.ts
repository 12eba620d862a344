/**
 * 32-bit paging (Intel SDM vol. 3A, chapter 4): 4 KiB and 4 MiB pages, the access rights
 * (4.6), accessed and dirty bits (4.8), #PF error codes and CR2 (4.7), global pages and
 * INVLPG (4.10.4), and the TLB/walk counters.
 */
import { describe, it, expect } from 'vitest';
import { flat32Core, runToHlt, dword, le32, CODE } from './helpers.js';
import type { Core } from '../../bindings/core/types.js';

const PF = 14;
const PD = 0x100000, PT = 0x101000;
// PDE/PTE bits (SDM vol. 3A, tables 4-5, 4-6)
const P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;

/** Identity-maps the first 4 MiB with 4 KiB pages (supervisor, writable) and turns paging on. */
function identityPaging(core: Core, pdeFlags = P | W | U): void {
  const pt = new Uint8Array(4096);
  const dv = new DataView(pt.buffer);
  for (let i = 0; i < 1024; i++) dv.setUint32(4 * i, (i << 12) | P | W, true);
  core.writePhys(PT, pt);
  core.writePhys(PD, Uint8Array.from(le32(PT | pdeFlags)));
  core.setRegs({ cr3: PD, cr0: 0xe0000011 }); // PG | CD | NW(ignored) | ET | PE
}
function setPte(core: Core, page: number, value: number): void {
  core.writePhys(PT + 4 * page, Uint8Array.from(le32(value)));
}

describe('page walks', () => {
  it('set the accessed bit on a read and the dirty bit on a write (SDM 4.8)', async () => {
    // mov eax, [0x5000] ; mov [0x6000], eax ; hlt
    const core = await flat32Core([0xa1, ...le32(0x5000), 0xa3, ...le32(0x6000), 0xf4]);
    identityPaging(core);
    runToHlt(core);
    expect(dword(core, PD) & (A | D)).toBe(A);            // the PDE: accessed, never dirty
    expect(dword(core, PT + 4 * 5) & (A | D)).toBe(A);    // read page: A only
    expect(dword(core, PT + 4 * 6) & (A | D)).toBe(A | D); // written page: A and D
    expect(dword(core, PT + 4 * 7) & (A | D)).toBe(0);    // untouched page
  });

  it('count one walk of two references per 4 KiB miss and one reference per 4 MiB miss', async () => {
    const core = await flat32Core([0xa1, ...le32(0x5000), 0xa1, ...le32(0x5004), 0xf4]);
    identityPaging(core);
    const c0 = core.counters();
    runToHlt(core);
    const c1 = core.counters();
    // Misses: the code page, the data page, the handler-free HLT stays on the code page.
    expect(c1.pageWalks - c0.pageWalks).toBe(2);
    expect(c1.walkMemRefs - c0.walkMemRefs).toBe(4);

    const big = await flat32Core([0xa1, ...le32(0x5000), 0xf4]);
    big.writePhys(PD, Uint8Array.from(le32(0 | P | W | PS)));   // one 4 MiB page at 0
    big.setRegs({ cr4: 0x10, cr3: PD, cr0: 0xe0000011 });     // CR4.PSE
    const b0 = big.counters();
    runToHlt(big);
    const b1 = big.counters();
    expect(b1.pageWalks - b0.pageWalks).toBe(2);
    expect(b1.walkMemRefs - b0.walkMemRefs).toBe(2);
    expect(dword(big, PD) & (A | D)).toBe(A);                  // 4 MiB PDE gets A (and D on a write)
  });

  it('map a 4 MiB page only with CR4.PSE; without it PS is ignored and the PDE points to a table', async () => {
    // mov eax, [0x400010] ; hlt     with PDE 1 = 0x800000 | PS
    for (const pse of [true, false]) {
      const core = await flat32Core([0xa1, ...le32(0x400010), 0xf4], 16 << 20);
      identityPaging(core);
      core.writePhys(PD + 4, Uint8Array.from(le32(0x800000 | P | W | PS)));
      core.writePhys(0x800010, Uint8Array.from(le32(0x4d4d4d4d)));
      // Without PSE, 0x800000 is a page table: its entry 0 maps page 0x400000 -> 0x900000.
      core.writePhys(0x800000, Uint8Array.from(le32(0x900000 | P | W)));
      core.writePhys(0x900010, Uint8Array.from(le32(0x54545454)));
      if (pse) core.setRegs({ cr4: 0x10 });
      expect(runToHlt(core)).toBe(null);
      expect(core.getRegs().eax).toBe(pse ? 0x4d4d4d4d : 0x54545454);
    }
  });
});

describe('page faults', () => {
  async function faulting(code: number[], setup: (c: Core) => void) {
    const core = await flat32Core(code);
    identityPaging(core);
    setup(core);
    const v = runToHlt(core);
    return { core, v, err: dword(core, 0x80000 - 16), eip: dword(core, 0x80000 - 12), cr2: core.getRegs().cr2 >>> 0 };
  }

  it('not present, read: error code 0, CR2 = the address, EIP of the instruction', async () => {
    const r = await faulting([0x90, 0xa1, ...le32(0x7004), 0xf4], (c) => setPte(c, 7, 0x7000)); // P = 0
    expect(r.v).toBe(PF);
    expect(r.err).toBe(0);
    expect(r.cr2).toBe(0x7004);
    expect(r.eip).toBe(CODE + 1);
  });

  it('supervisor write to a read-only page: allowed with CR0.WP = 0, #PF(P|W) with WP = 1', async () => {
    const code = [0xc7, 0x05, ...le32(0x7000), ...le32(0x12345678), 0xf4]; // mov dword [0x7000], 0x12345678
    const off = await faulting(code, (c) => setPte(c, 7, 0x7000 | P));
    expect(off.v).toBe(null);
    expect(dword(off.core, 0x7000)).toBe(0x12345678);
    const on = await faulting(code, (c) => { setPte(c, 7, 0x7000 | P); c.setRegs({ cr0: 0xe0010011 }); });
    expect(on.v).toBe(PF);
    expect(on.err).toBe(3);
    expect(dword(on.core, 0x7000)).toBe(0); // nothing written (precise)
  });

  it('page-crossing write faulting on the second page writes nothing to the first', async () => {
    // mov dword [0x7ffe], 0xaabbccdd with page 8 not present
    const r = await faulting([0xc7, 0x05, ...le32(0x7ffe), ...le32(0xaabbccdd), 0xf4], (c) => setPte(c, 8, 0x8000));
    expect(r.v).toBe(PF);
    expect(r.err).toBe(2);
    expect(r.cr2).toBe(0x8000);
    expect(Array.from(r.core.readPhys(0x7ffe, 2))).toEqual([0, 0]);
  });
});

describe('TLB', () => {
  it('a CR3 reload keeps global entries (CR4.PGE) and drops the others; INVLPG drops a global one', async () => {
    // mov eax,[0x5000]; mov ebx,[0x6000]; mov ecx,cr3; (change PTEs); mov cr3,ecx;
    // mov eax,[0x5000]; mov ebx,[0x6000]; invlpg [0x5000]; mov edx,[0x5000]; hlt
    const code = [
      0xa1, ...le32(0x5000), 0x8b, 0x1d, ...le32(0x6000),
      0xc7, 0x05, ...le32(PT + 4 * 5), ...le32(0x9000 | P | W | G), // retarget page 5 -> 0x9000 (global)
      0xc7, 0x05, ...le32(PT + 4 * 6), ...le32(0xa000 | P | W),     // retarget page 6 -> 0xa000
      0x0f, 0x20, 0xd9, 0x0f, 0x22, 0xd9,                          // mov ecx, cr3 ; mov cr3, ecx
      0xa1, ...le32(0x5000), 0x8b, 0x1d, ...le32(0x6000),
      0x0f, 0x01, 0x3d, ...le32(0x5000),                           // invlpg [0x5000]
      0x8b, 0x15, ...le32(0x5000), 0xf4,
    ];
    const core = await flat32Core(code);
    identityPaging(core);
    setPte(core, 5, 0x5000 | P | W | G);
    core.writePhys(0x5000, Uint8Array.from(le32(0x55)));
    core.writePhys(0x6000, Uint8Array.from(le32(0x66)));
    core.writePhys(0x9000, Uint8Array.from(le32(0x99)));
    core.writePhys(0xa000, Uint8Array.from(le32(0xaa)));
    core.setRegs({ cr4: 0x80 }); // PGE
    expect(runToHlt(core)).toBe(null);
    const r = core.getRegs();
    expect(r.eax).toBe(0x55); // global: the stale translation survived the CR3 load
    expect(r.ebx).toBe(0xaa); // not global: re-walked
    expect(r.edx).toBe(0x99); // after INVLPG: re-walked
  });

  it('counts hits and misses', async () => {
    const core = await flat32Core([0xa1, ...le32(0x5000), 0xa1, ...le32(0x5000), 0xa1, ...le32(0x5000), 0xf4]);
    const c0 = core.counters();
    runToHlt(core);
    const c1 = core.counters();
    expect(c1.tlbHits - c0.tlbHits).toBe(2);   // the 2nd and 3rd loads
    expect(c1.tlbMisses - c0.tlbMisses).toBe(2); // the code page and the first load
  });
});
