/**
 * Mode vtx: the guest runs in VMX non-root operation under the TypeScript VMM, as KVM's
 * vmx.c runs it: a VMCS built from the boot state, EPT identity-mapping guest RAM lazily,
 * VPID when tags are on, unrestricted guest (the guest's own CR0.PE/PG), and the exits a
 * KVM-like VMM takes: HLT, I/O (unconditional I/O exiting), RDMSR/WRMSR (no MSR bitmaps),
 * CPUID, CR accesses on the bits VMX fixes, EPT violations, interrupt windows, external
 * interrupts (the VMM's own kick), triple fault. VMX instructions in the guest get #UD:
 * nested virtualization under this VMM is not built.
 */
import type { Core, CoreVmm, Exit } from '../../core/types.js';
import type { ResolvedVmmOptions } from '../options.js';
import { HardwareOps, HANDLED, PASSTHROUGH_MSRS, RFLAGS_IF } from '../hardware.js';
import { vmcs, vmxExitReasons, vmxInstructionErrors, vmxMsrs } from '../tables.js';

/** Pin-based controls (SDM vol. 3C, 25.6.1, table 25-5): external-interrupt exiting. */
const PIN_EXT_INT_EXITING = 1 << 0;
/** Primary processor-based controls (25.6.2, table 25-6). */
const CPU_INTR_WINDOW_EXITING = 1 << 2;
const CPU_HLT_EXITING = 1 << 7;
const CPU_INVLPG_EXITING = 1 << 9;
const CPU_CR3_LOAD_EXITING = 1 << 15;
const CPU_CR3_STORE_EXITING = 1 << 16;
/** RDTSC exiting (table 25-6 bit 12; 26.1.3: RDTSC exits, reason 16, and RDTSCP, 51). */
const CPU_RDTSC_EXITING = 1 << 12;
const CPU_UNCOND_IO_EXITING = 1 << 24;
/** Use MSR bitmaps (SDM vol. 3C, table 25-6 bit 28; the bitmap: 25.6.9). */
const CPU_USE_MSR_BITMAPS = 1 << 28;
const CPU_ACTIVATE_SECONDARY = 1 << 31;
/** Secondary processor-based controls (25.6.2, table 25-7). */
const SEC_ENABLE_EPT = 1 << 1;
const SEC_ENABLE_VPID = 1 << 5;
const SEC_UNRESTRICTED_GUEST = 1 << 7;
/** The default1 bits of each control (SDM vol. 3D, appendix A.2-A.5), for a core whose
 *  capability MSRs do not answer. */
const DEFAULT1 = {
  pin: 0x16, cpu: 0x0401e172, exit: 0x00036dff, entry: 0x000011ff, secondary: 0,
};
/** VM-entry interruption information (25.8.3, table 25-17): valid bit, types. */
const INTR_INFO_VALID = 0x80000000;
const INTR_TYPE_EXTERNAL = 0 << 8;
const INTR_TYPE_HW_EXCEPTION = 3 << 8;
const INTR_INFO_DELIVER_CODE = 1 << 11;
/** #UD (SDM vol. 3A, 6.15, interrupt 6). */
const UD_VECTOR = 6;
/** Guest interruptibility state (25.4.2, table 25-3): blocking by STI, by MOV SS. */
const BLOCKING_STI_MOVSS = 3;
/** CR0.PE, CR0.PG: not fixed for an unrestricted guest (25.6.2, 27.3.1.1). */
const CR0_PE_PG = 0x80000001;
/** Shadow paging: CR0.WP and CR4.PSE/PGE belong to the VMM too (KVM's shadow masks):
 *  SDM vol. 3C 25.6.6, a MOV to CR0/CR4 that changes an owned bit from its read shadow
 *  exits (27.1.3), reads of owned bits see the read shadow. */
const CR0_WP = 1 << 16;
const CR4_PSE_PGE = (1 << 4) | (1 << 7);
/** #PF, vector 14 (SDM vol. 3A, 6.15), in the exception bitmap (25.6.3). */
const PF_VECTOR = 14;
/** The VPID of the guest when tags are on (0 is the host's, 25.6.12). */
const GUEST_VPID = 1;
/** VMX instructions (basic reasons 18-27, INVEPT 50, INVVPID 53): #UD for the guest. */
const VMX_INSN_REASONS = new Set([...Array.from({ length: 10 }, (_, i) => 18 + i), 50, 53]);

