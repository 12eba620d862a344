#!/usr/bin/env node
/**
 * Runs a kernel (JeOS by default) under QEMU and under wasmvisor and compares what the
 * two print on the serial console, line by line, except what is measured: the values of
 * `cycles`, `per_iter` and every `*_cycles` key, and the `info ...` lines (CPU vendor,
 * hypervisor signature, memory size, PCI functions), which describe the host rather
 * than the guest.
 * The exit statuses must match too (QEMU's isa-debug-exit gives (code << 1) | 1; a guest
 * that powers off, as JeOS does when every check passed, ends both with 0).
 *
 *   node scripts/compare-qemu.mjs [--kernel FILE] [--disk FILE | --no-disk]
 *                                 [--append CMDLINE] [--mem MIB] [--timeout SECONDS]
 *                                 [--icount] [--show]
 *   node scripts/compare-qemu.mjs --a FILE --b FILE    compare two saved outputs
 *
 * --icount runs QEMU with `-icount shift=0,sleep=off`: its virtual clock, and so RDTSC,
 * then advances one tick per instruction, so the cycles table shows instructions per
 * iteration (QEMU counts every REP iteration; time halted waiting for an interrupt
 * counts too).
 *
 * A disk is copied to a temporary file for each run, so both start from the same bytes
 * and the original is never written. Exit status: 0 same, 1 different, 2 bad arguments
 * or QEMU missing, 3 QEMU ran but `wasmvisor run` is not available (yet) or failed.
 *
 * The module also exports the pieces (runQemu, runWasmvisor, compareOutputs) for tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_KERNEL = join(ROOT, 'guests/jeos/jeos.elf');
export const DEFAULT_DISK = join(ROOT, 'guests/jeos/disk.img');

/** Keys whose values are measurements and may differ between two correct runs. */
const MEASURED_KEY = /^(cycles|per_iter|[a-z_]+_cycles)$/;

/** Splits console output into lines: CR LF and LF alike, trailing empty lines dropped. */
export function outputLines(text) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A line with every measured value replaced by `*`; null for a line that is skipped. */
export function maskLine(line) {
  if (line.startsWith('info ')) return null;
  return line
    .split(' ')
    .map((word) => {
      const eq = word.indexOf('=');
      return eq > 0 && MEASURED_KEY.test(word.slice(0, eq)) ? `${word.slice(0, eq + 1)}*` : word;
    })
    .join(' ');
}

/**
 * Compares two console outputs. Returns { same, differences }, each difference
 * { index, a, b } holding the original lines (undefined past the end of one output).
 */
export function compareOutputs(aText, bText) {
  const keep = (text) => outputLines(text).map((l) => ({ l, m: maskLine(l) })).filter((x) => x.m !== null);
  const a = keep(aText);
  const b = keep(bText);
  const differences = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i]?.m !== b[i]?.m) differences.push({ index: i, a: a[i]?.l, b: b[i]?.l });
  }
  return { same: differences.length === 0, differences };
}

