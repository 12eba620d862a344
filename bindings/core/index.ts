/**
 * The loader of the WebAssembly core: the one module that instantiates it and owns every
 * view on its memory. Implements the contract of ./types.ts. Runs in Node and browsers.
 */
import * as L from '../generated/layout.js';

/** saveVirtState's blob: "WVX1" (little-endian), then its version. */
const VIRT_MAGIC = 0x31585657;
const VIRT_VERSION = 1;

/** A blob given to loadVirtState that is not a virtualization state of this core. */
export class VirtStateError extends Error {
  constructor(message: string) { super(message); this.name = 'VirtStateError'; }
}
import type { ShadowMode,
  Core, CoreCounters, CoreOptions, Exit, Regs, RegName, SegName, Segment, TableReg,
  CoreVmm, VmmCoreCounters,
  FerrLine,
} from './types.js';
import { readLinearBytes } from './linear.js';

export type * from './types.js';

/** A misused VMCS interface (unknown encoding, read-only field): `error` is the
 *  VM-instruction error number VMREAD/VMWRITE would give (SDM vol. 3C, 31.4). */
export class VmcsError extends Error {
  constructor(message: string, readonly error: number) { super(message); }
}

/** The raw exports of assembly/index.ts. */
interface CoreExports {
  memory: WebAssembly.Memory;
  init(ramBytes: number): number;
  reset(): void;
  run(budget: number): number;
  ferr(): number;
  ferrAssertions(): number;
  stateChanged(): void;
  hostDebugChanged(): void;
  dropPendingIo(): void;
  physHost(pa: number): number;
  completeIo(value: number): void;
  setTscExit(on: number): void;
  completeTsc(v: bigint): void;
  tscWriteAdjustment(): bigint;
  setTscWriteAdjustment(v: bigint): void;
  setA20(on: number): void;
  setShadow(region: number, mode: number): number;
  addRom(phys: number, len: number): number;
  addMmio(phys: number, len: number): number;
  ramBase(): number;
  readMsr(index: number): bigint;
  setApicPresent?(on: number): void;
  writeMsr(index: number, v: bigint): number;
  lastMsrOk(): number;
  addVmmRam(bytes: number): number;
  vmcsFieldOk(enc: number): number;
  vmcsRead(enc: number): bigint;
  vmcsWrite(enc: number, v: bigint): number;
  vmcsClearHost(): void;
  vmxHostEnter(): number;
  hostEmulate(budget: number): number;
  svmHostEnter(vmcbHpa: number): number;
  setNestedCaches(pwc: number, ntlb: number): void;
  setTlbTags(on: number): void;
  interruptWindowOpen?(): number;
  vmmTlbInvalidate?(lin: number, kind: number): void;
  lastInvlpgLinear?(): number;
}

/** The VMX/SVM counters of the state block. */
const VMM_COUNTERS: Record<keyof VmmCoreCounters, number> = {
  vmEntries: L.S_CNT_VMENTRY, vmExits: L.S_CNT_VMEXIT, vmcsReads: L.S_CNT_VMCS_READ,
  vmcsWrites: L.S_CNT_VMCS_WRITE, nestedWalks: L.S_CNT_NWALK, nestedWalkRefs: L.S_CNT_NWALK_REFS,
  pwcHits: L.S_CNT_PWC_HIT, pwcMisses: L.S_CNT_PWC_MISS, ntlbHits: L.S_CNT_NTLB_HIT,
  ntlbMisses: L.S_CNT_NTLB_MISS, tlbSurvivors: L.S_CNT_TLB_SURVIVE, emulated: L.S_CNT_EMULATED,
};

const REG_OFFSETS: Record<RegName, number> = {
  eax: L.S_EAX, ecx: L.S_ECX, edx: L.S_EDX, ebx: L.S_EBX, esp: L.S_ESP, ebp: L.S_EBP,
  esi: L.S_ESI, edi: L.S_EDI, eip: L.S_EIP, eflags: L.S_EFLAGS,
  cr0: L.S_CR0, cr2: L.S_CR2, cr3: L.S_CR3, cr4: L.S_CR4,
  dr0: L.S_DR0, dr1: L.S_DR1, dr2: L.S_DR2, dr3: L.S_DR3, dr6: L.S_DR6, dr7: L.S_DR7,
};
/** General registers in the SDM's numbering (vol. 3C, table 28-3). */
const GPR_OFFSETS = [L.S_EAX, L.S_ECX, L.S_EDX, L.S_EBX, L.S_ESP, L.S_EBP, L.S_ESI, L.S_EDI];
const SEG_INDEX: Record<SegName, number> = {
  es: 0, cs: 1, ss: 2, ds: 3, fs: 4, gs: 5, ldtr: 6, tr: 7,
};

