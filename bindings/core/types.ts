/**
 * The contract between the WebAssembly core and everything above it (devices, machine,
 * hypervisor, tests). The loader in this folder implements it; nothing else touches the
 * wasm memory.
 *
 * Conventions follow KVM's KVM_RUN: `run()` executes until something needs the host and
 * returns why; the host completes the access and calls `run()` again.
 */

/** General registers and control state, 32-bit values (unsigned). */
export interface Regs {
  eax: number; ecx: number; edx: number; ebx: number;
  esp: number; ebp: number; esi: number; edi: number;
  eip: number; eflags: number;
  cr0: number; cr2: number; cr3: number; cr4: number;
  dr0: number; dr1: number; dr2: number; dr3: number; dr6: number; dr7: number;
}
export type RegName = keyof Regs;

export type SegName = 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs' | 'ldtr' | 'tr';

/**
 * A segment register with its hidden part. `access` uses the VMCS guest-segment
 * access-rights format (Intel SDM vol. 3C, 25.4.1, table 25-2): type 3:0, S 4, DPL 6:5,
 * P 7, AVL 12, L 13, D/B 14, G 15, unusable 16.
 */
export interface Segment { selector: number; base: number; limit: number; access: number }

/** GDTR / IDTR. */
export interface TableReg { base: number; limit: number }

export type ShadowMode = 'rom' | 'ram-ro' | 'ram';

/** Why `run()` returned. */
export type Exit =
  | { reason: 'budget' }
  /** IN/OUT/INS/OUTS. For `write: false` the host calls `completeIo(value)` before `run()`.
   *  With `setStringIo(true)`, a REP INS/OUTS may exit once for `count` elements of `size`
   *  bytes (as KVM's KVM_EXIT_IO with a count): `data` holds them in transfer order, the
   *  values written for OUTS (`value` is the first), and for INS the host fills `data` before
   *  `run()` (no completeIo). `count` is absent for one element. */
  | {
      reason: 'io'; port: number; size: 1 | 2 | 4; write: boolean; value: number;
      count?: number; data?: Uint8Array;
    }
  /** An access to a physical range registered with `addMmio`. Reads are completed like io. */
  | { reason: 'mmio'; address: number; size: 1 | 2 | 4; write: boolean; value: number }
  /** HLT executed with nothing to deliver; EIP is past the HLT. */
  | { reason: 'hlt' }
  /** The host asked for an interrupt window and the guest can now take an interrupt. */
  | { reason: 'irq-window' }
  /** Triple fault or another state the CPU shuts down on. */
  | { reason: 'shutdown'; why: string }
  /** The core met a state it cannot continue from (the VM ends with this reason). */
  | { reason: 'invalid'; why: string }
  /** A VM exit of a guest entered by vmxHostEnter (the exit information is in the VMCS:
   *  vmcsRead) or svmHostEnter (in the VMCB). */
  | { reason: 'vmexit' }
  /** A host debugger breakpoint (setHostBreakpoints): the instruction at it has not run. */
  | { reason: 'debug' }
  /** RDTSC, RDTSCP or RDMSR of IA32_TSC with simulated time on (setTscExit): the
   *  instruction has not run; completeTsc gives the value it reads when run() resumes. */
  | { reason: 'rdtsc' };

/** FERR# as Core.ferr() reports it. */
export interface FerrLine { asserted: boolean; assertions: number }

export interface CoreCounters {
  instructions: number;
  tlbHits: number;
  tlbMisses: number;
  pageWalks: number;
  walkMemRefs: number;
  interrupts: number;
  exceptions: number;
  /** Instruction boundaries the run loop checked on its slow path (pending events, an
   *  interrupt shadow, debug, prefixes); the rest retire in its inner loop. */
  slowBoundaries: number;
  [name: string]: number;
}

/**
 * The counters of VMX/SVM operation in the state block (scripts/layout.mjs, S_CNT_VMENTRY
 * and after), as numbers. A core built without them reports none (`Core.vmm` undefined).
 */
