/**
 * Paravirtualization (`mode: 'pv'`), with Xen's 32-bit PV interface: the guest kernel runs
 * in ring 1 under the deprivileging of ../depriv (the VMM's ring 0, GDT, IDT and TSS at the
 * top of the address space), asks for privileged work through hypercalls (`int 0x82` or
 * the hypercall page) and gets its faults, traps and events bounced to the handlers it
 * registered, as Xen's create_bounce_frame does. The machine's PIT and PIC belong to the
 * VMM: IRQ 0 at 100 Hz drives the guest's VIRQ_TIMER.
 */
import type { Core, Exit, Regs } from '../../core/types.js';
import type { Bus } from '../../devices/bus.js';
import type { BlockDevice } from '../../disk/types.js';
import { BlkBack } from '../pv/blkback.js';
import { ERROR_CODE_VECTORS, Region, RETURN_STUB_VA, STACK_VA } from '../depriv/region.js';
import { GuestFault } from '../depriv/guestmem.js';
import type { ResolvedVmmOptions } from '../options.js';
import { buildPvDomain, type BuiltDomain } from '../pv/builder.js';
import type { PvDomain, PvStats, TrapEntry } from '../pv/domain.js';
import * as X from '../pv/xen.js';
import type { ModeOps, VmmStats } from './ops.js';

/** The PIC base vector the VMM programs (its IRQs 0-15 arrive at 0xF0-0xFF, with gates
 *  of DPL 0: no guest can raise them with `int n`). */
const IRQ_VECTOR0 = X.VMM_IRQ_BASE;
/** 8254 input clock 1.193182 MHz / 100 Hz (Intel 82C54 datasheet). */
const PIT_100HZ = 11932;
/** Timer interrupts a blocked domain may sleep through with no event before its run ends
 *  (100,000 ticks: 1,000 s of virtual time). */
const MAX_IDLE_WAKES = 100_000;

export interface PvHost {
  bus: Bus;
  kernel: Uint8Array;
  cmdline: string;
  consoleOut: (b: Uint8Array) => void;
  /** Virtual time (ns). */
  now: () => number;
  /** SCHEDOP_shutdown: the machine stops (poweroff, reboot as a reset, crash...). */
  onShutdown?: (reason: string) => void;
  /** The disk blkback serves to the guest's blkfront (the machine's first disk). */
  disk?: BlockDevice;
  /** The domain's id (1 by default) and the other DomUs (the management domain's). */
  domid?: number;
  peers?: (domid: number) => PvDomain | undefined;
}

export class PvOps implements ModeOps {
  readonly mode = 'pv' as const;
  readonly built: BuiltDomain;
  readonly domain: PvDomain;
  /** The CPU stands at the return stub with a guest frame on the VMM stack. */
  private atReturn = false;
  private crashed: string | undefined;
  /** Wake-ups of a blocked domain that delivered it nothing, in a row. */
  private idleWakes = 0;
  /** The management domain's block backend, when the machine has a disk. */
  readonly blkback: BlkBack | undefined;

  constructor(private readonly core: Core, private readonly host: PvHost,
    _options?: ResolvedVmmOptions) {
    this.built = buildPvDomain(core, host.kernel, host.cmdline, host.consoleOut, host.now,
      host.domid, host.peers);
    this.domain = this.built.domain;
    if (host.disk) this.blkback = new BlkBack(core, this.domain, host.disk);
    this.programPlatform();
  }

  /** The VMM owns the interrupt controllers and the timer (Xen's own drivers). */
  private programPlatform(): void {
    const out = (port: number, value: number) =>
      this.host.bus.handleExit({ reason: 'io', port, size: 1, write: true, value });
    // 8259A ICW1-ICW4 (8259A datasheet): edge, cascade, master at 0xF0, slave at 0xF8.
    out(0x20, 0x11); out(0x21, IRQ_VECTOR0); out(0x21, 0x04); out(0x21, 0x01);
    out(0xa0, 0x11); out(0xa1, IRQ_VECTOR0 + 8); out(0xa1, 0x02); out(0xa1, 0x01);
    out(0x21, 0xfe); out(0xa1, 0xff); // only IRQ 0
    // 8254 channel 0, lobyte/hibyte, mode 2 (rate generator).
    out(0x43, 0x34); out(0x40, PIT_100HZ & 0xff); out(0x40, PIT_100HZ >> 8);
  }

  // ---- the VMM stack frame (what the CPU pushed, plus the stub's error code) ----

