/**
 * Snapshots: a VM saved at a point of its run and restored in a new instance continues
 * byte for byte as the VM run without a stop (its COM1 output, its exit, its disk), with
 * the counters of the saved VM continued (virtual time makes both exact). The points are
 * random but seeded. The expected output is the uninterrupted run's, never a stored copy.
 * Damaged, foreign and lying files are refused with a clear error.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, type StopReason } from '../../bindings/machine/machine.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { MemorySource } from '../../bindings/disk/source.js';
import {
  saveSnapshot, restoreSnapshot, readSnapshot, snapshotInfo, SnapshotError,
} from '../../bindings/snapshot/index.js';
import { decodeContainer, encodeContainer } from '../../bindings/snapshot/format.js';
// @ts-expect-error plain ESM helper without types
import { makeDisk } from '../../guests/firmware/tests/mkdisk.mjs';

const root = join(__dirname, '..', '..');
const kernel = readFileSync(join(root, 'guests/jeos/jeos.elf'));
const diskImage = readFileSync(join(root, 'guests/jeos/disk.img'));
const bios = readFileSync(join(root, 'guests/firmware/bios.bin'));
const sieve = readFileSync(join(root, 'guests/bench/sieve.bin'));
const LIMIT = 400_000_000;

/** mulberry32: a small seeded generator, so the points are random and the test repeatable. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Vm { m: Machine; out: number[]; debug: number[]; disk?: Uint8Array }
type Guest = () => Promise<Vm>;

const jeos: Guest = async () => {
  const out: number[] = [], debug: number[] = [];
  const disk = new Uint8Array(diskImage);
  const m = await Machine.create({
    ramBytes: 64 << 20, kernel, disks: [new RawImage(new MemorySource(disk))],
    serialOut: (b) => out.push(b), debugcon: (b) => debug.push(b),
  });
  return { m, out, debug, disk };
};
const firmwareBoot: Guest = async () => {
  const out: number[] = [], debug: number[] = [];
  const disk: Uint8Array = makeDisk(readFileSync(join(root, 'guests/firmware/tests/diskboot.bin')));
  const m = await Machine.create({
    ramBytes: 32 << 20, firmware: bios, disks: [new RawImage(new MemorySource(disk))],
    serialOut: (b) => out.push(b), debugcon: (b) => debug.push(b),
  });
  return { m, out, debug, disk };
};
const sieveGuest: Guest = async () => {
  const out: number[] = [], debug: number[] = [];
  const m = await Machine.create({
    ramBytes: 64 << 20, kernel: sieve,
    serialOut: (b) => out.push(b), debugcon: (b) => debug.push(b),
  });
  return { m, out, debug };
};

interface Reference { out: number[]; debug: number[]; stop: StopReason; instructions: number;
  disk?: Uint8Array }

async function reference(guest: Guest): Promise<Reference> {
  const r = await guest();
  const stop = r.m.run(LIMIT);
  return { out: r.out, debug: r.debug, stop, instructions: r.m.stats().instructions,
    disk: r.disk };
}

/** Runs `guest` to `at`, saves it, restores the file in a new instance and runs both to the end. */
async function roundTrip(guest: Guest, at: number, ref: Reference): Promise<void> {
  const a = await guest();
  expect(a.m.run(at)).toEqual({ kind: 'limit' });
  const file = saveSnapshot(a.m);
  const before = { out: a.out.length, debug: a.debug.length };
  const out: number[] = [], debug: number[] = [];
  const b = await restoreSnapshot(file, {
    serialOut: (x) => out.push(x), debugcon: (x) => debug.push(x),
  });
  const stopB = b.run(LIMIT - at);
  const stopA = a.m.run(LIMIT - at);
  // The restored VM prints what the uninterrupted run printed after that point.
  expect(Buffer.from([...a.out.slice(0, before.out), ...out]))
    .toEqual(Buffer.from(ref.out));
  expect(Buffer.from([...a.debug.slice(0, before.debug), ...debug]))
    .toEqual(Buffer.from(ref.debug));
  expect(stopB).toEqual(ref.stop);
  expect(stopA).toEqual(ref.stop);
  // Every counter as the saved VM's own continuation.
  expect(b.stats()).toEqual(a.m.stats());
  expect(b.stats().instructions).toBe(ref.instructions);
  if (ref.disk) {
    const d = new Uint8Array(ref.disk.length);
    b.config.disks![0]!.read(0, d);
    expect(Buffer.from(d).equals(Buffer.from(ref.disk))).toBe(true);
  }
}

