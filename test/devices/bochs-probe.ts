/**
 * Runs a 64 KiB firmware image under Bochs 2.7 from the reset vector (no BIOS before it)
 * and returns the bytes it wrote to port 0xE9 (Bochs' port_e9_hack, printed on stdout).
 * The image ends the run by writing "Shutdown" to port 0x8900 (Bochs' BIOS shutdown port),
 * which Bochs takes as a panic; `panic: action=fatal` then quits. Debian's Bochs has no
 * VGA BIOS file and wants one: a stub option ROM that only returns stands in.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { hasTool } from '../helpers/tools.js';

export const hasBochs = hasTool('bochs');

/** A 32 KiB option ROM: 55 AA, 64 blocks, RETF at offset 3, checksum byte last. */
function vgaStub(): Uint8Array {
  const r = new Uint8Array(32768);
  r.set([0x55, 0xaa, 64, 0xcb]);
  r[r.length - 1] = (0x100 - ((0x55 + 0xaa + 64 + 0xcb) & 0xff)) & 0xff;
  return r;
}

/** The 0xE9 bytes of `rom` run under Bochs (`count` of them: the rest of stdout is Bochs'). */
export function runBochsRom(rom: Uint8Array, count: number): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'wv-bochs-'));
  try {
    writeFileSync(join(dir, 'rom.bin'), rom);
    writeFileSync(join(dir, 'vga.bin'), vgaStub());
    writeFileSync(join(dir, 'bochsrc'), [
      'megs: 16',
      `romimage: file=${join(dir, 'rom.bin')}, address=0xffff0000`,
      `vgaromimage: file=${join(dir, 'vga.bin')}`,
      'cpu: model=core2_penryn_t9600, count=1, ips=50000000, reset_on_triple_fault=0',
      'display_library: rfb, options="timeout=0"',
      'port_e9_hack: enabled=1',
      'speaker: enabled=0', 'sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy',
      'mouse: enabled=0', `log: ${join(dir, 'bochs.log')}`,
      'panic: action=fatal', 'error: action=report', 'info: action=ignore', 'debug: action=ignore',
      'clock: sync=none', '',
    ].join('\n'));
    // Its debugger takes "c" (continue) from a pipe, as guests/systests/bochs/run-bochs.sh
    // gives it (given as spawnSync input instead, Bochs 2.7 stalls).
    const r = spawnSync('sh', ['-c', 'echo c | exec bochs -q -f "$1"', 'sh', join(dir, 'bochsrc')],
      { timeout: 120_000 });
    const out = r.stdout;
    // The debugger echoes its "c" command; the guest's bytes follow it.
    const prompt = Buffer.from('<bochs:1> c\n');
    const at = out.indexOf(prompt);
    if (at < 0) {
      throw new Error(`Bochs did not start the guest: ${r.stderr.toString().slice(-500)}`);
    }
    return [...out.subarray(at + prompt.length, at + prompt.length + count)];
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
