/**
 * A PC: the core, the bus and the devices, the virtual clock, and the loop that runs the
 * core and completes its exits (the part of a VMM that KVM leaves to user space).
 *
 * Time is virtual: the clock advances by the instructions the core executed, the core's
 * budget never runs past the next timer deadline, and a halted CPU skips straight to the
 * next deadline. So two runs with the same inputs execute the same instructions, take the
 * same exits at the same points and print the same bytes.
 */
import type { Core, CoreCounters, Exit } from '../core/types.js';
import { createCore } from '../core/index.js';
import type { BlockDevice } from '../disk/types.js';
import { Bus, type BusCounters } from '../devices/bus.js';
import { VirtualClock } from '../devices/clock.js';
import { PicPair } from '../devices/pic-pair.js';
import { Pit } from '../devices/pit.js';
import { Port61 } from '../devices/port61.js';
import { Rtc } from '../devices/rtc.js';
import { COM1, Uart16550 } from '../devices/uart16550.js';
import { DebugCon, DebugExit, PostPort } from '../devices/debug-ports.js';
import { I8042 } from '../devices/i8042.js';
import { VgaText, type Cursor } from '../devices/vga.js';
import { attachChipset, type Chipset } from '../devices/pc-chipset.js';
import { planMultiboot, applyMultiboot, type MultibootModule } from '../boot/multiboot.js';
import { planFirmware } from './firmware.js';

export interface MachineConfig {
  /** Guest RAM in bytes (a multiple of 4 KiB, at least 2 MiB). */
  ramBytes: number;
  /** The core's wasm (bytes or a URL); Node finds the packaged one, a browser must give it. */
  wasm?: BufferSource | URL;
  /** A Multiboot kernel to boot directly (QEMU's -kernel). */
  kernel?: Uint8Array;
  /** The kernel's command line. */
  cmdline?: string;
  /** Multiboot modules (QEMU's -initrd). */
  modules?: MultibootModule[];
  /** A firmware image (QEMU's -bios). Without a kernel, the machine starts from it. */
  firmware?: Uint8Array;
  /**
   * The IDE disks in QEMU's `-drive if=ide,index=N` order: primary master, primary slave,
   * secondary master, secondary slave.
   */
  disks?: (BlockDevice | undefined)[];
  /** Bytes the guest writes to COM1. */
  serialOut?: (byte: number) => void;
  /** Bytes the guest writes to the 0xE9 debug console. */
  debugcon?: (byte: number) => void;
  /** Instructions per virtual second (default 100 million). */
  instructionsPerSecond?: number;
  /** The RTC's time at virtual time 0, Unix ms (default 2000-01-01T00:00:00Z: runs repeat). */
  startTime?: number;
  /** REP INS/OUTS exit once per run of elements within a page, as KVM does (default true);
   *  false: one exit per element, as a VMM without string I/O support. */
  stringIo?: boolean;
  /** The CPU's optional features: `vmx` gives it VMX (Core.setVmx), `svm` AMD-V
   *  (Core.setSvm); a CPU is one vendor, never both. Off by default. */
  cpu?: { vmx?: boolean; svm?: boolean };
  /** Each port access as it completes, in order (the CLI's --io-log). A string I/O exit
   *  gives one call per element. Costs one test per exit when absent. */
  ioLog?: (access: IoAccess) => void;
}

/** One port access: a byte, word or dword read or written. */
export interface IoAccess { port: number; write: boolean; size: 1 | 2 | 4; value: number }

/** A POST code, with the port it was written to (0x80 or 0x190). */
export interface PostCode { port: number; code: number }

/** Why a run ended. */
export type StopReason =
  | { kind: 'exit'; status: number }              // isa-debug-exit: status (v << 1) | 1
  | { kind: 'shutdown'; why: string }             // triple fault and the like
  | { kind: 'reset' }                             // the guest asked for a CPU reset
  | { kind: 'poweroff' }                          // the guest powered off (ACPI S5)
  | { kind: 'halted'; why: string }               // HLT with nothing that could ever wake it
  | { kind: 'limit' }                             // the instruction limit was reached
  | { kind: 'invalid'; why: string };             // the core cannot continue

