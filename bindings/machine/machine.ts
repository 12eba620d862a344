/**
 * A PC: the core, the bus and the devices, the virtual clock, and the loop that runs the
 * core and completes its exits (the part of a VMM that KVM leaves to user space).
 *
 * Time is virtual: the clock advances by the instructions the core executed, the core's
 * budget never runs past the next timer deadline, and a halted CPU skips straight to the
 * next deadline. So two runs with the same inputs execute the same instructions, take the
 * same exits at the same points and print the same bytes.
 */
import type { Core, CoreCounters } from '../core/types.js';
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
import { FpuIrq, FPU_IRQ } from '../devices/fpu-irq.js';
import { attachChipset, type Chipset } from '../devices/pc-chipset.js';
import { planMultiboot, applyMultiboot, type MultibootModule } from '../boot/multiboot.js';
import { planFirmware } from './firmware.js';
import { planLinux, applyLinux, isLinuxKernel } from '../boot/linux.js';
import { VCpu, type VcpuHost, type IoAccess, type StopReason } from '../vmm/vcpu.js';
import { resolveVmmOptions, type VmmOptions, type ResolvedVmmOptions } from '../vmm/options.js';
import { NativeOps } from '../vmm/modes/native.js';
import type { ModeOps, VmmStats } from '../vmm/modes/ops.js';
import { createHardwareOps } from '../vmm/modes/index.js';

export type { IoAccess, StopReason } from '../vmm/vcpu.js';

export interface MachineConfig extends VmmOptions {
  /** Guest RAM in bytes (a multiple of 4 KiB, at least 2 MiB). */
  ramBytes: number;
  /** The core's wasm (bytes or a URL); Node finds the packaged one, a browser must give it. */
  wasm?: BufferSource | URL;
  /**
   * A kernel to boot directly (QEMU's -kernel): a Linux bzImage (boot protocol 2.02+,
   * started at its 32-bit entry) or a Multiboot kernel, chosen by what the file is.
   */
  kernel?: Uint8Array;
  /** The kernel's command line. */
  cmdline?: string;
  /** A Linux kernel's initrd / initramfs (QEMU's -initrd with a Linux kernel). */
  initrd?: Uint8Array;
  /** Multiboot modules (QEMU's -initrd with a Multiboot kernel). */
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

/** A POST code, with the port it was written to (0x80 or 0x190). */
export interface PostCode { port: number; code: number }

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
  /** How the VM is virtualized, and in mode vtx or svm the VMM's counters. */
  mode: ResolvedVmmOptions['mode'];
  vmm?: VmmStats;
}

