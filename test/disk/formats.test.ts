/**
 * Formats beyond raw, qcow2 and VMDK, against qemu-img 7.2 (and Bochs' bximage):
 * - the formats of QEMU's other block drivers are recognized by their magic and refused
 *   with the name `qemu-img info` gives them, never read as raw data;
 * - VHD (qemu-img's "vpc": fixed and dynamic, CHS-derived and exact sizes), VHDX (fixed,
 *   dynamic, 1 MiB blocks) and VDI (dynamic and static) images made by qemu-img and written by qemu-io read byte for byte as
 *   `qemu-img convert -O raw` reads them, and `img info` prints what `qemu-img info` prints;
 * - damaged headers end in an ImageError naming the field and its offset.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openImageFile } from '../../bindings/disk/node.js';
import { detectFormat, openImage, UnsupportedFormatError } from '../../bindings/disk/open.js';
import { MemorySource } from '../../bindings/disk/source.js';
import { ImageError } from '../../bindings/disk/errors.js';
import { crc32c } from '../../bindings/disk/vhdx.js';
import { runCliInProcess } from '../helpers/cli.js';
import { hasTool } from '../helpers/tools.js';
import {
  hasQemuImg,
  hasQemuIo,
  qemuImg,
  qemuIo,
  tempDir,
  sha256Bytes,
  sha256Of,
  expectQemuOutput,
} from './helpers.js';

const t = tempDir();
afterAll(() => t.cleanup());
const at = (n: string) => join(t.dir, n);

/** The format qemu-img info names (with `-f` when given). */
function qemuFormat(file: string): string {
  const r = qemuImg(['info', '--output=json', file]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).format as string;
}

describe.skipIf(!hasQemuImg)('formats this code does not read are named, not read as raw', () => {
  const secret = ['--object', 'secret,id=s,data=x', '-o', 'key-secret=s'];
  const cases: Array<[string, string[]]> = [
    ['qed', []],
    ['parallels', []],
    ['luks', secret],
    ['qcow', []],
  ];
  for (const [fmt, extra] of cases) {
    it(`${fmt} (qemu-img create -f ${fmt})`, async () => {
      const f = at(`img.${fmt}`);
      // LUKS key setup times PBKDF2 with getrusage, which fails now and then on a busy
      // machine ("Unable to get accurate CPU usage"): a few tries.
      let c = qemuImg(['create', '-q', '-f', fmt, ...extra, f, '16M']);
      for (let k = 0; k < 5 && c.status !== 0 && /CPU usage/.test(c.stderr); k++)
        c = qemuImg(['create', '-q', '-f', fmt, ...extra, f, '16M']);
      expect(c.status, c.stderr).toBe(0);
      const name = qemuFormat(f);
      expect(name).toBe(fmt);
      const src = new MemorySource(new Uint8Array(readFileSync(f)), false);
      expect(() => detectFormat(src)).toThrow(UnsupportedFormatError);
      try {
        detectFormat(src);
      } catch (e) {
        expect((e as UnsupportedFormatError).format).toBe(name);
      }
      const r = await runCliInProcess(['img', 'info', f]);
      expect(r.status).toBe(2);
      expect(r.err).toContain(`${f}: this is `);
      expect(r.err).toContain(`(format "${name}" in qemu-img)`);
      // Forcing raw still reads the bytes, as qemu-img -f raw does.
      const raw = await runCliInProcess(['img', 'info', '-f', 'raw', '--output', 'json', f]);
      expect(raw.status).toBe(0);
    });
  }

  it.skipIf(!hasTool('bochs'))('a Bochs growing image (bximage)', async () => {
    const f = at('bochs.img');
    const r = spawnSync('bximage', ['-func=create', '-hd=10M', '-imgmode=growing', '-q', f]);
    expect(r.status).toBe(0);
    expect(qemuFormat(f)).toBe('bochs');
    const src = new MemorySource(new Uint8Array(readFileSync(f)), false);
    expect(() => detectFormat(src)).toThrow(/format "bochs" in qemu-img/);
  });

  it('a VMDK descriptor without its first comment line is still VMDK (as qemu probes it)', () => {
    const f = at('flat.vmdk');
    expect(qemuImg(['create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', f, '8M'])
      .status).toBe(0);
    const text = readFileSync(f, 'utf8');
    expect(text.startsWith('# Disk DescriptorFile\n')).toBe(true);
    writeFileSync(f, text.slice(text.indexOf('\n') + 1));
    expect(qemuFormat(f)).toBe('vmdk');
    const img = openImageFile(f, { readOnly: true });
    expect(img.format).toBe('vmdk');
    expect(img.size).toBe(8 << 20);
    img.close();
  });

  it('a qcow2 header with version 1 is qcow, version 2 and 3 are qcow2', () => {
    const h = new Uint8Array(512);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, 0x514649fb);
    dv.setUint32(4, 1);
    expect(() => detectFormat(new MemorySource(h))).toThrow(/format "qcow"/);
    dv.setUint32(4, 3);
    expect(detectFormat(new MemorySource(h))).toBe('qcow2');
  });
});

