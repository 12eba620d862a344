/**
 * OVA packages: read what GNU tar writes (ustar, pax, GNU long names, other member
 * orders), write what GNU tar and sha256sum agree with, and refuse bad packages (unsafe
 * names, links, duplicates, missing files, wrong digests, truncation, decompression
 * bombs) without leaving anything behind.
 */
import { describe, expect, it } from 'vitest';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { gzipSync } from 'fflate';
import { readOva } from '../../bindings/ovf/ova-read.js';
import { memorySink } from '../../bindings/ovf/memory-sink.js';
import { writeOva, tarHeader, USTAR_MAX_SIZE } from '../../bindings/ovf/ova-write.js';
import { importOva, inspectOvaFile } from '../../bindings/ovf/node/files.js';
import { exportOva } from '../../bindings/ovf/node/export.js';
import { nodeHasher } from '../../bindings/ovf/node/hash-node.js';
import { readOvf } from '../../bindings/ovf/reader.js';
import { writeOvf } from '../../bindings/ovf/writer.js';
import { fromVmConfig } from '../../bindings/ovf/from-config.js';
import { parseManifest, formatManifest } from '../../bindings/ovf/manifest.js';
import type { VmConfig } from '../../bindings/config/types.js';
import {
  SAMPLES,
  chunks,
  collect,
  hasGnuTar,
  hasQemuImg,
  hasSha256sum,
  ovfError,
  rawIdeDisk,
  run,
  tempDir,
  vmConfig,
} from './helpers.js';

const COT = join(SAMPLES, 'cot');
const UBUNTU = ['ubuntu.2.0.ovf', 'ubuntu.2.0.mf', 'ubuntu.2.0-disk1.vmdk'];

/** Builds a tar in memory with tar-stream (for packages no honest tool would write). */
async function makeTar(
  entries: {
    name: string;
    data?: Uint8Array | string;
    type?: 'file' | 'symlink' | 'link' | 'directory' | 'character-device';
    linkname?: string;
  }[],
): Promise<Uint8Array> {
  const pack = tar.pack();
  const done = collect(pack as unknown as AsyncIterable<Uint8Array>);
  for (const e of entries) {
    const data =
      typeof e.data === 'string' ? new TextEncoder().encode(e.data) : (e.data ?? new Uint8Array(0));
    await new Promise<void>((res, rej) => {
      const type = e.type ?? 'file';
      pack.entry(
        {
          name: e.name,
          type,
          linkname: e.linkname,
          size: type === 'file' ? data.length : 0,
          mode: 0o644,
        },
        type === 'file' ? Buffer.from(data) : (undefined as unknown as string),
        (err) => (err ? rej(err) : res()),
      );
    });
  }
  pack.finalize();
  return done;
}

const cot = (n: string) => new Uint8Array(readFileSync(join(COT, n)));

/** The real VirtualBox package members, in DSP0243 order. */
function ubuntuEntries() {
  return UBUNTU.map((n) => ({ name: n, data: cot(n) }));
}

/** Imports and expects failure with nothing left: no target, no temp folder, nothing outside. */
async function importFails(pkg: Uint8Array, code: string, message?: RegExp) {
  const dir = tempDir();
  const ova = join(dir, 'bad.ova');
  writeFileSync(ova, pkg);
  const e = await ovfError(() => importOva(ova, join(dir, 'vm')));
  expect(e.code).toBe(code);
  if (message) expect(e.message).toMatch(message);
  expect(readdirSync(dir)).toEqual(['bad.ova']);
  return e;
}

