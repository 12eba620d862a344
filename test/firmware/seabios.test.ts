/**
 * Third-party firmware on the platform: Debian's SeaBIOS (the `seabios` package, QEMU's own
 * PC firmware) starts from the reset vector, shadows itself through the i440FX PAM
 * registers, probes PCI and the IDE disk, and boots the test disk, whose boot program then
 * prints what it printed under QEMU (guests/firmware/tests/diskboot.expected.txt).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../bindings/machine/machine.js';
import { DebugCon } from '../../bindings/devices/debug-ports.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { MemorySource } from '../../bindings/disk/source.js';
// @ts-expect-error plain ESM helper without types
import { makeDisk } from '../../guests/firmware/tests/mkdisk.mjs';
import { hasTool } from '../helpers/tools.js';

const SEABIOS = '/usr/share/seabios/bios.bin';
const hasSeabios = hasTool('seabios');
const fw = join(__dirname, '..', '..', 'guests/firmware');

describe.skipIf(!hasSeabios)('SeaBIOS on the platform', () => {
  it('boots the test disk; the boot program prints what it printed under QEMU', async () => {
    const reference = readFileSync(join(fw, 'tests/diskboot.expected.txt'), 'utf8')
      .split('\n').filter((l) => l && !l.startsWith('#'));
    const image: Uint8Array = makeDisk(readFileSync(join(fw, 'tests/diskboot.bin')));
    let out = '';
    let log = '';
    const m = await Machine.create({
      ramBytes: 32 << 20,
      firmware: new Uint8Array(readFileSync(SEABIOS)),
      disks: [new RawImage(new MemorySource(image))],
      serialOut: (b) => { out += String.fromCharCode(b); },
    });
    // SeaBIOS's QEMU build logs to the debug port at 0x402.
    new DebugCon((b) => { log += String.fromCharCode(b); }, 0x402).attach(m.bus);
    const stop = m.run(100_000_000);
    expect(log).toMatch(/^SeaBIOS \(version /);
    // It found the RAM from the CMOS, so its shadow copy (PAM) worked.
    expect(log).toContain('RamSize: 0x02000000 [cmos]');
    expect(log).toMatch(/ata0-0: WASMVISOR HARDDISK ATA-6 Hard-Disk/);
    expect(out.split('\n').filter(Boolean)).toEqual(reference);
    expect(stop).toEqual({ kind: 'exit', status: 1 });
  });
});