/** VHD and VDI images qemu-img makes, written by qemu-io, and the options that made them. */
const IMAGES: Array<{ name: string; fmt: 'vpc' | 'vdi' | 'vhdx'; opts: string[]; size: string }> = [
  { name: 'dynamic.vhd', fmt: 'vpc', opts: [], size: '64M' },
  { name: 'fixed.vhd', fmt: 'vpc', opts: ['-o', 'subformat=fixed'], size: '64M' },
  { name: 'exact.vhd', fmt: 'vpc', opts: ['-o', 'force_size=on'], size: '64M' },
  { name: 'odd.vhd', fmt: 'vpc', opts: [], size: '100000k' },
  { name: 'fixed-exact.vhd', fmt: 'vpc', opts: ['-o', 'subformat=fixed,force_size=on'],
    size: '10M' },
  { name: 'dynamic.vdi', fmt: 'vdi', opts: [], size: '64M' },
  { name: 'static.vdi', fmt: 'vdi', opts: ['-o', 'static=on'], size: '20M' },
  { name: 'odd.vdi', fmt: 'vdi', opts: [], size: '3000k' },
  { name: 'dynamic.vhdx', fmt: 'vhdx', opts: [], size: '64M' },
  { name: 'fixed.vhdx', fmt: 'vhdx', opts: ['-o', 'subformat=fixed'], size: '24M' },
  { name: 'small-blocks.vhdx', fmt: 'vhdx', opts: ['-o', 'block_size=1M'], size: '40M' },
  { name: 'odd.vhdx', fmt: 'vhdx', opts: ['-o', 'block_size=1M,block_state_zero=off'],
    size: '3000k' },
];

