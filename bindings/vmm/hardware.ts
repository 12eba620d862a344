/**
 * What the two hardware-assisted modes (vtx, svm) share, written once: the VM exit loop
 * around the core's host-owned entries, the instruction emulator for I/O and MMIO, the
 * kick that takes a running guest out for an interrupt, the CPUID the VMM offers, the
 * lazily built identity EPT/NPT, and the counters. Each vendor (modes/vtx.ts, modes/svm.ts)
 * supplies its control structure: entering, reading the exit, injecting events.
 */
import type { Core, CoreVmm, Exit } from '../core/types.js';
import type { ResolvedVmmOptions, VmMode } from './options.js';
import type { ModeOps, VmmState, VmmStats } from './modes/ops.js';
import { NestedTables, type NestedFormat } from './nested-paging.js';
import { vmmCpuid } from './cpuid.js';
import { ShadowMmu } from './shadow/mmu.js';

/** The Exit a mode returns for a VM exit it completed itself (the loop goes round). */
export const HANDLED: Exit = Object.freeze({ reason: 'vmexit' });

/** The vector the VMM raises on the CPU's INTR line to take it out of the guest. With
 *  external-interrupt exiting (VMX) or the INTR intercept (SVM) it never reaches the
 *  guest: it causes the exit, and the VMM drops it (Core.cancelInterrupt). */
const KICK_VECTOR = 0xff;

/** MSRs the guest reads and writes without an exit: IA32_SYSENTER_CS/ESP/EIP, which both
 *  vendors keep in the guest state (VMCS guest-state area, SDM vol. 3C 25.4.1; SVM: not
 *  touched by VMRUN/#VMEXIT, APM vol. 2 15.5.1), as KVM passes them through (vmx.c,
 *  svm.c direct_access_msrs): a kernel that moves SYSENTER_ESP at every task switch
 *  (JeOS) would exit each time. */
export const PASSTHROUGH_MSRS: readonly number[] = [0x174, 0x175, 0x176];

/** RFLAGS.IF (SDM vol. 1, 3.4.3.3). */
export const RFLAGS_IF = 0x200;
/** RFLAGS.TF: a single-step trap follows the instruction (SDM vol. 3B 17.3.1.4). */
const RFLAGS_TF = 0x100;

export abstract class HardwareOps implements ModeOps {
  abstract readonly mode: VmMode;
  /** In non-root operation / guest mode: the guest state is live in the core. */
  protected inGuest = false;
  /** An instruction the emulator began is waiting for the device model. */
  private emulating = false;
  private emulateBudget = 1;
  /** The size of an IN the VMM asked the device model for itself (fast PIO), 0 if none. */
  private fastIn = 0;
  private retirePending = false;
  private kicked = false;
  protected readonly tables: NestedTables;
  private entries = 0;
  private exits = 0;
  private readonly byReason = new Map<number, number>();
  /** The VMM's own VMCS/VMCB field accesses. */
  protected fieldReads = 0;
  protected fieldWrites = 0;
  private violations = 0;
  protected injected = 0;
  protected reinjected = 0;
  /** Simulated time (a cost profile, bindings/vmm/cost): the guest's TSC reads exit and the
   *  VMM answers them with `tscSource()`. The exits and entries this adds, and the field
   *  accesses of their handling, are counted apart (tsc*) so that the cost model leaves
   *  them out: the guest reads the cycles it would have run without them. */
  private tscSource: (() => bigint) | undefined;
  protected tscExits = 0;
  private tscEntries = 0;
  private tscReads = 0;
  private tscWrites = 0;
  private tscExitOpen = false;
  private afterTscExit = false;
  private exitReads0 = 0;
  private exitWrites0 = 0;
  /** Set when the VM cannot go on (a failed entry): every later run returns it. */
  private ended: Exit | undefined;
  /** Shadow paging (paging 'shadow'): the VMM's shadow MMU; undefined with EPT/NPT. */
  protected shadow: ShadowMmu | undefined;
  /** The instruction being emulated loads CR3 (a MOV to CR3, a task switch). */
  protected cr3Load = false;

