/**
 * Shadow paging (issue 10, section 1), in the spirit of KVM's shadow MMU (arch/x86/kvm/mmu/
 * mmu.c and paging_tmpl.h): the CPU walks tables the VMM builds (guest-linear to host-
 * physical) instead of the guest's own, which the VMM reads, write-protects and follows.
 *
 * - Shadow pages live in VMM RAM and are keyed by the guest frame they shadow and their
 *   role: `pd:F` shadows the guest page directory at frame F (a root), `pt:F` the guest
 *   page table at F, `d:B:G` is a direct table for the 4 MiB region at frame B (a guest
 *   4 MiB page split into 4 KiB entries, or the identity map of a guest with paging off;
 *   G: the guest entry's global bit). One shadow table serves every guest directory that
 *   points to the same guest table, as KVM's shadow pages do: the directory-level rights
 *   (W, U) sit in the shadow directory entry, the table-level ones in the shadow entry,
 *   and the CPU combines them as it combines the guest's (Intel SDM vol. 3A, 4.6.1).
 * - Hidden faults: a #PF the guest's tables allow fills the entries on the way (the
 *   guest's accessed bits set as the CPU would, 4.8); true faults go back to the guest
 *   with the error code of 4.7 and CR2 = the address; a write to a frame that is a guest
 *   page table (write-protected in every shadow) is a trace fault: the VMM emulates the
 *   store and resynchronizes the entries that changed (a copy of each shadowed guest
 *   table is kept to find them).
 * - Dirty bits through write protection: a page is mapped writable only once its guest
 *   entry is dirty; the first write faults and sets D (4.8).
 * - Roots are cached per guest CR3 (bounded, least recently used evicted): a context
 *   switch back to a known address space costs no rebuild. Global pages keep their G bit
 *   in the shadow, so the CPU keeps them across CR3 loads when CR4.PGE is set (4.10.2.4).
 * - A shadow table written three times in a row with no fault through it is dropped
 *   (KVM's write-flooding detection): a frame the guest reuses as data stops trapping.
 *
 * The VMM (modes/vtx.ts, modes/svm.ts; later the software modes) calls onPageFault,
 * onCr3Write, onControl (CR0/CR4), onInvlpg and afterTrace, and enters the guest with
 * CR3 = `root` and the CR0/CR4 of `realCr0`/`realCr4`.
 */
import type { CoreVmm } from '../../core/types.js';

/** Paging-entry bits (SDM vol. 3A, tables 4-4 to 4-6). */
const P = 1, W = 2, U = 4, PWT_PCD = 0x18, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
/** CR0.PE, CR0.WP, CR0.PG (SDM vol. 3A, 2.5); CR4.PSE, CR4.PGE. */
export const CR0_PE = 1, CR0_WP = 1 << 16, CR0_PG = 0x80000000;
export const CR4_PSE = 1 << 4, CR4_PGE = 1 << 7;
/** #PF error code bits (SDM vol. 3A, 4.7). */
const PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8;
/** PDE bits 21:13 of a 4 MiB page: reserved without PSE-36 (table 4-4). */
const PDE_4M_RESERVED = 0x003fe000;
const PAGE = 4096;
/** Pages of VMM RAM taken at a time, and the most the shadows may use (then eviction). */
const CHUNK_PAGES = 64;
export const DEFAULT_MAX_PAGES = 1024;
/** Roots kept for guest CR3 values not in use (the root cache). */
export const DEFAULT_ROOT_CACHE = 16;
/** Trace faults on one shadow table with no fault through it before it is dropped. */
const FLOOD_LIMIT = 3;

/** What a #PF in the shadow tables turned out to be. */
export type FaultKind = 'hidden' | 'true' | 'trace' | 'emulate';