describe('reading OVA packages', () => {
  it.skipIf(!hasGnuTar)(
    'reads a GNU tar ustar package and verifies its SHA256 manifest',
    async () => {
      const dir = tempDir();
      run('tar', ['--format=ustar', '-cf', join(dir, 'p.ova'), ...UBUNTU], COT);
      const r = await inspectOvaFile(join(dir, 'p.ova'));
      expect(r.descriptorName).toBe('ubuntu.2.0.ovf');
      expect(r.members).toEqual([
        {
          name: 'ubuntu.2.0-disk1.vmdk',
          size: 68608,
          storedSize: 68608,
          compressed: false,
          verified: 'SHA256',
        },
      ]);
      expect(r.manifest?.entries.map((e) => e.name)).toEqual([
        'ubuntu.2.0.ovf',
        'ubuntu.2.0-disk1.vmdk',
      ]);
      expect(r.warnings).toEqual([]);
    },
  );

  it.skipIf(!hasGnuTar)('tolerates other member orders, and says so', async () => {
    const dir = tempDir();
    run(
      'tar',
      [
        '--format=gnu', '-cf', join(dir, 'p.ova'), 'ubuntu.2.0-disk1.vmdk', 'ubuntu.2.0.mf',
        'ubuntu.2.0.ovf',
      ],
      COT,
    );
    const r = await inspectOvaFile(join(dir, 'p.ova'));
    expect(r.members[0].verified).toBe('SHA256');
    expect(r.warnings).toEqual([
      'the descriptor "ubuntu.2.0.ovf" is not the first member (DSP0243 5.3)',
      'the manifest "ubuntu.2.0.mf" does not follow the descriptor (DSP0243 5.3)',
    ]);
  });

  for (const format of ['pax', 'gnu', 'ustar'] as const) {
    it.skipIf(!hasGnuTar)(`reads long member names from GNU tar --format=${format}`, async () => {
      // 121 characters: beyond ustar's 100-byte name field
      const long = `${'appliance-disk-'.repeat(8)}1.img`;
      const cfg = vmConfig('long', [rawIdeDisk(long)]);
      const dir = tempDir();
      const img = new Uint8Array(4096).fill(0x5a);
      writeFileSync(join(dir, long), img);
      const { envelope } = fromVmConfig(cfg, { fileInfo: () => ({ size: img.length }) });
      writeFileSync(join(dir, 'long.ovf'), writeOvf(envelope));
      const args = ['-cf', join(dir, 'p.ova'), 'long.ovf', long];
      if (format === 'ustar') {
        // ustar holds it only through the 155-byte prefix
        // field, which needs a '/': GNU tar refuses.
        expect(() => run('tar', ['--format=ustar', ...args], dir)).toThrow();
        return;
      }
      run('tar', [`--format=${format}`, ...args], dir);
      const sink = memorySink();
      const r = await readOva(chunks(new Uint8Array(readFileSync(join(dir, 'p.ova'))), 1000), {
        sink,
      });
      expect(r.members.map((m) => m.name)).toEqual([long]);
      expect(Buffer.from(sink.files.get(long)!).equals(img)).toBe(true);
    });
  }

  it('imports into a new folder: files byte-identical, ' +
      'descriptor and manifest kept, vm.json written', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'u.ova'), await makeTar(ubuntuEntries()));
    const r = await importOva(join(dir, 'u.ova'), join(dir, 'vm'), { keepStreamOptimized: true });
    expect(readdirSync(join(dir, 'vm')).sort()).toEqual([...UBUNTU, 'vm.json'].sort());
    for (const n of UBUNTU)
      expect(readFileSync(join(dir, 'vm', n)).equals(readFileSync(join(COT, n))), n).toBe(true);
    const cfg = JSON.parse(readFileSync(join(dir, 'vm', 'vm.json'), 'utf8'));
    expect(cfg).toEqual(r.config);
    expect(cfg.disks.find((d: { media: string }) => d.media === 'disk')).toMatchObject({
      path: 'ubuntu.2.0-disk1.vmdk',
      capacityBytes: 8589934592,
    });
    // The VMDK's own header agrees with the descriptor's 8 GiB (read by the disk image code).
    expect(r.notes.some((n) => /virtual size/.test(n.message))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['u.ova', 'vm']);
  });

  it('imports an unpacked .ovf with its manifest and ' +
      'files beside it, with the same checks', async () => {
    const dir = tempDir();
    const r = await importOva(join(COT, 'ubuntu.2.0.ovf'), join(dir, 'vm'), {
      keepStreamOptimized: true,
    });
    expect(r.package.members).toEqual([
      {
        name: 'ubuntu.2.0-disk1.vmdk',
        size: 68608,
        storedSize: 68608,
        compressed: false,
        verified: 'SHA256',
      },
    ]);
    expect(readdirSync(join(dir, 'vm')).sort()).toEqual([...UBUNTU, 'vm.json'].sort());
    // ttylinux.ovf's disk is not beside it: refused, nothing left.
    await expect(
      importOva(join(SAMPLES, 'govmomi', 'ttylinux.ovf'), join(dir, 'tty')),
    ).rejects.toThrow(
      /"ttylinux-pc_i486-16.1-disk1.vmdk" \(File file1\) is referenced but not in the package/,
    );
    expect(readdirSync(dir)).toEqual(['vm']);
  });

  it.skipIf(!hasQemuImg)(
    'turns a streamOptimized VMDK into a writable qcow2 working copy that qemu-img finds identical',
    async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'u.ova'), await makeTar(ubuntuEntries()));
      const r = await importOva(join(dir, 'u.ova'), join(dir, 'vm'));
      expect(readdirSync(join(dir, 'vm')).sort()).toEqual([
        'ubuntu.2.0-disk1.qcow2', 'ubuntu.2.0.mf', 'ubuntu.2.0.ovf', 'vm.json',
      ]);
      expect(r.config.disks.find((d) => d.media === 'disk')).toMatchObject({
        path: 'ubuntu.2.0-disk1.qcow2',
        format: 'qcow2',
        capacityBytes: 8589934592,
      });
      expect(r.notes.find((n) => /working copy/.test(n.message))?.kind).toBe('adjusted');
      const qcow = join(dir, 'vm', 'ubuntu.2.0-disk1.qcow2');
      run('qemu-img', ['check', '-f', 'qcow2', qcow]);
      expect(
        run('qemu-img', [
          'compare', '-f', 'vmdk', '-F', 'qcow2', join(COT, 'ubuntu.2.0-disk1.vmdk'), qcow,
        ]),
      ).toMatch(/Images are identical/);
    },
  );

  it('reports a certificate file; import checks it (this one is no certificate)', async () => {
    const e = ubuntuEntries();
    const cert =
      'SHA256(ubuntu.2.0.mf)= 00\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const dir = tempDir();
    writeFileSync(
      join(dir, 'c.ova'),
      await makeTar([e[0], e[1], { name: 'ubuntu.2.0.cert', data: cert }, e[2]]),
    );
    const r = await inspectOvaFile(join(dir, 'c.ova'));
    expect(r.certificate?.name).toBe('ubuntu.2.0.cert');
    expect(r.warnings).toEqual([]);
    // A signed package is deployed only when its signature verifies (DSP0243 5.2; the
    // signature tests are in signature.test.ts).
    const err = await ovfError(() =>
      importOva(join(dir, 'c.ova'), join(dir, 'vm'), { keepStreamOptimized: true }));
    expect(err.message).toMatch(/ubuntu\.2\.0\.cert: the certificate does not parse/);
  });

  it.skipIf(!hasGnuTar)(
    "reads files in a subfolder, with GNU tar's directory entry, and imports them there",
    async () => {
      const cfg = vmConfig('s', [rawIdeDisk('disks/root.img')]);
      const dir = tempDir();
      mkdirSync(join(dir, 'disks'));
      writeFileSync(join(dir, 'disks', 'root.img'), new Uint8Array(1024).fill(3));
      const { envelope } = fromVmConfig(cfg, { fileInfo: () => ({ size: 1024 }) });
      envelope.references[0].href = 'disks/root.img';
      writeFileSync(join(dir, 's.ovf'), writeOvf(envelope));
      run('tar', ['-cf', join(dir, 's.ova'), 's.ovf', 'disks'], dir);
      expect(run('tar', ['-tf', join(dir, 's.ova')]).split('\n')).toContain('disks/');
      const r = await importOva(join(dir, 's.ova'), join(dir, 'vm'));
      expect(r.config.disks[0].path).toBe('disks/root.img');
      expect(readFileSync(join(dir, 'vm', 'disks', 'root.img'))).toEqual(Buffer.alloc(1024, 3));
    },
  );

  it.skipIf(!hasGnuTar)('reads UTF-8 member names that GNU tar stores in pax records', async () => {
    const name = 'disque-\u00e9t\u00e9-\u4e8c.img';
    const cfg = vmConfig('u', [rawIdeDisk(name)]);
    const dir = tempDir();
    writeFileSync(join(dir, name), new Uint8Array(512).fill(1));
    writeFileSync(
      join(dir, 'u.ovf'),
      writeOvf(fromVmConfig(cfg, { fileInfo: () => ({ size: 512 }) }).envelope),
    );
    run('tar', ['--format=pax', '-cf', join(dir, 'u.ova'), 'u.ovf', name], dir);
    const r = await inspectOvaFile(join(dir, 'u.ova'));
    expect(r.members.map((m) => m.name)).toEqual([name]);
  });

  it.skipIf(!hasQemuImg)(
    'creates the empty disks a descriptor asks for, as qcow2 images of their capacity',
    async () => {
      const cfg = vmConfig('e', [
        {
          controller: { type: 'ide', channel: 0, unit: 1 }, media: 'disk',
          capacityBytes: 3 * 2 ** 30,
        },
      ]);
      const dir = tempDir();
      writeFileSync(join(dir, 'vm.json'), JSON.stringify(cfg));
      await exportOva(join(dir, 'vm.json'), join(dir, 'e.ova'));
      const r = await importOva(join(dir, 'e.ova'), join(dir, 'vm'));
      expect(r.config.disks).toEqual([{ ...cfg.disks[0], path: 'vmdisk1.qcow2', format: 'qcow2' }]);
      const info = JSON.parse(
        run('qemu-img', ['info', '--output=json', join(dir, 'vm', 'vmdisk1.qcow2')]),
      );
      expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 3 * 2 ** 30 });
      run('qemu-img', ['check', join(dir, 'vm', 'vmdisk1.qcow2')]);
    },
  );

  it('refuses a non-empty target folder', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'u.ova'), await makeTar(ubuntuEntries()));
    mkdirSync(join(dir, 'vm'));
    writeFileSync(join(dir, 'vm', 'keep'), 'mine');
    await expect(importOva(join(dir, 'u.ova'), join(dir, 'vm'))).rejects.toThrow(/not empty/);
    expect(readdirSync(join(dir, 'vm'))).toEqual(['keep']);
    await expect(importOva(join(dir, 'u.ova'), join(dir, 'no', 'such', 'vm'))).rejects.toThrow(
      /no\/such\/vm: the folder it would go in does not exist/,
    );
  });
});