const COUNTERS: Record<string, number> = {
  instructions: L.S_CNT_INSN, tlbHits: L.S_CNT_TLB_HIT, tlbMisses: L.S_CNT_TLB_MISS,
  pageWalks: L.S_CNT_WALK, walkMemRefs: L.S_CNT_WALK_REFS, interrupts: L.S_CNT_INTR,
  exceptions: L.S_CNT_EXC, ioExits: L.S_CNT_IO, mmioExits: L.S_CNT_MMIO,
  tlbFlushes: L.S_CNT_TLB_FLUSH,
  slowBoundaries: L.S_CNT_SLOW,
  vmEntries: L.S_CNT_VMENTRY, vmExits: L.S_CNT_VMEXIT, vmcsReads: L.S_CNT_VMCS_READ,
  vmcsWrites: L.S_CNT_VMCS_WRITE, nestedWalks: L.S_CNT_NWALK,
  nestedWalkMemRefs: L.S_CNT_NWALK_REFS, pwcHits: L.S_CNT_PWC_HIT, pwcMisses: L.S_CNT_PWC_MISS,
  nestedTlbHits: L.S_CNT_NTLB_HIT, nestedTlbMisses: L.S_CNT_NTLB_MISS,
  tlbSurvivors: L.S_CNT_TLB_SURVIVE, emulatedInstructions: L.S_CNT_EMULATED,
};

/** Base and limit of GDTR and IDTR. */
const TABLE_OFFSETS = {
  gdtr: [L.S_GDTR_BASE, L.S_GDTR_LIMIT], idtr: [L.S_IDTR_BASE, L.S_IDTR_LIMIT],
} as const;

const WHY: Record<number, string> = {
  [L.WHY_TRIPLE_FAULT]: 'triple fault',
  [L.WHY_BAD_STATE]: 'invalid CPU state',
  [L.WHY_IO_PROTOCOL]: 'I/O protocol error',
};

/**
 * The Node-only reader, imported through a specifier that is not a literal so that
 * bundlers for the browser leave it (and its `node:` imports) out of the bundle.
 */
const NODE_READER = './wasm-node.js';
function nodeReader(): Promise<typeof import('./wasm-node.js')> {
  // Resolved against this module's own URL: a bare relative specifier that is not a
  // literal is resolved against the importer by some loaders (vitest's among them).
  const url = new URL(NODE_READER, import.meta.url);
  // Under a TypeScript loader running the sources, the reader is the .ts file.
  const ts = new URL('./wasm-node.ts', import.meta.url);
  return import(/* @vite-ignore */ /* webpackIgnore: true */ url.href).catch(() =>
    import(/* @vite-ignore */ /* webpackIgnore: true */ ts.href));
}

/**
 * Compiled cores by source (the packaged core, or a URL's text): every VM of a process
 * instantiates the same compiled module, so a new VM does not compile the core again, and
 * the engine's optimized code, once it has tiered up, serves the VMs created after it.
 * Cores given as bytes are compiled for their VM alone.
 */
const compiled = new Map<string, Promise<WebAssembly.Module>>();

function compileCore(src: BufferSource | URL | undefined): Promise<WebAssembly.Module> {
  if (src !== undefined && !(src instanceof URL)) return WebAssembly.compile(src);
  const key = src?.href ?? '';
  let m = compiled.get(key);
  if (!m) {
    m = loadWasm(src).then((bytes) => WebAssembly.compile(bytes));
    // A failed load is not kept: the next VM tries again.
    m.catch(() => compiled.delete(key));
    compiled.set(key, m);
  }
  return m;
}

async function loadWasm(src: BufferSource | URL | undefined): Promise<BufferSource> {
  if (src === undefined) {
    if (typeof process !== 'undefined' && process.versions?.node) {
      const m = await nodeReader();
      return m.readPackagedWasm();
    }
    throw new Error('wasmvisor: pass `wasm` (bytes or a URL to core.wasm) outside Node');
  }
  if (src instanceof URL) {
    if (src.protocol === 'file:') {
      const m = await nodeReader();
      return m.readWasmFile(src);
    }
    const res = await fetch(src);
    if (!res.ok) throw new Error(`wasmvisor: cannot fetch ${src.href}: HTTP ${res.status}`);
    return res.arrayBuffer();
  }
  return src;
}

export class WasmCore implements Core {
  readonly ramBytes: number;
  private readonly x: CoreExports;
  private buf: ArrayBuffer | null = null;
  private dv!: DataView;
  private u8!: Uint8Array;
  private ramBase: number;
  readonly vmm: CoreVmm | undefined;

  constructor(x: CoreExports, ramBytes: number) {
    this.x = x;
    this.ramBytes = ramBytes;
    this.ramBase = x.ramBase();
    this.vmm = this.hostVmm();
  }