  /** Registers the trap changes, written with the return stub's EIP in one setRegs (each
   *  setRegs makes the core drop its cached state). */
  private pending: Partial<Regs> = {};
  /** The registers at the stub's HLT, read once per trap. */
  private regs!: Regs;

  private stackPa(esp: number): number {
    return this.built.region.stack + ((esp - STACK_VA) >>> 0);
  }
  private frame(): { err: number; eip: number; cs: number; eflags: number; esp: number;
    ss: number; at: number } {
    const esp = this.regs.esp;
    const b = this.core.readPhys(this.stackPa(esp), 24);
    const dv = new DataView(b.buffer);
    return { at: esp, err: dv.getUint32(0, true), eip: dv.getUint32(4, true),
      cs: dv.getUint32(8, true) & 0xffff, eflags: dv.getUint32(12, true),
      esp: dv.getUint32(16, true), ss: dv.getUint32(20, true) & 0xffff };
  }
  private setFrame(f: { eip: number; cs: number; eflags: number; esp: number; ss: number;
    at: number }): void {
    const b = new Uint8Array(20);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, f.eip, true); dv.setUint32(4, f.cs, true);
    dv.setUint32(8, f.eflags, true); dv.setUint32(12, f.esp, true);
    dv.setUint32(16, f.ss, true);
    this.core.writePhys(this.stackPa(f.at + 4), b);
  }

  run(budget: number): Exit {
    const start = this.core.instructions();
    for (;;) {
      if (this.crashed) return { reason: 'shutdown', why: `pv: domain crashed: ${this.crashed}` };
      if (this.domain.shutdown) {
        this.host.onShutdown?.(this.domain.shutdown);
        return { reason: 'shutdown', why: `pv: SCHEDOP_shutdown ${this.domain.shutdown}` };
      }
      if (this.domain.blocked) {
        // Xen leaves such a domain asleep for good; here its run ends rather than hold the
        // host in a loop of timer ticks that wake nothing.
        if (++this.idleWakes > MAX_IDLE_WAKES) {
          return { reason: 'shutdown', why: `pv: SCHEDOP_block through ${MAX_IDLE_WAKES} `
            + 'interrupts and no event delivered (none bound, or all masked)' };
        }
        return { reason: 'hlt' };
      }
      this.idleWakes = 0;
      const left = budget - (this.core.instructions() - start);
      if (left <= 0 && budget > 0) return { reason: 'budget' };
      const exit = this.core.run(Math.max(left, 0));
      this.atReturn = false;
      if (exit.reason !== 'hlt') return exit;
      const r = this.core.getRegs();
      this.regs = r;
      this.pending = {};
      const cpl = this.core.getSegment('cs').selector & 3;
      const v = Region.stubVector(cpl, r.eip);
      if (v < 0) return { reason: 'invalid', why: `pv: HLT at CPL ${cpl} outside the VMM` };
      this.trap(v);
      if (budget === 0) return { reason: 'budget' };
    }
  }

  /** One entry into the VMM through vector `v`'s stub. */
  private trap(v: number): void {
    const f = this.frame();
    if ((f.cs & 3) === 0) {
      // A fault in the VMM's own ring 0: the IRET back to the guest refused what the
      // guest left for it (a bad stack or selector). Xen crashes such a domain.
      this.crashed = `vector ${v} in the VMM's ring 0 (the return to the guest failed)`;
      return;
    }
    const d = this.domain;
    if (v === X.HYPERCALL_VECTOR) {
      const r = this.regs;
      if (r.eax === X.HC.iret) { this.hypercallIret(f); return; }
      const rc = d.hypercall(r.eax, [r.ebx, r.ecx, r.edx, r.esi, r.edi, r.ebp]);
      this.pending.eax = rc >>> 0;
    } else if (v >= IRQ_VECTOR0 && v < IRQ_VECTOR0 + 16) {
      this.irq(v - IRQ_VECTOR0);
    } else if (v === 6 && this.forcedCpuid(f)) {
      return;
    } else if (v === 13 && this.emulateIo(f)) {
      return;
    } else {
      d.stats.traps[String(v)] = (d.stats.traps[String(v)] ?? 0) + 1;
      if (v === 14) {
        const cr2 = this.regs.cr2;
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, cr2, true);
        this.core.writePhys(d.sharedInfo + X.VCPU_INFO.arch_cr2, b);
      }
      const t = d.trapTable[v];
      if (!t) { this.crashed = `vector ${v} with no handler in the trap table`; return; }
      if (!this.bounce(f, t, ERROR_CODE_VECTORS.has(v) ? f.err : undefined)) return;
      this.leave(this.frame());
      return;
    }
    this.leave(f);
  }

  /**
   * Xen's forced emulation prefix (arch-x86/xen.h XEN_EMULATE_PREFIX: ud2a; .ascii "xen")
   * before CPUID: a PV kernel's way to get the hypervisor's CPUID, since its own CPUID runs
   * natively. Leaves 0x40000000-0x400000FF are Xen's (arch-x86/cpuid.h): the signature
   * "XenVMMXenVMM", the version, one hypercall page; for other leaves the CPU's CPUID runs
   * after the prefix. False when the #UD is not at such a prefix.
   */
  private forcedCpuid(f: ReturnType<PvOps['frame']>): boolean {
    let code: Uint8Array;
    try { code = this.domain.mem.read(f.eip, 7); } catch { return false; }
    const prefix = [0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2];
    if (!prefix.every((b, i) => code[i] === b)) return false;
    const d = this.domain;
    d.stats.hypercalls.forced_cpuid = (d.stats.hypercalls.forced_cpuid ?? 0) + 1;
    const leaf = this.regs.eax >>> 0;
    let eip = f.eip + 5;
    if (leaf >= X.XEN_CPUID_FIRST_LEAF && leaf <= X.XEN_CPUID_FIRST_LEAF + 0xff) {
      const r = X.xenCpuid(leaf);
      Object.assign(this.pending, { eax: r[0], ebx: r[1], ecx: r[2], edx: r[3] });
      eip = f.eip + 7;
    }
    this.setFrame({ ...f, eip });
    this.leave(this.frame());
    return true;
  }

  /**
   * Port I/O of a kernel given an I/O privilege level by PHYSDEVOP_set_iopl (physdev.h):
   * IN, OUT, INS and OUTS (with an operand-size prefix and REP) at CPL <= iopl are done on
   * the machine's bus, as Xen's emulate_privileged_op does after guest_io_okay; the
   * VMM's own ports (X.VMM_PORTS) stay refused (the #GP goes to the guest). Encodings: SDM
   * vol. 2A/2B, IN (E4/E5/EC/ED), OUT (E6/E7/EE/EF), INS (6C/6D), OUTS (6E/6F).
   */
  private emulateIo(f: ReturnType<PvOps['frame']>): boolean {
    const d = this.domain;
    if (d.iopl === 0 || (f.cs & 3) > d.iopl || f.err !== 0) return false;
    let code: Uint8Array;
    try { code = d.mem.read(f.eip, 4); } catch { return false; }
    let n = 0, size: 1 | 2 | 4 = 4, rep = false;
    for (; n < 3; n++) {
      if (code[n] === 0x66) size = 2;
      else if (code[n] === 0xf3) rep = true;
      else break;
    }
    const op = code[n];
    const r = this.regs;
    let port = r.edx & 0xffff;
    if (op === 0xe4 || op === 0xe5 || op === 0xe6 || op === 0xe7) port = code[n + 1];
    const len = n + (op >= 0xe4 && op <= 0xe7 ? 2 : 1);
    if (op === 0xe4 || op === 0xe6 || op === 0xec || op === 0xee || op === 0x6c
      || op === 0x6e) size = 1;
    const isIn = op === 0xe4 || op === 0xe5 || op === 0xec || op === 0xed;
    const isOut = op === 0xe6 || op === 0xe7 || op === 0xee || op === 0xef;
    const isIns = op === 0x6c || op === 0x6d, isOuts = op === 0x6e || op === 0x6f;
    if (!isIn && !isOut && !isIns && !isOuts) return false;
    if (!X.ioAllowed(d.iopl, f.cs & 3, port, size)) return false;
    const bus = this.host.bus;
    const mask = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    d.stats.hypercalls.io_emulated = (d.stats.hypercalls.io_emulated ?? 0) + 1;
    if (isIn) {
      const v = bus.handleExit({ reason: 'io', port, size, write: false, value: 0 }) ?? mask;
      this.pending.eax = size === 4 ? v >>> 0 : ((r.eax & ~mask) | (v & mask)) >>> 0;
    } else if (isOut) {
      bus.handleExit({ reason: 'io', port, size, write: true, value: (r.eax & mask) >>> 0 });
    } else {
      // String I/O on ES:EDI / DS:ESI (flat segments), ECX elements with REP, DF = 0 only.
      if (f.eflags & 0x400) return false;
      const count = rep ? r.ecx >>> 0 : 1;
      if (count > 65536) return false;
      const va = isIns ? r.edi : r.esi;
      const data = new Uint8Array(count * size);
      try {
        if (isOuts) data.set(d.mem.read(va, data.length));
        else d.mem.translate(va, true);
        bus.handleExit({ reason: 'io', port, size, write: isOuts, value: 0, data, count });
        if (isIns) d.mem.write(va, data);
      } catch (e) {
        if (e instanceof GuestFault) return false;
        throw e;
      }
      if (isIns) this.pending.edi = (r.edi + data.length) >>> 0;
      else this.pending.esi = (r.esi + data.length) >>> 0;
      if (rep) this.pending.ecx = 0;
    }
    this.setFrame({ ...f, eip: (f.eip + len) >>> 0 });
    this.leave(this.frame());
    return true;
  }

  /** Back to the guest through the return stub, after an upcall if one is due. */
  private leave(f: ReturnType<PvOps['frame']>): void {
    const ev = this.domain.events;
    if (ev.upcallPending && !ev.upcallMask && this.domain.eventCallback) {
      const cb = this.domain.eventCallback;
      this.domain.stats.upcalls++;
      if (!this.bounce(f, { ...cb, dpl: 0, maskEvents: true }, undefined)) return;
    }
    this.core.setRegs({ ...this.pending, eip: RETURN_STUB_VA });
    this.pending = {};
    this.atReturn = true;
  }

  /**
   * Xen's create_bounce_frame: on the guest kernel stack (the interrupted one in ring 1,
   * the stack_switch one from ring 3) push SS and ESP (from ring 3), EFLAGS with IF =
   * !upcall_mask, CS with the saved upcall mask in bits 23:16, EIP, and the error code;
   * then continue at the handler. False when the guest stack cannot take the frame
   * (the domain crashes, as Xen's failsafe path ends without a failsafe callback).
   */
  private bounce(f: ReturnType<PvOps['frame']>, t: TrapEntry, err: number | undefined): boolean {
    const d = this.domain, ev = d.events;
    const fromUser = (f.cs & 3) === 3;
    let ss = fromUser ? d.kernelSs : f.ss;
    let esp = fromUser ? d.kernelSp : f.esp;
    const words: number[] = [];
    if (err !== undefined) words.push(err);
    const mask = ev.upcallMask ? 1 : 0;
    words.push(f.eip, (f.cs & 0xffff) | (mask << 16),
      (f.eflags & ~0x200) | (mask ? 0 : 0x200));
    if (fromUser) words.push(f.esp, f.ss);
    const b = new Uint8Array(words.length * 4);
    const dv = new DataView(b.buffer);
    words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
    esp = (esp - b.length) >>> 0;
    try { d.mem.write(esp, b); } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      this.crashed = `the guest stack at 0x${esp.toString(16)} cannot take a trap frame`;
      return false;
    }
    if (t.maskEvents) ev.upcallMask = true;
    // The handler starts with TF, NT, VM and RF clear (SDM vol. 3A, 6.12.1), IF set
    // (the real IF stays on in the guest: its own is the upcall mask).
    const eflags = (f.eflags & ~((1 << 8) | (1 << 14) | (1 << 16) | (1 << 17))) | 0x200;
    ss &= 0xffff;
    this.setFrame({ at: f.at, eip: t.eip, cs: t.cs, eflags, esp, ss });
    return true;
  }

  /** HYPERVISOR_iret (xen.h __HYPERVISOR_iret; the hypercall page pushed EAX): pops EAX,
   *  EIP, CS, EFLAGS and, to ring 3, ESP and SS from the guest stack; IF restores the
   *  upcall mask. */
  private hypercallIret(f: ReturnType<PvOps['frame']>): void {
    const d = this.domain;
    d.stats.hypercalls.iret = (d.stats.hypercalls.iret ?? 0) + 1;
    let w: Uint8Array;
    try { w = d.mem.read(f.esp, 24); } catch {
      this.crashed = 'iret: the guest stack is not readable'; return;
    }
    const dv = new DataView(w.buffer);
    const eax = dv.getUint32(0, true), eip = dv.getUint32(4, true);
    let cs = dv.getUint32(8, true) & 0xffff;
    const eflags = dv.getUint32(12, true);
    if ((cs & 3) === 0) cs |= 1;
    const toUser = (cs & 3) === 3;
    const esp = toUser ? dv.getUint32(16, true) : (f.esp + 16) >>> 0;
    let ss = toUser ? dv.getUint32(20, true) & 0xffff : f.ss;
    if (toUser && (ss & 3) !== 3) ss = X.FLAT_RING3_SS;
    d.events.upcallMask = (eflags & 0x200) === 0;
    this.pending.eax = eax;
    // The CPU's IRET runs at CPL 0: the guest gets no IOPL, no nested-task return (NT),
    // no virtual-8086 mode (VM), RF clear, and the real IF stays on (SDM vol. 3A, 2.3).
    const safe = (eflags & ~(0x3000 | (1 << 14) | (1 << 16) | (1 << 17))) | 0x200;
    this.setFrame({ at: f.at, eip, cs, eflags: safe, esp, ss });
    this.leave(this.frame());
  }

  /** A PIC interrupt: EOI, and for IRQ 0 the guest's timer. */
  private irq(n: number): void {
    const out = (port: number, value: number) =>
      this.host.bus.handleExit({ reason: 'io', port, size: 1, write: true, value });
    if (n >= 8) out(0xa0, 0x20);
    out(0x20, 0x20);
    if (n !== 0) return;
    const d = this.domain, now = this.host.now();
    this.updateTime(now);
    let fire = d.periodNs > 0;
    if (d.timerDeadline && now >= d.timerDeadline) { d.timerDeadline = 0; fire = true; }
    if (fire && d.events.sendVirq(X.VIRQ_TIMER)) d.stats.timerEvents++;
    if (d.events.upcallPending) d.blocked = false;
  }

  /** vcpu_time_info (xen.h): version odd while writing, system time in ns. */
  private updateTime(now: number): void {
    const base = this.domain.sharedInfo + X.VCPU_INFO.time;
    const b = new Uint8Array(32);
    const dv = new DataView(this.core.readPhys(base, 32).buffer);
    const ver = (dv.getUint32(0, true) + 2) & ~1;
    const o = new DataView(b.buffer);
    o.setUint32(X.TIME_INFO.version, ver, true);
    o.setBigUint64(X.TIME_INFO.tsc_timestamp, this.core.tsc(), true);
    o.setBigUint64(X.TIME_INFO.system_time, BigInt(Math.floor(now)), true);
    this.core.writePhys(base, b);
  }

  interruptsEnabled(): boolean { return !this.domain.events.upcallMask || this.domain.blocked; }
  canInjectInterrupt(): boolean { return this.atReturn || this.core.canInjectInterrupt(); }
  injectInterrupt(vector: number): void {
    if (this.atReturn) {
      // The CPU waits at the return stub: take the interrupt here, on the same frame.
      this.irq(vector - IRQ_VECTOR0);
      this.leaveAgain();
      return;
    }
    this.core.injectInterrupt(vector);
  }
  /** Re-checks the upcall on the frame already waiting at the return stub. */
  private leaveAgain(): void {
    const f = this.frame();
    this.leave(f);
  }
  requestInterruptWindow(on: boolean): void { this.core.requestInterruptWindow(on); }

  pvStats(): PvStats {
    const s = this.domain.stats;
    const b = this.blkback?.stats;
    return { ...s, eventsSent: this.domain.events.sent, ringRequests: b?.requests ?? 0,
      updatesPerBatch: s.mmuBatches ? s.mmuUpdates / s.mmuBatches : 0,
      notificationsSent: b?.notificationsSent ?? 0,
      notificationsSuppressed: b?.notificationsSuppressed ?? 0 };
  }

  stats(): VmmStats | undefined {
    const c = this.core.counters();
    return {
      mode: 'pv', paging: 'direct', tags: false, pwc: false, ntlb: false,
      vmEntries: 0, vmExits: 0, exitsByReason: {}, vmcsReads: 0, vmcsWrites: 0,
      vmcsReadsPerExit: 0, vmcsWritesPerExit: 0, nestedWalks: 0, nestedWalkRefs: 0,
      pwcHits: 0, pwcMisses: 0, ntlbHits: 0, ntlbMisses: 0, tlbFlushes: c.tlbFlushes ?? 0,
      tlbSurvivors: 0, emulated: 0, violations: 0, pagesMapped: 0, eventsInjected: 0,
      eventsReinjected: 0, pv: this.pvStats(),
    };
  }
}
