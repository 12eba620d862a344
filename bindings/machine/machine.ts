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
import { int, intArray, obj, DeviceStateError } from '../devices/state.js';
import { VirtualClock } from '../devices/clock.js';
import { PicPair } from '../devices/pic-pair.js';
import { Pit } from '../devices/pit.js';
import { Port61 } from '../devices/port61.js';
import { Rtc } from '../devices/rtc.js';
import { COM1, Uart16550 } from '../devices/uart16550.js';
import { DebugCon, DebugExit, PostPort } from '../devices/debug-ports.js';
import { VmwareBackdoor, type BackdoorCounters } from '../devices/vmware-backdoor.js';
import { I8042 } from '../devices/i8042.js';
import { VgaText, type Cursor } from '../devices/vga.js';
import { FpuIrq, FPU_IRQ } from '../devices/fpu-irq.js';
import { attachChipset, type Chipset } from '../devices/pc-chipset.js';
import { LocalApic, type ApicStats } from '../devices/apic/local-apic.js';
import { IoApic, type IoApicStats } from '../devices/apic/io-apic.js';
import { writePlatformTables } from '../devices/apic/tables.js';
import { EduDevice } from '../devices/pci/edu.js';
import { apicMsiSink, type MsiRouteStats } from '../devices/pci/msi.js';
import { PIIX4_SCI_IRQ } from '../devices/pci/piix4-pm.js';
import { planMultiboot, applyMultiboot, type MultibootModule } from '../boot/multiboot.js';
import { planFirmware } from './firmware.js';
import { planLinux, applyLinux, isLinuxKernel } from '../boot/linux.js';
import {
  VCpu, type VcpuHost, type IoAccess, type StopReason, type VcpuState,
} from '../vmm/vcpu.js';
import { resolveVmmOptions, type VmmOptions, type ResolvedVmmOptions } from '../vmm/options.js';
import { NativeOps } from '../vmm/modes/native.js';
import type { ModeOps, VmmStats } from '../vmm/modes/ops.js';
import { createHardwareOps } from '../vmm/modes/index.js';
import { PvOps } from '../vmm/modes/pv.js';
import { simulate, profile as findProfile, type CpuProfile } from '../vmm/cost/index.js';
import { costCounters } from '../vmm/cost/counters.js';
import type { PvDomain } from '../vmm/pv/domain.js';

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
  /** A local APIC at 0xFEE00000 and an 82093AA I/O APIC at 0xFEC00000 in front of the
   *  8259 pair (virtual wire through LINT0), with MP and ACPI tables for a booted kernel
   *  (default false: the 8259 pair alone, as before). */
  apic?: boolean;
  /** QEMU's `edu` test device at 00:03.0 (`-device edu`): MSI through the local APIC. */
  edu?: boolean;
  /** Mode pv: the domain's id and the other DomUs (set by the management domain). */
  pv?: { domid?: number; peers?: (domid: number) => PvDomain | undefined };
  /** Each port access as it completes, in order (the CLI's --io-log). A string I/O exit
   *  gives one call per element. Costs one test per exit when absent. */
  ioLog?: (access: IoAccess) => void;
  // --- guestinfo (OVF environment transport com.vmware.guestInfo) ---
  /** VMware's backdoor port (0x5658) with these `guestinfo` variables (name without the
   *  `guestinfo.` prefix, e.g. `ovfEnv`), read by the guest as `vmware-rpctool "info-get
   *  guestinfo.ovfEnv"` does (devices/vmware-backdoor.ts). Absent: the port is unclaimed,
   *  so a guest does not see VMware. The registers are the core's (mode native). */
  guestinfo?: Record<string, string>;
  /**
   * Simulated time: a cost-model CPU profile (bindings/vmm/cost: `p4-prescott`, `core2`,
   * `nehalem`, `modern`). The guest's RDTSC, RDTSCP and RDMSR of IA32_TSC then read the
   * simulated cycles so far, `simulate(costCounters(stats), profile).total` at that
   * instruction (plus what the guest's own TSC writes added): natively and in mode pv the
   * core exits to the vCPU loop on them; in vtx and svm the VMM sets RDTSC exiting / the
   * RDTSC and RDTSCP intercepts. The exits this adds are not priced. Absent: the TSC counts
   * instructions, as before. An unknown name throws UnknownProfileError listing the names.
   */
  profile?: string;
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
  /** VMware's backdoor port (guestinfo): calls, RPC commands, requests refused. */
  backdoor?: BackdoorCounters;
  /** With `profile`: the simulated cycles so far (what the guest's RDTSC reads, before
   *  its own TSC writes) and the profile that priced them. */
  simulated?: { profile: string; cycles: number; seconds: number };
  /** With `apic`: the local APIC's and the I/O APIC's counters, and the MSI messages
   *  devices sent (delivered to the APIC, or to another address: dropped). */
  apic?: ApicStats & { ioapic: IoApicStats; msi: MsiRouteStats };
}

