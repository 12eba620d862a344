/**
 * Mode svm: the guest runs in SVM guest mode under the TypeScript VMM, as KVM's svm.c runs
 * it: a VMCB in VMM RAM built from the boot state, nested paging (NPT in the long-mode
 * format: the VMM plays a 64-bit host) identity-mapping guest RAM lazily, an ASID (flushed
 * on every VMRUN when tags are off), and the intercepts a KVM-like VMM sets: INTR (the
 * VMM's kick), VINTR (interrupt windows), CPUID, HLT, IOIO (all ports), MSR (all MSRs),
 * SHUTDOWN, #NPF, and the SVM instructions, which get #UD: nested virtualization under
 * this VMM is not built.
 */
import type { Core, CoreVmm, Exit } from '../../core/types.js';
import type { ResolvedVmmOptions } from '../options.js';
import { HardwareOps, HANDLED, PASSTHROUGH_MSRS, RFLAGS_IF } from '../hardware.js';
import { vmcbFields, svmExitCodes, tlbControl } from '../tables.js';

type FieldName = (typeof vmcbFields)[number]['name'];
/** VMCB offsets by name (AMD APM vol. 2, appendix B). */
const F = Object.fromEntries(vmcbFields.map((f) => [f.name, f.offset])) as
  Record<FieldName, number>;

/** Intercept vector 3 (offset 0Ch) bits, APM vol. 2 table B-1: bit n intercepts exit
 *  code 0x60 + n. */
const I3_INTR = 1 << 0;
const I3_VINTR = 1 << 4;
/** RDTSC (vector 3 bit 14) and RDTSCP (vector 4 bit 7) intercepts (APM vol. 2, 15.9,
 *  table B-1; exit codes 0x6E and 0x87). */
const I3_RDTSC = 1 << 14;
const I4_RDTSCP = 1 << 7;
const I3_CPUID = 1 << 18;
const I3_HLT = 1 << 24;
const I3_INVLPG = 1 << 25;
const I3_TASK_SWITCH = 1 << 29;
const I3_IOIO_PROT = 1 << 27;
const I3_MSR_PROT = 1 << 28;
const I3_SHUTDOWN = 1 << 31;
/** Intercept vector 4 (offset 10h): VMRUN (required, APM 15.5.1), VMMCALL, VMLOAD, VMSAVE,
 *  STGI, CLGI, SKINIT: bits 0-6, exit codes 0x80-0x86. */
const I4_SVM_INSNS = 0x7f;
/** VINTR_CONTROL bits (APM 15.21.4): V_IRQ, V_INTR_PRIO (19:16), V_IGN_TPR. */
const V_IRQ = 1 << 8;
const V_INTR_PRIO_MAX = 0xf << 16;
const V_IGN_TPR = 1 << 20;
/** EVENTINJ / EXITINTINFO (APM 15.20): valid, error code valid, type exception. */
const EVENT_V = 0x80000000;
const EVENT_EV = 1 << 11;
const EVENT_TYPE_EXCEPTION = 3 << 8;
/** #UD (interrupt 6). */
const UD_VECTOR = 6;
/** EFER.SVME (APM vol. 2, 3.1.7): must be 1 in the guest state (15.5.1). */
const EFER_SVME = 1n << 12n;
/** The power-on PAT (APM vol. 2, 7.8.1), a valid G_PAT for nested paging (15.25.8). */
const PAT_DEFAULT = 0x0007040600070406n;
/** Shadow paging: CR0, CR3 and CR4 reads and writes intercepted (INTERCEPT_CR bits 15:0
 *  reads, 31:16 writes, APM table B-1; exit codes 0-1Fh), as KVM's svm.c sets them without
 *  NPT; #PF intercepted (INTERCEPT_EXCEPTIONS bit 14, exit code 4Eh, APM 15.12). */
const CR_INTERCEPTS = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 16) | (1 << 19) | (1 << 20);
const PF_VECTOR = 14;
/** CR0.WP, CR0.PG, CR4.PSE: owned by the VMM under shadow paging. */
const CR0_WP_PG = 0x80010000;
const CR4_PSE = 1 << 4;
/** The guest's ASID (0 is the host's, APM 15.16). */
const GUEST_ASID = 1;
/** IOPM 12 KiB, MSRPM 8 KiB (APM 15.10.1, 15.11). */
const IOPM_BYTES = 12288;
const MSRPM_BYTES = 8192;

