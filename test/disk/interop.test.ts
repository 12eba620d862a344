/**
 * Interop with QEMU's own tools, run when qemu-img and qemu-io are installed:
 * fresh images that QEMU writes (noise written with qemu-io) read byte-exactly, and the
 * images this code writes pass `qemu-img check` and compare equal (`qemu-img compare`)
 * to their source or to the same writes done by qemu-io.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource } from '../../bindings/disk/node-file.js';
import { MemorySource } from '../../bindings/disk/source.js';
import { openImageFile } from '../../bindings/disk/node.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { convertImage, createImage, type TargetSpec } from '../../bindings/disk/convert.js';
import { Qcow2Image } from '../../bindings/disk/qcow2/image.js';
import { checkQcow2 } from '../../bindings/disk/qcow2/check.js';
import {
  createSnapshot,
  deleteSnapshot,
  applySnapshot,
} from '../../bindings/disk/qcow2/snapshot-ops.js';
import { checkVmdk } from '../../bindings/disk/vmdk/check.js';
import { checkExitStatus, formatCheck } from '../../bindings/disk/check.js';
import { openImage } from '../../bindings/disk/open.js';
import {
  hasQemuImg,
  hasQemuIo,
  qemuImg,
  qemuIo,
  tempDir,
  noise,
  sha256Bytes,
  sha256Of,
  manifest,
  fixtureBytes,
  expectQemuOutput,
} from './helpers.js';

const SIZE = 8 << 20;
/** Unaligned writes that straddle 512-byte, 4 KiB and 64 KiB boundaries. */
const WRITES: Array<[number, number]> = [
  [0, 70000],
  [1_000_001, 4097],
  [3 << 20, 200_000],
  [SIZE - 5000, 5000],
  [5_555_555, 1],
];

let t: { dir: string; cleanup: () => void };
beforeAll(() => { t = tempDir(); });
afterAll(() => t.cleanup());

describe.skipIf(!hasQemuImg || !hasQemuIo)('images written by qemu-img and qemu-io', () => {
  const configs: Array<[string, string, string[]]> = [
    ['qcow2 compat=0.10', 'qcow2', ['-o', 'compat=0.10']],
    ['qcow2 compat=1.1', 'qcow2', []],
    ['qcow2 cluster_size=512 refcount_bits=8', 'qcow2', ['-o', 'cluster_size=512,refcount_bits=8']],
    ['qcow2 cluster_size=2M refcount_bits=64', 'qcow2', ['-o', 'cluster_size=2M,refcount_bits=64']],
    ['vmdk monolithicSparse', 'vmdk', []],
  ];
  it.each(configs)('%s reads byte-exactly', (label, fmt, opts) => {
    const f = join(t.dir, label.replace(/[^a-z0-9]+/gi, '_'));
    expect(qemuImg(['create', '-q', '-f', fmt, ...opts, f, String(SIZE)]).status).toBe(0);
    const cmds: string[] = [];
    WRITES.forEach(([off, len], i) => {
      const p = join(t.dir, `noise${i}`);
      writeFileSync(p, noise(len, i + 1));
      cmds.push(`write -s ${p} ${off} ${len}`);
    });
    if (fmt === 'qcow2' && !opts.join().includes('0.10')) cmds.push('write -z 3200000 100000');
    qemuIo(fmt, f, cmds);
    expect(qemuImg(['convert', '-O', 'raw', f, f + '.raw']).status).toBe(0);
    const img = openImageFile(f, { readOnly: true });
    expect(sha256Of(img)).toBe(sha256Bytes(readFileSync(f + '.raw')));
    img.close();
  });

  it('reads clusters qemu-io wrote compressed (write -c) ' +
      'and the qemu stream-optimized VMDK of them', () => {
    const f = join(t.dir, 'compressed.qcow2');
    expect(
      qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', f, String(SIZE)]).status,
    ).toBe(0);
    const p = join(t.dir, 'half-noise');
    const data = new Uint8Array(8192);
    data.set(noise(4096, 99));
    writeFileSync(p, data);
    qemuIo('qcow2', f, ['write -c -s ' + p + ' 16384 8192', 'write -c -P 0x3c 1048576 4096']);
    expect(qemuImg(['convert', '-O', 'raw', f, f + '.raw']).status).toBe(0);
    const want = sha256Bytes(readFileSync(f + '.raw'));
    const q = openImageFile(f, { readOnly: true }) as Qcow2Image;
    expect(q.map(5).kind).toBe('compressed'); // the zero half compresses; the noise half may not
    expect(q.map(256).kind).toBe('compressed');
    expect(sha256Of(q)).toBe(want);
    q.close();
    expect(
      qemuImg(['convert', '-O', 'vmdk', '-o', 'subformat=streamOptimized', f, f + '.vmdk']).status,
    ).toBe(0);
    const v = openImageFile(f + '.vmdk', { readOnly: true });
    expect(sha256Of(v)).toBe(want);
    v.close();
  });
});