describe.skipIf(!hasQemuImg || !hasQemuIo)('VHD and VDI images made by qemu-img', () => {
  beforeAll(() => {
    for (const i of IMAGES) {
      const f = at(i.name);
      const c = qemuImg(['create', '-q', '-f', i.fmt, ...i.opts, f, i.size]);
      expect(c.status, c.stderr).toBe(0);
      const size = JSON.parse(qemuImg(['info', '--output=json', '-f', i.fmt, f]).stdout)[
        'virtual-size'
      ] as number;
      // Data at the start, across a block boundary, and in the last sector.
      qemuIo(i.fmt, f, [
        'write -P 0x5a 0 4k',
        'write -P 0xa5 1020k 8k',
        `write -P 0x33 ${Math.min(3 << 20, size - (64 << 10))} 64k`,
        `write -P 0x77 ${size - 512} 512`,
      ]);
    }
  });

  for (const i of IMAGES) {
    it(`${i.name}: info and data as qemu-img reads them`, async () => {
      const f = at(i.name);
      // qemu-img probes a fixed VHD as raw (its footer is at the end); -f vpc names it.
      const q = qemuImg(['info', '--output=json', '-f', i.fmt, f]);
      const ours = await runCliInProcess(['img', 'info', '--output', 'json', f]);
      expect(ours.status, ours.err).toBe(0);
      expectQemuOutput(ours.out, q.stdout);
      const text = await runCliInProcess(['img', 'info', f]);
      expectQemuOutput(text.out, qemuImg(['info', '-f', i.fmt, f]).stdout);

      const qraw = at(i.name + '.qemu.raw');
      expect(qemuImg(['convert', '-f', i.fmt, '-O', 'raw', f, qraw]).status).toBe(0);
      const raw = at(i.name + '.raw');
      const c = await runCliInProcess(['img', 'convert', '-O', 'raw', f, raw]);
      expect(c.status, c.err).toBe(0);
      expect(sha256Bytes(readFileSync(raw))).toBe(sha256Bytes(readFileSync(qraw)));
      const cmp = qemuImg(['compare', '-f', i.fmt, '-F', 'raw', f, raw]);
      expect(cmp.stdout).toBe('Images are identical.\n');

      const qc = at(i.name + '.qcow2');
      expect((await runCliInProcess(['img', 'convert', '-O', 'qcow2', f, qc])).status).toBe(0);
      expect(qemuImg(['compare', '-f', i.fmt, f, qc]).stdout).toBe('Images are identical.\n');
      expect(qemuImg(['check', qc]).status).toBe(0);

      // img map as qemu-img's for dynamic VHD and VDI. (qemu-img has no block status for
      // VHDX and maps it all as data; fixed and static images it maps by the file's holes,
      // which Node cannot see, so they map as all data here, like a raw file.)
      if (i.fmt !== 'vhdx' && !i.opts.join().match(/fixed|static/)) {
        const qm = qemuImg(['map', '--output=json', '-f', i.fmt, f]);
        const rm = await runCliInProcess(['img', 'map', '--output', 'json', f]);
        expect(rm.out).toBe(qm.stdout);
      }
      const img = openImageFile(f, { readOnly: true });
      expect(sha256Of(img)).toBe(sha256Bytes(readFileSync(qraw)));
      expect(img.readOnly).toBe(true);
      expect(() => img.write(0, new Uint8Array(512))).toThrow(ImageError);
      img.close();
    });
  }

  it('VHDX: blocks past the first sector bitmap entry of the BAT (chunk ratio 4096)', async () => {
    // 1 MiB blocks, 512-byte sectors: 2^23 * 512 / 2^20 = 4096 payload entries, then a
    // sector bitmap entry (MS-VHDX 2.5); the block at 4.5 GiB sits after it.
    const f = at('big.vhdx');
    expect(qemuImg(['create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', f, '5G']).status)
      .toBe(0);
    qemuIo('vhdx', f, ['write -P 0x44 4608M 64k', 'write -P 0x45 4095M 2M']);
    const img = openImageFile(f, { readOnly: true });
    const b = new Uint8Array(64 << 10);
    img.read(4608 * 2 ** 20, b);
    expect(b.every((x) => x === 0x44)).toBe(true);
    img.close();
    const qc = at('big.qcow2');
    expect((await runCliInProcess(['img', 'convert', '-O', 'qcow2', f, qc])).status).toBe(0);
    expect(qemuImg(['compare', '-f', 'vhdx', f, qc]).stdout).toBe('Images are identical.\n');
  });

  it('img check: as qemu-img on VDI and VHDX (clean), VHD (63, no checks)', async () => {
    const names = ['dynamic.vdi', 'static.vdi', 'dynamic.vhdx', 'fixed.vhdx', 'dynamic.vhd'];
    for (const name of names) {
      const f = at(name);
      const q = qemuImg(['check', f]);
      const r = await runCliInProcess(['img', 'check', f]);
      expect(r.status, name).toBe(q.status);
      if (q.status === 0) {
        expect(r.out).toBe(q.stdout);
        const qj = qemuImg(['check', '--output=json', f]);
        const rj = await runCliInProcess(['img', 'check', '--output', 'json', f]);
        expectQemuOutput(rj.out, qj.stdout);
      }
    }
    expect((await runCliInProcess(['img', 'check', at('dynamic.vhd')])).status).toBe(63);
  });

  it('img check: a VDI data block used twice, as qemu-img reports it', async () => {
    const f = at('dup.vdi');
    expect(qemuImg(['create', '-q', '-f', 'vdi', f, '8M']).status).toBe(0);
    qemuIo('vdi', f, ['write -P 1 0 1M', 'write -P 2 3M 1M']);
    const b = new Uint8Array(readFileSync(f));
    const dv = new DataView(b.buffer);
    const bmap = dv.getUint32(0x154, true);
    dv.setUint32(bmap + 5 * 4, dv.getUint32(bmap, true), true);
    writeFileSync(f, b);
    const q = qemuImg(['check', f]);
    const r = await runCliInProcess(['img', 'check', f]);
    expect(q.status).toBe(2);
    expect(r.status).toBe(2);
    expect(r.err).toBe(q.stderr);
    expect(r.out).toBe(q.stdout);
  });
});