  constructor(protected readonly core: Core, protected readonly vmm: CoreVmm,
    protected readonly options: ResolvedVmmOptions, format: NestedFormat) {
    vmm.setNestedCaches(options.pwc, options.ntlb);
    vmm.setTlbTags(options.tags);
    // Port I/O reaches the device model only through the emulator; with Machine's stringIo
    // a REP INS/OUTS goes there a page of elements per exit (the core's emulator translates
    // the first element itself, so the batch replays: assembly/cpu/ops/string.ts).
    // Guest RAM is one host allocation: its 2 MiB regions are mapped by 2 MiB leaves.
    this.tables = new NestedTables(vmm, format, true);
    if (options.paging === 'shadow') {
      const r = core.getRegs();
      this.shadow = new ShadowMmu(vmm, r.cr0, r.cr3, r.cr4,
        { readPhys: (gpa, n) => core.readPhys(gpa, n) });
    }
  }

  // ---- Shadow paging: the vendor's control registers (VMCS guest area / VMCB save area) ----
  /** CR0, CR3 or CR4 as the control structure holds it for the CPU. */
  protected abstract crField(n: 0 | 3 | 4): number;
  protected abstract setCrField(n: 0 | 3 | 4, v: number): void;
  /** Bits of CR0 / CR4 the VMM owns under shadow paging: the guest's values of those are
   *  the shadow MMU's (read shadows on VMX, intercepted reads on SVM). */
  protected abstract shadowMasks(): [number, number];
  /** The CPU's CR0/CR4 for guest values (the vendor adds the bits its mode needs) and the
   *  values the guest's reads see (VMX read shadows; nothing to do on SVM). */
  protected abstract shadowControls(guestCr0: number, guestCr4: number): void;
  /** Reflects a #PF to the guest: event injection with the error code, CR2 set; a #PF
   *  while delivering a #PF is a #DF, while delivering a #DF a triple fault (SDM vol. 3A,
   *  6.15, table 6-5 and interrupt 8): false then (the guest shuts down). */
  protected abstract injectPageFault(errorCode: number, cr2: number): boolean;

  /**
   * The emulator under shadow paging runs in the guest's own context: its CR0/CR3/CR4, so
   * it walks the guest's tables (setting their A/D bits as the CPU would) and the guest
   * sees its own control registers; afterwards the VMM takes what the instruction changed
   * (a MOV to CR0/CR3/CR4, a task switch's CR3) and puts the shadow's values back.
   */
  private hostEmulate(budget: number): Exit {
    const sh = this.shadow;
    if (!sh) return this.vmm.hostEmulate(budget);
    const [m0, m4] = this.shadowMasks();
    this.setCrField(0, ((this.crField(0) & ~m0) | (sh.guestCr0 & m0)) >>> 0);
    this.setCrField(4, ((this.crField(4) & ~m4) | (sh.guestCr4 & m4)) >>> 0);
    this.setCrField(3, sh.guestCr3);
    const e = this.vmm.hostEmulate(budget);
    const n0 = this.crField(0), n3 = this.crField(3), n4 = this.crField(4);
    if (n0 !== sh.guestCr0 || n4 !== sh.guestCr4) sh.onControl(n0, n4);
    // A MOV to CR3 flushes even when it loads the same value (SDM vol. 3A, 4.10.4.1).
    if (n3 !== sh.guestCr3 || this.cr3Load) sh.onCr3Write(n3);
    this.cr3Load = false;
    sh.afterTrace();
    this.shadowControls(sh.guestCr0, sh.guestCr4);
    this.setCrField(3, sh.root);
    return e;
  }

  /** A #PF exit under shadow paging at `lin` with the CPU's error code `err`. */
  protected shadowPageFault(lin: number, err: number): Exit {
    const sh = this.shadow!;
    switch (sh.onPageFault(lin, err)) {
      case 'hidden':
        return HANDLED;
      case 'true':
        if (!this.injectPageFault(sh.fault.errorCode, sh.fault.cr2)) {
          return { reason: 'shutdown', why: 'triple fault' };
        }
        this.injected++;
        return HANDLED;
      default: // a traced write, MMIO, ROM: the emulator runs the instruction
        return this.emulate();
    }
  }

