/**
 * The local APIC of the one CPU, xAPIC mode (Intel SDM vol. 3A, chapter 10 "Advanced
 * Programmable Interrupt Controller (APIC)"; section numbers below are that chapter's):
 * the register page at 0xFEE00000 (10.4.1, table 10-1), IRR/ISR/TMR with priority classes,
 * TPR and PPR (10.8.3), EOI (10.8.5), the LVT (10.5.1), the timer (10.5.4) on the virtual
 * clock, the ICR (10.6.1), the error status register (10.5.3).
 *
 * It is also the CPU's one interrupt input (`intr`/`ack`, what the vCPU loop asks): the
 * APIC's own highest request above PPR, else the 8259 pair's INTR through LINT0 when
 * LINT0 is ExtINT (the virtual wire of MP 1.4, 3.6.2.2). NMIs (LINT1 in NMI mode, an ICR
 * NMI) go to the core's NMI input.
 */
import type { Bus } from '../bus.js';
import type { Timer, VirtualClock } from '../clock.js';
import { DeviceStateError, int, intArray, obj } from '../state.js';

/** The page's default physical base (10.4.1; IA32_APIC_BASE reset value, 10.4.4). */
export const APIC_DEFAULT_BASE = 0xfee00000;

// Register offsets (table 10-1).
export const APIC_ID = 0x020;
export const APIC_VERSION = 0x030;
export const APIC_TPR = 0x080;
export const APIC_APR = 0x090;
export const APIC_PPR = 0x0a0;
export const APIC_EOI = 0x0b0;
export const APIC_RRD = 0x0c0;
export const APIC_LDR = 0x0d0;
export const APIC_DFR = 0x0e0;
export const APIC_SVR = 0x0f0;
export const APIC_ISR = 0x100;
export const APIC_TMR = 0x180;
export const APIC_IRR = 0x200;
export const APIC_ESR = 0x280;
export const APIC_ICR_LO = 0x300;
export const APIC_ICR_HI = 0x310;
export const APIC_LVT_TIMER = 0x320;
export const APIC_LVT_THERMAL = 0x330;
export const APIC_LVT_PERF = 0x340;
export const APIC_LVT_LINT0 = 0x350;
export const APIC_LVT_LINT1 = 0x360;
export const APIC_LVT_ERROR = 0x370;
export const APIC_TIMER_INITIAL = 0x380;
export const APIC_TIMER_CURRENT = 0x390;
export const APIC_TIMER_DIVIDE = 0x3e0;

/**
 * Version register (10.4.8, figure 10-7): version 0x14 (an integrated APIC, Pentium 4
 * and later) and Max LVT Entry 5 (six entries: timer, thermal, performance, LINT0, LINT1,
 * error), as QEMU's APIC reports.
 */
export const APIC_VERSION_VALUE = 0x00050014;

/** LVT bits (10.5.1, figure 10-8). */
export const LVT_MASKED = 1 << 16;
const LVT_LEVEL = 1 << 15;
const LVT_REMOTE_IRR = 1 << 14;
const LVT_TIMER_PERIODIC = 1 << 17;
/** Delivery modes in bits 10:8 (LVT and ICR). */
export const DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_STARTUP = 6;
export const DM_EXTINT = 7;
/** The bits each LVT entry implements (figure 10-8): timer vector, mask and mode 17 (no
 *  TSC-deadline: CPUID.1:ECX bit 24 is clear); LINT0/1 vector, delivery mode, polarity,
 *  trigger, mask (remote IRR is read-only); thermal and performance vector, delivery mode,
 *  mask; error vector and mask. Delivery status (bit 12) is read-only and always idle here:
 *  a message is accepted at once. */
const LVT_WRITABLE = [0x000300ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];
/** SVR (10.9, figure 10-23): vector 7:0 and APIC software enable 8; focus processor
 *  checking (bit 9) is not in the Pentium 4 and later, EOI-broadcast suppression (12)
 *  is not offered (version bit 24 clear). */
const SVR_WRITABLE = 0x1ff;
const SVR_ENABLE = 0x100;
/** ESR bits (10.5.3, figure 10-9). */
const ESR_SEND_ILLEGAL = 1 << 5;
const ESR_RECEIVE_ILLEGAL = 1 << 6;
const ESR_ILLEGAL_ADDRESS = 1 << 7;
/** ICR (10.6.1, figure 10-12): vector 7:0, delivery mode 10:8, destination mode 11, level
 *  14, trigger 15, shorthand 19:18; delivery status (12) reads 0: sent at once. */