const CODE_NAMES = new Map<number, string>(
  Object.entries(svmExitCodes).map(([k, v]) => [v, k]));

export class SvmOps extends HardwareOps {
  readonly mode = 'svm' as const;
  private readonly vmcb: number;
  private misc1 = 0;

  constructor(core: Core, vmm: CoreVmm, options: ResolvedVmmOptions) {
    super(core, vmm, options, 'npt');
    this.vmcb = vmm.addVmmRam(4096);
    this.setup();
  }

  private r32(off: number): number {
    this.fieldReads++;
    return this.vmm.readHost32(this.vmcb + off);
  }
  private r64(off: number): bigint {
    this.fieldReads++;
    return this.vmm.readHost64(this.vmcb + off);
  }
  private w32(off: number, v: number): void {
    this.fieldWrites++;
    this.vmm.writeHost32(this.vmcb + off, v);
  }
  private w16(off: number, v: number): void {
    // A 16-bit field shares its dword with its neighbour (selector and attributes).
    const at = off & ~3, shift = (off & 3) * 8;
    const old = this.vmm.readHost32(this.vmcb + at);
    this.fieldWrites++;
    this.vmm.writeHost32(this.vmcb + at, (old & ~(0xffff << shift)) | ((v & 0xffff) << shift));
  }
  private w64(off: number, v: bigint | number): void {
    this.fieldWrites++;
    this.vmm.writeHost64(this.vmcb + off, BigInt(v));
  }

  /** The VMCB of a fresh guest: intercepts, permission maps, nested paging, and the
   *  state the boot left. */
  private setup(): void {
    const { core, vmm, options } = this;
    const iopm = vmm.addVmmRam(IOPM_BYTES), msrpm = vmm.addVmmRam(MSRPM_BYTES);
    for (let i = 0; i < IOPM_BYTES; i += 4) vmm.writeHost32(iopm + i, 0xffffffff);
    for (let i = 0; i < MSRPM_BYTES; i += 4) vmm.writeHost32(msrpm + i, 0xffffffff);
    // PASSTHROUGH_MSRS: MSRs 0-1FFFh take two bits each from byte 0, read then write
    // (APM vol. 2, 15.11, figure 15-2).
    for (const m of PASSTHROUGH_MSRS) {
      const at = msrpm + ((m * 2) >> 5) * 4;
      vmm.writeHost32(at, (vmm.readHost32(at) & ~(3 << ((m * 2) & 31))) >>> 0);
    }
    this.misc1 = (I3_INTR | I3_CPUID | I3_HLT | I3_IOIO_PROT | I3_MSR_PROT | I3_SHUTDOWN |
      // Shadow paging: a task switch loads CR3 from the TSS, so it runs in the emulator
      // in the guest's context (exit 7Dh, APM 15.14.4).
      (this.shadow ? I3_INVLPG | I3_TASK_SWITCH : 0)) >>> 0;
    if (this.shadow) {
      this.w32(F.INTERCEPT_CR, CR_INTERCEPTS);
      this.w32(F.INTERCEPT_EXCEPTIONS, 1 << PF_VECTOR);
    }
    this.w32(F.INTERCEPT_MISC1, this.misc1);
    this.w32(F.INTERCEPT_MISC2, I4_SVM_INSNS);
    this.w64(F.IOPM_BASE_PA, iopm);
    this.w64(F.MSRPM_BASE_PA, msrpm);
    this.w32(F.GUEST_ASID, GUEST_ASID);
    this.w32(F.TLB_CONTROL, options.tags ? tlbControl.TLB_CONTROL_DO_NOTHING
      : tlbControl.TLB_CONTROL_FLUSH_ALL_ASID);
    // V_INTR_MASKING 0 (APM 15.21.1): the guest's EFLAGS.IF masks physical interrupts, so
    // the VMM's kick exits (INTR) as soon as the guest could take an interrupt; with 1 the
    // host's IF would decide, and a host-owned entry saves no host state to read it from.
    this.w32(F.VINTR_CONTROL, 0);
    if (!this.shadow) {
      this.w64(F.NP_CONTROL, 1);
      this.w64(F.N_CR3, this.tables.root);
    }

    const r = core.getRegs();
    const segs = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;
    const base: Record<(typeof segs)[number], number> = {
      es: F.ES_SELECTOR, cs: F.CS_SELECTOR, ss: F.SS_SELECTOR, ds: F.DS_SELECTOR,
      fs: F.FS_SELECTOR, gs: F.GS_SELECTOR, ldtr: F.LDTR_SELECTOR, tr: F.TR_SELECTOR,
    };
    for (const name of segs) {
      const s = core.getSegment(name), at = base[name];
      // The VMCB's attributes pack descriptor bits 47:40 and 55:52 (APM 15.5.1); the
      // core's access rights are the VMCS's (type..P in 7:0, AVL/L/DB/G in 15:12).
      this.w16(at, s.selector);
      this.w16(at + 2, (s.access & 0xff) | ((s.access >> 4) & 0xf00));
      this.w32(at + 4, s.limit);
      this.w64(at + 8, s.base);
    }
    const gdtr = core.getTable('gdtr'), idtr = core.getTable('idtr');
    this.w32(F.GDTR_LIMIT, gdtr.limit);
    this.w64(F.GDTR_BASE, gdtr.base);
    this.w32(F.IDTR_LIMIT, idtr.limit);
    this.w64(F.IDTR_BASE, idtr.base);
    const ss = core.getSegment('ss');
    this.w32(F.CPL & ~3, (this.vmm.readHost32(this.vmcb + (F.CPL & ~3)) & 0x00ffffff) |
      ((r.cr0 & 1 ? (ss.access >> 5) & 3 : 0) << 24));
    this.w64(F.EFER, EFER_SVME);
    this.w64(F.CR2, r.cr2);
    if (this.shadow) {
      this.shadowControls(r.cr0, r.cr4);
      this.w64(F.CR3, this.shadow.root);
    } else {
      this.w64(F.CR0, r.cr0);
      this.w64(F.CR3, r.cr3);
      this.w64(F.CR4, r.cr4);
    }
    this.w64(F.DR6, r.dr6);
    this.w64(F.DR7, r.dr7);
    this.w64(F.RFLAGS, r.eflags | 2);
    this.w64(F.RIP, r.eip);
    this.w64(F.RSP, r.esp);
    this.w64(F.RAX, r.eax);
    this.w64(F.G_PAT, PAT_DEFAULT);
    const msr = (i: number) => { try { return core.readMsr(i); } catch { return 0n; } };
    this.w64(F.SYSENTER_CS, msr(0x174));
    this.w64(F.SYSENTER_ESP, msr(0x175));
    this.w64(F.SYSENTER_EIP, msr(0x176));
  }