  /** INVLPG under shadow paging: the emulator runs it, the shadow drops the entry. */
  protected shadowInvlpg(lin?: number): Exit {
    if (lin !== undefined) { this.shadow!.onInvlpg(lin); return HANDLED; }
    const e = this.emulate();
    if (e === HANDLED) this.shadow!.onInvlpg(this.vmm.lastInvlpg());
    return e;
  }

  /** VM entry with the current control structure: 0, or the vendor's failure code. */
  protected abstract enterGuest(): number;
  /** Words for a failed entry's code. */
  protected abstract entryFailure(code: number): string;
  /** The exit's basic reason (VMX) or exit code (SVM). */
  protected abstract exitReason(): number;
  /** The name of a basic reason / exit code, as the vendor's manual writes it. */
  protected abstract reasonName(reason: number): string;
  /** Re-injects an event whose delivery the exit interrupted (IDT-vectoring information
   *  / EXITINTINFO): returns true when there was one. */
  protected abstract reinjectInterrupted(): boolean;
  /** Completes one VM exit; HANDLED, or an Exit for the loop. */
  protected abstract handleExit(reason: number): Exit;
  /** Guest RFLAGS, interruptibility and pending injection, from the VMCS/VMCB. */
  protected abstract guestRflags(): number;
  protected abstract guestCanTakeInterrupt(): boolean;
  protected abstract injectExternal(vector: number): void;
  protected abstract setInterruptWindow(on: boolean): void;
  /** The guest's EAX, and setting it (RAX is in the VMCB for SVM). */
  protected abstract guestEax(): number;
  protected abstract setGuestEax(v: number): void;

  run(budget: number): Exit {
    if (this.retirePending) { this.retirePending = false; this.vmm.retireInstruction(); }
    if (this.ended) return this.ended;
    if (this.emulating) return this.continueEmulation();
    if (!this.inGuest) {
      const code = this.enterGuest();
      if (code !== 0) {
        this.ended = { reason: 'invalid', why: `VM entry failed: ${this.entryFailure(code)}` };
        return this.ended;
      }
      this.inGuest = true;
      this.entries++;
      if (this.afterTscExit) { this.tscEntries++; this.afterTscExit = false; }
    }
    const exit = this.core.run(budget);
    if (exit.reason !== 'vmexit') return exit;
    this.inGuest = false;
    if (this.kicked) {
      this.kicked = false;
      this.vmm.cancelInterrupt();
    }
    this.exitReads0 = this.fieldReads;
    this.exitWrites0 = this.fieldWrites;
    const reason = this.exitReason();
    this.exits++;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (this.reinjectInterrupted()) this.reinjected++;
    const done = this.handleExit(reason);
    if (this.tscExitOpen) {
      this.tscAccount();
      this.tscExitOpen = false;
      this.afterTscExit = true;
    }
    return done;
  }

  /** Turns simulated time on: the vendor sets its RDTSC (and RDTSCP) exiting. */
  setTscSource(source: () => bigint): void {
    this.tscSource = source;
    this.enableTscExiting();
  }
  protected abstract enableTscExiting(): void;
  /** Advances the guest past the TSC-reading instruction of `len` bytes. */
  protected abstract skipTscInstruction(len: number): void;
  private tscAccount(): void {
    this.tscReads += this.fieldReads - this.exitReads0;
    this.tscWrites += this.fieldWrites - this.exitWrites0;
    this.exitReads0 = this.fieldReads;
    this.exitWrites0 = this.fieldWrites;
  }
  /** True when simulated time is on and this exit reads the TSC: RDTSC, RDTSCP, RDMSR of
   *  IA32_TSC (0x10). */
  protected get simulatedTime(): boolean { return this.tscSource !== undefined; }
  /** Answers a TSC read with simulated time: EDX:EAX (and ECX = TSC_AUX, not kept: 0, for
   *  RDTSCP) from the profile's cycles plus the guest's own TSC writes; the instruction
   *  retires as it does natively. The exit and its field accesses are counted apart. */
  protected answerTsc(len: number, rdtscp: boolean): Exit {
    this.tscExits++;
    this.tscExitOpen = true;
    this.tscAccount();
    const t = BigInt.asUintN(64, this.tscSource!());
    this.setGuestEax(Number(t & 0xffffffffn));
    this.vmm.writeGpr(2, Number(t >> 32n));
    if (rdtscp) this.vmm.writeGpr(1, 0);
    this.skipTscInstruction(len);
    this.vmm.retireInstruction();
    return HANDLED;
  }

