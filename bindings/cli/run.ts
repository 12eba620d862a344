/**
 * `wasmvisor run`: boot a guest on the PC platform, COM1 on stdin/stdout.
 * With no boot source it boots the bundled JeOS, runs every workload and prints the table.
 */
import { PROFILES, profile as findProfile, UnknownProfileError } from '../vmm/cost/index.js';
import type { Command } from 'commander';
import { readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { Machine, type StopReason } from '../machine/machine.js';
import type { MultibootModule } from '../boot/multiboot.js';
import { isLinuxKernel } from '../boot/linux.js';
import type { BlockDevice } from '../disk/types.js';
import { openImageFile } from '../disk/node.js';
import { jeos } from '../node.js';
import { parseSize } from '../disk/size.js';
import { UsageError, errCode, setExitStatus } from './main.js';
import { packaged } from './paths.js';
import { parseWorkloadLines, formatWorkloadTable } from '../machine/workloads.js';
import { prepareMachine } from '../config/node-machine.js';
import type { MachineConfig } from '../machine/machine.js';
import { dirname } from 'node:path';
import { InstructionTrace, IoLog } from './run-debug.js';
import { VM_MODES, PAGING_MODES, type VmmOptions, type VmMode, type PagingMode,
} from '../vmm/options.js';

export interface RunOptions {
  kernel?: string;
  append?: string;
  initrd?: string;
  /** --disk, repeatable: the free IDE positions in order. */
  disk?: string[];
  /** --hda .. --hdd: primary master, primary slave, secondary master, secondary slave. */
  hda?: string; hdb?: string; hdc?: string; hdd?: string;
  mem: string;
  bios?: string;
  debugcon?: string;
  maxInstructions?: string;
  stats?: string;
  vgaDump?: string;
  ips?: string;
  config?: string;
  /** false with --no-string-io. */
  stringIo?: boolean;
  /** --apic: the local APIC and I/O APIC (and MP/ACPI tables for a kernel). */
  apic?: boolean;
  /** --edu: QEMU's edu test device (MSI). */
  edu?: boolean;
  trace?: string;
  traceLimit?: string;
  ioLog?: string;
  /** --mode native|vtx|svm|pv, --paging shadow|nested; false with --no-tags, --no-pwc,
   *  --no-ntlb. */
  mode?: string;
  /** --profile NAME: simulated time (MachineConfig.profile). */
  profile?: string;
  paging?: string;
  tags?: boolean;
  pwc?: boolean;
  ntlb?: boolean;
  /** --snapshot-at N --snapshot-file F: save the VM to F once N instructions have run. */
  snapshotAt?: string;
  snapshotFile?: string;
  /** --gdb [addr:]port: wait for GDB there before the first instruction (QEMU -s -S). */
  gdb?: string;
}

/** Instructions between two looks at stdin (and two flushes of the console). */
const CHUNK = 2_000_000;
/** How far virtual time may run ahead of the wall clock while a guest waiting for input idles. */
const IDLE_SLACK_NS = 20e6;
/** How long the host sleeps while such a guest idles. */
const IDLE_POLL_MS = 10;
/**
 * Exit statuses (README, "Exit status"). Odd statuses are the guest's own: a write of v to
 * isa-debug-exit gives (v << 1) | 1, as QEMU. Even ones are wasmvisor's.
 */
/** The guest powered off (ACPI S5 through PM1a_CNT): QEMU exits 0 then too. */
export const STATUS_POWEROFF = 0;
/** The guest halted for good (HLT with interrupts off, or nothing left to wake it). */
export const STATUS_HALTED = 0;
/** Bad arguments, an unreadable or malformed file (UsageError's default). */
export const STATUS_USAGE = 2;
/** The guest ended its VM abnormally (triple fault, invalid state). */
export const STATUS_GUEST_FAILED = 4;
/** --max-instructions was reached before the guest stopped. */
export const STATUS_LIMIT = 6;
/** The guest reset the CPU (i8042 0xFE, port 0x92, 0xCF9), which ends the run. */
export const STATUS_RESET = 8;

/** The IDE positions in QEMU's -drive index order, by the option naming each. */
const DISK_OPTIONS = ['hda', 'hdb', 'hdc', 'hdd'] as const;
/** Instructions --trace records unless --trace-limit says otherwise. */
const DEFAULT_TRACE_LIMIT = 1_000_000;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('boot a guest: a Multiboot kernel, a firmware image, or a disk; with no '
      + 'arguments, the bundled JeOS and its workloads')
    .option('--config <vm.json>', 'a VM configuration (as `wasmvisor ovf import` writes it); '
      + 'paths in it are relative to its folder')
    .option('--kernel <file>', 'Linux bzImage or Multiboot kernel (ELF or a.out kludge), '
      + 'booted as QEMU -kernel does')
    .option('--append <cmdline>', 'kernel command line')
    .option('--initrd <files>', 'a Linux kernel\'s initrd (one file), or Multiboot modules: '
      + '"file [args],file [args]" as QEMU -initrd')
    .option('--disk <file>', 'disk image (raw, qcow2 or VMDK; written in place) on the next '
      + 'free IDE position; repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--hda <file>', 'disk image as IDE primary master (QEMU -hda)')
    .option('--hdb <file>', 'disk image as IDE primary slave')
    .option('--hdc <file>', 'disk image as IDE secondary master')
    .option('--hdd <file>', 'disk image as IDE secondary slave')
    .option('--mem <size>', 'guest RAM, in MiB unless suffixed (K, M, G)', '128M')
    .option('--bios <file>',
      'firmware image mapped below 1 MiB and at the top of 4 GiB, as QEMU -bios')
    .option('--debugcon <file>', 'write the 0xE9 debug console to a file ("-" for stderr)')
    .option('--max-instructions <n>', 'stop after this many guest instructions')
    .option('--stats <file>', 'write the counters as JSON at exit')
    .option('--vga-dump <file>', 'write the VGA text screen at exit (UTF-8, one line per row)')
    .option('--ips <n>', 'instructions per virtual second (the virtual clock rate)', '100000000')
    .option('--no-string-io',
      'one exit per element of REP INS/OUTS instead of one per page run (as KVM)')
    .option('--apic', 'a local APIC and an I/O APIC in front of the 8259 pair, with MP and '
      + 'ACPI tables for a --kernel (as QEMU\'s pc machine)')
    .option('--edu', 'QEMU\'s edu test device at 00:03.0 (MSI with --apic), as -device edu')
    .option('--trace <file>', 'write a line per executed instruction (CS:EIP, registers) to a file')
    .option('--trace-limit <n>', `instructions --trace records (default ${DEFAULT_TRACE_LIMIT})`)
    .option('--io-log <file>', 'write each port access (direction, port, size, value) to a file')
    .option('--mode <mode>', 'native (default): the guest runs on the emulated CPU; vtx or svm: '
      + 'under the hypervisor through VT-x or AMD-V; pv: a Xen-style PV kernel in ring 1')
    .option('--profile <name>', 'simulated time: the guest\'s RDTSC reads the cost model\'s '
      + `cycles under this CPU profile (${PROFILES.map((p) => p.name).join(', ')})`)
    .option('--paging <paging>', 'with --mode vtx|svm: nested (EPT/NPT, the default) or shadow')
    .option('--no-tags',
      'with --mode vtx|svm: no VPID/ASID, the TLB flushes on every entry and exit')
    .option('--no-pwc', 'with --mode vtx|svm: no page-walk cache for nested walks')
    .option('--no-ntlb', 'with --mode vtx|svm: no nested TLB')
    .option('--snapshot-at <n>', 'save a snapshot once this many guest instructions have run '
      + '(the run goes on; `wasmvisor restore FILE` continues from it)')
    .option('--snapshot-file <file>', 'where --snapshot-at writes the snapshot')
    .option('--gdb <[addr:]port>', 'wait for GDB on this TCP port before the first '
      + 'instruction (the GDB remote protocol, as QEMU -gdb tcp::PORT -S)')
    .addHelpText('after', `
Exit status: ${STATUS_POWEROFF} the guest powered off (ACPI S5), as QEMU, or halted for good;
(v << 1) | 1 the guest wrote v to isa-debug-exit (port 0xF4), as QEMU;
${STATUS_USAGE} bad arguments or files; ${STATUS_GUEST_FAILED} triple fault or invalid state; \
${STATUS_LIMIT} --max-instructions reached;
${STATUS_RESET} the guest reset the CPU.`)
    .action(async function (this: Command, opts: RunOptions) {
      setExitStatus(this, await runCommand(opts));
    });
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${errCode(e)}`);
  }
}

/**
 * --mode, --paging, --no-tags, --no-pwc, --no-ntlb as Machine options: only those given
 * (they override a --config's "virtualization"); the machine checks the combination.
 */
export function parseVmmOptions(opts: RunOptions): VmmOptions {
  const out: VmmOptions = {};
  if (opts.mode !== undefined) {
    if (!VM_MODES.includes(opts.mode as VmMode)) {
      throw new UsageError(`--mode ${opts.mode}: must be native, vtx, svm or pv`);
    }
    out.mode = opts.mode as VmMode;
  }
  if (opts.paging !== undefined) {
    if (!PAGING_MODES.includes(opts.paging as PagingMode)) {
      throw new UsageError(`--paging ${opts.paging}: must be nested or shadow`);
    }
    out.paging = opts.paging as PagingMode;
  }
  const off = (['tags', 'pwc', 'ntlb'] as const).filter((f) => opts[f] === false);
  for (const f of off) out[f] = false;
  if ((opts.mode ?? 'native') === 'native' && (opts.paging !== undefined || off.length)
    && opts.config === undefined) {
    const given = [...(opts.paging !== undefined ? ['--paging'] : []),
      ...off.map((f) => `--no-${f}`)];
    throw new UsageError(`${given.join(', ')}: ${given.length > 1 ? 'apply' : 'applies'} `
      + 'to --mode vtx or svm');
  }
  return out;
}

/** QEMU -m: a plain number is MiB. */
export function parseMemory(text: string): number {
  let bytes: number;
  try {
    bytes = /^\s*\d+\s*$/.test(text) ? Number(text) * 2 ** 20 : parseSize(text);
  } catch {
    throw new UsageError(`--mem ${text}: not a size (examples: 64, 128M, 1G)`);
  }
  if (bytes < 2 ** 21 || bytes > 3 * 2 ** 30 || bytes % 4096) {
    throw new UsageError(`--mem ${text}: must be a multiple of 4 KiB from 2 MiB to 3 GiB`);
  }
  return bytes;
}

function parseCount(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what} ${text}: not a whole number`);
  }
  return Number(text);
}

