/**
 * A virtual CPU: the exit loop, written once for every mode (KVM's vcpu_run with the
 * mode's kvm_x86_ops). It runs the guest through its mode, completes the exits that need
 * the platform (port and MMIO accesses through the device bus, HLT on the virtual clock),
 * and delivers the PIC's interrupts: injected when the guest can take them, else behind an
 * interrupt window.
 *
 * Time is virtual: the clock advances by the instructions the core executed, a run's
 * budget never passes the next timer deadline, and a halted CPU skips straight to the next
 * deadline. So two runs with the same inputs execute the same instructions, take the same
 * exits at the same points and print the same bytes.
 */
import type { Core, Exit } from '../core/types.js';
import type { Bus } from '../devices/bus.js';
import type { VirtualClock } from '../devices/clock.js';

/** The CPU's interrupt input: the 8259 pair's INTR, or the local APIC in front of it. */
export interface InterruptInput {
  readonly intr: boolean;
  /** The INTA cycle: the vector. */
  ack(): number;
  /** True once after an NMI was raised by a device (it wakes a halted CPU). */
  takeNmiWake?(): boolean;
  /** Gives back an acknowledged vector the CPU did not take (AMD APM vol. 2, 15.21). */
  unack?(vector: number): void;
}
import type { ModeOps, VmmStats } from './modes/ops.js';
import { bool, int, obj, DeviceStateError } from '../devices/state.js';

/** The exit reasons a snapshot's counters may name (the core's Exit reasons). */
const EXIT_REASONS = ['budget', 'io', 'mmio', 'hlt', 'irq-window', 'shutdown', 'invalid',
  'vmexit', 'debug', 'rdtsc'];

/** One port access: a byte, word or dword read or written. */
export interface IoAccess { port: number; write: boolean; size: 1 | 2 | 4; value: number }

/** Why a run ended. */
export type StopReason =
  | { kind: 'exit'; status: number }              // isa-debug-exit: status (v << 1) | 1
  | { kind: 'shutdown'; why: string }             // triple fault and the like
  | { kind: 'reset' }                             // the guest asked for a CPU reset
  | { kind: 'poweroff' }                          // the guest powered off (ACPI S5)
  | { kind: 'halted'; why: string }               // HLT with nothing that could ever wake it
  | { kind: 'limit' }                             // the instruction limit was reached
  | { kind: 'invalid'; why: string }              // the core cannot continue
  | { kind: 'debug' };                            // the instruction hook stopped the run

/** What the vCPU needs from the machine around it. */
export interface VcpuHost {
  readonly core: Core;
  readonly clock: VirtualClock;
  readonly pic: InterruptInput;
  readonly bus: Bus;
  /** COM1 input may still arrive: a halted CPU waiting only for it is not the end. */
  readonly inputOpen: boolean;
  /** Each port access as it completes (the CLI's --io-log). */
  readonly ioLog?: (access: IoAccess) => void;
  /** Gives queued COM1 input to the UART as its FIFO has room. */
  feedInput(): void;
  /** After each exit of the core: the CPU's output lines the platform follows (FERR#). */
  afterExit?(): void;
  /** Simulated time: what the guest's TSC read that exited ('rdtsc') reads. */
  simulatedTsc?(): bigint;
  /** Writes what the guest wrote to the disk images. */
  flush(): void;
}

/** Counters of the loop, for the machine's stats. */
export interface VcpuCounters {
  haltedNs: number;
  exits: Record<string, number>;
  ioPorts: Map<number, number>;
  interruptsInjected: number;
}

/** The loop's own state and counters, for a snapshot (plain JSON). */
export interface VcpuState {
  halted: boolean;
  work: number;
  haltedNs: number;
  injected: number;
  exits: Record<string, number>;
  /** [port, count] pairs. */
  ioPorts: [number, number][];
}

/** Timer events a halted CPU sleeps through with no interrupt before the run ends. */
/** Nanoseconds in a second, as a bigint for the halted-time TSC conversion. */
const NS_PER_S = 1_000_000_000n;
const MAX_SILENT_DEADLINES = 100_000;

