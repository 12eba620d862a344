/**
 * The firmware against QEMU's own (SeaBIOS): the test disk's boot program prints the same
 * lines when QEMU runs it on our firmware as in the recorded SeaBIOS reference, and the
 * sector it writes reaches the disk the same way.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM helper without types
import { makeDisk } from '../../guests/firmware/tests/mkdisk.mjs';
import { hasTool } from '../helpers/tools.js';

const root = join(__dirname, '..', '..');
const fw = join(root, 'guests/firmware');
const hasQemu = hasTool('qemu-system-i386');

function reference(): string[] {
  return readFileSync(join(fw, 'tests/diskboot.expected.txt'), 'utf8')
    .split('\n').filter((l) => l && !l.startsWith('#'));
}

describe.skipIf(!hasQemu)('firmware under QEMU', () => {
  it('boots the test disk and answers int 12h/13h as SeaBIOS does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wv-bios-'));
    try {
      const disk = join(dir, 'disk.img');
      const image: Uint8Array = makeDisk(readFileSync(join(fw, 'tests/diskboot.bin')));
      writeFileSync(disk, image);
      let out = '';
      try {
        out = execFileSync('qemu-system-i386', [
          '-accel', 'tcg', '-display', 'none', '-serial', 'stdio', '-nic', 'none',
          '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-m', '32',
          '-drive', `file=${disk},format=raw,if=ide`, '-bios', join(fw, 'bios.bin'),
        ], { timeout: 60_000, encoding: 'utf8' });
      } catch (e: any) {
        // isa-debug-exit ends QEMU with status (0 << 1) | 1 = 1.
        expect(e.status).toBe(1);
        out = e.stdout;
      }
      expect(out.split('\n').filter(Boolean)).toEqual(reference());
      // The written sector: bytes 0x5A, 0x5D, ... as the boot program wrote them.
      const after = readFileSync(disk);
      const expected = Uint8Array.from({ length: 512 }, (_, i) => (0x5a + 3 * i) & 0xff);
      expect(after.subarray(100 * 512, 101 * 512)).toEqual(Buffer.from(expected));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
