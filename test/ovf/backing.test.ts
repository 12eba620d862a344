/**
 * Backing files of images that arrive in a package: a qcow2 image inside an OVA (or an
 * unpacked OVF folder) may only name a backing file that is a file of the same package.
 * An absolute name, "..", a name reaching through a symbolic link or a name that is not
 * in the package would let the guest read a file of the importing host through its disk.
 * The overlays are made by qemu-img itself (`qemu-img create -b`), the data by qemu-io.
 * And the other way: `ovf export` of an overlay packs the disk flattened, which qemu-img
 * compare checks against the overlay as qemu sees it.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importOva } from '../../bindings/ovf/node/files.js';
import { exportVmConfig } from '../../bindings/ovf/node/export.js';
import { fromVmConfig } from '../../bindings/ovf/from-config.js';
import { writeOvf } from '../../bindings/ovf/writer.js';
import { sniffFormat } from '../../bindings/ovf/formats.js';
import { writeOva } from '../../bindings/ovf/ova-write.js';
import { nodeHasher } from '../../bindings/ovf/node/hash-node.js';
import { openImageFile, UnsafeBackingError } from '../../bindings/disk/node.js';
import { prepareMachine } from '../../bindings/config/node-machine.js';
import type { DiskConfig, VmConfig } from '../../bindings/config/types.js';
import { runCliInProcess } from '../helpers/cli.js';
import { collect, hasQemuImg, ovfError, run, tempDir, vmConfig } from './helpers.js';

// With CI=true a missing qemu-img fails these tests instead of skipping them.
const withQemu = hasQemuImg || process.env.CI === 'true';

const qimg = (...args: string[]) => run('qemu-img', args);
const qio = (fmt: string, file: string, cmd: string) =>
  run('qemu-io', ['-f', fmt, '-c', cmd, file]);

/** A qcow2 overlay made by qemu-img whose backing file is named `backing` as given. */
function overlay(
  dir: string,
  name: string,
  backing: string,
  backingFmt = 'raw',
  size = '1M',
): string {
  // -u: the name is written as it is, whether or not it can be opened from here.
  qimg('create', '-f', 'qcow2', '-u', '-b', backing, '-F', backingFmt, join(dir, name), size);
  return name;
}

const vm = (disks: DiskConfig[]): VmConfig => vmConfig('chain', disks);

const ide = (path: string, unit: 0 | 1 = 0, media: 'disk' | 'cdrom' = 'disk'): DiskConfig => ({
  controller: { type: 'ide', channel: 0, unit },
  media,
  path,
  ...(media === 'cdrom' ? { format: 'iso', readOnly: true } : {}),
});

/**
 * Packs the files of `dir` that the configuration names as they are (no flattening, as a
 * hostile producer would), with `extra` files that no drive names (a backing file).
 */
async function pack(
  dir: string,
  config: VmConfig,
  ova: string,
  extra: string[] = [],
): Promise<void> {
  const size = (p: string) => readFileSync(join(dir, p)).length;
  const fileInfo = (p: string) => ({
    size: size(p),
    formatUri: sniffFormat(readFileSync(join(dir, p)).subarray(0, 512))?.uri,
  });
  const { envelope, files } = fromVmConfig(config, { fileInfo });
  for (const [i, name] of extra.entries()) {
    envelope.references.push({ id: `extra${i}`, href: name, size: String(size(name)) });
    files.push({ id: `extra${i}`, href: name, path: name });
  }
  const descriptorName = 'chain.ovf';
  const descriptor = new TextEncoder().encode(writeOvf(envelope));
  const sources = files.map((f) => ({
    name: f.href,
    size: size(f.path),
    open: async function* () {
      yield new Uint8Array(readFileSync(join(dir, f.path)));
    },
  }));
  writeFileSync(
    ova,
    await collect(writeOva(descriptorName, descriptor, sources, { hasher: nodeHasher })),
  );
}

