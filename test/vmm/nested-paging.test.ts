/**
 * The VMM's lazily built identity EPT/NPT and the CPUID leaves it offers, against the
 * manuals' formats: a 4-level walk written here from Intel SDM vol. 3C 29.3.2 (EPT) and
 * AMD APM vol. 2 5.3.3 (long-mode entries, as NPT uses them: 15.25), over a memory of
 * our own, must find each mapped guest page at the same host-physical address.
 */
import { describe, it, expect } from 'vitest';
import type { CoreVmm } from '../../bindings/core/types.js';
import { NestedTables } from '../../bindings/vmm/nested-paging.js';
import { vmmCpuid, VMM_SIGNATURE } from '../../bindings/vmm/cpuid.js';

const RAM = 64 << 20;

/** A CoreVmm over a sparse memory: guest RAM below RAM (but the legacy hole), then VMM RAM. */
function fakeVmm(): CoreVmm & { mem: Map<number, bigint> } {
  const mem = new Map<number, bigint>();
  let next = RAM;
  const fail = () => { throw new Error('not used'); };
  return {
    mem, vmx: true, svm: true,
    addVmmRam(bytes) { const at = next; next += bytes; return at; },
    readHost64: (a) => mem.get(a) ?? 0n,
    writeHost64: (a, v) => { mem.set(a, v); },
    readHost32: fail, writeHost32: fail,
    isRamPage: (gpa) => gpa < RAM && !(gpa >= 0xa0000 && gpa < 0x100000),
    readGpr: fail, writeGpr: fail, cancelInterrupt: fail,
    vmcsRead: fail, vmcsWrite: fail, vmcsClearHost: fail, vmxHostEnter: fail,
    svmHostEnter: fail, hostEmulate: fail, setNestedCaches: fail,
    setTlbTags: fail, counters: fail,
  };
}

/** A 4-level walk of a 32-bit guest-physical address: the leaf entry, or undefined when an
 *  entry is not present (EPT: bits 2:0 all zero, SDM 29.3.2; NPT: P, bit 0, APM 5.3.3). */
function walk(vmm: ReturnType<typeof fakeVmm>, root: number, gpa: number, format: 'ept' | 'npt') {
  const present = (e: bigint) => (format === 'ept' ? (e & 7n) !== 0n : (e & 1n) !== 0n);
  const idx = [0, gpa >>> 30, (gpa >>> 21) & 511, (gpa >>> 12) & 511]; // 47:39 .. 20:12
  let table = BigInt(root);
  let e = 0n;
  for (const i of idx) {
    e = vmm.readHost64(Number(table) + i * 8);
    if (!present(e)) return undefined;
    expect(e & (1n << 7n), 'no large pages').toBe(0n);
    table = e & 0x000ffffffffff000n; // bits 51:12
  }
  return e;
}

describe('identity EPT and NPT built on violations', () => {
  for (const format of ['ept', 'npt'] as const) {
    it(`${format}: maps RAM pages identity with full rights, leaves the legacy hole`, () => {
      const vmm = fakeVmm();
      const t = new NestedTables(vmm, format);
      const pages = [0, 0x9f000, 0x100000, 0x1234567, RAM - 4096];
      for (const gpa of pages) {
        expect(t.mappable(gpa)).toBe(true);
        expect(t.map(gpa)).toBe(true);
      }
      expect(t.map(0x1234000)).toBe(false); // already mapped
      expect(t.pagesMapped).toBe(pages.length);
      for (const gpa of pages) {
        const e = walk(vmm, t.root, gpa, format)!;
        expect(Number(e & 0x000ffffffffff000n)).toBe(gpa - (gpa % 4096));
        if (format === 'ept') {
          expect(e & 7n).toBe(7n);               // read, write, execute
          expect((e >> 3n) & 7n).toBe(6n);       // memory type WB (SDM 29.3.7)
        } else {
          expect(e & 7n).toBe(7n);               // present, writable, user (APM 15.25.5)
        }
      }
      expect(walk(vmm, t.root, 0x5000000, format)).toBeUndefined();
      for (const gpa of [0xa0000, 0xb8000, 0xf0000, RAM, 0xfee00000]) {
        expect(t.mappable(gpa)).toBe(false);
      }
    });
  }

  for (const format of ['ept', 'npt'] as const) {
    it(`${format}: with large pages, a region of RAM gets one 2 MiB leaf; the first 2 MiB ` +
      '(the legacy hole) stays in 4 KiB pages', () => {
      const vmm = fakeVmm();
      const t = new NestedTables(vmm, format, true);
      expect(t.map(0x1234567)).toBe(true);
      expect(t.map(0x1300000)).toBe(false); // the same 2 MiB region
      expect([t.largeMapped, t.pagesMapped]).toEqual([1, 512]);
      // The PDE of gPA 0x1234567: PML4[0] -> PDPT[0] -> PD[9], bit 7 a 2 MiB leaf at
      // 0x1200000 (EPT: SDM 29.3.2 table 29-4, RWX and WB; NPT: APM 5.3.4, P RW US PS).
      const pdpt = Number(vmm.readHost64(t.root) & 0x000ffffffffff000n);
      const pd = Number(vmm.readHost64(pdpt) & 0x000ffffffffff000n);
      const pde = vmm.readHost64(pd + 9 * 8);
      expect(pde & (1n << 7n)).toBe(1n << 7n);
      expect(Number(pde & 0x000fffffffe00000n)).toBe(0x1200000);
      expect(pde & 0x7fn).toBe(format === 'ept' ? 7n | (6n << 3n) : 7n);
      expect(t.map(0x5000)).toBe(true); // region 0 holds the hole: a 4 KiB page
      expect([t.largeMapped, t.pagesMapped]).toEqual([1, 513]);
    });
  }

  it('EPTP: write-back, a 4-level walk, the root (SDM vol. 3C 25.6.11)', () => {
    const t = new NestedTables(fakeVmm(), 'ept');
    expect(t.eptp & 7n).toBe(6n);
    expect((t.eptp >> 3n) & 7n).toBe(3n);
    expect(Number(t.eptp & ~0xfffn)).toBe(t.root);
  });
});

describe('the CPUID the VMM offers', () => {
  const cpu = { eax: 0x11, ebx: 0x22, ecx: 0x33, edx: 0x44 };
  it('leaf 0x40000000: the maximum VMM leaf and "wasmvisorVMM" in EBX, ECX, EDX', () => {
    const r = vmmCpuid(0x40000000, cpu);
    expect(r.eax).toBe(0x40000001);
    // The bytes in register order EBX, ECX, EDX, each little-endian, as KVM's
    // "KVMKVMKVM\0\0\0" and Xen's "XenVMMXenVMM" are read (Linux arch/x86 hypervisor.c).
    const bytes = new Uint8Array(new Uint32Array([r.ebx, r.ecx, r.edx]).buffer);
    expect(new TextDecoder().decode(bytes)).toBe(VMM_SIGNATURE);
    expect(VMM_SIGNATURE).toHaveLength(12);
    expect(vmmCpuid(0x40000001, cpu)).toEqual({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
  });
  it('leaf 1: the hypervisor bit (ECX 31) set, VMX (ECX 5) hidden; other leaves the CPU\'s', () => {
    expect(vmmCpuid(1, { ...cpu, ecx: 0x20 }).ecx).toBe(0x80000000);
    expect(vmmCpuid(0x80000001, { ...cpu, ecx: 0x7 }).ecx).toBe(0x3);
    expect(vmmCpuid(0, cpu)).toEqual(cpu);
  });
});