export interface ShadowStats {
  /** #PFs the guest's tables allow: the VMM filled shadow entries (or set A/D). */
  hiddenFaults: number;
  /** #PFs the guest's tables give too: reflected to the guest. */
  trueFaults: number;
  /** Writes to a write-protected guest page table: emulated, then resynchronized. */
  traceFaults: number;
  /** Faults on pages that are not RAM (MMIO, ROM, holes), or supervisor writes with the
   *  guest's CR0.WP clear: the instruction runs in the VMM's emulator. */
  emulatedFaults: number;
  /** Shadow tables built and evicted (by the bound, a flood, or a paging-mode change). */
  pagesBuilt: number;
  pagesEvicted: number;
  /** Shadow tables in use now. */
  pagesLive: number;
  /** CR3 loads, and how the root cache answered them. */
  cr3Switches: number;
  rootHits: number;
  rootMisses: number;
  /** Shadow entries resynchronized after a trace fault. */
  resyncs: number;
  /** INVLPGs the guest executed. */
  invlpgs: number;
}

interface SPage {
  key: string;
  hpa: number;
  kind: 'pd' | 'pt' | 'd';
  /** The guest frame shadowed (pd, pt) or the first frame of the 4 MiB region (d). */
  gfn: number;
  /** Shadow directory entries (host-physical addresses) that point to this table. */
  parents: Set<number>;
  /** The guest table as last synchronized (pd, pt). */
  copy?: Uint32Array;
  lastUse: number;
  flood: number;
}

export interface ShadowOptions {
  maxPages?: number;
  rootCache?: number;
  /** Copies guest RAM out (Core.readPhys): one call per guest table read instead of 1024. */
  readPhys?: (gpa: number, length: number) => Uint8Array;
}

export class ShadowMmu {
  private readonly pages = new Map<string, SPage>();
  private readonly byHpa = new Map<number, SPage>();
  /** Guest frames that are shadowed page tables (write-protected), and their pages. */
  private readonly traced = new Map<number, SPage[]>();
  /** Writable shadow entries by the guest frame they map: write-protected when the frame
   *  becomes a shadowed table (KVM's rmap). */
  private readonly rmap = new Map<number, Set<number>>();
  private readonly free: number[] = [];
  private allocated = 0;
  private readonly maxPages: number;
  private readonly rootCache: number;
  private readonly readPhys: ((gpa: number, length: number) => Uint8Array) | undefined;
  private clock = 0;
  private current: SPage;
  private gCr0: number;
  private gCr3: number;
  private gCr4: number;
  /** Set by a 'true' fault: what the guest must see. */
  fault = { errorCode: 0, cr2: 0 };
  /** Set by a 'trace' fault: the frame and the guest-linear address written. */
  private traceFrame = -1;
  private readonly s: ShadowStats = {
    hiddenFaults: 0, trueFaults: 0, traceFaults: 0, emulatedFaults: 0, pagesBuilt: 0,
    pagesEvicted: 0, pagesLive: 0, cr3Switches: 0, rootHits: 0, rootMisses: 0, resyncs: 0,
    invlpgs: 0,
  };

  constructor(private readonly vmm: CoreVmm, cr0: number, cr3: number, cr4: number,
    o: ShadowOptions = {}) {
    this.maxPages = Math.max(8, o.maxPages ?? DEFAULT_MAX_PAGES);
    this.rootCache = Math.max(1, o.rootCache ?? DEFAULT_ROOT_CACHE);
    this.readPhys = o.readPhys;
    this.gCr0 = cr0 >>> 0; this.gCr3 = cr3 >>> 0; this.gCr4 = cr4 >>> 0;
    this.current = this.rootFor(this.gCr3, false);
  }

  // ---- What the VMM enters the guest with ----

  /** Host-physical address of the shadow root for the guest's current CR3 and mode. */
  get root(): number { return this.current.hpa; }
  /** The CR0 the CPU runs with: paging on (an identity shadow when the guest's is off, as
   *  KVM runs unpaged guests) and WP on, so write protection holds in supervisor mode. */
  realCr0(): number { return (this.gCr0 | CR0_PG | CR0_WP) >>> 0; }
  /** The CR4 the CPU runs with: the guest's, without PSE (shadows map 4 KiB pages only). */
  realCr4(): number { return (this.gCr4 & ~CR4_PSE) >>> 0; }
  /** The guest's own control registers (what its reads must see). */
  get guestCr0(): number { return this.gCr0; }
  get guestCr3(): number { return this.gCr3; }
  get guestCr4(): number { return this.gCr4; }
  private get paging(): boolean { return (this.gCr0 & CR0_PG) !== 0; }

