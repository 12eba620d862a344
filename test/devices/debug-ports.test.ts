/**
 * Port 0x80, isa-debug-exit and the 0xE9 console, against QEMU's documented behaviour
 * (QEMU docs: isa-debug-exit "exit code (value << 1) | 1"; debugcon readback 0xe9) and,
 * when QEMU is installed, against QEMU itself running a 16-byte boot sector.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '../../bindings/devices/bus.js';
import { DebugCon, DebugExit, PostPort } from '../../bindings/devices/debug-ports.js';
import { io } from './helpers.js';
import { hasQemu } from './qemu-probe.js';

function setup() {
  const bus = new Bus(); const exits: number[] = []; const out: number[] = [];
  const post = new PostPort(); post.attach(bus);
  new DebugExit((s) => exits.push(s)).attach(bus);
  new DebugCon((b) => out.push(b)).attach(bus);
  return { bus, exits, out, post, p: io(bus) };
}

describe('debug ports', () => {
  it('isa-debug-exit: a write of v ends with status (v << 1) | 1', () => {
    const { p, exits } = setup();
    p.outb(0xf4, 0x10); p.outl(0xf4, 0); p.outw(0xf6, 0x7f);
    expect(exits).toEqual([0x21, 1, 0xff]);
  });

  it('debugcon: bytes to the sink, reads return 0xE9', () => {
    const { p, out } = setup();
    for (const c of 'hi\n') p.outb(0xe9, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe('hi\n');
    expect(p.inb(0xe9)).toBe(0xe9);
  });

  it('port 0x80 records POST codes and survives a snapshot', () => {
    const { p, post } = setup();
    p.outb(0x80, 0x12); p.outb(0x80, 0x34);
    expect(post.last).toBe(0x34);
    expect(PostPort.fromState(JSON.parse(JSON.stringify(post.state()))).history).toEqual([0x12, 0x34]);
    expect(() => PostPort.fromState({ last: 256, history: [] })).toThrow(/post\.last/);
  });

  it.skipIf(!hasQemu)('QEMU gives the same debugcon bytes, readback and exit status', () => {
    // Boot sector: in al,0xe9; out 0xe9,al; mov al,'K'; out 0xe9,al; mov al,0x21; out 0xf4,al; hlt
    const code = [0xe4, 0xe9, 0xe6, 0xe9, 0xb0, 0x4b, 0xe6, 0xe9, 0xb0, 0x21, 0xe6, 0xf4, 0xf4];
    const dir = mkdtempSync(join(tmpdir(), 'wv-dbg-'));
    try {
      const img = new Uint8Array(512); img.set(code); img[510] = 0x55; img[511] = 0xaa;
      writeFileSync(join(dir, 'boot.img'), img);
      const r = spawnSync('qemu-system-i386', ['-display', 'none', '-nodefaults', '-no-reboot',
        '-drive', `file=${join(dir, 'boot.img')},format=raw,if=floppy`,
        '-debugcon', `file:${join(dir, 'con.txt')}`,
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'], { timeout: 20000 });
      const qemuOut = [...readFileSync(join(dir, 'con.txt'))];
      const { p, exits, out } = setup();
      p.outb(0xe9, p.inb(0xe9)); p.outb(0xe9, 0x4b); p.outb(0xf4, 0x21);
      expect(out).toEqual(qemuOut);
      expect(exits).toEqual([r.status]);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