  protected enterGuest(): number { return this.vmm.svmHostEnter(this.vmcb); }
  protected guestDr7(): number { return this.r32(F.DR7); }
  protected skipTscInstruction(len: number): void {
    const next = Number(this.r64(F.NRIP) & 0xffffffffn);
    this.w64(F.RIP, next || (Number(this.r64(F.RIP)) + len) >>> 0);
    this.w64(F.INTERRUPT_SHADOW, 0);
  }
  protected enableTscExiting(): void {
    this.misc1 = (this.misc1 | I3_RDTSC) >>> 0;
    this.w32(F.INTERCEPT_MISC1, this.misc1);
    this.w32(F.INTERCEPT_MISC2, I4_SVM_INSNS | I4_RDTSCP);
  }
  protected skipIo(): void {
    this.w64(F.RIP, Number(this.r64(F.EXITINFO2) & 0xffffffffn));
    this.w64(F.INTERRUPT_SHADOW, 0);
  }

  protected entryFailure(code: number): string {
    return `VMRUN with an invalid VMCB (EXITCODE VMEXIT_INVALID, 0x${code.toString(16)}; ` +
      'AMD APM vol. 2, 15.5.1)';
  }

  protected exitReason(): number {
    return Number(BigInt.asIntN(64, this.r64(F.EXITCODE)));
  }

  protected reasonName(code: number): string {
    const hex = code < 0 ? String(code) : `0x${code.toString(16)}`;
    return `${CODE_NAMES.get(code) ?? 'UNKNOWN'} (${hex})`;
  }

