/**
 * `wasmvisor restore FILE`: continue a VM from a snapshot (`wasmvisor run --snapshot-at N
 * --snapshot-file FILE`, the library's saveSnapshot, or the web page's "Save snapshot"),
 * COM1 on stdin/stdout, with the exit statuses of `wasmvisor run`.
 * `wasmvisor snapshot info FILE`: what a snapshot holds (JSON with --json).
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError, errCode, setExitStatus } from './main.js';
import { restoreSnapshot, saveSnapshot, snapshotInfo } from '../snapshot/index.js';
import type { StopReason } from '../machine/machine.js';
import { statusOf } from './run.js';

interface RestoreOptions {
  maxInstructions?: string;
  stats?: string;
  snapshotAt?: string;
  snapshotFile?: string;
}

const CHUNK = 2_000_000;

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read snapshot ${path}: ${errCode(e)}`);
  }
}

function count(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${what} ${text}: not a whole number`);
  return Number(text);
}

export function registerSnapshot(program: Command): void {
  program
    .command('restore <file>')
    .description('continue a VM from a snapshot file (COM1 on stdin/stdout)')
    .option('--max-instructions <n>', 'stop after this many more guest instructions')
    .option('--stats <file>', 'write the counters as JSON at exit')
    .option('--snapshot-at <n>', 'save a snapshot again once the VM has run this many '
      + 'instructions in all')
    .option('--snapshot-file <file>', 'where --snapshot-at writes it')
    .action(async function (this: Command, file: string, opts: RestoreOptions) {
      setExitStatus(this, await restoreCommand(file, opts));
    });
  const snap = program.command('snapshot').description('inspect snapshot files');
  snap.command('info <file>')
    .description('what a snapshot holds: its format version, machine, disks and point')
    .option('--json', 'JSON output')
    .action((file: string, opts: { json?: boolean }) => {
      let info;
      try {
        info = snapshotInfo(readFile(file));
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`${file}: ${(e as Error).message}`);
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(info, null, 2) + '\n');
        return;
      }
      const disks = info.disks.map((d, i) => d ? `ide${i} ${d.size} bytes` : null)
        .filter(Boolean).join(', ') || 'none';
      process.stdout.write([
        `format version ${info.version}, core layout ${info.layout}`,
        `memory ${info.ramBytes / 2 ** 20} MiB, mode ${info.vmm.mode}, ` +
          `${info.instructionsPerSecond} instructions per virtual second`,
        `taken after ${info.instructions} instructions, virtual time ${info.virtualNs} ns`,
        `disks: ${disks}`,
        ...(info.label ? [`label: ${info.label}`] : []),
      ].join('\n') + '\n');
    });
}

async function restoreCommand(file: string, opts: RestoreOptions): Promise<number> {
  const max = count(opts.maxInstructions, '--max-instructions') ?? Infinity;
  const at = count(opts.snapshotAt, '--snapshot-at');
  if ((at === undefined) !== (opts.snapshotFile === undefined)) {
    throw new UsageError('--snapshot-at and --snapshot-file go together');
  }
  const bytes = readFile(file);
  const out: number[] = [];
  const flush = () => {
    if (out.length) process.stdout.write(Uint8Array.from(out.splice(0)));
  };
  let machine;
  try {
    machine = await restoreSnapshot(bytes, {
      serialOut: (b) => { out.push(b); if (b === 10 || out.length >= 4096) flush(); },
    });
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  const start = machine.workDone;
  let taken = at === undefined;
  machine.inputOpen = !process.stdin.isTTY ? false : true;
  const onData = (chunk: Buffer) => machine.input(chunk);
  if (machine.inputOpen) process.stdin.on('data', onData);
  let stop: StopReason;
  try {
    for (;;) {
      const left = max - (machine.workDone - start);
      if (left <= 0) { stop = { kind: 'limit' }; break; }
      if (!taken && machine.workDone >= at!) {
        flush();
        writeFileSync(opts.snapshotFile!, saveSnapshot(machine, { label: 'wasmvisor restore' }));
        taken = true;
      }
      const toSnap = taken ? Infinity : at! - machine.workDone;
      stop = machine.run(Math.min(CHUNK, left, toSnap));
      flush();
      if (stop.kind !== 'limit') break;
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    flush();
    if (machine.inputOpen) {
      process.stdin.off('data', onData);
      process.stdin.pause();
    }
  }
  if (opts.stats) {
    writeFileSync(opts.stats, JSON.stringify({ stop, ...machine.stats() }, null, 2) + '\n');
  }
  return statusOf(stop);
}