const ICR_WRITABLE = 0x000ccfff;
/** Timer's bus clock: QEMU's APIC counts at 1 GHz before the divider (apic_common.c,
 *  count_shift in ns); the SDM leaves the bus frequency to the processor (10.5.4). */
export const APIC_BUS_HZ = 1_000_000_000;

/** The state a firmware leaves (what QEMU 7.2 shows a -kernel guest after SeaBIOS):
 *  software enabled with spurious vector 0xFF, LINT0 ExtINT level, LINT1 NMI level. */
export const FIRMWARE_SVR = 0x1ff;
export const FIRMWARE_LINT0 = 0x8700;
export const FIRMWARE_LINT1 = 0x8400;

/** Interrupts the APIC accepted or sent, by source, for --stats. */
export interface ApicStats {
  /** Fixed interrupts accepted into IRR, by source. */
  accepted: { timer: number; ipi: number; ioapic: number; msi: number; lvt: number };
  /** Vectors given to the CPU from IRR, and from the 8259 pair through LINT0 (ExtINT). */
  delivered: number;
  extint: number;
  eois: number;
  /** EOIs of level-triggered vectors broadcast to the I/O APIC (10.8.5). */
  eoiBroadcasts: number;
  timerTicks: number;
  /** ICR writes, and those that delivered to this CPU. */
  ipis: number;
  selfIpis: number;
  /** NMIs raised through LINT1, the ICR and MSI/IOAPIC messages. */
  nmis: number;
  /** INIT, start-up and SMI messages, ignored on this one-CPU machine. */
  ignoredMessages: number;
  /** Vectors 0-15 refused (ESR "received illegal vector"). */
  illegalVectors: number;
  /** Register accesses that are not an aligned dword (undefined in 10.4.1: dropped). */
  badAccesses: number;
}

export interface LocalApicHost {
  /** Raises the CPU's NMI input (the core's nmi()). */
  nmi(): void;
  /** The 8259 pair's INTR and its INTA cycle (for LINT0 in ExtINT mode). */
  pic: { readonly intr: boolean; ack(): number; unack?(vector: number): void };
  /** A level-triggered vector's EOI reaches the I/O APIC (10.8.5). */
  eoiBroadcast?(vector: number): void;
  /** IA32_APIC_BASE (the core's MSR): bit 11 clear disables the APIC globally (10.4.3). */
  apicBase?(): number;
}

export interface LocalApicState {
  id: number; tpr: number; ldr: number; dfr: number; svr: number;
  irr: number[]; isr: number[]; tmr: number[]; esr: number; esrPending: number;
  icrLo: number; icrHi: number; lvt: number[]; initial: number; divide: number;
  loadNs: number;
}

/** Index (0-255) of the highest bit set in the 256-bit register `r`, or -1. */
function highest(r: Uint32Array): number {
  for (let i = 7; i >= 0; i--) if (r[i]) return i * 32 + 31 - Math.clz32(r[i]);
  return -1;
}

const bit = (r: Uint32Array, v: number) => (r[v >> 5] >>> (v & 31)) & 1;
const setBit = (r: Uint32Array, v: number) => { r[v >> 5] |= 1 << (v & 31); };
const clearBit = (r: Uint32Array, v: number) => { r[v >> 5] &= ~(1 << (v & 31)); };

export class LocalApic {
  /** The vector of the last INTA from the APIC's IRR, -1 for an ExtINT (the 8259 pair's),
   *  -2 when none can be given back. */
  private lastAck = -2;
  id = 0;
  tpr = 0;
  ldr = 0;
  dfr = 0xffffffff;
  svr = 0xff;
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  /** ESR as last latched by a write, and the errors seen since (10.5.3). */
  esr = 0;
  private esrPending = 0;
  icrLo = 0;
  icrHi = 0;
  /** timer, thermal, perf, LINT0, LINT1, error: all masked at reset (10.4.7.1). */
  readonly lvt = [LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED];
  initial = 0;
  divide = 0;
  /** Virtual ns the current count was loaded at. */
  private loadNs = 0;
  private readonly timer: Timer;
  /** An NMI was raised since the vCPU last looked (it wakes a halted CPU). */
  private nmiRaised = false;
  readonly stats: ApicStats = {
    accepted: { timer: 0, ipi: 0, ioapic: 0, msi: 0, lvt: 0 },
    delivered: 0, extint: 0, eois: 0, eoiBroadcasts: 0, timerTicks: 0, ipis: 0, selfIpis: 0,
    nmis: 0, ignoredMessages: 0, illegalVectors: 0, badAccesses: 0,
  };