  /** EXITINTINFO (APM 15.7.2): an event the exit interrupted goes back into EVENTINJ. */
  protected reinjectInterrupted(): boolean {
    const info = this.r32(F.EXITINTINFO);
    if (!(info & EVENT_V)) return false;
    // An INT n, INT3 or INTO is not injected again but runs again from its instruction
    // (RIP is still on it), as KVM's svm_complete_interrupts does: its gate's DPL check
    // then happens as on its first try, which EVENTINJ would skip.
    const type = (info >> 8) & 7, vector = info & 0xff;
    if (type === 4 || (type === 3 && (vector === 3 || vector === 4))) return false;
    this.w32(F.EVENTINJ, info);
    if (info & EVENT_EV) this.w32(F.EVENTINJ_ERROR_CODE, this.r32(F.EXITINTINFO_ERROR_CODE));
    return true;
  }

  protected handleExit(code: number): Exit {
    const C = svmExitCodes;
    switch (code) {
      case C.INTR: // the VMM's kick: dropped already
        return HANDLED;
      case C.SHUTDOWN:
        return { reason: 'shutdown', why: 'triple fault' };
      case C.VINTR:
        this.setInterruptWindow(false);
        return { reason: 'irq-window' };
      case C.HLT: {
        const next = Number(this.r64(F.NRIP) & 0xffffffffn);
        this.w64(F.RIP, next || (Number(this.r64(F.RIP)) + 1) >>> 0);
        this.w64(F.INTERRUPT_SHADOW, 0);
        return { reason: 'hlt' };
      }
      case C.CPUID:
        return this.cpuid();
      case C.NPF:
        return this.nestedFault(Number(this.r64(F.EXITINFO2) & 0xffffffffn));
      case C.IOIO: {
        // EXITINFO1 of IOIO (APM vol. 2, 15.10.2, figure 15-2): bit 0 IN, bit 2 STR, bit 3
        // REP, bits 6:4 SZ32/SZ16/SZ8, bits 31:16 the port; EXITINFO2 the next RIP.
        const e = this.r32(F.EXITINFO1);
        const size = e & 0x40 ? 4 : e & 0x20 ? 2 : 1;
        return this.portIo(e >>> 16, size, (e & 1) !== 0, (e & 4) !== 0, (e & 8) !== 0);
      }
      case C.EXCP0 + PF_VECTOR:
        // #PF: EXITINFO1 the error code, EXITINFO2 the faulting address (APM 15.12.15);
        // CR2 untouched.
        if (!this.shadow) break;
        return this.shadowPageFault(Number(this.r64(F.EXITINFO2) & 0xffffffffn),
          this.r32(F.EXITINFO1));
      case C.INVLPG:
        // No decode assists (CPUID 8000_000Ah EDX bit 7 clear): EXITINFO1 holds no address,
        // so the emulator runs INVLPG and the VMM takes the address from it (APM 15.33).
        if (!this.shadow) break;
        return this.shadowInvlpg();
      case C.RDTSC:
        if (this.simulatedTime) return this.answerTsc(2, false);
        return this.emulate();
      case C.RDTSCP:
        if (this.simulatedTime) return this.answerTsc(3, true);
        return this.emulate();
      case C.MSR:
        // EXITINFO1 0: RDMSR (APM 15.11); of IA32_TSC with simulated time: the profile's.
        if (this.simulatedTime && this.r32(F.EXITINFO1) === 0 && this.vmm.readGpr(1) === 0x10) {
          return this.answerTsc(2, false);
        }
        return this.emulate();
      case C.TASK_SWITCH: {
        if (!this.shadow) break;
        this.cr3Load = true;
        // Through a task gate while delivering an event (EXITINTINFO): the event is given
        // in the emulator instead of EVENTINJ, as vtx.ts does for exit 9.
        const info = this.r32(F.EXITINTINFO);
        if (!(info & EVENT_V)) return this.emulate();
        const type = (info >> 8) & 7;
        if (this.r32(F.EVENTINJ) & EVENT_V) {
          this.w32(F.EVENTINJ, 0);
          this.undoReinjection();
        }
        if (type === 0) return this.emulateEvent(() => this.core.injectInterrupt(info & 0xff));
        if (type === 2) return this.emulateEvent(() => this.core.nmi());
        return this.emulate();
      }
      case C.READ_CR0: case C.READ_CR3: case C.READ_CR4:
      case C.WRITE_CR0: case C.WRITE_CR3: case C.WRITE_CR4:
        // Shadow paging: in the guest's own context (hardware.ts).
        if (!this.shadow) break;
        this.cr3Load = code === C.WRITE_CR3;
        return this.emulate();
      case C.VMRUN: case C.VMMCALL: case C.VMLOAD: case C.VMSAVE: case C.STGI: case C.CLGI:
      case C.SKINIT:
        this.w32(F.EVENTINJ, EVENT_V | EVENT_TYPE_EXCEPTION | UD_VECTOR);
        return HANDLED;
    }
    switch (code) {
      default:
        return { reason: 'invalid', why: `#VMEXIT the VMM does not handle: ` +
          `${this.reasonName(code)}, EXITINFO1 0x${this.r64(F.EXITINFO1).toString(16)}` };
    }
  }

