/**
 * Malformed images give clear errors that name the field and its offset; nothing crashes.
 * The images are qemu-img's fixtures with single fields broken on purpose, plus a fuzz
 * test over random mutations of every fixture.
 */
import { describe, it, expect } from 'vitest';
import { zlibSync, deflateSync } from 'fflate';
import { MemorySource } from '../../bindings/disk/source.js';
import { openImage } from '../../bindings/disk/open.js';
import { ImageError } from '../../bindings/disk/errors.js';
import { Qcow2Image } from '../../bindings/disk/qcow2/image.js';
import { VmdkImage } from '../../bindings/disk/vmdk/image.js';
import { checkQcow2, repairQcow2 } from '../../bindings/disk/qcow2/check.js';
import {
  createSnapshot,
  applySnapshot,
  deleteSnapshot,
} from '../../bindings/disk/qcow2/snapshot-ops.js';
import { growQcow2 } from '../../bindings/disk/qcow2/resize.js';
import { mapImage } from '../../bindings/disk/map.js';
import { checkVmdk } from '../../bindings/disk/vmdk/check.js';
import { manifest, fixtureBytes } from './helpers.js';

const be = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Opens and reads the whole disk; returns the error, if any. */
function tryAll(b: Uint8Array, writable = false): unknown {
  try {
    const img = openImage(new MemorySource(b, writable), {
      backing: () => {
        throw new ImageError('no backing in this test');
      },
    });
    const buf = new Uint8Array(1 << 16);
    for (let pos = 0; pos < Math.min(img.size, 8 << 20); pos += buf.length) {
      img.read(pos, buf.subarray(0, Math.min(buf.length, img.size - pos)));
    }
    if (writable) img.write(0, new Uint8Array(4096).fill(1));
    return undefined;
  } catch (e) {
    return e;
  }
}

function expectImageError(b: Uint8Array, pattern: RegExp, writable = false): ImageError {
  const e = tryAll(b, writable);
  expect(e).toBeInstanceOf(ImageError);
  expect((e as Error).message).toMatch(pattern);
  return e as ImageError;
}

