/**
 * The VMM's second-level tables: EPT (Intel SDM vol. 3C, 29.3) or NPT in the long-mode
 * format (AMD APM vol. 2, 15.25: the nested tables of a 64-bit host, the x86-64 4-level
 * format of 5.3), built lazily. Guest RAM is mapped identity (guest-physical = host-
 * physical) one 4 KiB page at a time, on the violation its first access raises; MMIO,
 * ROM and the legacy hole 0xA0000-0xFFFFF stay unmapped, so their accesses exit and the
 * VMM emulates them. The tables live in VMM RAM (addVmmRam), which only the VMM maps.
 * With `largePages`, a violation in a 2 MiB region that is all guest RAM maps the whole
 * region with one 2 MiB leaf (EPT: a PDE with bit 7, SDM 29.3.2 table 29-4; NPT: a PDE with
 * PS, APM 5.3.4), as KVM maps a region backed by a host huge page: one violation instead
 * of 512, and nested walks of three levels.
 */
import type { CoreVmm } from '../core/types.js';

export type NestedFormat = 'ept' | 'npt';

/** EPT entry bits (SDM vol. 3C, 29.3.2, tables 29-1 to 29-6): read, write, execute. */
const EPT_RWX = 7n;
/** EPT leaf memory type, bits 5:3: 6 = write-back (SDM 29.3.7). */
const EPT_MT_WB = 6n << 3n;
/** Long-mode paging entry bits (APM vol. 2, 5.3.3): present, read/write, user (nested
 *  walks are user accesses, APM 15.25.5). */
const NPT_PRU = 7n;
/** Bits 51:12 of an entry: the next table or the page. */
const ADDR_MASK = 0x000f_ffff_ffff_f000n;
const PAGE = 4096;
const LARGE = 2 << 20;
/** The page-size bit of a PDE: a 2 MiB leaf (EPT 29.3.2 table 29-4; APM 5.3.4). */
const PS = 1n << 7n;

export interface NestedTablesState {
  root: number;
  pagesMapped: number;
  largeMapped: number;
  tables: [string, number][];
}

export class NestedTables {
  /** Host-physical address of the root table (PML4): EPTP bits 51:12 / N_CR3. */
  readonly root: number;
  /** Guest 4 KiB pages mapped so far (a 2 MiB leaf counts its 512). */
  pagesMapped = 0;
  /** 2 MiB leaves mapped so far. */
  largeMapped = 0;
  private readonly tables = new Map<string, number>();
  private readonly nonLeaf: bigint;
  private readonly leaf: bigint;

  constructor(private readonly vmm: CoreVmm, readonly format: NestedFormat,
    readonly largePages = false) {
    this.root = vmm.addVmmRam(PAGE);
    this.nonLeaf = format === 'ept' ? EPT_RWX : NPT_PRU;
    this.leaf = format === 'ept' ? EPT_RWX | EPT_MT_WB : NPT_PRU;
  }

  /** EPTP for this root (SDM vol. 3C, 25.6.11): memory type WB (6) in bits 2:0, page-walk
   *  length minus 1 (3: four levels) in bits 5:3. */
  get eptp(): bigint { return BigInt(this.root) | 6n | (3n << 3n); }

  /** True when the page holding `gpa` may be mapped (guest RAM). */
  mappable(gpa: number): boolean { return this.vmm.isRamPage(gpa - (gpa % PAGE)); }

  /** Maps the 4 KiB page holding guest-physical `gpa` identity; false if it already was. */
  map(gpa: number): boolean {
    const page = gpa - (gpa % PAGE);
    // A 32-bit guest-physical address: PML4 index 0; PDPT 31:30; PD 29:21; PT 20:12.
    const pdpt = this.table('pdpt', this.root, 0);
    const pd = this.table(`pd${page >>> 30}`, pdpt, page >>> 30);
    const pde = pd + ((page >>> 21) & 511) * 8;
    if ((this.vmm.readHost64(pde) & PS) !== 0n) return false;
    if (this.largePages && !this.tables.has(`pt${page >>> 21}`) && this.allRam(page)) {
      const base = page - (page % LARGE);
      this.vmm.writeHost64(pde, BigInt(base) | this.leaf | PS);
      this.pagesMapped += LARGE / PAGE;
      this.largeMapped++;
      return true;
    }
    const pt = this.table(`pt${page >>> 21}`, pd, (page >>> 21) & 511);
    const at = pt + ((page >>> 12) & 511) * 8;
    if (this.vmm.readHost64(at) !== 0n) return false;
    this.vmm.writeHost64(at, BigInt(page) | this.leaf);
    this.pagesMapped++;
    return true;
  }

  /** What a snapshot needs besides VMM RAM (Core.saveVirtState): where the tables are. */
  saveState(): NestedTablesState {
    return { root: this.root, pagesMapped: this.pagesMapped, largeMapped: this.largeMapped,
      tables: [...this.tables] };
  }
  loadState(s: NestedTablesState): void {
    if (s.root !== this.root) {
      throw new Error(`nested tables: root 0x${s.root.toString(16)} in the state, ` +
        `0x${this.root.toString(16)} here`);
    }
    this.pagesMapped = s.pagesMapped;
    this.largeMapped = s.largeMapped;
    this.tables.clear();
    for (const [k, v] of s.tables) this.tables.set(k, v);
  }

  /** True when every 4 KiB page of the 2 MiB region holding `page` is guest RAM. */
  private allRam(page: number): boolean {
    const base = page - (page % LARGE);
    for (let p = base; p < base + LARGE; p += PAGE) if (!this.vmm.isRamPage(p)) return false;
    return true;
  }

  /** The table `key` that entry `index` of table `parent` points to, made when missing. */
  private table(key: string, parent: number, index: number): number {
    let t = this.tables.get(key);
    if (t === undefined) {
      const at = parent + index * 8;
      const e = this.vmm.readHost64(at);
      if (e !== 0n) t = Number(e & ADDR_MASK);
      else {
        t = this.vmm.addVmmRam(PAGE);
        this.vmm.writeHost64(at, BigInt(t) | this.nonLeaf);
      }
      this.tables.set(key, t);
    }
    return t;
  }
}