describe('bad packages', () => {
  it('refuses ../ and absolute member names, writing nothing outside the target', async () => {
    for (const name of [
      '../evil.vmdk', 'a/../../evil.vmdk', '/tmp/evil.vmdk', 'C:/evil.vmdk', 'dir\\..\\evil',
    ]) {
      const e = await importFails(
        await makeTar([...ubuntuEntries(), { name, data: 'x' }]),
        'unsafe-path',
      );
      expect(e.message).toContain(name);
    }
  });

  it('refuses symbolic links, hard links and device nodes', async () => {
    await importFails(
      await makeTar([
        ...ubuntuEntries(),
        { name: 'link', type: 'symlink', linkname: '/etc/passwd' },
      ]),
      'unsafe-path',
      /symlink to "\/etc\/passwd"/,
    );
    await importFails(
      await makeTar([
        ...ubuntuEntries(),
        { name: 'hard', type: 'link', linkname: 'ubuntu.2.0.ovf' },
      ]),
      'unsafe-path',
      /a link/,
    );
    await importFails(
      await makeTar([...ubuntuEntries(), { name: 'dev', type: 'character-device' }]),
      'unsafe-path',
      /character-device/,
    );
  });

  it('refuses duplicate names, also differing only in case', async () => {
    const e = ubuntuEntries();
    await importFails(await makeTar([...e, e[2]]), 'duplicate', /appears twice/);
    await importFails(
      await makeTar([...e, { name: 'UBUNTU.2.0-disk1.vmdk', data: 'x' }]),
      'duplicate',
    );
  });

  it('refuses a package missing a referenced file', async () => {
    await importFails(
      await makeTar(ubuntuEntries().slice(0, 2)),
      'missing-file',
      /"ubuntu.2.0-disk1.vmdk" \(File file1\) is referenced but not in the package/,
    );
  });

  it('refuses a package whose file does not match the manifest', async () => {
    const e = ubuntuEntries();
    const disk = e[2].data.slice();
    disk[40000] ^= 1;
    const err = await importFails(
      await makeTar([e[0], e[1], { name: e[2].name, data: disk }]),
      'checksum',
    );
    expect(err.message).toMatch(
      /SHA256 of "ubuntu.2.0-disk1.vmdk" is [0-9a-f]{64}, the manifest says 4a218c15a1e8aed26cb0a2a533562e85a9f28956a6666181d0c9bb7ba58b5b06/,
    );
  });

  it('verifies SHA1 manifests too (DSP0243 1.x)', async () => {
    const e = ubuntuEntries();
    const sha1 = (b: Uint8Array) => { const h = nodeHasher('SHA1'); h.update(b); return h.hex(); };
    const mf = formatManifest([
      { algorithm: 'SHA1', name: e[0].name, digest: sha1(e[0].data) },
      { algorithm: 'SHA1', name: e[2].name, digest: sha1(e[2].data) },
    ]);
    const r = await readOva(chunks(await makeTar([e[0], { name: e[1].name, data: mf }, e[2]])));
    expect(r.members[0].verified).toBe('SHA1');
    const bad = mf.replace(/= [0-9a-f]/, (m) => (m.endsWith('0') ? '= 1' : '= 0'));
    const badPkg = await makeTar([e[0], { name: e[1].name, data: bad }, e[2]]);
    expect((await ovfError(() => readOva(chunks(badPkg)))).code).toBe('checksum');
  });

  it('refuses truncated and non-tar input', async () => {
    const whole = await makeTar(ubuntuEntries());
    for (const cut of [700, 20000, whole.length - 3000]) {
      const e = await ovfError(() => readOva(chunks(whole.subarray(0, cut))));
      expect(['tar', 'missing-file']).toContain(e.code);
    }
    const notTar = new TextEncoder().encode('not a tar archive '.repeat(100));
    expect((await ovfError(() => readOva(chunks(notTar)))).code).toBe('tar');
    await importFails(whole.subarray(0, 20000), 'tar');
  });

  it('refuses a descriptor beyond the size limit from its header, before reading it', async () => {
    const pkg = await makeTar(ubuntuEntries());
    const e = await ovfError(() => readOva(chunks(pkg), { maxDescriptorBytes: 4096 }));
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/the descriptor is 12015 bytes, beyond the limit of 4096 bytes/);
  });

  it('stops a memory sink at its ceiling', async () => {
    const e = await ovfError(async () =>
      readOva(chunks(await makeTar(ubuntuEntries())), { sink: memorySink(50000) }),
    );
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/exceed 50000 bytes in memory/);
  });

  it('refuses a package with more members than the limit, directories included', async () => {
    const dirs = Array.from({ length: 20 }, (_, i) => ({
      name: `d${i}/`,
      type: 'directory' as const,
    }));
    const e = await ovfError(async () =>
      readOva(chunks(await makeTar([...ubuntuEntries(), ...dirs])), { maxMembers: 10 }),
    );
    expect(e.message).toMatch(/more than 10 members/);
  });

  it('refuses a package with no descriptor', async () => {
    await importFails(
      await makeTar([{ name: 'disk.vmdk', data: 'x' }]),
      'missing-file',
      /no OVF descriptor/,
    );
  });
});