  constructor(private readonly clock: VirtualClock, private readonly host: LocalApicHost) {
    this.timer = clock.timer((now) => this.timerFired(now));
  }

  /** The state a firmware leaves for a kernel it starts (see FIRMWARE_SVR). */
  firmwareSetup(): void {
    this.svr = FIRMWARE_SVR;
    this.lvt[3] = FIRMWARE_LINT0;
    this.lvt[4] = FIRMWARE_LINT1;
  }

  get softwareEnabled(): boolean { return (this.svr & SVR_ENABLE) !== 0; }

  /**
   * IA32_APIC_BASE[11] (10.4.3): clear, the processor is "functionally equivalent to an
   * IA-32 processor without an on-chip APIC": the 8259's INTR and LINT1 reach the CPU
   * directly, the register page no longer answers. It stays clear until reset (the core).
   */
  get globallyEnabled(): boolean {
    return !this.host.apicBase || (this.host.apicBase() & 0x800) !== 0;
  }

  /** Processor priority (10.8.3.1): TPR, or the class of the highest ISR vector above it. */
  get ppr(): number {
    const isrv = Math.max(highest(this.isr), 0);
    return (this.tpr >> 4) >= (isrv >> 4) ? this.tpr & 0xff : isrv & 0xf0;
  }

  /** The IRR vector the CPU would take now, or -1 (10.8.3.1: its class above PPR's). */
  private deliverable(): number {
    if (!this.softwareEnabled || !this.globallyEnabled) return -1;
    const v = highest(this.irr);
    return v >= 0 && (v >> 4) > (this.ppr >> 4) ? v : -1;
  }

  /**
   * The 8259 pair reaches the CPU through LINT0 in ExtINT mode, unmasked (MP 1.4, 3.6.2.2
   * virtual wire). While the APIC is software-disabled the 8259's INTR passes too: the
   * power-on PIC mode of MP 1.4, 3.6.2.1, as QEMU's APIC accepts the PIC at reset
   * (apic_accept_pic_intr); a firmware or kernel enabling the APIC sets LINT0 itself.
   */
  private picPasses(): boolean {
    if (!this.softwareEnabled || !this.globallyEnabled) return true;
    const l = this.lvt[3];
    return !(l & LVT_MASKED) && ((l >> 8) & 7) === DM_EXTINT;
  }

  /** The CPU's INTR: an interrupt is waiting to be acknowledged. */
  get intr(): boolean {
    return this.deliverable() >= 0 || (this.picPasses() && this.host.pic.intr);
  }

  /** The INTA cycle: IRR -> ISR (10.8.4), or the 8259's vector through ExtINT. */
  ack(): number {
    const v = this.deliverable();
    if (v >= 0) {
      clearBit(this.irr, v);
      setBit(this.isr, v);
      this.stats.delivered++;
      this.lastAck = v;
      return v;
    }
    this.stats.extint++;
    this.lastAck = -1;
    return this.host.pic.ack();
  }

  /** Gives back the vector of the last INTA that the CPU did not take (a guest
   *  hypervisor's INTR intercept, AMD APM vol. 2, 15.21): in service again as requested,
   *  or, for an ExtINT, back to the 8259 pair. */
  unack(vector: number): void {
    if (this.lastAck === vector && bit(this.isr, vector)) {
      clearBit(this.isr, vector);
      setBit(this.irr, vector);
      this.stats.delivered--;
    } else if (this.lastAck === -1) {
      this.host.pic.unack?.(vector);
    }
    this.lastAck = -2;
  }

  /** True once after an NMI was raised: a halted CPU wakes for it. */
  takeNmiWake(): boolean { const r = this.nmiRaised; this.nmiRaised = false; return r; }

  private raiseNmi(): void {
    this.stats.nmis++;
    this.nmiRaised = true;
    this.host.nmi();
  }

  private error(bits: number): void {
    this.esrPending |= bits;
    const l = this.lvt[5];
    if (!(l & LVT_MASKED)) this.acceptFixed(l & 0xff, false, 'lvt');
  }

