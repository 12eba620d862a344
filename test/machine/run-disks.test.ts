/**
 * Several IDE disks from the command line (--hda..--hdd, a repeatable --disk) and from a
 * vm.json: a guest reads sector 1 of each position it was given (ATA-6 9.7, PIO data-in:
 * READ SECTORS) and echoes the status and the data to the 0xE9 debug console. The same
 * guest with the same images under QEMU (-drive if=ide,index=N) echoes the same bytes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assembleBody, floppyImage, romFromBody, outb, inb, waitNotBusy, writeUntilEcho, type Op,
} from '../devices/qemu-probe.js';
import { runCliInProcess } from '../helpers/cli.js';
import { hasTool } from '../helpers/tools.js';

const skip = !hasTool('qemu-system-i386');

/** IDE position (QEMU's -drive index) -> command block base and drive-select bit. */
const POSITION = [[0x1f0, 0x00], [0x1f0, 0x10], [0x170, 0x00], [0x170, 0x10]];
const WORDS = 256;

/** READ SECTORS of LBA 1 from each position, echoing Status and the 512 bytes. */
function readEach(positions: number[]): Op[] {
  const ops: Op[] = [];
  for (const p of positions) {
    const [base, dev] = POSITION[p];
    ops.push(waitNotBusy(base + 7), writeUntilEcho(base + 6, 0xe0 | dev));
    ops.push(outb(base + 2, 1), outb(base + 3, 1), outb(base + 4, 0), outb(base + 5, 0));
    ops.push(outb(base + 7, 0x20));
    ops.push(waitNotBusy(base + 7), inb(base + 7), { inRepeat: base, size: 2, count: WORDS });
  }
  return ops;
}

/** A 1 MiB image whose sector 1 is its name and a pattern, `boot` (if any) in sector 0. */
function image(name: string, boot?: number[]): Uint8Array {
  const img = new Uint8Array(1 << 20);
  if (boot) { img.set(boot); img[510] = 0x55; img[511] = 0xaa; }
  const text = new TextEncoder().encode(`disk ${name}`);
  for (let i = 0; i < 512; i++) img[512 + i] = (i * 31 + name.charCodeAt(0)) & 0xff;
  img.set(text, 512);
  return img;
}

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'wv-disks-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** QEMU with the images at their -drive indexes, booting `boot` ('a' floppy or 'c' disk). */
function qemu(disks: Record<number, string>, boot: 'a' | 'c', floppy?: string) {
  const con = join(dir, 'qemu-con.bin');
  writeFileSync(con, '');
  const args = ['-display', 'none', '-nodefaults', '-no-reboot', '-m', '32', '-boot', boot,
    '-debugcon', `file:${con}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'];
  if (floppy) args.push('-drive', `file=${floppy},format=raw,if=floppy`);
  for (const [i, f] of Object.entries(disks)) {
    args.push('-drive', `file=${f},format=raw,if=ide,index=${i}`);
  }
  const r = spawnSync('qemu-system-i386', args, { timeout: 60_000 });
  return { bytes: [...readFileSync(con)], status: r.status };
}

async function wasmvisor(args: string[]): Promise<{ bytes: number[]; status: number }> {
  const con = join(dir, 'wv-con.bin');
  const r = await runCliInProcess(['run', ...args, '--debugcon', con,
    '--max-instructions', '50000000']);
  expect(r.err).toBe('');
  return { bytes: [...readFileSync(con)], status: r.status };
}

function write(name: string, data: Uint8Array): string {
  const f = join(dir, name);
  writeFileSync(f, data);
  return f;
}

describe.skipIf(skip)('several IDE disks', () => {
  it('--hda and --hdd: the guest reads the primary master and the secondary slave', async () => {
    const ops = readEach([0, 3]);
    const a = write('a.img', image('A')), d = write('d.img', image('D'));
    const ref = qemu({ 0: a, 3: d }, 'a', write('probe.img', floppyImage(assembleBody(ops))));
    expect(ref.status).toBe(1);
    expect(ref.bytes.length).toBe(2 * (1 + 2 * WORDS));
    const rom = write('probe.rom', romFromBody(assembleBody(ops)));
    const ours = await wasmvisor(['--bios', rom, '--hda', a, '--hdd', d]);
    expect(ours.status).toBe(ref.status);
    expect(ours.bytes).toEqual(ref.bytes);
  });

  it('--disk twice fills primary master and slave, as -drive if=ide without an index', async () => {
    const ops = readEach([0, 1]);
    const a = write('a.img', image('A')), b = write('b.img', image('B'));
    const ref = qemu({ 0: a, 1: b }, 'a', write('probe.img', floppyImage(assembleBody(ops))));
    expect(ref.status).toBe(1);
    const rom = write('probe.rom', romFromBody(assembleBody(ops)));
    const ours = await wasmvisor(['--bios', rom, '--disk', a, '--disk', b]);
    expect(ours.bytes).toEqual(ref.bytes);
    // --hdb takes its position first; --disk then takes the next free one (the master).
    const again = await wasmvisor(['--bios', rom, '--hdb', b, '--disk', a]);
    expect(again.bytes).toEqual(ref.bytes);
  });

  it('a vm.json with disks on both channels boots the first and the guest reads both', async () => {
    const ops = readEach([0, 2]);
    const body = assembleBody(ops);
    expect(body.length).toBeLessThan(510);
    const a = write('a.img', image('A', body)), c = write('c.img', image('C'));
    const ref = qemu({ 0: a, 2: c }, 'c');
    expect(ref.status).toBe(1);
    expect(ref.bytes.length).toBe(2 * (1 + 2 * WORDS));
    const vm = {
      version: 1, name: 'two-disks', cpus: 1, memoryMiB: 32, boot: { firmware: 'bios' },
      nics: [], serial: [],
      disks: [['a.img', 0], ['c.img', 1]].map(([path, channel]) => ({
        path, format: 'raw', media: 'disk', controller: { type: 'ide', channel, unit: 0 },
      })),
    };
    const config = write('vm.json', new TextEncoder().encode(JSON.stringify(vm)));
    const ours = await wasmvisor(['--config', config]);
    expect(ours.status).toBe(ref.status);
    // The bundled firmware announces itself on the debug console first (one text line).
    const before = ours.bytes.slice(0, ours.bytes.length - ref.bytes.length);
    const banner = Buffer.from(before).toString('latin1');
    expect(banner).toMatch(/^[ -~]+\r\n$/);
    expect(ours.bytes.slice(-ref.bytes.length)).toEqual(ref.bytes);
  });

  it('refuses a fifth disk and the same file twice, naming them', async () => {
    const a = write('a.img', image('A'));
    let r = await runCliInProcess(['run', '--hda', a, '--hdb', a]);
    expect(r.status).toBe(2);
    expect(r.err).toContain(`disk ${a} is given twice`);
    const f = [1, 2, 3, 4, 5].map((i) => write(`x${i}.img`, image(String(i))));
    r = await runCliInProcess(['run', ...f.flatMap((x) => ['--disk', x])]);
    expect(r.status).toBe(2);
    expect(r.err).toContain(`--disk ${f[4]}: all four IDE positions are taken`);
  });
});