describe('gzip-compressed files (ovf:compression="gzip")', () => {
  /** A package whose one disk file is gzip-compressed, with its capacity. */
  async function gzPackage(content: Uint8Array, capacity: number): Promise<Uint8Array> {
    const gz = gzipSync(content);
    const cfg = vmConfig('gz', [rawIdeDisk('disk.img', capacity)]);
    const { envelope } = fromVmConfig(cfg, { fileInfo: () => ({ size: gz.length }) });
    envelope.references[0].compression = 'gzip';
    const ovf = writeOvf(envelope);
    const sha = (b: Uint8Array) => { const h = nodeHasher('SHA256'); h.update(b); return h.hex(); };
    const mf = formatManifest([
      { algorithm: 'SHA256', name: 'gz.ovf', digest: sha(new TextEncoder().encode(ovf)) },
      { algorithm: 'SHA256', name: 'disk.img', digest: sha(gz) },
    ]);
    return makeTar([
      { name: 'gz.ovf', data: ovf },
      { name: 'gz.mf', data: mf },
      { name: 'disk.img', data: gz },
    ]);
  }

  it('expands a compressed disk on import; the manifest covers the compressed bytes', async () => {
    const content = new Uint8Array(1 << 20);
    for (let i = 0; i < content.length; i += 4096) content[i] = i >> 12;
    const sink = memorySink();
    const r = await readOva(chunks(await gzPackage(content, 1 << 20)), { sink });
    expect(r.members[0]).toMatchObject({
      compressed: true,
      storedSize: 1 << 20,
      verified: 'SHA256',
    });
    // (Buffer.equals: vitest's deep equality is slow on a MiB of bytes.)
    expect(Buffer.from(sink.files.get('disk.img')!).equals(content)).toBe(true);
  });

  it('stops a decompression bomb at the disk capacity and leaves nothing behind', async () => {
    // 16 MiB of zeros compress to ~16 KiB; the descriptor claims a 1 MiB disk.
    const e = await importFails(
      await gzPackage(new Uint8Array(16 << 20), 1 << 20),
      'compression',
      /refused as a decompression bomb/,
    );
    // 1 MiB + 1/8 + 1 MiB of image metadata
    expect(e.message).toMatch(/expands beyond 2228224 bytes/);
  });

  it('refuses corrupt gzip data', async () => {
    const pkg = await gzPackage(new Uint8Array(1 << 16).fill(7), 1 << 16);
    const r = await readOva(chunks(pkg));
    expect(r.members[0].storedSize).toBe(1 << 16);
    // Corrupt the deflate data just after the gzip member's 10-byte header (RFC 1952 2.3).
    const bad = pkg.slice();
    const at = Buffer.from(bad).indexOf(Buffer.from([0x1f, 0x8b, 0x08]));
    expect(at).toBeGreaterThan(0);
    for (let i = 10; i < 18; i++) bad[at + i] ^= 0xa5;
    const e = await ovfError(() => readOva(chunks(bad)));
    expect(['compression', 'checksum']).toContain(e.code);
  });
});