/** The reference disk: noise at WRITES, zeros elsewhere. */
function referenceRaw(path: string): Uint8Array {
  const b = new Uint8Array(SIZE);
  WRITES.forEach(([off, len], i) => b.set(noise(len, i + 1), off));
  writeFileSync(path, b);
  return b;
}

describe.skipIf(!hasQemuImg)('images this code writes pass qemu-img check and compare', () => {
  const targets: Array<[string, TargetSpec]> = [
    ['raw', { format: 'raw' }],
    ['qcow2 compat=0.10', { format: 'qcow2', qcow2: { compat: '0.10' } }],
    ['qcow2 compat=1.1', { format: 'qcow2' }],
    [
      'qcow2 cluster_size=512 refcount_bits=1',
      { format: 'qcow2', qcow2: { clusterSize: 512, refcountBits: 1 } },
    ],
    // 64 refcount blocks of 64 entries cover 2 MiB: the refcount table must grow and move.
    [
      'qcow2 cluster_size=512 refcount_bits=64',
      { format: 'qcow2', qcow2: { clusterSize: 512, refcountBits: 64 } },
    ],
    ['qcow2 cluster_size=2M', { format: 'qcow2', qcow2: { clusterSize: 2 << 20 } }],
    ['vmdk monolithicSparse', { format: 'vmdk', vmdk: { subformat: 'monolithicSparse' } }],
    ['vmdk streamOptimized', { format: 'vmdk', vmdk: { subformat: 'streamOptimized' } }],
  ];

  it.each(targets)('convert to %s', (label, spec) => {
    const ref = join(t.dir, 'ref.raw');
    referenceRaw(ref);
    const out = join(t.dir, 'conv-' + label.replace(/[^a-z0-9]+/gi, '_'));
    const src = new RawImage(new FileSource(ref, 'r'));
    const dst = new FileSource(out, 'w');
    convertImage(src, dst, spec);
    dst.close();
    src.close();
    if (spec.format !== 'raw') {
      const c = qemuImg(['check', out]);
      expect(c.stderr + c.stdout).toMatch(/No errors were found on the image/);
      expect(c.status).toBe(0);
    }
    const cmp = qemuImg(['compare', '-f', 'raw', '-F', spec.format, ref, out]);
    expect(cmp.stdout).toMatch(/Images are identical/);
    // And our own check agrees that it is clean.
    if (spec.format !== 'raw') {
      const s = new FileSource(out, 'r');
      expect(checkExitStatus(spec.format === 'qcow2' ? checkQcow2(s) : checkVmdk(s))).toBe(0);
      s.close();
    }
  });

  it.each(
    targets.filter(([, s]) => !(s.format === 'vmdk' && s.vmdk?.subformat === 'streamOptimized')),
  )('random writes through the block device into %s', (label, spec) => {
    const out = join(t.dir, 'rw-' + label.replace(/[^a-z0-9]+/gi, '_'));
    const ref = new Uint8Array(SIZE);
    const dst = new FileSource(out, 'w');
    createImage(dst, SIZE, spec);
    const img = openImage(dst);
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 60; i++) {
      const len = 1 + rnd(i % 7 === 0 ? 300_000 : 9000);
      const off = rnd(SIZE - len);
      const data = noise(len, 1000 + i);
      img.write(off, data);
      ref.set(data, off);
      if (i % 10 === 0) {
        // read back a window around it
        const chk = new Uint8Array(len + 2000 > SIZE - Math.max(0, off - 1000) ? len : len + 2000);
        const from = Math.max(0, Math.min(off - 1000, SIZE - chk.length));
        img.read(from, chk);
        expect(sha256Bytes(chk)).toBe(sha256Bytes(ref.subarray(from, from + chk.length)));
      }
    }
    img.close();
    const refPath = out + '.ref';
    writeFileSync(refPath, ref);
    if (spec.format !== 'raw') expect(qemuImg(['check', out]).status).toBe(0);
    expect(qemuImg(['compare', '-f', 'raw', '-F', spec.format, refPath, out]).stdout).toMatch(
      /Images are identical/,
    );
  });
});