describe('qcow2: malformed headers and tables', () => {
  const v2 = () => fixtureBytes('qcow2-v2.qcow2'); // 4 KiB clusters, 16-bit refcounts
  const v3 = () => fixtureBytes('qcow2-v3.qcow2');

  it('a truncated header', () => {
    expectImageError(
      v2().slice(0, 50),
      /qcow2 header at offset 0x0 \(72 bytes\) runs past the end of the file \(50 bytes\).*truncated/,
    );
    expectImageError(v3().slice(0, 90), /version 3 header.*truncated/);
  });

  it('a virtual size of 2^60 bytes', () => {
    const b = v2();
    be(b).setBigUint64(24, 1n << 60n);
    const e = expectImageError(
      b,
      /header field size \(offset 0x18\): virtual size 1152921504606846976 bytes is beyond 2\^53 - 1/,
    );
    expect(e.field).toBe('size');
    expect(e.offset).toBe(24);
  });

  it('a virtual size larger than the L1 table maps', () => {
    const b = v2();
    be(b).setBigUint64(24, 1n << 40n);
    expectImageError(
      b,
      /l1_size \(offset 0x24\): \d+ entries cannot map a virtual size of 1099511627776 bytes/,
    );
  });

  it('an L1 table outside the file', () => {
    const b = v2();
    be(b).setBigUint64(40, 1n << 40n);
    expectImageError(
      b,
      /l1_table_offset \(offset 0x28\): table at 0x10000000000 .* lies outside the file/,
    );
  });

  it('an L1 entry pointing outside the file', () => {
    const b = v2();
    const l1 = Number(be(b).getBigUint64(40));
    be(b).setBigUint64(l1, (1n << 63n) | (1n << 40n));
    const e = expectImageError(
      b,
      /L1 entry 0 at offset 0x[0-9a-f]+: L2 table at 0x10000000000 lies outside the file/,
    );
    expect(e.offset).toBe(l1);
  });

  it('an L2 entry pointing outside the file', () => {
    const b = v2();
    const l1 = Number(be(b).getBigUint64(40));
    const l2 = Number(be(b).getBigUint64(l1) & ((1n << 56n) - 512n));
    be(b).setBigUint64(l2, (1n << 63n) | (1n << 44n));
    const e = expectImageError(
      b,
      /L2 entry for guest cluster 0 at offset 0x[0-9a-f]+: host offset 0x100000000000 lies outside the file/,
    );
    expect(e.offset).toBe(l2);
  });

  it('an L2 table placed over the L1 table', () => {
    const b = v2();
    const l1 = Number(be(b).getBigUint64(40));
    be(b).setBigUint64(l1, (1n << 63n) | BigInt(l1));
    expectImageError(
      b,
      /L2 table at 0x[0-9a-f]+ overlaps the header, the L1 table or the refcount table/,
    );
  });

  it('refcount loops: two table entries sharing one block, ' +
      'or a block on the refcount table itself', () => {
    const b = v2();
    const rt = Number(be(b).getBigUint64(48));
    be(b).setBigUint64(rt + 8, be(b).getBigUint64(rt));
    expectImageError(
      b,
      /refcount table entry 1 at offset 0x[0-9a-f]+: block at 0x[0-9a-f]+ is already used by another entry \(a refcount loop\)/,
      true,
    );
    const c = v2();
    be(c).setBigUint64(rt, BigInt(rt));
    expectImageError(
      c,
      /refcount table entry 0 .* overlaps the header, the L1 table or the refcount table/,
      true,
    );
    expect(checkQcow2(new MemorySource(c, false))['check-errors']).toBe(1);
  });

  it('a data cluster pointing at an L2 table: the write is ' +
      'refused and the image marked corrupt, as QEMU does', () => {
    const b = v3();
    const l1 = Number(be(b).getBigUint64(40));
    const l2 = Number(be(b).getBigUint64(l1) & ((1n << 56n) - 512n));
    be(b).setBigUint64(l2, (1n << 63n) | BigInt(l2)); // guest cluster 0 -> its own L2 table
    const src = new MemorySource(b);
    const img = new Qcow2Image(src);
    expect(() => img.write(0, new Uint8Array(16))).toThrow(
      /points data at 0x[0-9a-f]+, inside the image's metadata: refusing to write \(the image is now marked corrupt\)/,
    );
    expect(be(src.bytes()).getBigUint64(72) & 2n).toBe(2n);
    expect(
      new Qcow2Image(new MemorySource(src.bytes(), false)).info()['format-specific']!.data.corrupt,
    ).toBe(true);
  });

  it('unknown incompatible features, named from the feature table when it has them', () => {
    const b = v3();
    be(b).setBigUint64(72, 1n << 40n);
    expectImageError(
      b,
      /incompatible_features \(offset 0x48\): unsupported incompatible features: bit 40/,
    );
    const c = v3();
    be(c).setBigUint64(72, 1n << 4n); // "extended L2 entries" in QEMU's feature name table
    expectImageError(c, /unsupported incompatible features: extended L2 entries/);
  });

  it('refuses to write when the image is marked dirty or corrupt', () => {
    const b = v3();
    be(b).setBigUint64(72, 1n);
    expectImageError(b, /dirty bit is set/, true);
    const c = v3();
    be(c).setBigUint64(72, 2n);
    expectImageError(c, /marked corrupt/, true);
    expect(tryAll(v3(), true)).toBeUndefined();
  });

  it.each([6, 0])('a compressed cluster that inflates beyond the cluster size (a decompression ' +
    'bomb, deflate level %i: level 0 writes stored blocks)', (level) => {
    const b = fixtureBytes('qcow2-compressed.qcow2'); // 4 KiB clusters
    const img = new Qcow2Image(new MemorySource(b.slice(), false));
    const m = img.map(0);
    expect(m.kind).toBe('compressed');
    // (A stored stream must fit the entry's 16 sectors to be read whole.)
    const bomb = deflateSync(new Uint8Array(level ? 1 << 20 : 6000), { level: level as 0 | 6 });
    // x = 62 - (12 - 8) = 58: host offset in bits 0..57, extra sectors in 58..61.
    const host = b.length;
    const sectors = Math.ceil(bomb.length / 512) - 1;
    const bigger = new Uint8Array(host + (sectors + 1) * 512);
    bigger.set(b);
    bigger.set(bomb, host);
    be(bigger).setBigUint64(m.entryAt, (1n << 62n) | (BigInt(sectors) << 58n) | BigInt(host));
    expectImageError(
      bigger,
      /compressed L2 entry for guest cluster 0 at offset 0x[0-9a-f]+: compressed data at 0x[0-9a-f]+: it inflates to more than 4096 bytes, not the cluster size 4096$/,
    );
    // No words of the inflate library ("offset is out of bounds").
    expect((tryAll(bigger) as Error).message).not.toMatch(/bounds/);
  });
});