/** Each segment register's guest-state fields: selector, base, limit, access rights
 *  (SDM vol. 3C, 25.4.1; encodings of appendix B). */
const V = vmcs;
const GUEST_SEGMENTS = [
  ['es', V.GUEST_ES_SELECTOR, V.GUEST_ES_BASE, V.GUEST_ES_LIMIT, V.GUEST_ES_AR_BYTES],
  ['cs', V.GUEST_CS_SELECTOR, V.GUEST_CS_BASE, V.GUEST_CS_LIMIT, V.GUEST_CS_AR_BYTES],
  ['ss', V.GUEST_SS_SELECTOR, V.GUEST_SS_BASE, V.GUEST_SS_LIMIT, V.GUEST_SS_AR_BYTES],
  ['ds', V.GUEST_DS_SELECTOR, V.GUEST_DS_BASE, V.GUEST_DS_LIMIT, V.GUEST_DS_AR_BYTES],
  ['fs', V.GUEST_FS_SELECTOR, V.GUEST_FS_BASE, V.GUEST_FS_LIMIT, V.GUEST_FS_AR_BYTES],
  ['gs', V.GUEST_GS_SELECTOR, V.GUEST_GS_BASE, V.GUEST_GS_LIMIT, V.GUEST_GS_AR_BYTES],
  ['ldtr', V.GUEST_LDTR_SELECTOR, V.GUEST_LDTR_BASE, V.GUEST_LDTR_LIMIT, V.GUEST_LDTR_AR_BYTES],
  ['tr', V.GUEST_TR_SELECTOR, V.GUEST_TR_BASE, V.GUEST_TR_LIMIT, V.GUEST_TR_AR_BYTES],
] as const;

const REASON_NAMES = new Map<number, string>(
  Object.entries(vmxExitReasons).map(([k, v]) => [v, k]));
const ERROR_NAMES = new Map<number, string>(
  Object.entries(vmxInstructionErrors).map(([k, v]) => [v, k]));

export class VtxOps extends HardwareOps {
  readonly mode = 'vtx' as const;
  private cpuCtl = 0;
  /** The IDT-vectoring information of the last exit. */
  private vectoring = 0;
  private cr0Fixed = 0;
  private cr4Fixed = 0;

  constructor(core: Core, vmm: CoreVmm, options: ResolvedVmmOptions) {
    super(core, vmm, options, 'ept');
    this.setup();
  }

  private read(enc: number): number {
    this.fieldReads++;
    return Number(BigInt.asUintN(32, this.vmm.vmcsRead(enc)));
  }
  private write(enc: number, v: number | bigint): void {
    this.fieldWrites++;
    const err = this.vmm.vmcsWrite(enc, typeof v === 'number' ? BigInt(v >>> 0) : v);
    if (err !== 0) {
      throw new Error(`vmcsWrite 0x${enc.toString(16)}: VM-instruction error ${err} ` +
        `(${ERROR_NAMES.get(err) ?? 'unknown'})`);
    }
  }

  /** A capability MSR pair: bits that must be 1 (low half), bits that may be 1 (high). */
  private capability(msr: number, fallback1: number): [number, number] {
    try {
      const v = this.core.readMsr(msr);
      return [Number(v & 0xffffffffn), Number(v >> 32n)];
    } catch {
      return [fallback1, 0xffffffff];
    }
  }

  /** `want` with the bits the CPU requires (SDM vol. 3D, A.3-A.5); a bit it cannot do
   *  refuses the mode. */
  private control(what: string, msr: number, fallback1: number, want: number): number {
    const [must, may] = this.capability(msr, fallback1);
    if ((want & ~may) !== 0) {
      throw new Error(`mode vtx: the CPU's VMX lacks ${what} controls ` +
        `0x${(want & ~may >>> 0).toString(16)}`);
    }
    return (want | must) >>> 0;
  }

