/**
 * JeOS, the guest kernel: the committed image boots under QEMU (the reference platform)
 * and every workload and check completes with plausible results; the image is what the
 * build script makes from the sources and holds no x87/SSE instruction; the comparison
 * script masks exactly the measured values.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
// @ts-expect-error: a plain ESM script without type declarations
import * as compare from '../../scripts/compare-qemu.mjs';
import { hasTool } from '../helpers/tools.js';

const ROOT = resolve(__dirname, '../..');
const JEOS = join(ROOT, 'guests/jeos');
const KERNEL = join(JEOS, 'jeos.elf');
const DISK = join(JEOS, 'disk.img');

const hasQemu = hasTool('qemu-system-i386');
const hasObjdump = hasTool('objdump');
const hasToolchain = hasTool('gcc -m32') && hasTool('nasm') && hasTool('ld');

interface WlDef { name: string; iters: number; inKernel: boolean }

/** The workload table as the kernel's source declares it (common/wl.c). */
function workloadTable(): WlDef[] {
  const src = readFileSync(join(JEOS, 'common/wl.c'), 'utf8');
  const defs = [...src.matchAll(/\[WL_[A-Z]+\]\s*=\s*\{\s*"([a-z]+)",\s*(\d+),\s*([01])\s*\}/g)];
  return defs.map((m) => ({ name: m[1], iters: Number(m[2]), inKernel: m[3] === '1' }));
}

/** `wl <name> k=v ...` lines, keyed by name, with their fields. */
function workloadLines(out: string): Map<string, Record<string, string>> {
  const m = new Map<string, Record<string, string>>();
  for (const line of compare.outputLines(out) as string[]) {
    const w = line.split(' ');
    if (w[0] !== 'wl') continue;
    const fields: Record<string, string> = {};
    for (const kv of w.slice(2)) {
      const eq = kv.indexOf('=');
      fields[eq > 0 ? kv.slice(0, eq) : kv] = eq > 0 ? kv.slice(eq + 1) : '';
    }
    m.set(w[1], fields);
  }
  return m;
}

interface Run { status: number | null; output: string; stderr: string; timedOut: boolean }

/** Boots JeOS under QEMU with a scratch copy of the disk (or none); returns the run and
 * the disk bytes after the run. */
async function boot(append?: string, withDisk = true): Promise<{ run: Run; disk?: Buffer }> {
  const d = compare.scratchDisk(withDisk ? DISK : undefined);
  try {
    const run: Run = await compare.runQemu({ kernel: KERNEL, disk: d.path, append, timeoutMs: 60_000 });
    return { run, disk: d.path ? readFileSync(d.path) : undefined };
  } finally {
    d.cleanup();
  }
}