function parseModules(spec: string): MultibootModule[] {
  return spec.split(',').filter((s) => s.trim()).map((item) => {
    const [file, ...args] = item.trim().split(/\s+/);
    return { data: readInput(file, 'initrd module'), cmdline: [file, ...args].join(' ') };
  });
}

/** A vm.json, validated, with its kernel, modules and disk images opened. */
function loadConfig(path: string): ReturnType<typeof prepareMachine> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(readInput(path, 'configuration')));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path}: not JSON: ${(e as Error).message}`);
  }
  try {
    return prepareMachine(json as Parameters<typeof prepareMachine>[0], dirname(path));
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
}

function openDisk(path: string): BlockDevice {
  try {
    return openImageFile(path);
  } catch (e) {
    throw new UsageError(`disk ${path}: ${(e as Error).message}`);
  }
}

/** Opens each image (the same file twice is refused: two devices would write it apart). */
function openDisks(files: (string | undefined)[]): (BlockDevice | undefined)[] {
  const named = files.filter((f): f is string => f !== undefined);
  const twice = named.find((f, i) => named.indexOf(f) !== i);
  if (twice) throw new UsageError(`disk ${twice} is given twice`);
  const opened: (BlockDevice | undefined)[] = [];
  try {
    for (const f of files) opened.push(f === undefined ? undefined : openDisk(f));
  } catch (e) {
    for (const d of opened) d?.close();
    throw e;
  }
  return opened;
}

/**
 * The disk files for the four IDE positions: --hda..--hdd where they say, then each --disk
 * on the next free position, as QEMU's -drive if=ide without an index.
 */
export function diskPositions(opts: RunOptions): (string | undefined)[] {
  const slots: (string | undefined)[] = DISK_OPTIONS.map((o) => opts[o]);
  for (const file of opts.disk ?? []) {
    const free = slots.indexOf(undefined);
    if (free < 0) {
      const taken = 'all four IDE positions are taken (--hda..--hdd, --disk)';
      throw new UsageError(`--disk ${file}: ${taken}`);
    }
    slots[free] = file;
  }
  while (slots.length && slots[slots.length - 1] === undefined) slots.pop();
  return slots;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  if (!opts.kernel && (opts.append !== undefined || opts.initrd !== undefined)) {
    throw new UsageError('--append and --initrd need --kernel');
  }
  const diskFiles = diskPositions(opts);
  if (opts.config !== undefined && (opts.kernel || opts.bios || diskFiles.length
    || opts.append !== undefined || opts.initrd !== undefined)) {
    throw new UsageError('--config describes the whole machine: it does not combine with '
      + '--kernel, --bios, --disk, --hda..--hdd, --append or --initrd');
  }
  const bundled = !opts.config && !opts.kernel && !opts.bios && !diskFiles.length;
  const ramBytes = parseMemory(opts.mem);
  const maxInstructions = opts.maxInstructions === undefined ? Infinity
    : parseCount(opts.maxInstructions, '--max-instructions');
  const ips = parseCount(opts.ips ?? '100000000', '--ips');
  if (ips < 1) throw new UsageError('--ips must be at least 1');
  const traceLimit = opts.traceLimit === undefined ? DEFAULT_TRACE_LIMIT
    : parseCount(opts.traceLimit, '--trace-limit');
  if (opts.traceLimit !== undefined && opts.trace === undefined) {
    throw new UsageError('--trace-limit needs --trace');
  }

  const vmmOptions = parseVmmOptions(opts);
  // The same names and error as `bench --workloads --profile`.
  if (opts.profile !== undefined) {
    try { findProfile(opts.profile); } catch (e) {
      if (e instanceof UnknownProfileError) throw new UsageError(`--profile: ${e.message}`);
      throw e;
    }
  }
  if ((opts.snapshotAt === undefined) !== (opts.snapshotFile === undefined)) {
    throw new UsageError('--snapshot-at and --snapshot-file go together');
  }
  const snapshotAt = opts.snapshotAt === undefined ? undefined
    : parseCount(opts.snapshotAt, '--snapshot-at');

  let kernel: Uint8Array | undefined;
  let firmware: Uint8Array | undefined;
  let disks: (BlockDevice | undefined)[] = [];
  let fromConfig: MachineConfig | undefined;
  if (opts.config !== undefined) {
    const prepared = loadConfig(opts.config);
    fromConfig = prepared.machine;
    disks = prepared.machine.disks ?? [];
    for (const u of prepared.unsupported) {
      process.stderr.write(`wasmvisor: ${opts.config}: not emulated, left out: ${u}\n`);
    }
  } else if (bundled) {
    // A private copy of the bundled disk: the disk workload writes to it.
    const bundledJeos = jeos();
    kernel = bundledJeos.kernel;
    disks = [bundledJeos.disk];
  } else {
    if (opts.kernel) kernel = readInput(opts.kernel, 'kernel');
    if (opts.bios) firmware = readInput(opts.bios, 'firmware');
    else if (!opts.kernel) {
      firmware = readInput(packaged('guests/firmware/bios.bin'), 'bundled firmware');
    }
    disks = openDisks(diskFiles);
  }

  if (opts.snapshotFile) {
    try { writeFileSync(opts.snapshotFile, ''); } catch (e) {
      throw new UsageError(`cannot write --snapshot-file ${opts.snapshotFile}: ${errCode(e)}`);
    }
  }
  if (opts.stats) {
    try { writeFileSync(opts.stats, ''); } catch (e) {
      throw new UsageError(`cannot write --stats ${opts.stats}: ${errCode(e)}`);
    }
  }
  if (opts.vgaDump) {
    try { writeFileSync(opts.vgaDump, ''); } catch (e) {
      throw new UsageError(`cannot write --vga-dump ${opts.vgaDump}: ${errCode(e)}`);
    }
  }
  let debugFd: number | undefined;
  if (opts.debugcon && opts.debugcon !== '-') {
    try { debugFd = openSync(opts.debugcon, 'w'); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`cannot write --debugcon ${opts.debugcon}: ${code}`);
    }
  }
  const out = new SerialOut(bundled);
  // A Linux kernel's --initrd is one file (QEMU -initrd), a Multiboot kernel's a module list.
  const linux = kernel !== undefined && isLinuxKernel(kernel);
  let machine: Machine;
  let trace: InstructionTrace | undefined;
  let ioLog: IoLog | undefined;
  const closeDebugFiles = () => { trace?.close(); ioLog?.close(); };
  try {
    if (opts.trace !== undefined) trace = new InstructionTrace(opts.trace, traceLimit);
    if (opts.ioLog !== undefined) ioLog = new IoLog(opts.ioLog);
    machine = await Machine.create({
      ...fromConfig,
      ramBytes: fromConfig?.ramBytes ?? ramBytes,
      kernel: fromConfig ? fromConfig.kernel : kernel,
      cmdline: fromConfig ? fromConfig.cmdline : opts.append,
      modules: fromConfig ? fromConfig.modules
        : opts.initrd && !linux ? parseModules(opts.initrd) : undefined,
      initrd: fromConfig ? fromConfig.initrd
        : opts.initrd && linux ? readInput(opts.initrd, 'initrd') : undefined,
      firmware: fromConfig ? fromConfig.firmware : firmware,
      disks,
      instructionsPerSecond: ips,
      stringIo: opts.stringIo !== false,
      apic: opts.apic || fromConfig?.apic || undefined,
      edu: opts.edu,
      serialOut: (b) => out.byte(b),
      debugcon: opts.debugcon === undefined ? undefined
        : debugFd === undefined ? (b) => process.stderr.write(Uint8Array.of(b))
        : (b) => writeSync(debugFd!, Uint8Array.of(b)),
      ioLog: ioLog?.record,
      ...vmmOptions,
      ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    });
    trace?.attach(machine);
  } catch (e) {
    for (const d of disks) d?.close();
    if (debugFd !== undefined) closeSync(debugFd);
    closeDebugFiles();
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }

  const onData = (chunk: Buffer) => machine.input(chunk);
  const onEnd = () => { machine.inputOpen = false; };
  // COM1's receiver is stdin, a terminal or a pipe alike (the bundled run takes no input).
  // While input may still come, a halted guest waits for it in real time instead of
  // racing through virtual time: an idle VM then costs the host (almost) nothing.
  const stdinUsed = !bundled;
  if (stdinUsed) {
    machine.inputOpen = true;
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
  }
  const started = performance.now();
  const virtualStart = machine.clock.now;
  let stop: StopReason = { kind: 'limit' };
  let snapshotTaken = false;
  let debugged = false;
  if (opts.gdb !== undefined) {
    const r = await debugUnderGdb(machine, opts.gdb);
    if (r) { stop = r; debugged = true; }
  }
  try {
    for (; !debugged;) {
      const left = maxInstructions - machine.workDone;
      if (left <= 0) { stop = { kind: 'limit' }; break; }
      if (snapshotAt !== undefined && !snapshotTaken && machine.workDone >= snapshotAt) {
        out.flush();
        const { saveSnapshot } = await import('../snapshot/index.js');
        writeFileSync(opts.snapshotFile!, saveSnapshot(machine, { label: 'wasmvisor run' }));
        process.stderr.write(`wasmvisor: snapshot at ${machine.workDone} instructions ` +
          `written to ${opts.snapshotFile}\n`);
        snapshotTaken = true;
      }
      const toSnapshot = snapshotAt !== undefined && !snapshotTaken
        ? snapshotAt - machine.workDone : Infinity;
      const paced = machine.inputOpen;
      const wallNs = (performance.now() - started) * 1e6;
      const deadline = paced ? Math.floor(virtualStart + wallNs + IDLE_SLACK_NS) : Infinity;
      stop = machine.run(Math.min(CHUNK, left, toSnapshot), deadline);
      out.flush(); // a prompt without a newline shows while the guest waits
      if (stop.kind !== 'limit') break;
      if (paced && machine.isHalted) await new Promise((r) => setTimeout(r, IDLE_POLL_MS));
      else await new Promise((r) => setImmediate(r));
    }
  } finally {
    if (stdinUsed) {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      process.stdin.destroy();
    }
    out.flush();
    for (const d of disks) d?.close();
    if (debugFd !== undefined) closeSync(debugFd);
    closeDebugFiles();
  }
  if (snapshotAt !== undefined && !snapshotTaken) {
    process.stderr.write(`wasmvisor: the guest stopped at ${machine.workDone} instructions, ` +
      `before --snapshot-at ${snapshotAt}: no snapshot written\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = machine.stats();
  if (opts.stats) {
    const json = JSON.stringify({ stop, wallSeconds: seconds, ...stats }, null, 2);
    writeFileSync(opts.stats, json + '\n');
  }
  if (opts.vgaDump) writeFileSync(opts.vgaDump, machine.screenText());
  if (bundled) {
    const rows = parseWorkloadLines(out.text);
    process.stdout.write('\n' + formatWorkloadTable(rows) + '\n');
    const millions = stats.instructions / 1e6;
    process.stdout.write(`${millions.toFixed(1)} million guest instructions in `
      + `${seconds.toFixed(2)} s (${(millions / seconds).toFixed(1)} MIPS); `
      + (stats.simulated ? `RDTSC reads simulated cycles (profile ${stats.simulated.profile}: `
        + `${Math.floor(stats.simulated.cycles)} cycles, ${(stats.simulated.seconds * 1e3)
          .toFixed(2)} ms simulated).\n` : 'RDTSC counts virtual cycles.\n'));
  }
  return statusOf(stop);
}

