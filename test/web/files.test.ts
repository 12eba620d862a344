/**
 * What the page says of a dropped file (web/src/files.ts, run here in Node): each kind is
 * recognized by the magic numbers of its own specification (Multiboot 0.6.96 3.1.1, the
 * System V ABI's ELF header, POSIX ustar, the qcow2 header written by qemu-img), and a
 * file that cannot boot says what it is and why.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planFile, UnbootableFile } from '../../web/src/files.js';
import { hasTool } from '../helpers/tools.js';

const REPO = join(__dirname, '..', '..');
const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer;
const refused = async (name: string, b: Uint8Array): Promise<string> => {
  try {
    await planFile(name, buf(b), 64);
  } catch (e) {
    expect(e).toBeInstanceOf(UnbootableFile);
    return (e as Error).message;
  }
  throw new Error(`${name} was accepted`);
};

describe('a dropped file', () => {
  it('boots JeOS\'s ELF as a Multiboot kernel', async () => {
    const p = await planFile('jeos.elf', buf(readFileSync(join(REPO, 'guests/jeos/jeos.elf'))), 64);
    expect(p.what).toBe('jeos.elf: a Multiboot kernel (ELF)');
    expect(p.kernel?.length).toBeGreaterThan(0);
  });

  it('refuses an empty file, an ELF without Multiboot, text, a PNG and gzip', async () => {
    expect(await refused('e', new Uint8Array(0))).toBe('e is empty (0 bytes): nothing to boot');
    const elf64 = new Uint8Array(64);
    elf64.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    elf64[18] = 62; // EM_X86_64
    expect(await refused('vmlinux', elf64)).toMatch(/^vmlinux is a 64-bit ELF file for x86-64 with no Multiboot header in its first 8 KiB: wasmvisor emulates an IA-32 PC/);
    const elf32 = elf64.slice();
    elf32[4] = 1; elf32[18] = 3; // ELFCLASS32, EM_386
    expect(await refused('a.out', elf32)).toMatch(/32-bit ELF file for x86 \(IA-32\) with no Multiboot header.*Multiboot v1 header/);
    expect(await refused('notes.txt', new TextEncoder().encode('hello\n'.repeat(200))))
      .toMatch(/^notes\.txt is a text file/);
    expect(await refused('p.png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0])))
      .toBe('p.png is a PNG picture: it cannot boot');
    expect(await refused('x.gz', Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0])))
      .toMatch(/gzip-compressed/);
  });

  it('boots a raw disk with a boot signature and refuses one without', async () => {
    const d = new Uint8Array(1024 * 1024);
    d[510] = 0x55; d[511] = 0xaa;
    const p = await planFile('disk.img', buf(d), 64);
    expect(p.firmware).toBe(true);
    expect(p.disks?.[0].size).toBe(d.length);
    const blank = new Uint8Array(1024 * 1024);
    blank[0] = 0xeb;
    expect(await refused('blank.img', blank)).toMatch(/no boot signature \(55 AA at byte 510\)/);
  });

  it('boots the example appliance: its kernel, command line and disk', async () => {
    // appliances/jeos/vm.json is what jeos.ova was exported from.
    const vm = JSON.parse(readFileSync(join(REPO, 'appliances/jeos/vm.json'), 'utf8'));
    const p = await planFile('jeos.ova', buf(readFileSync(join(REPO, 'appliances/jeos/jeos.ova'))),
      1024);
    expect(p.what).toBe('jeos.ova: OVA package "jeos", Multiboot kernel jeos.elf');
    expect(p.cmdline).toBe(vm.boot.cmdline);
    expect(p.ramMiB).toBe(vm.memoryMiB);
    expect(Buffer.from(p.kernel!).equals(readFileSync(join(REPO, 'guests/jeos/jeos.elf'))))
      .toBe(true);
    const raw = readFileSync(join(REPO, 'guests/jeos/disk.img'));
    const d = new Uint8Array(raw.length);
    expect(p.disks?.length).toBe(1);
    // Its streamOptimized VMDK is read-only: the guest gets a writable copy.
    expect(p.disks![0].readOnly).toBe(false);
    p.disks![0].read(0, d);
    expect(Buffer.from(d).equals(raw)).toBe(true);
  });

  it('refuses a broken OVA, naming it a tar archive', async () => {
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('disk.vmdk'), 0);
    tar.set(new TextEncoder().encode('ustar\x0000'), 257);
    expect(await refused('vm.ova', tar)).toMatch(/^vm\.ova is a tar archive but not a readable OVA package: /);
  });

  it.skipIf(!hasTool('qemu-img'))('refuses a qcow2 image from qemu-img with no boot sector', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'web-files-'));
    try {
      const f = join(dir, 'empty.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', f, '1M']);
      expect(await refused('empty.qcow2', readFileSync(f))).toBe('empty.qcow2 is a qcow2 disk ' +
        'image, but its first sector has no boot signature (55 AA at byte 510, found 00 00): ' +
        'the firmware cannot boot it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