/** A fresh qemu-img image's bytes, to damage. */
function bytesOf(name: string, fmt: string, opts: string[], size: string): Uint8Array {
  const f = at('bad-' + name);
  expect(qemuImg(['create', '-q', '-f', fmt, ...opts, f, size]).status).toBe(0);
  qemuIo(fmt, f, ['write -P 0x11 0 64k']);
  return new Uint8Array(readFileSync(f));
}

function openBytes(b: Uint8Array, format?: 'vpc' | 'vdi' | 'vhdx') {
  return openImage(new MemorySource(b, false), { format, readOnly: true });
}

function errorOf(fn: () => unknown): ImageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    return e as ImageError;
  }
  throw new Error('no error');
}

/** Recomputes a VHD checksum (the spec's one's complement of the byte sum), so that the
 * damage tested is the field's, not the checksum's. */
function fixChecksum(b: Uint8Array, start: number, len: number, field: number): void {
  let sum = 0;
  for (let i = 0; i < len; i++) if (i < field || i >= field + 4) sum += b[start + i];
  new DataView(b.buffer).setUint32(start + field, ~sum >>> 0);
}

describe.skipIf(!hasQemuImg || !hasQemuIo)('damaged VHD and VDI headers', () => {
  it('VHD: a BAT entry past the end of the file names the entry and its offset', () => {
    const b = bytesOf('bat.vhd', 'vpc', [], '16M');
    const dv = new DataView(b.buffer);
    const batOff = Number(dv.getBigUint64(512 + 16));
    dv.setUint32(batOff, 0x7ffffff0);
    const e = errorOf(() => openBytes(b));
    expect(e.message).toMatch(/BAT entry 0 at offset 0x600: block at 0xffffffe000 .*past the end/);
    expect(e.offset).toBe(batOff);
  });

  it('VHD: a bad footer checksum, a truncated BAT, a huge size, a tiny table', () => {
    const orig = bytesOf('hdr.vhd', 'vpc', ['-o', 'force_size=on'], '16M');
    let b = orig.slice();
    b[40] ^= 1;
    expect(errorOf(() => openBytes(b)).message).toMatch(/footer checksum at offset 0x40/);
    // A truncated file (the BAT's blocks gone).
    b = orig.slice(0, 0x800 + 512);
    expect(errorOf(() => openBytes(b)).message).toMatch(/BAT entry 0 at offset 0x600/);
    b = orig.slice();
    new DataView(b.buffer).setBigUint64(48, 1n << 50n);
    fixChecksum(b, 0, 512, 64);
    expect(errorOf(() => openBytes(b)).message).toMatch(
      /current size at offset 0x30: .* over the 2040 GiB/,
    );
    b = orig.slice();
    new DataView(b.buffer).setUint32(512 + 28, 1);
    fixChecksum(b, 512, 1024, 36);
    expect(errorOf(() => openBytes(b)).message).toMatch(
      /max table entries at offset 0x21c: 1 blocks .* do not cover/,
    );
    b = orig.slice();
    new DataView(b.buffer).setBigUint64(512 + 16, 1n << 40n);
    fixChecksum(b, 512, 1024, 36);
    expect(errorOf(() => openBytes(b)).message).toMatch(/table offset at offset 0x210/);
    // qemu-img refuses the same damage (it opens none of these).
    const f = at('bad-checksum.vhd');
    const c = orig.slice();
    c[40] ^= 1;
    writeFileSync(f, c);
    expect(qemuImg(['info', '-f', 'vpc', f]).status).not.toBe(0);
  });

  it('VDI: block map entries past the end, a huge disk size, another block size', () => {
    const orig = bytesOf('map.vdi', 'vdi', [], '16M');
    const dv = (b: Uint8Array) => new DataView(b.buffer);
    const bmap = dv(orig).getUint32(0x154, true);
    let b = orig.slice();
    dv(b).setUint32(bmap, 0x1000, true);
    expect(errorOf(() => openBytes(b)).message).toMatch(
      new RegExp(`block map entry 0 at offset 0x${bmap.toString(16)}: block 4096`),
    );
    b = orig.slice(0, orig.length - 4096);
    expect(errorOf(() => openBytes(b)).message).toMatch(/block map entry 0 .*past the end/);
    b = orig.slice();
    dv(b).setBigUint64(0x170, 1n << 52n, true);
    expect(errorOf(() => openBytes(b)).message).toMatch(/disk size at offset 0x170/);
    b = orig.slice();
    dv(b).setUint32(0x178, 4096, true);
    expect(errorOf(() => openBytes(b)).message).toMatch(/block size at offset 0x178/);
    b = orig.slice();
    b[0x1b8] = 1;
    expect(errorOf(() => openBytes(b)).message).toMatch(/parent UUID at offset 0x1b8/);
    const f = at('bad-bsize.vdi');
    const c = orig.slice();
    dv(c).setUint32(0x178, 4096, true);
    writeFileSync(f, c);
    expect(qemuImg(['info', f]).status).not.toBe(0);
  });
});