describe('vmdk: malformed headers, grains and markers', () => {
  const sparse = () => fixtureBytes('vmdk-sparse.vmdk');
  const stream = () => fixtureBytes('vmdk-stream-qemu.vmdk');
  const le = (b: Uint8Array) => be(b);

  it('a truncated header', () => {
    expectImageError(
      sparse().slice(0, 100),
      /vmdk header at offset 0x0 \(512 bytes\) runs past the end of the file/,
    );
  });

  it('a capacity of 2^60 bytes', () => {
    const b = sparse();
    le(b).setBigUint64(12, 1n << 51n, true);
    const e = expectImageError(
      b,
      /header field capacity \(offset 0xc\): 2251799813685248 sectors \(1152921504606846976 bytes\) is beyond 2\^53 - 1/,
    );
    expect(e.field).toBe('capacity');
  });

  it('a descriptor size that lies (no huge allocation, a clear error)', () => {
    const b = sparse();
    new DataView(b.buffer, b.byteOffset).setBigUint64(36, 1n << 40n, true);
    expectImageError(
      b,
      /header field descriptorSize \(offset 0x24\): 1099511627776 sectors is larger than a descriptor can be/,
    );
    const c = sparse();
    new DataView(c.buffer, c.byteOffset).setBigUint64(36, 4000n, true);
    expectImageError(
      c,
      /vmdk embedded descriptor at offset 0x200 \(2048000 bytes\) runs past the end of the file/,
    );
  });

  it('a grain size that is not a power of two', () => {
    const b = sparse();
    le(b).setBigUint64(20, 100n, true);
    expectImageError(
      b,
      /header field grainSize \(offset 0x14\): 100 sectors is not a power of two/,
    );
  });

  it('a grain directory outside the file', () => {
    const b = sparse();
    le(b).setBigUint64(56, 1n << 30n, true);
    expectImageError(b, /gdOffset: the grain directory at 0x8000000000 .* lies outside the file/);
  });

  it('a grain table entry pointing outside the file', () => {
    const b = sparse();
    const img = new VmdkImage(new MemorySource(b.slice(), false));
    const gt = img.gd[0] * 512;
    le(b).setUint32(gt, 0x7fffffff, true);
    expectImageError(
      b,
      /grain table entry for grain 0: grain at 0xfffffffe00 lies outside the file/,
    );
  });

  it('a grain marker whose size lies', () => {
    const b = stream();
    const img = new VmdkImage(new MemorySource(b.slice(), false));
    const at = img.gte(0) * 512;
    le(b).setUint32(at + 8, 0x7fffffff, true);
    expectImageError(
      b,
      /grain marker at offset 0x[0-9a-f]+: compressed size 2147483647 runs past the end of the file/,
    );
  });

  it('a grain marker with the wrong lba: read as QEMU reads it, reported by check', () => {
    const b = stream();
    const img = new VmdkImage(new MemorySource(b.slice(), false));
    le(b).setBigUint64(img.gte(0) * 512, 999n, true);
    expect(tryAll(b)).toBeUndefined();
    const c = checkVmdk(new MemorySource(b, false));
    expect(c.corruptions).toBe(1);
    expect(c.messages[0]).toMatch(
      /lba 999 does not match the grain table \(grain 0 starts at sector 0\)/,
    );
  });

  it.each([6, 0])('a grain that inflates beyond the grain size (a decompression bomb, ' +
    'level %i)', (level) => {
    const b = stream();
    const img = new VmdkImage(new MemorySource(b.slice(), false));
    const bomb = zlibSync(new Uint8Array(4 << 20), { level: level as 0 | 6 });
    const at = b.length;
    const bigger = new Uint8Array(at + Math.ceil((12 + bomb.length) / 512) * 512);
    bigger.set(b);
    le(bigger).setBigUint64(at, 0n, true);
    le(bigger).setUint32(at + 8, bomb.length, true);
    bigger.set(bomb, at + 12);
    le(bigger).setUint32(img.gd[0] * 512, at / 512, true);
    expectImageError(
      bigger,
      /compressed grain 0 at offset 0x[0-9a-f]+: it inflates to more than 65536 bytes \(the grain size is 65536 bytes\)$/,
    );
    expect((tryAll(bigger) as Error).message).not.toMatch(/bounds/);
    expect(checkVmdk(new MemorySource(bigger, false)).corruptions).toBeGreaterThan(0);
  });

  it('GD_AT_END without a footer', () => {
    const b = stream();
    le(b).setBigUint64(56, 0xffffffffffffffffn, true);
    expectImageError(b, /footer marker expected at offset 0x[0-9a-f]+ \(gdOffset is GD_AT_END\)/);
  });

  it('a descriptor that names a parent (delta link)', () => {
    const b = sparse();
    const text = new TextDecoder().decode(b.subarray(512, 1024));
    const i = text.indexOf('parentCID=ffffffff');
    b.set(new TextEncoder().encode('parentCID=12345678'), 512 + i);
    expectImageError(b, /names a parent \(parentCID=12345678\): delta links are not supported/);
  });
});

