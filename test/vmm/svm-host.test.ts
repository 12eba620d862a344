/**
 * The TypeScript VMM's AMD-V path (assembly/index.ts svmHostEnter, run -> 'vmexit',
 * hostEmulate): a VMCB and long-mode nested page tables built here in VMM RAM run a tiny
 * flat 32-bit guest to its #VMEXITs. Expected values from the AMD APM vol. 2: the exit
 * codes (appendix C: CPUID 72h, HLT 78h, NPF 400h, VMEXIT_INVALID -1), an intercepted
 * instruction's RIP is its own and NRIP the next one's (15.7.1), the #NPF error code and
 * address (15.25.6: bit 0 clear for a page that is not present, bit 2 set for every nested
 * access, bit 32 for the final guest-physical address; EXITINFO2 that address), the
 * long-mode nested table format (15.25.3; 2-MB pages by the PDE's PS bit 7, 5.3.4), VMRUN's
 * requirement of the VMRUN intercept (15.5.1).
 */
import { describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../bindings/core/index.js';
import { vmcbFields } from '../../bindings/generated/svm.js';

const OFF: Record<string, number> = Object.fromEntries(vmcbFields.map((f) => [f.name, f.offset]));
const SIZE: Record<string, number> = Object.fromEntries(vmcbFields.map((f) => [f.name, f.size]));
const CODE = 0x1000;
const CPUID = [0x0f, 0xa2], HLT = [0xf4];
const EXIT = { CPUID: 0x72n, HLT: 0x78n, NPF: 0x400n, INVALID: 0xffffffffffffffffn };
// Intercept vector 3 (MISC1) bits 18 CPUID and 24 HLT; vector 4 (MISC2) bit 0 VMRUN.
const I1_CPUID = 1 << 18, I1_HLT = 1 << 24, I2_VMRUN = 1;

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}
function put(core: Core, vmcb: number, name: string, v: number | bigint): void {
  const size = Math.min(SIZE[name], 8);
  core.writeHostPhys(vmcb + OFF[name], u64(BigInt(v)).subarray(0, size));
}
function get(core: Core, vmcb: number, name: string): bigint {
  const size = Math.min(SIZE[name], 8);
  const b = new Uint8Array(8);
  b.set(core.readHostPhys(vmcb + OFF[name], size));
  return new DataView(b.buffer).getBigUint64(0, true);
}

/** Long-mode nested tables in VMM RAM (APM vol. 2, 15.25.3 and 5.3): PML4[0] -> PDPT[0] ->
 *  one PD whose first `mb / 2` entries map 2-MB pages identically (P, RW, US, PS). */
function identityNpt(core: Core, mb: number): number {
  const base = core.addVmmRam(3 * 4096);
  const [pml4, pdpt, pd] = [base, base + 4096, base + 8192];
  core.writeHostPhys(pml4, u64(BigInt(pdpt | 7)));
  core.writeHostPhys(pdpt, u64(BigInt(pd | 7)));
  for (let i = 0; i < mb / 2; i++) core.writeHostPhys(pd + 8 * i, u64(BigInt((i << 21) | 0x87)));
  return pml4;
}

/** A core with `code` at CODE in guest RAM and a VMCB in VMM RAM for a flat 32-bit guest at
 *  CPL 0 running it, intercepting CPUID, HLT (and VMRUN, as 15.5.1 requires). */
async function guest(code: number[], ram = 4 << 20, npMb = 4) {
  const core = await createCore({ ramBytes: ram });
  core.writePhys(CODE, Uint8Array.from(code));
  const vmcb = core.addVmmRam(4096);
  put(core, vmcb, 'INTERCEPT_MISC1', I1_CPUID | I1_HLT);
  put(core, vmcb, 'INTERCEPT_MISC2', I2_VMRUN);
  put(core, vmcb, 'GUEST_ASID', 1);
  put(core, vmcb, 'NP_CONTROL', 1);
  put(core, vmcb, 'N_CR3', identityNpt(core, npMb));
  for (const [s, sel, attr] of [['CS', 8, 0xc9b], ['SS', 0x10, 0xc93], ['DS', 0x10, 0xc93],
    ['ES', 0x10, 0xc93]] as const) {
    put(core, vmcb, `${s}_SELECTOR`, sel); put(core, vmcb, `${s}_ATTRIB`, attr);
    put(core, vmcb, `${s}_LIMIT`, 0xffffffff); put(core, vmcb, `${s}_BASE`, 0);
  }
  put(core, vmcb, 'EFER', 1 << 12); // SVME (15.5.1: VMRUN refuses a guest without it)
  put(core, vmcb, 'CR0', 0x11);
  put(core, vmcb, 'DR6', 0xffff0ff0); put(core, vmcb, 'DR7', 0x400);
  put(core, vmcb, 'RFLAGS', 2);
  put(core, vmcb, 'RIP', CODE);
  put(core, vmcb, 'RSP', 0x8000);
  return { core, vmcb };
}

