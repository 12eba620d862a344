/**
 * Direct paging as Xen does it (xen/arch/x86/mm.c in spirit): the guest's page tables are
 * the ones the CPU walks; the guest may only read them, and changes them through
 * validated hypercalls. Every frame has an owner, a type (none, writable, L1 page table,
 * L2 page directory) with a type count, and a reference count of the mappings that name
 * it. The invariants, checked by `check()`:
 *
 *  - a frame is a page table (L1/L2 with a type count) or mapped writable, never both;
 *  - every present entry of a live page table names a frame its domain owns;
 *  - type counts = pins + base pointers + PDEs (L1) / writable PTEs (writable);
 *    reference counts = present entries of live tables naming the frame;
 *  - slots 1008-1023 of every live page directory are the VMM's (slot 1023 its region).
 */
import { readPhys32, writePhys32 } from '../../core/phys32.js';
import type { Core } from '../../core/types.js';
import { EINVAL, EPERM, FIRST_XEN_L2_SLOT } from './xen.js';

export const T_NONE = 0, T_WRITABLE = 1, T_L1 = 2, T_L2 = 3;
export const TYPE_NAMES = ['none', 'writable', 'l1', 'l2'];
export const OWNER_FREE = 0xffff;

const P = 1, RW = 2, PS = 0x80;

/** A refused update: the Xen error code to return (negated). */
export class MmError extends Error {
  constructor(readonly errno: number, message: string) { super(message); }
}

export class FrameTable {
  readonly owner: Uint16Array;
  readonly type: Uint8Array;
  readonly typeCount: Uint32Array;
  readonly refCount: Uint32Array;
  readonly pinned: Uint8Array;
  /** The page directory each domain's CPU uses (its CR3 frame), by domain id. */
  readonly baseptr = new Map<number, number>();

  constructor(private readonly core: Core, readonly nrFrames: number,
    private readonly vmmPde: number) {
    this.owner = new Uint16Array(nrFrames).fill(OWNER_FREE);
    this.type = new Uint8Array(nrFrames);
    this.typeCount = new Uint32Array(nrFrames);
    this.refCount = new Uint32Array(nrFrames);
    this.pinned = new Uint8Array(nrFrames);
  }

  private page(mfn: number): Uint32Array {
    const b = this.core.readPhys(mfn * 4096, 4096);
    return new Uint32Array(b.buffer, b.byteOffset, 1024);
  }
  readEntry(mfn: number, i: number): number {
    return readPhys32(this.core, mfn * 4096 + i * 4);
  }
  private writeEntry(mfn: number, i: number, v: number): void {
    writePhys32(this.core, mfn * 4096 + i * 4, v);
  }

  /** True when `dom` may name frame `mfn` in its tables. */
  owns(dom: number, mfn: number): boolean {
    return Number.isInteger(mfn) && mfn >= 0 && mfn < this.nrFrames && this.owner[mfn] === dom;
  }

  // ---- references from entries ----

  /** Takes the references a present L1 entry holds (a mapping; a writable type). */
  private getL1e(dom: number, e: number): void {
    if (!(e & P)) return;
    const mfn = e >>> 12;
    if (!this.owns(dom, mfn)) {
      throw new MmError(EPERM, `PTE names frame 0x${mfn.toString(16)}, not the domain's`);
    }
    if (e & RW) this.getType(dom, mfn, T_WRITABLE);
    this.refCount[mfn]++;
  }
  private putL1e(e: number): void {
    if (!(e & P)) return;
    const mfn = e >>> 12;
    this.refCount[mfn]--;
    if (e & RW) this.putType(mfn);
  }
  /** A present L2 entry: the L1 table it names gets a type reference. */
  private getL2e(dom: number, e: number): void {
    if (!(e & P)) return;
    if (e & PS) throw new MmError(EINVAL, '4 MiB pages are not offered to PV guests');
    const mfn = e >>> 12;
    if (!this.owns(dom, mfn)) {
      throw new MmError(EPERM, `PDE names frame 0x${mfn.toString(16)}, not the domain's`);
    }
    this.getType(dom, mfn, T_L1);
    this.refCount[mfn]++;
  }
  private putL2e(e: number): void {
    if (!(e & P)) return;
    const mfn = e >>> 12;
    this.refCount[mfn]--;
    this.putType(mfn);
  }

