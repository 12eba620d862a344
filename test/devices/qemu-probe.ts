/**
 * Runs a list of port operations in a real-mode guest under qemu-system-i386 and returns
 * the values its IN instructions read, so device tests can compare register behaviour
 * with QEMU's. The guest is hand-assembled here (no toolchain needed): a boot sector that
 * loads the rest of the program from the floppy, disables interrupts, performs the
 * operations, echoes each IN result to the 0xE9 debug console, and exits through
 * isa-debug-exit. SeaBIOS has run before it, so compare only state the program sets itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTool } from '../helpers/tools.js';

export const hasQemu = hasTool('qemu-system-i386');

export type Op =
  | { out: number; size: 1 | 2 | 4; value: number }
  /** `mask` ANDs a byte read before it is echoed: to leave out a documented difference. */
  | { in: number; size: 1 | 2 | 4; mask?: number }
  /** `count` reads of a port (e.g. the IDE data port), each echoed. */
  | { inRepeat: number; size: 1 | 2 | 4; count: number }
  /** Polls a status port until bit 7 (BSY) is clear, as a driver does; echoes nothing. */
  | { waitNotBusy: number }
  /** Writes a byte to a port until it reads back the same (at most 65535 times); echoes
   *  nothing. E.g. selecting an IDE device, which a busy device ignores. */
  | { writeUntilEcho: number; value: number };

export const waitNotBusy = (port: number): Op => ({ waitNotBusy: port });
export const writeUntilEcho = (port: number, value: number): Op => ({ writeUntilEcho: port, value });

export const outb = (port: number, value: number): Op => ({ out: port, size: 1, value });
export const outw = (port: number, value: number): Op => ({ out: port, size: 2, value });
export const outl = (port: number, value: number): Op => ({ out: port, size: 4, value });
export const inb = (port: number, mask?: number): Op => ({ in: port, size: 1, mask });
export const inw = (port: number): Op => ({ in: port, size: 2 });
export const inl = (port: number): Op => ({ in: port, size: 4 });

const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** Code for one IN at the port in DX, echoing `size` bytes to 0xE9 (clobbers EAX, DX). */
function inEcho(port: number, size: number, mask?: number): number[] {
  const c = [0xba, ...le16(port)];
  c.push(size === 1 ? 0xec : size === 2 ? 0xed : 0x66, ...(size === 4 ? [0xed] : [])); // in al/ax/eax, dx
  if (mask !== undefined && size === 1) c.push(0x24, mask & 0xff); // and al, mask
  c.push(0xba, 0xe9, 0x00, 0xee); // mov dx, 0xe9; out dx, al
  if (size >= 2) c.push(0x88, 0xe0, 0xee); // mov al, ah; out dx, al
  if (size === 4) c.push(0x66, 0xc1, 0xe8, 0x10, 0xee, 0x88, 0xe0, 0xee); // shr eax, 16; out; mov al, ah; out
  return c;
}

/** The program: CLI, the operations, then isa-debug-exit with 0 (status 1) and HLT. */
export function assembleBody(ops: Op[]): number[] {
  const body: number[] = [0xfa]; // cli
  for (const op of ops) {
    if ('out' in op) {
      body.push(0xba, ...le16(op.out));
      if (op.size === 1) body.push(0xb0, op.value & 0xff, 0xee);
      else if (op.size === 2) body.push(0xb8, ...le16(op.value), 0xef);
      else body.push(0x66, 0xb8, ...le32(op.value), 0x66, 0xef);
    } else if ('in' in op) {
      body.push(...inEcho(op.in, op.size, op.mask));
    } else if ('waitNotBusy' in op) {
      body.push(0xba, ...le16(op.waitNotBusy), 0xec, 0xa8, 0x80, 0x75, 0xfb); // mov dx,p; l: in al,dx; test al,80h; jnz l
    } else if ('writeUntilEcho' in op) {
      // mov cx, 0xffff; l: mov dx, p; mov al, v; out dx, al; in al, dx; cmp al, v; loopne l
      const v = op.value & 0xff;
      body.push(0xb9, 0xff, 0xff, 0xba, ...le16(op.writeUntilEcho), 0xb0, v, 0xee, 0xec, 0x3c, v, 0xe0, 0xf5);
    } else {
      const loop = inEcho(op.inRepeat, op.size);
      body.push(0xb9, ...le16(op.count), ...loop, 0xe2, (-(loop.length + 2)) & 0xff); // mov cx, n; body; loop
    }
  }
  body.push(0xb0, 0x00, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd); // mov al, 0; out 0xf4, al; hlt; jmp $-1
  return body;
}

/** A 1.44 MB floppy image booting the program through SeaBIOS (for QEMU). */
export function assemble(ops: Op[]): Uint8Array { return floppyImage(assembleBody(ops)); }