describe('chunked files (ovf:chunkSize)', () => {
  /** A package whose disk is split in chunks of `chunk` bytes (after gzip if `gz`). */
  async function chunkedPackage(
    content: Uint8Array,
    chunk: number,
    opts: { gz?: boolean; drop?: number; shuffle?: boolean } = {},
  ) {
    const stored = opts.gz ? gzipSync(content) : content;
    const cfg = vmConfig('ch', [rawIdeDisk('disk.img', content.length)]);
    const { envelope } = fromVmConfig(cfg, { fileInfo: () => ({ size: stored.length }) });
    envelope.references[0].chunkSize = String(chunk);
    if (opts.gz) envelope.references[0].compression = 'gzip';
    const ovf = writeOvf(envelope);
    const sha = (b: Uint8Array) => {
      const h = nodeHasher('SHA256');
      h.update(b);
      return h.hex();
    };
    const parts: { name: string; data: Uint8Array }[] = [];
    for (let o = 0, i = 0; o < stored.length; o += chunk, i++)
      parts.push({
        name: `disk.img.${String(i).padStart(9, '0')}`,
        data: stored.subarray(o, o + chunk),
      });
    const mf = formatManifest([
      { algorithm: 'SHA256', name: 'ch.ovf', digest: sha(new TextEncoder().encode(ovf)) },
      ...parts.map((p) => ({ algorithm: 'SHA256' as const, name: p.name, digest: sha(p.data) })),
    ]);
    let files = parts;
    if (opts.drop !== undefined) files = files.filter((_, i) => i !== opts.drop);
    if (opts.shuffle) files = [files[1], files[0], ...files.slice(2)];
    return makeTar([{ name: 'ch.ovf', data: ovf }, { name: 'ch.mf', data: mf }, ...files]);
  }
  const content = new Uint8Array(10000).map((_, i) => (i * 7) & 0xff);

  it('joins the chunks in order into one file, ' +
      'verifying each chunk against the manifest', async () => {
    const sink = memorySink();
    const r = await readOva(chunks(await chunkedPackage(content, 4096)), { sink });
    expect(r.members).toEqual([
      { name: 'disk.img', size: 10000, storedSize: 10000, compressed: false, verified: 'SHA256' },
    ]);
    expect(Buffer.from(sink.files.get('disk.img')!).equals(content)).toBe(true);
    expect(r.warnings).toEqual([]);
  });

  it('compresses first, then chunks (gzip over the joined chunks)', async () => {
    const sink = memorySink();
    const r = await readOva(chunks(await chunkedPackage(content, 64, { gz: true })), { sink });
    expect(r.members[0]).toMatchObject({ name: 'disk.img', compressed: true, storedSize: 10000 });
    expect(Buffer.from(sink.files.get('disk.img')!).equals(content)).toBe(true);
  });

  it('refuses a compressed file that comes before the descriptor', async () => {
    const pkg = await chunkedPackage(content, 1 << 20, { gz: true });
    // Re-pack with the (single) chunk first, then the descriptor.
    const members: { name: string; data: Uint8Array }[] = [];
    const ex = tar.extract();
    const got = (async () => {
      for await (const e of ex)
        members.push({
          name: e.header.name,
          data: await collect(e as unknown as AsyncIterable<Uint8Array>),
        });
    })();
    ex.end(Buffer.from(pkg));
    await got;
    const reordered = await makeTar([members[2], members[0], members[1]]);
    expect((await ovfError(() => readOva(chunks(reordered)))).message).toMatch(
      /comes before the descriptor; it cannot be expanded/,
    );
  });

  it('refuses a missing or out-of-order chunk', async () => {
    const broken = async (how: { drop?: number; shuffle?: boolean }) => {
      const pkg = await chunkedPackage(content, 4096, how);
      return (await ovfError(() => readOva(chunks(pkg)))).message;
    };
    expect(await broken({ drop: 1 })).toMatch(/follows chunk 0/);
    expect(await broken({ shuffle: true })).toMatch(/comes before chunk 000000000/);
    expect(await broken({ drop: 0 })).toMatch(/comes before chunk 000000000/);
  });
});