  protected guestRflags(): number { return Number(this.r64(F.RFLAGS) & 0xffffffffn); }

  // ---- Shadow paging (issue 10) ----
  protected crField(n: 0 | 3 | 4): number {
    return Number(this.r64(n === 0 ? F.CR0 : n === 3 ? F.CR3 : F.CR4) & 0xffffffffn);
  }
  protected setCrField(n: 0 | 3 | 4, v: number): void {
    this.w64(n === 0 ? F.CR0 : n === 3 ? F.CR3 : F.CR4, v >>> 0);
  }
  protected shadowMasks(): [number, number] { return [CR0_WP_PG, CR4_PSE]; }
  /** The CPU runs with paging and WP on (paged real mode included, APM 15.19); the guest's
   *  reads of CR0/CR3/CR4 are intercepted and emulated in its own context. */
  protected shadowControls(_cr0: number, _cr4: number): void {
    this.setCrField(0, this.shadow!.realCr0());
    this.setCrField(4, this.shadow!.realCr4());
  }
  /** #PF by EVENTINJ with its error code (APM 15.20); CR2 from the VMCB (15.5.1). A #PF
   *  while delivering a #PF is a double fault (SDM vol. 3A, 6.15, table 6-5). */
  protected injectPageFault(errorCode: number, cr2: number): boolean {
    this.w64(F.CR2, cr2 >>> 0);
    const prev = this.r32(F.EVENTINJ);
    const prevExc = (prev & 0x80000000) !== 0 && ((prev >> 8) & 7) === 3;
    if (prevExc && (prev & 0xff) === 8) return false;
    if ((prev & EVENT_V) && ((prev >> 8) & 7) === 3 && (prev & 0xff) === PF_VECTOR) {
      this.w32(F.EVENTINJ, (EVENT_V | EVENT_EV | EVENT_TYPE_EXCEPTION | 8) >>> 0);
      this.w32(F.EVENTINJ_ERROR_CODE, 0);
      return true;
    }
    this.w32(F.EVENTINJ, (EVENT_V | EVENT_EV | EVENT_TYPE_EXCEPTION | PF_VECTOR) >>> 0);
    this.w32(F.EVENTINJ_ERROR_CODE, errorCode);
    return true;
  }

  protected guestCanTakeInterrupt(): boolean {
    return (this.guestRflags() & RFLAGS_IF) !== 0 &&
      (this.r32(F.INTERRUPT_SHADOW) & 1) === 0 && (this.r32(F.EVENTINJ) & EVENT_V) === 0;
  }

  /** EVENTINJ (APM 15.20): type 0, an external interrupt, delivered at VMRUN. */
  protected injectExternal(vector: number): void {
    this.w32(F.EVENTINJ, (EVENT_V | vector) >>> 0);
  }

  /** A virtual interrupt with the VINTR intercept (APM 15.21.4): the guest exits as soon
   *  as it could take one, and the VMM injects the real one by EVENTINJ (as KVM does). */
  protected setInterruptWindow(on: boolean): void {
    const want = (on ? this.misc1 | I3_VINTR : this.misc1 & ~I3_VINTR) >>> 0;
    if (want === this.misc1) return;
    this.misc1 = want;
    this.w32(F.INTERCEPT_MISC1, want);
    this.w32(F.VINTR_CONTROL, on ? V_IRQ | V_INTR_PRIO_MAX | V_IGN_TPR : 0);
  }

  protected guestEax(): number { return Number(this.r64(F.RAX) & 0xffffffffn); }
  protected setGuestEax(v: number): void { this.w64(F.RAX, v >>> 0); }
}