  /** The root for guest CR3 `cr3` (cached, or built), made current. */
  rootFor(cr3: number, count = true): SPage {
    if (!this.paging) return this.table('d', 0, 0, true);
    const gfn = (cr3 >>> 12) & 0xfffff;
    const hit = this.pages.has(`pd:${gfn}`);
    if (count) { if (hit) this.s.rootHits++; else this.s.rootMisses++; }
    const r = this.table('pd', gfn, 0, true);
    this.evictRoots(r);
    return r;
  }

  // ---- Events ----

  /** MOV to CR3 (or a task switch that loaded one): switch roots; the CPU's non-global
   *  translations go, as the CPU drops them (SDM vol. 3A, 4.10.4.1). */
  onCr3Write(cr3: number): void {
    this.gCr3 = cr3 >>> 0;
    this.s.cr3Switches++;
    this.current = this.rootFor(this.gCr3);
    this.vmm.invalidateTlb(0, 'nonglobal');
  }

  /** New guest CR0/CR4 values: paging turned on or off switches roots; a change of PSE or
   *  PGE changes how every guest entry reads, so every shadow goes. */
  onControl(cr0: number, cr4: number): void {
    cr0 >>>= 0; cr4 >>>= 0;
    const was0 = this.gCr0, was4 = this.gCr4;
    this.gCr0 = cr0; this.gCr4 = cr4;
    if (((was4 ^ cr4) & (CR4_PSE | CR4_PGE)) !== 0) {
      this.zapAll();
    } else if (((was0 ^ cr0) & CR0_PG) === 0) {
      return;
    }
    this.current = this.rootFor(this.gCr3, false);
    this.vmm.invalidateTlb(0, 'all');
  }

  /** INVLPG: the shadow entry of `lin` in the current root goes, and the CPU's
   *  translation of that page, global or not (SDM vol. 3A, 4.10.4.1). */
  onInvlpg(lin: number): void {
    lin >>>= 0;
    this.s.invlpgs++;
    const spde = this.current.hpa + (lin >>> 22) * 4;
    const e = this.vmm.readHost32(spde);
    if (e & P) {
      const child = this.byHpa.get(e & ~0xfff);
      if (child && child.kind === 'pt') this.setLeaf(child.hpa + ((lin >>> 12) & 0x3ff) * 4, 0);
      else this.unlinkPde(spde);
    }
    this.vmm.invalidateTlb(lin, 'page');
  }

