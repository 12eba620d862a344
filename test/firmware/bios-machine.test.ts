/**
 * Booting from a disk's first sector on wasmvisor's platform with wasmvisor's firmware:
 * the boot program prints what QEMU printed with its own firmware (SeaBIOS), recorded in
 * guests/firmware/tests/diskboot.expected.txt, and its sector write reaches the image.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../bindings/machine/machine.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { MemorySource } from '../../bindings/disk/source.js';
// @ts-expect-error plain ESM helper without types
import { makeDisk } from '../../guests/firmware/tests/mkdisk.mjs';

const fw = join(__dirname, '..', '..', 'guests/firmware');

describe('firmware on the machine', () => {
  it('boots the test disk and answers int 12h/13h as SeaBIOS does under QEMU', async () => {
    const reference = readFileSync(join(fw, 'tests/diskboot.expected.txt'), 'utf8')
      .split('\n').filter((l) => l && !l.startsWith('#'));
    const image: Uint8Array = makeDisk(readFileSync(join(fw, 'tests/diskboot.bin')));
    let out = '';
    let debug = '';
    const m = await Machine.create({
      ramBytes: 32 << 20,
      firmware: readFileSync(join(fw, 'bios.bin')),
      disks: [new RawImage(new MemorySource(image))],
      serialOut: (b) => { out += String.fromCharCode(b); },
      debugcon: (b) => { debug += String.fromCharCode(b); },
    });
    const stop = m.run(50_000_000);
    expect(debug).toBe('wasmvisor BIOS\r\n');
    expect(out.split('\n').filter(Boolean)).toEqual(reference);
    expect(stop).toEqual({ kind: 'exit', status: 1 });
    const expected = Uint8Array.from({ length: 512 }, (_, i) => (0x5a + 3 * i) & 0xff);
    expect(image.subarray(100 * 512, 101 * 512)).toEqual(expected);
  });

  it('reports a disk without a boot signature and stops', async () => {
    let out = '';
    const m = await Machine.create({
      ramBytes: 32 << 20,
      firmware: readFileSync(join(fw, 'bios.bin')),
      disks: [new RawImage(new MemorySource(new Uint8Array(1 << 20)))],
      serialOut: (b) => { out += String.fromCharCode(b); },
    });
    const stop = m.run(50_000_000);
    expect(out).toBe('No bootable disk.\r\n');
    expect(stop).toEqual({ kind: 'exit', status: 3 });
  });
});