  /** The VMX/SVM host exports, typed and checked (see CoreVmm). */
  private hostVmm(): CoreVmm {
    const x = this.x, self = this;
    const host = (hpa: number, len: number): number => {
      const h = Number.isInteger(hpa) && hpa >= 0 && hpa + len <= 2 ** 32 &&
        (hpa & 0xfff) <= 0x1000 - len ? x.physHost(hpa >>> 0) : 0;
      if (!h) throw new RangeError(`host-physical 0x${hpa.toString(16)} is not RAM or VMM RAM`);
      self.views();
      return h;
    };
    return {
      vmx: !!x.vmxHostEnter, svm: !!x.svmHostEnter,
      addVmmRam(bytes) {
        const hpa = x.addVmmRam(bytes >>> 0);
        if (!hpa) throw new RangeError(`addVmmRam: cannot grow memory by ${bytes} bytes`);
        return hpa;
      },
      // host() first: it renews the views when memory grew (addVmmRam).
      readHost64(hpa) { const h = host(hpa, 8); return self.dv.getBigUint64(h, true); },
      writeHost64(hpa, v) {
        const h = host(hpa, 8);
        self.dv.setBigUint64(h, BigInt.asUintN(64, v), true);
      },
      readHost32(hpa) { const h = host(hpa, 4); return self.dv.getUint32(h, true); },
      writeHost32(hpa, v) { const h = host(hpa, 4); self.dv.setUint32(h, v >>> 0, true); },
      isRamPage: (gpa) => Number.isInteger(gpa) && gpa >= 0 && gpa < self.ramBytes &&
        !(gpa >= 0xa0000 && gpa < 0x100000) && x.physHost(gpa >>> 0) === self.ramBase + gpa,
      readGpr: (n) => self.get32(GPR_OFFSETS[n & 7]),
      writeGpr: (n, v) => self.set32(GPR_OFFSETS[n & 7], v),
      cancelInterrupt: () => self.set32(L.S_INTR_PENDING, 0),
      vmcsRead: (enc) => BigInt.asUintN(64, x.vmcsRead(enc >>> 0)),
      vmcsWrite: (enc, v) => x.vmcsWrite(enc >>> 0, BigInt.asIntN(64, BigInt(v))),
      vmcsClearHost: () => x.vmcsClearHost(),
      vmxHostEnter: () => x.vmxHostEnter() >>> 0,
      svmHostEnter: (hpa) => x.svmHostEnter(hpa >>> 0) >>> 0,
      hostEmulate: (budget) => self.hostEmulate(budget),
      retireInstruction: () => {
        const dv = self.views();
        const add = (off: number, n: bigint) => dv.setBigUint64(L.STATE_BASE + off,
          BigInt.asUintN(64, dv.getBigUint64(L.STATE_BASE + off, true) + n), true);
        add(L.S_CNT_INSN, 1n);
        add(L.S_TSC, BigInt(dv.getUint32(L.STATE_BASE + L.S_TSC_PER_INSN, true)));
      },
      setNestedCaches: (pwc, ntlb) => self.setNestedCaches(pwc, ntlb),
      setTlbTags: (on) => self.setTlbTags(on),
      invalidateTlb: (lin, kind) => {
        const k = kind === 'page' ? 0 : kind === 'nonglobal' ? 1 : 2;
        if (x.vmmTlbInvalidate) x.vmmTlbInvalidate(lin >>> 0, k);
        else x.stateChanged();
      },
      lastInvlpg: () => (x.lastInvlpgLinear ? x.lastInvlpgLinear() >>> 0 : 0),
      setCr2: (v) => self.set32(L.S_CR2, v >>> 0),
      counters() {
        const c = {} as VmmCoreCounters;
        for (const [k, off] of Object.entries(VMM_COUNTERS)) {
          c[k as keyof VmmCoreCounters] = self.get64Number(off);
        }
        return c;
      },
    };
  }

  /** Views are rebuilt when the memory grew (the old ArrayBuffer is detached then). */
  private views(): DataView {
    const b = this.x.memory.buffer as ArrayBuffer;
    if (b !== this.buf) {
      this.buf = b;
      this.dv = new DataView(b);
      this.u8 = new Uint8Array(b);
    }
    return this.dv;
  }
  private get32(off: number): number { return this.views().getUint32(L.STATE_BASE + off, true); }
  private set32(off: number, v: number): void {
    this.views().setUint32(L.STATE_BASE + off, v >>> 0, true);
  }
  private get64(off: number): bigint { return this.views().getBigUint64(L.STATE_BASE + off, true); }
  /** A u64 field as a number (exact below 2^53), read as its two little-endian halves
   *  without a BigInt: the run loop asks for the instruction count after every exit. */
  private get64Number(off: number): number {
    const dv = this.views(), p = L.STATE_BASE + off;
    return dv.getUint32(p, true) + dv.getUint32(p + 4, true) * 2 ** 32;
  }

  reset(): void { this.x.reset(); }

