/**
 * `wasmvisor run`: boot a guest on the PC platform, COM1 on stdin/stdout.
 * With no boot source it boots the bundled JeOS, runs every workload and prints the table.
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { Machine, type StopReason } from '../machine/machine.js';
import type { MultibootModule } from '../boot/multiboot.js';
import type { BlockDevice } from '../disk/types.js';
import { openImageFile } from '../disk/node.js';
import { RawImage } from '../disk/raw.js';
import { MemorySource } from '../disk/source.js';
import { parseSize } from '../disk/size.js';
import { UsageError, setExitStatus } from './main.js';
import { packaged } from './paths.js';
import { parseWorkloadLines, formatWorkloadTable } from '../machine/workloads.js';
import { prepareMachine } from '../config/node-machine.js';
import type { MachineConfig } from '../machine/machine.js';
import { dirname } from 'node:path';

export interface RunOptions {
  kernel?: string;
  append?: string;
  initrd?: string;
  disk?: string;
  mem: string;
  bios?: string;
  debugcon?: string;
  maxInstructions?: string;
  stats?: string;
  ips?: string;
  config?: string;
  /** false with --no-string-io. */
  stringIo?: boolean;
}

/** Instructions between two looks at stdin (and two flushes of the console). */
const CHUNK = 2_000_000;
/** How far virtual time may run ahead of the wall clock while a guest waiting for input idles. */
const IDLE_SLACK_NS = 20e6;
/** How long the host sleeps while such a guest idles. */
const IDLE_POLL_MS = 10;
/** Exit status when the guest ends its VM abnormally (triple fault, invalid state). */
export const STATUS_GUEST_FAILED = 4;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('boot a guest: a Multiboot kernel, a firmware image, or a disk; with no arguments, the bundled JeOS and its workloads')
    .option('--config <vm.json>', 'a VM configuration (as `wasmvisor ovf import` writes it); paths in it are relative to its folder')
    .option('--kernel <file>', 'Multiboot kernel (ELF or a.out kludge), booted as QEMU -kernel does')
    .option('--append <cmdline>', 'kernel command line')
    .option('--initrd <files>', 'Multiboot modules: "file [args],file [args]" as QEMU -initrd')
    .option('--disk <file>', 'IDE primary master disk image (raw, qcow2 or VMDK; written in place)')
    .option('--mem <size>', 'guest RAM, in MiB unless suffixed (K, M, G)', '128M')
    .option('--bios <file>', 'firmware image mapped below 1 MiB and at the top of 4 GiB, as QEMU -bios')
    .option('--debugcon <file>', 'write the 0xE9 debug console to a file ("-" for stderr)')
    .option('--max-instructions <n>', 'stop after this many guest instructions')
    .option('--stats <file>', 'write the counters as JSON at exit')
    .option('--ips <n>', 'instructions per virtual second (the virtual clock rate)', '100000000')
    .option('--no-string-io', 'one exit per element of REP INS/OUTS instead of one per page run (as KVM)')
    .action(async function (this: Command, opts: RunOptions) {
      setExitStatus(this, await runCommand(opts));
    });
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
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

