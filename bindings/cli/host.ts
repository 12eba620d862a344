/**
 * `wasmvisor host`: many VMs on one host, each in its own worker thread, under the credit
 * scheduler (bindings/host). `host start` runs VMs from vm.json files, OVF/OVA appliances,
 * snapshots, kernels or the bundled JeOS and, with --listen, serves the management API;
 * `host list|pause|resume|stop|console|add|snapshot --connect URL` talk to it while the
 * VMs run. `host bench` measures aggregate MIPS on 1 and 2 threads and memory per idle VM.
 */
import type { Command } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, basename } from 'node:path';
import { UsageError, setExitStatus } from './main.js';
import { Host, type VmInfo, type VmSpec } from '../host/host.js';
import { serveControl } from '../host/control.js';

interface StartOptions {
  vm?: string[]; threads?: string; listen?: string; keep?: boolean; json?: boolean;
  memoryBudget?: string; console?: string; quiet?: boolean;
}

const num = (v: string, what: string): number => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${what} ${v}: not a whole number`);
  return Number(v);
};

/** A VM from a file name: vm.json, .ova/.ovf, .wvsnap, `jeos`, or a Multiboot kernel. */
async function specOf(text: string, temps: string[]): Promise<VmSpec> {
  const opts: Record<string, string> = {};
  let file = text;
  if (text.includes('=')) {
    for (const kv of text.split(',')) {
      const i = kv.indexOf('=');
      if (i < 0) throw new UsageError(`--vm ${text}: expected key=value pairs`);
      opts[kv.slice(0, i).trim()] = kv.slice(i + 1);
    }
    file = opts.file ?? 'jeos';
    const known = ['file', 'name', 'weight', 'cap', 'mem', 'max', 'console-limit', 'cmdline',
      'interactive'];
    for (const k of Object.keys(opts)) {
      if (!known.includes(k)) {
        throw new UsageError(`--vm: unknown key ${k} (known: ${known.join(', ')})`);
      }
    }
  }
  const spec: VmSpec = {};
  const ext = extname(file).toLowerCase();
  if (file === 'jeos') spec.jeos = true;
  else if (ext === '.json') spec.config = file;
  else if (ext === '.wvsnap') spec.snapshot = file;
  else if (ext === '.ova' || ext === '.ovf') {
    const { importOva } = await import('../ovf/node/files.js');
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-host-'));
    temps.push(dir);
    await importOva(file, join(dir, 'vm'));
    spec.config = join(dir, 'vm', 'vm.json');
    spec.name ??= basename(file, ext);
  } else spec.kernel = file;
  if (opts.name) spec.name = opts.name;
  if (opts.weight) spec.weight = num(opts.weight, 'weight');
  if (opts.cap) spec.cap = num(opts.cap, 'cap');
  if (opts.mem) spec.memMiB = num(opts.mem, 'mem');
  if (opts.max) spec.maxInstructions = num(opts.max, 'max');
  if (opts['console-limit']) spec.consoleLimit = num(opts['console-limit'], 'console-limit');
  if (opts.cmdline !== undefined) spec.cmdline = opts.cmdline;
  if (opts.interactive) spec.interactive = opts.interactive !== '0';
  return spec;
}

function reasonText(r: VmInfo['reason']): string {
  if (!r) return '';
  switch (r.kind) {
    case 'exit': return `exit status ${r.status}`;
    case 'console-flood': return `console flood (${r.bytes} bytes)`;
    case 'shutdown': case 'halted': case 'invalid': case 'stopped': case 'failed':
      return `${r.kind}: ${r.why}`;
    default: return r.kind;
  }
}

/** The VMs as a table (one line each). */
export function formatVms(vms: VmInfo[]): string {
  const rows = [['id', 'name', 'state', 'instructions', 'share', 'weight', 'cap', 'slices',
    'console', 'wait ms (mean/max)', 'reason']];
  for (const v of vms) {
    rows.push([String(v.id), v.name, v.state, v.instructions.toLocaleString('en-US'),
      `${(v.share * 100).toFixed(1)}%`, String(v.weight), v.cap ? `${v.cap}%` : '-',
      String(v.slices), `${v.consoleBytes} B`,
      `${v.waitMsMean.toFixed(1)}/${v.waitMsMax.toFixed(1)}`, reasonText(v.reason)]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()).join('\n') + '\n';
}

async function start(files: string[], o: StartOptions): Promise<number> {
  const temps: string[] = [];
  const specs: VmSpec[] = [];
  try {
    for (const f of files) specs.push(await specOf(f, temps));
    for (const v of o.vm ?? []) specs.push(await specOf(v, temps));
    if (!specs.length && !o.listen) {
      throw new UsageError('host start: give VMs (files, `jeos` or --vm) or --listen');
    }
    const host = new Host({
      threads: o.threads ? num(o.threads, '--threads') : undefined,
      memoryBudget: o.memoryBudget ? num(o.memoryBudget, '--memory-budget') * 2 ** 20
        : undefined,
    });
    let url: string | undefined;
    let stopServer = () => {};
    if (o.listen !== undefined) {
      const [addr, p] = o.listen.includes(':') ? o.listen.split(':') : ['127.0.0.1', o.listen];
      const s = await serveControl(host, num(p, '--listen'), addr);
      url = s.url;
      stopServer = () => s.server.close();
      process.stderr.write(`wasmvisor host: management API on ${url}\n`);
    }
    const started: number[] = [];
    for (const s of specs) {
      try {
        const id = await host.start(s);
        started.push(id);
        if (!o.quiet) process.stderr.write(`wasmvisor host: started ${host.info(id).name}\n`);
        if (o.console === host.info(id).name || o.console === String(id)) {
          host.attach(id, (b) => process.stdout.write(b));
        }
      } catch (e) {
        process.stderr.write(`wasmvisor host: ${(e as Error).message}\n`);
      }
    }
    for (const id of started) {
      void host.wait(id).then((v) => {
        if (!o.quiet) process.stderr.write(`wasmvisor host: ${v.name} ${v.state}: ` +
          `${reasonText(v.reason)}\n`);
      });
    }
    if (o.keep && url) {
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
    }
    const vms = await host.waitAll();
    stopServer();
    await host.close();
    if (o.json) {
      process.stdout.write(JSON.stringify({ vms, scheduler: host.schedulerStats() }, null, 2) +
        '\n');
    } else {
      const s = host.schedulerStats();
      process.stdout.write(formatVms(vms) + `scheduler: ${s.threads} threads, slice ` +
        `${s.slice} instructions, ${s.periods} periods, fairness (Jain) ` +
        `${s.fairness.toFixed(3)}\n`);
    }
    return vms.some((v) => v.state === 'failed') ? 4 : 0;
  } finally {
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  }
}

function connectUrl(o: { connect?: string }): string {
  const u = o.connect ?? process.env.WASMVISOR_HOST;
  if (!u) {
    throw new UsageError('give --connect URL (or WASMVISOR_HOST), as `host start --listen` ' +
      'printed');
  }
  return u.replace(/\/$/, '');
}

async function call(base: string, method: string, path: string, body?: BodyInit):
  Promise<Response> {
  let r: Response;
  try {
    r = await fetch(base + path, { method, body });
  } catch (e) {
    throw new UsageError(`cannot reach the host at ${base}: ${(e as Error).message}`);
  }
  if (!r.ok) {
    const t = await r.text();
    let msg = t;
    try { msg = (JSON.parse(t) as { error: string }).error; } catch { /* text */ }
    throw new UsageError(msg);
  }
  return r;
}

export function registerHost(program: Command): void {
  const host = program.command('host')
    .description('run many VMs, each in its own thread, under a credit scheduler; manage them');
  host.command('start [vms...]')
    .description('run VMs (vm.json, .ova/.ovf, .wvsnap, a Multiboot kernel, or `jeos`) until '
      + 'they all end; prints their states and counters')
    .option('--vm <spec>', 'a VM with options: file=F,name=N,weight=W,cap=C,mem=MiB,max=N,'
      + 'console-limit=BYTES,cmdline=TEXT; repeatable', (v: string, p: string[] = []) => [...p, v])
    .option('--threads <n>', 'host threads the VMs share (default: the cores)')
    .option('--memory-budget <MiB>', 'guest RAM the host grants in all (default 2048)')
    .option('--listen <[addr:]port>', 'serve the management API (HTTP, JSON)')
    .option('--keep', 'with --listen: keep serving until Ctrl-C')
    .option('--console <vm>', 'copy this VM\'s console to stdout')
    .option('--json', 'print the final states as JSON')
    .option('--quiet', 'no progress lines on stderr')
    .action(async function (this: Command, vms: string[], o: StartOptions) {
      setExitStatus(this, await start(vms, o));
    });
  const conn = (c: Command) => c.option('--connect <url>', 'the host (`host start --listen`)');
  conn(host.command('list').description('the VMs with their state and counters')
    .option('--json', 'JSON output'))
    .action(async (o: { connect?: string; json?: boolean }) => {
      const vms = await (await call(connectUrl(o), 'GET', '/vms')).json() as VmInfo[];
      process.stdout.write(o.json ? JSON.stringify(vms, null, 2) + '\n' : formatVms(vms));
    });
  for (const verb of ['pause', 'resume', 'stop'] as const) {
    conn(host.command(`${verb} <vm>`).description(`${verb} a VM (by id or name)`))
      .action(async (vm: string, o: { connect?: string }) => {
        const v = await (await call(connectUrl(o), 'POST',
          `/vms/${encodeURIComponent(vm)}/${verb}`)).json() as VmInfo;
        process.stdout.write(`${v.name}: ${v.state}\n`);
      });
  }
  conn(host.command('console <vm>').description('print a VM\'s console; --follow streams '
    + 'it and sends what you type').option('--follow', 'keep streaming until the VM ends'))
    .action(async (vm: string, o: { connect?: string; follow?: boolean }) => {
      const base = connectUrl(o);
      const path = `/vms/${encodeURIComponent(vm)}`;
      const r = await call(base, 'GET', `${path}/console${o.follow ? '?follow=1' : ''}`);
      const onData = (d: Buffer) => {
        void call(base, 'POST', `${path}/input`, new Uint8Array(d));
      };
      if (o.follow) process.stdin.on('data', onData);
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
        process.stdout.write(chunk);
      }
      if (o.follow) { process.stdin.off('data', onData); process.stdin.pause(); }
    });
  conn(host.command('add <vm>').description('start one more VM (as `host start` takes them)'))
    .action(async (vm: string, o: { connect?: string }) => {
      const temps: string[] = [];
      const spec = await specOf(vm, temps);
      const v = await (await call(connectUrl(o), 'POST', '/vms', JSON.stringify(spec)))
        .json() as VmInfo;
      process.stdout.write(`${v.name}: ${v.state} (id ${v.id})\n`);
    });
  conn(host.command('snapshot <vm> <file>').description('save a running VM to a snapshot'))
    .action(async (vm: string, file: string, o: { connect?: string }) => {
      const r = await call(connectUrl(o), 'GET', `/vms/${encodeURIComponent(vm)}/snapshot`);
      writeFileSync(file, new Uint8Array(await r.arrayBuffer()));
      process.stdout.write(`${vm}: snapshot written to ${file}\n`);
    });
  host.command('bench')
    .description('aggregate guest MIPS of busy VMs on 1 and 2 threads; memory per idle VM')
    .option('--vms <n>', 'busy VMs (default 4)', '4')
    .option('--idle <n>', 'idle VMs for the memory figure (default 8)', '8')
    .option('--json', 'JSON output')
    .action(async (o: { vms: string; idle: string; json?: boolean }) => {
      const { hostBench, formatHostBench } = await import('../host/bench.js');
      const r = await hostBench({ busy: num(o.vms, '--vms'), idle: num(o.idle, '--idle') });
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : formatHostBench(r));
    });
}
