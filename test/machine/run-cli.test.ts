/**
 * `wasmvisor run` as a user types it. Expected outputs and exit statuses come from the
 * same guests under QEMU (guests/systests/expected, recorded with isa-debug-exit).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, repoRoot } from '../helpers/cli.js';

function qemuReference(name: string): { lines: string[]; status: number } {
  const text = readFileSync(join(repoRoot, 'guests/systests/expected', `${name}.txt`), 'utf8');
  const status = Number(/^# exit status: (\d+)/m.exec(text)![1]);
  return { lines: text.split('\n').filter((l) => l && !l.startsWith('#')), status };
}

describe('wasmvisor run', () => {
  it('boots a Multiboot kernel with COM1 on stdout and QEMU\'s isa-debug-exit status', () => {
    const ref = qemuReference('hello');
    const r = runCli(['run', '--kernel', 'guests/systests/hello.bin', '--mem', '128']);
    expect(r.stdout.split(/\r?\n/).filter(Boolean)).toEqual(ref.lines);
    expect(r.status).toBe(ref.status);
  });

  it('feeds stdin to COM1: JeOS\'s shell reads a command from a pipe', () => {
    const r = runCli(['run', '--kernel', 'guests/jeos/jeos.elf', '--append', 'shell=1 only=callret callret=10'],
      { input: 'callret 25\nexit\n' });
    expect(r.stdout).toMatch(/jeos> /);
    expect(r.stdout).toMatch(/jeos> wl callret iters=25 /);
    expect(r.status).toBe(0); // all passed: JeOS powers off
  });

  it('with no arguments boots the bundled JeOS, prints the workload table and exits as --kernel does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-run-'));
    const stats = join(dir, 'stats.json');
    const r = runCli(['run', '--stats', stats], { timeout: 300_000 });
    // All passed: JeOS powers off (ACPI S5), which ends QEMU with 0 too (test/jeos/).
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(stats, 'utf8')).stop).toEqual({ kind: 'poweroff' });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stdout).toContain('jeos exit code=0');
    expect(r.stdout).toMatch(/^workload +iterations +cycles\/iter/m);
    for (const w of ['syscall', 'in', 'irqmask', 'callret', 'pgfault', 'divzero', 'ptemod', 'forkwait', 'compute', 'tlb', 'disk']) {
      expect(r.stdout).toMatch(new RegExp(`^${w} +\\d+ +\\d+`, 'm'));
    }
  });

  it('writes the counters as JSON with --stats', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-run-'));
    try {
      const stats = join(dir, 'stats.json');
      const r = runCli(['run', '--kernel', 'guests/systests/hello.bin', '--stats', stats]);
      expect(r.status).toBe(qemuReference('hello').status);
      const s = JSON.parse(readFileSync(stats, 'utf8'));
      expect(s.stop.kind).toBe('exit');
      expect(s.instructions).toBeGreaterThan(0);
      expect(s.exits.io).toBeGreaterThan(0);
      expect(s.ioPorts['0x00f4']).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('string I/O: the disk workload reads and writes the same with one exit per page run or per word', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-run-'));
    try {
      const runDisk = (extra: string[]) => {
        const disk = join(dir, `disk${extra.length}.img`);
        writeFileSync(disk, readFileSync(join(repoRoot, 'guests/jeos/disk.img')));
        const stats = join(dir, `stats${extra.length}.json`);
        const r = runCli(['run', '--kernel', 'guests/jeos/jeos.elf', '--append', 'only=disk', '--disk', disk, '--stats', stats, ...extra],
          { timeout: 300_000 });
        return { r, s: JSON.parse(readFileSync(stats, 'utf8')), image: readFileSync(disk) };
      };
      const batched = runDisk([]);
      const perWord = runDisk(['--no-string-io']);
      for (const x of [batched, perWord]) {
        expect(x.r.status).toBe(0); // every check passed: JeOS powers off
        expect(x.r.stdout).toMatch(/^wl disk .*verify=ok/m);
      }
      expect(batched.image.equals(perWord.image)).toBe(true);
      // 512-byte sectors by REP INSW/OUTSW: 256 exits a sector word by word, a few batched.
      expect(perWord.s.ioPorts['0x01f0']).toBeGreaterThan(10 * batched.s.ioPorts['0x01f0']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at --max-instructions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-run-'));
    try {
      const stats = join(dir, 'stats.json');
      const r = runCli(['run', '--kernel', 'guests/jeos/jeos.elf', '--max-instructions', '100000', '--stats', stats]);
      expect(r.status).toBe(6); // README, "Exit status"
      expect(r.stderr).toMatch(/instruction limit/);
      const s = JSON.parse(readFileSync(stats, 'utf8'));
      expect(s.stop.kind).toBe('limit');
      expect(s.instructions).toBeGreaterThanOrEqual(100000);
      expect(s.instructions).toBeLessThan(100000 + 16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a missing kernel with status 2 and a message naming the file', () => {
    const r = runCli(['run', '--kernel', 'no/such/kernel.elf']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read kernel no\/such\/kernel\.elf: ENOENT/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('answers a file without a Multiboot header with status 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-run-'));
    try {
      const f = join(dir, 'junk.bin');
      writeFileSync(f, new Uint8Array(16384).fill(0x90));
      const r = runCli(['run', '--kernel', f]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/multiboot/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers bad sizes and counts with status 2', () => {
    expect(runCli(['run', '--kernel', 'guests/systests/hello.bin', '--mem', 'lots']).status).toBe(2);
    expect(runCli(['run', '--kernel', 'guests/systests/hello.bin', '--mem', '1K']).status).toBe(2);
    expect(runCli(['run', '--kernel', 'guests/systests/hello.bin', '--max-instructions', '-5']).status).toBe(2);
    expect(runCli(['run', '--append', 'x']).status).toBe(2);
  });

  it('answers a broken --config with status 2 naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-run-'));
    try {
      const notJson = join(dir, 'a.json');
      writeFileSync(notJson, '{ "name": ');
      let r = runCli(['run', '--config', notJson]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/a\.json: not JSON/);
      const badField = join(dir, 'b.json');
      writeFileSync(badField, JSON.stringify({ name: 'x', cpus: 1, memoryMiB: -4, boot: { firmware: 'bios' }, disks: [], nics: [], serial: [] }));
      r = runCli(['run', '--config', badField]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/b\.json: .*memoryMiB/);
      r = runCli(['run', '--config', badField, '--kernel', 'guests/systests/hello.bin']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/does not combine/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a malformed disk image with status 2 and the image error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-run-'));
    try {
      const f = join(dir, 'bad.qcow2');
      const b = new Uint8Array(512);
      b.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]); // qcow2 magic, version 3, header cut short
      writeFileSync(f, b);
      const r = runCli(['run', '--disk', f]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/disk .*bad\.qcow2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