describe.skipIf(!hasQemuImg || !hasQemuIo)('damaged VHDX metadata and BAT', () => {
  /** The regions of a qemu-img VHDX (region table 1 at 192 KiB, MS-VHDX 2.2.3). */
  function regions(b: Uint8Array): { bat: number; meta: number } {
    const dv = new DataView(b.buffer);
    const out = { bat: 0, meta: 0 };
    for (let i = 0; i < dv.getUint32(192 * 1024 + 8, true); i++) {
      const e = 192 * 1024 + 16 + i * 32;
      const off = Number(dv.getBigUint64(e + 16, true));
      // The first bytes of the BAT GUID 2DC27766-... as stored (little-endian).
      if (dv.getUint32(e, true) === 0x2dc27766) out.bat = off;
      else out.meta = off;
    }
    return out;
  }
  /** The offset of a metadata item by the first 32 bits of its GUID. */
  function item(b: Uint8Array, meta: number, first: number): number {
    const dv = new DataView(b.buffer);
    for (let i = 0; i < dv.getUint16(meta + 10, true); i++) {
      const e = meta + 32 + i * 32;
      if (dv.getUint32(e, true) === first) return meta + dv.getUint32(e + 16, true);
    }
    throw new Error('no such item');
  }

  it('CRC-32C gives the check value of RFC 3720 B.4 ("123456789" -> 0xe3069283)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    // ... and the checksum qemu-img wrote into a header.
    const b = bytesOf('crc.vhdx', 'vhdx', [], '8M');
    const h = b.slice(64 * 1024, 68 * 1024);
    const stored = new DataView(h.buffer).getUint32(4, true);
    h.fill(0, 4, 8);
    expect(crc32c(h)).toBe(stored);
  });

  it('a BAT entry past the end, a bad block size, a huge disk size, a pending log', () => {
    const orig = bytesOf('v.vhdx', 'vhdx', ['-o', 'block_size=1M'], '16M');
    const { bat, meta } = regions(orig);
    let b = orig.slice();
    const dv = (x: Uint8Array) => new DataView(x.buffer);
    // Block 0 is present (state 6); aim it 1 TiB away.
    expect(dv(b).getUint32(bat, true) & 7).toBe(6);
    dv(b).setUint32(bat + 4, 0x100, true);
    expect(errorOf(() => openBytes(b)).message).toMatch(
      new RegExp(`vhdx: BAT entry 0 at offset 0x${bat.toString(16)}: block 0 at .* is outside`),
    );
    b = orig.slice();
    const fp = item(b, meta, 0xcaa16737);
    dv(b).setUint32(fp, 3 << 20, true);
    expect(errorOf(() => openBytes(b)).message).toMatch(
      new RegExp(`block size at offset 0x${fp.toString(16)}: 3145728 is not a power of two`),
    );
    b = orig.slice();
    const vs = item(b, meta, 0x2fa54224);
    dv(b).setBigUint64(vs, 1n << 50n, true);
    expect(errorOf(() => openBytes(b)).message).toMatch(/virtual disk size at offset/);
    b = orig.slice();
    // A log GUID in both headers (their CRC-32C recomputed, so the headers stay valid).
    for (const h of [64 * 1024, 128 * 1024]) {
      b[h + 48] = 1;
      dv(b).setUint32(h + 4, 0, true);
      dv(b).setUint32(h + 4, crc32c(b.subarray(h, h + 4096)), true);
    }
    expect(errorOf(() => openBytes(b)).message).toMatch(/log GUID .* never replayed/);
  });
});