  /**
   * A fixed (or lowest-priority) interrupt arrives (10.8.1: one IRR bit per vector, a
   * second request of a pending vector is merged). Vectors 0-15 are illegal (10.5.2).
   */
  acceptFixed(vector: number, level: boolean, source: keyof ApicStats['accepted']): void {
    vector &= 0xff;
    if (vector < 16) {
      this.stats.illegalVectors++;
      if (source !== 'lvt') this.error(ESR_RECEIVE_ILLEGAL);
      else this.esrPending |= ESR_RECEIVE_ILLEGAL;
      return;
    }
    this.stats.accepted[source]++;
    setBit(this.irr, vector);
    if (level) setBit(this.tmr, vector); else clearBit(this.tmr, vector);
  }

  /**
   * A message for this CPU (an I/O APIC redirection entry or an MSI, 10.11): delivery mode
   * fixed/lowest priority into IRR, NMI to the NMI input; SMI, INIT and start-up are
   * ignored on this one-CPU machine (counted).
   */
  acceptMessage(mode: number, vector: number, level: boolean,
    source: 'ioapic' | 'msi' | 'ipi'): void {
    switch (mode) {
      case DM_FIXED: case DM_LOWEST: this.acceptFixed(vector, level, source); return;
      case DM_NMI: this.raiseNmi(); return;
      default: this.stats.ignoredMessages++;
    }
  }

  /**
   * Does a destination select this CPU (10.6.2)? Physical: its ID or 0xFF (broadcast);
   * logical: flat model (DFR 1111b) ANDs the LDR's 8 bits, cluster model (0000b) compares
   * the cluster (bits 7:4; 0xF broadcast) and ANDs the member bits 3:0.
   */
  matches(dest: number, logical: boolean): boolean {
    dest &= 0xff;
    if (!logical) return dest === 0xff || dest === (this.id >>> 24);
    const ldr = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (ldr & dest) !== 0;
    const cluster = dest >> 4;
    return (cluster === 0xf || cluster === ldr >> 4) && (ldr & dest & 0xf) !== 0;
  }

  /** EOI (10.8.5): the highest ISR bit is cleared; a level vector's EOI goes to the I/O APIC. */
  private eoi(): void {
    const v = highest(this.isr);
    this.stats.eois++;
    if (v < 0) return;
    clearBit(this.isr, v);
    if (bit(this.tmr, v)) {
      this.stats.eoiBroadcasts++;
      this.host.eoiBroadcast?.(v);
    }
  }