/** A floppy whose boot sector loads `body` to 0000:7E00 and jumps there. */
export function floppyImage(body: ArrayLike<number>): Uint8Array {
  const sectors = Math.ceil(body.length / 512);
  if (sectors > 17) throw new Error('probe program too long');
  // Boot sector: xor ax,ax; mov es,ax; mov ds,ax; mov bx,0x7e00; mov ax,0x0200|n; mov cx,2; xor dh,dh; int 13h; jmp 0:7e00
  const boot = [0x31, 0xc0, 0x8e, 0xc0, 0x8e, 0xd8, 0xbb, 0x00, 0x7e, 0xb8, sectors, 0x02, 0xb9, 0x02, 0x00,
    0x30, 0xf6, 0xcd, 0x13, 0xea, 0x00, 0x7e, 0x00, 0x00];
  const img = new Uint8Array(1474560);
  img.set(boot); img[510] = 0x55; img[511] = 0xaa;
  img.set(body, 512);
  return img;
}

export interface ProbeResult { bytes: number[]; status: number | null; files: Record<string, Uint8Array> }

/** Runs `ops` under QEMU with extra arguments (e.g. a disk, `-m 64`). */
export function runQemu(ops: Op[], extra: string[] = [], files: Record<string, Uint8Array> = {}): ProbeResult {
  return runQemuFloppy(assemble(ops), extra, files);
}

/** Boots a floppy image under QEMU with the debug console and isa-debug-exit. */
export function runQemuFloppy(floppy: Uint8Array, extra: string[] = [], files: Record<string, Uint8Array> = {}, readBack: string[] = []): ProbeResult {
  const dir = mkdtempSync(join(tmpdir(), 'wv-probe-'));
  try {
    writeFileSync(join(dir, 'probe.img'), floppy);
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    const args = ['-display', 'none', '-nodefaults', '-no-reboot', '-boot', 'a',
      '-drive', `file=${join(dir, 'probe.img')},format=raw,if=floppy`,
      '-debugcon', `file:${join(dir, 'con.bin')}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
      ...extra.map((a) => a.replaceAll('@DIR@', dir))];
    const r = spawnSync('qemu-system-i386', args, { timeout: 30000 });
    const con = join(dir, 'con.bin');
    const back: Record<string, Uint8Array> = {};
    for (const f of readBack) back[f] = new Uint8Array(readFileSync(join(dir, f)));
    return { bytes: existsSync(con) ? [...readFileSync(con)] : [], status: r.status, files: back };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** The same operations against a bus-like pair of functions; returns the echoed bytes. */
export function runLocal(ops: Op[], read: (port: number, size: 1 | 2 | 4) => number, write: (port: number, size: 1 | 2 | 4, v: number) => void): number[] {
  const out: number[] = [];
  const echo = (v: number, size: number) => { for (let i = 0; i < size; i++) out.push((v >>> (8 * i)) & 0xff); };
  for (const op of ops) {
    if ('out' in op) write(op.out, op.size, op.value);
    else if ('in' in op) echo(read(op.in, op.size) & (op.mask ?? 0xffffffff), op.size);
    else if ('waitNotBusy' in op) { for (let k = 0; k < 1000 && read(op.waitNotBusy, 1) & 0x80; k++); }
    else if ('writeUntilEcho' in op) {
      for (let k = 0; k < 1000; k++) { write(op.writeUntilEcho, 1, op.value); if ((read(op.writeUntilEcho, 1) & 0xff) === (op.value & 0xff)) break; }
    }
    else for (let i = 0; i < op.count; i++) echo(read(op.inRepeat, op.size), op.size);
  }
  return out;
}

/**
 * A 64 KiB firmware image running the program straight from the reset vector (for a
 * machine without a BIOS): F000:FFF0 jumps far to F000:0000, where the program starts.
 */
export function romImage(ops: Op[]): Uint8Array { return romFromBody(assembleBody(ops)); }

/** A 64 KiB ROM with `body` at F000:0000 and a far jump to it at the reset vector. */
export function romFromBody(body: ArrayLike<number>): Uint8Array {
  if (body.length > 0xfff0) throw new Error('probe program too long for a ROM');
  const rom = new Uint8Array(0x10000).fill(0xf4);
  rom.set(body, 0);
  rom.set([0xea, 0x00, 0x00, 0x00, 0xf0], 0xfff0); // jmp far f000:0000
  return rom;
}

/** Runs a firmware image from the reset vector under QEMU (`-bios`: nothing runs before it). */
export function runQemuBios(rom: Uint8Array, extra: string[] = []): ProbeResult {
  const dir = mkdtempSync(join(tmpdir(), 'wv-probe-'));
  try {
    writeFileSync(join(dir, 'rom.bin'), rom);
    const args = ['-display', 'none', '-nodefaults', '-no-reboot', '-bios', join(dir, 'rom.bin'),
      '-debugcon', `file:${join(dir, 'con.bin')}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', ...extra];
    const r = spawnSync('qemu-system-i386', args, { timeout: 60000 });
    const con = join(dir, 'con.bin');
    return { bytes: existsSync(con) ? [...readFileSync(con)] : [], status: r.status, files: {} };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