/** Instructions per `run()` call when no timer bounds it (keeps the host responsive). */
const SLICE = 1_000_000;

export class VCpu {
  private stop: StopReason | null = null;
  private halted = false;
  private work = 0;
  private haltedNs = 0;
  /** Sub-instruction remainder of halted time (units of 1/ips ns), for the TSC. */
  private sleepRemainder = 0n;
  private injected = 0;
  private readonly exitCounts: Record<string, number> = {};
  private readonly portCounts = new Map<number, number>();
  private traceHook: (() => boolean | void) | undefined;
  /** The hook said stop before the next instruction (a debugger's breakpoint or step). */
  private debugStop = false;
  /** The current instruction exited for a port or MMIO access and runs again: not a new one. */
  private resuming = false;

  constructor(private readonly host: VcpuHost, readonly ops: ModeOps) {}

  /** Called before each instruction executes (see Machine.onInstruction). */
  get onInstruction(): (() => boolean | void) | undefined { return this.traceHook; }
  set onInstruction(hook: (() => boolean | void) | undefined) {
    this.traceHook = hook; // a new hook starts at the next instruction boundary
    this.resuming = false;
  }

  /** Ends the current run with `reason` (the first reason wins). */
  halt(reason: StopReason): void {
    if (!this.stop) this.stop = reason;
  }

  /** The CPU is in the HLT state, waiting for an interrupt. */
  get isHalted(): boolean { return this.halted; }

  /** An NMI left the HLT state (SDM vol. 3A, HLT: an NMI resumes it, whatever IF). */
  wake(): void { this.halted = false; }

  /** Work done so far: instructions retired, plus budget spent on deliveries that retire none. */
  get workDone(): number { return this.work; }

  /**
   * Runs until the guest stops, `maxInstructions` more have executed, or (while the CPU
   * is halted) virtual time reaches `untilNs`. Returns why it stopped; call again to
   * continue after 'limit'.
   */
  run(maxInstructions = Infinity, untilNs = Infinity): StopReason {
    this.stop = null;
    const { core, clock } = this.host;
    let left = maxInstructions;
    while (!this.stop) {
      if (left <= 0) return { kind: 'limit' };
      if (this.halted) {
        if (this.idle(untilNs)) continue;
        if (this.stop) break;
        return { kind: 'limit' };
      }
      this.deliverInterrupt();
      let budget = Math.min(SLICE, left, clock.instructionsUntilNextDeadline());
      if (this.traceHook) budget = Math.min(budget, 1);
      const before = core.instructions();
      const exit = this.traceHook ? this.runTraced(budget) : this.ops.run(budget);
      if (this.debugStop) {
        // Stopped before an instruction: nothing ran, nothing to account.
        this.debugStop = false;
        this.stop = { kind: 'debug' };
        break;
      }
      let ran = core.instructions() - before;
      // A guest can fault forever without retiring an instruction (a handler that faults
      // again, short of a double fault). The core spends its budget on those deliveries;
      // count it as work done, as time passes on a real CPU, so limits and timers hold.
      if (ran === 0 && exit.reason === 'budget') ran = budget;
      left -= ran;
      this.work += ran;
      clock.advanceInstructions(ran);
      // The CPU's output lines first: a port access sees the platform as it is.
      this.host.afterExit?.();
      // A guest hypervisor's INTR intercept gave the acknowledged interrupt back untaken:
      // it is pending at the PIC again (AMD APM vol. 2, 15.21). (Under vtx/svm the latch
      // only ever holds the VMM's kick, which is no PIC vector.)
      const back = core.takeReturnedInterrupt();
      if (back >= 0 && this.ops.mode === 'native') this.host.pic.unack?.(back);
      this.handleExit(exit);
      this.host.feedInput();
    }
    // Whatever the guest wrote reaches the disk images, however the run ended.
    this.host.flush();
    return this.stop;
  }