  /** The VMCS of a fresh guest: controls, host state, and the guest state the boot left. */
  private setup(): void {
    const { core, vmm, options } = this;
    // The CPU has VMX (its capability MSRs answer, CR4.VMXE exists: the guest runs with
    // it set, SDM vol. 3C 24.8); the guest does not see it (cpuid.ts hides CPUID.1:ECX.VMX,
    // and its VMX instructions get #UD).
    core.setVmx(true);
    let basicTrue = false;
    try { basicTrue = (core.readMsr(vmxMsrs.IA32_VMX_BASIC) >> 55n & 1n) === 1n; } catch { }
    const M = basicTrue ? 0x48d - 0x481 : 0;
    const pin = this.control('pin-based', vmxMsrs.IA32_VMX_PINBASED_CTLS + M, DEFAULT1.pin,
      PIN_EXT_INT_EXITING);
    // Shadow paging (issue 10): no EPT, so no unrestricted guest either (26.2.1.1); CR3
    // loads and stores, INVLPG and #PF exit (25.6.2, 25.6.3), as KVM's vmx.c sets them
    // when enable_ept is off.
    const shadow = this.shadow !== undefined;
    this.cpuCtl = this.control('processor-based', vmxMsrs.IA32_VMX_PROCBASED_CTLS + M,
      DEFAULT1.cpu, CPU_HLT_EXITING | CPU_UNCOND_IO_EXITING | CPU_ACTIVATE_SECONDARY |
      CPU_USE_MSR_BITMAPS |
      (shadow ? CPU_INVLPG_EXITING | CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING : 0));
    const sec = this.control('secondary', vmxMsrs.IA32_VMX_PROCBASED_CTLS2, DEFAULT1.secondary,
      (shadow ? 0 : SEC_ENABLE_EPT | SEC_UNRESTRICTED_GUEST) |
      (options.tags ? SEC_ENABLE_VPID : 0));
    const exit = this.control('VM-exit', vmxMsrs.IA32_VMX_EXIT_CTLS + M, DEFAULT1.exit, 0);
    const entry = this.control('VM-entry', vmxMsrs.IA32_VMX_ENTRY_CTLS + M, DEFAULT1.entry, 0);
    const fixed = (msr: number, dflt: number) => {
      try { return Number(core.readMsr(msr) & 0xffffffffn); } catch { return dflt; }
    };
    this.cr0Fixed = (fixed(vmxMsrs.IA32_VMX_CR0_FIXED0, 0x80000021) &
      (shadow ? ~0 : ~CR0_PE_PG)) >>> 0;
    this.cr4Fixed = fixed(vmxMsrs.IA32_VMX_CR4_FIXED0, 0x2000) >>> 0;

    vmm.vmcsClearHost();
    const w = (enc: number, v: number | bigint) => this.write(enc, v);
    w(vmcs.PIN_BASED_VM_EXEC_CONTROL, pin);
    w(vmcs.CPU_BASED_VM_EXEC_CONTROL, this.cpuCtl);
    w(vmcs.SECONDARY_VM_EXEC_CONTROL, sec);
    w(vmcs.VM_EXIT_CONTROLS, exit);
    w(vmcs.VM_ENTRY_CONTROLS, entry);
    w(vmcs.EXCEPTION_BITMAP, shadow ? 1 << PF_VECTOR : 0);
    // #PF error-code mask and match 0: every #PF exits (25.6.3).
    w(vmcs.PAGE_FAULT_ERROR_CODE_MASK, 0);
    w(vmcs.PAGE_FAULT_ERROR_CODE_MATCH, 0);
    w(vmcs.CR3_TARGET_COUNT, 0);
    if (!shadow) w(vmcs.EPT_POINTER, this.tables.eptp);
    if (options.tags) w(vmcs.VIRTUAL_PROCESSOR_ID, GUEST_VPID);
    w(vmcs.VMCS_LINK_POINTER, 0xffffffffffffffffn);
    if (this.cpuCtl & CPU_USE_MSR_BITMAPS) w(vmcs.MSR_BITMAP, this.msrBitmap());

    // Host state (27.2.2, 27.2.3): never loaded (exits return to this VMM), but checked.
    const hostPage = vmm.addVmmRam(4096);
    w(vmcs.HOST_CR0, 0x80000031 | this.cr0Fixed);
    w(vmcs.HOST_CR3, hostPage);
    w(vmcs.HOST_CR4, this.cr4Fixed);
    w(vmcs.HOST_CS_SELECTOR, 0x08);
    for (const f of [vmcs.HOST_SS_SELECTOR, vmcs.HOST_DS_SELECTOR, vmcs.HOST_ES_SELECTOR,
      vmcs.HOST_FS_SELECTOR, vmcs.HOST_GS_SELECTOR]) w(f, 0x10);
    w(vmcs.HOST_TR_SELECTOR, 0x18);
    w(vmcs.HOST_GDTR_BASE, hostPage);
    w(vmcs.HOST_IDTR_BASE, hostPage);

    // Guest state: what the boot left in the core (25.4).
    const r = core.getRegs();
    if (this.shadow) {
      const [m0, m4] = this.shadowMasks();
      w(vmcs.CR0_GUEST_HOST_MASK, m0);
      w(vmcs.CR4_GUEST_HOST_MASK, m4);
      this.shadowControls(r.cr0, r.cr4);
      w(vmcs.GUEST_CR3, this.shadow.root);
    } else {
      w(vmcs.GUEST_CR0, (r.cr0 | this.cr0Fixed) >>> 0);
      w(vmcs.CR0_GUEST_HOST_MASK, this.cr0Fixed);
      w(vmcs.CR0_READ_SHADOW, r.cr0);
      w(vmcs.GUEST_CR3, r.cr3);
      w(vmcs.GUEST_CR4, (r.cr4 | this.cr4Fixed) >>> 0);
      w(vmcs.CR4_GUEST_HOST_MASK, this.cr4Fixed);
      w(vmcs.CR4_READ_SHADOW, r.cr4);
    }
    w(vmcs.GUEST_DR7, r.dr7);
    w(vmcs.GUEST_RSP, r.esp);
    w(vmcs.GUEST_RIP, r.eip);
    w(vmcs.GUEST_RFLAGS, r.eflags | 2);
    for (const [name, sel, base, limit, ar] of GUEST_SEGMENTS) {
      const s = core.getSegment(name);
      const unusable = name === 'ldtr' && (s.selector & ~3) === 0;
      w(sel, s.selector);
      w(base, s.base);
      w(limit, s.limit);
      w(ar, unusable ? 0x10000 : s.access);
    }
    const gdtr = core.getTable('gdtr'), idtr = core.getTable('idtr');
    w(vmcs.GUEST_GDTR_BASE, gdtr.base);
    w(vmcs.GUEST_GDTR_LIMIT, gdtr.limit);
    w(vmcs.GUEST_IDTR_BASE, idtr.base);
    w(vmcs.GUEST_IDTR_LIMIT, idtr.limit);
    const msr = (i: number) => { try { return core.readMsr(i); } catch { return 0n; } };
    w(vmcs.GUEST_SYSENTER_CS, msr(0x174));
    w(vmcs.GUEST_SYSENTER_ESP, msr(0x175));
    w(vmcs.GUEST_SYSENTER_EIP, msr(0x176));
    w(vmcs.GUEST_INTERRUPTIBILITY_INFO, 0);
    w(vmcs.GUEST_ACTIVITY_STATE, 0);
  }