export interface MachineStats {
  instructions: number;
  virtualNs: number;
  haltedNs: number;
  exits: Record<string, number>;
  ioPorts: Record<string, number>;
  interruptsInjected: number;
  /** The last POST codes written to ports 0x80 and 0x190, oldest first (at most 256). */
  postCodes: PostCode[];
  /** POST codes written before those (dropped to keep the list bounded). */
  postCodesDropped: number;
  core: CoreCounters;
  bus: BusCounters;
}

/** Timer events a halted CPU sleeps through with no interrupt before the run ends. */
const MAX_SILENT_DEADLINES = 100_000;

/** PAM0, the first of the i440FX's seven PAM registers (82441FX datasheet, 3.2.x). */
const PAM0 = 0x59;

/** Instructions per `run()` call when no timer bounds it (keeps the host responsive). */
const SLICE = 1_000_000;

/** How many POST codes the machine keeps for its stats (the most recent). */
const POST_CODES_KEPT = 256;

export class Machine {
  readonly clock: VirtualClock;
  readonly bus = new Bus();
  readonly pic = new PicPair();
  readonly pit: Pit;
  readonly rtc: Rtc;
  readonly uart: Uart16550;
  readonly post = new PostPort();
  /** The second POST code port some boards and firmware use. */
  readonly post190 = new PostPort(0x190);
  /**
   * Called before each instruction executes, once the interrupts and exceptions due at
   * that boundary are taken (the CLI's --trace); the machine then runs one instruction per
   * core call, so set it only while tracing and clear it after.
   */
  get onInstruction(): (() => void) | undefined { return this.traceHook; }
  set onInstruction(hook: (() => void) | undefined) {
    this.traceHook = hook; // a new hook starts at the next instruction boundary
    this.resuming = false;
  }
  private traceHook: (() => void) | undefined;
  /** The current instruction exited for a port or MMIO access and runs again: not a new one. */
  private resuming = false;
  private readonly postCodes: PostCode[] = [];
  private postCodesSeen = 0;
  readonly i8042: I8042;
  readonly chipset: Chipset;
  /** The VGA's text mode: CRTC registers and the screen in the buffer at 0xB8000. */
  readonly vga: VgaText;
  private stop: StopReason | null = null;
  private halted = false;
  private work = 0;
  /**
   * COM1 input may still arrive (a terminal or an open pipe is attached): a halted CPU
   * waiting only for it is not the end of the run. The host clears it at end of input.
   */
  inputOpen = false;
  private haltedNs = 0;
  private injected = 0;
  private readonly exitCounts: Record<string, number> = {};
  private readonly portCounts = new Map<number, number>();
  private pendingInput: number[] = [];

  private constructor(readonly core: Core, readonly config: MachineConfig) {
    this.clock = new VirtualClock(config.instructionsPerSecond);
    this.pit = new Pit(this.clock, this.pic.line(0));
    const { startTime, ramBytes } = config;
    this.rtc = new Rtc(this.clock, this.pic.line(8), { startTime, ramBytes });
    const serialOut = config.serialOut ?? (() => {});
    const com1Irq = this.pic.line(COM1.irq);
    this.uart = new Uart16550(this.clock, com1Irq, serialOut, { out2GatesIrq: true });
    this.pic.attach(this.bus);
    this.pit.attach(this.bus);
    new Port61(this.pit).attach(this.bus);
    this.rtc.attach(this.bus);
    this.uart.attach(this.bus, COM1.base);
    this.post.attach(this.bus);
    this.post190.attach(this.bus);
    for (const p of [this.post, this.post190]) p.onWrite = (code) => this.recordPost(p.port, code);
    // A CPU reset (i8042 command 0xFE, port 0x92) ends the run, as QEMU -no-reboot does.
    this.i8042 = new I8042(this.pic.line(1), this.pic.line(12), {
      onReset: () => this.halt({ kind: 'reset' }),
      onA20: (on) => this.core.setA20(on),
    });
    this.i8042.attach(this.bus);
    this.vga = new VgaText((addr, length) => this.core.readPhys(addr, length));
    this.vga.attach(this.bus);
    this.chipset = attachChipset(this.bus, this.pic, {
      disks: config.disks, onReset: () => this.halt({ kind: 'reset' }),
      onPowerOff: () => this.halt({ kind: 'poweroff' }),
      now: () => this.clock.now,
      dma: { read: (a, dst) => this.dmaRead(a, dst), write: (a, src) => this.dmaWrite(a, src) },
    });
    this.chipset.hostBridge.onConfigWrite = (o) => {
      if (o >= PAM0 && o <= PAM0 + 6) this.applyPam(o);
    };
    // PCI memory BARs the guest places exit to the bus.
    this.bus.onMmioRegistered = (base, length) => this.core.addMmio(base, length);
    new DebugExit((status) => this.halt({ kind: 'exit', status })).attach(this.bus);
    new DebugCon(config.debugcon ?? (() => {})).attach(this.bus);
    this.pic.powerOn();
  }

