/**
 * `wasmvisor ovf` from the command line: output, and exit status 2 for bad input.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../bindings/cli/main.js';
import { SAMPLES, cli, hasQemuImg, run, tempDir } from './helpers.js';


const cot = (n: string) => join(SAMPLES, 'cot', n);

describe('wasmvisor ovf', () => {
  it('inspect prints the descriptor, its disks and the VM it maps to', async () => {
    const r = await cli('inspect', cot('ubuntu.2.0.ovf'));
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/OVF 2\.0 descriptor/);
    expect(r.out).toMatch(/manifest ubuntu\.2\.0\.mf: 2 files verified/);
    expect(r.out).toMatch(/vmdisk1 {2}8589934592 bytes \(8 GiB\)/);
    expect(r.out).toMatch(/Virtual system "ubuntu": ubuntu, 1 vCPU, 512 MiB/);
    expect(r.out).toMatch(/unsupported: Item 7 "sound" \(Sound Card\)/);
    expect(r.out).toMatch(/Validation: ok/);
  });

  it('inspect --json gives the model, the mapping and the validation', async () => {
    const r = await cli('inspect', '--json', join(SAMPLES, 'govmomi', 'ttylinux.ovf'));
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.type).toBe('ovf');
    expect(j.disks[0].capacityBytes).toBe(30 * 2 ** 20); // capacity 30, byte * 2^20
    expect(j.virtualSystems[0].config).toMatchObject({
      name: 'ttylinux-pc_i486-16.1',
      cpus: 1,
      memoryMiB: 32,
    });
    expect(j.validation.ok).toBe(true);
    expect(j.envelope.family).toBe('1');
  });

  it('validate: exit 0 for a valid descriptor, 2 with the reasons for invalid.ovf', async () => {
    const ok = await cli('validate', cot('ubuntu.2.0.ovf'));
    expect(ok.status).toBe(0);
    expect(ok.out).toMatch(/ubuntu\.2\.0\.ovf: valid/);
    const bad = await cli('validate', cot('invalid.ovf'));
    expect(bad.status).toBe(2);
    expect(bad.err).toMatch(
      /error: DiskSection\/Disk\[flash2\]: ovf:fileRef "flash2" names no File/,
    );
    expect(bad.err).toMatch(/invalid \(3 error\(s\)\)/);
  });

  it('exits 2 with the line and element for malformed XML, and for missing files', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'bad.ovf'),
      readFileSync(cot('minimal.ovf'), 'utf8').replace('</ovf:VirtualSystem>', ''),
    );
    const r = await cli('inspect', join(dir, 'bad.ovf'));
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/bad\.ovf, line \d+, \/Envelope\/VirtualSystem: malformed XML/);
    const missing = await cli('validate', join(dir, 'nothing.ova'));
    expect(missing.status).toBe(2);
    expect(missing.err).toMatch(/nothing\.ova: no such file/);
  });

  it('export then import: a VM configuration becomes a package and comes back', async () => {
    const dir = tempDir();
    copyFileSync(cot('ubuntu.2.0-disk1.vmdk'), join(dir, 'disk.vmdk'));
    const cfg = {
      version: 1,
      name: 'demo',
      cpus: 1,
      memoryMiB: 48,
      boot: { firmware: 'bios' },
      disks: [
        { controller: { type: 'ide', channel: 0, unit: 0 }, media: 'disk', path: 'disk.vmdk' },
      ],
      nics: [],
      serial: [{ port: 1, backend: 'stdio' }],
    };
    writeFileSync(join(dir, 'vm.json'), JSON.stringify(cfg));
    const ex = await cli('export', join(dir, 'vm.json'), join(dir, 'demo.ova'));
    expect(ex.status).toBe(0);
    expect(ex.out).toMatch(/wrote .*demo\.ova: demo\.ovf, demo\.mf, disk\.vmdk/);
    const v = await cli('validate', join(dir, 'demo.ova'));
    expect(v.status).toBe(0);
    const im = await cli('import', join(dir, 'demo.ova'), join(dir, 'back'));
    expect(im.status).toBe(0);
    // The streamOptimized VMDK came back as a writable qcow2 working copy.
    expect(JSON.parse(readFileSync(join(dir, 'back', 'vm.json'), 'utf8'))).toEqual({
      ...cfg,
      disks: [{ ...cfg.disks[0], path: 'disk.qcow2', capacityBytes: 8589934592, format: 'qcow2' }],
    });
    expect(im.out).toMatch(
      /adjusted: disk 0 \(disk\.vmdk\): a vmdk image that cannot be written in place; converted to the qcow2 working copy disk\.qcow2/,
    );
    // A second import into the same folder is refused and changes nothing.
    const again = await cli('import', join(dir, 'demo.ova'), join(dir, 'back'));
    expect(again.status).toBe(2);
    expect(again.err).toMatch(/not empty/);
  });

  it('export from options, and usage errors with exit status 2', async () => {
    const dir = tempDir();
    copyFileSync(cot('ubuntu.2.0-disk1.vmdk'), join(dir, 'disk.vmdk'));
    const prev = process.cwd();
    process.chdir(dir);
    try {
      const r = await cli(
        'export',
        'opt.ova',
        '--name',
        'opt',
        '--cpus',
        '2',
        '--memory',
        '128',
        '--disk',
        'disk.vmdk',
        '--nic',
        'lan',
        '--serial',
      );
      expect(r.status).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(['disk.vmdk', 'opt.ova']);
      expect((await cli('export', 'x.ova', '--cpus', 'two')).status).toBe(2);
      expect((await cli('export', 'x.zip')).status).toBe(2);
      expect((await cli('export', 'x.ova', '--ovf-version', '3')).status).toBe(2);
      expect((await cli('export', 'x.ova', '--disk', 'nope.img')).err).toMatch(/nope\.img/);
      expect(existsSync(join(dir, 'x.ova'))).toBe(false);
    } finally {
      process.chdir(prev);
    }
  });
});

describe('wasmvisor ovf: messages name the file as given', () => {
  it('a folder given as a descriptor or package is named, not a raw EISDIR', async () => {
    const dir = tempDir();
    for (const args of [
      ['inspect', dir],
      ['validate', dir],
      ['inspect', join(dir, '.')],
      ['import', dir, join(dir, 'out')],
    ]) {
      const r = await cli(...args);
      expect(r.status).toBe(2);
      expect(r.err).toBe(`wasmvisor: ${args[1]}: is a directory, not a file\n`);
    }
  });

  it('/dev/null is called /dev/null, and an empty descriptor says it is empty', async () => {
    const r = await cli('inspect', '/dev/null');
    expect(r.status).toBe(2);
    expect(r.err).toBe(
      'wasmvisor: /dev/null: the file is empty (an OVF descriptor is an XML document)\n',
    );
    const i = await cli('import', '/dev/null', join(tempDir(), 'out'));
    expect(i.err).toMatch(/^wasmvisor: \/dev\/null: /);
  });

  it.skipIf(!hasQemuImg && process.env.CI !== 'true')(
    'disk sizes read as qemu-img prints them (512 KiB is not "0.00 GiB")',
    async () => {
      const dir = tempDir();
      for (const size of ['512K', '1536M', '10G']) {
        const img = join(dir, `d${size}.qcow2`);
        run('qemu-img', ['create', '-q', '-f', 'qcow2', img, size]);
        // qemu-img: "virtual size: 512 KiB (524288 bytes)".
        const [, human, bytes] = /^virtual size: (.*) \((\d+) bytes\)$/m.exec(
          run('qemu-img', ['info', img]),
        )!;
        const ova = join(dir, `d${size}.ova`);
        expect((await cli('export', ova, '--disk', img)).status).toBe(0);
        const r = await cli('inspect', ova);
        expect(r.out).toContain(`\n  vmdisk1  ${bytes} bytes (${human})  file file1`);
      }
    },
  );
});