/** PAM0, the first of the i440FX's seven PAM registers (82441FX datasheet, 3.2.x). */
const PAM0 = 0x59;

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
  get onInstruction(): (() => void) | undefined { return this.cpu.onInstruction; }
  set onInstruction(hook: (() => void) | undefined) { this.cpu.onInstruction = hook; }
  private readonly postCodes: PostCode[] = [];
  private postCodesSeen = 0;
  readonly i8042: I8042;
  readonly chipset: Chipset;
  /** FERR# to IRQ 13 and port 0xF0 (the PC/AT's coprocessor error latch). */
  readonly fpuIrq: FpuIrq;
  /** The VGA's text mode: CRTC registers and the screen in the buffer at 0xB8000. */
  readonly vga: VgaText;
  /** The machine's one vCPU: the exit loop, in the machine's mode. */
  get vcpu(): VCpu { return this.cpu; }
  private cpu: VCpu;
  /** The virtualization options, defaults filled in. */
  readonly vmmOptions: ResolvedVmmOptions;
  /**
   * COM1 input may still arrive (a terminal or an open pipe is attached): a halted CPU
   * waiting only for it is not the end of the run. The host clears it at end of input.
   */
  inputOpen = false;
  private pendingInput: number[] = [];

  private constructor(readonly core: Core, readonly config: MachineConfig,
    vmm: ResolvedVmmOptions) {
    this.vmmOptions = vmm;
    this.cpu = new VCpu(this.vcpuHost(), new NativeOps(core));
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
    this.fpuIrq = new FpuIrq(this.pic.line(FPU_IRQ), () => this.core.ferr());
    this.fpuIrq.attach(this.bus);
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
    const vmm = resolveVmmOptions(config, !!(config.cpu?.vmx || config.cpu?.svm));
    const core = await createCore({ ramBytes: config.ramBytes, wasm: config.wasm });
    core.setStringIo(config.stringIo ?? true);
    core.setVmx(config.cpu?.vmx ?? false);
    core.setSvm(config.cpu?.svm ?? false);
    const m = new Machine(core, config, vmm);
    m.boot();
    // vtx/svm: the VMM builds its VMCS or VMCB from the state the boot left.
    if (vmm.mode !== 'native') m.useMode(createHardwareOps(core, vmm));
    return m;
  }

  /** The vCPU's view of this machine. */
  private vcpuHost(): VcpuHost {
    const m = this;
    return {
      get core() { return m.core; }, get clock() { return m.clock; },
      get pic() { return m.pic; }, get bus() { return m.bus; },
      get inputOpen() { return m.inputOpen; }, ioLog: this.config.ioLog,
      feedInput: () => m.feedInput(), flush: () => m.chipset.flush(),
      afterExit: () => m.fpuIrq.update(),
    };
  }

  private useMode(ops: ModeOps): void {
    const hook = this.cpu.onInstruction;
    this.cpu = new VCpu(this.vcpuHost(), ops);
    this.cpu.onInstruction = hook;
  }

  /** Puts the CPU at its start: the kernel's entry, or the firmware's reset vector. */
  private boot(): void {
    const { core, config } = this;
    core.reset();
    core.setA20(this.i8042.a20Enabled);
    if (config.firmware) {
      for (const r of planFirmware(config.firmware)) core.mapRom(r.address, r.data);
    }
    if (config.kernel && isLinuxKernel(config.kernel)) {
      if (config.modules?.length)
        throw new RangeError('a Linux kernel takes one initrd, not Multiboot modules');
      applyLinux(core, planLinux(config.kernel, {
        ramBytes: config.ramBytes, cmdline: config.cmdline, initrd: config.initrd,
      }));
      // As after SeaBIOS under QEMU -kernel (below).
      this.chipset.pm.programAsSeaBios();
    } else if (config.kernel) {
      if (config.initrd)
        throw new RangeError('a Multiboot kernel takes modules, not an initrd');
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
  halt(reason: StopReason): void { this.cpu.halt(reason); }

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
    return this.cpu.run(maxInstructions, untilNs);
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
  get isHalted(): boolean { return this.cpu.isHalted; }

  /** Work done so far: instructions retired, plus budget spent on deliveries that retire none. */
  get workDone(): number { return this.cpu.workDone; }

  private postCodesInOrder(): PostCode[] {
    const n = this.postCodes.length, first = this.postCodesSeen % n || 0;
    return n < POST_CODES_KEPT ? this.postCodes.map((p) => ({ ...p }))
      : [...this.postCodes.slice(first), ...this.postCodes.slice(0, first)].map((p) => ({ ...p }));
  }

  stats(): MachineStats {
    const ioPorts: Record<string, number> = {};
    const loop = this.cpu.counters();
    for (const [p, n] of [...loop.ioPorts].sort((a, b) => a[0] - b[0])) {
      ioPorts['0x' + p.toString(16).padStart(4, '0')] = n;
    }
    const core = this.core.counters();
    const vmm = this.cpu.vmmStats();
    return {
      instructions: core.instructions,
      virtualNs: this.clock.now,
      haltedNs: loop.haltedNs,
      exits: loop.exits,
      ioPorts,
      interruptsInjected: loop.interruptsInjected,
      postCodes: this.postCodesInOrder(),
      postCodesDropped: this.postCodesSeen - this.postCodes.length,
      core,
      bus: { ...this.bus.counters },
      mode: this.vmmOptions.mode,
      ...(vmm ? { vmm } : {}),
    };
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
