/**
 * The platform end to end: the bundled JeOS boots on the machine, every workload runs,
 * and two runs with the same inputs are identical (deterministic virtual time).
 * Which workloads and checks exist, and their iteration counts, come from JeOS's own
 * output under QEMU (guests/jeos/README.md), not from this test.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, type StopReason } from '../../bindings/machine/machine.js';
import { parseWorkloadLines } from '../../bindings/machine/workloads.js';
import { statusOf } from '../../bindings/cli/run.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { MemorySource } from '../../bindings/disk/source.js';

const root = join(__dirname, '..', '..');
const kernel = readFileSync(join(root, 'guests/jeos/jeos.elf'));
const diskImage = readFileSync(join(root, 'guests/jeos/disk.img'));

interface Run { text: string; stop: StopReason; stats: ReturnType<Machine['stats']>; disk: Uint8Array }

async function bootJeos(cmdline?: string, withDisk = true): Promise<Run> {
  let text = '';
  const disk = new Uint8Array(diskImage);
  const m = await Machine.create({
    ramBytes: 64 << 20,
    kernel,
    cmdline,
    disks: withDisk ? [new RawImage(new MemorySource(disk))] : [],
    serialOut: (b) => { text += String.fromCharCode(b); },
  });
  const stop = m.run(400_000_000);
  return { text, stop, stats: m.stats(), disk };
}

describe('JeOS on the machine', () => {
  let first: Run;
  beforeAll(async () => { first = await bootJeos(); });

  it('runs to the end and powers off (all passed): `wasmvisor run` exits 0, as QEMU', () => {
    expect(first.text).toContain('jeos exit code=0');
    expect(first.stop).toEqual({ kind: 'poweroff' });
    expect(statusOf(first.stop)).toBe(0);
  });

  it('passes every functional check', () => {
    const checks = first.text.split(/\r?\n/).filter((l) => l.startsWith('check '));
    expect(checks.length).toBeGreaterThan(0);
    for (const c of checks) expect(c).toMatch(/^check \S+ ok/);
  });

  it('prints every workload with its iteration count and a positive cycle count', () => {
    const rows = parseWorkloadLines(first.text);
    const names = rows.map((r) => r.name);
    for (const w of ['syscall', 'in', 'irqmask', 'callret', 'pgfault', 'divzero', 'ptemod', 'forkwait', 'compute', 'tlb', 'disk']) {
      expect(names).toContain(w);
    }
    for (const r of rows) {
      expect(r.status, r.name).toBe('ok');
      expect(r.iters, r.name).toBeGreaterThan(0);
      expect(r.cycles, r.name).toBeGreaterThan(0);
      expect(r.perIter, r.name).toBe(Math.floor(r.cycles! / r.iters!));
    }
    // zlib's CRC-32 of the workload's buffer, as the same kernel computes it under QEMU.
    const compute = rows.find((r) => r.name === 'compute')!;
    expect(compute.extra.crc32).toMatch(/^0x[0-9a-f]{8}$/);
    expect(rows.find((r) => r.name === 'disk')!.extra.verify).toBe('ok');
  });

  it('writes the disk workload through the IDE controller to the backend', () => {
    // Sector 64 holds "JEOS" then its LBA (guests/jeos/README.md, the disk workload).
    const s = first.disk.subarray(64 * 512, 65 * 512);
    expect(new TextDecoder().decode(s.subarray(0, 4))).toBe('JEOS');
    expect(new DataView(s.buffer, s.byteOffset).getUint32(4, true)).toBe(64);
  });

  it('is deterministic: the same inputs give the same output, instructions and exits', async () => {
    const again = await bootJeos();
    expect(again.text).toBe(first.text);
    expect(again.stats.instructions).toBe(first.stats.instructions);
    expect(again.stats.exits).toEqual(first.stats.exits);
    expect(again.stats.ioPorts).toEqual(first.stats.ioPorts);
    expect(again.stats.virtualNs).toBe(first.stats.virtualNs);
    expect(Buffer.from(again.disk).equals(Buffer.from(first.disk))).toBe(true);
  });
});