/** The core's CPUID.1 EAX and EDX with the APIC (assembly/cpu/system/cpuid.ts LEAF1_EAX,
 *  LEAF1_EDX (FXSR included) | FEAT_APIC), for the MP table's processor entry (MP 1.4, 4.3.1). */
const CPU_IDENTITY = { signature: 0x680, features: 0xa93d | 0x1000000 | 0x200 };

/**
 * The platform around the core as a snapshot holds it: every device's `state()`, the
 * clock, the vCPU loop's state and counters, and the machine's own counters. Plain JSON;
 * `Machine.restore` re-checks every field (devices/state.ts).
 */
export interface PlatformState {
  clock: unknown; pic: unknown; pit: unknown; port61: unknown; rtc: unknown; uart: unknown;
  post: unknown; post190: unknown; i8042: unknown; vga: unknown; pci: unknown; ide: unknown;
  /** The FERR#/IRQ 13 latch (devices/fpu-irq.ts). */
  fpuIrq: unknown;
  vcpu: VcpuState;
  bus: BusCounters;
  postCodes: PostCode[];
  postCodesSeen: number;
  pendingInput: number[];
}

/** What `Machine.restore` rebuilds a machine from (bindings/snapshot reads it from a file). */
export interface MachineImage {
  /** The configuration without its callbacks and boot sources (firmware kept: it is ROM). */
  config: MachineConfig;
  /** The core's state block (Core.saveState). */
  cpu: Uint8Array;
  /** Guest RAM, `config.ramBytes` long. */
  ram: Uint8Array;
  platform: PlatformState;
  /** VMX/SVM state outside the state block (Core.saveVirtState: the current VMCS's
   *  fields, VMM RAM), when the core has it. */
  virt?: Uint8Array;
  /** The TypeScript VMM's own state (ModeOps.saveVmmState) of a vtx/svm VM. */
  vmm?: unknown;
}

/** The virtualization-state exports of cores and VMMs that have them (feature-detected). */
interface VirtCore {
  saveVirtState?(): Uint8Array;
  loadVirtState?(blob: Uint8Array): void;
}
interface VmmStateOps { saveVmmState?(): unknown; loadVmmState?(s: unknown): void }

/** PAM0, the first of the i440FX's seven PAM registers (82441FX datasheet, 3.2.x). */
const PAM0 = 0x59;

/** How many POST codes the machine keeps for its stats (the most recent). */
const POST_CODES_KEPT = 256;