  /**
   * One instruction for the trace hook. The events due at the boundary are taken first
   * (a core run of budget 0 executes nothing else), so the hook sees the instruction that
   * runs: an interrupt handler's first, not the one it interrupted. An instruction resumed
   * after a port or MMIO exit is the same instruction and is not reported again.
   */
  private runTraced(budget: number): Exit {
    if (budget < 1) return this.ops.run(budget);
    if (!this.resuming) {
      const first = this.ops.run(0);
      if (first.reason !== 'budget') return first;
      if (this.traceHook?.() === false) {
        this.debugStop = true;
        return first;
      }
    }
    const exit = this.ops.run(1);
    this.resuming = exit.reason === 'io' || exit.reason === 'mmio' || exit.reason === 'rdtsc';
    return exit;
  }

  /** The PIC's INTR to the CPU: injected when the CPU can take it, else a window is asked. */
  private deliverInterrupt(): void {
    const { pic } = this.host;
    if (!pic.intr) return;
    if (this.ops.canInjectInterrupt()) {
      this.ops.requestInterruptWindow(false);
      this.ops.injectInterrupt(pic.ack());
      this.injected++;
    } else {
      this.ops.requestInterruptWindow(true);
    }
  }

  /** One exit of the core, completed (the switch on the exit reason of a VMM's loop). */
  private handleExit(exit: Exit): void {
    this.exitCounts[exit.reason] = (this.exitCounts[exit.reason] ?? 0) + 1;
    switch (exit.reason) {
      case 'io':
      case 'mmio': {
        if (exit.reason === 'io') {
          this.portCounts.set(exit.port, (this.portCounts.get(exit.port) ?? 0) + 1);
        }
        const v = this.host.bus.handleExit(exit);
        if (exit.reason === 'io' && this.host.ioLog) logIo(this.host.ioLog, exit, v);
        if (v !== undefined && !this.ops.completeIo?.(v)) this.host.core.completeIo(v);
        return;
      }
      case 'hlt':
        this.halted = true;
        return;
      case 'irq-window':
      case 'budget':
        return;
      case 'shutdown':
        this.halt({ kind: 'shutdown', why: exit.why });
        return;
      case 'invalid':
        this.halt({ kind: 'invalid', why: exit.why });
        return;
      case 'vmexit': // a VM exit the mode completed itself
        return;
      case 'debug': // a host debugger's breakpoint: the instruction has not run
        this.halt({ kind: 'debug' });
        return;
      case 'rdtsc': // simulated time: the instruction runs again with the answer
        this.host.core.completeTsc(this.host.simulatedTsc?.() ?? 0n);
        return;
    }
  }

  /**
   * The HLT state (SDM vol. 3A, 9.x and the HLT instruction page: only an interrupt, NMI,
   * SMI, INIT or reset resumes it). Virtual time jumps from timer deadline to timer
   * deadline until one raises an interrupt; returns true when the CPU wakes. It returns
   * false (still halted) when time reaches `untilNs` or when only input from the host can
   * wake it and input may still come (`inputOpen`). With interrupts disabled, or with
   * nothing left that could ever raise one, the run ends.
   */
  private idle(untilNs: number): boolean {
    const { pic, clock } = this.host;
    if (!this.ops.interruptsEnabled()) {
      this.halt({ kind: 'halted', why: 'HLT with interrupts disabled' });
      return false;
    }
    for (let skipped = 0; ; skipped++) {
      if (pic.intr || pic.takeNmiWake?.()) { this.halted = false; return true; }
      const deadline = clock.nextDeadline();
      if (deadline < 0 || deadline > untilNs) {
        if (Number.isFinite(untilNs) && untilNs > clock.now) {
          this.sleep(untilNs);
        }
        if (deadline >= 0 || this.host.inputOpen) return false;
        this.halt({ kind: 'halted', why: 'HLT with no timer armed and no input to come' });
        return false;
      }
      // Timers that fire without raising an interrupt (a PIT OUT falling edge, a masked
      // line) do not wake the CPU. A guest asleep behind masked lines forever ends here
      // rather than holding the host.
      if (skipped >= MAX_SILENT_DEADLINES && !this.host.inputOpen) {
        const why = `HLT: ${MAX_SILENT_DEADLINES} timer events passed and none raised an interrupt`;
        this.halt({ kind: 'halted', why });
        return false;
      }
      this.sleep(deadline);
    }
  }