describe('fuzz: mutated images fail cleanly', () => {
  /** A small deterministic generator so failures reproduce. */
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
  }
  const names = Object.keys(manifest).filter((n) => !n.startsWith('cot-ubuntu'));
  // DISK_FUZZ_ROUNDS=N runs N mutations per image (60 by default, to keep CI short).
  const rounds = Number(process.env.DISK_FUZZ_ROUNDS ?? 60);
  it.each(names)(`%s: ${rounds} mutations open, read, write and check without a crash`, (name) => {
    const orig = fixtureBytes(name);
    const r = rng(name.length * 7919 + Number(process.env.DISK_FUZZ_SEED ?? 0));
    const metaEnd = Math.min(orig.length, 1 << 18);
    let errors = 0;
    for (let i = 0; i < rounds; i++) {
      const b = orig.slice();
      const kind = i % 4;
      if (kind === 3) {
        const cut = Math.floor(r() * orig.length);
        const t = b.slice(0, cut);
        errors += outcome(t, name);
        continue;
      }
      const flips = 1 + Math.floor(r() * 8);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(r() * metaEnd);
        b[at] =
          kind === 0
            ? Math.floor(r() * 256)
            : kind === 1
              ? b[at] ^ (1 << Math.floor(r() * 8))
              : 0xff;
      }
      errors += outcome(b, name);
    }
    // Some mutations must have been caught (the test would be empty otherwise).
    expect(errors).toBeGreaterThan(0);
  });

  function outcome(b: Uint8Array, name: string): number {
    const e = tryAll(b, true);
    if (e !== undefined && !(e instanceof ImageError)) {
      throw new Error(`${name}: a mutation raised ${(e as Error).name}: ${(e as Error).message}`);
    }
    const c = name.endsWith('.qcow2')
      ? checkQcow2(new MemorySource(b, false))
      : checkVmdk(new MemorySource(b, false));
    expect(c).toHaveProperty('corruptions');
    {
      // Map (and for qcow2 repair and snapshot creation) on the damaged image: clean errors only.
      const ops: Array<(m: MemorySource) => unknown> = [
        (m: MemorySource) =>
          mapImage(
            openImage(m, {
              backing: () => {
                throw new ImageError('no backing');
              },
            }),
          ),
      ];
      if (name.endsWith('.qcow2')) {
        ops.push(
          (m) => repairQcow2(m, 'all'),
          (m) => createSnapshot(m, { name: 'fuzz', dateSec: 0, dateNsec: 0 }),
          (m) => growQcow2(m, (manifest[name].info['virtual-size'] as number) + (1 << 20)),
          (m) => applySnapshot(m, '1'),
          (m) => deleteSnapshot(m, '1'),
        );
      }
      for (const op of ops) {
        try { op(new MemorySource(b.slice())); } catch (err) {
          if (!(err instanceof ImageError))
            throw new Error(
              `${name}: a mutation raised ${(err as Error).name} in ` +
                `${op.toString().slice(0, 40)}: ${(err as Error).message}`,
            );
        }
      }
    }
    return e ? 1 : 0;
  }
});