function enterRun(core: Core, vmcb: number): bigint {
  expect(core.svmHostEnter(vmcb)).toBe(0);
  expect(core.run(10_000).reason).toBe('vmexit');
  return get(core, vmcb, 'EXITCODE');
}

describe('host-owned AMD-V guest with nested paging', () => {
  it('runs to CPUID (72h, NRIP = RIP + 2), then to HLT (78h)', async () => {
    const { core, vmcb } = await guest([0xb8, 0x34, 0x12, 0, 0, ...CPUID, ...HLT]);
    expect(enterRun(core, vmcb)).toBe(EXIT.CPUID);
    expect(get(core, vmcb, 'RIP')).toBe(BigInt(CODE + 5)); // fault-like: CPUID's own RIP
    expect(get(core, vmcb, 'NRIP')).toBe(BigInt(CODE + 7));
    expect(get(core, vmcb, 'RAX')).toBe(0x1234n); // RAX goes to the VMCB (15.5.1)
    put(core, vmcb, 'RIP', get(core, vmcb, 'NRIP')); // the VMM skips the instruction
    expect(enterRun(core, vmcb)).toBe(EXIT.HLT);
    expect(get(core, vmcb, 'RIP')).toBe(BigInt(CODE + 7));
    expect(get(core, vmcb, 'NRIP')).toBe(BigInt(CODE + 8));
    const c = core.counters();
    expect(c.vmEntries).toBe(2);
    expect(c.vmExits).toBe(2);
    const by = core.svmExitCounts();
    expect(by[0x72]).toBe(1);
    expect(by[0x78]).toBe(1);
  });

  it('a read beyond the nested tables is #NPF (400h): error code, address; hostEmulate ' +
    'then runs the read with guest-physical = host-physical', async () => {
    // mov eax, [0x500000]; hlt. The tables map 4 MB; RAM is 8 MB.
    const { core, vmcb } = await guest([0xa1, 0, 0, 0x50, 0, ...HLT], 8 << 20, 4);
    core.writePhys(0x500000, Uint8Array.from([0x78, 0x56, 0x34, 0x12]));
    expect(enterRun(core, vmcb)).toBe(EXIT.NPF);
    // Not present (bit 0 clear), a read (bit 1 clear), a user access (bit 2: every nested
    // access is), the final guest-physical address (bit 32).
    expect(get(core, vmcb, 'EXITINFO1')).toBe((1n << 32n) | 4n);
    expect(get(core, vmcb, 'EXITINFO2')).toBe(0x500000n);
    expect(get(core, vmcb, 'RIP')).toBe(BigInt(CODE));
    expect(core.counters().nestedWalks).toBeGreaterThan(0);
    // The VMM emulates the one instruction (as KVM's emulator does for MMIO).
    expect(core.hostEmulate(1).reason).toBe('budget');
    expect(get(core, vmcb, 'RAX')).toBe(0x12345678n);
    expect(get(core, vmcb, 'RIP')).toBe(BigInt(CODE + 5));
    expect(enterRun(core, vmcb)).toBe(EXIT.HLT);
  });

  it('a VMCB without the VMRUN intercept is refused: 0x80000000, EXITCODE -1', async () => {
    const { core, vmcb } = await guest([...HLT]);
    put(core, vmcb, 'INTERCEPT_MISC2', 0);
    expect(core.svmHostEnter(vmcb)).toBe(0x80000000);
    expect(get(core, vmcb, 'EXITCODE')).toBe(EXIT.INVALID);
    // Not in a guest: the core runs its own state (no exit to the VMM).
    put(core, vmcb, 'INTERCEPT_MISC2', I2_VMRUN);
    expect(enterRun(core, vmcb)).toBe(EXIT.HLT);
  });

  /** The guest of the 2D-walk tests: mov eax, [0x2000]; cpuid, with guest paging (PD at
   *  0x10000, PT at 0x11000, identity) under nested tables with a page table for the first
   *  2 MB (four references per nested walk without caches). */
  async function pagedNptGuest() {
    const { core, vmcb } = await guest([0xa1, 0, 0x20, 0, 0, ...CPUID]);
    core.writePhys(0x10000, Uint8Array.from([0x07, 0x10, 0x01, 0]));
    const pt = new Uint8Array(4096);
    const dv = new DataView(pt.buffer);
    for (let i = 0; i < 1024; i++) dv.setUint32(4 * i, (i << 12) | 7, true);
    core.writePhys(0x11000, pt);
    const base = core.addVmmRam(4 * 4096);
    const [pml4, pdpt, pd, npt] = [base, base + 4096, base + 8192, base + 12288];
    core.writeHostPhys(pml4, u64(BigInt(pdpt | 7)));
    core.writeHostPhys(pdpt, u64(BigInt(pd | 7)));
    core.writeHostPhys(pd, u64(BigInt(npt | 7)));
    for (let i = 0; i < 512; i++) core.writeHostPhys(npt + 8 * i, u64(BigInt((i << 12) | 7)));
    put(core, vmcb, 'N_CR3', pml4);
    put(core, vmcb, 'CR3', 0x10000);
    put(core, vmcb, 'CR0', 0x80000011);
    return { core, vmcb };
  }

  it('with the page-walk cache and the nested TLB, the 2D walks of two pages cost 2 + 7 ' +
    'nested references whatever the number of guest walks', async () => {
    // The guest touches the pages 0x1000 (code) and 0x2000 (data) through its PDE (gPA
    // 0x10000) and one PT (gPA 0x11000). Nested walks: the PDE's (4 references, filling
    // the page-walk cache with PML4E, PDPE and PDE), the PTE's (upper levels cached: 1),
    // the code page's (1), the data page's (1): 7; every later reference to those four
    // guest-physical pages hits the nested TLB (Bhargava et al. 2008, section 4: the
    // page-walk cache skips the upper nested levels, the nested TLB whole nested walks).
    const { core, vmcb } = await pagedNptGuest();
    core.setNestedCaches(true, true);
    expect(enterRun(core, vmcb)).toBe(EXIT.CPUID);
    const c = core.counters();
    expect(c.pageWalks).toBeGreaterThanOrEqual(2);
    expect(c.walkMemRefs).toBe(2 * c.pageWalks); // the guest's own references
    expect(c.nestedWalks).toBe(4); // nested TLB misses: gPA 0x10000, 0x11000, 0x1000, 0x2000
    expect(c.nestedTlbMisses).toBe(4);
    expect(c.nestedTlbHits).toBe(3 * c.pageWalks - 4);
    expect(c.nestedWalkMemRefs).toBe(4 + 1 + 1 + 1);
    expect([c.pwcMisses, c.pwcHits]).toEqual([3, 9]);
    // Page-walk cache only: every nested walk is made, its upper levels cached.
    const p = await pagedNptGuest();
    p.core.setNestedCaches(true, false);
    expect(enterRun(p.core, p.vmcb)).toBe(EXIT.CPUID);
    const q = p.core.counters();
    expect(q.nestedWalks).toBe(3 * q.pageWalks);
    expect(q.nestedWalkMemRefs).toBe(4 + (3 * q.pageWalks - 1));
    expect(q.nestedTlbHits + q.nestedTlbMisses).toBe(0);
  });

  it('a 2-level guest walk under 4-level nested tables with 4-KB pages costs 14 references ' +
    '(Bhargava et al. 2008: (2 + 1)(4 + 1) - 1)', async () => {
    // mov eax, [0x2000]; cpuid. Guest paging: PD at 0x10000, PT at 0x11000 (identity).
    const { core, vmcb } = await guest([0xa1, 0, 0x20, 0, 0, ...CPUID]);
    core.writePhys(0x10000, Uint8Array.from([0x07, 0x10, 0x01, 0]));
    const pt = new Uint8Array(4096);
    const dv = new DataView(pt.buffer);
    for (let i = 0; i < 1024; i++) dv.setUint32(4 * i, (i << 12) | 7, true);
    core.writePhys(0x11000, pt);
    // Nested tables with a page table for the first 2 MB: four references per nested walk.
    const base = core.addVmmRam(4 * 4096);
    const [pml4, pdpt, pd, npt] = [base, base + 4096, base + 8192, base + 12288];
    core.writeHostPhys(pml4, u64(BigInt(pdpt | 7)));
    core.writeHostPhys(pdpt, u64(BigInt(pd | 7)));
    core.writeHostPhys(pd, u64(BigInt(npt | 7)));
    for (let i = 0; i < 512; i++) core.writeHostPhys(npt + 8 * i, u64(BigInt((i << 12) | 7)));
    put(core, vmcb, 'N_CR3', pml4);
    put(core, vmcb, 'CR3', 0x10000);
    put(core, vmcb, 'CR0', 0x80000011);
    core.setNestedCaches(false, false);
    expect(enterRun(core, vmcb)).toBe(EXIT.CPUID);
    const c = core.counters();
    expect(c.pageWalks).toBeGreaterThanOrEqual(2); // the code page and the data page
    expect(c.walkMemRefs).toBe(2 * c.pageWalks);
    expect(c.walkMemRefs + c.nestedWalkMemRefs).toBe(14 * c.pageWalks);
  });

  it('VMCB clean bits (15.15.3): a field whose clean bit is 0 is read again at VMRUN',
    async () => {
      const { core, vmcb } = await guest([...CPUID, ...CPUID, ...HLT]);
      expect(enterRun(core, vmcb)).toBe(EXIT.CPUID);
      // The VMM drops the CPUID intercept and says the intercept group changed (bit 0 clear,
      // the others set): the next VMRUN must use the new vector.
      put(core, vmcb, 'INTERCEPT_MISC1', I1_HLT);
      put(core, vmcb, 'VMCB_CLEAN', 0xfffffffe);
      put(core, vmcb, 'RIP', get(core, vmcb, 'NRIP'));
      expect(enterRun(core, vmcb)).toBe(EXIT.HLT);
      expect(get(core, vmcb, 'RIP')).toBe(BigInt(CODE + 4));
    });
});
