/**
 * The VGA's text-mode registers against the register reference (IBM VGA Technical
 * Reference; FreeVGA "CRT Controller Registers", "External Registers") and against QEMU's
 * VGA as its VGA BIOS leaves it in mode 3: the same operations read back the same bytes.
 * The screen as text is checked against QEMU's buffer in test/firmware/vga-text.test.ts.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { Bus } from '../../bindings/devices/bus.js';
import { VgaText, textOfScreen, TEXT_BASE } from '../../bindings/devices/vga.js';
import { io } from './helpers.js';
import { hasQemu, runQemu, runLocal, outb, inb, type Op } from './qemu-probe.js';

let bus: Bus, vga: VgaText, p: ReturnType<typeof io>, mem: Uint8Array;
beforeEach(() => {
  mem = new Uint8Array(0x20000);
  bus = new Bus();
  vga = new VgaText((addr, n) => mem.slice(addr - 0xa0000, addr - 0xa0000 + n));
  vga.attach(bus);
  p = io(bus);
});
const crtc = (i: number, v?: number): number => {
  p.outb(0x3d4, i);
  if (v !== undefined) p.outb(0x3d5, v);
  return p.inb(0x3d5);
};

describe('CRT controller (FreeVGA "CRT Controller Registers")', () => {
  it('starts as mode 3: 80 columns, 25 rows of 16 lines, cursor lines 13-14, start 0', () => {
    expect(vga.columns).toBe(80);
    expect(vga.rows).toBe(25);
    expect(vga.cursor()).toEqual({ row: 0, column: 0, visible: true, start: 13, end: 14 });
    expect(p.inb(0x3cc)).toBe(0x67); // misc output: colour I/O addresses at 3Dxh
  });
  it('cursor location 0Eh/0Fh gives row and column; Cursor Start bit 5 hides it', () => {
    crtc(0x0e, 0x03); crtc(0x0f, 0xc7); // 0x3C7 = 12 * 80 + 7
    expect(vga.cursor()).toMatchObject({ row: 12, column: 7, visible: true });
    crtc(0x0a, 0x20);
    expect(vga.cursor().visible).toBe(false);
  });
  it('registers 00h-07h are write-protected by bit 7 of 11h, but for line compare in 07h', () => {
    expect(crtc(0x01, 0x33)).toBe(0x4f);
    expect(crtc(0x07, 0x00)).toBe(0x0f);
    crtc(0x11, 0x0e);
    expect(crtc(0x01, 0x27)).toBe(0x27); // 40 columns now
    expect(vga.columns).toBe(40);
  });
  it('input status #1 (3DAh) shows the other retrace phase on each read: polls end', () => {
    const a = p.inb(0x3da), b = p.inb(0x3da);
    expect((a ^ b) & 0x09).toBe(0x09);
  });
});

describe('the screen as text', () => {
  it('reads the page at the start address, code page 437, trailing blanks dropped', () => {
    const put = (cell: number, s: string) => [...s].forEach((c, i) => {
      mem[TEXT_BASE - 0xa0000 + 2 * (cell + i)] = c.charCodeAt(0);
    });
    put(0, 'top'); put(80 * 24, 'bottom \x01\xdb'); put(80 * 25, 'next page');
    const lines = vga.screenText().split('\n');
    expect(lines.length).toBe(26); // 25 rows and the final newline
    expect(lines[0]).toBe('top');
    expect(lines[24]).toBe('bottom ☺█');
    crtc(0x0c, 0x00); crtc(0x0d, 80); // start one row down
    expect(vga.screenText().split('\n')[24]).toBe('next page');
    expect(textOfScreen(Uint8Array.from([0x41, 7, 0, 7, 0x42, 7]), 3)).toBe('A B\n');
  });
});

/** Write-then-read sequences whose results do not depend on what ran before. */
const ops: Op[] = [
  inb(0x3cc),
  outb(0x3d4, 0x0e), outb(0x3d5, 0x12), inb(0x3d5),
  outb(0x3d4, 0x0f), outb(0x3d5, 0x34), inb(0x3d5), inb(0x3d4),
  outb(0x3d4, 0x11), inb(0x3d5),
  outb(0x3d4, 0x01), outb(0x3d5, 0x33), inb(0x3d5),
  outb(0x3d4, 0x07), outb(0x3d5, 0x00), inb(0x3d5), outb(0x3d5, 0x1f),
  outb(0x3d4, 0x11), outb(0x3d5, 0x0e),
  outb(0x3d4, 0x01), outb(0x3d5, 0x33), inb(0x3d5), outb(0x3d5, 0x4f),
  outb(0x3d4, 0x11), outb(0x3d5, 0x8e),
  outb(0x3c4, 0x04), inb(0x3c5), inb(0x3c4), outb(0x3ce, 0x06), inb(0x3cf), inb(0x3ce),
];

describe.skipIf(!hasQemu)('against QEMU\'s VGA in mode 3', () => {
  it('reads back the same registers', () => {
    const local = runLocal(ops, (port) => p.inb(port), (port, _s, v) => p.outb(port, v));
    // The probe runs QEMU with -nodefaults, which has no VGA: QEMU's standard one is added.
    expect(runQemu(ops, ['-vga', 'std']).bytes).toEqual(local);
  });
});