describe.skipIf(!hasQemuImg || !hasQemuIo)('img check and backing chains against qemu-img', () => {
  /** A qcow2 image of compressed clusters (qemu-img convert -c), its end cut off. */
  function truncatedCompressed(name: string): string {
    const raw = at(name + '.raw');
    // Text-like data: several compressed streams per host cluster.
    const words = Array.from({ length: 200000 }, (_, i) => `w${(i * 7919) % 10007} `).join('');
    writeFileSync(raw, words.slice(0, 1 << 20));
    const f = at(name);
    expect(qemuImg(['convert', '-c', '-O', 'qcow2', raw, f]).status).toBe(0);
    const b = readFileSync(f);
    // Cut 200000 bytes: streams now run one cluster or more past the end.
    writeFileSync(f, b.subarray(0, b.length - 200000));
    return f;
  }

  it('compressed clusters past the end of the file: the errors and leak qemu-img reports', async () => {
    const f = truncatedCompressed('cut.qcow2');
    const q = qemuImg(['check', f]);
    expect(q.status).toBe(2);
    expect(q.stderr).toMatch(/exceeding the end of the file by one cluster or more/);
    expect(q.stderr).toMatch(/Leaked cluster/);
    const r = await runCliInProcess(['img', 'check', f]);
    expect(r.status).toBe(q.status);
    expect(r.out).toBe(q.stdout);
    expect(r.err).toBe(q.stderr);
    const qj = qemuImg(['check', '--output=json', f]);
    const rj = await runCliInProcess(['img', 'check', '--output', 'json', f]);
    expectQemuOutput(rj.out, qj.stdout);
    // Repair: the same findings, the same file afterwards.
    const mine = at('cut-mine.qcow2'), theirs = at('cut-theirs.qcow2');
    writeFileSync(mine, readFileSync(f));
    writeFileSync(theirs, readFileSync(f));
    const qr = qemuImg(['check', '-r', 'all', theirs]);
    const rr = await runCliInProcess(['img', 'check', '-r', 'all', mine]);
    expect(rr.status).toBe(qr.status);
    expect(rr.out).toBe(qr.stdout);
    expect(sha256Bytes(readFileSync(mine))).toBe(sha256Bytes(readFileSync(theirs)));
  });

  it('a check that cannot complete exits 1 with "Check failed", as qemu-img does', async () => {
    const f = at('nohdr.qcow2');
    const b = new Uint8Array(1024);
    new DataView(b.buffer).setUint32(0, 0x514649fb);
    new DataView(b.buffer).setUint32(4, 3);
    writeFileSync(f, b);
    const r = await runCliInProcess(['img', 'check', '-f', 'qcow2', f]);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/Check failed\n$/);
    expect(qemuImg(['check', '-f', 'qcow2', f]).status).toBe(1);
  });

  it('a backing chain of 40 qcow2 files (the former limit was 16) reads as qemu-img reads it', async () => {
    const n = 40;
    expect(qemuImg(['create', '-q', '-f', 'qcow2', at('c0.qcow2'), '4M']).status).toBe(0);
    for (let i = 1; i <= n; i++) {
      const c = qemuImg(['create', '-q', '-f', 'qcow2', '-b', `c${i - 1}.qcow2`, '-F', 'qcow2',
        at(`c${i}.qcow2`)]);
      expect(c.status, c.stderr).toBe(0);
      if (i % 9 === 0) qemuIo('qcow2', at(`c${i}.qcow2`), [`write -P ${i} ${i * 64}k 64k`]);
    }
    qemuIo('qcow2', at('c0.qcow2'), ['write -P 0xee 0 1M']);
    const top = at(`c${n}.qcow2`);
    const q = qemuImg(['info', '--backing-chain', '--output=json', top]);
    const r = await runCliInProcess(['img', 'info', '--backing-chain', '--output', 'json', top]);
    expect(r.status, r.err).toBe(0);
    expectQemuOutput(r.out, q.stdout);
    const qraw = at('chain.qemu.raw'), raw = at('chain.raw');
    expect(qemuImg(['convert', '-O', 'raw', top, qraw]).status).toBe(0);
    expect((await runCliInProcess(['img', 'convert', '-O', 'raw', top, raw])).status).toBe(0);
    expect(sha256Bytes(readFileSync(raw))).toBe(sha256Bytes(readFileSync(qraw)));
  });
});