describe('JeOS image', () => {
  it('carries a valid multiboot header in its first 8 KiB (Multiboot 0.6.96, 3.1)', () => {
    const img = readFileSync(KERNEL);
    expect(img.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    let found = -1;
    for (let off = 0; off + 12 <= Math.min(img.length, 8192); off += 4) {
      const magic = img.readUInt32LE(off);
      if (magic !== 0x1badb002) continue;
      const flags = img.readUInt32LE(off + 4);
      if (((magic + flags + img.readUInt32LE(off + 8)) >>> 0) === 0) { found = off; break; }
    }
    expect(found).toBeGreaterThanOrEqual(0);
    // ELF kernel: the a.out-kludge bit (16) is clear, memory info (bit 1) is requested.
    const flags = img.readUInt32LE(found + 4);
    expect(flags & 0x10000).toBe(0);
    expect(flags & 0x2).toBe(2);
  });

  it.skipIf(!hasObjdump)('holds no x87, MMX or SSE instruction, nor do its embedded programs (objdump)', () => {
    const img = readFileSync(KERNEL);
    // The user programs are ELF files inside the kernel's .rodata: cut each one out (an
    // ld-made file ends with its section header table) and disassemble it too.
    const files: Buffer[] = [img];
    for (let off = img.indexOf('\x7fELF', 1, 'latin1'); off > 0; off = img.indexOf('\x7fELF', off + 4, 'latin1')) {
      // ELFCLASS32, ET_EXEC, EM_386: skips the "\177ELF" string the kernel's loader compares with.
      if (img[off + 4] !== 1 || img.readUInt16LE(off + 16) !== 2 || img.readUInt16LE(off + 18) !== 3) continue;
      const end = off + img.readUInt32LE(off + 32) + img.readUInt16LE(off + 48) * img.readUInt16LE(off + 46);
      files.push(img.subarray(off, end));
    }
    expect(files.length).toBe(4); // the kernel, init, echo, true
    const dir = mkdtempSync(join(tmpdir(), 'jeos-objdump-'));
    try {
      for (const [n, f] of files.entries()) {
        const path = join(dir, `f${n}.elf`);
        writeFileSync(path, f);
        const r = spawnSync('objdump', ['-d', '--no-show-raw-insn', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
        expect(r.status, r.stderr).toBe(0);
        const insns = r.stdout.split('\n').filter((l) => /^\s*[0-9a-f]+:\t/.test(l)).map((l) => l.split('\t')[1] ?? '');
        expect(insns.length).toBeGreaterThan(50);
        const fpu = insns.filter((i) => /^(f[a-z0-9]+|emms|ldmxcsr|stmxcsr)\b/.test(i) || /%(x|y)?mm\d|%st/.test(i));
        expect(fpu).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasToolchain)('is rebuilt byte for byte by build.sh from the sources', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jeos-build-'));
    try {
      const outDir = join(JEOS, 'build');
      cpSync(JEOS, dir, { recursive: true, filter: (src) => src !== outDir && !src.startsWith(`${outDir}/`) });
      const r = spawnSync('sh', [join(dir, 'build.sh')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
      expect(sha(join(dir, 'jeos.elf'))).toBe(sha(KERNEL));
      expect(sha(join(dir, 'disk.img'))).toBe(sha(DISK));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasQemu)('JeOS under QEMU, default run', () => {
  let run: Run;
  let disk: Buffer;
  let lines: string[];
  let wl: Map<string, Record<string, string>>;
  const table = workloadTable();

  beforeAll(async () => {
    const r = await boot();
    run = r.run;
    disk = r.disk!;
    lines = compare.outputLines(run.output);
    wl = workloadLines(run.output);
  });

  it('boots, passes every check and powers off (ACPI S5): QEMU exits with status 0', () => {
    expect(run.timedOut).toBe(false);
    expect(lines[0]).toBe('jeos boot');
    expect(lines).toContain('ide0 sectors=1024'); // disk.img is 512 KiB
    // QEMU's pc machine: i440FX host bridge and the PIIX3 IDE function (class 01:01:80).
    expect(lines).toContain('info pci 00:00.0 8086:1237 class=060000');
    expect(lines).toContain('info pci 00:01.1 8086:7010 class=010180');
    // ...and the PIIX4 power-management function JeOS powers off through (8086:7113).
    expect(lines).toContain('info pci 00:01.3 8086:7113 class=068000');
    const checks = lines.filter((l) => l.startsWith('check '));
    expect(checks.length).toBe(16);
    expect(checks.filter((l) => !/^check \S+ ok\b/.test(l))).toEqual([]);
    expect(lines).toContain(`jeos summary workloads=${table.length} failures=0`);
    expect(lines[lines.length - 1]).toBe('jeos exit code=0');
    expect(run.status).toBe(0); // QEMU's status after a guest poweroff
  });

  it('runs exec, kills faulting processes with the right exception, and preempts', () => {
    expect(lines.some((l) => /^echo pid=\d+ says hello from an exec'd program$/.test(l))).toBe(true);
    expect(lines).toContain('check exec ok status=42');
    expect(lines).toContain('check preempt ok status=137');
    // Ring 3 touching the kernel image: #PF with error code P|U (read) and P|W|U (write).
    expect(lines.some((l) => /^jeos pid=\d+ killed #PF .* err=0x5 addr=0x00100000$/.test(l))).toBe(true);
    expect(lines.some((l) => /^jeos pid=\d+ killed #PF .* err=0x7 addr=0x00100000$/.test(l))).toBe(true);
    expect(lines.filter((l) => /^jeos pid=\d+ killed #GP /.test(l)).length).toBe(2); // IN and CLI at IOPL 0
    // The kernel itself faulting on a process's bad pointer (a write into its text, err
    // P|W from ring 0, EIP in the kernel at 1 MiB) ends that process only.
    expect(lines.some((l) => /^jeos pid=\d+ killed #PF eip=0x001[0-9a-f]{5} err=0x3 addr=0x08048000$/.test(l))).toBe(true);
  });

  it('prints one line per workload, in order, with the configured counts and cycles > 0', () => {
    expect([...wl.keys()]).toEqual(table.map((d) => d.name));
    for (const d of table) {
      const f = wl.get(d.name)!;
      expect(Number(f.iters), d.name).toBe(d.iters);
      const cycles = BigInt(f.cycles);
      expect(cycles > 0n, d.name).toBe(true);
      expect(BigInt(f.per_iter), d.name).toBe(cycles / BigInt(d.iters));
    }
  });

  it('gives plausible relative costs: call/ret < null system call < fork+wait < fork+exec+wait', () => {
    const per = (n: string) => BigInt(wl.get(n)!.per_iter);
    expect(per('callret') < per('syscall')).toBe(true);
    expect(per('syscall') < per('forkwait')).toBe(true);
    expect(per('forkwait') < per('forkexec')).toBe(true);
    // a demand-zero fault maps and clears a page: dearer than a null system call
    expect(per('pgfault') > per('syscall')).toBe(true);
  });

  it('measures the TLB workload against a baseline that fits in a TLB', () => {
    const f = wl.get('tlb')!;
    expect(f.pages).toBe('1024');
    expect(f.base_pages).toBe('8');
    expect(BigInt(f.base_cycles) > 0n).toBe(true);
  });

  it('computes the CRC-32 that zlib computes over the same bytes', () => {
    const f = wl.get('compute')!;
    const buf = Buffer.alloc(4096);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + 13) & 0xff;
    let crc = 0;
    for (let i = 0; i < Number(f.iters); i++) crc = crc32(buf, crc);
    expect(f.crc32).toBe(`0x${crc.toString(16).padStart(8, '0')}`);
    expect(Number(f.bytes)).toBe(4096 * Number(f.iters));
  });

  it('writes the disk through IDE: the sectors reach the image file and read back', () => {
    const f = wl.get('disk')!;
    const iters = Number(f.iters);
    expect(f.verify).toBe('ok');
    expect(Number(f.sectors)).toBe(iters * 8);
    expect(BigInt(f.write_cycles) + BigInt(f.read_cycles)).toBe(BigInt(f.cycles));
    // Sector layout written by the kernel: "JEOS", the LBA, then (lba * 2654435761 + i) mod 2^32.
    expect(disk.subarray(0, 8).toString('latin1')).toBe('JEOSDISK');
    for (let lba = 64; lba < 64 + iters * 8; lba++) {
      const s = disk.subarray(lba * 512, lba * 512 + 512);
      expect(s.toString('latin1', 0, 4), `lba ${lba}`).toBe('JEOS');
      expect(s.readUInt32LE(4)).toBe(lba);
      expect(s.readUInt32LE(508)).toBe(Number((BigInt(lba) * 2654435761n + 127n) & 0xffffffffn));
    }
    expect(disk.subarray((64 + iters * 8) * 512).every((b) => b === 0)).toBe(true);
  });

  it('prints the same lines in a second run, measured values aside (compare-qemu)', async () => {
    const again = await boot();
    const c = compare.compareOutputs(run.output, again.run.output);
    expect(c.differences).toEqual([]);
    expect(c.same).toBe(true);
    // ...while the masked values did change between the runs (they are measurements).
    expect(run.output).not.toBe(again.run.output);
  });
});

describe.skipIf(!hasQemu)('JeOS under QEMU, command line', () => {
  it('honours iters=, NAME= and only=', async () => {
    const { run } = await boot('only=syscall,in,compute,disk compute=3 iters=37');
    const wl = workloadLines(run.output);
    expect([...wl.keys()]).toEqual(['syscall', 'in', 'compute', 'disk']);
    expect([...wl.values()].map((f) => f.iters)).toEqual(['37', '37', '3', '37']);
    expect(run.output).toContain('jeos summary workloads=4 failures=0');
    expect(run.status).toBe(0);
  });

  it('skips the disk workload with a printed line when there is no disk', async () => {
    const { run } = await boot('only=disk', false);
    const lines = compare.outputLines(run.output);
    expect(lines).toContain('ide0 absent');
    expect(lines).toContain('wl disk skipped=no-disk');
    expect(run.status).toBe(0);
  });

  it('refuses a CPU without SYSENTER and CMOV with a clear panic (QEMU -cpu pentium)', async () => {
    const run: Run = await compare.runQemu({ kernel: KERNEL, cpu: 'pentium', timeoutMs: 60_000 });
    const lines = compare.outputLines(run.output);
    expect(lines).toContain('jeos missing CPU feature sep (CPUID.1:EDX bit 11)');
    expect(lines).toContain('jeos missing CPU feature cmov (CPUID.1:EDX bit 15)');
    expect(lines.some((l) => l.startsWith('panic: '))).toBe(true);
    expect(run.status).toBe(5); // (2 << 1) | 1
  });

  it('takes commands on COM1 through the receive interrupt with shell=1', async () => {
    const run: Run = await compare.runQemu({
      kernel: KERNEL, append: 'shell=1 only=in', timeoutMs: 60_000,
      feed: { prompt: 'jeos> ', lines: ['syscall 10', 'bogus', 'compute 2', 'exit'] },
    });
    const out = run.output.replaceAll('jeos> ', ''); // the prompts (the console does not echo)
    const lines = compare.outputLines(out);
    const wl = workloadLines(out);
    expect([...wl.keys()]).toEqual(['in', 'syscall', 'compute']);
    expect(wl.get('syscall')!.iters).toBe('10');
    const buf = Buffer.alloc(4096);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + 13) & 0xff;
    expect(wl.get('compute')!.crc32).toBe(`0x${crc32(buf, crc32(buf)).toString(16).padStart(8, '0')}`);
    expect(lines).toContain('jeos shell: unknown command or bad count: bogus');
    expect(lines[lines.length - 1]).toBe('jeos exit code=0');
    expect(run.status).toBe(0);
  });

  it('runs out of memory cleanly: the process is killed, the machine reports a failure', async () => {
    // QEMU -m 8 leaves about 1700 free frames; 3000 demand-zero pages cannot fit.
    const run: Run = await compare.runQemu({ kernel: KERNEL, mem: 8, append: 'only=pgfault pgfault=3000', timeoutMs: 60_000 });
    const lines = compare.outputLines(run.output);
    expect(lines.some((l) => /^jeos out of memory \(pid=1, 0 frames free\)$/.test(l))).toBe(true);
    expect(lines).toContain('jeos init exited status=142');
    expect(run.status).toBe(3); // (1 << 1) | 1
  });

  it('warns about an unknown workload or option and runs nothing it does not know', async () => {
    const { run } = await boot('only=nosuch bogus=1 syscall=x', false);
    const lines = compare.outputLines(run.output);
    expect(lines).toContain('jeos warning unknown workload in only=');
    expect(lines).toContain('jeos warning unknown option');
    expect(lines).toContain('jeos warning bad iteration count');
    expect(lines).toContain('jeos summary workloads=0 failures=0');
  });
});

describe('compare-qemu', () => {
  const a = 'jeos boot\ninfo cpu vendor=GenuineIntel\nwl syscall iters=10 via=int80 cycles=100 per_iter=10\nwl disk iters=1 sectors=8 write_cycles=5 read_cycles=6 verify=ok cycles=11 per_iter=11\n';

  it('ignores measured values, info lines and CR LF line ends', () => {
    const b = 'jeos boot\r\ninfo cpu vendor=Wasmvisor\r\nwl syscall iters=10 via=int80 cycles=999 per_iter=99\r\nwl disk iters=1 sectors=8 write_cycles=1 read_cycles=2 verify=ok cycles=3 per_iter=3\r\n';
    expect(compare.compareOutputs(a, b)).toEqual({ same: true, differences: [] });
  });

  it('reports a changed count, a changed result and a missing line', () => {
    expect(compare.compareOutputs(a, a.replace('iters=10', 'iters=11')).same).toBe(false);
    expect(compare.compareOutputs(a, a.replace('verify=ok', 'verify=FAIL')).same).toBe(false);
    const c = compare.compareOutputs(a, a.split('\n').slice(0, 3).join('\n'));
    expect(c.differences).toEqual([{ index: 2, a: a.split('\n')[3], b: undefined }]);
  });

  it('tabulates the per-iteration cycles of both sides', () => {
    const t = compare.cyclesTable('qemu', 'wasmvisor', a, a.replace('per_iter=10', 'per_iter=7'));
    expect(t.split('\n').map((l: string) => l.split(/\s+/))).toEqual([
      ['workload', 'qemu', 'cycles/iter', 'wasmvisor', 'cycles/iter'],
      ['syscall', '10', '7'],
      ['disk', '11', '11'],
    ]);
  });

  it('compares two saved outputs from the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jeos-cmp-'));
    try {
      writeFileSync(join(dir, 'a'), a);
      writeFileSync(join(dir, 'b'), a.replace('cycles=100', 'cycles=7'));
      writeFileSync(join(dir, 'c'), a.replace('sectors=8', 'sectors=9'));
      const script = join(ROOT, 'scripts/compare-qemu.mjs');
      const same = spawnSync(process.execPath, [script, '--a', join(dir, 'a'), '--b', join(dir, 'b')], { encoding: 'utf8' });
      expect(same.status).toBe(0);
      const differ = spawnSync(process.execPath, [script, '--a', join(dir, 'a'), '--b', join(dir, 'c')], { encoding: 'utf8' });
      expect(differ.status).toBe(1);
      expect(differ.stdout).toContain('sectors=9');
      const bad = spawnSync(process.execPath, [script, '--frobnicate'], { encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('unknown argument: --frobnicate');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