  getRegs(): Regs {
    const r = {} as Regs;
    for (const k of Object.keys(REG_OFFSETS) as RegName[]) r[k] = this.get32(REG_OFFSETS[k]);
    return r;
  }
  setRegs(regs: Partial<Regs>): void {
    for (const [k, v] of Object.entries(regs) as [RegName, number][]) {
      const off = REG_OFFSETS[k];
      if (off === undefined) throw new RangeError(`setRegs: unknown register "${k}"`);
      if (!Number.isFinite(v)) throw new RangeError(`setRegs: ${k} must be a number, got ${v}`);
      this.set32(off, k === 'eflags' ? (v | 2) : v);
    }
    this.x.stateChanged();
  }
  getSegment(seg: SegName): Segment {
    const base = this.segOffset(seg);
    return {
      selector: this.get32(base + L.SEG_SEL), base: this.get32(base + L.SEG_BASE),
      limit: this.get32(base + L.SEG_LIMIT), access: this.get32(base + L.SEG_ACCESS),
    };
  }
  setSegment(seg: SegName, s: Segment): void {
    const base = this.segOffset(seg);
    this.set32(base + L.SEG_SEL, s.selector & 0xffff);
    this.set32(base + L.SEG_BASE, s.base);
    this.set32(base + L.SEG_LIMIT, s.limit);
    this.set32(base + L.SEG_ACCESS, s.access);
    if (seg === 'cs' || seg === 'ss') {
      // CPL follows CS.RPL in protected mode, 0 in real mode.
      const pe = (this.get32(L.S_CR0) & 1) !== 0;
      const vm = (this.get32(L.S_EFLAGS) & (1 << 17)) !== 0;
      const cs = this.get32(this.segOffset('cs') + L.SEG_SEL);
      this.set32(L.S_CPL, !pe ? 0 : vm ? 3 : (cs & 3));
    }
    this.x.stateChanged();
  }
  private segOffset(seg: SegName): number {
    const i = SEG_INDEX[seg];
    if (i === undefined) throw new RangeError(`unknown segment register "${seg}"`);
    return L.S_SEG + i * L.SEG_SIZE;
  }
  getTable(which: 'gdtr' | 'idtr'): TableReg {
    const [b, l] = TABLE_OFFSETS[which];
    return { base: this.get32(b), limit: this.get32(l) };
  }
  setTable(which: 'gdtr' | 'idtr', t: TableReg): void {
    const [b, l] = TABLE_OFFSETS[which];
    this.set32(b, t.base);
    this.set32(l, t.limit & 0xffff);
  }
  readMsr(index: number): bigint {
    const v = this.x.readMsr(index >>> 0);
    if (!this.x.lastMsrOk()) {
      throw new RangeError(`readMsr: MSR 0x${(index >>> 0).toString(16)} is not implemented`);
    }
    return BigInt.asUintN(64, v);
  }
  writeMsr(index: number, value: bigint): void {
    if (!this.x.writeMsr(index >>> 0, BigInt.asIntN(64, value))) {
      throw new RangeError(`writeMsr: MSR 0x${(index >>> 0).toString(16)} is not implemented`);
    }
  }
  private checkRange(what: string, addr: number, length: number): void {
    if (!Number.isInteger(addr) || !Number.isInteger(length) || addr < 0 || length < 0 ||
        addr + length > this.ramBytes) {
      throw new RangeError(`${what}: [0x${addr.toString(16)}, +${length}) is outside guest RAM ` +
        `(0..0x${this.ramBytes.toString(16)})`);
    }
  }
  readPhys(addr: number, length: number): Uint8Array {
    this.checkRange('readPhys', addr, length);
    this.views();
    return this.u8.slice(this.ramBase + addr, this.ramBase + addr + length);
  }
  readLinear(addr: number, length: number): Uint8Array {
    if (!Number.isInteger(addr) || addr < 0 || addr >= 2 ** 32 || !Number.isInteger(length) ||
        length < 0) {
      throw new RangeError(`readLinear: bad range ${addr} + ${length} (a 32-bit linear ` +
        'address and a byte count)');
    }
    const s = {
      cr0: this.get32(L.S_CR0), cr3: this.get32(L.S_CR3), cr4: this.get32(L.S_CR4),
      a20Mask: this.get32(L.S_A20_MASK),
    };
    const read32 = (pa: number) => {
      const h = this.hostOf(pa);
      return h === undefined || (pa & 0xfff) > 0xffc ? undefined : this.dv.getUint32(h, true);
    };
    const readByte = (pa: number) => {
      const h = this.hostOf(pa);
      return h === undefined ? undefined : this.u8[h];
    };
    return readLinearBytes(s, addr, length, read32, readByte);
  }
  /** Where physical byte `pa` lives in wasm memory, as the core maps it (shadow RAM, ROM,
   *  RAM); undefined for MMIO and unclaimed space. */
  private hostOf(pa: number): number | undefined {
    return this.x.physHost(pa >>> 0) || undefined;
  }
  writePhys(addr: number, data: Uint8Array): void {
    this.checkRange('writePhys', addr, data.length);
    this.views();
    this.u8.set(data, this.ramBase + addr);
    this.x.stateChanged(); // page tables may have changed under the TLB
  }
  mapRom(addr: number, data: Uint8Array): void {
    if (!Number.isInteger(addr) || addr < 0 || addr + data.length > 2 ** 32) {
      throw new RangeError(`mapRom: 0x${addr.toString(16)} + ${data.length} is outside the ` +
        '32-bit physical space');
    }
    const host = this.x.addRom(addr >>> 0, data.length);
    if (host === 0) throw new Error(`mapRom: no room for another ROM (at 0x${addr.toString(16)})`);
    this.views();
    this.u8.set(data, host);
  }
  addMmio(base: number, length: number): void {
    if (!Number.isInteger(base) || !Number.isInteger(length) || base < 0 || length <= 0 ||
        base + length > 2 ** 32) {
      throw new RangeError(`addMmio: bad range 0x${base.toString(16)} + ${length}`);
    }
    if (!this.x.addMmio(base >>> 0, length >>> 0)) throw new Error('addMmio: too many MMIO ranges');
  }
  setA20(on: boolean): void { this.x.setA20(on ? 1 : 0); }
  setShadow(base: number, mode: ShadowMode): void {
    const region = base >= 0xf0000 && base < 0x100000 ? 12 : (base - 0xc0000) / 0x4000;
    if (!Number.isInteger(region) || region < 0 || region > 12 ||
        (region === 12 && base !== 0xf0000)) {
      throw new RangeError(`setShadow: 0x${base.toString(16)} is not the start of a PAM region`);
    }
    const m = mode === 'rom' ? 0 : mode === 'ram-ro' ? 1 : 2;
    this.x.setShadow(region, m);
  }