describe.skipIf(!hasQemuImg || !hasQemuIo)('writes match the same writes done by qemu-io', () => {
  /** Copies fixture images into a folder, twice: one for qemu-io, one for this code. */
  function pair(names: string[]): { q: string; w: string } {
    const q = join(t.dir, 'q-' + names[0]);
    const w = join(t.dir, 'w-' + names[0]);
    for (const n of names) {
      writeFileSync(join(t.dir, 'q-' + n), fixtureBytes(n));
      writeFileSync(join(t.dir, 'w-' + n), fixtureBytes(n));
    }
    return { q, w };
  }

  it.each([
    ['over compressed clusters', ['qcow2-compressed.qcow2'], 4096 + 100, 3000],
    ['into an overlay, copying from its backing file', ['backing-overlay.qcow2'], 1049088 + 7, 777],
    ['over a version 3 zero cluster', ['qcow2-v3.qcow2'], (2 << 20) + 5, 1234],
  ] as Array<[string, string[], number, number]>)(
    'partial-cluster write %s',
    (_label, names, off, len) => {
      const { q, w } = pair(names);
      if (names[0] === 'backing-overlay.qcow2') {
        // The overlay names its base by a relative path; give each copy its own base.
        copyFileSync(join(t.dir, 'q-backing-overlay.qcow2'), join(t.dir, 'q-ov.qcow2'));
        writeFileSync(join(t.dir, 'backing-base.qcow2'), fixtureBytes('backing-base.qcow2'));
      }
      const p = join(t.dir, 'piece');
      const data = noise(len, 7);
      writeFileSync(p, data);
      qemuIo('qcow2', q, [`write -s ${p} ${off} ${len}`]);
      const img = openImageFile(w);
      img.write(off, data);
      img.close();
      const c = qemuImg(['check', w]);
      expect(c.stdout).toMatch(/No errors were found on the image/);
      expect(qemuImg(['compare', q, w]).stdout).toMatch(/Images are identical/);
    },
  );

  it('clears the bitmaps autoclear bit on write, so QEMU sees the ' +
      'stale bitmap as inconsistent rather than trusting it', () => {
    const f = join(t.dir, 'bitmap.qcow2');
    expect(qemuImg(['create', '-q', '-f', 'qcow2', f, '1M']).status).toBe(0);
    expect(qemuImg(['bitmap', '--add', f, 'b0']).status).toBe(0);
    const before = JSON.parse(qemuImg(['info', '--output', 'json', f]).stdout);
    expect(before['format-specific'].data.bitmaps).toHaveLength(1);
    const img = openImageFile(f);
    img.write(0, new Uint8Array(512).fill(9));
    img.close();
    // qcow2.txt: a writer unaware of a feature clears its autoclear bit; QEMU then warns,
    // ignores the bitmaps and counts their clusters as leaks (no harm to data).
    const c = qemuImg(['check', f]);
    expect(c.stderr).toMatch(/a program lacking bitmap support modified this file/);
    expect(c.stdout).not.toMatch(/ERROR/);
    expect(c.status).toBe(3);
    const after = readFileSync(f);
    expect(after.readBigUInt64BE(88)).toBe(0n); // autoclear_features
  });

  it.each([4096, 65536])(
    'writes into an image with an internal snapshot (%i-byte clusters) ' +
      'as qemu-io does, and the snapshot stays intact',
    (cs) => {
      const base = join(t.dir, `snap-${cs}.qcow2`);
      expect(
        qemuImg(['create', '-q', '-f', 'qcow2', '-o', `cluster_size=${cs}`, base, '4M']).status,
      ).toBe(0);
      qemuIo('qcow2', base, [
        'write -P 0x11 0 128k', 'write -c -P 0x22 1M 64k', 'write -P 0x33 2M 8k', 'write -z 2M 4k',
      ]);
      expect(qemuImg(['snapshot', '-c', 's1', base]).status).toBe(0);
      const q = join(t.dir, `snap-${cs}-q.qcow2`),
        w = join(t.dir, `snap-${cs}-w.qcow2`);
      copyFileSync(base, q);
      copyFileSync(base, w);
      const pieces: Array<[number, number]> = [
        [1000, 70000],
        [(1 << 20) + 5, 3000],
        [3 << 20, 5000],
        [(2 << 20) + 100, 100],
      ];
      const cmds: string[] = [];
      const img = openImageFile(w);
      pieces.forEach(([off, len], i) => {
        const p = join(t.dir, `snap-piece${i}`);
        const data = noise(len, 50 + i);
        writeFileSync(p, data);
        cmds.push(`write -s ${p} ${off} ${len}`);
        img.write(off, data);
      });
      img.close();
      qemuIo('qcow2', q, cmds);
      const c = qemuImg(['check', w]);
      expect(c.stdout).toMatch(/No errors were found on the image/);
      expect(qemuImg(['compare', q, w]).stdout).toMatch(/Images are identical/);
      // The snapshot still reads as it did when it was taken.
      for (const [f, out] of [
        [base, base + '.s1'],
        [w, w + '.s1'],
      ]) {
        expect(qemuImg(['convert', '-l', 'snapshot.name=s1', '-O', 'raw', f, out]).status).toBe(0);
      }
      expect(sha256Bytes(readFileSync(w + '.s1'))).toBe(sha256Bytes(readFileSync(base + '.s1')));
      const s = new FileSource(w, 'r');
      expectQemuOutput(formatCheck(checkQcow2(s)), c.stdout);
      s.close();
    },
  );
});

