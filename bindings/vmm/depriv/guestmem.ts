/**
 * The guest's memory as a hypercall sees it: linear addresses below the VMM's region,
 * walked through the guest's current page directory with supervisor rights and CR0.WP
 * (SDM vol. 3A, 4.6: a supervisor write needs R/W in both levels when WP = 1), so a
 * hypercall argument can name only what the guest itself could read or write. Anything
 * else is a GuestFault, which the hypercall turns into -EFAULT.
 */
import { readPhys32 } from '../../core/phys32.js';
import type { Core } from '../../core/types.js';
import { HYPERVISOR_VIRT_START } from '../pv/xen.js';

export class GuestFault extends Error {
  constructor(readonly va: number) { super(`guest address 0x${(va >>> 0).toString(16)}`); }
}

const P = 1, RW = 2, PS = 0x80;

export class GuestMemory {
  constructor(private readonly core: Core, private readonly cr3: () => number) {}

  private read32(pa: number): number {
    return readPhys32(this.core, pa);
  }

  /** The physical address of `va`, or a GuestFault. */
  translate(va: number, write: boolean): number {
    va >>>= 0;
    if (va >= HYPERVISOR_VIRT_START) throw new GuestFault(va);
    const pde = this.read32((this.cr3() & 0xfffff000) + (va >>> 22) * 4);
    if (!(pde & P) || (pde & PS) || (write && !(pde & RW))) throw new GuestFault(va);
    const pt = pde & 0xfffff000;
    if (pt + 4096 > this.core.ramBytes) throw new GuestFault(va);
    const pte = this.read32(pt + ((va >>> 12) & 0x3ff) * 4);
    if (!(pte & P) || (write && !(pte & RW))) throw new GuestFault(va);
    const pa = ((pte & 0xfffff000) | (va & 0xfff)) >>> 0;
    if (pa >= this.core.ramBytes) throw new GuestFault(va);
    return pa;
  }

  read(va: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = (va + done) >>> 0;
      if (a < va >>> 0 && done > 0) throw new GuestFault(a); // wrapped past 4 GiB
      const n = Math.min(len - done, 4096 - (a & 0xfff));
      out.set(this.core.readPhys(this.translate(a, false), n), done);
      done += n;
    }
    return out;
  }

  write(va: number, data: Uint8Array): void {
    // Translate every page first: a write that faults part-way changes nothing.
    const parts: [number, number, number][] = [];
    let done = 0;
    while (done < data.length) {
      const a = (va + done) >>> 0;
      if (a < va >>> 0 && done > 0) throw new GuestFault(a);
      const n = Math.min(data.length - done, 4096 - (a & 0xfff));
      parts.push([this.translate(a, true), done, n]);
      done += n;
    }
    for (const [pa, at, n] of parts) this.core.writePhys(pa, data.subarray(at, at + n));
  }

  u32(va: number): number {
    return new DataView(this.read(va, 4).buffer).getUint32(0, true);
  }
  setU32(va: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.write(va, b);
  }
}