export class Machine {
  /** VMware's backdoor port, when the configuration gives `guestinfo`. */
  readonly backdoor?: VmwareBackdoor;
  readonly clock: VirtualClock;
  readonly bus = new Bus();
  readonly pic: PicPair;
  /** The local APIC and the I/O APIC (config `apic`). */
  readonly lapic?: LocalApic;
  readonly ioapic?: IoApic;
  /** QEMU's edu test device (config `edu`). */
  readonly edu?: EduDevice;
  private readonly msiStats: MsiRouteStats = { delivered: 0, notApic: 0 };
  readonly pit: Pit;
  readonly rtc: Rtc;
  readonly uart: Uart16550;
  readonly post: PostPort;
  /** The second POST code port some boards and firmware use. */
  readonly post190: PostPort;
  private readonly port61: Port61;
  /**
   * Called before each instruction executes, once the interrupts and exceptions due at
   * that boundary are taken (the CLI's --trace); the machine then runs one instruction per
   * core call, so set it only while tracing and clear it after.
   */
  get onInstruction(): (() => boolean | void) | undefined { return this.cpu.onInstruction; }
  /** Returning false stops the run before that instruction (StopReason 'debug'). */
  set onInstruction(hook: (() => boolean | void) | undefined) { this.cpu.onInstruction = hook; }
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
    vmm: ResolvedVmmOptions, saved?: PlatformState) {
    this.vmmOptions = vmm;
    this.cpu = new VCpu(this.vcpuHost(), new NativeOps(core));
    // Restoring, each device is built from its snapshot, in the order a new machine builds
    // them (the clock breaks ties between timers by the order they were made).
    this.clock = saved ? VirtualClock.fromState(saved.clock)
      : new VirtualClock(config.instructionsPerSecond);
    this.pic = saved ? PicPair.fromState(saved.pic) : new PicPair();
    this.pit = saved ? Pit.fromState(saved.pit, this.clock, this.pic.line(0))
      : new Pit(this.clock, this.pic.line(0));
    const { startTime, ramBytes } = config;
    this.rtc = saved ? Rtc.fromState(saved.rtc, this.clock, this.pic.line(8))
      : new Rtc(this.clock, this.pic.line(8), { startTime, ramBytes });
    const serialOut = config.serialOut ?? (() => {});
    const com1Irq = this.pic.line(COM1.irq);
    const uartOpts = { out2GatesIrq: true };
    this.uart = saved
      ? Uart16550.fromState(saved.uart, this.clock, com1Irq, serialOut, uartOpts)
      : new Uart16550(this.clock, com1Irq, serialOut, uartOpts);
    this.post = saved ? PostPort.fromState(saved.post) : new PostPort();
    this.post190 = saved ? PostPort.fromState(saved.post190, 0x190) : new PostPort(0x190);
    this.pic.attach(this.bus);
    this.pit.attach(this.bus);
    this.port61 = saved ? Port61.fromState(saved.port61, this.pit) : new Port61(this.pit);
    this.port61.attach(this.bus);
    this.rtc.attach(this.bus);
    this.uart.attach(this.bus, COM1.base);
    this.post.attach(this.bus);
    this.post190.attach(this.bus);
    for (const p of [this.post, this.post190]) p.onWrite = (code) => this.recordPost(p.port, code);
    // A CPU reset (i8042 command 0xFE, port 0x92) ends the run, as QEMU -no-reboot does.
    const i8042Callbacks = {
      onReset: () => this.halt({ kind: 'reset' }),
      onA20: (on: boolean) => this.core.setA20(on),
    };
    this.i8042 = saved
      ? I8042.fromState(saved.i8042, this.pic.line(1), this.pic.line(12), i8042Callbacks)
      : new I8042(this.pic.line(1), this.pic.line(12), i8042Callbacks);
    this.i8042.attach(this.bus);
    this.fpuIrq = new FpuIrq(this.pic.line(FPU_IRQ), () => this.core.ferr());
    this.fpuIrq.attach(this.bus);
    const vram = (addr: number, length: number) => this.core.readPhys(addr, length);
    this.vga = saved ? VgaText.fromState(saved.vga, vram) : new VgaText(vram);
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
    this.bus.onMmioRegistered = (base, length) => this.exitOnMmio(base, length);
    new DebugExit((status) => this.halt({ kind: 'exit', status })).attach(this.bus);
    new DebugCon(config.debugcon ?? (() => {})).attach(this.bus);
    // guestinfo transport: VMware's backdoor port, only when the configuration asks for it.
    if (config.guestinfo) {
      this.backdoor = new VmwareBackdoor(config.guestinfo);
      this.backdoor.attach(this.bus, {
        get: () => this.core.getRegs(), set: (r) => this.core.setRegs(r),
      });
    }
    if (config.apic) {
      const lapic = new LocalApic(this.clock, {
        nmi: () => this.core.nmi(), pic: this.pic, eoiBroadcast: (v) => ioapic.eoi(v),
        apicBase: () => this.core.apicBase(),
      });
      const ioapic = new IoApic(lapic);
      // Each ISA IRQ reaches the I/O APIC pin of the same number, IRQ 0 pin 2 (the MADT's
      // interrupt source override and the MP table's I/O interrupt entries say so).
      this.pic.onIrq = (n, level) => ioapic.setPin(n === 0 ? 2 : n, level);
      lapic.attach(this.bus);
      ioapic.attach(this.bus);
      this.lapic = lapic;
      this.ioapic = ioapic;
    }
    if (config.edu) {
      const ms = this.msiStats;
      const sink = this.lapic ? apicMsiSink(this.lapic, ms) : () => { ms.notApic++; };
      this.edu = new EduDevice(sink);
      this.chipset.pci.add(3, 0, this.edu.pci);
      this.edu.pci.attachBars(this.bus);
    }
    if (!saved) this.pic.powerOn();
  }

  static async create(config: MachineConfig): Promise<Machine> {
    checkConfig(config);
    const vmm = resolveVmmOptions(config, !!(config.cpu?.vmx || config.cpu?.svm));
    const core = await createCore({ ramBytes: config.ramBytes, wasm: config.wasm });
    core.setStringIo(config.stringIo ?? true);
    core.setApicPresent(config.apic ?? false);
    core.setVmx(config.cpu?.vmx ?? false);
    core.setSvm(config.cpu?.svm ?? false);
    const prof = config.profile === undefined ? undefined : findProfile(config.profile);
    const m = new Machine(core, config, vmm);
    m.boot();
    // pv: the domain builder loads the kernel and starts it in ring 1 under the VMM.
    if (vmm.mode === 'pv') m.useMode(m.createPvOps(vmm));
    // vtx/svm: the VMM builds its VMCS or VMCB from the state the boot left.
    else if (vmm.mode !== 'native') m.useMode(createHardwareOps(core, vmm));
    if (prof) m.simulateTime(prof);
    return m;
  }

  /** The cost profile of simulated time (MachineConfig.profile), if any. */
  private simProfile: CpuProfile | undefined;

  /** Simulated time on: the VMM (vtx, svm) or the core (native, pv) takes the guest's TSC
   *  reads to the host, which answers with simulatedTsc(). */
  private simulateTime(p: CpuProfile): void {
    this.simProfile = p;
    const ops = this.cpu.ops;
    if (ops.setTscSource) ops.setTscSource(() => this.simulatedTsc());
    else this.core.setTscExit(true);
  }

  /** What the guest's TSC reads now: the simulated cycles (rounded down, so the count never
   *  goes back) plus what the guest's own WRMSR of IA32_TSC added, modulo 2^64. */
  private simulatedTsc(): bigint {
    const cycles = this.stats().simulated?.cycles ?? 0;
    return BigInt.asUintN(64, BigInt(Math.floor(cycles)) + this.core.tscWriteAdjustment());
  }

  /** Mode pv: the PV domain built from the kernel (its ELF notes name the PV entry). */
  private createPvOps(vmm: ResolvedVmmOptions): PvOps {
    const { config } = this;
    if (!config.kernel) throw new RangeError('mode pv: give a PV kernel (an ELF with Xen notes)');
    const out = config.serialOut ?? (() => {});
    return new PvOps(this.core, {
      bus: this.bus, kernel: config.kernel, cmdline: config.cmdline ?? '',
      disk: config.disks?.[0], domid: config.pv?.domid, peers: config.pv?.peers,
      consoleOut: (b) => { for (const x of b) out(x); }, now: () => this.clock.now,
      onShutdown: (reason) => this.halt(reason === 'poweroff' ? { kind: 'poweroff' }
        : reason === 'reboot' ? { kind: 'reset' }
          : { kind: 'shutdown', why: `pv: SCHEDOP_shutdown ${reason}` }),
    }, vmm);
  }

  /**
   * A machine rebuilt from a snapshot's image: the same configuration (callbacks and
   * disks from `config`), the core's state block and RAM, every device, the vCPU loop and
   * the counters. It continues exactly where the saved one stood. Throws (a
   * DeviceStateError naming the field, or a RangeError) on an image that does not fit.
   */
  static async restore(image: MachineImage): Promise<Machine> {
    const { config } = image;
    checkConfig(config);
    if (image.ram.length !== config.ramBytes) {
      throw new RangeError(`snapshot RAM is ${image.ram.length} bytes, the machine has ` +
        `${config.ramBytes}`);
    }
    const vmm = resolveVmmOptions(config, !!(config.cpu?.vmx || config.cpu?.svm));
    if (vmm.mode !== 'native' && image.vmm === undefined) {
      throw new RangeError(`a snapshot of a ${vmm.mode} VM needs its VMM state`);
    }
    const core = await createCore({ ramBytes: config.ramBytes, wasm: config.wasm });
    core.setStringIo(config.stringIo ?? true);
    core.setVmx(config.cpu?.vmx ?? false);
    core.setSvm(config.cpu?.svm ?? false);
    const saved = image.platform;
    const m = new Machine(core, config, vmm, saved);
    core.reset();
    if (config.firmware) {
      for (const r of planFirmware(config.firmware)) core.mapRom(r.address, r.data);
    }
    m.chipset.pci.restore(saved.pci);
    m.chipset.ide.restore(saved.ide);
    // vtx/svm: the VMM is built as on a new machine, then given the saved VMX/SVM state
    // (before the state block, which names the VMCS and VMCB it holds).
    if (vmm.mode !== 'native') m.useMode(createHardwareOps(core, vmm));
    const vcore = core as unknown as VirtCore;
    if (image.virt) {
      if (!vcore.loadVirtState) throw new RangeError('this core cannot load VMX/SVM state');
      vcore.loadVirtState(image.virt);
    }
    core.writePhys(0, image.ram);
    core.setA20(m.i8042.a20Enabled);
    for (let o = PAM0; o <= PAM0 + 6; o++) m.applyPam(o);
    // The state block last (loadState keeps the A20 mask just set), then its counters
    // again: rebuilding flushed the TLB a few times, which the saved VM never did.
    core.loadState(image.cpu);
    core.restoreCounters?.(image.cpu);
    if (vmm.mode !== 'native') {
      const ops = m.cpu.ops as unknown as VmmStateOps;
      if (!ops.loadVmmState) throw new RangeError(`this ${vmm.mode} VMM cannot load its state`);
      ops.loadVmmState(image.vmm);
    }
    m.fpuIrq.restore(saved.fpuIrq);
    m.cpu.restore(saved.vcpu);
    Object.assign(m.bus.counters, checkCounters(saved.bus));
    const codes = saved.postCodes;
    if (!Array.isArray(codes) || codes.length > POST_CODES_KEPT) {
      throw new DeviceStateError('postCodes', `expected at most ${POST_CODES_KEPT} entries`);
    }
    codes.forEach((c, i) => {
      const o = obj(c, `postCodes[${i}]`);
      m.postCodes.push({
        port: int(o, 'port', `postCodes[${i}]`, 0, 0xffff),
        code: int(o, 'code', `postCodes[${i}]`, 0, 255),
      });
    });
    const wrap = { postCodesSeen: saved.postCodesSeen, pendingInput: saved.pendingInput };
    m.postCodesSeen = int(wrap, 'postCodesSeen', 'machine', codes.length, Number.MAX_SAFE_INTEGER);
    if (codes.length < POST_CODES_KEPT && m.postCodesSeen !== codes.length) {
      throw new DeviceStateError('machine.postCodesSeen', 'does not match postCodes');
    }
    m.pendingInput = intArray(wrap, 'pendingInput', 'machine', 0, 255, 1 << 24).slice();
    return m;
  }

  /** The state of everything around the core (see PlatformState). */
  platformState(): PlatformState {
    return {
      clock: this.clock.state(), pic: this.pic.state(), pit: this.pit.state(),
      port61: this.port61.state(), rtc: this.rtc.state(), uart: this.uart.state(),
      post: this.post.state(), post190: this.post190.state(), i8042: this.i8042.state(),
      vga: this.vga.state(), pci: this.chipset.pci.state(), ide: this.chipset.ide.state(),
      fpuIrq: this.fpuIrq.state(), vcpu: this.cpu.state(), bus: { ...this.bus.counters },
      postCodes: this.postCodes.map((p) => ({ ...p })), postCodesSeen: this.postCodesSeen,
      pendingInput: [...this.pendingInput],
    };
  }

  /** The machine's image (see MachineImage): call between runs. A vtx/svm VM needs a core
   *  and a VMM with their state exports (saveVirtState, saveVmmState). */
  image(): MachineImage {
    // Devices whose state a snapshot does not hold yet: refused, never saved half.
    const unsaved = [this.lapic ? 'the local APIC and I/O APIC (apic)' : '',
      this.edu ? 'the edu device (edu)' : '',
      this.backdoor ? "VMware's backdoor port (guestinfo)" : '',
      this.simProfile ? 'simulated time (profile)' : ''].filter((x) => x);
    if (unsaved.length) {
      throw new RangeError(`snapshots do not save ${unsaved.join(', ')} yet: ` +
        'start the VM without them to snapshot it');
    }
    const vcore = this.core as unknown as VirtCore;
    const ops = this.cpu.ops as unknown as VmmStateOps;
    if (this.vmmOptions.mode !== 'native' && (!vcore.saveVirtState || !ops.saveVmmState)) {
      throw new RangeError(`snapshots of ${this.vmmOptions.mode} VMs need the core's and ` +
        'the VMM\'s state exports, which this build lacks');
    }
    this.chipset.flush();
    const virt = vcore.saveVirtState?.();
    const vmmState = this.vmmOptions.mode !== 'native'
      ? JSON.parse(JSON.stringify(ops.saveVmmState!())) as unknown : undefined;
    const cpu = this.core.saveState();
    // A restored VM starts with an empty TLB (a cache, not architectural state); the saved
    // one empties its TLB too, so both continue alike, counters included.
    this.core.loadState(cpu);
    this.core.restoreCounters?.(cpu);
    return {
      config: this.config, cpu,
      ram: this.core.readPhys(0, this.config.ramBytes), platform: this.platformState(),
      ...(virt ? { virt } : {}), ...(vmmState !== undefined ? { vmm: vmmState } : {}),
    };
  }

  /** The vCPU's view of this machine. */
  private vcpuHost(): VcpuHost {
    const m = this;
    return {
      get core() { return m.core; }, get clock() { return m.clock; },
      get pic() { return m.lapic ?? m.pic; }, get bus() { return m.bus; },
      get inputOpen() { return m.inputOpen; }, ioLog: this.config.ioLog,
      feedInput: () => m.feedInput(), flush: () => m.chipset.flush(),
      afterExit: () => m.fpuIrq.update(),
      simulatedTsc: () => m.simulatedTsc(),
    };
  }

  private useMode(ops: ModeOps): void {
    const hook = this.cpu.onInstruction;
    this.cpu = new VCpu(this.vcpuHost(), ops);
    this.cpu.onInstruction = hook;
  }

  /** Ranges the core exits on already (a BAR moved back and forth is added once). */
  private readonly mmioRanges = new Set<string>();

  /**
   * Makes the core exit on a range the bus registered. The core's table is bounded: a guest
   * that keeps moving a memory BAR to new places fills it, and the ranges after that stay
   * without exits (their accesses reach RAM or float), counted; the host goes on.
   */
  private exitOnMmio(base: number, length: number): void {
    const key = `${base}:${length}`;
    if (this.mmioRanges.has(key)) return;
    try {
      this.core.addMmio(base, length);
      this.mmioRanges.add(key);
    } catch {
      this.mmioTableFull++;
    }
  }

  /** MMIO ranges the core's table had no room for (see exitOnMmio). */
  mmioTableFull = 0;

  /** Puts the CPU at its start: the kernel's entry, or the firmware's reset vector. */
  private boot(): void {
    const { core, config } = this;
    core.reset();
    core.setA20(this.i8042.a20Enabled);
    if (config.firmware) {
      for (const r of planFirmware(config.firmware)) core.mapRom(r.address, r.data);
    }
    if (config.kernel && this.vmmOptions.mode === 'pv') {
      // The PV domain builder loads it (createPvOps).
    } else if (config.kernel && isLinuxKernel(config.kernel)) {
      if (config.modules?.length)
        throw new RangeError('a Linux kernel takes one initrd, not Multiboot modules');
      applyLinux(core, planLinux(config.kernel, {
        ramBytes: config.ramBytes, cmdline: config.cmdline, initrd: config.initrd,
      }));
      // As after SeaBIOS under QEMU -kernel (below).
      this.chipset.pm.programAsSeaBios();
      // The ACPI tables a Linux kernel powers off with (FADT, FACS, DSDT with \_S5: the
      // PM function's registers as SeaBIOS programmed them), always; the MP table and
      // the MADT too when the machine has an APIC, as SeaBIOS leaves them.
      if (this.lapic) this.lapic.firmwareSetup();
      writePlatformTables((a, d) => core.writePhys(a, d), {
        cpu: CPU_IDENTITY, apic: !!this.lapic,
        power: { base: this.chipset.pm.base, sci: PIIX4_SCI_IRQ },
      });
    } else if (config.kernel) {
      if (config.initrd)
        throw new RangeError('a Multiboot kernel takes modules, not an initrd');
      const plan = planMultiboot(config.kernel, {
        ramBytes: config.ramBytes, cmdline: config.cmdline, modules: config.modules,
      });
      applyMultiboot(core, plan);
      // As SeaBIOS leaves them for a kernel: the APIC enabled in virtual wire mode, the MP
      // floating pointer and the ACPI RSDP in the BIOS area.
      if (this.lapic) {
        this.lapic.firmwareSetup();
        writePlatformTables((a, d) => core.writePhys(a, d), { cpu: CPU_IDENTITY });
      }
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

  /**
   * The board's NMI (QEMU's `nmi` monitor command), between runs: gated by the NMI mask of
   * port 0x70 bit 7 (IBM PC/AT), then on the CPU's LINT1 pin: through the local APIC's LVT
   * LINT1 entry when the machine has one (masked there, nothing happens: SDM vol. 3A,
   * 10.5.1; as QEMU's apic_deliver_nmi), straight to the NMI input when it has none.
   * Returns whether the NMI reached the CPU; a halted CPU wakes for it.
   */
  nmi(): boolean {
    if (this.rtc.nmiMasked) return false;
    if (this.lapic) {
      const before = this.lapic.stats.nmis;
      this.lapic.lint(1, true);
      if (this.lapic.stats.nmis === before) return false;
      this.cpu.wake();
      return true;
    }
    this.core.nmi();
    this.cpu.wake();
    return true;
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
  /** Mode pv: the PV domain this machine runs. */
  get pvDomain(): PvDomain | undefined {
    return this.cpu.ops instanceof PvOps ? this.cpu.ops.domain : undefined;
  }

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
    const s: MachineStats = {
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
      ...(this.backdoor ? { backdoor: { ...this.backdoor.counters } } : {}),
      ...(this.lapic && this.ioapic ? { apic: {
        ...structuredClone(this.lapic.stats), ioapic: structuredClone(this.ioapic.stats),
        msi: { ...this.msiStats },
      } } : {}),
    };
    if (this.simProfile) {
      const sim = simulate(costCounters(s), this.simProfile);
      s.simulated = { profile: sim.profile, cycles: sim.total, seconds: sim.seconds };
    }
    return s;
  }
}

/** Bus counters from a snapshot: each a non-negative integer. */
function checkCounters(s: unknown): BusCounters {
  const o = obj(s, 'bus');
  const out: Record<string, number> = {};
  for (const k of Object.keys(o)) out[k] = int(o, k, 'bus', 0, Number.MAX_SAFE_INTEGER);
  return out as unknown as BusCounters;
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