describe.skipIf(!hasQemuImg || !hasQemuIo)(
  'internal snapshots created and deleted here, read by qemu-img',
  () => {
    const rawOf = (f: string, snap?: string) => {
      const out = f + (snap ? '.' + snap : '') + '.raw';
      expect(
        qemuImg(['convert', ...(snap ? ['-l', `snapshot.name=${snap}`] : []), '-O', 'raw', f, out])
          .status,
      ).toBe(0);
      return sha256Bytes(readFileSync(out));
    };
    it.each([4096, 65536])('create, write, create, delete (%i-byte clusters)', (cs) => {
      const f = join(t.dir, `own-snap-${cs}.qcow2`);
      expect(
        qemuImg(['create', '-q', '-f', 'qcow2', '-o', `cluster_size=${cs}`, f, '4M']).status,
      ).toBe(0);
      qemuIo('qcow2', f, [
        'write -P 0x11 0 128k', 'write -c -P 0x22 1M 64k', 'write -P 0x33 2M 8k', 'write -z 2M 4k',
      ]);
      const at1 = rawOf(f);
      const s = () => new FileSource(f, 'r+');
      let src = s();
      expect(createSnapshot(src, { name: 's1' })).toBe('1');
      src.close();
      expect(qemuImg(['check', f]).status).toBe(0);
      qemuIo('qcow2', f, ['write -P 0x44 4k 8k', 'write -P 0x55 1M 4k', 'write -P 0x66 3M 4k']);
      const at2 = rawOf(f);
      src = s();
      expect(createSnapshot(src, { name: 's2' })).toBe('2');
      src.close();
      const list = JSON.parse(qemuImg(['info', '--output', 'json', f]).stdout).snapshots.map(
        (x: any) => [x.id, x.name],
      );
      expect(list).toEqual([
        ['1', 's1'],
        ['2', 's2'],
      ]);
      expect(rawOf(f, 's1')).toBe(at1);
      expect(rawOf(f, 's2')).toBe(at2);
      src = s();
      deleteSnapshot(src, 's1');
      src.close();
      const c = qemuImg(['check', f]);
      expect(c.stdout).toMatch(/No errors were found on the image/);
      expect(rawOf(f, 's2')).toBe(at2);
      expect(rawOf(f)).toBe(at2);
      // QEMU deletes the snapshot this code made, and the image is clean again.
      expect(qemuImg(['snapshot', '-d', 's2', f]).status).toBe(0);
      expect(qemuImg(['check', f]).status).toBe(0);
    });

    it('apply reverts the disk (and its size) as qemu-img snapshot -a does', () => {
      const q = join(t.dir, 'apply-q.qcow2'),
        w = join(t.dir, 'apply-w.qcow2');
      expect(
        qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', q, '4M']).status,
      ).toBe(0);
      qemuIo('qcow2', q, ['write -P 0x11 0 64k', 'write -c -P 0x22 1M 8k']);
      expect(qemuImg(['snapshot', '-c', 'before', q]).status).toBe(0);
      qemuIo('qcow2', q, ['write -P 0x33 4k 64k', 'write -P 0x44 3M 4k']);
      expect(qemuImg(['resize', '-q', q, '20M']).status).toBe(0);
      qemuIo('qcow2', q, ['write -P 0x55 15M 4k']);
      copyFileSync(q, w);
      expect(qemuImg(['snapshot', '-a', 'before', q]).status).toBe(0);
      const src = new FileSource(w, 'r+');
      applySnapshot(src, 'before');
      src.close();
      expect(qemuImg(['check', w]).stdout).toMatch(/No errors were found on the image/);
      const size = (f: string) =>
        JSON.parse(qemuImg(['info', '--output', 'json', f]).stdout)['virtual-size'];
      expect(size(w)).toBe(size(q));
      expect(qemuImg(['compare', q, w]).stdout).toMatch(/Images are identical/);
      expect(rawOf(w)).toBe(rawOf(w, 'before'));
    });

    it('refuses a snapshot that would overflow 1-bit refcounts, ' +
        'and leaves the image as it was', () => {
      const f = join(t.dir, 'snap-r1.qcow2');
      expect(
        qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'refcount_bits=1', f, '1M']).status,
      ).toBe(0);
      qemuIo('qcow2', f, ['write -P 1 0 4k']);
      const before = sha256Bytes(readFileSync(f));
      const src = new FileSource(f, 'r+');
      expect(() => createSnapshot(src, { name: 'x' })).toThrow(/would overflow 1-bit refcounts/);
      src.close();
      expect(sha256Bytes(readFileSync(f))).toBe(before);
    });
  },
);