  run(budget: number): Exit {
    if (!Number.isFinite(budget) || budget < 0) throw new RangeError(`run: bad budget ${budget}`);
    return this.exitOf(this.x.run(Math.min(budget, 0xffffffff) >>> 0));
  }
  private exitOf(reason: number): Exit {
    switch (reason) {
      case L.EXIT_BUDGET: return { reason: 'budget' };
      case L.EXIT_IO: case L.EXIT_MMIO: {
        const size = this.get32(L.S_EXIT_SIZE) as 1 | 2 | 4;
        const write = this.get32(L.S_EXIT_WRITE) !== 0;
        const value = this.get32(L.S_EXIT_VALUE);
        const a = this.get32(L.S_EXIT_ADDR);
        if (reason === L.EXIT_MMIO) return { reason: 'mmio', address: a, size, write, value };
        const count = this.get32(L.S_EXIT_COUNT);
        if (count <= 1) return { reason: 'io', port: a, size, write, value };
        const data = this.u8.subarray(L.PIO_DATA_BASE, L.PIO_DATA_BASE + count * size);
        return { reason: 'io', port: a, size, write, value, count, data };
      }
      case L.EXIT_HLT: return { reason: 'hlt' };
      case L.EXIT_IRQ_WINDOW: return { reason: 'irq-window' };
      case L.EXIT_SHUTDOWN:
        return { reason: 'shutdown', why: WHY[this.get32(L.S_EXIT_DETAIL)] ?? 'shutdown' };
      case L.EXIT_VMEXIT: return { reason: 'vmexit' };
      case L.EXIT_DEBUG: return { reason: 'debug' };
      case L.EXIT_RDTSC: return { reason: 'rdtsc' };
      default: return { reason: 'invalid', why: `unknown exit code ${reason}` };
    }
  }
  completeIo(value: number): void { this.x.completeIo(value >>> 0); }
  setTscExit(on: boolean): void { this.x.setTscExit(on ? 1 : 0); }
  completeTsc(value: bigint): void { this.x.completeTsc(BigInt.asIntN(64, value)); }
  tscWriteAdjustment(): bigint { return BigInt.asUintN(64, this.x.tscWriteAdjustment()); }
  setTscWriteAdjustment(v: bigint): void { this.x.setTscWriteAdjustment(BigInt.asIntN(64, v)); }
  setStringIo(on: boolean): void { this.set32(L.S_STRIO, on ? 1 : 0); }
  setVmx(on: boolean): void { this.set32(L.S_VMX, on ? 1 : 0); }
  setApicPresent(on: boolean): void { this.x.setApicPresent?.(on ? 1 : 0); }
  apicBase(): number { return this.get32(L.S_APIC_BASE); }
  setSvm(on: boolean, nrips = false): void {
    this.set32(L.S_SVM, on ? (nrips ? 3 : 1) : 0);
  }
  addVmmRam(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes > 0x40000000) {
      throw new RangeError(`addVmmRam: bad size ${bytes}`);
    }
    const pa = this.x.addVmmRam(bytes >>> 0);
    if (pa === 0) throw new Error(`addVmmRam: cannot allocate ${bytes} bytes of VMM RAM`);
    this.views();
    return pa >>> 0;
  }
  readHostPhys(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.views();
    for (let k = 0; k < length;) {
      const h = this.hostPage('readHostPhys', addr + k);
      const n = Math.min(length - k, 0x1000 - ((addr + k) & 0xfff));
      out.set(this.u8.subarray(h, h + n), k);
      k += n;
    }
    return out;
  }
  writeHostPhys(addr: number, data: Uint8Array): void {
    this.views();
    for (let k = 0; k < data.length;) {
      const h = this.hostPage('writeHostPhys', addr + k);
      const n = Math.min(data.length - k, 0x1000 - ((addr + k) & 0xfff));
      this.u8.set(data.subarray(k, k + n), h);
      k += n;
    }
    this.x.stateChanged(); // tables under the TLB and the nested caches may have changed
  }
  private hostPage(what: string, pa: number): number {
    const h = Number.isInteger(pa) && pa >= 0 && pa < 2 ** 32 ? this.hostOf(pa) : undefined;
    if (h === undefined) throw new RangeError(`${what}: 0x${pa.toString(16)} is not RAM`);
    return h;
  }
  vmcsRead(enc: number): bigint {
    if (!Number.isInteger(enc) || enc < 0 || !this.x.vmcsFieldOk(enc >>> 0)) {
      throw new VmcsError(`vmcsRead: unsupported VMCS field 0x${enc.toString(16)}`, 12);
    }
    return BigInt.asUintN(64, this.x.vmcsRead(enc >>> 0));
  }
  vmcsWrite(enc: number, value: bigint | number): void {
    if (!Number.isInteger(enc) || enc < 0) {
      throw new VmcsError(`vmcsWrite: bad encoding ${enc}`, 12);
    }
    const v = BigInt.asUintN(64, BigInt(value));
    const err = this.x.vmcsWrite(enc >>> 0, BigInt.asIntN(64, v));
    if (err !== 0) {
      throw new VmcsError(`vmcsWrite: field 0x${enc.toString(16)}: VM-instruction error ${err}` +
        (err === 13 ? ' (read-only)' : ' (unsupported)'), err);
    }
  }
  vmcsClearHost(): void { this.x.vmcsClearHost(); }
  vmxHostEnter(): number {
    const r = this.x.vmxHostEnter() >>> 0;
    if (r === 0xffffffff) throw new Error('vmxHostEnter: no current VMCS, or already in a guest');
    return r;
  }
  hostEmulate(budget: number): Exit {
    if (!Number.isFinite(budget) || budget < 0) {
      throw new RangeError(`hostEmulate: bad budget ${budget}`);
    }
    const r = this.x.hostEmulate(Math.min(budget, 0xffffffff) >>> 0) >>> 0;
    if (r === 0xffffffff) throw new Error('hostEmulate: no current VMCS or VMCB, or in a guest');
    return this.exitOf(r);
  }
  svmHostEnter(vmcbHpa: number): number {
    if (!Number.isInteger(vmcbHpa) || vmcbHpa < 0 || vmcbHpa >= 2 ** 32 || vmcbHpa % 4096 !== 0) {
      throw new RangeError(`svmHostEnter: bad VMCB address ${vmcbHpa}`);
    }
    const r = this.x.svmHostEnter(vmcbHpa >>> 0) >>> 0;
    if (r === 0xffffffff) throw new Error('svmHostEnter: already in a guest');
    return r;
  }
  /** Exits by SVM exit code: index = code for 0-0x9f, then 0xa0 #NPF, 0xa1 VMEXIT_INVALID,
   *  0xa2 any other. */
  svmExitCounts(): number[] {
    this.views();
    const out: number[] = [];
    for (let i = 0; i < L.SVM_EXIT_SLOTS; i++) {
      out.push(Number(this.dv.getBigUint64(L.SVM_EXIT_COUNTS + 8 * i, true)));
    }
    return out;
  }
  setNestedCaches(pwc: boolean, ntlb: boolean): void {
    this.x.setNestedCaches(pwc ? 1 : 0, ntlb ? 1 : 0);
  }
  setTlbTags(on: boolean): void { this.x.setTlbTags(on ? 1 : 0); }
  /** Exits by VMX basic reason (SDM vol. 3C, appendix C): index = reason. */
  vmxExitCounts(): number[] {
    this.views();
    const out: number[] = [];
    for (let i = 0; i < L.VMX_EXIT_SLOTS; i++) {
      out.push(Number(this.dv.getBigUint64(L.VMX_EXIT_COUNTS + 8 * i, true)));
    }
    return out;
  }
  canInjectInterrupt(): boolean {
    // IF = 1, or a guest whose external interrupts exit whatever IF (VMX external-interrupt
    // exiting); no interrupt shadow; none pending.
    if (this.x.interruptWindowOpen) return this.x.interruptWindowOpen() !== 0;
    // A core built before interruptWindowOpen (an A/B of builds): IF and the shadow only.
    return (this.get32(L.S_EFLAGS) & (1 << 9)) !== 0 && this.get32(L.S_INT_SHADOW) === 0 &&
      (this.get32(L.S_INTR_PENDING) & 0x100) === 0;
  }
  takeReturnedInterrupt(): number {
    const dv = this.views();
    const v = dv.getUint32(L.INTR_RETURNED, true);
    if (v === 0) return -1;
    dv.setUint32(L.INTR_RETURNED, 0, true);
    return (v & 0x100) !== 0 ? v & 0xff : -1;
  }
  injectInterrupt(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) {
      throw new RangeError(`injectInterrupt: bad vector ${vector}`);
    }
    this.set32(L.S_INTR_PENDING, vector | 0x100);
  }
  requestInterruptWindow(on: boolean): void { this.set32(L.S_IRQ_WINDOW, on ? 1 : 0); }
  nmi(): void { this.set32(L.S_NMI_PENDING, 1); }
  counters(): CoreCounters {
    const c = {} as CoreCounters;
    for (const [k, off] of Object.entries(COUNTERS)) c[k] = Number(this.get64(off));
    return c;
  }
  instructions(): number { return this.get64Number(L.S_CNT_INSN); }
  tsc(): bigint { return this.get64(L.S_TSC); }
  ferr(): FerrLine {
    return { asserted: !!this.x.ferr(), assertions: this.x.ferrAssertions() >>> 0 };
  }
  idleTsc(instructions: number): void {
    if (!Number.isSafeInteger(instructions) || instructions <= 0) return;
    const tpi = BigInt(this.get32(L.S_TSC_PER_INSN));
    const v = (this.get64(L.S_TSC) + BigInt(instructions) * tpi) & 0xffffffffffffffffn;
    this.views().setBigUint64(L.STATE_BASE + L.S_TSC, v, true);
  }
  /** The state block (registers, segment caches, tables, CRs, MSRs, TSC...) as one copy,
   *  for a VMM that saves and loads guest state as a whole. */
  saveState(): Uint8Array {
    this.views();
    return this.u8.slice(L.STATE_BASE, L.STATE_BASE + L.STATE_SIZE);
  }
  setHostBreakpoints(addrs: number[], skip?: number): void {
    if (addrs.length > L.HOSTDBG_MAX) {
      throw new RangeError(`at most ${L.HOSTDBG_MAX} host breakpoints, got ${addrs.length}`);
    }
    this.views();
    addrs.forEach((a, i) => this.dv.setUint32(L.HOSTDBG_ADDRS + 4 * i, a >>> 0, true));
    this.dv.setUint32(L.HOSTDBG_COUNT, addrs.length, true);
    this.dv.setUint32(L.HOSTDBG_SKIP, skip === undefined ? 0xffffffff : skip >>> 0, true);
    this.x.hostDebugChanged();
  }
  /** Puts back the counters of a saved state block (the groups at S_COUNTERS and
   *  S_CNT_VMENTRY), nothing else: a snapshot's restore ends with it, so that the TLB
   *  flushes of rebuilding the machine count nowhere. */
  restoreCounters(block: Uint8Array): void {
    if (block.length !== L.STATE_SIZE) {
      throw new RangeError(`restoreCounters: expected ${L.STATE_SIZE} bytes, got ${block.length}`);
    }
    this.views();
    for (const [from, to] of [[L.S_COUNTERS, L.S_RAM_BYTES], [L.S_CNT_VMENTRY, L.STATE_SIZE]]) {
      this.u8.set(block.subarray(from, to), L.STATE_BASE + from);
    }
  }
  saveVirtState(): Uint8Array {
    this.views();
    const regions = this.vmmRegions();
    const size = 16 + L.VMCS_SIZE + L.VMM_STATS_SIZE +
      regions.reduce((n, r) => n + 8 + r.len, 0);
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, VIRT_MAGIC, true);
    dv.setUint32(4, VIRT_VERSION, true);
    dv.setUint32(8, regions.length, true);
    dv.setUint32(12, L.VMCS_SIZE + L.VMM_STATS_SIZE, true);
    let at = 16;
    out.set(this.u8.subarray(L.VMCS_BASE, L.VMCS_BASE + L.VMCS_SIZE), at);
    at += L.VMCS_SIZE;
    out.set(this.u8.subarray(L.VMM_STATS_BASE, L.VMM_STATS_BASE + L.VMM_STATS_SIZE), at);
    at += L.VMM_STATS_SIZE;
    for (const r of regions) {
      dv.setUint32(at, r.phys, true);
      dv.setUint32(at + 4, r.len, true);
      out.set(this.u8.subarray(r.host, r.host + r.len), at + 8);
      at += 8 + r.len;
    }
    return out;
  }
  loadVirtState(blob: Uint8Array): void {
    const bad = (why: string): never => { throw new VirtStateError(`loadVirtState: ${why}`); };
    if (!(blob instanceof Uint8Array) || blob.length < 16) bad('not a virtualization state');
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    if (dv.getUint32(0, true) !== VIRT_MAGIC) bad('not a virtualization state (magic)');
    if (dv.getUint32(4, true) !== VIRT_VERSION) bad(`version ${dv.getUint32(4, true)}`);
    const count = dv.getUint32(8, true);
    if (dv.getUint32(12, true) !== L.VMCS_SIZE + L.VMM_STATS_SIZE) bad('block sizes differ');
    if (count > L.VMMRAM_MAX) bad(`${count} VMM RAM regions (at most ${L.VMMRAM_MAX})`);
    // Check the whole blob before changing anything.
    const want: { phys: number; len: number; at: number }[] = [];
    let at = 16 + L.VMCS_SIZE + L.VMM_STATS_SIZE;
    for (let i = 0; i < count; i++) {
      if (at + 8 > blob.length) bad('truncated');
      const phys = dv.getUint32(at, true), len = dv.getUint32(at + 4, true);
      if (len === 0 || len % 4096 !== 0 || at + 8 + len > blob.length) bad('truncated region');
      want.push({ phys, len, at: at + 8 });
      at += 8 + len;
    }
    if (at !== blob.length) bad('trailing bytes');
    // The VMM RAM regions: those this core has must be the blob's first ones (the same
    // VMM made them in the same order); the rest are made here.
    const have = this.vmmRegions();
    if (have.length > want.length) bad(`this core has ${have.length} VMM RAM regions, the ` +
      `state ${want.length}`);
    for (let i = 0; i < want.length; i++) {
      const w = want[i];
      if (i < have.length) {
        if (have[i].phys !== w.phys || have[i].len !== w.len) {
          bad(`VMM RAM region ${i} at 0x${have[i].phys.toString(16)} (${have[i].len} bytes) ` +
            `here, 0x${w.phys.toString(16)} (${w.len}) in the state`);
        }
      } else if (this.addVmmRam(w.len) !== w.phys) {
        bad(`VMM RAM region ${i} cannot be placed at 0x${w.phys.toString(16)}`);
      }
    }
    this.views();
    const regions = this.vmmRegions();
    for (let i = 0; i < want.length; i++) {
      this.u8.set(blob.subarray(want[i].at, want[i].at + want[i].len), regions[i].host);
    }
    this.u8.set(blob.subarray(16, 16 + L.VMCS_SIZE), L.VMCS_BASE);
    this.u8.set(blob.subarray(16 + L.VMCS_SIZE, 16 + L.VMCS_SIZE + L.VMM_STATS_SIZE),
      L.VMM_STATS_BASE);
    this.x.stateChanged();
  }
  /** The VMM RAM regions (assembly/mem/phys.ts addVmmRam), in the order they were made. */
  private vmmRegions(): { phys: number; len: number; host: number }[] {
    const dv = this.views();
    const out: { phys: number; len: number; host: number }[] = [];
    for (let i = 0; i < L.VMMRAM_MAX; i++) {
      const p = L.VMMRAM_TABLE + i * L.VMMRAM_ENTRY_SIZE;
      const len = dv.getUint32(p + L.VR_LEN, true);
      if (len === 0) break;
      out.push({ phys: dv.getUint32(p + L.VR_PHYS, true), len,
        host: dv.getUint32(p + L.VR_HOST, true) });
    }
    return out;
  }
  loadState(block: Uint8Array): void {
    if (block.length !== L.STATE_SIZE) {
      throw new RangeError(`loadState: expected ${L.STATE_SIZE} bytes, got ${block.length}`);
    }
    const keepRam = this.get32(L.S_RAM_BYTES), keepEnd = this.get32(L.S_ROM_END);
    const keepA20 = this.get32(L.S_A20_MASK);
    const keepStrio = this.get32(L.S_STRIO); // host settings, not guest state
    const keepVmx = this.get32(L.S_VMX);
    const keepCfg = [L.S_SVM, L.S_NESTED_CACHES, L.S_TLB_TAGS].map((o) => this.get32(o));
    this.views();
    this.u8.set(block, L.STATE_BASE);
    this.set32(L.S_RAM_BYTES, keepRam);
    this.set32(L.S_ROM_END, keepEnd);
    this.set32(L.S_A20_MASK, keepA20);
    this.set32(L.S_STRIO, keepStrio);
    this.set32(L.S_VMX, keepVmx);
    [L.S_SVM, L.S_NESTED_CACHES, L.S_TLB_TAGS].forEach((o, i) => this.set32(o, keepCfg[i]));
    this.x.dropPendingIo();
    this.x.stateChanged();
  }
}

