/**
 * Compressed qcow2 writes (`img convert -c`) against QEMU: what we write passes
 * `qemu-img check`, reads back in QEMU equal to the source, takes the same
 * compressed/uncompressed/unallocated decisions as `qemu-img convert -c` on the same data,
 * and every deflate stream inflates with zlib's 4 KiB window (QEMU's inflateInit2(-12)).
 * Guest writes into compressed clusters (ours and QEMU's) copy them out and keep the
 * refcounts exact.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { deflateSync } from 'fflate';
import { FileSource } from '../../bindings/disk/node-file.js';
import { MemorySource } from '../../bindings/disk/source.js';
import { ImageError } from '../../bindings/disk/errors.js';
import { Qcow2Image } from '../../bindings/disk/qcow2/image.js';
import { createQcow2 } from '../../bindings/disk/qcow2/create.js';
import { checkQcow2 } from '../../bindings/disk/qcow2/check.js';
import { compressedExtent } from '../../bindings/disk/qcow2/compress.js';
import { convertImage } from '../../bindings/disk/convert.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { mapImage, mapJson } from '../../bindings/disk/map.js';
import {
  hasQemuImg,
  hasQemuIo,
  qemuImg,
  qemuIo,
  tempDir,
  noise,
  sha256Of,
  sha256Bytes,
  expectQemuOutput,
} from './helpers.js';
import { runCliInProcess } from '../helpers/cli.js';

const t = tempDir();
afterAll(() => t.cleanup());

const run = (args: string[]) => runCliInProcess(args);

const KIB = 1024;
/**
 * The source disk, 64 KiB regions: text (compresses well), zeros (stays unallocated),
 * noise (does not compress: written uncompressed), one byte repeated, and a 6 KiB noise
 * pattern repeated (compresses with a 32 KiB window, not with QEMU's 4 KiB one); it ends
 * 4.5 KiB into a cluster, with text, to cover the short last cluster.
 */
function sourceDisk(): Uint8Array {
  const regions = [
    'text', 'text', 'zero', 'noise', 'text', 'byte', 'period', 'zero', 'zero', 'text', 'noise',
    'text', 'period', 'text',
  ];
  const size = regions.length * 64 * KIB + 4608;
  const d = new Uint8Array(size);
  let line = 0;
  const text = (from: number, to: number) => {
    for (let p = from; p < to;) {
      const s = new TextEncoder().encode(
        `${line.toString(16).padStart(6, '0')}: sector ${(line * 7919) % 4099} ` +
          `holds the quick brown fox, jumps ${line % 13} lazy dogs\n`,
      );
      line++;
      d.set(s.subarray(0, Math.min(s.length, to - p)), p);
      p += s.length;
    }
  };
  regions.forEach((r, i) => {
    const at = i * 64 * KIB;
    if (r === 'text') text(at, at + 64 * KIB);
    if (r === 'noise') d.set(noise(64 * KIB, i + 1), at);
    if (r === 'byte') d.fill(0xa5, at, at + 64 * KIB);
    if (r === 'period') {
      const p = noise(6 * KIB, 77 + i);
      for (let o = 0; o < 64 * KIB; o += p.length)
        d.set(p.subarray(0, Math.min(p.length, 64 * KIB - o)), at + o);
    }
  });
  text(regions.length * 64 * KIB, size);
  return d;
}

const SOURCE = sourceDisk();
const srcPath = join(t.dir, 'source.raw');
writeFileSync(srcPath, SOURCE);

/**
 * Every compressed cluster's stream, inflated as QEMU inflates it (zlib, windowBits -12).
 * Returns how many there are and how many host clusters they start in.
 */