export function hasQemu() {
  return spawnSync('qemu-system-i386', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs a command with a time limit; resolves { status, stdout, stderr, timedOut }. With
 * `feed` ({ prompt, lines }), each line is written to the command's stdin after the
 * next appearance of `prompt` in its output (input sent before a guest is ready to
 * receive it would be lost, as on a real UART); stdin closes after the last one.
 */
function run(cmd, args, timeoutMs, feed) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    let timedOut = false;
    let seen = 0;
    let fed = 0;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out.push(d);
      if (!feed) return;
      const text = Buffer.concat(out).toString('latin1');
      for (let i = text.indexOf(feed.prompt, seen); i >= 0 && fed < feed.lines.length; i = text.indexOf(feed.prompt, seen)) {
        seen = i + feed.prompt.length;
        child.stdin.write(`${feed.lines[fed++]}\n`);
        if (fed === feed.lines.length) child.stdin.end();
      }
    });
    child.stderr.on('data', (d) => err.push(d));
    child.stdin?.on('error', () => {}); // the guest may exit before reading everything
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolvePromise({
        status,
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

/** Copies the disk (if any) to a private temporary file; returns { path, cleanup }. */
export function scratchDisk(disk) {
  if (!disk) return { path: undefined, cleanup: () => {} };
  if (!existsSync(disk)) throw new Error(`disk image not found: ${disk}`);
  const dir = mkdtempSync(join(tmpdir(), 'jeos-disk-'));
  const path = join(dir, 'disk.img');
  copyFileSync(disk, path);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Boots `kernel` under QEMU with the platform wasmvisor models (multiboot, COM1 on
 * stdio, isa-debug-exit at 0xF4, no NIC, the disk as primary IDE master; QEMU's default
 * CPU unless `cpu` names another; `feed` types lines on COM1, see run()). The disk is
 * used as given (callers pass a scratch copy). Resolves { status, output, stderr, timedOut }.
 */
export async function runQemu({ kernel = DEFAULT_KERNEL, disk, append, mem = 32, cpu, feed, icount = false, timeoutMs = 60_000 } = {}) {
  const args = [
    '-accel', 'tcg', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-nic', 'none',
    '-no-reboot', '-m', String(mem),
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-kernel', kernel,
  ];
  if (append !== undefined) args.push('-append', append);
  if (cpu !== undefined) args.push('-cpu', cpu);
  if (icount) args.push('-icount', 'shift=0,sleep=off');
  if (disk) args.push('-drive', `file=${disk},format=raw,if=ide,index=0,media=disk`);
  const r = await run('qemu-system-i386', args, timeoutMs, feed);
  return { status: r.status, output: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
}

/** Whether tsx (a dev dependency) can be loaded, to run the TypeScript sources directly. */
function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx');
    return true;
  } catch {
    return false;
  }
}

/**
 * Boots `kernel` under `wasmvisor run`: the TypeScript sources through tsx in a checkout
 * (so a stale build is never compared), else the built CLI. Resolves like runQemu.
 */
export async function runWasmvisor({ kernel = DEFAULT_KERNEL, disk, append, mem, timeoutMs = 600_000 } = {}) {
  const runArgs = ['run', '--kernel', kernel];
  if (append !== undefined) runArgs.push('--append', append);
  if (disk) runArgs.push('--disk', disk);
  if (mem !== undefined) runArgs.push('--mem', `${mem}M`);
  const args = hasTsx()
    ? [
        '--import', 'tsx', '--input-type=module', '-e',
        `const m = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'bindings/cli/main.ts')).href)});` +
          'process.exitCode = await m.main(process.argv.slice(1));',
        '--', ...runArgs,
      ]
    : [join(ROOT, 'bin/wasmvisor.js'), ...runArgs];
  const r = await run(process.execPath, args, timeoutMs);
  return { status: r.status, output: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
}

function parseArgs(argv) {
  const opts = { kernel: DEFAULT_KERNEL, disk: DEFAULT_DISK, timeout: 600 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${k} needs a value`);
      return argv[++i];
    };
    switch (k) {
      case '--kernel': opts.kernel = resolve(value()); break;
      case '--disk': opts.disk = resolve(value()); break;
      case '--no-disk': opts.disk = undefined; break;
      case '--append': opts.append = value(); break;
      case '--mem': opts.mem = Number(value()); break;
      case '--timeout': opts.timeout = Number(value()); break;
      case '--a': opts.a = value(); break;
      case '--b': opts.b = value(); break;
      case '--show': opts.show = true; break;
      case '--icount': opts.icount = true; break;
      case '-h': case '--help': opts.help = true; break;
      default: throw new Error(`unknown argument: ${k}`);
    }
  }
  if (opts.mem !== undefined && !(Number.isInteger(opts.mem) && opts.mem >= 8)) throw new Error('--mem takes a size in MiB, at least 8');
  if (!(opts.timeout > 0)) throw new Error('--timeout takes a number of seconds');
  if ((opts.a === undefined) !== (opts.b === undefined)) throw new Error('--a and --b go together');
  return opts;
}

/** The per-iteration cycles of each `wl` line, side by side (measurements, not compared). */
export function cyclesTable(aName, bName, aText, bText) {
  const perIter = (text) => {
    const m = new Map();
    for (const l of outputLines(text)) {
      const w = l.split(' ');
      const kv = w.find((x) => x.startsWith('per_iter='));
      if (w[0] === 'wl' && kv) m.set(w[1], kv.slice('per_iter='.length));
    }
    return m;
  };
  const a = perIter(aText);
  const b = perIter(bText);
  const names = [...new Set([...a.keys(), ...b.keys()])];
  const rows = [['workload', `${aName} cycles/iter`, `${bName} cycles/iter`], ...names.map((n) => [n, a.get(n) ?? '-', b.get(n) ?? '-'])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

function report(aName, bName, aText, bText) {
  const { same, differences } = compareOutputs(aText, bText);
  if (same) {
    console.log(`same output (${outputLines(aText).length} lines; measured values and info lines ignored)`);
    return 0;
  }
  console.log(`${differences.length} line(s) differ:`);
  for (const d of differences.slice(0, 40)) {
    console.log(`  line ${d.index + 1}:`);
    console.log(`    ${aName}: ${d.a ?? '(missing)'}`);
    console.log(`    ${bName}: ${d.b ?? '(missing)'}`);
  }
  return 1;
}

async function cli(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    console.error(`compare-qemu: ${e.message}`);
    return 2;
  }
  if (opts.help) {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^#!.*\n\/\*\*?/, '').replace(/^ \* ?/gm, ''));
    return 0;
  }
  if (opts.a !== undefined) {
    for (const f of [opts.a, opts.b]) if (!existsSync(f)) { console.error(`compare-qemu: no such file: ${f}`); return 2; }
    return report(opts.a, opts.b, readFileSync(opts.a, 'latin1'), readFileSync(opts.b, 'latin1'));
  }
  if (!existsSync(opts.kernel)) { console.error(`compare-qemu: kernel not found: ${opts.kernel}`); return 2; }
  if (!hasQemu()) { console.error('compare-qemu: qemu-system-i386 not found; install QEMU (Debian: qemu-system-x86)'); return 2; }

  const timeoutMs = opts.timeout * 1000;
  const qDisk = scratchDisk(opts.disk);
  const q = await runQemu({ kernel: opts.kernel, disk: qDisk.path, append: opts.append, mem: opts.mem ?? 32, icount: opts.icount, timeoutMs }).finally(qDisk.cleanup);
  console.log(`qemu: exit status ${q.status}${q.timedOut ? ' (timed out)' : ''}, ${outputLines(q.output).length} lines`);
  if (opts.show) process.stdout.write(q.output);

  const wDisk = scratchDisk(opts.disk);
  const w = await runWasmvisor({ kernel: opts.kernel, disk: wDisk.path, append: opts.append, mem: opts.mem, timeoutMs }).finally(wDisk.cleanup);
  if (outputLines(w.output).length === 0) {
    console.log(`wasmvisor: run did not boot the kernel (exit status ${w.status}): ${w.stderr.trim() || '(no message)'}`);
    console.log('only the QEMU half ran');
    return 3;
  }
  console.log(`wasmvisor: exit status ${w.status}${w.timedOut ? ' (timed out)' : ''}, ${outputLines(w.output).length} lines`);
  if (opts.show) process.stdout.write(w.output);
  console.log(cyclesTable('qemu', 'wasmvisor', q.output, w.output));
  let code = report('qemu', 'wasmvisor', q.output, w.output);
  if (q.status !== w.status) {
    console.log(`exit status differs: qemu ${q.status}, wasmvisor ${w.status}`);
    code = 1;
  }
  return code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