  /** Halted until `ns`: the clock and the TSC (which counts on through HLT) advance. */
  private sleep(ns: number): void {
    const { clock, core } = this.host;
    const dt = ns - clock.now;
    this.haltedNs += dt;
    // ns to instruction-times at the clock's rate, the remainder carried (exact over time).
    const total = BigInt(dt) * BigInt(clock.instructionsPerSecond) + this.sleepRemainder;
    this.sleepRemainder = total % NS_PER_S;
    core.idleTsc(Number(total / NS_PER_S));
    clock.advanceTo(ns);
  }

  counters(): VcpuCounters {
    return {
      haltedNs: this.haltedNs, exits: { ...this.exitCounts }, ioPorts: new Map(this.portCounts),
      interruptsInjected: this.injected,
    };
  }

  /** The loop's state (halted or not) and counters; see VcpuState. */
  state(): VcpuState {
    return {
      halted: this.halted, work: this.work, haltedNs: this.haltedNs, injected: this.injected,
      exits: { ...this.exitCounts }, ioPorts: [...this.portCounts],
    };
  }

  /** Takes a snapshot's loop state; every field is checked (a file may lie). */
  restore(s: unknown): void {
    const big = Number.MAX_SAFE_INTEGER;
    const o = obj(s, 'vcpu');
    this.halted = bool(o, 'halted', 'vcpu');
    this.work = int(o, 'work', 'vcpu', 0, big);
    this.haltedNs = int(o, 'haltedNs', 'vcpu', 0, big);
    this.injected = int(o, 'injected', 'vcpu', 0, big);
    const exits = obj(o.exits, 'vcpu.exits');
    for (const k of Object.keys(this.exitCounts)) delete this.exitCounts[k];
    for (const k of Object.keys(exits)) {
      if (!EXIT_REASONS.includes(k)) throw new DeviceStateError('vcpu.exits', `unknown exit ${k}`);
      this.exitCounts[k] = int(exits, k, 'vcpu.exits', 0, big);
    }
    const ports = o.ioPorts;
    if (!Array.isArray(ports) || ports.length > 0x10000) {
      throw new DeviceStateError('vcpu.ioPorts', 'expected an array of [port, count] pairs');
    }
    this.portCounts.clear();
    ports.forEach((pc: unknown, i) => {
      const pair = { port: Array.isArray(pc) ? pc[0] : undefined,
        count: Array.isArray(pc) ? pc[1] : undefined };
      this.portCounts.set(int(pair, 'port', `vcpu.ioPorts[${i}]`, 0, 0xffff),
        int(pair, 'count', `vcpu.ioPorts[${i}]`, 0, big));
    });
    this.stop = null;
    this.resuming = false;
  }

  /** The mode's counters (vtx, svm); undefined in native mode. */
  vmmStats(): VmmStats | undefined { return this.ops.stats(); }
}

/** Reports a completed port exit access by access (a string I/O exit element by element). */
function logIo(log: (a: IoAccess) => void, exit: Extract<Exit, { reason: 'io' }>,
  read: number | undefined): void {
  if (!exit.data || !exit.count) {
    const value = exit.write ? exit.value : read! >>> 0;
    log({ port: exit.port, write: exit.write, size: exit.size, value });
    return;
  }
  const dv = new DataView(exit.data.buffer, exit.data.byteOffset, exit.data.byteLength);
  for (let i = 0; i < exit.count; i++) {
    const at = i * exit.size;
    const value = exit.size === 1 ? dv.getUint8(at)
      : exit.size === 2 ? dv.getUint16(at, true) : dv.getUint32(at, true);
    log({ port: exit.port, write: exit.write, size: exit.size, value });
  }
}
