/**
 * Conversion streams: a 64 GiB qcow2 image holding a few clusters converts to VMDK
 * (both subformats) and qcow2 with memory that does not grow with the virtual size, and
 * reads only the allocated clusters and the tables (counted, so the bound does not depend
 * on the machine; the wall time is printed, not asserted). The peak memory is sampled at
 * every write to the target and compared with the same conversion of a 1 GiB image.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { FileSource } from '../../bindings/disk/node-file.js';
import { MemorySource, SparseMemorySource, type ByteSource } from '../../bindings/disk/source.js';
import { createQcow2 } from '../../bindings/disk/qcow2/create.js';
import { Qcow2Image } from '../../bindings/disk/qcow2/image.js';
import { convertImage, type TargetSpec } from '../../bindings/disk/convert.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { compareImages } from '../../bindings/disk/compare.js';
import { hasQemuImg, qemuImg, tempDir, noise } from './helpers.js';

const GiB = 2 ** 30;
const t = tempDir();
afterAll(() => t.cleanup());

/** A qcow2 image of `size` bytes with data at a few places spread over the disk. */
function sparseQcow2(size: number): MemorySource {
  const src = new MemorySource();
  createQcow2(src, size);
  const img = new Qcow2Image(src);
  for (const frac of [0, 0.25, 0.5, 0.999999]) {
    img.write(
      Math.min(Math.floor((size * frac) / 4096) * 4096, size - 200_000),
      noise(200_000, Math.round(frac * 1000) + 1),
    );
  }
  img.flush();
  return src;
}

/** Wraps a target so every write samples the process's memory (JS heap + array buffers). */
function sampling(dst: ByteSource, peak: { v: number }): ByteSource {
  const sample = () => {
    const m = process.memoryUsage();
    peak.v = Math.max(peak.v, m.heapUsed + m.arrayBuffers);
  };
  return {
    get size() { return dst.size; },
    writable: true,
    read: (o, d) => dst.read(o, d),
    write: (o, s) => { dst.write(o, s); sample(); },
    truncate: (n) => dst.truncate(n),
    flush: () => dst.flush(),
    close: () => dst.close(),
  };
}

/** A source that counts the bytes read from it. */
class CountingSource extends MemorySource {
  bytesRead = 0;
  override read(offset: number, dst: Uint8Array): number {
    const n = super.read(offset, dst);
    this.bytesRead += n;
    return n;
  }
}

function measure(
  size: number,
  spec: TargetSpec,
  out: string,
): { mib: number; ms: number; fileBytesRead: number; dataBytesRead: number } {
  const src = sparseQcow2(size);
  const counting = new CountingSource(src.bytes(), false);
  const image = new Qcow2Image(counting);
  (globalThis as { gc?: () => void }).gc?.();
  const m0 = process.memoryUsage();
  const base = m0.heapUsed + m0.arrayBuffers;
  const peak = { v: base };
  const dst = new FileSource(out, 'w');
  const t0 = performance.now();
  const stats = convertImage(image, sampling(dst, peak), spec);
  const ms = performance.now() - t0;
  dst.close();
  return {
    mib: (peak.v - base) / 2 ** 20,
    ms,
    fileBytesRead: counting.bytesRead,
    dataBytesRead: stats.bytesRead,
  };
}

describe('streaming conversion of a large, mostly empty image', () => {
  const specs: Array<[string, TargetSpec]> = [
    ['vmdk streamOptimized', { format: 'vmdk', vmdk: { subformat: 'streamOptimized' } }],
    ['vmdk monolithicSparse', { format: 'vmdk', vmdk: { subformat: 'monolithicSparse' } }],
    ['qcow2', { format: 'qcow2' }],
  ];
  it('64 GiB qcow2 -> raw in memory (a page has no file system): only the data is held', () => {
    const src = new Qcow2Image(new MemorySource(sparseQcow2(64 * GiB).bytes(), false));
    const dst = new SparseMemorySource();
    convertImage(src, dst, { format: 'raw' });
    expect(dst.size).toBe(64 * GiB);
    // 4 runs of 200 KB
    expect(dst.allocatedBytes).toBeLessThanOrEqual(8 * SparseMemorySource.CHUNK);
    const got = new Uint8Array(200_000);
    dst.read(Math.min(Math.floor((64 * GiB * 0.5) / 4096) * 4096, 64 * GiB - 200_000), got);
    expect(Buffer.from(got).equals(Buffer.from(noise(200_000, 501)))).toBe(true);
    // And back: the in-memory raw image knows its holes, so converting it reads only the data.
    const again = new MemorySource();
    const stats = convertImage(new RawImage(dst), again, { format: 'qcow2' });
    expect(stats.bytesRead).toBeLessThanOrEqual(8 * SparseMemorySource.CHUNK);
    expect(
      compareImages(src, new Qcow2Image(new MemorySource(again.bytes(), false))).identical,
    ).toBe(true);
  });

  it.each(specs)('64 GiB qcow2 -> %s: bounded memory and time', (label, spec) => {
    const name = label.replace(/[^a-z0-9]+/gi, '_');
    const small = measure(1 * GiB, spec, join(t.dir, `1g-${name}`));
    const big = measure(64 * GiB, spec, join(t.dir, `64g-${name}`));
    // Wall time is only reported; what bounds it is counted: the bytes read from the source.
    console.log(
      `convert ${label}: 1 GiB source ${small.mib.toFixed(1)} MiB peak, ` +
        `${small.ms.toFixed(0)} ms; 64 GiB source ${big.mib.toFixed(1)} MiB peak, ` +
        `${big.ms.toFixed(0)} ms, ${big.fileBytesRead} bytes read from the source file`,
    );
    // 64 times the virtual size, not 64 times the memory: at most a few MiB more
    // (the monolithicSparse target writes 8 MiB of preallocated grain tables in 1 MiB chunks).
    expect(big.mib).toBeLessThan(small.mib + 16);
    expect(big.mib).toBeLessThan(64);
    // Only the four 200 KB runs (rounded out to 64 KiB clusters) and the metadata are read:
    // the same for 1 GiB and 64 GiB.
    expect(big.dataBytesRead).toBeLessThanOrEqual(4 * 5 * 65536);
    expect(big.fileBytesRead).toBeLessThan(2 << 20);
    // (The 64 GiB image spreads its data over four L2 tables, the 1 GiB one over two.)
    expect(big.fileBytesRead).toBeLessThanOrEqual(small.fileBytesRead + 4 * 65536);
    if (hasQemuImg) {
      const src = join(t.dir, `64g-src-${name}.qcow2`);
      const s = new FileSource(src, 'w');
      s.write(0, sparseQcow2(64 * GiB).bytes());
      s.close();
      expect(qemuImg(['compare', src, join(t.dir, `64g-${name}`)]).stdout).toMatch(
        /Images are identical/,
      );
      expect(qemuImg(['check', join(t.dir, `64g-${name}`)]).status).toBe(0);
    }
  });
});