  /** The MSR bitmap (SDM vol. 3C 25.6.9): every MSR exits but PASSTHROUGH_MSRS (read
   *  bitmap for low MSRs at bytes 0-1023, write bitmap for them at 2048-3071). */
  private msrBitmap(): number {
    const at = this.vmm.addVmmRam(4096);
    const bytes = new Uint8Array(4096).fill(0xff);
    for (const msr of PASSTHROUGH_MSRS) {
      bytes[msr >> 3] &= ~(1 << (msr & 7));
      bytes[2048 + (msr >> 3)] &= ~(1 << (msr & 7));
    }
    for (let i = 0; i < 4096; i += 8) {
      this.vmm.writeHost64(at + i, new DataView(bytes.buffer).getBigUint64(i, true));
    }
    return at;
  }

  protected enterGuest(): number { return this.vmm.vmxHostEnter(); }

  protected entryFailure(code: number): string {
    if (code & 0x80000000) {
      const reason = code & 0xffff;
      return `exit reason ${reason} (${REASON_NAMES.get(reason) ?? 'unknown'}) with the ` +
        'entry-failure bit (SDM vol. 3C, 27.8)';
    }
    return `VM-instruction error ${code} (${ERROR_NAMES.get(code) ?? 'unknown'})`;
  }

  protected exitReason(): number {
    const r = this.read(vmcs.VM_EXIT_REASON);
    // An entry that fails after loading guest state exits with bit 31 (25.9.1).
    return r & 0x80000000 ? 0x10000 | (r & 0xffff) : r & 0xffff;
  }