describe.skipIf(!hasQemuImg || !hasQemuIo)('fuzz: mutated VHD, VHDX and VDI images fail cleanly', () => {
  const rounds = Number(process.env.DISK_FUZZ_ROUNDS ?? 150);
  it.each([
    ['dynamic.vhd', 'vpc', []],
    ['fixed.vhd', 'vpc', ['-o', 'subformat=fixed']],
    ['dynamic.vdi', 'vdi', []],
    ['static.vdi', 'vdi', ['-o', 'static=on']],
    ['dynamic.vhdx', 'vhdx', ['-o', 'block_size=1M']],
  ] as Array<[string, string, string[]]>)(`%s: ${rounds} mutations`, (name, fmt, opts) => {
    const orig = bytesOf('fuzz-' + name, fmt, opts, '4M');
    let s = 12345 + name.length;
    const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    let errors = 0;
    for (let i = 0; i < rounds; i++) {
      let b = orig.slice();
      if (i % 5 === 4) b = b.slice(0, Math.floor(rnd() * b.length));
      else {
        // Damage the header area or the footer (where the metadata is).
        for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) {
          // (A VHDX keeps its metadata in the first few MiB: headers, regions, BAT.)
          const head = fmt === 'vhdx' ? Math.min(b.length, 4 << 20) : 4096;
          const where =
            rnd() < 0.5 ? Math.floor(rnd() * head) : b.length - 1 - Math.floor(rnd() * 512);
          b[where] = Math.floor(rnd() * 256);
        }
      }
      try {
        const img = openImage(new MemorySource(b, false), { readOnly: true });
        const buf = new Uint8Array(1 << 20);
        for (let pos = 0; pos < Math.min(img.size, 64 << 20); pos += buf.length)
          img.read(pos, buf.subarray(0, Math.min(buf.length, img.size - pos)));
        img.blockStatus(0, img.size);
      } catch (e) {
        if (!(e instanceof ImageError)) throw new Error(`${name} round ${i}: ${(e as Error).stack}`);
        expect((e as Error).message).not.toMatch(/out of bounds|outside the bounds/);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasQemuImg || !hasQemuIo)('convert to streamOptimized VMDK with Node\'s zlib', () => {
  it('a qcow2 with random and text data: qemu-img compares it equal and checks it clean', async () => {
    const f = at('bench-small.qcow2');
    expect(qemuImg(['create', '-q', '-f', 'qcow2', f, '256M']).status).toBe(0);
    // The benchmark's source in small: random runs and text runs, with holes between.
    const text = at('text.raw');
    writeFileSync(text, Array.from({ length: 60000 }, (_, i) => `line ${i * 31} ok\n`).join(''));
    qemuIo('qcow2', f, ['write -P 0x61 0 1M']);
    const rnd = at('rnd.raw');
    writeFileSync(rnd, new Uint8Array(Array.from({ length: 3 << 20 }, (_, i) =>
      ((i * 2654435761) >>> 13) & 0xff)));
    const mixed = at('mixed.raw');
    expect(qemuImg(['convert', '-O', 'raw', f, mixed]).status).toBe(0);
    const buf = readFileSync(mixed);
    buf.set(readFileSync(rnd), 64 << 20);
    buf.set(readFileSync(text).subarray(0, 1 << 20), 200 << 20);
    writeFileSync(mixed, buf);
    const src = at('mixed.qcow2');
    expect(qemuImg(['convert', '-O', 'qcow2', mixed, src]).status).toBe(0);
    const out = at('mixed.vmdk');
    const r = await runCliInProcess(
      ['img', 'convert', '-O', 'vmdk', '-o', 'subformat=streamOptimized', src, out],
    );
    expect(r.status, r.err).toBe(0);
    expect(qemuImg(['compare', src, out]).stdout).toBe('Images are identical.\n');
    expect(qemuImg(['check', out]).status).toBe(0);
  });
});