/**
 * --gdb: serves the GDB remote protocol until the guest ends under the debugger (its stop
 * reason), GDB kills it ('debug'), or GDB detaches (undefined: the run goes on without it).
 */
async function debugUnderGdb(machine: Machine, spec: string): Promise<StopReason | undefined> {
  const { GdbStub } = await import('../gdb/stub.js');
  const [addr, portText] = spec.includes(':') ? spec.split(':') : ['127.0.0.1', spec];
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    throw new UsageError(`--gdb ${spec}: expected [address:]port`);
  }
  let done!: (r: StopReason | undefined) => void;
  const result = new Promise<StopReason | undefined>((ok) => { done = ok; });
  const stub = new GdbStub(machine, {
    onEnd: (s) => done(s), onDetach: () => done(undefined), onKill: () => done({ kind: 'debug' }),
  });
  let server;
  try {
    ({ server } = await stub.listen(Number(portText), addr || '127.0.0.1'));
  } catch (e) {
    throw new UsageError(`--gdb ${spec}: ${(e as Error).message}`);
  }
  const port = (server.address() as { port: number }).port;
  process.stderr.write(`wasmvisor: waiting for gdb on ${addr || '127.0.0.1'}:${port} ` +
    `(target remote ${addr || 'localhost'}:${port})\n`);
  const r = await result;
  server.close();
  return r;
}