  /** An ICR low write sends the IPI (10.6.1). */
  private sendIpi(): void {
    this.stats.ipis++;
    const lo = this.icrLo;
    const mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3, vector = lo & 0xff;
    const level = (lo & (1 << 15)) !== 0;
    let toSelf: boolean;
    if (shorthand === 1 || shorthand === 2) toSelf = true; // self; all including self
    else if (shorthand === 3) toSelf = false; // all excluding self: nobody else here
    else toSelf = this.matches(this.icrHi >>> 24, (lo & (1 << 11)) !== 0);
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) {
      this.error(ESR_SEND_ILLEGAL);
      return;
    }
    if (!toSelf) return;
    this.stats.selfIpis++;
    // INIT level de-assert (mode 101, level 0, trigger level) is a no-op (10.6.1).
    this.acceptMessage(mode, vector, level && mode === DM_FIXED, 'ipi');
  }

  // ---- The timer (10.5.4) ----

  /** Divide configuration (figure 10-10): bits 3, 1:0 -> 2, 4, ... 128, then 1 for 111b. */
  private get divisor(): number {
    const v = ((this.divide >> 1) & 4) | (this.divide & 3);
    return v === 7 ? 1 : 2 << v;
  }

  private get periodic(): boolean { return (this.lvt[0] & LVT_TIMER_PERIODIC) !== 0; }

  /** Timer ticks since the count was loaded (1 tick = `divisor` bus clocks). */
  private ticksSince(now: number): number {
    return Math.floor(((now - this.loadNs) * APIC_BUS_HZ) / 1e9 / this.divisor);
  }

  /** The current count (figure 10-11): down to 0 and stays (one-shot) or reloads (periodic). */
  currentCount(now = this.clock.now): number {
    if (this.initial === 0) return 0;
    const t = this.ticksSince(now);
    if (this.periodic) return this.initial - (t % this.initial);
    return t >= this.initial ? 0 : this.initial - t;
  }

  private nsOfTicks(ticks: number): number {
    return (ticks * this.divisor * 1e9) / APIC_BUS_HZ;
  }

  private armTimer(): void {
    if (this.initial === 0) { this.timer.disarm(); return; }
    const t = this.ticksSince(this.clock.now);
    if (!this.periodic && t >= this.initial) { this.timer.disarm(); return; }
    const next = this.periodic ? (Math.floor(t / this.initial) + 1) * this.initial : this.initial;
    this.timer.arm(this.loadNs + this.nsOfTicks(next));
  }

  private timerFired(now: number): void {
    this.stats.timerTicks++;
    const l = this.lvt[0];
    if (!(l & LVT_MASKED)) this.acceptFixed(l & 0xff, false, 'timer');
    if (this.periodic) this.timer.arm(now + this.nsOfTicks(this.initial));
  }

  // ---- LINT pins ----

  /** LINT1 (or LINT0) driven by the board: in NMI mode it raises the NMI input. A masked
   *  entry (every entry while software-disabled, 10.4.7.2) passes nothing (10.5.1). */
  lint(n: 0 | 1, level: boolean): void {
    if (level && n === 1 && !this.globallyEnabled) { this.raiseNmi(); return; } // the NMI pin
    const l = this.lvt[3 + n];
    if (!level || l & LVT_MASKED) return;
    const mode = (l >> 8) & 7;
    if (mode === DM_NMI) this.raiseNmi();
    else if (mode === DM_FIXED) this.acceptFixed(l & 0xff, (l & LVT_LEVEL) !== 0, 'lvt');
  }

  // ---- Registers ----

  /** A dword register at `off` (16-byte aligned). */
  readRegister(off: number): number {
    switch (off) {
      case APIC_ID: return this.id;
      case APIC_VERSION: return APIC_VERSION_VALUE;
      case APIC_TPR: return this.tpr;
      case APIC_APR: return 0; // arbitration priority: no bus arbitration with one CPU
      case APIC_PPR: return this.ppr;
      case APIC_LDR: return this.ldr;
      case APIC_DFR: return this.dfr;
      case APIC_SVR: return this.svr;
      case APIC_ESR: return this.esr;
      case APIC_ICR_LO: return this.icrLo;
      case APIC_ICR_HI: return this.icrHi;
      case APIC_TIMER_INITIAL: return this.initial;
      case APIC_TIMER_CURRENT: return this.currentCount();
      case APIC_TIMER_DIVIDE: return this.divide;
    }
    if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR) {
      return this.lvt[(off - APIC_LVT_TIMER) >> 4];
    }
    const i = (off >> 4) & 7;
    if (off >= APIC_ISR && off < APIC_TMR) return this.isr[i];
    if (off >= APIC_TMR && off < APIC_IRR) return this.tmr[i];
    if (off >= APIC_IRR && off < APIC_ESR) return this.irr[i];
    return 0; // reserved (and EOI, write-only)
  }

  writeRegister(off: number, v: number): void {
    v >>>= 0;
    switch (off) {
      case APIC_ID: this.id = v & 0xff000000; return; // xAPIC ID in bits 31:24 (10.4.6)
      case APIC_TPR: this.tpr = v & 0xff; return;
      case APIC_EOI: this.eoi(); return;
      case APIC_LDR: this.ldr = v & 0xff000000; return; // figure 10-13
      case APIC_DFR: this.dfr = (v | 0x0fffffff) >>> 0; return; // model in 31:28, rest 1s
      case APIC_SVR: this.writeSvr(v); return;
      case APIC_ESR: this.esr = this.esrPending; this.esrPending = 0; return; // 10.5.3
      case APIC_ICR_HI: this.icrHi = v & 0xff000000; return;
      case APIC_ICR_LO: this.icrLo = v & ICR_WRITABLE; this.sendIpi(); return;
      case APIC_TIMER_INITIAL:
        this.initial = v;
        this.loadNs = this.clock.now;
        this.armTimer();
        return;
      case APIC_TIMER_DIVIDE: {
        const ticks = this.initial ? this.ticksSince(this.clock.now) : 0;
        this.divide = v & 0xb;
        this.loadNs = this.clock.now - this.nsOfTicks(ticks);
        this.armTimer();
        return;
      }
    }
    if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR) {
      const n = (off - APIC_LVT_TIMER) >> 4;
      let val = (v & LVT_WRITABLE[n]) | (this.lvt[n] & LVT_REMOTE_IRR);
      // Software-disabled: the mask bits stay set (10.4.7.2).
      if (!this.softwareEnabled) val |= LVT_MASKED;
      this.lvt[n] = val >>> 0;
      if (n === 0) this.armTimer();
      return;
    }
    if (off !== APIC_PPR && off !== APIC_VERSION && !(off >= APIC_ISR && off < APIC_ESR)) {
      if (off > APIC_TIMER_DIVIDE || off < APIC_ID) this.esrPending |= ESR_ILLEGAL_ADDRESS;
    }
  }

  /** SVR (10.9): clearing the software enable masks every LVT entry (10.4.7.2). */
  private writeSvr(v: number): void {
    this.svr = v & SVR_WRITABLE;
    if (!this.softwareEnabled) for (let i = 0; i < 6; i++) this.lvt[i] |= LVT_MASKED;
  }

  /** MMIO: aligned dwords only (10.4.1); other sizes read the bytes of the dword. */
  read(offset: number, size: 1 | 2 | 4): number {
    // Globally disabled: nothing answers at the page (reads float, as Bochs 2.7 reads them).
    if (!this.globallyEnabled) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    const v = this.readRegister(offset & 0xff0);
    if (size !== 4 || offset & 3) this.stats.badAccesses++;
    if (offset & 0xc) return 0;
    return (v >>> (8 * (offset & 3))) & (size === 4 ? 0xffffffff : (1 << (8 * size)) - 1);
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!this.globallyEnabled) return;
    if (size !== 4 || offset & 0xf) { this.stats.badAccesses++; return; }
    this.writeRegister(offset, value);
  }

  attach(bus: Bus, base = APIC_DEFAULT_BASE): void {
    bus.register({ space: 'mmio', base, length: 0x1000, width: 4, device: {
      name: 'local-apic',
      read: (o, s) => this.read(o, s),
      write: (o, s, v) => this.write(o, s, v),
    } });
  }

  state(): LocalApicState {
    return {
      id: this.id, tpr: this.tpr, ldr: this.ldr, dfr: this.dfr, svr: this.svr,
      irr: [...this.irr], isr: [...this.isr], tmr: [...this.tmr], esr: this.esr,
      esrPending: this.esrPending, icrLo: this.icrLo, icrHi: this.icrHi, lvt: [...this.lvt],
      initial: this.initial, divide: this.divide, loadNs: this.loadNs,
    };
  }

  static fromState(s: unknown, clock: VirtualClock, host: LocalApicHost): LocalApic {
    const p = 'apic';
    const o = obj(s, p);
    const a = new LocalApic(clock, host);
    const u32 = (k: string) => int(o, k, p, 0, 0xffffffff);
    a.id = u32('id') & 0xff000000;
    a.tpr = int(o, 'tpr', p, 0, 255);
    a.ldr = u32('ldr') & 0xff000000;
    a.dfr = (u32('dfr') | 0x0fffffff) >>> 0;
    a.svr = u32('svr') & SVR_WRITABLE;
    for (const k of ['irr', 'isr', 'tmr'] as const) {
      const arr = intArray(o, k, p, 0, 0xffffffff, 8);
      if (arr.length !== 8) throw new DeviceStateError(`${p}.${k}`, 'expected 8 words');
      a[k].set(arr);
    }
    a.esr = u32('esr') & 0xff;
    a.esrPending = u32('esrPending') & 0xff;
    a.icrLo = u32('icrLo') & ICR_WRITABLE;
    a.icrHi = u32('icrHi') & 0xff000000;
    const lvt = intArray(o, 'lvt', p, 0, 0xffffffff, 6);
    if (lvt.length !== 6) throw new DeviceStateError(`${p}.lvt`, 'expected 6 entries');
    lvt.forEach((v, i) => { a.lvt[i] = (v & (LVT_WRITABLE[i] | LVT_REMOTE_IRR)) >>> 0; });
    a.initial = u32('initial');
    a.divide = u32('divide') & 0xb;
    a.loadNs = int(o, 'loadNs', p, 0, clock.now);
    a.armTimer();
    return a;
  }
}
