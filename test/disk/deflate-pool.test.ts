/**
 * The worker pool that compresses stream-optimized grains in parallel: its image is the
 * one the one-thread writer makes, byte for byte (same zlib, same level, records in grain
 * order), and qemu-img reads it as the source (`qemu-img compare`, `qemu-img check`).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemorySource } from '../../bindings/disk/source.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { convertImage } from '../../bindings/disk/convert.js';
import { codec } from '../../bindings/disk/codec.js';
import '../../bindings/disk/node.js';
import { nodeDeflatePool } from '../../bindings/disk/node-deflate.js';
import { hasQemuImg, qemuImg, tempDir, noise } from './helpers.js';

const SIZE = 24 << 20;

/** Noise, text and zeros in runs that cross grain-table boundaries (512 grains of 64 KiB). */
function source(): Uint8Array {
  const b = new Uint8Array(SIZE);
  const text = new TextEncoder().encode('wasmvisor grain '.repeat(4096));
  for (let off = 0, i = 0; off < SIZE; off += 1 << 20, i++) {
    if (i % 3 === 0) b.set(noise(1 << 20, i), off);
    else if (i % 3 === 1) b.set(text.subarray(0, 1 << 20), off);
  }
  b.set(noise(1000, 99), SIZE - 700 - 65536);
  return b;
}

function convert(raw: Uint8Array, pool: boolean): Uint8Array {
  const saved = codec.deflatePool;
  if (!pool) codec.deflatePool = undefined;
  else codec.deflatePool = (g) => nodeDeflatePool(g, codec.zlibDeflate, 3);
  try {
    const dst = new MemorySource(new Uint8Array(0), true);
    const src = new RawImage(new MemorySource(raw.slice(), false));
    convertImage(src, dst, { format: 'vmdk', vmdk: { subformat: 'streamOptimized', cid: 0x1234 } });
    return dst.bytes().slice();
  } finally {
    codec.deflatePool = saved;
  }
}

describe('deflate worker pool', () => {
  const raw = source();
  const { dir, cleanup } = tempDir();
  afterAll(cleanup);

  it('writes the same image as the one-thread writer', () => {
    const one = convert(raw, false);
    const many = convert(raw, true);
    expect(many.length).toBe(one.length);
    expect(Buffer.compare(Buffer.from(many), Buffer.from(one))).toBe(0);
    writeFileSync(join(dir, 'p.vmdk'), many);
  });

  it.skipIf(!hasQemuImg)('qemu-img reads it as the source', () => {
    writeFileSync(join(dir, 'src.raw'), raw);
    expect(qemuImg(['check', join(dir, 'p.vmdk')]).status).toBe(0);
    const cmp = qemuImg(['compare', '-f', 'raw', '-F', 'vmdk', join(dir, 'src.raw'),
      join(dir, 'p.vmdk')]);
    expect(cmp.stdout).toContain('Images are identical.');
    expect(readFileSync(join(dir, 'p.vmdk')).length).toBeGreaterThan(0);
  });

  it('a grain that does not compress is stored (zlib level 0): valid, and no longer', () => {
    const one = convert(raw, false);
    // Grain records follow the header's overhead (128 sectors): marker (LBA, size), then
    // the zlib stream. RFC 1950 2.2: CMF 0x78; FLG's FLEVEL bits say 0 (0x01, stored or
    // fastest) for the noise megabytes and 2 (0x9C, default) for the text.
    const dv = new DataView(one.buffer, one.byteOffset);
    const flg: Record<number, number> = {};
    for (let off = 128 * 512; off < one.length - 512;) {
      const lba = Number(dv.getBigUint64(off, true));
      const size = dv.getUint32(off + 8, true);
      const type = dv.getUint32(off + 12, true);
      if (size === 0) {
        if (type === 0) break; // end of stream
        off += 512 * (1 + Number(dv.getBigUint64(off, true)));
        continue;
      }
      expect(one[off + 12]).toBe(0x78);
      flg[Math.floor(lba / 2048)] = one[off + 13];
      off += Math.ceil((12 + size) / 512) * 512;
    }
    expect(flg[0]).toBe(0x01); // MiB 0: noise
    expect(flg[1]).toBe(0x9c); // MiB 1: text
    // A stored stream is the grain plus framing: 64 KiB + 2 block headers + zlib's 6 bytes.
    const first = dv.getUint32(128 * 512 + 8, true);
    expect(first).toBe(65536 + 2 * 5 + 6);
  });

  it('a pool closed early stops its workers', () => {
    const p = nodeDeflatePool(65536, codec.zlibDeflate, 2)!;
    p.submit(0, new Uint8Array(65536), 6);
    expect(p.take(0).length).toBeGreaterThan(0);
    p.close();
    p.close();
  });
});