  /** Runs the instruction at the guest's RIP in the VMM's emulator (KVM's emulator): I/O,
   *  MMIO, MSRs. A port or MMIO access returns to the loop for the device model; the next
   *  run() replays the instruction with the value, as the core does for its own exits. */
  protected emulate(repString = false): Exit {
    this.emulating = true;
    this.emulateBudget = repString ? 2 : 1;
    return this.continueEmulation();
  }

  /**
   * A port I/O exit (SDM vol. 3C 28.2.1 table 28-5; APM vol. 2 15.10.2). A string one runs
   * in the emulator (a REP one a page of elements per exit); a plain IN or OUT is done from
   * the exit information, as KVM's fast PIO: OUT's value from EAX, IN's into AL/AX/EAX when
   * the device model answers, the instruction then skipped and retired without the
   * emulator. With the guest's TF set or a breakpoint enabled in DR7 (a debug trap may
   * follow the instruction) it goes through the emulator too.
   */
  protected portIo(port: number, size: 1 | 2 | 4, isIn: boolean, string: boolean,
    rep: boolean): Exit {
    if (string) return this.emulate(rep);
    if ((this.guestRflags() & RFLAGS_TF) !== 0 || (this.guestDr7() & 0xff) !== 0) {
      return this.emulate();
    }
    if (isIn) {
      this.fastIn = size;
      return { reason: 'io', port, size, write: false, value: 0 };
    }
    const value = size === 4 ? this.guestEax() >>> 0 : this.guestEax() & (size === 2 ? 0xffff
      : 0xff);
    this.skipPort();
    return { reason: 'io', port, size, write: true, value };
  }

  completeIo(value: number): boolean {
    if (this.fastIn === 0) return false;
    const mask = this.fastIn === 4 ? 0xffffffff : this.fastIn === 2 ? 0xffff : 0xff;
    this.fastIn = 0;
    this.setGuestEax(((this.guestEax() & ~mask) | (value & mask)) >>> 0);
    this.skipPort();
    return true;
  }

  /** Past an IN/OUT completed here: the next RIP, the interrupt shadow over. It retires
   *  at the next run(), as the core retires an I/O instruction when it resumes after the
   *  device model: the clock the devices read counts it afterwards, as natively. */
  private skipPort(): void {
    this.skipIo();
    this.retirePending = true;
  }

  /** The guest's DR7 (VMCS guest-state area / VMCB save area). */
  protected abstract guestDr7(): number;
  /** RIP past the I/O instruction of the exit; blocking by STI / MOV SS over. */
  protected abstract skipIo(): void;

  /** Delivers an event in the emulator: `raise` puts it on the CPU, and a run of no
   *  instruction takes it through the guest's IDT (a task gate's task switch included). */
  protected emulateEvent(raise: () => void): Exit {
    raise();
    const e = this.hostEmulate(0);
    return e.reason === 'budget' ? HANDLED : e;
  }

  /** The exit's event was not injected again after all (the mode delivers it itself). */
  protected undoReinjection(): void { this.reinjected--; }

  private continueEmulation(): Exit {
    // A REP INS/OUTS yields after each element that exited, RIP on the instruction; a
    // budget of 2 lets the replay finish that element and the same instruction go on to
    // the next one's exit inside the emulator, instead of a VM entry and exit per element.
    const e = this.hostEmulate(this.emulateBudget);
    if (e.reason === 'io' || e.reason === 'mmio') return e;
    this.emulating = false;
    return e.reason === 'budget' ? HANDLED : e;
  }

  /** An EPT violation / #NPF at `gpa`: guest RAM is mapped, anything else emulated. */
  protected nestedFault(gpa: number): Exit {
    this.violations++;
    if (this.tables.mappable(gpa)) {
      if (this.tables.map(gpa)) return HANDLED;
      return { reason: 'invalid', why: `nested page fault on mapped RAM at 0x${gpa.toString(16)}` };
    }
    return this.emulate();
  }