  static async create(config: MachineConfig): Promise<Machine> {
    checkConfig(config);
    const core = await createCore({ ramBytes: config.ramBytes, wasm: config.wasm });
    core.setStringIo(config.stringIo ?? true);
    core.setVmx(config.cpu?.vmx ?? false);
    core.setSvm(config.cpu?.svm ?? false);
    const m = new Machine(core, config);
    m.boot();
    return m;
  }

  /** Puts the CPU at its start: the kernel's entry, or the firmware's reset vector. */
  private boot(): void {
    const { core, config } = this;
    core.reset();
    core.setA20(this.i8042.a20Enabled);
    if (config.firmware) {
      for (const r of planFirmware(config.firmware)) core.mapRom(r.address, r.data);
    }
    if (config.kernel) {
      const plan = planMultiboot(config.kernel, {
        ramBytes: config.ramBytes, cmdline: config.cmdline, modules: config.modules,
      });
      applyMultiboot(core, plan);
      // QEMU -kernel runs SeaBIOS before the kernel, and SeaBIOS programs the PM function
      // (PMBA 0x600, enabled): a kernel booted directly finds the machine in that state.
      this.chipset.pm.programAsSeaBios();
    } else if (!config.firmware) {
      throw new RangeError('nothing to boot: give a kernel or a firmware image');
    }
  }

  /**
   * A PAM register of the i440FX (82441FX datasheet, 3.2.x "PAM0-PAM6"): two 2-bit fields
   * (bits 1:0 and 5:4), each RE (bit 0: reads from DRAM) and WE (bit 1: writes to DRAM) for
   * one region. PAM0 bits 5:4 cover 0xF0000-0xFFFFF; PAMn (n = 1..6) cover the 16 KiB
   * regions 0xC0000 + (n - 1) * 0x8000 and the one after it. Write-only (WE without RE) is
   * run as the bus: the firmware reads its ROM, and its writes there are lost.
   */
  private applyPam(offset: number): void {
    const v = this.chipset.hostBridge.readConfig(offset, 1);
    type Mode = 'ram' | 'ram-ro' | 'rom';
    const mode = (f: number) => (f === 3 ? 'ram' : f === 1 ? 'ram-ro' : 'rom') as Mode;
    if (offset === PAM0) {
      this.core.setShadow(0xf0000, mode((v >> 4) & 3));
      return;
    }
    const base = 0xc0000 + (offset - PAM0 - 1) * 0x8000;
    this.core.setShadow(base, mode(v & 3));
    this.core.setShadow(base + 0x4000, mode((v >> 4) & 3));
  }

  /**
   * Bus-master DMA into guest RAM. A device may be pointed anywhere by the guest: the part
   * of a transfer outside RAM reads as all ones and its writes are dropped, as on a bus
   * where nothing answers.
   */
  private dmaRead(addr: number, dst: Uint8Array): void {
    const inRam = Math.max(0, Math.min(dst.length, this.config.ramBytes - addr));
    if (inRam > 0) dst.set(this.core.readPhys(addr, inRam));
    dst.fill(0xff, inRam);
  }

