/**
 * A guest powering off (ACPI S5 through the PIIX4 PM function's PM1a_CNT) ends the run
 * with status 0, as it ends qemu-system-i386 with 0 (hw/acpi/core.c: a shutdown request).
 * The guest (guests/poweroff.asm) echoes the PM function's registers as its loader left
 * them, so QEMU's state after SeaBIOS, before a -kernel image or a boot sector, is compared
 * with ours after --kernel and after the bundled firmware.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliInProcess, repoRoot } from '../helpers/cli.js';
import { STATUS_POWEROFF } from '../../bindings/cli/run.js';
import { hasTool } from '../helpers/tools.js';

const withQemu = hasTool('qemu-system-i386');
const withNasm = hasTool('nasm');

const SOURCE = join(__dirname, 'guests/poweroff.asm');
const LIMIT = ['--max-instructions', '10000000'];
let dir: string, kernel: string, disk: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wv-poweroff-'));
  if (!withNasm) return;
  kernel = join(dir, 'poweroff.elf');
  const mbr = join(dir, 'poweroff.mbr');
  for (const [out, defs] of [[kernel, ['-DMULTIBOOT']], [mbr, []]] as const) {
    const r = spawnSync('nasm', ['-f', 'bin', ...defs, '-o', out, SOURCE], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
  disk = join(dir, 'disk.img');
  const image = new Uint8Array(1 << 20);
  image.set(readFileSync(mbr));
  writeFileSync(disk, image);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** QEMU's status and what the guest wrote to its debug console. */
function qemu(name: string, args: string[]): { status: number | null; con: number[] } {
  const con = join(dir, `${name}.con`);
  const r = spawnSync('qemu-system-i386', ['-display', 'none', '-nodefaults', '-no-reboot',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-debugcon', `file:${con}`, ...args],
  { timeout: 30_000 });
  return { status: r.status, con: existsSync(con) ? [...readFileSync(con)] : [] };
}

/** `wasmvisor run ARGS`: its status, the stop reason and the debug console. */
async function wasmvisor(name: string, args: string[]) {
  const con = join(dir, `${name}.wcon`), stats = join(dir, `${name}.json`);
  const r = await runCliInProcess(['run', ...args, '--debugcon', con, '--stats', stats, ...LIMIT]);
  return {
    status: r.status, err: r.err, con: [...readFileSync(con)],
    stop: JSON.parse(readFileSync(stats, 'utf8')).stop,
  };
}

/** The bytes the guest echoes: IDs, class, interrupt line and pin, PMBA, PMREGMISC, PM1a_CNT. */
function decode(con: number[]) {
  const dv = new DataView(Uint8Array.from(con).buffer);
  return {
    id: dv.getUint32(0, true), classRev: dv.getUint32(4, true), intr: dv.getUint32(8, true),
    pmba: dv.getUint32(12, true), pmregmisc: dv.getUint32(16, true), cnt: dv.getUint16(20, true),
  };
}

describe.skipIf(!withNasm)('guest poweroff (PM1a_CNT, SLP_EN with SLP_TYP 0)', () => {
  it('--kernel: the PM base is programmed as SeaBIOS leaves it before QEMU -kernel', async () => {
    const w = await wasmvisor('kernel', ['--kernel', kernel]);
    expect(w.stop).toEqual({ kind: 'poweroff' });
    expect(w.status).toBe(STATUS_POWEROFF);
    // 8086:7113, PMBA 0x601 (bit 0 reads 1), PMIOSE on: from SeaBIOS's pciinit.c, checked
    // against QEMU's run below.
    expect(decode(w.con)).toMatchObject({ id: 0x71138086, pmba: 0x601, pmregmisc: 1 });
    if (withQemu) {
      const q = qemu('kernel', ['-kernel', kernel]);
      expect(q.status).toBe(0); // QEMU's own status after the poweroff
      expect(w.status).toBe(q.status);
      expect(w.con).toEqual(q.con);
    }
  });

  it('the bundled firmware programs the PM base as SeaBIOS; a boot sector powers off', async () => {
    const w = await wasmvisor('disk', ['--disk', disk]);
    expect(w.stop).toEqual({ kind: 'poweroff' });
    expect(w.status).toBe(STATUS_POWEROFF);
    const banner = [...Buffer.from('wasmvisor BIOS\r\n')];
    expect(w.con.slice(0, banner.length)).toEqual(banner);
    const guest = w.con.slice(banner.length);
    expect(decode(guest)).toMatchObject({ id: 0x71138086, pmba: 0x601, pmregmisc: 1 });
    if (withQemu) {
      const drive = ['-drive', `file=${disk},format=raw,if=ide`];
      const seabios = qemu('seabios', drive);
      expect(seabios.status).toBe(0);
      expect(guest).toEqual(seabios.con);
      // QEMU running the bundled firmware: the same state, the same poweroff.
      const ours = qemu('bios', [...drive, '-bios', join(repoRoot, 'guests/firmware/bios.bin')]);
      expect(ours.status).toBe(0);
      expect(ours.con).toEqual(w.con);
    }
  });

  it('from the reset vector, no firmware: PM at reset, programmed by the guest', async () => {
    // The boot sector's code run from F000:7C00 with nothing before it: PMBA reads 1 and
    // PMIOSE 0 (their reset values); the guest programs them itself and powers off.
    const rom = new Uint8Array(0x10000).fill(0xf4);
    rom.set(readFileSync(disk).subarray(0, 510), 0x7c00);
    rom.set([0xea, 0x00, 0x7c, 0x00, 0xf0], 0xfff0); // jmp far f000:7c00
    const f = join(dir, 'reset.rom');
    writeFileSync(f, rom);
    const w = await wasmvisor('reset', ['--bios', f]);
    expect(w.stop).toEqual({ kind: 'poweroff' });
    expect(w.status).toBe(STATUS_POWEROFF);
    expect(decode(w.con)).toMatchObject({ id: 0x71138086, pmba: 0x1, pmregmisc: 0 });
    if (withQemu) {
      const q = qemu('reset', ['-bios', f]);
      expect(q.status).toBe(0);
      expect(w.con).toEqual(q.con);
    }
  });
});

describe('JeOS exit statuses', () => {
  it('a failing JeOS check still leaves through isa-debug-exit: status 3', () => {
    // As test/jeos/jeos.test.ts under QEMU -m 8: 3000 demand-zero pages cannot fit.
    const r = runCli(['run', '--kernel', 'guests/jeos/jeos.elf', '--mem', '8',
      '--append', 'only=pgfault pgfault=3000', '--max-instructions', '400000000']);
    expect(r.stdout).toContain('jeos init exited status=142');
    expect(r.status).toBe(3); // (1 << 1) | 1
  });
});
