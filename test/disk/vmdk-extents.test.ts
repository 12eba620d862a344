/**
 * VMDK disks made of a descriptor file and separate extent files (monolithicFlat,
 * twoGbMaxExtentSparse, twoGbMaxExtentFlat, vmfs, ZERO extents), against qemu-img:
 * what this code reads equals `qemu-img convert -O raw`; what it writes passes
 * `qemu-img check`, compares equal to its source (`qemu-img compare`), is laid out as
 * qemu-img lays it out, and `qemu-img info` prints what `wasmvisor img info` prints.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  writeFileSync,
  readFileSync,
  readdirSync,
  openSync,
  readSync,
  closeSync,
  mkdirSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { openImageFile } from '../../bindings/disk/node.js';
import { openImage, detectFormat } from '../../bindings/disk/open.js';
import { MemorySource } from '../../bindings/disk/source.js';
import { ImageError } from '../../bindings/disk/errors.js';
import { convertImage } from '../../bindings/disk/convert.js';
import { VmdkExtentsImage, extentLayout } from '../../bindings/disk/vmdk/extents.js';
import { createMonolithicSparse } from '../../bindings/disk/vmdk/create.js';
import { runCli, runCliInProcess, repoRoot } from '../helpers/cli.js';
import {
  hasQemuImg,
  hasQemuIo,
  qemuImg,
  qemuIo,
  tempDir,
  noise,
  sha256Bytes,
  sha256Of,
  expectQemuOutput,
} from './helpers.js';

const GiB = 1024 * 1024 * 1024;
/** Two extents in the twoGbMaxExtent* subformats: the second holds the last MiB. */
const BIG = 2 * GiB + (1 << 20);
/** Noise written by qemu-io: the start, across the 2 GiB extent boundary, the end. */
const BIG_WRITES: Array<[number, number]> = [
  [0, 70000],
  [2 * GiB - 5000, 10000],
  [BIG - 4096, 4096],
];

let t: { dir: string; cleanup: () => void };
beforeAll(() => { t = tempDir(); });
afterAll(() => t.cleanup());

/** The CLI in-process in the test folder. */
const run = (args: string[]) => runCliInProcess(args, t.dir);

/** `length` bytes at `offset` of a file (zeros past its end). */
function fileBytes(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  const b = new Uint8Array(length);
  readSync(fd, b, 0, length, offset);
  closeSync(fd);
  return b;
}

function writeNoise(path: string, offset: number, length: number, seed: number): string[] {
  const p = `${path}.noise${seed}`;
  writeFileSync(p, noise(length, seed));
  return [`write -s ${p} ${offset} ${length}`];
}

function descriptor(createType: string, extents: string[], extra = ''): string {
  return (
    '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n' +
    `createType="${createType}"\n\n# Extent description\n${extents.join('\n')}\n${extra}`
  );
}