describe.skipIf(!hasQemuImg)(
  'the VirtualBox stream-optimized VMDK (8 GiB, grain directory in the footer)',
  () => {
    it.each(['raw', 'qcow2', 'vmdk'] as const)(
      'converts to %s and compares equal to it with qemu-img compare',
      (fmt) => {
        const src = join(t.dir, 'cot-ubuntu.2.0-disk1.vmdk');
        writeFileSync(src, fixtureBytes('cot-ubuntu.2.0-disk1.vmdk'));
        const out = join(t.dir, 'cot-out.' + fmt);
        const img = openImageFile(src, { readOnly: true });
        const dst = new FileSource(out, 'w');
        convertImage(img, dst, { format: fmt });
        dst.close();
        img.close();
        expect(qemuImg(['compare', '-f', 'vmdk', '-F', fmt, src, out]).stdout).toMatch(
          /Images are identical/,
        );
      },
    );
  },
);

describe.skipIf(!hasQemuImg)('img check finds what qemu-img check finds', () => {
  /**
   * Writes a 2-byte refcount in a copy of the version 2 fixture (4 KiB clusters, 16-bit refcounts).
   */
  function withRefcount(cluster: number, value: number): string {
    const b = fixtureBytes('qcow2-v2.qcow2');
    const dv = new DataView(b.buffer, b.byteOffset);
    const rtOff = Number(dv.getBigUint64(48));
    const block = Number(dv.getBigUint64(rtOff));
    dv.setUint16(block + cluster * 2, value);
    const f = join(t.dir, `rc-${cluster}-${value}.qcow2`);
    writeFileSync(f, b);
    return f;
  }
  it.each([
    ['a data cluster whose refcount dropped to 0 (corruption)', 'last-data', 0],
    ['a data cluster with refcount 2 (leak, and a COPIED flag that lies)', 'last-data', 2],
    ['the header cluster with refcount 2 (leak)', 'header', 2],
  ] as Array<[string, string, number]>)('%s', (_l, which, value) => {
    const q = new Qcow2Image(new MemorySource(fixtureBytes('qcow2-v2.qcow2'), false));
    // The last guest cluster is data ("write -P 0x11 4190208 4096").
    const host = q.map(Math.floor(4190208 / 4096)).host;
    q.close();
    const cluster = which === 'last-data' ? host / 4096 : 0;
    const f = withRefcount(cluster, value);
    const theirs = qemuImg(['check', f]).status;
    const s = new FileSource(f, 'r');
    const ours = checkExitStatus(checkQcow2(s));
    s.close();
    expect(theirs).not.toBe(0);
    expect(ours).toBe(theirs);
  });

  it.each(Object.keys(manifest).filter((n) => !n.startsWith('backing-overlay')))(
    '%s: clean for both',
    (name) => {
      const s = new FileSource(join(t.dir, 'x-' + name), 'w');
      s.write(0, fixtureBytes(name));
      const r = name.endsWith('.qcow2') ? checkQcow2(s) : checkVmdk(s);
      s.close();
      const q = qemuImg(['check', join(t.dir, 'x-' + name)]);
      expect(q.status).toBe(0);
      expect(checkExitStatus(r)).toBe(0);
      // The summary (allocation, fragmentation, compression, end offset) is qemu-img's too.
      if (name.endsWith('.qcow2')) expectQemuOutput(formatCheck(r), q.stdout);
    },
  );
});