  private dmaWrite(addr: number, src: Uint8Array): void {
    const inRam = Math.max(0, Math.min(src.length, this.config.ramBytes - addr));
    if (inRam > 0) this.core.writePhys(addr, src.subarray(0, inRam));
  }

  /** Ends the current run with `reason` (the first reason wins). */
  halt(reason: StopReason): void {
    if (!this.stop) this.stop = reason;
  }

  /** Bytes for COM1's receiver; they enter as the guest's FIFO has room. */
  input(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.pendingInput.push(bytes[i] & 0xff);
    this.feedInput();
  }

  private feedInput(): void {
    if (this.pendingInput.length === 0) return;
    const n = this.uart.receive(this.pendingInput);
    if (n) this.pendingInput.splice(0, n);
  }

  /**
   * Runs until the guest stops, `maxInstructions` more have executed, or (while the CPU
   * is halted) virtual time reaches `untilNs`. Returns why it stopped; call again to
   * continue after 'limit'.
   */
  run(maxInstructions = Infinity, untilNs = Infinity): StopReason {
    this.stop = null;
    const core = this.core;
    let left = maxInstructions;
    while (!this.stop) {
      if (left <= 0) return { kind: 'limit' };
      if (this.halted) {
        if (this.idle(untilNs)) continue;
        if (this.stop) break;
        return { kind: 'limit' };
      }
      this.deliverInterrupt();
      let budget = Math.min(SLICE, left, this.clock.instructionsUntilNextDeadline());
      if (this.traceHook) budget = Math.min(budget, 1);
      const before = this.instructionCount();
      const exit = this.traceHook ? this.runTraced(budget) : core.run(budget);
      let ran = this.instructionCount() - before;
      // A guest can fault forever without retiring an instruction (a handler that faults
      // again, short of a double fault). The core spends its budget on those deliveries;
      // count it as work done, as time passes on a real CPU, so limits and timers hold.
      if (ran === 0 && exit.reason === 'budget') ran = budget;
      left -= ran;
      this.work += ran;
      this.clock.advanceInstructions(ran);
      this.handleExit(exit);
      this.feedInput();
    }
    // Whatever the guest wrote reaches the disk images, however the run ended.
    this.chipset.flush();
    return this.stop;
  }

  /**
   * One instruction for the trace hook. The events due at the boundary are taken first
   * (a core run of budget 0 executes nothing else), so the hook sees the instruction that
   * runs: an interrupt handler's first, not the one it interrupted. An instruction resumed
   * after a port or MMIO exit is the same instruction and is not reported again.
   */
  private runTraced(budget: number): Exit {
    if (budget < 1) return this.core.run(budget);
    if (!this.resuming) {
      const first = this.core.run(0);
      if (first.reason !== 'budget') return first;
      this.traceHook?.();
    }
    const exit = this.core.run(1);
    this.resuming = exit.reason === 'io' || exit.reason === 'mmio';
    return exit;
  }

  /** POST codes kept as a ring: entry `postCodesSeen % POST_CODES_KEPT` is the oldest when full. */
  private recordPost(port: number, code: number): void {
    this.postCodes[this.postCodesSeen++ % POST_CODES_KEPT] = { port, code };
  }

  /** The VGA text screen (80x25 in mode 3): one line per row, trailing blanks dropped. */
  screenText(): string { return this.vga.screenText(); }

  /** Where the VGA's cursor is on the screen, and its shape (CRTC registers 0Ah/0Bh, 0Eh/0Fh). */
  screenCursor(): Cursor { return this.vga.cursor(); }

  /** The CPU is in the HLT state, waiting for an interrupt. */
  get isHalted(): boolean { return this.halted; }

  /** Work done so far: instructions retired, plus budget spent on deliveries that retire none. */
  get workDone(): number { return this.work; }

  private instructionCount(): number {
    return this.core.instructions();
  }