describe('writing OVA packages', () => {
  const config: VmConfig = {
    version: 1,
    name: 'jeos',
    cpus: 1,
    memoryMiB: 32,
    boot: { firmware: 'bios', order: ['disk'] },
    disks: [
      {
        controller: { type: 'ide', channel: 0, unit: 0 },
        media: 'disk',
        path: 'ubuntu.2.0-disk1.vmdk',
      },
    ],
    nics: [{ model: 'ne2k', network: 'lan' }],
    serial: [{ port: 1, backend: 'stdio' }],
  };

  it.skipIf(!hasGnuTar || !hasSha256sum)(
    'puts descriptor, manifest, files in order; GNU tar and sha256sum agree',
    async () => {
      const dir = tempDir();
      copyFileSync(join(COT, 'ubuntu.2.0-disk1.vmdk'), join(dir, 'ubuntu.2.0-disk1.vmdk'));
      writeFileSync(join(dir, 'vm.json'), JSON.stringify(config));
      await exportOva(join(dir, 'vm.json'), join(dir, 'out.ova'), {
        mtime: new Date(Date.UTC(2024, 0, 1)),
      });
      const listing = run('tar', ['-tvf', join(dir, 'out.ova')])
        .trim()
        .split('\n');
      expect(listing.map((l) => l.split(/\s+/).pop())).toEqual([
        'jeos.ovf',
        'jeos.mf',
        'ubuntu.2.0-disk1.vmdk',
      ]);
      expect(listing[2]).toMatch(/^-rw-r--r-- .* 68608 2024-01-01/);
      mkdirSync(join(dir, 'x'));
      run('tar', ['-xf', join(dir, 'out.ova'), '-C', join(dir, 'x')]);
      const mf = parseManifest(readFileSync(join(dir, 'x', 'jeos.mf'), 'utf8'));
      const sums = run('sha256sum', ['jeos.ovf', 'ubuntu.2.0-disk1.vmdk'], join(dir, 'x'))
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/));
      expect(mf.map((e) => [e.digest, e.name])).toEqual(sums.map(([d, n]) => [d, n]));
      expect(readFileSync(join(dir, 'x', 'jeos.mf'), 'utf8')).toMatch(
        /^SHA256\(jeos\.ovf\)= [0-9a-f]{64}\nSHA256\(ubuntu\.2\.0-disk1\.vmdk\)= [0-9a-f]{64}\n$/,
      );
      // The VMDK's own header gives the descriptor its
      // capacity (8 GiB) and format (streamOptimized).
      const disk = readOvf(readFileSync(join(dir, 'x', 'jeos.ovf'))).sections.find(
        (s) => s.kind === 'DiskSection',
      );
      expect(disk).toMatchObject({
        disks: [
          {
            capacity: '8589934592',
            format: 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized',
          },
        ],
      });
    },
  );

  it('round-trips: export, import, same VM configuration', async () => {
    const dir = tempDir();
    copyFileSync(join(COT, 'ubuntu.2.0-disk1.vmdk'), join(dir, 'ubuntu.2.0-disk1.vmdk'));
    writeFileSync(join(dir, 'vm.json'), JSON.stringify(config));
    for (const family of ['1', '2'] as const) {
      await exportOva(join(dir, 'vm.json'), join(dir, `out${family}.ova`), { family });
      const r = await importOva(join(dir, `out${family}.ova`), join(dir, `in${family}`), {
        keepStreamOptimized: true,
      });
      expect(r.config).toEqual({
        ...config,
        disks: [{ ...config.disks[0], capacityBytes: 8589934592, format: 'vmdk' }],
      });
      expect(r.package.warnings).toEqual([]);
    }
  });

  it.skipIf(!hasGnuTar)(
    'writes sizes over 8 GiB that GNU tar reads (pax size record, base-256 field)',
    async () => {
      const size = 9 * 2 ** 30 + 5;
      expect(size).toBeGreaterThan(USTAR_MAX_SIZE);
      const pack = tar.pack();
      const out: Uint8Array[] = [];
      pack.on('data', (c: Uint8Array) => out.push(c));
      pack.entry(tarHeader('big-disk.img', size, new Date(0))).write(new Uint8Array(512));
      await new Promise((r) => setTimeout(r, 20));
      const dir = tempDir();
      writeFileSync(join(dir, 'head.tar'), Buffer.concat(out));
      // GNU tar lists the member (then stops at the missing data, exit status 2).
      let listing = '';
      try {
        run('tar', ['-tvf', join(dir, 'head.tar')]);
      } catch (e) {
        listing = String((e as { stdout?: string }).stdout);
      }
      expect(listing).toMatch(/ 9663676421 1970-01-01 00:00 big-disk\.img/);
    },
  );

  it.skipIf(!hasQemuImg)(
    'converts a raw disk to a streamOptimized VMDK that qemu-img checks and finds identical',
    async () => {
      const dir = tempDir();
      const raw = new Uint8Array(8 << 20);
      for (let i = 0; i < raw.length; i += 65536 * 3) raw.fill(i / 65536 + 1, i, i + 4096);
      writeFileSync(join(dir, 'root.img'), raw);
      const cfg: VmConfig = {
        ...config,
        disks: [
          { controller: { type: 'ide', channel: 0, unit: 0 }, media: 'disk', path: 'root.img' },
        ],
      };
      writeFileSync(join(dir, 'vm.json'), JSON.stringify(cfg));
      await exportOva(join(dir, 'vm.json'), join(dir, 'out.ova'), { convertToVmdk: true });
      // No work files left.
      expect(readdirSync(dir).sort()).toEqual(['out.ova', 'root.img', 'vm.json']);
      const r = await importOva(join(dir, 'out.ova'), join(dir, 'in'), {
        keepStreamOptimized: true,
      });
      expect(r.config.disks[0]).toMatchObject({
        path: 'root.vmdk',
        format: 'vmdk',
        capacityBytes: 8 << 20,
      });
      const vmdk = join(dir, 'in', 'root.vmdk');
      expect(run('qemu-img', ['info', '--output=json', vmdk])).toMatch(/"streamOptimized"/);
      run('qemu-img', ['check', '-f', 'vmdk', vmdk]);
      expect(
        run('qemu-img', ['compare', '-f', 'raw', '-F', 'vmdk', join(dir, 'root.img'), vmdk]),
      ).toMatch(/Images are identical/);
    },
  );

  it('refuses unsafe or duplicate member names when writing', async () => {
    const src = { name: '../x.img', size: 0, open: async function* () { /* empty */ } };
    await expect(collect(writeOva('a.ovf', new Uint8Array(0), [src]))).rejects.toThrow(
      /".." path segment/,
    );
    await expect(
      collect(writeOva('a.ovf', new Uint8Array(0), [{ ...src, name: 'A.ovf' }])),
    ).rejects.toThrow(/twice/);
  });

  it('leaves no half-written package when a file is missing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'vm.json'), JSON.stringify(config));
    await expect(exportOva(join(dir, 'vm.json'), join(dir, 'out.ova'))).rejects.toThrow(
      /ubuntu.2.0-disk1.vmdk/,
    );
    expect(readdirSync(dir)).toEqual(['vm.json']);
    expect(existsSync(join(dir, 'out.ova'))).toBe(false);
  });
});