describe.skipIf(!withQemu)('backing files of images in a package', () => {
  it('refuses an absolute backing file (/etc/passwd) ' +
      'on import, naming the member and the name', async () => {
    const dir = tempDir();
    overlay(dir, 'disk.qcow2', '/etc/passwd');
    // qemu-img follows it: the guest would read the host's /etc/passwd.
    expect(
      JSON.parse(qimg('info', '--output=json', join(dir, 'disk.qcow2')))['backing-filename'],
    ).toBe('/etc/passwd');
    await pack(dir, vm([ide('disk.qcow2')]), join(dir, 'p.ova'));
    const e = await ovfError(() => importOva(join(dir, 'p.ova'), join(dir, 'out')));
    expect(e.code).toBe('unsafe-path');
    expect(e.message).toBe(
      `${join(dir, 'p.ova')}: disk image "disk.qcow2" names backing file "/etc/passwd": ` +
        'absolute path; an image in a package may only name a file of the package',
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('exits with status 2 from the CLI and leaves nothing behind', async () => {
    const dir = tempDir();
    overlay(dir, 'disk.qcow2', '/etc/passwd');
    await pack(dir, vm([ide('disk.qcow2')]), join(dir, 'p.ova'));
    const r = await runCliInProcess(['ovf', 'import', join(dir, 'p.ova'), join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/disk image "disk\.qcow2" names backing file "\/etc\/passwd"/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it.each([
    ['../outside.img', /".." path segment/],
    ['sub/../../outside.img', /".." path segment/],
    ['//etc/passwd', /absolute path/],
    ['..\\outside.img', /backslash/],
    ['C:/outside.img', /drive-letter path/],
    ['/proc/self/environ', /absolute path/],
    ['file:/etc/passwd', /not in the package/],
    ['json:{"file.filename":"/etc/passwd"}', /not in the package/],
    ['missing.img', /not in the package/],
  ])('refuses backing file %s', async (backing, why) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'outside.img'), 'host secret');
    overlay(dir, 'disk.qcow2', backing);
    await pack(dir, vm([ide('disk.qcow2')]), join(dir, 'p.ova'));
    const e = await ovfError(() => importOva(join(dir, 'p.ova'), join(dir, 'out')));
    expect(e.message).toContain(`disk image "disk.qcow2" names backing file "${backing}"`);
    expect(e.message).toMatch(why);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('refuses it whatever media and format the descriptor ' +
      'claims (a "CD-ROM" that is a qcow2)', async () => {
    const dir = tempDir();
    overlay(dir, 'cd.iso', '/etc/passwd');
    await pack(dir, vm([ide('cd.iso', 0, 'cdrom')]), join(dir, 'p.ova'));
    const e = await ovfError(() => importOva(join(dir, 'p.ova'), join(dir, 'out')));
    expect(e.message).toMatch(/disk image "cd\.iso" names backing file "\/etc\/passwd"/);
  });

  it('accepts a backing file that is another member, ' +
      'and the VM reads what qemu reads', async () => {
    const dir = tempDir();
    qimg('create', '-f', 'qcow2', join(dir, 'base.qcow2'), '1M');
    qio('qcow2', join(dir, 'base.qcow2'), 'write -P 0x11 0 128k');
    overlay(dir, 'disk.qcow2', 'base.qcow2', 'qcow2');
    qio('qcow2', join(dir, 'disk.qcow2'), 'write -P 0x5a 64k 64k');
    qimg('convert', '-O', 'raw', join(dir, 'disk.qcow2'), join(dir, 'expect.raw'));
    await pack(dir, vm([ide('disk.qcow2')]), join(dir, 'p.ova'), ['base.qcow2']);
    const r = await importOva(join(dir, 'p.ova'), join(dir, 'out'));
    expect(r.config.disks[0].path).toBe('disk.qcow2');
    // `run --config` opens the imported vm.json this way.
    const m = prepareMachine(JSON.parse(readFileSync(r.configPath, 'utf8')), r.dir);
    try {
      const got = new Uint8Array(1 << 20);
      m.machine.disks![0].read(0, got);
      expect(Buffer.from(got).equals(readFileSync(join(dir, 'expect.raw')))).toBe(true);
    } finally {
      m.close();
    }
  });

  it('accepts "./base.qcow2" as the member base.qcow2', async () => {
    const dir = tempDir();
    qimg('create', '-f', 'qcow2', join(dir, 'base.qcow2'), '1M');
    overlay(dir, 'disk.qcow2', './base.qcow2', 'qcow2');
    await pack(dir, vm([ide('disk.qcow2')]), join(dir, 'p.ova'), ['base.qcow2']);
    await expect(importOva(join(dir, 'p.ova'), join(dir, 'out'))).resolves.toBeTruthy();
  });

  it('follows a nested chain inside the package, ' +
      'and refuses one that leaves it further down', async () => {
    const dir = tempDir();
    qimg('create', '-f', 'qcow2', join(dir, 'base.qcow2'), '1M');
    overlay(dir, 'mid.qcow2', 'base.qcow2', 'qcow2');
    overlay(dir, 'top.qcow2', 'mid.qcow2', 'qcow2');
    await pack(dir, vm([ide('top.qcow2')]), join(dir, 'ok.ova'), ['mid.qcow2', 'base.qcow2']);
    await importOva(join(dir, 'ok.ova'), join(dir, 'ok'));

    overlay(dir, 'mid2.qcow2', '/etc/passwd');
    overlay(dir, 'top2.qcow2', 'mid2.qcow2', 'qcow2');
    await pack(dir, vm([ide('top2.qcow2')]), join(dir, 'bad.ova'), ['mid2.qcow2']);
    const e = await ovfError(() => importOva(join(dir, 'bad.ova'), join(dir, 'bad')));
    expect(e.message).toMatch(
      /disk image "top2\.qcow2": in its backing chain, "mid2\.qcow2" names backing file "\/etc\/passwd": absolute path/,
    );
  });

  it('reports a backing loop inside the package as a disk that cannot be opened', async () => {
    const dir = tempDir();
    overlay(dir, 'a.qcow2', 'b.qcow2', 'qcow2');
    overlay(dir, 'b.qcow2', 'a.qcow2', 'qcow2');
    await pack(dir, vm([ide('a.qcow2')]), join(dir, 'p.ova'), ['b.qcow2']);
    // Not a way out of the package, so it is the ordinary "could not be opened" report.
    const r = await importOva(join(dir, 'p.ova'), join(dir, 'out'));
    expect(r.package.warnings.join('\n')).toMatch(/backing file loop/);
  });

  it('refuses the same from an unpacked OVF folder, ' +
      'and a member that is a symbolic link', async () => {
    const dir = tempDir();
    overlay(dir, 'disk.qcow2', '../outside.img');
    await pack(dir, vm([ide('disk.qcow2')]), join(dir, 'p.ova'));
    const folder = join(dir, 'unpacked');
    mkdirSync(folder);
    run('tar', ['-xf', join(dir, 'p.ova'), '-C', folder]);
    const e = await ovfError(() => importOva(join(folder, 'chain.ovf'), join(dir, 'out')));
    expect(e.message).toMatch(
      /disk image "disk\.qcow2" names backing file "\.\.\/outside\.img": ".." path segment/,
    );

    // A folder whose disk is a link to a host file: the link's target would be copied in.
    const linked = join(dir, 'linked');
    mkdirSync(linked);
    writeFileSync(join(linked, 'chain.ovf'), readFileSync(join(folder, 'chain.ovf')));
    symlinkSync('/etc/passwd', join(linked, 'disk.qcow2'));
    const e2 = await ovfError(() => importOva(join(linked, 'chain.ovf'), join(dir, 'out2')));
    expect(e2.message).toMatch(
      /"disk\.qcow2" is a symbolic link; a package holds only regular files/,
    );
    expect(existsSync(join(dir, 'out2'))).toBe(false);
  });

  it('confines a chain to its folder: a backing file ' +
      'reached through a symbolic link is refused', () => {
    const dir = tempDir();
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    writeFileSync(join(dir, 'secret.img'), Buffer.alloc(1 << 20, 0x42));
    symlinkSync(join(dir, 'secret.img'), join(pkg, 'base.img'));
    overlay(pkg, 'disk.qcow2', 'base.img');
    // Without confinement (a user's own image) the link is followed, as qemu does.
    openImageFile(join(pkg, 'disk.qcow2'), { readOnly: true }).close();
    let err: unknown;
    try {
      openImageFile(join(pkg, 'disk.qcow2'), { readOnly: true, within: pkg }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsafeBackingError);
    expect((err as Error).message).toMatch(
      /"disk\.qcow2" names backing file "base\.img": reached through a symbolic link/,
    );
  });

  it('confines VMDK extent files the same way', () => {
    const dir = tempDir();
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    qimg('create', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', join(dir, 'real.vmdk'), '1M');
    writeFileSync(join(pkg, 'disk.vmdk'), readFileSync(join(dir, 'real.vmdk')));
    symlinkSync(join(dir, 'real-flat.vmdk'), join(pkg, 'real-flat.vmdk'));
    openImageFile(join(pkg, 'disk.vmdk'), { readOnly: true }).close();
    expect(() => openImageFile(join(pkg, 'disk.vmdk'), { readOnly: true, within: pkg })).toThrow(
      /"disk\.vmdk" names extent file "real-flat\.vmdk": reached through a symbolic link/,
    );
  });
});

describe.skipIf(!withQemu)('ovf export of images that depend on other files', () => {
  /** qemu-img compare's verdict on two images (exit 0: identical). */
  const identical = (a: string, fa: string, b: string, fb: string) =>
    /Images are identical/.test(qimg('compare', '-f', fa, '-F', fb, a, b));

  it('packs a qcow2 overlay flattened with its chain, and says so', async () => {
    const dir = tempDir();
    qimg('create', '-f', 'raw', join(dir, 'base.img'), '2M');
    qio('raw', join(dir, 'base.img'), 'write -P 0x11 0 1M');
    overlay(dir, 'mid.qcow2', join(dir, 'base.img'), 'raw', '2M');
    qio('qcow2', join(dir, 'mid.qcow2'), 'write -P 0x22 512k 256k');
    overlay(dir, 'top.qcow2', 'mid.qcow2', 'qcow2', '2M');
    qio('qcow2', join(dir, 'top.qcow2'), 'write -P 0x33 1536k 64k');
    const r = await exportVmConfig(vm([ide('top.qcow2')]), dir, join(dir, 'out.ova'));
    expect(r.notes).toEqual([
      'disk top.qcow2 is a qcow2 overlay of backing ' +
        'file "mid.qcow2"; packed flattened as top.qcow2',
    ]);
    const x = join(dir, 'x');
    mkdirSync(x);
    run('tar', ['-xf', join(dir, 'out.ova'), '-C', x]);
    const info = JSON.parse(qimg('info', '--output=json', join(x, 'top.qcow2')));
    expect(info.format).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
    qimg('check', join(x, 'top.qcow2'));
    expect(identical(join(dir, 'top.qcow2'), 'qcow2', join(x, 'top.qcow2'), 'qcow2')).toBe(true);
    // And the package imports (its disk names no backing file).
    await importOva(join(dir, 'out.ova'), join(dir, 'imported'));
  });

  it('packs a VMDK descriptor with separate extents as one streamOptimized VMDK', async () => {
    const dir = tempDir();
    qimg('create', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', join(dir, 'flat.vmdk'), '1M');
    qio('vmdk', join(dir, 'flat.vmdk'), 'write -P 0x44 128k 64k');
    const r = await exportVmConfig(vm([ide('flat.vmdk')]), dir, join(dir, 'out.ova'));
    expect(r.notes[0]).toMatch(
      /disk flat\.vmdk is a VMDK descriptor with separate extent files; packed flattened as flat\.vmdk/,
    );
    const x = join(dir, 'x');
    mkdirSync(x);
    run('tar', ['-xf', join(dir, 'out.ova'), '-C', x]);
    expect(
      JSON.parse(qimg('info', '--output=json', join(x, 'flat.vmdk')))['format-specific'].data[
        'create-type'
      ],
    ).toBe('streamOptimized');
    expect(identical(join(dir, 'flat.vmdk'), 'vmdk', join(x, 'flat.vmdk'), 'vmdk')).toBe(true);
  });

  it('leaves an image with no backing file as it is', async () => {
    const dir = tempDir();
    qimg('create', '-f', 'qcow2', join(dir, 'plain.qcow2'), '1M');
    const r = await exportVmConfig(vm([ide('plain.qcow2')]), dir, join(dir, 'out.ova'));
    expect(r.notes).toEqual([]);
    const x = join(dir, 'x');
    mkdirSync(x);
    run('tar', ['-xf', join(dir, 'out.ova'), '-C', x]);
    expect(
      readFileSync(join(x, 'plain.qcow2')).equals(readFileSync(join(dir, 'plain.qcow2'))),
    ).toBe(true);
  });

  it('refuses an overlay whose backing file is missing, rather than pack it as it is', async () => {
    const dir = tempDir();
    overlay(dir, 'lost.qcow2', join(dir, 'gone.qcow2'), 'qcow2');
    await expect(
      exportVmConfig(vm([ide('lost.qcow2')]), dir, join(dir, 'out.ova')),
    ).rejects.toThrow(
      `lost.qcow2: the disk is a qcow2 overlay of backing file "${join(dir, 'gone.qcow2')}"; ` +
        `cannot open ${join(dir, 'gone.qcow2')}: no such file or directory`,
    );
    expect(existsSync(join(dir, 'out.ova'))).toBe(false);
  });

  it('refuses a CD-ROM image that is an overlay', async () => {
    const dir = tempDir();
    qimg('create', '-f', 'raw', join(dir, 'base.iso'), '1M');
    overlay(dir, 'cd.qcow2', join(dir, 'base.iso'));
    await expect(
      exportVmConfig(vm([ide('cd.qcow2', 0, 'cdrom')]), dir, join(dir, 'out.ova')),
    ).rejects.toThrow(/cd\.qcow2: the CD-ROM image is a qcow2 overlay of backing file/);
    expect(existsSync(join(dir, 'out.ova'))).toBe(false);
  });

  it('warns when there is nothing to export', async () => {
    const dir = tempDir();
    const r = await runCliInProcess(['ovf', 'export', join(dir, 'empty.ova')]);
    expect(r.status).toBe(0);
    expect(r.err).toMatch(/^warning: nothing to export: no disk image, CD-ROM image or kernel/m);
    expect(existsSync(join(dir, 'empty.ova'))).toBe(true);
  });
});