  // ---- types ----

  /** Takes a type reference, validating the frame when it becomes a page table. */
  getType(dom: number, mfn: number, t: number): void {
    if (!this.owns(dom, mfn)) {
      throw new MmError(EPERM, `frame 0x${mfn.toString(16)} is not the domain's`);
    }
    if (this.typeCount[mfn] > 0) {
      if (this.type[mfn] !== t) {
        throw new MmError(EINVAL, `frame 0x${mfn.toString(16)} is ${TYPE_NAMES[this.type[mfn]]
        }, not ${TYPE_NAMES[t]} (a frame is a page table or writable, never both)`);
      }
      this.typeCount[mfn]++;
      return;
    }
    this.type[mfn] = t;
    this.typeCount[mfn] = 1;
    if (t === T_L1 || t === T_L2) {
      try {
        this.validate(dom, mfn, t);
      } catch (e) {
        this.type[mfn] = T_NONE;
        this.typeCount[mfn] = 0;
        throw e;
      }
    }
  }

  putType(mfn: number): void {
    if (--this.typeCount[mfn] > 0) return;
    const t = this.type[mfn];
    this.type[mfn] = T_NONE;
    if (t !== T_L1 && t !== T_L2) return;
    const pg = this.page(mfn);
    const n = t === T_L2 ? FIRST_XEN_L2_SLOT : 1024;
    for (let i = 0; i < n; i++) {
      if (t === T_L1) this.putL1e(pg[i]); else this.putL2e(pg[i]);
    }
  }

  private validate(dom: number, mfn: number, t: number): void {
    const pg = this.page(mfn);
    const n = t === T_L2 ? FIRST_XEN_L2_SLOT : 1024;
    let i = 0;
    try {
      for (; i < n; i++) {
        if (t === T_L1) this.getL1e(dom, pg[i]); else this.getL2e(dom, pg[i]);
      }
    } catch (e) {
      for (let j = 0; j < i; j++) {
        if (t === T_L1) this.putL1e(pg[j]); else this.putL2e(pg[j]);
      }
      throw e;
    }
    if (t === T_L2) {
      // The VMM's slots (Xen's init_xen_l2_slots): 1008-1022 empty, 1023 the region.
      for (let s = FIRST_XEN_L2_SLOT; s < 1023; s++) this.writeEntry(mfn, s, 0);
      this.writeEntry(mfn, 1023, this.vmmPde);
    }
  }

  // ---- the operations of mmu_update / update_va_mapping / mmuext_op ----

  /**
   * Writes `val` into the 4-byte entry at machine address `ptr` (MMU_NORMAL_PT_UPDATE):
   * validated as a PTE in an L1 table, a PDE in a page directory, or a plain store into a
   * frame that is neither (which then must be the domain's and not a page table).
   */
  updateEntry(dom: number, ptr: number, val: number): void {
    const mfn = ptr >>> 12, i = (ptr & 0xfff) >>> 2;
    if (!this.owns(dom, mfn)) {
      throw new MmError(EPERM, `update in frame 0x${mfn.toString(16)}, not the domain's`);
    }
    const live = this.typeCount[mfn] > 0;
    const t = live ? this.type[mfn] : T_NONE;
    const old = this.readEntry(mfn, i);
    if (t === T_L1) {
      this.getL1e(dom, val);
      this.writeEntry(mfn, i, val);
      this.putL1e(old);
    } else if (t === T_L2) {
      if (i >= FIRST_XEN_L2_SLOT) {
        throw new MmError(EPERM, `PDE slot ${i} is in the hypervisor's region`);
      }
      this.getL2e(dom, val);
      this.writeEntry(mfn, i, val);
      this.putL2e(old);
    } else {
      this.getType(dom, mfn, T_WRITABLE);
      this.writeEntry(mfn, i, val);
      this.putType(mfn);
    }
  }

