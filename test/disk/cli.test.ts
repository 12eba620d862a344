/**
 * `wasmvisor img` against `qemu-img` on the same files: info prints the same text and
 * JSON, create makes images of the same virtual size from the same size strings, check
 * ends with the same exit status, convert leaves nothing behind when it fails.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseSize, formatSize } from '../../bindings/disk/size.js';
import {
  hasQemuImg,
  hasQemuIo,
  qemuImg,
  qemuIo,
  tempDir,
  fixtureBytes,
  manifest,
  expectQemuOutput,
} from './helpers.js';
import { runCliInProcess } from '../helpers/cli.js';

const t = tempDir();
afterAll(() => t.cleanup());

/** The CLI in-process, in the test folder unless told otherwise. */
const run = (args: string[], cwd = t.dir) => runCliInProcess(args, cwd);

function put(name: string): string {
  writeFileSync(join(t.dir, name), fixtureBytes(name));
  return name;
}

describe('wasmvisor img without QEMU', () => {
  it('creates, converts and checks images', async () => {
    const created = await run([
      'img', 'create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', 'a.qcow2', '64M',
    ]);
    expect(created.status).toBe(0);
    const info = JSON.parse((await run(['img', 'info', '--output', 'json', 'a.qcow2'])).out);
    expect(info['virtual-size']).toBe(64 << 20);
    expect(info['format-specific'].data.compat).toBe('0.10');
    const converted = await run([
      'img', 'convert', '-O', 'vmdk', '-o', 'subformat=streamOptimized', 'a.qcow2', 'a.vmdk',
    ]);
    expect(converted.status).toBe(0);
    const c = await run(['img', 'check', 'a.vmdk']);
    expect(c.out).toMatch(/No errors were found on the image/);
    expect(c.status).toBe(0);
  });

  it('refuses options the format does not have, as qemu-img words it', async () => {
    const r = await run(['img', 'create', '-f', 'qcow2', '-o', 'foo=bar', 'x.qcow2', '1M']);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/x\.qcow2: Invalid parameter 'foo'/);
    expect(existsSync(join(t.dir, 'x.qcow2'))).toBe(false);
    const s = await run(['img', 'create', '-f', 'raw', 'x.raw', '12Q']);
    expect(s.err).toMatch(/Invalid image size specified/);
    const big = await run(['img', 'create', '-f', 'qcow2', 'x.qcow2', '1E']); // 2^60 bytes
    expect(big.status).toBe(2);
    expect(big.err).toMatch(/too large \(over 2\^53 - 1 bytes\)/);
    expect(existsSync(join(t.dir, 'x.qcow2'))).toBe(false);
  });

  it('leaves nothing behind when a conversion fails half-way', async () => {
    // An L2 entry of the last data cluster points far outside the file: the conversion
    // fails after it has written the earlier clusters.
    const b = fixtureBytes('qcow2-v2.qcow2');
    const dv = new DataView(b.buffer, b.byteOffset);
    const l1 = Number(dv.getBigUint64(40));
    // L1 entry 1: guest clusters 512-1023
    const l2 = Number(dv.getBigUint64(l1 + 8) & ((1n << 56n) - 512n));
    const idx = Math.floor(4190208 / 4096) % 512;
    dv.setBigUint64(l2 + idx * 8, (1n << 63n) | (1n << 40n));
    writeFileSync(join(t.dir, 'broken.qcow2'), b);
    const before = readdirSync(t.dir).sort();
    for (const fmt of ['raw', 'qcow2', 'vmdk']) {
      const r = await run(['img', 'convert', '-O', fmt, 'broken.qcow2', 'out.' + fmt]);
      expect(r.status).toBe(2);
      expect(r.err).toMatch(
        /L2 entry for guest cluster 1023 at offset 0x[0-9a-f]+: host offset 0x10000000000 lies outside the file/,
      );
    }
    expect(readdirSync(t.dir).sort()).toEqual(before);
  });

  it('prints sizes as qemu-img does', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(999)).toBe('999 B');
    expect(formatSize(1000)).toBe('0.977 KiB');
    expect(formatSize(8 * 2 ** 30)).toBe('8 GiB');
    expect(formatSize(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(parseSize('10G')).toBe(10 * 2 ** 30);
    expect(parseSize('1.5k')).toBe(1536);
  });
});