function inflateAllAsQemu(q: Qcow2Image, file: Uint8Array): { n: number; hosts: number } {
  let n = 0;
  const hosts = new Set<number>();
  const clusters = Math.ceil(q.size / q.clusterSize);
  for (let ci = 0; ci < clusters; ci++) {
    const m = q.map(ci);
    if (m.kind !== 'compressed') continue;
    const c = compressedExtent(m.hi, m.lo, q.header.clusterBits);
    const out = inflateRawSync(file.subarray(c.host, c.host + c.bytes), { windowBits: 12 });
    expect(out.length).toBe(q.clusterSize);
    hosts.add(Math.floor(c.host / q.clusterSize));
    n++;
  }
  return { n, hosts: hosts.size };
}

/** qemu-img map --output=json without the host offsets (they depend on compressed sizes). */
function qemuMapNoOffsets(file: string): unknown[] {
  const r = qemuImg(['map', '--output=json', file]);
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as Record<string, unknown>[]).map(({ offset, ...rest }) => ({
    ...rest,
    hasOffset: offset !== undefined,
  }));
}

function qemuCheck(file: string): Record<string, number> {
  const r = qemuImg(['check', '--output=json', file]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

/**
 * Label, -o options, and the most the compressed file may be of the uncompressed one: with
 * 1-bit refcounts a host cluster holds one compressed cluster (refcount_max is 1), so
 * nothing is saved there, as in QEMU.
 */
const CONFIGS: [string, string, number][] = [
  ['64 KiB clusters, v3', 'compat=1.1', 0.75],
  ['4 KiB clusters, v2', 'compat=0.10,cluster_size=4096', 0.75],
  ['512-byte clusters, 1-bit refcounts', 'cluster_size=512,refcount_bits=1', 1],
];

describe('qcow2 compressed writes without QEMU', () => {
  it('compresses, reads back equal, passes our check, ' +
      'and every stream inflates with a 4 KiB window', () => {
    for (const [, opts] of CONFIGS) {
      const o = Object.fromEntries(opts.split(',').map((kv) => kv.split('=')));
      const dst = new MemorySource(new Uint8Array(0), true);
      const stats = convertImage(new RawImage(new MemorySource(SOURCE.slice(), false)), dst, {
        format: 'qcow2',
        compress: true,
        qcow2: {
          compat: o.compat,
          clusterSize: o.cluster_size ? Number(o.cluster_size) : undefined,
          refcountBits: o.refcount_bits ? Number(o.refcount_bits) : undefined,
        },
      });
      const file = dst.bytes().slice();
      const q = new Qcow2Image(new MemorySource(file, false));
      expect(sha256Of(q)).toBe(sha256Bytes(SOURCE));
      const packed = inflateAllAsQemu(q, file);
      expect(packed.n).toBe(stats.compressedClusters);
      expect(packed.n).toBeGreaterThan(0);
      // Several compressed clusters share a host cluster, except with 1-bit refcounts.
      if (o.refcount_bits === '1') expect(packed.hosts).toBe(packed.n);
      else expect(packed.hosts).toBeLessThan(packed.n / 2);
      const r = checkQcow2(new MemorySource(file, false));
      expect(r.messages).toEqual([]);
      expect(r.corruptions + r.leaks).toBe(0);
      q.close();
    }
  });

  it('refuses to compress over an allocated cluster, as QEMU does', () => {
    const src = new MemorySource(new Uint8Array(0), true);
    createQcow2(src, 1 << 20);
    const q = new Qcow2Image(src);
    const text = SOURCE.slice(0, 65536);
    expect(q.writeCompressed(0, text)).toBe(true);
    expect(() => q.writeCompressed(0, text)).toThrow(ImageError);
    expect(() => q.writeCompressed(0, text)).toThrow(
      /guest cluster 0 is already allocated \(L2 entry at 0x[0-9a-f]+\); compressed writes go to unallocated clusters only/,
    );
    expect(() => q.writeCompressed(1, text.subarray(0, 100))).toThrow(
      /must be 65536 bytes, not 100/,
    );
    expect(() => q.writeCompressed(16, text)).toThrow(
      /guest cluster 16 lies outside the 1048576-byte disk/,
    );
    q.close();
  });

  it('a 32 KiB-window deflate (fflate) of the 6 KiB-period ' +
      "cluster does not inflate with QEMU's window", () => {
    // Why the compressor must be told windowBits 12: the reference zlib rejects the stream.
    const cluster = SOURCE.subarray(6 * 65536, 7 * 65536);
    const wide = deflateSync(cluster, { level: 6 });
    expect(wide.length).toBeLessThan(65536 / 4);
    expect(() => inflateRawSync(wide, { windowBits: 12 })).toThrow(/invalid distance too far back/);
  });

  it('img convert -c to raw fails with qemu-img\'s message and leaves no file', async () => {
    const out = join(t.dir, 'never.raw');
    const r = await run(['img', 'convert', '-c', '-O', 'raw', srcPath, out]);
    expect(r.status).not.toBe(0);
    expect(r.err).toContain('Compression not supported for this file format');
    expect(existsSync(out)).toBe(false);
    const z = await run([
      'img', 'convert', '-c', '-O', 'qcow2', '-o', 'compression_type=zstd', srcPath, out + '.qcow2',
    ]);
    expect(z.status).not.toBe(0);
    expect(z.err).toContain('compression_type=zstd is not supported (only zlib)');
  });
});

describe.skipIf(!hasQemuImg)('qcow2 compressed writes against qemu-img', () => {
  for (const [label, opts, ratio] of CONFIGS) {
    it(`img convert -c (${label}): check, compare, raw, map and sizes as QEMU's`, async () => {
      const ours = join(t.dir, `ours-${opts.replace(/\W+/g, '_')}.qcow2`);
      const plain = ours + '.plain.qcow2';
      const theirs = ours + '.qemu.qcow2';
      const compressed = await run([
        'img', 'convert', '-c', '-O', 'qcow2', '-o', opts + ',compression_type=zlib', srcPath, ours,
      ]);
      expect(compressed.status).toBe(0);
      const uncompressed = await run(['img', 'convert', '-O', 'qcow2', '-o', opts, srcPath, plain]);
      expect(uncompressed.status).toBe(0);
      expect(qemuImg(['convert', '-c', '-O', 'qcow2', '-o', opts, srcPath, theirs]).status).toBe(0);

      const c = qemuCheck(ours);
      expect(c.corruptions ?? 0).toBe(0);
      expect(c.leaks ?? 0).toBe(0);
      expect(c['compressed-clusters']).toBeGreaterThan(0);
      // The same clusters compressed, uncompressed and left out as QEMU's own convert -c.
      const q = qemuCheck(theirs);
      for (const k of [
        'allocated-clusters', 'compressed-clusters', 'fragmented-clusters', 'total-clusters',
      ])
        expect([k, c[k]]).toEqual([k, q[k]]);
      expect(qemuMapNoOffsets(ours)).toEqual(qemuMapNoOffsets(theirs));
      // qemu-img 7.2 maps compressed clusters as data without a host offset.
      const map = JSON.parse(qemuImg(['map', '--output=json', ours]).stdout) as {
        start: number;
        data: boolean;
        offset?: number;
      }[];
      expect(map.find((e) => e.start === 0)).toMatchObject({ data: true });
      expect(map.find((e) => e.start === 0)!.offset).toBeUndefined();

      expect(qemuImg(['compare', '-f', 'raw', srcPath, ours]).stdout).toMatch(
        /Images are identical/,
      );
      expect(qemuImg(['convert', '-O', 'raw', ours, ours + '.raw']).status).toBe(0);
      expect(sha256Bytes(readFileSync(ours + '.raw'))).toBe(sha256Bytes(SOURCE));
      expect(statSync(ours).size).toBeLessThanOrEqual(statSync(plain).size * ratio);
      // Byte for byte QEMU's file past the header cluster (QEMU's header also holds a
      // feature-name table): the same deflate streams (zlib's classic hash), packed at the
      // same offsets, the same tables and refcounts, the end rounded to a sector.
      const a = readFileSync(ours), b = readFileSync(theirs);
      const cs = 2 ** a.readUInt32BE(20);
      expect(a.length).toBe(b.length);
      expect(sha256Bytes(a.subarray(cs))).toBe(sha256Bytes(b.subarray(cs)));
      // A version 2 header has no extensions: there the whole file is QEMU's.
      if (opts.includes('compat=0.10')) expect(sha256Bytes(a)).toBe(sha256Bytes(b));
      // The human map refuses compressed clusters, as qemu-img's does.
      const hq = qemuImg(['map', ours]);
      const hw = await run(['img', 'map', ours]);
      expect([hw.status, hw.out]).toEqual([hq.status, hq.stdout]);
      expect(hw.err).toContain(hq.stderr.replace(/^qemu-img: /, '').trim());
      // wasmvisor reads it back, and its own map prints what qemu-img map prints.
      const img = new Qcow2Image(new FileSource(ours, 'r'));
      expect(sha256Of(img)).toBe(sha256Bytes(SOURCE));
      expectQemuOutput(mapJson(mapImage(img)), qemuImg(['map', '--output=json', ours]).stdout);
      img.close();
    });
  }

  /**
   * Guest-style writes: inside one cluster, a whole cluster, across two compressed
   * clusters, across a compressed and an uncompressed (noise) one, into the short last one.
   */
  const WRITES: [number, number, number][] = [
    [65536 + 1000, 300, 1],
    [11 * 65536, 65536, 2],
    [5 * 65536 - 700, 1400, 3],
    [10 * 65536 - 50, 100, 4],
    [14 * 65536 + 100, 50, 5],
  ];

  for (const who of ['ours', 'qemu']) {
    it(`guest writes into compressed clusters (${who}) copy them out: ` +
        'qemu-img check clean, compare equal', async () => {
      const f = join(t.dir, `guest-${who}.qcow2`);
      if (who === 'ours')
        expect((await run(['img', 'convert', '-c', '-O', 'qcow2', srcPath, f])).status).toBe(0);
      else expect(qemuImg(['convert', '-c', '-O', 'qcow2', srcPath, f]).status).toBe(0);
      const before = qemuCheck(f)['compressed-clusters'];
      const mirror = SOURCE.slice();
      const img = new Qcow2Image(new FileSource(f, 'r+'));
      const touched = new Set<number>();
      for (const [off, len, seed] of WRITES) {
        const data = noise(len, seed);
        for (let ci = Math.floor(off / 65536); ci <= Math.floor((off + len - 1) / 65536); ci++)
          if (img.map(ci).kind === 'compressed') touched.add(ci);
        img.write(off, data);
        mirror.set(data, off);
      }
      img.close();
      expect([...touched].sort((a, b) => a - b)).toEqual([1, 4, 5, 9, 11, 14]);
      const after = qemuCheck(f);
      expect(after.leaks ?? 0).toBe(0);
      expect(after.corruptions ?? 0).toBe(0);
      expect(after['compressed-clusters']).toBe(before - touched.size);
      const m = join(t.dir, `guest-${who}.raw`);
      writeFileSync(m, mirror);
      expect(qemuImg(['compare', '-f', 'raw', m, f]).stdout).toMatch(/Images are identical/);
    });
  }

  it('an internal snapshot shares our compressed clusters; ' +
      'a guest write copies out and the snapshot keeps them', async () => {
    const f = join(t.dir, 'snap.qcow2');
    expect((await run(['img', 'convert', '-c', '-O', 'qcow2', srcPath, f])).status).toBe(0);
    expect((await run(['img', 'snapshot', '-c', 'before', f])).status).toBe(0);
    expect(qemuCheck(f).leaks ?? 0).toBe(0);
    const img = new Qcow2Image(new FileSource(f, 'r+'));
    expect(img.map(0).kind).toBe('compressed');
    img.write(100, noise(200, 9));
    img.close();
    const c = qemuCheck(f);
    expect([c.leaks ?? 0, c.corruptions ?? 0]).toEqual([0, 0]);
    const changed = SOURCE.slice();
    changed.set(noise(200, 9), 100);
    writeFileSync(f + '.changed.raw', changed);
    expect(qemuImg(['compare', '-f', 'raw', f + '.changed.raw', f]).stdout).toMatch(
      /Images are identical/,
    );
    // QEMU reverts to the snapshot: the compressed clusters it kept are the source's.
    expect(qemuImg(['snapshot', '-a', 'before', f]).status).toBe(0);
    expect(qemuImg(['compare', '-f', 'raw', srcPath, f]).stdout).toMatch(/Images are identical/);
    expect(qemuCheck(f).leaks ?? 0).toBe(0);
  });

  it('check finds a COPIED flag on a compressed entry ' +
      "with qemu-img's message and exit status", async () => {
    const f = join(t.dir, 'copied.qcow2');
    expect((await run(['img', 'convert', '-c', '-O', 'qcow2', srcPath, f])).status).toBe(0);
    const img = new Qcow2Image(new FileSource(f, 'r'));
    const m = img.map(1);
    img.close();
    expect(m.kind).toBe('compressed');
    const b = new Uint8Array(readFileSync(f));
    new DataView(b.buffer).setUint32(m.entryAt, m.hi | 0x8000_0000);
    writeFileSync(f, b);
    const q = qemuImg(['check', f]);
    const ours = checkQcow2(new MemorySource(b, false));
    expect(ours.messages).toEqual(q.stderr.trim().split('\n'));
    expect(ours.corruptions).toBe(1);
    const r = await run(['img', 'check', f]);
    expect(r.status).toBe(q.status);
    expect(r.out).toBe(q.stdout);
  });

  it('img convert -c to VMDK is accepted as qemu-img ' +
      'accepts it, and reads back equal', async () => {
    for (const sub of ['monolithicSparse', 'streamOptimized']) {
      const f = join(t.dir, `c-${sub}.vmdk`);
      expect(
        qemuImg(['convert', '-c', '-O', 'vmdk', '-o', `subformat=${sub}`, srcPath, f + '.qemu'])
          .status,
      ).toBe(0);
      const converted = await run([
        'img', 'convert', '-c', '-O', 'vmdk', '-o', `subformat=${sub}`, srcPath, f,
      ]);
      expect(converted.status).toBe(0);
      expect(qemuImg(['compare', '-f', 'raw', srcPath, f]).stdout).toMatch(/Images are identical/);
    }
  });

  it.skipIf(!hasQemuIo)(
    'qemu-io writes into our compressed clusters (QEMU copies them out) and the image stays clean',
    async () => {
      const f = join(t.dir, 'qemu-io-over-ours.qcow2');
      const converted = await run([
        'img', 'convert', '-c', '-O', 'qcow2', '-o', 'cluster_size=4096', srcPath, f,
      ]);
      expect(converted.status).toBe(0);
      qemuIo('qcow2', f, ['write -P 0x5a 70000 3000', 'write -z 200000 8192']);
      const mirror = SOURCE.slice();
      mirror.fill(0x5a, 70000, 73000);
      mirror.fill(0, 200000, 208192);
      const c = qemuCheck(f);
      expect(c.leaks ?? 0).toBe(0);
      expect(c.corruptions ?? 0).toBe(0);
      const m = join(t.dir, 'qemu-io-over-ours.raw');
      writeFileSync(m, mirror);
      expect(qemuImg(['compare', '-f', 'raw', m, f]).stdout).toMatch(/Images are identical/);
      expect(checkQcow2(new MemorySource(new Uint8Array(readFileSync(f)), false)).messages).toEqual(
        [],
      );
    },
  );
});