  protected reasonName(reason: number): string {
    const basic = reason & 0xffff;
    const name = `${REASON_NAMES.get(basic) ?? 'UNKNOWN'} (${basic})`;
    return reason & 0x10000 ? `VM-entry failure: ${name}` : name;
  }

  /** IDT-vectoring information (25.9.3): an event the exit interrupted is delivered again
   *  at the next entry, as KVM's vmx_complete_interrupts does (28.2.4). */
  protected reinjectInterrupted(): boolean {
    const info = this.read(vmcs.IDT_VECTORING_INFO_FIELD);
    this.vectoring = info;
    if (!(info & INTR_INFO_VALID)) return false;
    this.write(vmcs.VM_ENTRY_INTR_INFO_FIELD, (info & 0x80000fff) >>> 0);
    if (info & INTR_INFO_DELIVER_CODE) {
      this.write(vmcs.VM_ENTRY_EXCEPTION_ERROR_CODE, this.read(vmcs.IDT_VECTORING_ERROR_CODE));
    }
    const type = (info >> 8) & 7;
    if (type >= 4) {
      this.write(vmcs.VM_ENTRY_INSTRUCTION_LEN, this.read(vmcs.VM_EXIT_INSTRUCTION_LEN));
    }
    return true;
  }

  protected handleExit(reason: number): Exit {
    const R = vmxExitReasons;
    if (reason & 0x10000) {
      return { reason: 'invalid', why: `VM entry failed: ${this.reasonName(reason)}` };
    }
    switch (reason) {
      case R.EXTERNAL_INTERRUPT: // the VMM's kick: dropped already
      case R.PREEMPTION_TIMER:
        return HANDLED;
      case R.TRIPLE_FAULT:
        return { reason: 'shutdown', why: 'triple fault' };
      case R.PENDING_INTERRUPT:
        this.setInterruptWindow(false);
        return { reason: 'irq-window' };
      case R.HLT:
        this.skipInstruction();
        return { reason: 'hlt' };
      case R.CPUID:
        return this.cpuid();
      case R.EPT_VIOLATION:
        return this.nestedFault(this.read(vmcs.GUEST_PHYSICAL_ADDRESS));
      case R.EXCEPTION_NMI: {
        // Only #PF is in the bitmap: the qualification is the linear address (28.2.1), the
        // error code in the VM-exit interruption error code (25.9.2).
        const info = this.read(vmcs.VM_EXIT_INTR_INFO);
        if (this.shadow && (info & 0xff) === PF_VECTOR) {
          return this.shadowPageFault(this.read(vmcs.EXIT_QUALIFICATION),
            this.read(vmcs.VM_EXIT_INTR_ERROR_CODE));
        }
        return { reason: 'invalid', why: `unexpected exception exit, info 0x${info.toString(16)}` };
      }
      case R.CR_ACCESS:
        if (!this.shadow) return this.crAccess();
        // Qualification (28.2.1, table 28-3): bits 3:0 the CR, 5:4 the access type (0 MOV
        // to CR).
        this.cr3Load = (this.read(vmcs.EXIT_QUALIFICATION) & 0x3f) === 3;
        return this.emulate();
      case R.IO_INSTRUCTION: {
        // Exit qualification for I/O (SDM vol. 3C, 28.2.1, table 28-5): bits 2:0 size - 1,
        // bit 3 IN, bit 4 string, bit 5 REP prefixed, bits 31:16 the port.
        const q = this.read(vmcs.EXIT_QUALIFICATION);
        return this.portIo(q >>> 16, ((q & 7) + 1) as 1 | 2 | 4, (q & 8) !== 0,
          (q & 0x10) !== 0, (q & 0x20) !== 0);
      }
      case R.INVLPG:
        if (this.shadow) {
          // The qualification is the linear address INVLPG names (28.2.1).
          const lin = this.read(vmcs.EXIT_QUALIFICATION);
          this.skipInstruction();
          return this.shadowInvlpg(lin);
        }
        return this.emulate();
      case R.RDTSC:
        if (this.simulatedTime) return this.answerTsc(2, false);
        return this.emulate();
      case R.RDTSCP:
        if (this.simulatedTime) return this.answerTsc(3, true);
        return this.emulate();
      case R.MSR_READ:
        // RDMSR of IA32_TSC (0x10) with simulated time: the profile's cycles.
        if (this.simulatedTime && this.vmm.readGpr(1) === 0x10) return this.answerTsc(2, false);
        return this.emulate();
      case R.MSR_WRITE:
      case R.RDPMC:
      case R.INVD:
      case R.WBINVD:
      case R.DR_ACCESS:
        return this.emulate();
      case R.TASK_SWITCH:
        return this.taskSwitch();
      default:
        if (VMX_INSN_REASONS.has(reason)) {
          this.write(vmcs.VM_ENTRY_INTR_INFO_FIELD,
            INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | UD_VECTOR);
          return HANDLED;
        }
        return { reason: 'invalid', why: `VM exit the VMM does not handle: ` +
          `${this.reasonName(reason)}, qualification 0x` +
          `${this.vmm.vmcsRead(vmcs.EXIT_QUALIFICATION).toString(16)}` };
    }
  }