  /** CPUID: the CPU's answer (through the emulator) with the VMM's leaves over it. */
  protected cpuid(): Exit {
    const leaf = this.guestEax();
    const e = this.emulate();
    if (e !== HANDLED) return e;
    const r = vmmCpuid(leaf, {
      eax: this.guestEax(), ebx: this.vmm.readGpr(3), ecx: this.vmm.readGpr(1),
      edx: this.vmm.readGpr(2),
    });
    this.setGuestEax(r.eax);
    this.vmm.writeGpr(3, r.ebx);
    this.vmm.writeGpr(1, r.ecx);
    this.vmm.writeGpr(2, r.edx);
    return HANDLED;
  }

  interruptsEnabled(): boolean {
    const rflags = this.inGuest ? this.core.getRegs().eflags : this.guestRflags();
    return (rflags & RFLAGS_IF) !== 0;
  }

  canInjectInterrupt(): boolean {
    return !this.inGuest && !this.emulating && this.guestCanTakeInterrupt();
  }

  injectInterrupt(vector: number): void {
    this.injectExternal(vector);
    this.injected++;
  }

  /**
   * In the guest, the VMM first needs it out: it raises INTR on the CPU, which external-
   * interrupt exiting (VMX, SDM vol. 3C 25.6.1) or the INTR intercept (SVM, APM vol. 2
   * 15.21.3) turns into an exit at the next instruction boundary, whatever the guest's IF.
   * Out of it, the window is the vendor's: interrupt-window exiting or V_IRQ with VINTR.
   */
  requestInterruptWindow(on: boolean): void {
    if (this.inGuest) {
      if (on && !this.kicked) {
        this.kicked = true;
        this.core.injectInterrupt(KICK_VECTOR);
      }
      return;
    }
    this.setInterruptWindow(on);
  }

  saveVmmState(): VmmState {
    const fields: Record<string, number | boolean> = {};
    for (const [k, v] of Object.entries(this)) {
      if (typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
    }
    return { mode: this.mode, fields, byReason: [...this.byReason],
      ended: this.ended ? { ...this.ended } as VmmState['ended'] : null,
      tables: this.tables.saveState() };
  }

  loadVmmState(s: VmmState): void {
    if (s.mode !== this.mode) {
      throw new Error(`VMM state of mode ${s.mode} given to a ${this.mode} VM`);
    }
    const self = this as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(s.fields)) {
      if (typeof self[k] !== typeof v) throw new Error(`VMM state: field ${k} is not ours`);
      self[k] = v;
    }
    this.byReason.clear();
    for (const [r, n] of s.byReason) this.byReason.set(r, n);
    this.ended = s.ended ? { ...s.ended } as Exit : undefined;
    this.tables.loadState(s.tables);
  }

  stats(): VmmStats {
    const c = this.vmm.counters();
    const exitsByReason: Record<string, number> = {};
    for (const [r, n] of [...this.byReason].sort((a, b) => a[0] - b[0])) {
      exitsByReason[this.reasonName(r)] = n;
    }
    const per = (n: number) => (this.exits ? Math.round((n / this.exits) * 100) / 100 : 0);
    return {
      mode: this.mode, paging: this.shadow ? 'shadow' : 'nested', tags: this.options.tags,
      pwc: this.options.pwc,
      ntlb: this.options.ntlb,
      vmEntries: this.entries, vmExits: this.exits, exitsByReason,
      vmcsReads: this.fieldReads, vmcsWrites: this.fieldWrites,
      vmcsReadsPerExit: per(this.fieldReads), vmcsWritesPerExit: per(this.fieldWrites),
      nestedWalks: c.nestedWalks, nestedWalkRefs: c.nestedWalkRefs,
      pwcHits: c.pwcHits, pwcMisses: c.pwcMisses, ntlbHits: c.ntlbHits, ntlbMisses: c.ntlbMisses,
      tlbFlushes: this.core.counters().tlbFlushes ?? 0, tlbSurvivors: c.tlbSurvivors,
      emulated: c.emulated, violations: this.violations, pagesMapped: this.tables.pagesMapped,
      eventsInjected: this.injected, eventsReinjected: this.reinjected,
      ...(this.shadow ? { shadow: this.shadow.stats() } : {}),
      ...(this.tscSource ? { tsc: { exits: this.tscExits, entries: this.tscEntries,
        fieldReads: this.tscReads, fieldWrites: this.tscWrites } } : {}),
    };
  }
}