export interface VmmCoreCounters {
  /** VM entries (VMLAUNCH/VMRESUME/VMRUN, host-owned or the guest's own). */
  vmEntries: number;
  /** VM exits, all reasons. */
  vmExits: number;
  /** VMCS fields read and written (the VMM's vmcsRead/vmcsWrite and the guest's
   *  VMREAD/VMWRITE), or VMCB fields the core read and wrote at VMRUN and #VMEXIT. */
  vmcsReads: number;
  vmcsWrites: number;
  /** Two-dimensional walks (a guest walk whose references are translated through EPT/NPT)
   *  and the memory references they made. */
  nestedWalks: number;
  nestedWalkRefs: number;
  /** The page-walk cache and the nested TLB (guest-physical to host-physical). */
  pwcHits: number; pwcMisses: number;
  ntlbHits: number; ntlbMisses: number;
  /** TLB entries of another VPID/ASID kept across a world switch (tags on). */
  tlbSurvivors: number;
  /** Guest instructions the VMM's emulator executed (hostEmulate). */
  emulated: number;
}

/**
 * The core's host side of VT-x and AMD-V (CONTRACT: the exports a TypeScript VMM uses):
 * present only when the core was built with them.
 */
export interface CoreVmm {
  /** Which of the vendors' host entries this core has. */
  readonly vmx: boolean;
  readonly svm: boolean;
  /** Host-physical address of `bytes` (a multiple of 4 KiB) of new zeroed VMM RAM, after
   *  guest RAM; throws when memory cannot grow. */
  addVmmRam(bytes: number): number;
  /** Host-physical memory (guest RAM or VMM RAM), little-endian. */
  readHost64(hpa: number): bigint;
  writeHost64(hpa: number, v: bigint): void;
  readHost32(hpa: number): number;
  writeHost32(hpa: number, v: number): void;
  /** True when guest-physical page `gpa` is RAM (not ROM, MMIO or unclaimed space): what
   *  the VMM may map identity in its EPT/NPT. */
  isRamPage(gpa: number): boolean;
  /** A general register by its number in the exit qualifications' order (SDM vol. 3C,
   *  table 28-3: EAX ECX EDX EBX ESP EBP ESI EDI), read and written in the state block
   *  with no other effect (after a host-owned exit ESP is in the VMCS/VMCB, as is RAX for
   *  SVM). */
  readGpr(n: number): number;
  writeGpr(n: number, v: number): void;
  /** The INTR line the VMM raised to take the CPU out of the guest (see the vtx/svm
   *  modes' kick) is dropped: the exit it caused is taken. */
  cancelInterrupt(): void;
  /** The current VMCS of a host-owned VM (SDM vol. 3C, appendix B encodings). vmcsWrite
   *  returns 0 or the VM-instruction error (12 unsupported, 13 read-only). */
  vmcsRead(encoding: number): bigint;
  vmcsWrite(encoding: number, value: bigint | number): number;
  /** A fresh current VMCS, launch state clear, for a VM without VMXON. */
  vmcsClearHost(): void;
  /** VM entry from the host: 0, a VM-instruction error (1-28), or 0x80000000 | reason. */
  vmxHostEnter(): number;
  /** VMRUN from the host with the VMCB at `vmcbHpa`: 0, or 0x80000000 (VMEXIT_INVALID). */
  svmHostEnter(vmcbHpa: number): number;
  /** The VMM's instruction emulator: at most `budget` guest instructions from the
   *  VMCS/VMCB guest state, intercepts off, guest-physical = host-physical. */
  hostEmulate(budget: number): Exit;
  /** Retires one guest instruction the VMM completed itself (KVM's fast PIO: an IN/OUT
   *  done from the exit information): the instruction counter and the TSC advance as if
   *  the CPU had run it. */
  retireInstruction(): void;
  setNestedCaches(pwc: boolean, ntlb: boolean): void;
  setTlbTags(on: boolean): void;
  /** Shadow paging (issue 10): drops translations cached from the VMM's shadow entries, in
   *  the live TLB and in the entries a tagged world switch set aside: of the page holding
   *  `lin`, all but global ones, or all. */
  invalidateTlb(lin: number, kind: 'page' | 'nonglobal' | 'all'): void;
  /** The linear address of the last INVLPG the CPU (or the emulator) executed. */
  lastInvlpg(): number;
  /** Writes CR2 (no VMCS field holds it: the VMM sets it before injecting a #PF, as KVM
   *  loads the register before VM entry). */
  setCr2(v: number): void;
  counters(): VmmCoreCounters;
}