describe.skipIf(!hasQemuImg || !hasQemuIo)('descriptor files qemu-img writes', () => {
  it.each(['monolithicFlat', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat'])(
    '%s (2 GiB + 1 MiB) reads what qemu-img convert -O raw gives',
    (sub) => {
      const f = join(t.dir, `q-${sub}.vmdk`);
      expect(
        qemuImg(['create', '-q', '-f', 'vmdk', '-o', `subformat=${sub}`, f, String(BIG)]).status,
      ).toBe(0);
      qemuIo(
        'vmdk',
        f,
        BIG_WRITES.flatMap(([off, len], i) => writeNoise(f, off, len, i + 1)),
      );
      expect(qemuImg(['convert', '-O', 'raw', f, f + '.raw']).status).toBe(0);
      const img = openImageFile(f, { readOnly: true });
      expect(img.size).toBe(BIG);
      const info = img.info()['format-specific']!.data as { extents: unknown[] };
      expect(info.extents.length).toBe(sub === 'monolithicFlat' ? 1 : 2);
      // The written runs with 64 KiB around them, and windows across the disk.
      const windows: Array<[number, number]> = BIG_WRITES.map(([o, l]) => [
        Math.max(0, o - 65536),
        Math.min(BIG, o + l + 65536) - Math.max(0, o - 65536),
      ]);
      for (let k = 0; k < 16; k++) windows.push([Math.floor(((BIG / 16) * k) / 512) * 512, 4096]);
      for (const [o, l] of windows) {
        const got = new Uint8Array(l);
        img.read(o, got);
        expect(sha256Bytes(got), `${sub} at ${o}`).toBe(sha256Bytes(fileBytes(f + '.raw', o, l)));
      }
      img.close();
    },
  );

  it('reads a hand-written vmfs descriptor of VMFS, ' +
      'FLAT (at an offset) and SPARSE extents as qemu-img does', () => {
    const d = join(t.dir, 'mixed');
    mkdirSync(d);
    writeFileSync(join(d, 'a.bin'), noise(1 << 20, 7));
    writeFileSync(join(d, 'b.bin'), noise(600 * 512, 8));
    expect(qemuImg(['create', '-q', '-f', 'vmdk', join(d, 'sp.vmdk'), '1M']).status).toBe(0);
    qemuIo('vmdk', join(d, 'sp.vmdk'), writeNoise(join(d, 'sp'), 4096, 100000, 9));
    expect(
      qemuImg([
        'create', '-q', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', join(d, 'tw.vmdk'),
        '1M',
      ]).status,
    ).toBe(0);
    qemuIo('vmdk', join(d, 'tw.vmdk'), writeNoise(join(d, 'tw'), 1 << 19, 5000, 10));
    // qemu takes a VMFS line without an offset and a FLAT line with one.
    writeFileSync(
      join(d, 'd.vmdk'),
      descriptor('vmfs', [
        'RW 2048 VMFS "a.bin"', 'RW 2048 SPARSE "sp.vmdk"', 'RW 500 FLAT "b.bin" 100',
        'RW 2048 SPARSE "tw-s001.vmdk"',
      ]),
    );
    expect(qemuImg(['convert', '-O', 'raw', join(d, 'd.vmdk'), join(d, 'd.raw')]).status).toBe(0);
    const want = readFileSync(join(d, 'd.raw'));
    const img = openImageFile(join(d, 'd.vmdk'), { readOnly: true });
    expect(img.size).toBe(want.length);
    expect(sha256Of(img)).toBe(sha256Bytes(want));
    img.close();
  });

  it('img info prints what qemu-img info prints (text and JSON), ' +
      'for its files and ours', async () => {
    for (const sub of ['monolithicFlat', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat']) {
      for (const who of ['q', 'w']) {
        const f = `${who}-info-${sub}.vmdk`;
        const create = ['create', '-q', '-f', 'vmdk', '-o', `subformat=${sub}`, f, '5G'];
        const status =
          who === 'q' ? qemuImg(create, t.dir).status : (await run(['img', ...create])).status;
        expect(status).toBe(0);
        expectQemuOutput((await run(['img', 'info', f])).out, qemuImg(['info', f], t.dir).stdout);
        expectQemuOutput(
          (await run(['img', 'info', '--output', 'json', f])).out,
          qemuImg(['info', '--output', 'json', f], t.dir).stdout,
        );
      }
    }
    // Opened from another folder, qemu names the extents by their path from there.
    expectQemuOutput(
      (await run(['img', 'info', join(t.dir, 'q-info-twoGbMaxExtentSparse.vmdk')])).out,
      qemuImg(['info', join(t.dir, 'q-info-twoGbMaxExtentSparse.vmdk')]).stdout,
    );
  });

  it('img map names the extent file of each run, ' +
      'as qemu-img map does (text and JSON)', async () => {
    const f = 'map-split.vmdk';
    expect(
      qemuImg(
        ['create', '-q', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', f, String(BIG)],
        t.dir,
      ).status,
    ).toBe(0);
    qemuIo(
      'vmdk',
      join(t.dir, f),
      BIG_WRITES.flatMap(([off, len], i) => writeNoise(join(t.dir, f), off, len, 40 + i)),
    );
    const ours = (await run(['img', 'map', f])).out;
    expect(ours).toMatch(/map-split-s002\.vmdk/);
    expectQemuOutput(ours, qemuImg(['map', f], t.dir).stdout);
    expectQemuOutput(
      (await run(['img', 'map', '--output', 'json', f])).out,
      qemuImg(['map', '--output', 'json', f], t.dir).stdout,
    );
  });

  it('img create writes the descriptor and extents qemu-img ' +
      'create writes (but the random CID)', async () => {
    for (const [sub, size] of [
      ['monolithicFlat', '3M'],
      ['twoGbMaxExtentSparse', '4194305K'],
      ['twoGbMaxExtentFlat', '2G'],
      ['twoGbMaxExtentSparse', '0'],
    ]) {
      const dq = join(t.dir, `cq-${sub}-${size}`),
        dw = join(t.dir, `cw-${sub}-${size}`);
      mkdirSync(dq);
      mkdirSync(dw);
      expect(
        qemuImg([
          'create', '-q', '-f', 'vmdk', '-o', `subformat=${sub}`, join(dq, 'disk.img'), size,
        ]).status,
      ).toBe(0);
      const created = await run([
        'img', 'create', '-q', '-f', 'vmdk', '-o', `subformat=${sub}`, join(dw, 'disk.img'), size,
      ]);
      expect(created.status).toBe(0);
      const names = readdirSync(dq).sort();
      expect(readdirSync(dw).sort()).toEqual(names);
      for (const n of names) {
        // Flat extents are files of the extent's size (holes: truncated, never written).
        // (The descriptor's length varies with the random CID, which qemu prints unpadded.)
        if (n !== 'disk.img')
          expect(statSync(join(dw, n)).size, n).toBe(statSync(join(dq, n)).size);
        if (statSync(join(dq, n)).size > 64 << 20) continue;
        const a = readFileSync(join(dq, n)),
          b = readFileSync(join(dw, n));
        if (n === 'disk.img')
          expect(b.toString().replace(/CID=\w+/, '')).toBe(a.toString().replace(/CID=\w+/, ''));
        else expect(sha256Bytes(b), n).toBe(sha256Bytes(a));
      }
      expect(qemuImg(['check', join(dw, 'disk.img')]).status).toBe(0);
    }
  });

  it.each(['monolithicFlat', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat'])(
    'img convert -o subformat=%s passes qemu-img check and compare',
    async (sub) => {
      // A 2 GiB + 1 MiB qcow2 with noise across the extent boundary, written by qemu-io.
      const src = `conv-src-${sub}.qcow2`;
      expect(qemuImg(['create', '-q', '-f', 'qcow2', src, String(BIG)], t.dir).status).toBe(0);
      qemuIo(
        'qcow2',
        join(t.dir, src),
        BIG_WRITES.flatMap(([off, len], i) => writeNoise(join(t.dir, src), off, len, 20 + i)),
      );
      const out = `conv-${sub}.vmdk`;
      const r = await run(['img', 'convert', '-O', 'vmdk', '-o', `subformat=${sub}`, src, out]);
      expect(r.err).toBe('');
      expect(r.status).toBe(0);
      expect(
        readdirSync(t.dir)
          .filter((n) => n.startsWith(`conv-${sub}`))
          .sort(),
      ).toEqual(
        [out, ...extentLayout(sub as 'monolithicFlat', BIG / 512, out).map((e) => e.file)].sort(),
      );
      expect(readdirSync(t.dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
      const chk = qemuImg(['check', out], t.dir);
      expect(chk.stdout + chk.stderr).toMatch(/No errors were found on the image/);
      expect(chk.status).toBe(0);
      const cmp = qemuImg(['compare', src, out], t.dir);
      expect(cmp.stdout).toMatch(/Images are identical/);
      expect(cmp.status).toBe(0);
      expect((await run(['img', 'check', out])).status).toBe(0);
    },
  );

  it('img check finds a grain table entry past the end of a sparse extent, ' +
      'as qemu-img check does, and names the extent', async () => {
    const f = 'chk.vmdk';
    expect(
      qemuImg(
        ['create', '-q', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', f, '1M'],
        t.dir,
      ).status,
    ).toBe(0);
    qemuIo('vmdk', join(t.dir, f), ['write -P 7 0 65536']);
    expect((await run(['img', 'check', f])).status).toBe(0);
    // The first grain table entry of chk-s001.vmdk (header:
    // gdOffset at byte 56; the GD's first entry names the GT).
    const ext = join(t.dir, 'chk-s001.vmdk');
    const bytes = new Uint8Array(readFileSync(ext));
    const dv = new DataView(bytes.buffer);
    const gt = dv.getUint32(Number(dv.getBigUint64(56, true)) * 512, true);
    dv.setUint32(gt * 512, 100000, true);
    writeFileSync(ext, bytes);
    const q = qemuImg(['check', f], t.dir);
    expect(q.status).not.toBe(0);
    expect(q.stderr).toMatch(/ERROR: cluster offset for sector 0 points after EOF/);
    const r = await run(['img', 'check', f]);
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/chk-s001\.vmdk: ERROR: cluster offset for sector 0 points after EOF/);
  });

  it('guest writes land in the right extent (across the ' +
      '2 GiB boundary), as qemu reads them back', () => {
    for (const sub of ['twoGbMaxExtentSparse', 'twoGbMaxExtentFlat']) {
      const f = join(t.dir, `gw-${sub}.vmdk`);
      expect(
        qemuImg(['create', '-q', '-f', 'vmdk', '-o', `subformat=${sub}`, f, String(BIG)]).status,
      ).toBe(0);
      const cid = () =>
        JSON.parse(qemuImg(['info', '--output', 'json', f]).stdout)['format-specific'].data
          .cid as number;
      const cid0 = cid();
      const img = openImageFile(f);
      expect(img.readOnly).toBe(false);
      const data = noise(200_000, 33);
      const at = 2 * GiB - 100_001;
      img.write(at, data);
      img.write(12345, data.subarray(0, 777));
      img.close();
      // The first write renews the content ID, as qemu-io's first write does.
      expect(cid()).not.toBe(cid0);
      const again = openImageFile(f, { readOnly: true });
      expect(cid()).toBe((again.info()['format-specific']!.data as { cid: number }).cid);
      again.close();
      expect(qemuImg(['check', f]).status).toBe(0);
      expect(qemuImg(['convert', '-O', 'raw', f, f + '.raw']).status).toBe(0);
      expect(sha256Bytes(fileBytes(f + '.raw', at, data.length))).toBe(sha256Bytes(data));
      expect(sha256Bytes(fileBytes(f + '.raw', 12345, 777))).toBe(
        sha256Bytes(data.subarray(0, 777)),
      );
      // The first extent holds what precedes the boundary, the second the rest.
      const first = readdirSync(t.dir)
        .filter((n) => n.startsWith(`gw-${sub}-`))
        .sort();
      expect(first.length).toBe(2);
      if (sub === 'twoGbMaxExtentFlat') {
        expect(sha256Bytes(fileBytes(join(t.dir, first[1]), 0, 100_000 - 1))).toBe(
          sha256Bytes(data.subarray(100_001)),
        );
      }
    }
  });
});

describe.skipIf(!hasQemuImg)('wasmvisor run --disk on a descriptor file', () => {
  it('the JeOS disk workload writes across FLAT and ' +
      'SPARSE extents and ends as on a raw disk', () => {
    const d = join(t.dir, 'run');
    mkdirSync(d);
    const disk = new Uint8Array(readFileSync(join(repoRoot, 'guests/jeos/disk.img')));
    const S = 512;
    // The disk (1024 sectors) cut into extents; the workload writes sectors 64 to 575.
    // Sparse extents are whole grains (128 sectors), as in every real VMDK: QEMU reads a
    // request that starts in a partial last grain on through the grain, past the extent.
    writeFileSync(join(d, 'a.bin'), disk.subarray(0, 40 * S));
    const b = new Uint8Array(135 * S);
    b.set(noise(3 * S, 50)); // the FLAT extent starts 3 sectors into its file
    b.set(disk.subarray(168 * S, 300 * S), 3 * S);
    writeFileSync(join(d, 'b.bin'), b);
    writeFileSync(join(d, 'c.bin'), disk.subarray(556 * S));
    for (const [name, from, to] of [
      ['s1', 40, 168],
      ['s2', 300, 556],
    ] as const) {
      writeFileSync(join(d, `${name}.raw`), disk.subarray(from * S, to * S));
      expect(
        qemuImg([
          'convert', '-f', 'raw', '-O', 'vmdk', join(d, `${name}.raw`), join(d, `${name}.vmdk`),
        ]).status,
      ).toBe(0);
    }
    writeFileSync(
      join(d, 'disk.vmdk'),
      descriptor('monolithicFlat', [
        'RW 40 FLAT "a.bin" 0', 'RW 128 SPARSE "s1.vmdk"', 'RW 132 FLAT "b.bin" 3',
        'RW 256 SPARSE "s2.vmdk"', 'RW 468 FLAT "c.bin" 0',
      ]),
    );
    writeFileSync(join(d, 'disk.raw'), disk);
    const outs = ['disk.raw', 'disk.vmdk'].map((f) =>
      runCli([
        'run', '--kernel', 'guests/jeos/jeos.elf', '--append', 'only=disk', '--disk', join(d, f),
      ]),
    );
    for (const r of outs) {
      expect(r.stdout).toMatch(/^wl disk .*verify=ok/m);
      expect(r.status).toBe(0); // every check passed: JeOS powers off
    }
    expect(qemuImg(['check', join(d, 'disk.vmdk')]).status).toBe(0);
    expect(
      qemuImg(['convert', '-O', 'raw', join(d, 'disk.vmdk'), join(d, 'after.raw')]).status,
    ).toBe(0);
    const after = readFileSync(join(d, 'after.raw'));
    expect(after.equals(disk)).toBe(false);
    expect(sha256Bytes(after)).toBe(sha256Bytes(readFileSync(join(d, 'disk.raw'))));
    // The 3 sectors before b.bin's extent are untouched.
    expect(sha256Bytes(readFileSync(join(d, 'b.bin')).subarray(0, 3 * S))).toBe(
      sha256Bytes(noise(3 * S, 50)),
    );
  });
});

describe('descriptor files without QEMU', () => {
  const files = (m: Record<string, Uint8Array | string>) => (name: string) => {
    const b = m[name];
    if (b === undefined) throw new ImageError(`cannot open ${name}: no such file or directory`);
    return new MemorySource(typeof b === 'string' ? new TextEncoder().encode(b) : b.slice(), true);
  };
  const open = (text: string, m: Record<string, Uint8Array | string> = {}) =>
    openImage(new MemorySource(new TextEncoder().encode(text)), {
      extents: files(m),
      name: 'disk.vmdk',
    });

  it('detects a descriptor (after a BOM or blank lines) ' +
      'and reads a ZERO extent as zeros, as the VMDK 5.0 spec says', () => {
    const a = noise(1024, 1),
      b = noise(1536, 2);
    const text =
      '\ufeff\n' +
      descriptor('monolithicFlat', ['RW 2 FLAT "a.bin" 0', 'RW 4 ZERO', 'RDONLY 3 FLAT "b.bin" 0']);
    const src = new MemorySource(new TextEncoder().encode(text));
    expect(detectFormat(src)).toBe('vmdk');
    const img = openImage(src, { extents: files({ 'a.bin': a, 'b.bin': b }) });
    expect(img.size).toBe(9 * 512);
    expect(img.readOnly).toBe(true); // an RDONLY extent
    const all = new Uint8Array(img.size);
    img.read(0, all);
    const want = new Uint8Array(9 * 512);
    want.set(a, 0);
    want.set(b, 6 * 512);
    expect(sha256Bytes(all)).toBe(sha256Bytes(want));
    expect(img.blockStatus(1024, 9 * 512)).toEqual({ length: 2048, data: false });
  });

  it('converts into extents held in memory (the browser path), and reads them back', () => {
    const size = 3 << 20;
    const raw = openImage(new MemorySource(noise(size, 5)), { format: 'raw' });
    const made = new Map<string, MemorySource>();
    const dst = new MemorySource();
    convertImage(raw, dst, {
      format: 'vmdk',
      vmdk: {
        subformat: 'monolithicFlat',
        extentName: 'x.vmdk',
        extentFile: (n) => {
          const s = new MemorySource();
          made.set(n, s);
          return s;
        },
      },
    });
    expect([...made.keys()]).toEqual(['x-flat.vmdk']);
    const back = new VmdkExtentsImage(dst, { resolve: (n) => made.get(n)! });
    expect(sha256Of(back)).toBe(sha256Of(raw));
  });

  const errors: Array<[string, string, Record<string, Uint8Array | string>, RegExp]> = [
    [
      'a missing extent file',
      descriptor('monolithicFlat', ['RW 2 FLAT "gone.bin" 0']),
      {},
      /disk\.vmdk line 8: extent "gone\.bin": cannot open gone\.bin: no such file/,
    ],
    [
      'an extent line that does not parse',
      descriptor('monolithicFlat', ['RW 2 FLAT "a.bin" 0', 'RW two FLAT "a.bin" 0']),
      { 'a.bin': new Uint8Array(1024) },
      /disk\.vmdk line 9: the extent description does not parse.*"RW two FLAT/,
    ],
    [
      'an unknown extent type',
      descriptor('monolithicFlat', ['RW 2 RAW "a.bin" 0']),
      {},
      /disk\.vmdk line 8: unknown extent type RAW/,
    ],
    [
      'VMFSSPARSE',
      descriptor('vmfsSparse', ['RW 2 VMFSSPARSE "a.bin"']),
      {},
      /disk\.vmdk line 5: createType vmfsSparse is not supported/,
    ],
    [
      'a flat file shorter than its extent',
      descriptor('monolithicFlat', ['RW 4 FLAT "a.bin" 1']),
      { 'a.bin': new Uint8Array(2048) },
      /disk\.vmdk line 8: extent "a\.bin": the flat extent needs 2560 bytes .* the sizes do not add up/,
    ],
    [
      'a path with ..',
      descriptor('monolithicFlat', ['RW 2 FLAT "../etc/a.bin" 0']),
      {},
      /disk\.vmdk line 8: ".." is refused .*"RW 2 FLAT "\.\.\/etc\/a\.bin" 0"/,
    ],
    [
      'an absolute path',
      descriptor('monolithicFlat', ['RW 2 FLAT "/etc/passwd" 0']),
      {},
      /disk\.vmdk line 8: absolute paths are refused/,
    ],
    [
      'a Windows absolute path',
      descriptor('monolithicFlat', ['RW 2 FLAT "C:\\disk.bin" 0']),
      {},
      /disk\.vmdk line 8: absolute paths are refused/,
    ],
    [
      'a sparse extent named twice',
      descriptor('monolithicFlat', ['RW 2048 SPARSE "s.vmdk"', 'RW 2048 SPARSE "./s.vmdk"']),
      {},
      /disk\.vmdk line 9: the file is already the extent on line 8; a sparse extent cannot be shared/,
    ],
    [
      'a delta link',
      descriptor('monolithicFlat', ['RW 2 FLAT "a.bin" 0']).replace(
        'parentCID=ffffffff',
        'parentCID=0000abcd',
      ),
      {},
      /disk\.vmdk line 4: the descriptor names a parent/,
    ],
  ];
  it.each(errors)('%s is an ImageError naming the file and the line', (_l, text, m, re) => {
    expect(() => open(text, m)).toThrow(ImageError);
    expect(() => open(text, m)).toThrow(re);
  });

  it('mutated descriptors open or end in an ImageError, never another exception', () => {
    const sparse = new MemorySource();
    createMonolithicSparse(sparse, 128 * 512);
    const m = { 'a.bin': noise(4096, 3), 's.vmdk': sparse.bytes().slice() };
    const base = new TextEncoder().encode(
      descriptor('vmfs', [
        'RW 8 FLAT "a.bin" 0', 'RW 4 ZERO', 'RW 128 SPARSE "s.vmdk"', 'RW 7 VMFS "a.bin"',
      ]),
    );
    let x = 12345;
    const rnd = (n: number) => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x % n;
    };
    const alphabet = new TextEncoder().encode(' "0123456789\n.\\/-RWFLATSPRZEOVM#=');
    let opened = 0;
    for (let round = 0; round < 400; round++) {
      const b = base.slice();
      for (let k = 1 + rnd(4); k > 0; k--)
        b[rnd(b.length)] = rnd(2) ? alphabet[rnd(alphabet.length)] : rnd(256);
      try {
        const img = openImage(new MemorySource(b), { extents: files(m), name: 'disk.vmdk' });
        img.read(0, new Uint8Array(Math.min(img.size, 1 << 20)));
        for (let pos = 0; pos < img.size; pos += img.blockStatus(pos, img.size - pos).length);
        img.write(0, new Uint8Array(Math.min(512, img.size)));
        opened++;
      } catch (e) {
        if (!(e instanceof ImageError))
          throw new Error(`round ${round}: ${(e as Error).stack}\n${new TextDecoder().decode(b)}`);
      }
    }
    expect(opened).toBeGreaterThan(20); // the mutations also leave openable descriptors
  });

  it('a descriptor over 1 MiB is refused unread', () => {
    const text = descriptor('monolithicFlat', ['RW 2 ZERO']) + '#'.repeat(1 << 20);
    expect(() => open(text)).toThrow(
      /disk\.vmdk: the descriptor file is \d+ bytes, over the 1 MiB/,
    );
  });

  it("a sparse extent whose capacity is not its line's size: the sizes do not add up", async () => {
    // A real hosted sparse extent of 1 MiB (2048 sectors) named on a line of 4096 sectors.
    const d = join(t.dir, 'cap');
    mkdirSync(d);
    const created = await run(['img', 'create', '-q', '-f', 'vmdk', join(d, 'sp.vmdk'), '1M']);
    expect(created.status).toBe(0);
    writeFileSync(join(d, 'd.vmdk'), descriptor('monolithicFlat', ['RW 4096 SPARSE "sp.vmdk"']));
    expect(() => openImageFile(join(d, 'd.vmdk'), { readOnly: true })).toThrow(
      /d\.vmdk line 8: extent "sp\.vmdk": the extent line says 4096 sectors but the sparse extent holds 2048: the sizes do not add up/,
    );
    const c = await run(['img', 'check', join(d, 'd.vmdk')]);
    expect(c.status).toBe(2);
    expect(c.err).toMatch(/sizes do not add up/);
    // A missing extent file through the Node resolver names the descriptor and the line too.
    writeFileSync(join(d, 'e.vmdk'), descriptor('monolithicFlat', ['RW 2 FLAT "nothere.bin" 0']));
    expect(() => openImageFile(join(d, 'e.vmdk'), { readOnly: true })).toThrow(
      /e\.vmdk line 8: extent "nothere\.bin": cannot open .*nothere\.bin: no such file/,
    );
    // A descriptor naming itself as a flat extent (a guest write would overwrite it).
    writeFileSync(join(d, 'self.vmdk'), descriptor('monolithicFlat', ['RW 1 FLAT "self.vmdk" 0']));
    expect(() => openImageFile(join(d, 'self.vmdk'))).toThrow(
      /self\.vmdk line 8: extent "self\.vmdk": extent file self\.vmdk is the descriptor itself/,
    );
  });
});