/**
 * The process exit status for how the guest stopped: one rule however the machine was
 * started (bundled JeOS, --kernel, --config). JeOS powers off when every check passed
 * (status 0) and writes 1 to isa-debug-exit on a failure, 2 on a panic (guests/jeos/
 * README.md): statuses 3, 5.
 */
export function statusOf(stop: StopReason): number {
  switch (stop.kind) {
    case 'exit': return stop.status & 0xff;
    case 'poweroff': return STATUS_POWEROFF;
    case 'halted':
      return STATUS_HALTED;
    case 'reset':
      process.stderr.write('wasmvisor: guest reset the CPU (the run ends, as QEMU -no-reboot)\n');
      return STATUS_RESET;
    case 'limit':
      process.stderr.write('wasmvisor: instruction limit reached\n');
      return STATUS_LIMIT;
    case 'debug':
      process.stderr.write('wasmvisor: stopped by the debugger\n');
      return STATUS_LIMIT;
    case 'shutdown':
      process.stderr.write(`wasmvisor: guest shut down: ${stop.why}\n`);
      return STATUS_GUEST_FAILED;
    case 'invalid':
      process.stderr.write(`wasmvisor: guest stopped: ${stop.why}\n`);
      return STATUS_GUEST_FAILED;
  }
}

/** COM1 to stdout, and (for the bundled run) kept for the table. */
class SerialOut {
  text = '';
  private buf: number[] = [];
  constructor(private readonly keep: boolean) {
    // `wasmvisor run | head -1`: the reader left; EPIPE is not the guest's problem.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') this.closed = true; else throw e;
    });
  }
  byte(b: number): void {
    this.buf.push(b);
    if (b === 10 || this.buf.length >= 4096) this.flush();
  }
  /** Set when stdout went away (a closed pipe): output is dropped, the run goes on. */
  private closed = false;
  flush(): void {
    if (!this.buf.length) return;
    const bytes = Uint8Array.from(this.buf);
    this.buf = [];
    if (!this.closed) process.stdout.write(bytes);
    if (this.keep) this.text += new TextDecoder().decode(bytes);
  }
}