  /** The PIC's INTR to the CPU: injected when the CPU can take it, else a window is asked. */
  private deliverInterrupt(): void {
    if (!this.pic.intr) return;
    if (this.core.canInjectInterrupt()) {
      this.core.requestInterruptWindow(false);
      this.core.injectInterrupt(this.pic.ack());
      this.injected++;
    } else {
      this.core.requestInterruptWindow(true);
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
        const v = this.bus.handleExit(exit);
        if (exit.reason === 'io' && this.config.ioLog) logIo(this.config.ioLog, exit, v);
        if (v !== undefined) this.core.completeIo(v);
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
    if (!(this.core.getRegs().eflags & 0x200)) {
      this.halt({ kind: 'halted', why: 'HLT with interrupts disabled' });
      return false;
    }
    for (let skipped = 0; ; skipped++) {
      if (this.pic.intr) { this.halted = false; return true; }
      const deadline = this.clock.nextDeadline();
      if (deadline < 0 || deadline > untilNs) {
        if (Number.isFinite(untilNs) && untilNs > this.clock.now) {
          this.haltedNs += untilNs - this.clock.now;
          this.clock.advanceTo(untilNs);
        }
        if (deadline >= 0 || this.inputOpen) return false;
        this.halt({ kind: 'halted', why: 'HLT with no timer armed and no input to come' });
        return false;
      }
      // Timers that fire without raising an interrupt (a PIT OUT falling edge, a masked
      // line) do not wake the CPU. A guest asleep behind masked lines forever ends here
      // rather than holding the host.
      if (skipped >= MAX_SILENT_DEADLINES && !this.inputOpen) {
        const why = `HLT: ${MAX_SILENT_DEADLINES} timer events passed and none raised an interrupt`;
        this.halt({ kind: 'halted', why });
        return false;
      }
      this.haltedNs += deadline - this.clock.now;
      this.clock.advanceTo(deadline);
    }
  }

  private postCodesInOrder(): PostCode[] {
    const n = this.postCodes.length, first = this.postCodesSeen % n || 0;
    return n < POST_CODES_KEPT ? this.postCodes.map((p) => ({ ...p }))
      : [...this.postCodes.slice(first), ...this.postCodes.slice(0, first)].map((p) => ({ ...p }));
  }

  stats(): MachineStats {
    const ioPorts: Record<string, number> = {};
    for (const [p, n] of [...this.portCounts].sort((a, b) => a[0] - b[0])) {
      ioPorts['0x' + p.toString(16).padStart(4, '0')] = n;
    }
    const core = this.core.counters();
    return {
      instructions: core.instructions,
      virtualNs: this.clock.now,
      haltedNs: this.haltedNs,
      exits: { ...this.exitCounts },
      ioPorts,
      interruptsInjected: this.injected,
      postCodes: this.postCodesInOrder(),
      postCodesDropped: this.postCodesSeen - this.postCodes.length,
      core,
      bus: { ...this.bus.counters },
    };
  }
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

function checkConfig(c: MachineConfig): void {
  if (!Number.isInteger(c.ramBytes) || c.ramBytes < 2 << 20 || c.ramBytes % 4096 !== 0) {
    throw new RangeError(
      `memory must be a multiple of 4 KiB and at least 2 MiB, got ${c.ramBytes} bytes`);
  }
  if (c.ramBytes > 3 * 2 ** 30) {
    throw new RangeError(`memory of ${c.ramBytes} bytes is more than the 3 GiB below the PCI hole`);
  }
  for (const k of Object.keys(c.cpu ?? {})) {
    if (k !== 'vmx' && k !== 'svm') {
      throw new RangeError(`cpu.${k}: unknown CPU option (known: vmx, svm)`);
    }
  }
  if (c.cpu?.vmx && c.cpu?.svm) throw new RangeError('cpu: vmx and svm are two vendors, pick one');
  if ((c.disks?.length ?? 0) > 4) {
    throw new RangeError('at most four IDE disks (primary and secondary, master and slave)');
  }
}