describe.skipIf(!hasQemuImg)('wasmvisor img next to qemu-img', () => {
  const files = Object.keys(manifest).filter((n) => !n.startsWith('backing-overlay'));
  it.each(files)('info %s prints what qemu-img info prints (text and JSON)', async (name) => {
    put(name);
    for (const o of ['human', 'json']) {
      const ours = await run(['img', 'info', '--output', o, name]);
      expect(ours.status).toBe(0);
      expectQemuOutput(ours.out, qemuImg(['info', '--output', o, name], t.dir).stdout);
    }
  });

  it.each([...files, 'backing-overlay.qcow2'])(
    'map %s prints what qemu-img map prints (text and JSON)',
    async (name) => {
      put('backing-base.qcow2');
      put(name);
      for (const o of ['human', 'json']) {
        const ours = await run(['img', 'map', '--output', o, name]);
        const theirs = qemuImg(['map', '--output', o, name], t.dir);
        expectQemuOutput(ours.out, theirs.stdout);
        expect(ours.status).toBe(theirs.status);
      }
    },
  );

  it('info of an image with a backing file', async () => {
    put('backing-base.qcow2');
    put('backing-overlay.qcow2');
    for (const o of ['human', 'json']) {
      for (const chain of [[], ['--backing-chain']]) {
        expectQemuOutput(
          (await run(['img', 'info', ...chain, '--output', o, 'backing-overlay.qcow2'])).out,
          qemuImg(['info', ...chain, '--output', o, 'backing-overlay.qcow2'], t.dir).stdout,
        );
      }
    }
  });

  it.each(['1000', '10G', '512M', '1.5k', '100G', '7', '65537'])(
    "create -f qcow2/vmdk/raw with size %s gives qemu-img's virtual size",
    async (size) => {
      for (const fmt of ['raw', 'qcow2', 'vmdk']) {
        const ours = `ours-${size}.${fmt}`,
          theirs = `theirs-${size}.${fmt}`;
        expect((await run(['img', 'create', '-q', '-f', fmt, ours, size])).status).toBe(0);
        expect(qemuImg(['create', '-q', '-f', fmt, theirs, size], t.dir).status).toBe(0);
        const a = JSON.parse(qemuImg(['info', '--output', 'json', ours], t.dir).stdout)[
          'virtual-size'
        ];
        const b = JSON.parse(qemuImg(['info', '--output', 'json', theirs], t.dir).stdout)[
          'virtual-size'
        ];
        expect(a).toBe(b);
        if (fmt !== 'raw') expect(qemuImg(['check', ours], t.dir).status).toBe(0);
      }
    },
  );

  it.each([
    ['qcow2', ['-o', 'compat=0.10']],
    ['qcow2', ['-o', 'compat=v3,refcount_bits=1,lazy_refcounts=off']],
    ['qcow2', ['-o', 'cluster_size=4k,lazy_refcounts=on']],
    ['raw', []],
    ['raw', ['-o', 'preallocation=off']],
    ['vmdk', ['-o', 'subformat=streamOptimized,adapter_type=lsilogic']],
    ['vmdk', []],
  ] as Array<[string, string[]]>)(
    'create -f %s %j prints qemu-img\'s "Formatting" line',
    async (fmt, opts) => {
      const ours = await run(['img', 'create', '-f', fmt, ...opts, 'fmt-line', '1M']);
      expectQemuOutput(
        ours.out,
        qemuImg(['create', '-f', fmt, ...opts, 'fmt-line', '1M'], t.dir).stdout,
      );
    },
  );

  it('create -b makes an overlay that qemu-img reads through', async () => {
    put('backing-base.qcow2');
    const created = await run([
      'img', 'create', '-q', '-f', 'qcow2', '-b', 'backing-base.qcow2', '-F', 'qcow2', 'ov2.qcow2',
    ]);
    expect(created.status).toBe(0);
    expect(qemuImg(['compare', 'backing-base.qcow2', 'ov2.qcow2'], t.dir).stdout).toMatch(
      /Images are identical/,
    );
    expect(qemuImg(['check', 'ov2.qcow2'], t.dir).status).toBe(0);
  });

  it.each(files)('check %s prints what qemu-img check prints (text and JSON)', async (name) => {
    put(name);
    for (const o of ['human', 'json']) {
      const ours = await run(['img', 'check', '--output', o, name]);
      expect(ours.status).toBe(0);
      expectQemuOutput(ours.out, qemuImg(['check', '--output', o, name], t.dir).stdout);
    }
  });

  it.each([
    ['qcow2', []],
    ['qcow2', ['-o', 'compat=0.10']],
    ['vmdk', []],
    ['vmdk', ['-o', 'subformat=streamOptimized']],
  ] as Array<[string, string[]]>)(
    'check of an empty %s %j (no allocated cluster) prints what qemu-img check prints',
    async (fmt, opts) => {
      const name = `empty-${fmt}-${opts.length}.${fmt}`;
      expect(qemuImg(['create', '-q', '-f', fmt, ...opts, name, '1M'], t.dir).status).toBe(0);
      for (const o of ['human', 'json']) {
        const ours = await run(['img', 'check', '--output', o, name]);
        expect(ours.status).toBe(0);
        expectQemuOutput(ours.out, qemuImg(['check', '--output', o, name], t.dir).stdout);
      }
    },
  );

  it("check ends with qemu-img check's exit status on " +
      'a corrupt and on a leaking image', async () => {
    for (const [cluster, value] of [
      [0, 2],
      [0, 0],
    ]) {
      const b = fixtureBytes('qcow2-v2.qcow2');
      const dv = new DataView(b.buffer, b.byteOffset);
      const block = Number(dv.getBigUint64(Number(dv.getBigUint64(48))));
      dv.setUint16(block + cluster * 2, value);
      const f = `rc${value}.qcow2`;
      writeFileSync(join(t.dir, f), b);
      const theirs = qemuImg(['check', f], t.dir);
      const ours = await run(['img', 'check', f]);
      expect(theirs.status).toBeGreaterThan(1);
      expect(ours.status).toBe(theirs.status);
      expect(theirs.stderr).toContain(
        value === 2
          ? 'Leaked cluster 0 refcount=2 reference=1'
          : 'ERROR cluster 0 refcount=0 reference=1',
      );
      expect(ours.err).toContain(
        value === 2
          ? 'Leaked cluster 0 refcount=2 reference=1'
          : 'ERROR cluster 0 refcount=0 reference=1',
      );
      expectQemuOutput(ours.out, theirs.stdout);
      const j = (await run(['img', 'check', '--output', 'json', f])).out;
      expectQemuOutput(j, qemuImg(['check', '--output', 'json', f], t.dir).stdout);
    }
  });

  it('check -r leaks / -r all repairs what qemu-img check then finds clean', async () => {
    for (const [cluster, value, mode] of [[0, 2, 'leaks'], [0, 0, 'all']] as const) {
      const b = fixtureBytes('qcow2-v2.qcow2');
      const dv = new DataView(b.buffer, b.byteOffset);
      const block = Number(dv.getBigUint64(Number(dv.getBigUint64(48))));
      dv.setUint16(block + cluster * 2, value);
      const f = `repair-${mode}.qcow2`;
      writeFileSync(join(t.dir, f), b);
      const r = await run(['img', 'check', '-r', mode, f]);
      expect(r.out).toMatch(
        new RegExp(
          'The following inconsistencies were found and ' +
            `repaired:\\n\\n    ${mode === 'leaks' ? 1 : 0} leaked ` +
            `clusters\\n    ${mode === 'all' ? 1 : 0} corruptions`,
        ),
      );
      expect(r.err).toContain(`Repairing cluster 0 refcount=${value} reference=1`);
      expect(r.status).toBe(0);
      expect(qemuImg(['check', f], t.dir).status).toBe(0);
      put('qcow2-v2.qcow2');
      expect(qemuImg(['compare', 'qcow2-v2.qcow2', f], t.dir).stdout).toMatch(
        /Images are identical/,
      );
    }
  });

  it('check -r all clears the dirty bit, after which the image can be written', async () => {
    const b = fixtureBytes('qcow2-v3.qcow2');
    new DataView(b.buffer, b.byteOffset).setBigUint64(72, 1n); // incompatible bit 0: dirty
    writeFileSync(join(t.dir, 'dirty.qcow2'), b);
    expect(
      JSON.parse(
        qemuImg(['info', '--output', 'json', '--force-share', 'dirty.qcow2'], t.dir).stdout,
      )['dirty-flag'],
    ).toBe(true);
    expect((await run(['img', 'check', '-r', 'all', 'dirty.qcow2'])).status).toBe(0);
    expect(
      JSON.parse(qemuImg(['info', '--output', 'json', 'dirty.qcow2'], t.dir).stdout)['dirty-flag'],
    ).toBe(false);
    expect(qemuImg(['check', 'dirty.qcow2'], t.dir).status).toBe(0);
  });

  it('compare prints what qemu-img compare prints and ends with its status', async () => {
    const zero = new Uint8Array(4 << 20);
    writeFileSync(join(t.dir, 'c1.raw'), zero);
    const c2 = zero.slice(); c2[1_000_003] = 0x78;
    writeFileSync(join(t.dir, 'c2.raw'), c2);
    const c3 = new Uint8Array(5_000_000);
    writeFileSync(join(t.dir, 'c3.raw'), c3);
    const c4 = c3.slice(); c4[4_500_000] = 0x79;
    writeFileSync(join(t.dir, 'c4.raw'), c4);
    put('qcow2-v3.qcow2');
    put('qcow2-v2.qcow2');
    put('vmdk-sparse.vmdk');
    put('qcow2-compressed.qcow2');
    const pairs = [
      ['c1.raw', 'c2.raw'],
      ['c1.raw', 'c3.raw'],
      ['-s', 'c1.raw', 'c3.raw'],
      ['c1.raw', 'c4.raw'],
      ['qcow2-v2.qcow2', 'vmdk-sparse.vmdk'],
      ['qcow2-v2.qcow2', 'qcow2-compressed.qcow2'],
      ['qcow2-v3.qcow2', 'qcow2-v2.qcow2'],
      ['c1.raw', 'qcow2-v3.qcow2'],
    ];
    for (const p of pairs) {
      const theirs = qemuImg(['compare', ...p], t.dir);
      const ours = await run(['img', 'compare', ...p]);
      expect({ p, status: ours.status }).toEqual({ p, status: theirs.status });
      expectQemuOutput(ours.out, theirs.stdout);
    }
  });

  it.each([
    ['qcow2-v2.qcow2', '+1M'], // within the L1 table's cluster
    ['qcow2-v2.qcow2', '10G'], // needs a larger L1 table, written elsewhere
    ['qcow2-c512-r1.qcow2', '+3G'], // 512-byte clusters, 1-bit refcounts
  ])('resize %s %s gives qemu-img resize\'s image', async (name, size) => {
    writeFileSync(join(t.dir, 'rs-ours.qcow2'), fixtureBytes(name));
    writeFileSync(join(t.dir, 'rs-theirs.qcow2'), fixtureBytes(name));
    const ours = await run(['img', 'resize', 'rs-ours.qcow2', size]);
    const theirs = qemuImg(['resize', 'rs-theirs.qcow2', size], t.dir);
    expectQemuOutput(ours.out, theirs.stdout);
    expect(ours.status).toBe(0);
    const vsize = (f: string) =>
      JSON.parse(qemuImg(['info', '--output', 'json', f], t.dir).stdout)['virtual-size'];
    expect(vsize('rs-ours.qcow2')).toBe(vsize('rs-theirs.qcow2'));
    expect(qemuImg(['check', 'rs-ours.qcow2'], t.dir).status).toBe(0);
    expect(qemuImg(['compare', 'rs-theirs.qcow2', 'rs-ours.qcow2'], t.dir).stdout).toMatch(
      /Images are identical/,
    );
    // And the grown part is writable, by QEMU as by this code.
    expect(
      qemuImg(['convert', '-O', 'qcow2', 'rs-ours.qcow2', 'rs-copy.qcow2'], t.dir).status,
    ).toBe(0);
  });

  it.skipIf(!hasQemuIo)(
    'resize of an image with an internal snapshot grows the active layer only, as qemu-img',
    async () => {
      for (const f of ['rsn-ours.qcow2', 'rsn-theirs.qcow2']) {
        expect(
          qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', f, '4M'], t.dir)
            .status,
        ).toBe(0);
        qemuIo('qcow2', join(t.dir, f), ['write -P 0x5a 0 8k']);
        expect(qemuImg(['snapshot', '-c', 's1', f], t.dir).status).toBe(0);
      }
      expect((await run(['img', 'resize', 'rsn-ours.qcow2', '+10G'])).status).toBe(0);
      expect(qemuImg(['resize', 'rsn-theirs.qcow2', '+10G'], t.dir).status).toBe(0);
      expect(qemuImg(['check', 'rsn-ours.qcow2'], t.dir).status).toBe(0);
      expect(qemuImg(['compare', 'rsn-theirs.qcow2', 'rsn-ours.qcow2'], t.dir).stdout).toMatch(
        /Images are identical/,
      );
      const snaps = (f: string) =>
        JSON.parse(qemuImg(['info', '--output', 'json', f], t.dir).stdout).snapshots.map(
          (x: any) => [x.name, x['vm-state-size']],
        );
      expect(snaps('rsn-ours.qcow2')).toEqual(snaps('rsn-theirs.qcow2'));
    },
  );

  it('snapshot -l / -c / -d as qemu-img snapshot', async () => {
    put('qcow2-bitmap-snapshot.qcow2');
    put('qcow2-v2.qcow2');
    for (const f of ['qcow2-bitmap-snapshot.qcow2', 'qcow2-v2.qcow2']) {
      expectQemuOutput(
        (await run(['img', 'snapshot', '-l', f])).out,
        qemuImg(['snapshot', '-l', f], t.dir).stdout,
      );
    }
    expect((await run(['img', 'snapshot', '-c', 'mine', 'qcow2-v2.qcow2'])).status).toBe(0);
    const list = (await run(['img', 'snapshot', '-l', 'qcow2-v2.qcow2'])).out;
    expectQemuOutput(list, qemuImg(['snapshot', '-l', 'qcow2-v2.qcow2'], t.dir).stdout);
    expect(list).toMatch(/^1 +mine +0 B/m);
    const miss = await run(['img', 'snapshot', '-d', 'nope', 'qcow2-v2.qcow2']);
    const theirs = qemuImg(['snapshot', '-d', 'nope', 'qcow2-v2.qcow2'], t.dir);
    expect(miss.status).toBe(theirs.status);
    expect(miss.err).toContain("Could not delete snapshot 'nope': snapshot not found");
    expect((await run(['img', 'snapshot', '-d', 'mine', 'qcow2-v2.qcow2'])).status).toBe(0);
    expect(qemuImg(['snapshot', '-l', 'qcow2-v2.qcow2'], t.dir).stdout).toBe('');
    expect(qemuImg(['check', 'qcow2-v2.qcow2'], t.dir).status).toBe(0);
  });

  it('resize of raw images: grow, shrink only with --shrink, as qemu-img', async () => {
    writeFileSync(join(t.dir, 'rs.raw'), new Uint8Array(1 << 20).fill(3));
    expect((await run(['img', 'resize', '-f', 'raw', 'rs.raw', '+1M'])).out).toBe(
      'Image resized.\n',
    );
    const r = await run(['img', 'resize', '-f', 'raw', 'rs.raw', '--', '-1536k']);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/Use the --shrink option to perform a shrink operation/);
    const resized = await run(['img', 'resize', '-f', 'raw', '--shrink', 'rs.raw', '--', '-1536k']);
    expect(resized.status).toBe(0);
    expect(
      JSON.parse(qemuImg(['info', '-f', 'raw', '--output', 'json', 'rs.raw'], t.dir).stdout)[
        'virtual-size'
      ],
    ).toBe(512 << 10);
    put('vmdk-sparse.vmdk');
    const v = await run(['img', 'resize', 'vmdk-sparse.vmdk', '+1M']);
    expect(v.err).toMatch(/Image format driver does not support resize/);
  });

  it('convert flattens a backing chain, as qemu-img convert does', async () => {
    put('backing-base.qcow2');
    put('backing-overlay.qcow2');
    for (const fmt of ['raw', 'qcow2', 'vmdk']) {
      const converted = await run([
        'img', 'convert', '-O', fmt, 'backing-overlay.qcow2', 'flat.' + fmt,
      ]);
      expect(converted.status).toBe(0);
      expect(
        qemuImg(['compare', '-F', fmt, 'backing-overlay.qcow2', 'flat.' + fmt], t.dir).stdout,
      ).toMatch(/Images are identical/);
      expect(qemuImg(['info', '--output', 'json', 'flat.' + fmt], t.dir).stdout).not.toMatch(
        /backing-filename/,
      );
    }
  });

  it('convert of a raw image whose size is not a whole ' +
      "sector gives qemu-img's virtual size", async () => {
    writeFileSync(join(t.dir, 'odd.raw'), new Uint8Array(1000).fill(7));
    for (const fmt of ['qcow2', 'vmdk']) {
      const converted = await run([
        'img', 'convert', '-f', 'raw', '-O', fmt, 'odd.raw', 'odd-ours.' + fmt,
      ]);
      expect(converted.status).toBe(0);
      expect(
        qemuImg(['convert', '-f', 'raw', '-O', fmt, 'odd.raw', 'odd-theirs.' + fmt], t.dir).status,
      ).toBe(0);
      const size = (f: string) =>
        JSON.parse(qemuImg(['info', '--output', 'json', f], t.dir).stdout)['virtual-size'];
      expect(size('odd-ours.' + fmt)).toBe(size('odd-theirs.' + fmt));
      expect(qemuImg(['compare', 'odd-theirs.' + fmt, 'odd-ours.' + fmt], t.dir).stdout).toMatch(
        /Images are identical/,
      );
    }
  });

  it('convert output compares equal to its source', async () => {
    put('qcow2-compressed.qcow2');
    for (const [fmt, o] of [
      ['vmdk', 'subformat=streamOptimized'],
      ['vmdk', 'subformat=monolithicSparse'],
      ['qcow2', 'compat=1.1,cluster_size=512'],
      ['raw', ''],
    ]) {
      const out = `cv-${fmt}-${o.replace(/\W/g, '')}`;
      const args = [
        'img', 'convert', '-f', 'qcow2', '-O', fmt, ...(o ? ['-o', o] : []),
        'qcow2-compressed.qcow2', out,
      ];
      expect((await run(args)).status).toBe(0);
      expect(qemuImg(['compare', '-F', fmt, 'qcow2-compressed.qcow2', out], t.dir).stdout).toMatch(
        /Images are identical/,
      );
    }
  });
});