  /**
   * A task switch (exit 9, always: SDM vol. 3C 26.1.2) runs in the emulator. One through a
   * task gate of the IDT (qualification bits 31:30 = 3, 28.2.1 table 28-2) is the delivery
   * of the event in the IDT-vectoring information: that event is not injected again, as
   * KVM's handle_task_switch drops it, but delivered inside the emulator: an external
   * interrupt or NMI raised on the CPU for it, an exception or INT n by running its
   * instruction again.
   */
  private taskSwitch(): Exit {
    const q = this.read(vmcs.EXIT_QUALIFICATION);
    this.cr3Load = this.shadow !== undefined; // a task switch loads CR3 (SDM vol. 3A, 7.3)
    const info = this.vectoring;
    if (q >>> 30 !== 3 || !(info & INTR_INFO_VALID)) return this.emulate();
    this.write(vmcs.VM_ENTRY_INTR_INFO_FIELD, 0);
    this.undoReinjection();
    const type = (info >> 8) & 7;
    if (type === 0) return this.emulateEvent(() => this.core.injectInterrupt(info & 0xff));
    if (type === 2) return this.emulateEvent(() => this.core.nmi());
    return this.emulate();
  }

  protected guestDr7(): number { return this.read(vmcs.GUEST_DR7); }
  protected skipIo(): void { this.skipInstruction(); }
  protected skipTscInstruction(): void { this.skipInstruction(); }
  protected enableTscExiting(): void {
    const want = this.control('processor-based', vmxMsrs.IA32_VMX_PROCBASED_CTLS,
      DEFAULT1.cpu, CPU_RDTSC_EXITING);
    this.cpuCtl = (this.cpuCtl | (want & CPU_RDTSC_EXITING)) >>> 0;
    this.write(vmcs.CPU_BASED_VM_EXEC_CONTROL, this.cpuCtl);
  }

  private skipInstruction(): void {
    const len = this.read(vmcs.VM_EXIT_INSTRUCTION_LEN);
    this.write(vmcs.GUEST_RIP, (this.read(vmcs.GUEST_RIP) + len) >>> 0);
    // An instruction completed: blocking by STI / MOV SS ends (25.4.2).
    const intr = this.read(vmcs.GUEST_INTERRUPTIBILITY_INFO);
    if (intr & BLOCKING_STI_MOVSS) {
      this.write(vmcs.GUEST_INTERRUPTIBILITY_INFO, intr & ~BLOCKING_STI_MOVSS);
    }
  }

  /** A MOV to CR0/CR4 that changes a bit VMX fixes (or CR3 when its exiting is forced):
   *  the emulator runs it, then the VMM keeps the fixed bits set and gives the guest the
   *  value it wrote through the read shadow (25.6.6). */
  private crAccess(): Exit {
    const e = this.emulate();
    if (e !== HANDLED) return e;
    const cr0 = this.read(vmcs.GUEST_CR0), cr4 = this.read(vmcs.GUEST_CR4);
    if ((cr0 & this.cr0Fixed) !== this.cr0Fixed) {
      this.write(vmcs.CR0_READ_SHADOW, cr0);
      this.write(vmcs.GUEST_CR0, (cr0 | this.cr0Fixed) >>> 0);
    }
    if ((cr4 & this.cr4Fixed) !== this.cr4Fixed) {
      this.write(vmcs.CR4_READ_SHADOW, cr4);
      this.write(vmcs.GUEST_CR4, (cr4 | this.cr4Fixed) >>> 0);
    }
    return HANDLED;
  }

