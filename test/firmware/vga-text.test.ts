/**
 * int 10h on the VGA text screen against QEMU's firmware (SeaBIOS and its VGA BIOS on
 * QEMU's VGA): the test boot sector (guests/firmware/tests/vgatext.asm) sets mode 3,
 * writes through int 10h (teletype, cursor, write/read character, scrolling) and directly
 * (a cell at B800:0000, the cursor in CRTC 0Eh/0Fh), and reports the int 10h results, the
 * CRTC cursor registers read back and the 80x25 page's 4000 bytes. Every byte must be the
 * same on this machine with this firmware, and under QEMU with this firmware; the screen as
 * text and the cursor of `Machine` must be those of QEMU's buffer and registers.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../bindings/machine/machine.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { MemorySource } from '../../bindings/disk/source.js';
import { textOfScreen } from '../../bindings/devices/vga.js';
import { hasQemu } from '../devices/qemu-probe.js';
import { runCli } from '../helpers/cli.js';
// @ts-expect-error plain ESM helper without types
import { makeDisk } from '../../guests/firmware/tests/mkdisk.mjs';

const fw = join(__dirname, '..', '..', 'guests/firmware');
const disk = (): Uint8Array => makeDisk(readFileSync(join(fw, 'tests/vgatext.bin')));
/** "VGA:", AX of AH=08h, DX and CX of AH=03h, CRTC 0Ah/0Bh after the mode set, AX of
 *  AH=0Fh, CRTC 0Ah-0Fh, the page. */
const CRTC = 4 + 2 + 4 + 2 + 2;
const PAGE = CRTC + 6;
const REPORT = PAGE + 4000;

/** The report from the 0xE9 bytes (the firmware may print a banner before it). */
function report(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  const at = b.indexOf('VGA:');
  expect(at).toBeGreaterThanOrEqual(0);
  return b.subarray(at, at + REPORT);
}

function qemu(bios?: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'wv-vga-'));
  try {
    writeFileSync(join(dir, 'disk.img'), disk());
    const r = spawnSync('qemu-system-i386', ['-accel', 'tcg', '-display', 'none', '-nic', 'none',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-m', '32',
      '-debugcon', `file:${join(dir, 'con.bin')}`,
      '-drive', `file=${join(dir, 'disk.img')},format=raw,if=ide`,
      ...(bios ? ['-bios', bios] : [])], { timeout: 60_000 });
    expect(r.status).toBe(1); // isa-debug-exit with 0
    expect(existsSync(join(dir, 'con.bin'))).toBe(true);
    return report(readFileSync(join(dir, 'con.bin')));
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

async function ours() {
  const out: number[] = [];
  const m = await Machine.create({ ramBytes: 32 << 20, firmware: readFileSync(join(fw, 'bios.bin')),
    disks: [new RawImage(new MemorySource(disk()))], debugcon: (b) => out.push(b) });
  expect(m.run(50_000_000)).toEqual({ kind: 'exit', status: 1 });
  return { m, bytes: report(Uint8Array.from(out)) };
}

describe.skipIf(!hasQemu)('VGA text mode and int 10h against QEMU + SeaBIOS', () => {
  it('the same int 10h results, CRTC cursor registers and screen bytes', async () => {
    const ref = qemu();
    const { m, bytes } = await ours();
    expect(bytes.length).toBe(REPORT);
    expect([...bytes.subarray(0, PAGE)]).toEqual([...ref.subarray(0, PAGE)]);
    expect(textOfScreen(bytes.subarray(PAGE), 80)).toBe(textOfScreen(ref.subarray(PAGE), 80));
    expect(bytes.equals(ref)).toBe(true); // attributes too
    // The library's view: QEMU's page as text, the cursor where QEMU's CRTC 0Eh/0Fh put it.
    expect(m.screenText()).toBe(textOfScreen(ref.subarray(PAGE), 80));
    expect(m.screenText()).toContain('scrolling line                          A');
    expect(m.screenText()).toMatch(/PQ\nRS   xyz\n/); // int 10h AH=13h, wrapping at column 80
    const loc = ref[CRTC + 4] << 8 | ref[CRTC + 5];
    expect(m.screenCursor()).toMatchObject({
      row: Math.floor(loc / 80), column: loc % 80,
      start: ref[CRTC] & 0x1f, end: ref[CRTC + 1] & 0x1f,
    });
  });

  it('wasmvisor run --vga-dump FILE writes the screen QEMU shows, as text', () => {
    const ref = qemu();
    const dir = mkdtempSync(join(tmpdir(), 'wv-vga-'));
    try {
      writeFileSync(join(dir, 'disk.img'), disk());
      const img = join(dir, 'disk.img');
      const r = runCli(['run', '--disk', img, '--vga-dump', join(dir, 'screen.txt')]);
      expect(r.status).toBe(1);
      const screen = readFileSync(join(dir, 'screen.txt'), 'utf8');
      expect(screen).toBe(textOfScreen(ref.subarray(PAGE), 80));
      const bad = runCli(['run', '--disk', img, '--vga-dump', join(dir, 'no/such/dir/x.txt')]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/cannot write --vga-dump .*no\/such\/dir\/x\.txt: ENOENT/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('this firmware under QEMU (its VGA) writes the same screen as SeaBIOS', () => {
    expect(qemu(join(fw, 'bios.bin')).equals(qemu())).toBe(true);
  });
});
