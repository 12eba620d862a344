/**
 * Behaviour that needs no external tool: every writer's output reads back through the
 * readers, unknown qcow2 header extensions survive writes, the refcount table grows and
 * moves when it must, and the format code imports nothing from Node.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemorySource } from '../../bindings/disk/source.js';
import { openImage } from '../../bindings/disk/open.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { convertImage, createImage, type TargetSpec } from '../../bindings/disk/convert.js';
import { Qcow2Image } from '../../bindings/disk/qcow2/image.js';
import { readHeader } from '../../bindings/disk/qcow2/header.js';
import { checkQcow2 } from '../../bindings/disk/qcow2/check.js';
import { checkVmdk } from '../../bindings/disk/vmdk/check.js';
import { checkExitStatus } from '../../bindings/disk/check.js';
import { VmdkImage } from '../../bindings/disk/vmdk/image.js';
import { parseDescriptor } from '../../bindings/disk/vmdk/descriptor.js';
import { fixtureBytes, noise, sha256Of, manifest } from './helpers.js';

const SIZE = 6 << 20;
function reference(): Uint8Array {
  const b = new Uint8Array(SIZE);
  b.set(noise(100_000, 1), 3);
  b.set(noise(70_000, 2), 2 << 20);
  b.set(noise(1, 3), SIZE - 1);
  return b;
}

describe('writers and readers agree', () => {
  const targets: Array<[string, TargetSpec]> = [
    ['qcow2 v2', { format: 'qcow2', qcow2: { compat: '0.10' } }],
    ['qcow2 v3 512/8', { format: 'qcow2', qcow2: { clusterSize: 512, refcountBits: 8 } }],
    ['qcow2 v3 4K/2', { format: 'qcow2', qcow2: { clusterSize: 4096, refcountBits: 2 } }],
    ['qcow2 v3 64K/32', { format: 'qcow2', qcow2: { refcountBits: 32 } }],
    ['vmdk monolithicSparse', { format: 'vmdk', vmdk: { subformat: 'monolithicSparse' } }],
    ['vmdk streamOptimized', { format: 'vmdk', vmdk: { subformat: 'streamOptimized' } }],
  ];
  it.each(targets)('%s: convert, read back, check', (_l, spec) => {
    const ref = reference();
    const dst = new MemorySource();
    const stats = convertImage(new RawImage(new MemorySource(ref, false)), dst, spec);
    expect(stats.bytesWritten).toBeLessThan(SIZE / 2); // the zeros were skipped
    const back = openImage(new MemorySource(dst.bytes(), false));
    expect(back.size).toBe(SIZE);
    const got = new Uint8Array(SIZE);
    back.read(0, got);
    expect(Buffer.from(got).equals(Buffer.from(ref))).toBe(true);
    const c =
      spec.format === 'qcow2'
        ? checkQcow2(new MemorySource(dst.bytes(), false))
        : checkVmdk(new MemorySource(dst.bytes(), false));
    expect(c.messages).toEqual([]);
    expect(checkExitStatus(c)).toBe(0);
  });

  it('the stream-optimized writer puts the grain directory in ' +
      'a footer and ends with an end-of-stream marker', () => {
    const dst = new MemorySource();
    convertImage(new RawImage(new MemorySource(reference(), false)), dst, {
      format: 'vmdk',
      vmdk: { subformat: 'streamOptimized' },
    });
    const b = dst.bytes();
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    expect(dv.getBigUint64(56, true)).toBe(0xffffffffffffffffn); // header: GD_AT_END
    expect(dv.getUint32(b.length - 1536 + 12, true)).toBe(3); // footer marker
    expect(dv.getUint32(b.length - 1024, true)).toBe(0x564d444b); // footer is a header
    expect(b.subarray(b.length - 512).every((x) => x === 0)).toBe(true); // EOS marker
    expect(new VmdkImage(new MemorySource(b, false)).hasFooter).toBe(true);
  });

  it('grows and moves the refcount table once the image ' +
      'outgrows it (512-byte clusters, 64-bit refcounts)', () => {
    const dst = new MemorySource();
    createImage(dst, 16 << 20, { format: 'qcow2', qcow2: { clusterSize: 512, refcountBits: 64 } });
    const img = new Qcow2Image(dst);
    const before = img.header.refcountTableOffset;
    const data = noise(4 << 20, 5); // 8192 clusters; one table cluster covers 64 * 64
    img.write(1 << 20, data);
    img.close();
    const h = readHeader(new MemorySource(dst.bytes(), false));
    expect(h.refcountTableOffset).not.toBe(before);
    expect(h.refcountTableClusters).toBeGreaterThan(1);
    const back = new Qcow2Image(new MemorySource(dst.bytes(), false));
    const got = new Uint8Array(data.length);
    back.read(1 << 20, got);
    expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
    expect(checkExitStatus(checkQcow2(new MemorySource(dst.bytes(), false)))).toBe(0);
  });
});

describe('qcow2 header extensions this code does not interpret', () => {
  it('are kept, byte for byte, when the image is written', () => {
    const b = fixtureBytes('qcow2-v3.qcow2');
    const h = readHeader(new MemorySource(b.slice(), false));
    // Find the end-of-extensions marker and put an unknown extension before it.
    let at = h.headerLength;
    for (const e of h.extensions) at += 8 + Math.ceil(e.data.length / 8) * 8;
    const unknown = new Uint8Array([
      0x12, 0x34, 0x56, 0x78, 0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    b.set(unknown, at);
    const src = new MemorySource(b);
    const img = new Qcow2Image(src);
    expect(img.header.extensions.map((e) => e.type)).toContain(0x12345678);
    img.write(12345, noise(100_000, 9));
    img.close();
    const after = src.bytes();
    expect([...after.subarray(at, at + unknown.length)]).toEqual([...unknown]);
    const again = readHeader(new MemorySource(after, false));
    expect(again.extensions.find((e) => e.type === 0x12345678)!.data).toEqual(
      new Uint8Array([1, 2, 3, 4, 5]),
    );
    expect(checkExitStatus(checkQcow2(new MemorySource(after, false)))).toBe(0);
  });
});

describe('VMDK descriptors', () => {
  it('reads the VirtualBox descriptor and tolerates lines it does not need, as QEMU does', () => {
    const img = new VmdkImage(new MemorySource(fixtureBytes('cot-ubuntu.2.0-disk1.vmdk'), false));
    const d = img.descriptor!;
    expect(d.fields.get('createType')).toBe('streamOptimized');
    expect(d.extents).toEqual([
      {
        access: 'RDONLY',
        sectors: img.size / 512,
        type: 'SPARSE',
        file: 'ubuntu.2.0-disk1.vmdk',
        offset: undefined,
      },
    ]);
    const odd = parseDescriptor(
      '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n' +
        'createType="monolithicSparse"\nsome free text\nddb.comment = "a "quoted" word"\n',
    );
    expect(odd.fields.get('createType')).toBe('monolithicSparse');
    expect(odd.ddb.get('ddb.comment')).toBe('a "quoted" word');
    expect(odd.unparsed).toEqual([6]);
  });
});

describe('backing files', () => {
  it('reads through a resolver (no file system needed) and fails clearly without one', () => {
    const open = () => openImage(new MemorySource(fixtureBytes('backing-overlay.qcow2'), false), {
      backing: (name) => openImage(new MemorySource(fixtureBytes(name), false)),
    });
    expect(sha256Of(open())).toBe(manifest['backing-overlay.qcow2'].sha256);
    expect(() => openImage(new MemorySource(fixtureBytes('backing-overlay.qcow2'), false)))
      .toThrow(/backing file "backing-base.qcow2" and no way to open it was given/);
  });
});

describe('browser-friendly format code', () => {
  it('imports nothing from Node outside the file-backed modules', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bindings', 'disk');
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((f) =>
        statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)],
      );
    const files = walk(root).filter((f) => f.endsWith('.ts') && !/node(-file|-deflate)?\.ts$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files)
      expect(readFileSync(f, 'utf8'), f).not.toMatch(/from ['"](node:|fs|path|os|crypto)/);
  });
});