export async function runCommand(opts: RunOptions): Promise<number> {
  if (!opts.kernel && (opts.append !== undefined || opts.initrd !== undefined)) {
    throw new UsageError('--append and --initrd need --kernel');
  }
  if (opts.config !== undefined && (opts.kernel || opts.bios || opts.disk || opts.append !== undefined || opts.initrd !== undefined)) {
    throw new UsageError('--config describes the whole machine: it does not combine with --kernel, --bios, --disk, --append or --initrd');
  }
  const bundled = !opts.config && !opts.kernel && !opts.bios && !opts.disk;
  const ramBytes = parseMemory(opts.mem);
  const maxInstructions = opts.maxInstructions === undefined ? Infinity : parseCount(opts.maxInstructions, '--max-instructions');
  const ips = parseCount(opts.ips ?? '100000000', '--ips');
  if (ips < 1) throw new UsageError('--ips must be at least 1');

  let kernel: Uint8Array | undefined;
  let firmware: Uint8Array | undefined;
  let disks: (BlockDevice | undefined)[] = [];
  let fromConfig: MachineConfig | undefined;
  if (opts.config !== undefined) {
    const prepared = loadConfig(opts.config);
    fromConfig = prepared.machine;
    disks = prepared.machine.disks ?? [];
    for (const u of prepared.unsupported) process.stderr.write(`wasmvisor: ${opts.config}: not emulated, left out: ${u}\n`);
  } else if (bundled) {
    kernel = readInput(packaged('guests/jeos/jeos.elf'), 'bundled kernel');
    // A private copy of the bundled disk: the disk workload writes to it.
    const image = new Uint8Array(readInput(packaged('guests/jeos/disk.img'), 'bundled disk'));
    disks = [new RawImage(new MemorySource(image))];
  } else {
    if (opts.kernel) kernel = readInput(opts.kernel, 'kernel');
    if (opts.bios) firmware = readInput(opts.bios, 'firmware');
    else if (!opts.kernel) firmware = readInput(packaged('guests/firmware/bios.bin'), 'bundled firmware');
    if (opts.disk) disks = [openDisk(opts.disk)];
  }

  if (opts.stats) {
    try { writeFileSync(opts.stats, ''); } catch (e) {
      throw new UsageError(`cannot write --stats ${opts.stats}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let debugFd: number | undefined;
  if (opts.debugcon && opts.debugcon !== '-') {
    try { debugFd = openSync(opts.debugcon, 'w'); } catch (e) {
      throw new UsageError(`cannot write --debugcon ${opts.debugcon}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  const out = new SerialOut(bundled);
  let machine: Machine;
  try {
    machine = await Machine.create({
      ...fromConfig,
      ramBytes: fromConfig?.ramBytes ?? ramBytes,
      kernel: fromConfig ? fromConfig.kernel : kernel,
      cmdline: fromConfig ? fromConfig.cmdline : opts.append,
      modules: fromConfig ? fromConfig.modules : opts.initrd ? parseModules(opts.initrd) : undefined,
      firmware: fromConfig ? fromConfig.firmware : firmware,
      disks,
      instructionsPerSecond: ips,
      stringIo: opts.stringIo !== false,
      serialOut: (b) => out.byte(b),
      debugcon: opts.debugcon === undefined ? undefined
        : debugFd === undefined ? (b) => process.stderr.write(Uint8Array.of(b))
        : (b) => writeSync(debugFd!, Uint8Array.of(b)),
    });
  } catch (e) {
    for (const d of disks) d?.close();
    if (debugFd !== undefined) closeSync(debugFd);
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
  let stop: StopReason;
  try {
    for (;;) {
      const left = maxInstructions - machine.workDone;
      if (left <= 0) { stop = { kind: 'limit' }; break; }
      const paced = machine.inputOpen;
      const wallNs = (performance.now() - started) * 1e6;
      stop = machine.run(Math.min(CHUNK, left), paced ? Math.floor(virtualStart + wallNs + IDLE_SLACK_NS) : Infinity);
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
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = machine.stats();
  if (opts.stats) {
    writeFileSync(opts.stats, JSON.stringify({ stop, wallSeconds: seconds, ...stats }, null, 2) + '\n');
  }
  if (bundled) {
    const rows = parseWorkloadLines(out.text);
    process.stdout.write('\n' + formatWorkloadTable(rows) + '\n');
    process.stdout.write(`${(stats.instructions / 1e6).toFixed(1)} million guest instructions in ${seconds.toFixed(2)} s `
      + `(${(stats.instructions / seconds / 1e6).toFixed(1)} MIPS); RDTSC counts virtual cycles.\n`);
  }
  // The bundled run answers for JeOS as a test would: JeOS's own code (0 all passed, 1 a
  // failure, 2 a panic; guests/jeos/README.md), not isa-debug-exit's (code << 1) | 1.
  if (bundled && stop.kind === 'exit') return stop.status >> 1;
  return statusOf(stop);
}

/** The process exit status for how the guest stopped. */
export function statusOf(stop: StopReason): number {
  switch (stop.kind) {
    case 'exit': return stop.status & 0xff;
    case 'halted':
    case 'reset':
      return 0;
    case 'limit':
      process.stderr.write('wasmvisor: instruction limit reached\n');
      return 0;
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