/** Creates one VM's core: a fresh WebAssembly instance with `ramBytes` of guest RAM. */
export async function createCore(opts: CoreOptions): Promise<Core> {
  const ram = opts.ramBytes;
  if (!Number.isInteger(ram) || ram <= 0 || ram % 4096 !== 0 || ram > 0xf0000000) {
    throw new RangeError('createCore: ramBytes must be a positive multiple of 4096 below ' +
      `3.75 GiB, got ${ram}`);
  }
  const tpi = opts.tscPerInstruction ?? 1;
  if (!Number.isInteger(tpi) || tpi < 0 || tpi > 0xffffffff) {
    throw new RangeError(
      `createCore: tscPerInstruction must be a non-negative integer, got ${tpi}`);
  }
  const module = await compileCore(opts.wasm);
  // The core reports every guest-caused condition as an exit; an AssemblyScript abort
  // (a failed bounds check in the core itself) is a core bug, surfaced as an Error here.
  const env = {
    abort(_msg: number, _file: number, line: number, column: number): never {
      throw new Error(`wasmvisor: the core aborted (internal error at line ${line}:${column})`);
    },
  };
  const instance = await WebAssembly.instantiate(module, { env });
  const x = instance.exports as unknown as CoreExports;
  if (!x.init(ram)) throw new RangeError(`createCore: cannot allocate ${ram} bytes of guest RAM`);
  const core = new WasmCore(x, ram);
  new DataView(x.memory.buffer).setUint32(L.STATE_BASE + L.S_TSC_PER_INSN, tpi, true);
  return core;
}
