/**
 * `wasmvisor xl`: the management domain's toolstack, in the style of Xen's `xl`. One
 * process is the host: `xl create` boots each vm.json as a PV domain (its boot kernel must
 * be a PV kernel; the virtualization mode is pv whatever the file says), runs them
 * round-robin and prints each console line with its domain's name; `xl shell` reads
 * commands (create, list, console, destroy, run, quit) from standard input.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { prepareMachine } from '../config/node-machine.js';
import { ManagementDomain, type DomainInfo } from '../vmm/pv/xl.js';
import { UsageError, errCode, setExitStatus } from './errors.js';

/** The `xl list` table (Xen's columns: Name, ID, Mem, State; here also instructions and
 *  hypercalls). */
export function formatList(doms: DomainInfo[]): string {
  const rows = [['Name', 'ID', 'Mem', 'State', 'Instructions', 'Hypercalls'],
    ...doms.map((d) => [d.name, String(d.id), String(d.memMiB), d.state,
      String(d.instructions), String(d.hypercalls)])];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])))
    .join('  ')).join('\n') + '\n' + doms.filter((d) => d.stop)
    .map((d) => `${d.name}: ${d.stop}\n`).join('');
}

async function createFrom(xl: ManagementDomain, file: string, name?: string,
  closers: (() => void)[] = []): Promise<number> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${errCode(e)}`);
  }
  const prepared = prepareMachine(json as never, dirname(file));
  closers.push(prepared.close);
  for (const u of prepared.unsupported) process.stderr.write(`xl: ${file}: ${u}\n`);
  const vmName = name ?? (json as { name?: string }).name ?? basename(file, '.json');
  return xl.create(vmName, prepared.machine);
}

/** Console bytes to stdout, one line at a time with the domain's name before it. */
function lineWriter(xl: ManagementDomain): (id: number, c: string) => void {
  const bufs = new Map<number, string>();
  return (id, c) => {
    if (c === '\r') return;
    const b = (bufs.get(id) ?? '') + c;
    if (c !== '\n') { bufs.set(id, b); return; }
    const name = xl.list().find((d) => d.id === id)?.name ?? String(id);
    process.stdout.write(`[${name}] ${b}`);
    bufs.set(id, '');
  };
}

export function registerXl(program: Command): void {
  const xl = program.command('xl')
    .description('The management domain (Xen\'s xl): PV domains from vm.json files');
  xl.command('create')
    .description('boot each vm.json as a PV domain, run them round-robin to the end, then '
      + 'print the domain list')
    .argument('<vm.json...>')
    .option('--max-instructions <n>', 'instructions per domain at most')
    .action(async function (this: Command, files: string[], o: { maxInstructions?: string }) {
      const m = new ManagementDomain();
      m.onConsole = lineWriter(m);
      const closers: (() => void)[] = [];
      try {
        for (const f of files) await createFrom(m, f, undefined, closers);
        const max = o.maxInstructions === undefined ? Infinity : Number(o.maxInstructions);
        if (!(max > 0)) throw new UsageError('--max-instructions must be a positive number');
        m.run(max);
        const list = m.list();
        process.stdout.write(formatList(list));
        setExitStatus(this, list.slice(1).every((d) => d.state === 'shutdown') ? 0 : 1);
      } finally {
        closers.forEach((c) => c());
      }
    });
  xl.command('shell')
    .description('read xl commands from standard input: create FILE [NAME], list, '
      + 'console ID, destroy ID, run [N], quit')
    .action(async () => {
      const m = new ManagementDomain();
      const closers: (() => void)[] = [];
      const rl = createInterface({ input: process.stdin, terminal: false });
      const out = (s: string) => process.stdout.write(s);
      try {
        for await (const line of rl) {
          const [cmd, ...args] = line.trim().split(/\s+/);
          try {
            if (!cmd) continue;
            if (cmd === 'quit' || cmd === 'exit') break;
            else if (cmd === 'create') {
              if (!args[0]) throw new UsageError('create FILE [NAME]');
              out(`domain ${await createFrom(m, args[0], args[1], closers)}\n`);
            } else if (cmd === 'list') out(formatList(m.list()));
            else if (cmd === 'console') out(m.console(Number(args[0])));
            else if (cmd === 'destroy') m.destroy(Number(args[0]));
            else if (cmd === 'run') m.run(args[0] ? Number(args[0]) : Infinity);
            else throw new UsageError(`unknown command "${cmd}" (create, list, console, `
              + 'destroy, run, quit)');
          } catch (e) {
            process.stderr.write(`xl: ${(e as Error).message}\n`);
          }
        }
      } finally {
        closers.forEach((c) => c());
      }
    });
}