describe('snapshots of JeOS at random (seeded) points', () => {
  let ref: Reference;
  beforeAll(async () => { ref = await reference(jeos); }, 60_000);

  it('the uninterrupted run ends as JeOS does (all checks passed, power off)', () => {
    expect(ref.stop).toEqual({ kind: 'poweroff' });
    expect(Buffer.from(ref.out).toString('latin1')).toContain('jeos exit code=0');
  });

  const next = rng(17);
  const points = [0, 1, 2].map(() => next());
  for (const [i, f] of points.entries()) {
    it(`point ${i + 1}: ${(f * 100).toFixed(1)}% of the run`, async () => {
      await roundTrip(jeos, Math.max(1, Math.floor(f * ref.instructions)), ref);
    }, 60_000);
  }

  it('a snapshot of a snapshot: restored, run, saved and restored again', async () => {
    const a = await jeos();
    a.m.run(Math.floor(ref.instructions / 3));
    const out: number[] = [...a.out];
    const b = await restoreSnapshot(saveSnapshot(a.m), { serialOut: (x) => out.push(x) });
    b.run(Math.floor(ref.instructions / 3));
    const c = await restoreSnapshot(saveSnapshot(b), { serialOut: (x) => out.push(x) });
    expect(c.run(LIMIT)).toEqual(ref.stop);
    expect(Buffer.from(out)).toEqual(Buffer.from(ref.out));
  }, 60_000);
});

describe('snapshots of the other bundled guests', () => {
  it('the firmware booting a disk (ROM, PAM shadow RAM, int 13h disk writes)', async () => {
    const ref = await reference(firmwareBoot);
    expect(ref.stop).toEqual({ kind: 'exit', status: 1 });
    const next = rng(29);
    for (let i = 0; i < 2; i++) {
      await roundTrip(firmwareBoot, Math.max(1, Math.floor(next() * ref.instructions)), ref);
    }
  }, 60_000);

  it('a bench guest (the sieve, its checkpoints on the debug console)', async () => {
    const ref = await reference(sieveGuest);
    expect(ref.stop.kind).toBe('exit');
    await roundTrip(sieveGuest, Math.floor(rng(31)() * ref.instructions), ref);
  }, 60_000);
});

describe('bad snapshot files', () => {
  let file: Uint8Array;
  beforeAll(async () => {
    const a = await sieveGuest();
    a.m.run(1_000_000);
    file = saveSnapshot(a.m, { label: 'test' });
  });
  /** The file re-encoded (valid checksum) after `edit` changed its sections. */
  const reencode = (edit: (s: Map<string, Uint8Array>) => void): Uint8Array => {
    const s = decodeContainer(file);
    edit(s);
    return encodeContainer([...s].map(([tag, data]) => ({ tag, data })));
  };
  const refused = async (bytes: Uint8Array, message: RegExp) => {
    await expect(restoreSnapshot(bytes)).rejects.toThrow(SnapshotError);
    await expect(restoreSnapshot(bytes)).rejects.toThrow(message);
  };

  it('describes itself', () => {
    const info = snapshotInfo(file);
    expect(info).toMatchObject({ version: 1, ramBytes: 64 << 20, label: 'test', disks: [] });
    expect(info.instructions).toBeGreaterThanOrEqual(1_000_000);
  });

  it('one flipped bit anywhere: the checksum', async () => {
    for (const at of [40, file.length >> 1, file.length - 40]) {
      const bad = file.slice();
      bad[at] ^= 0x10;
      await refused(bad, /checksum|section/);
    }
  });

  it('truncated, or not a snapshot at all', async () => {
    await refused(file.subarray(0, file.length - 1), /truncated/);
    await refused(new TextEncoder().encode('hello, world, not a snapshot at all'),
      /not a wasmvisor snapshot/);
  });

  it('another format version', async () => {
    const bad = file.slice();
    new DataView(bad.buffer).setUint32(8, 2, true);
    await refused(bad, /format version 2: this wasmvisor reads version 1/);
  });

  it('another core layout', async () => {
    const bad = reencode((s) => {
      const meta = JSON.parse(new TextDecoder().decode(s.get('META')));
      meta.layout = '0123456789abcdef';
      s.set('META', new TextEncoder().encode(JSON.stringify(meta)));
    });
    await refused(bad, /state layout 0123456789abcdef/);
  });

  it('a valid checksum over lies: RAM size, device fields, a missing section', async () => {
    const meta = (f: (m: Record<string, unknown>) => void) => reencode((s) => {
      const m = JSON.parse(new TextDecoder().decode(s.get('META')));
      f(m);
      s.set('META', new TextEncoder().encode(JSON.stringify(m)));
    });
    await refused(meta((m) => { m.ramBytes = 32 << 20; }), /RAM: \d+ pages, expected/);
    await refused(meta((m) => { m.ramBytes = 2 ** 40; }), /bad ramBytes/);
    const plat = (f: (p: Record<string, any>) => void) => reencode((s) => {
      const p = JSON.parse(new TextDecoder().decode(s.get('PLAT')));
      f(p);
      s.set('PLAT', new TextEncoder().encode(JSON.stringify(p)));
    });
    await refused(plat((p) => { p.uart.trigger = 3; }), /uart\.trigger/);
    await refused(plat((p) => { p.pit.channels.pop(); }), /pit\.channels/);
    await refused(plat((p) => { p.vcpu.exits.bogus = 1; }), /unknown exit bogus/);
    await refused(plat((p) => { p.clock.now = -5; }), /clock\.now/);
    await refused(reencode((s) => s.delete('CPU ')), /CPU section/);
    expect(() => readSnapshot(reencode((s) => s.delete('PLAT')))).toThrow(/no PLAT section/);
  });
});