  /**
   * A #PF the CPU raised in the shadow tables at `lin` with error code `err` (its W and U
   * bits say what the access was). 'hidden': entries filled, run the instruction again;
   * 'true': give the guest #PF with `fault`; 'trace': emulate the instruction (it writes a
   * guest page table), then call afterTrace(); 'emulate': emulate it (not RAM, or a
   * supervisor write the guest's CR0.WP = 0 allows).
   */
  onPageFault(lin: number, err: number): FaultKind {
    lin >>>= 0;
    const write = (err & PF_W) !== 0, user = (err & PF_U) !== 0;
    let gpa: number, big = false, pdeAddr = -1, pde = 0, pteAddr = -1, pte = 0;
    if (!this.paging) {
      gpa = lin;
    } else {
      pdeAddr = ((this.gCr3 & 0xfffff000) | ((lin >>> 22) << 2)) >>> 0;
      if (!this.vmm.isRamPage(pdeAddr & ~0xfff)) return this.emulated();
      pde = this.vmm.readHost32(pdeAddr);
      const code = (user ? PF_U : 0) | (write ? PF_W : 0);
      if (!(pde & P)) return this.trueFault(lin, code);
      big = (pde & PS) !== 0 && (this.gCr4 & CR4_PSE) !== 0;
      let perm: number;
      if (big) {
        if (pde & PDE_4M_RESERVED) return this.trueFault(lin, code | PF_P | PF_RSVD);
        perm = pde;
        gpa = ((pde & 0xffc00000) | (lin & 0x3ff000)) >>> 0;
      } else {
        pteAddr = ((pde & 0xfffff000) | (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
        if (!this.vmm.isRamPage(pteAddr & ~0xfff)) return this.emulated();
        pte = this.vmm.readHost32(pteAddr);
        if (!(pte & P)) return this.trueFault(lin, code);
        perm = pde & pte;
        gpa = (pte & 0xfffff000) >>> 0;
      }
      // Access rights (SDM vol. 3A, 4.6.1).
      if (user && (!(perm & U) || (write && !(perm & W)))) {
        return this.trueFault(lin, code | PF_P);
      }
      if (!user && write && !(perm & W)) {
        if (this.gCr0 & CR0_WP) return this.trueFault(lin, code | PF_P);
        return this.emulated();
      }
    }
    const gfn = (gpa >>> 12) & 0xfffff;
    if (!this.vmm.isRamPage(gfn * PAGE)) return this.emulated();
    if (write && this.traced.has(gfn)) {
      this.s.traceFaults++;
      this.traceFrame = gfn;
      return 'trace';
    }
    this.s.hiddenFaults++;
    const root = this.current;
    root.lastUse = ++this.clock;
    root.flood = 0;
    const spde = root.hpa + (lin >>> 22) * 4;
    if (!this.paging) {
      const t = this.table('d', (lin >>> 22) << 10, 0, false);
      this.link(spde, t, P | W | U | A);
      this.fillLeaf(t, lin, gfn, W | U, 0);
      return 'hidden';
    }
    // Accessed and dirty flags, as the CPU sets them on the access (SDM vol. 3A, 4.8).
    if (big) {
      const npde = pde | A | (write ? D : 0);
      if (npde !== pde) this.guestWrite(pdeAddr, npde);
      const gbit = (pde & G) !== 0 && (this.gCr4 & CR4_PGE) !== 0 ? 1 : 0;
      const t = this.table('d', (pde >>> 12) & 0xffc00, gbit, false);
      this.link(spde, t, P | A | (npde & U) | (npde & W & (npde & D ? W : 0)));
      this.fillLeaf(t, lin, gfn, W | U, gbit ? G : 0);
    } else {
      if (!(pde & A)) this.guestWrite(pdeAddr, pde | A);
      const npte = pte | A | (write ? D : 0);
      if (npte !== pte) this.guestWrite(pteAddr, npte);
      const t = this.table('pt', (pde >>> 12) & 0xfffff, 0, false);
      this.link(spde, t, P | A | (pde & (U | W)));
      const g = (npte & G) !== 0 && (this.gCr4 & CR4_PGE) !== 0 ? G : 0;
      this.fillLeaf(t, lin, gfn, (npte & U) | (npte & D ? npte & W : 0) | (npte & PWT_PCD), g);
    }
    return 'hidden';
  }

  /** After the emulator ran a traced write: the shadows of the frame written follow the
   *  guest's table again, entry by entry (those whose guest entry changed). */
  afterTrace(): void {
    const gfn = this.traceFrame;
    this.traceFrame = -1;
    if (gfn < 0) return;
    const list = this.traced.get(gfn);
    if (!list) return;
    const now = this.readGuestPage(gfn);
    for (const sp of [...list]) {
      const copy = sp.copy!;
      for (let i = 0; i < 1024; i++) {
        if (now[i] !== copy[i]) { copy[i] = now[i]; this.resync(sp, i, now[i]); }
      }
      // KVM's write-flooding detection: a table written again and again with no walk
      // through it is no longer used as one.
      if (++sp.flood >= FLOOD_LIMIT && sp !== this.current) this.zap(sp);
    }
  }

  stats(): ShadowStats { return { ...this.s, pagesLive: this.pages.size }; }

  // ---- Internals ----

  private trueFault(lin: number, code: number): FaultKind {
    this.s.trueFaults++;
    this.fault = { errorCode: code, cr2: lin };
    return 'true';
  }

  private emulated(): FaultKind { this.s.emulatedFaults++; return 'emulate'; }

  private readGuestPage(gfn: number): Uint32Array {
    if (this.readPhys) {
      const b = this.readPhys(gfn * PAGE, PAGE);
      return new Uint32Array(b.buffer, b.byteOffset, 1024);
    }
    const out = new Uint32Array(1024);
    for (let i = 0; i < 1024; i++) out[i] = this.vmm.readHost32(gfn * PAGE + i * 4);
    return out;
  }

  /** A write of the VMM to a guest paging entry (A/D): the copy follows it. */
  private guestWrite(gpa: number, v: number): void {
    this.vmm.writeHost32(gpa, v >>> 0);
    const list = this.traced.get(gpa >>> 12);
    if (list) for (const sp of list) sp.copy![(gpa & 0xfff) >>> 2] = v >>> 0;
  }

  /** Entry `i` of shadow table `sp` after its guest entry became `g`. */
  private resync(sp: SPage, i: number, g: number): void {
    this.s.resyncs++;
    const at = sp.hpa + i * 4;
    if (sp.kind === 'pd') {
      // The directory entry goes; the next access fills it again from the guest's.
      this.unlinkPde(at);
      return;
    }
    // A table entry: mapped again at once when the guest's is present and accessed (KVM
    // prefetches only accessed entries, so the guest's A stays exact), else dropped.
    const gfn = g >>> 12;
    if ((g & (P | A)) === (P | A) && this.vmm.isRamPage(gfn * PAGE)) {
      const gbit = (g & G) !== 0 && (this.gCr4 & CR4_PGE) !== 0 ? G : 0;
      this.setLeaf(at, this.leafValue(gfn, (g & U) | (g & D ? g & W : 0) | (g & PWT_PCD), gbit));
    } else {
      this.setLeaf(at, 0);
    }
  }

  private leafValue(gfn: number, bits: number, gbit: number): number {
    let v = gfn * PAGE + (P | A | bits | gbit);
    if (this.traced.has(gfn)) v &= ~W;
    if (v & W) v |= D;
    return v >>> 0;
  }

  private fillLeaf(t: SPage, lin: number, gfn: number, bits: number, gbit: number): void {
    t.lastUse = this.clock;
    t.flood = 0;
    this.setLeaf(t.hpa + ((lin >>> 12) & 0x3ff) * 4, this.leafValue(gfn, bits, gbit));
  }

  /** Writes a leaf shadow entry, keeping the rmap of writable entries. */
  private setLeaf(at: number, v: number): void {
    const old = this.vmm.readHost32(at);
    if (old === v) return;
    if (old & W) this.rmap.get(old >>> 12)?.delete(at);
    if (v & W) {
      let set = this.rmap.get(v >>> 12);
      if (!set) this.rmap.set(v >>> 12, (set = new Set()));
      set.add(at);
    }
    this.vmm.writeHost32(at, v);
  }

  /** Points shadow directory entry `at` to table `t` with `bits`. */
  private link(at: number, t: SPage, bits: number): void {
    const v = (t.hpa | bits) >>> 0;
    const old = this.vmm.readHost32(at);
    if (old === v) return;
    if ((old & P) && (old & ~0xfff) !== t.hpa) this.unlinkPde(at);
    t.parents.add(at);
    this.vmm.writeHost32(at, v);
  }

  private unlinkPde(at: number): void {
    const old = this.vmm.readHost32(at);
    if (old & P) this.byHpa.get(old & ~0xfff)?.parents.delete(at);
    this.vmm.writeHost32(at, 0);
  }

  /** The shadow table of `kind` for `gfn` (built when missing). */
  private table(kind: SPage['kind'], gfn: number, gbit: number, isRoot: boolean): SPage {
    const key = kind === 'd' ? `d:${gfn}:${gbit}${isRoot ? ':root' : ''}` : `${kind}:${gfn}`;
    let sp = this.pages.get(key);
    if (sp) { sp.lastUse = ++this.clock; return sp; }
    const hpa = this.allocPage();
    sp = { key, hpa, kind, gfn, parents: new Set(), lastUse: ++this.clock, flood: 0 };
    this.pages.set(key, sp);
    this.byHpa.set(hpa, sp);
    this.s.pagesBuilt++;
    if (kind !== 'd') {
      sp.copy = this.readGuestPage(gfn);
      const list = this.traced.get(gfn);
      if (list) list.push(sp);
      else {
        this.traced.set(gfn, [sp]);
        this.writeProtect(gfn);
      }
    }
    return sp;
  }

  /** Frame `gfn` became a shadowed guest table: no shadow entry may write it any more. */
  private writeProtect(gfn: number): void {
    const set = this.rmap.get(gfn);
    if (!set || set.size === 0) return;
    for (const at of set) this.vmm.writeHost32(at, this.vmm.readHost32(at) & ~W);
    this.rmap.delete(gfn);
    this.vmm.invalidateTlb(0, 'all');
  }

  private allocPage(): number {
    if (this.free.length === 0) {
      if (this.allocated + CHUNK_PAGES <= this.maxPages) {
        const base = this.vmm.addVmmRam(CHUNK_PAGES * PAGE);
        for (let i = CHUNK_PAGES - 1; i >= 0; i--) this.free.push(base + i * PAGE);
        this.allocated += CHUNK_PAGES;
      } else {
        this.evictOne();
      }
    }
    return this.free.pop()!;
  }

  /** Drops the least recently used shadow table that is not the current root. */
  private evictOne(): void {
    let victim: SPage | undefined;
    for (const sp of this.pages.values()) {
      if (sp === this.current) continue;
      if (!victim || sp.lastUse < victim.lastUse) victim = sp;
    }
    if (!victim) throw new Error('shadow paging: no shadow table to evict');
    this.zap(victim);
  }

  /** Keeps at most rootCache roots besides the current one. */
  private evictRoots(keep: SPage): void {
    const roots = [...this.pages.values()].filter((p) => p.kind === 'pd' && p !== keep);
    if (roots.length <= this.rootCache) return;
    roots.sort((a, b) => a.lastUse - b.lastUse);
    for (const r of roots.slice(0, roots.length - this.rootCache)) this.zap(r);
  }

  /** Removes a shadow table: its parents' entries, its rmap entries, its trace. */
  private zap(sp: SPage): void {
    if (!this.pages.has(sp.key)) return;
    this.s.pagesEvicted++;
    for (const at of sp.parents) this.vmm.writeHost32(at, 0);
    sp.parents.clear();
    for (let i = 0; i < 1024; i++) {
      const at = sp.hpa + i * 4;
      const e = this.vmm.readHost32(at);
      if (e & P) {
        if (sp.kind === 'pd') this.byHpa.get(e & ~0xfff)?.parents.delete(at);
        else if (e & W) this.rmap.get(e >>> 12)?.delete(at);
        this.vmm.writeHost32(at, 0);
      }
    }
    this.pages.delete(sp.key);
    this.byHpa.delete(sp.hpa);
    if (sp.kind !== 'd') {
      const list = this.traced.get(sp.gfn)!.filter((p) => p !== sp);
      if (list.length) this.traced.set(sp.gfn, list); else this.traced.delete(sp.gfn);
    }
    this.free.push(sp.hpa);
    // Translations the CPU cached from it stay correct for the guest (nothing changed in
    // its tables); write protection is enforced again when a frame becomes traced.
  }

  /** Every shadow goes (a paging-mode change). */
  private zapAll(): void {
    for (const sp of [...this.pages.values()]) this.zap(sp);
    this.rmap.clear();
  }
}