  pin(dom: number, mfn: number, t: number): void {
    if (!this.owns(dom, mfn)) throw new MmError(EPERM, 'pin: not the domain\'s frame');
    if (this.pinned[mfn]) throw new MmError(EINVAL, 'pin: already pinned');
    this.getType(dom, mfn, t);
    this.pinned[mfn] = 1;
  }
  unpin(dom: number, mfn: number): void {
    if (!this.owns(dom, mfn)) throw new MmError(EPERM, 'unpin: not the domain\'s frame');
    if (!this.pinned[mfn]) throw new MmError(EINVAL, 'unpin: not pinned');
    this.pinned[mfn] = 0;
    this.putType(mfn);
  }
  /** MMUEXT_NEW_BASEPTR: the frame becomes (or stays) an L2 and the domain's CR3. */
  newBaseptr(dom: number, mfn: number): void {
    this.getType(dom, mfn, T_L2);
    const old = this.baseptr.get(dom);
    this.baseptr.set(dom, mfn);
    if (old !== undefined) this.putType(old);
  }

  /** The L1 entry's machine address for linear `va` in `dom`'s current tables. */
  l1eAddress(dom: number, va: number): number {
    const base = this.baseptr.get(dom);
    if (base === undefined) throw new MmError(EINVAL, 'no page directory');
    const pde = this.readEntry(base, va >>> 22);
    if (!(pde & P) || (va >>> 22) >= FIRST_XEN_L2_SLOT) {
      throw new MmError(EINVAL, `no page table maps 0x${(va >>> 0).toString(16)}`);
    }
    return ((pde & 0xfffff000) | (((va >>> 12) & 0x3ff) << 2)) >>> 0;
  }

  /** Recomputes every count from the tables and compares: the invariants above. Returns
   *  the broken ones (empty when all hold). */
  check(): string[] {
    const bad: string[] = [];
    const n = this.nrFrames;
    const refs = new Uint32Array(n), tcount = new Uint32Array(n);
    const rw = new Uint8Array(n);
    for (let f = 0; f < n; f++) {
      if (this.typeCount[f] === 0 && this.type[f] !== T_NONE) {
        bad.push(`frame ${f}: type without count`);
      }
      if (this.typeCount[f] === 0) continue;
      const t = this.type[f];
      if (t !== T_L1 && t !== T_L2) continue;
      const pg = this.page(f);
      const lim = t === T_L2 ? FIRST_XEN_L2_SLOT : 1024;
      for (let i = 0; i < lim; i++) {
        const e = pg[i];
        if (!(e & P)) continue;
        const m = e >>> 12;
        if (m >= n || this.owner[m] !== this.owner[f]) {
          bad.push(`frame ${f}[${i}] names frame ${m} of another owner`);
          continue;
        }
        refs[m]++;
        if (t === T_L2) tcount[m]++;
        else if (e & RW) { tcount[m]++; rw[m] = 1; }
      }
      // The CPU sets the accessed bit (5) of the PDE it walks (SDM vol. 3A, 4.8).
      if (t === T_L2 && (pg[1023] & ~0x20) >>> 0 !== (this.vmmPde & ~0x20) >>> 0) {
        bad.push(`L2 ${f}: slot 1023 not the VMM's`);
      }
    }
    for (const b of this.baseptr.values()) tcount[b]++;
    for (let f = 0; f < n; f++) {
      if (this.pinned[f]) tcount[f]++;
      if (refs[f] !== this.refCount[f]) {
        bad.push(`frame ${f}: refs ${this.refCount[f]} != ${refs[f]}`);
      }
      if (tcount[f] !== this.typeCount[f]) {
        bad.push(`frame ${f}: type count ${this.typeCount[f]} != ${tcount[f]}`);
      }
      if (rw[f] && this.type[f] !== T_WRITABLE) bad.push(`frame ${f}: mapped writable and a table`);
    }
    return bad;
  }
}