  protected guestRflags(): number { return this.read(vmcs.GUEST_RFLAGS); }

  // ---- Shadow paging (issue 10) ----
  protected crField(n: 0 | 3 | 4): number {
    return this.read(n === 0 ? vmcs.GUEST_CR0 : n === 3 ? vmcs.GUEST_CR3 : vmcs.GUEST_CR4);
  }
  protected setCrField(n: 0 | 3 | 4, v: number): void {
    this.write(n === 0 ? vmcs.GUEST_CR0 : n === 3 ? vmcs.GUEST_CR3 : vmcs.GUEST_CR4, v);
  }
  protected shadowMasks(): [number, number] {
    return [(this.cr0Fixed | CR0_PE_PG | CR0_WP) >>> 0, (this.cr4Fixed | CR4_PSE_PGE) >>> 0];
  }
  /** The CPU runs with CR0.PE/PG (fixed without unrestricted guest, 25.8 / A.7) and WP; the
   *  guest's reads of the owned bits see its own values (read shadows, 25.6.6). */
  protected shadowControls(cr0: number, cr4: number): void {
    const sh = this.shadow!;
    if (!(cr0 & 1)) {
      throw new Error('mode vtx with shadow paging: the guest left protected mode, which VMX '
        + 'without unrestricted guest cannot run (SDM vol. 3C, 26.3.1.1); use paging nested');
    }
    this.write(vmcs.GUEST_CR0, (sh.realCr0() | this.cr0Fixed) >>> 0);
    this.write(vmcs.CR0_READ_SHADOW, cr0);
    this.write(vmcs.GUEST_CR4, (sh.realCr4() | this.cr4Fixed) >>> 0);
    this.write(vmcs.CR4_READ_SHADOW, cr4);
  }
  /** #PF by event injection (26.6.1: not subject to the exception bitmap) with its error
   *  code; CR2 has no VMCS field: it is the CPU's register, loaded before entry. */
  protected injectPageFault(errorCode: number, cr2: number): boolean {
    this.vmm.setCr2(cr2);
    const prev = this.read(vmcs.VM_ENTRY_INTR_INFO_FIELD);
    const prevExc = (prev & 0x80000000) !== 0 && ((prev >> 8) & 7) === 3;
    if (prevExc && (prev & 0xff) === 8) return false;
    // A #PF while delivering a #PF is a double fault (SDM vol. 3A, 6.15, table 6-5).
    if ((prev & INTR_INFO_VALID) && ((prev >> 8) & 7) === 3 && (prev & 0xff) === PF_VECTOR) {
      this.write(vmcs.VM_ENTRY_INTR_INFO_FIELD,
        INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | INTR_INFO_DELIVER_CODE | 8);
      this.write(vmcs.VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
      return true;
    }
    this.write(vmcs.VM_ENTRY_INTR_INFO_FIELD,
      INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | INTR_INFO_DELIVER_CODE | PF_VECTOR);
    this.write(vmcs.VM_ENTRY_EXCEPTION_ERROR_CODE, errorCode);
    return true;
  }

  protected guestCanTakeInterrupt(): boolean {
    return (this.read(vmcs.GUEST_RFLAGS) & RFLAGS_IF) !== 0 &&
      (this.read(vmcs.GUEST_INTERRUPTIBILITY_INFO) & BLOCKING_STI_MOVSS) === 0 &&
      (this.read(vmcs.VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID) === 0;
  }

  /** Event injection (26.6): the interrupt is delivered through the guest's IDT at entry. */
  protected injectExternal(vector: number): void {
    this.write(vmcs.VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | vector);
  }

  /** Interrupt-window exiting (25.6.2): exit 7 as soon as the guest can take one. */
  protected setInterruptWindow(on: boolean): void {
    const want = on ? this.cpuCtl | CPU_INTR_WINDOW_EXITING
      : this.cpuCtl & ~CPU_INTR_WINDOW_EXITING;
    if (want === this.cpuCtl) return;
    this.cpuCtl = want >>> 0;
    this.write(vmcs.CPU_BASED_VM_EXEC_CONTROL, this.cpuCtl);
  }

  protected guestEax(): number { return this.vmm.readGpr(0); }
  protected setGuestEax(v: number): void { this.vmm.writeGpr(0, v); }
}