export interface CoreOptions {
  /** Guest RAM in bytes (a multiple of 4 KiB). */
  ramBytes: number;
  /** Virtual TSC ticks per executed instruction (default 1). */
  tscPerInstruction?: number;
  /** The wasm bytes or a URL to them; Node defaults to the packaged build/core.wasm. */
  wasm?: BufferSource | URL;
}

export interface Core {
  readonly ramBytes: number;
  /** Power-on reset (Intel SDM vol. 3A, 9.1.1): real mode, CS:IP F000:FFF0, CS base FFFF0000. */
  reset(): void;
  getRegs(): Regs;
  setRegs(regs: Partial<Regs>): void;
  getSegment(seg: SegName): Segment;
  setSegment(seg: SegName, s: Segment): void;
  getTable(which: 'gdtr' | 'idtr'): TableReg;
  setTable(which: 'gdtr' | 'idtr', t: TableReg): void;
  readMsr(index: number): bigint;
  writeMsr(index: number, value: bigint): void;
  /** Copies guest-physical memory out / in. Addresses outside RAM throw RangeError. */
  readPhys(addr: number, length: number): Uint8Array;
  /**
   * Up to `length` bytes of guest memory at linear address `addr`, as the CPU would fetch
   * them now, for the host (a debugger, --trace): 32-bit paging walked over RAM and ROM
   * (4 KiB and 4 MiB pages, CR0.PG, CR3, CR4.PSE; see ./linear.ts), the A20 gate, the
   * shadow RAM modes and mapped ROMs. No side effects: no accessed/dirty bits, no TLB fill,
   * no fault, no MMIO access. The first byte that is unmapped, MMIO or unclaimed by any
   * memory ends the result.
   */
  readLinear(addr: number, length: number): Uint8Array;
  writePhys(addr: number, data: Uint8Array): void;
  /** Maps a ROM image read-only at a physical address (e.g. firmware at 0xF0000 and 0xFFFF0000). */
  mapRom(addr: number, data: Uint8Array): void;
  /** Physical range whose accesses exit as 'mmio'. */
  addMmio(base: number, length: number): void;
  /** The A20 gate (i8042 output port bit 1 / port 0x92 bit 1): off masks physical address
   *  bit 20. */
  setA20(on: boolean): void;
  /**
   * Shadow RAM of the BIOS area as the i440FX PAM registers switch it (82441FX datasheet,
   * PAM0-PAM6): `base` is 0xF0000 (64 KiB) or a 16 KiB region from 0xC0000 to 0xEC000.
   * 'rom': the bus (a mapped ROM) answers; 'ram-ro': RAM read, writes dropped; 'ram': RAM.
   */
  setShadow(base: number, mode: ShadowMode): void;
  /** The guest state block (registers, segment caches, tables, CRs, DRs, MSRs, TSC, event
   *  state) as one copy, and back: what a VMM saves into / loads from its VMCS-like area. */
  saveState(): Uint8Array;
  loadState(block: Uint8Array): void;
  /** The host debugger's instruction breakpoints (linear addresses, at most 64): the core
   *  exits with reason 'debug' before executing one; `skip` is passed once (resuming). */
  setHostBreakpoints?(addrs: number[], skip?: number): void;
  /** Writes back only the counters of a saved state block (snapshots). */
  restoreCounters?(block: Uint8Array): void;
  /**
   * What VMX and SVM keep outside the state block (which holds VMX operation, the VMXON
   * and current-VMCS pointers with the launch state, the VMCB pointer, GIF, VM_HSAVE_PA and
   * guest mode): the current VMCS's fields, the exits by reason, and the VMM RAM regions
   * (addVmmRam: the TypeScript VMM's VMCS/VMCB, EPT/NPT and bitmaps) with their contents.
   * A snapshot of a vtx/svm VM (or of a guest hypervisor's) is the state block, RAM and
   * this; loadVirtState before loadState. Throws VirtStateError on a blob that is not one.
   */
  saveVirtState(): Uint8Array;
  loadVirtState(blob: Uint8Array): void;
  /** Runs at most `budget` instructions. */
  run(budget: number): Exit;
  /** Completes the pending IN or MMIO read of the last exit. */
  completeIo(value: number): void;
  /** Simulated time: while on, RDTSC, RDTSCP and RDMSR(IA32_TSC) exit ('rdtsc') and read
   *  the value completeTsc gives (a cost profile's cycle count). Off by default. */
  setTscExit(on: boolean): void;
  completeTsc(value: bigint): void;
  /** What the guest's WRMSR of IA32_TSC added to its counter, modulo 2^64 (0 until then). */
  tscWriteAdjustment(): bigint;
  setTscWriteAdjustment(v: bigint): void;
  /** Lets REP INS/OUTS exit once per run of elements within a page instead of once per
   *  element (the `count` and `data` of an 'io' exit). Off by default. */
  setStringIo(on: boolean): void;
  /** The platform has a local APIC (the machine's device model, or a test host's): CPUID.1:
   *  EDX.APIC (bit 9) then follows IA32_APIC_BASE[11] (SDM vol. 3A, 10.4.3). Off by default. */
  setApicPresent(on: boolean): void;
  /** IA32_APIC_BASE's low 32 bits (the state block's copy: no MSR read, no allocation). */
  apicBase(): number;
  /** Gives the CPU VMX (Intel SDM vol. 3C): CPUID.1:ECX.VMX, CR4.VMXE, IA32_FEATURE_CONTROL,
   *  the VMX capability MSRs and the VMX instructions of root operation. Off by default. */
  setVmx(on: boolean): void;
  /** Gives the CPU AMD-V (AMD APM vol. 2, chapter 15): vendor "AuthenticAMD", CPUID
   *  8000_0001h ECX.SVM and 8000_000Ah, EFER.SVME, VM_CR, VM_HSAVE_PA and the SVM
   *  instructions (VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA, VMMCALL). Off by default.
   *  `nrips` also reports NRIPS (CPUID 8000_000Ah EDX bit 3) and writes NRIP at every
   *  #VMEXIT; without it NRIP is written only for svmHostEnter's entries. */
  setSvm(on: boolean, nrips?: boolean): void;
  // ---- Hardware-assisted virtualization for a TypeScript VMM (issue 9) ----
  /** `bytes` of zeroed host-physical RAM after guest RAM for the VMM's own structures (EPT
   *  tables, bitmaps, VMCB): its host-physical address (4 KiB aligned). readPhys/writePhys
   *  do not reach it; physHost-based access (readLinear) and the CPU's walks do. */
  addVmmRam(bytes: number): number;
  /** Host-physical memory (guest RAM and VMM RAM, as the core maps it: physHost) out and
   *  in, for the VMM's own structures. Other addresses (MMIO, unclaimed) throw RangeError. */
  readHostPhys(addr: number, length: number): Uint8Array;
  writeHostPhys(addr: number, data: Uint8Array): void;
  /** The current VMCS's field `enc` (SDM vol. 3C, appendix B encodings; a 64-bit field
   *  whole by its FULL encoding). Throws VmcsError for an unsupported encoding. */
  vmcsRead(enc: number): bigint;
  /** Writes a VMCS field; throws VmcsError (error 12 unsupported, 13 read-only). */
  vmcsWrite(enc: number, value: bigint | number): void;
  /** A fresh current VMCS for this VM (no VMXON needed): fields 0, launch state clear. */
  vmcsClearHost(): void;
  /** VM entry (VMLAUNCH, then VMRESUME once launched): 0 = in VMX non-root operation, call
   *  run() until a 'vmexit'; otherwise the VM-instruction error (7: invalid controls) or
   *  0x80000000 | 33 (invalid guest state) / 34 (MSR loading), details in the VMCS. */
  vmxHostEnter(): number;
  /** Runs at most `budget` guest instructions from the VMCS guest state with no intercepts
   *  and guest-physical = host-physical (KVM's emulator); the state goes back to the VMCS. */
  hostEmulate(budget: number): Exit;
  /** VMRUN from the VMM (AMD APM vol. 2, 15.5) with the VMCB at host-physical `vmcbHpa`
   *  (VMM RAM; nested paging in the long-mode 4-level format, the VMM playing a 64-bit
   *  host): 0 = in SVM guest mode, call run() until a 'vmexit' (EXITCODE, EXITINFO1/2,
   *  EXITINTINFO, NRIP and the guest state in the VMCB); 0x80000000 = the VMCB broke a rule
   *  of 15.5.1 (EXITCODE -1, VMEXIT_INVALID, written). hostEmulate then works on this VMCB. */
  svmHostEnter(vmcbHpa: number): number;
  /** Exits by SVM exit code (index = code for 0-0x9f, 0xa0 #NPF, 0xa1 VMEXIT_INVALID). */
  svmExitCounts(): number[];
  /** The nested page-walk cache and the nested TLB on or off (both off at creation). */
  setNestedCaches(pwc: boolean, ntlb: boolean): void;
  /** Tagged TLB entries (VPID/ASID) that survive world switches, on or off (off). */
  setTlbTags(on: boolean): void;
  /** Exits by VMX basic exit reason (index = reason, 0-79). */
  vmxExitCounts(): number[];
  /** True when an external interrupt would be taken now (IF=1, no interrupt shadow). */
  canInjectInterrupt(): boolean;
  /** Delivers external interrupt `vector` before the next instruction (the caller checked
   *  canInjectInterrupt). */
  injectInterrupt(vector: number): void;
  /** The vector of an interrupt the core latched (injectInterrupt) that an INTR intercept
   *  gave back untaken (AMD APM vol. 2, 15.21: it stays pending at the controller), or -1;
   *  reading clears it. The host undoes its acknowledge at the interrupt controller. */
  takeReturnedInterrupt(): number;
  /** Ask for an 'irq-window' exit as soon as the guest can take an interrupt. */
  requestInterruptWindow(on: boolean): void;
  nmi(): void;
  /** The host side of VT-x/AMD-V, when this core has it (see CoreVmm). */
  readonly vmm: CoreVmm | undefined;
  counters(): CoreCounters;
  /** Instructions executed so far (the `instructions` counter, without building the rest). */
  instructions(): number;
  /** Virtual time stamp counter (what RDTSC returns). */
  tsc(): bigint;
  /**
   * Advances the TSC by `instructions` instruction-times while the CPU is halted: the
   * counter "increments even when the processor is halted by the HLT instruction" (SDM
   * vol. 3B, 17.17 "Time-Stamp Counter"), so time measured with RDTSC agrees with the
   * timers, which run on during a halt.
   */
  idleTsc(instructions: number): void;
  /**
   * The FERR# output: with CR0.NE = 0, asserted from the waiting x87 instruction that found
   * an unmasked exception pending until the exception is cleared (SDM vol. 1, 8.7), and
   * how many times it has been asserted (so that a host looking after each exit sees every
   * new assertion). The PC routes it to IRQ 13 (bindings/devices/fpu-irq.ts).
   */
  ferr(): FerrLine;
}
