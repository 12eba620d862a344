/**
 * An interrupt-driven IDE driver as a real-mode guest: IRQ14 through the slave PIC
 * (vector 0x76 with SeaBIOS's bases 0x08/0x70), READ SECTORS of two sectors with
 * `rep insw`, WRITE SECTORS with `rep outsw`, FLUSH CACHE; each step waits for its
 * interrupt with STI;HLT and reports the Status register (ATA-6 9.7, 9.8, 9.9 protocols).
 * Run on the machine (core string I/O -> bus -> PIIX IDE) and under QEMU: same reports,
 * same disk contents afterwards.
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../bindings/machine/machine.js';
import { Asm16 } from './asm16.js';
import { floppyImage, hasQemu, romFromBody, runQemuFloppy } from './qemu-probe.js';
import { MemoryDisk } from './helpers.js';

const DISK_SECTORS = 16 * 63 * 4;

function diskImage(): Uint8Array {
  const img = new Uint8Array(DISK_SECTORS * 512);
  for (let i = 0; i < 16 * 512; i++) img[i] = (i * 13 + (i >> 9)) & 0xff;
  return img;
}

function driver(cs: number, base: number): number[] {
  const a = new Asm16(base);
  let waits = 0;
  /** Waits for the IRQ14 handler to set the flag (STI;HLT cannot miss it), then reports Status. */
  const waitIrq = () => {
    const w = `w${waits}`, g = `g${waits++}`;
    a.label(w).b(0xfa).b(0x80, 0x3e).w(0x500).b(0x00).jmp8(0x75, g).b(0xfb, 0xf4).jmp8(0xeb, w); // cli; cmp byte [500h],0; jne g; sti; hlt; jmp w
    a.label(g).b(0xc6, 0x06).w(0x500).b(0x00); // mov byte [500h], 0
    a.inb(0x1f7).report();
  };
  a.b(0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc).w(0x7000); // cli; xor ax,ax; ds=es=ss=0; sp=7000h
  a.b(0xc7, 0x06).w(0x76 * 4).addr('handler').movMemImm16(0x76 * 4 + 2, cs).movMemImm16(0x500, 0);
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x08], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x70], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0xfb], [0xa1, 0xbf]]) a.outb(p, v);
  a.outb(0x3f6, 0x00); // nIEN = 0
  for (const [p, v] of [[0x1f6, 0xe0], [0x1f2, 2], [0x1f3, 3], [0x1f4, 0], [0x1f5, 0], [0x1f7, 0x20]]) a.outb(p, v);
  a.b(0xbf).w(0x8000); // mov di, 8000h
  for (let s = 0; s < 2; s++) { waitIrq(); a.b(0xb9).w(256).b(0xba).w(0x1f0).b(0xf3, 0x6d); } // rep insw
  a.inb(0x1f7).report();
  a.b(0xbe).w(0x8000).b(0xb9).w(1024).b(0x30, 0xdb).label('sum').b(0xac, 0x00, 0xc3).jmp8(0xe2, 'sum').b(0x88, 0xd8).report(); // byte sum
  for (const [p, v] of [[0x1f6, 0xe0], [0x1f2, 1], [0x1f3, 10], [0x1f4, 0], [0x1f5, 0], [0x1f7, 0x30]]) a.outb(p, v);
  a.b(0xba).w(0x3f6).label('drq').b(0xec, 0xa8, 0x08).jmp8(0x74, 'drq').report(); // wait for DRQ on alternate status
  a.b(0xbe).w(0x8200).b(0xb9).w(256).b(0xba).w(0x1f0).b(0xf3, 0x6f); // rep outsw (the second sector read)
  waitIrq();
  a.outb(0x1f7, 0xe7); // FLUSH CACHE
  waitIrq();
  a.b(0xa0).w(0x501).report(); // interrupts taken
  a.b(0xb0, 0x00, 0xe6, 0xf4, 0xf4); // isa-debug-exit; hlt
  a.label('handler').b(0x50, 0xc6, 0x06).w(0x500).b(0x01).b(0xfe, 0x06).w(0x501) // push ax; mov byte [500h],1; inc byte [501h]
    .b(0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf); // EOI slave, master; pop ax; iret
  return a.finish();
}

const sum = (b: Uint8Array) => b.reduce((x, y) => (x + y) & 0xff, 0);

describe('IDE driver guest (PIO with IRQ14)', () => {
  const img = diskImage();
  const expected = [0x58, 0x58, 0x50, sum(img.subarray(3 * 512, 5 * 512)), 0x58, 0x50, 0x50, 4];

  it('reads, writes and flushes with one interrupt per sector and at completion', async () => {
    const out: number[] = [];
    const disk = new MemoryDisk(img.length);
    disk.write(0, img.subarray(0, 16 * 512));
    const m = await Machine.create({ ramBytes: 16 << 20, firmware: romFromBody(driver(0xf000, 0)), debugcon: (x) => out.push(x), disks: [disk] });
    expect(m.run(20_000_000)).toEqual({ kind: 'exit', status: 1 });
    m.chipset.close();
    expect(out).toEqual(expected);
    expect(disk.sector(10)).toEqual(img.subarray(4 * 512, 5 * 512));
    expect(disk.flushes).toBeGreaterThanOrEqual(2); // FLUSH CACHE, then close
  });

  it.skipIf(!hasQemu)('QEMU reports the same and writes the same sector', () => {
    const r = runQemuFloppy(floppyImage(driver(0, 0x7e00)), ['-drive', 'file=@DIR@/disk.img,format=raw,if=ide,index=0'], { 'disk.img': img }, ['disk.img']);
    expect(r.status).toBe(1);
    expect(r.bytes).toEqual(expected);
    expect(r.files['disk.img'].subarray(10 * 512, 11 * 512)).toEqual(img.subarray(4 * 512, 5 * 512));
  });
});

/** The same driver with bus master DMA: PRD table at 9000h, buffer at A000h. */
function dmaDriver(cs: number, base: number): number[] {
  const a = new Asm16(base);
  let waits = 0;
  const waitIrq = () => {
    const w = `w${waits}`, g = `g${waits++}`;
    a.label(w).b(0xfa).b(0x80, 0x3e).w(0x500).b(0x00).jmp8(0x75, g).b(0xfb, 0xf4).jmp8(0xeb, w);
    a.label(g).b(0xc6, 0x06).w(0x500).b(0x00);
  };
  const prd = (addr: number, len: number) => a.movMemImm16(0x9000, addr).movMemImm16(0x9002, 0).movMemImm16(0x9004, len).movMemImm16(0x9006, 0x8000);
  a.b(0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc).w(0x7000);
  a.b(0xc7, 0x06).w(0x76 * 4).addr('handler').movMemImm16(0x76 * 4 + 2, cs).movMemImm16(0x500, 0);
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x08], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x70], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0xfb], [0xa1, 0xbf]]) a.outb(p, v);
  a.outb(0x3f6, 0x00);
  // BAR4 = C000h, I/O and bus master enabled (PCI 00:01.1).
  a.outl(0xcf8, 0x80000920).outl(0xcfc, 0xc000).outl(0xcf8, 0x80000904).outl(0xcfc, 0x0005);
  prd(0xa000, 1024);
  a.outl(0xc004, 0x9000).outb(0xc002, 0x06);
  for (const [p, v] of [[0x1f6, 0xe0], [0x1f2, 2], [0x1f3, 3], [0x1f4, 0], [0x1f5, 0], [0x1f7, 0xc8]]) a.outb(p, v); // READ DMA
  a.outb(0xc000, 0x09);
  waitIrq();
  a.inb(0xc002).b(0x24, 0x07).report().outb(0xc000, 0x00).inb(0x1f7).report();
  a.b(0xbe).w(0xa000).b(0xb9).w(1024).b(0x30, 0xdb).label('sum').b(0xac, 0x00, 0xc3).jmp8(0xe2, 'sum').b(0x88, 0xd8).report();
  prd(0xa200, 512);
  a.outb(0xc002, 0x06);
  for (const [p, v] of [[0x1f6, 0xe0], [0x1f2, 1], [0x1f3, 10], [0x1f4, 0], [0x1f5, 0], [0x1f7, 0xca]]) a.outb(p, v); // WRITE DMA
  a.outb(0xc000, 0x01);
  waitIrq();
  a.inb(0xc002).b(0x24, 0x07).report().outb(0xc000, 0x00).inb(0x1f7).report();
  a.outb(0x1f7, 0xe7);
  waitIrq();
  a.inb(0x1f7).report();
  a.b(0xa0).w(0x501).report();
  a.b(0xb0, 0x00, 0xe6, 0xf4, 0xf4);
  a.label('handler').b(0x50, 0xc6, 0x06).w(0x500).b(0x01).b(0xfe, 0x06).w(0x501).b(0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf);
  return a.finish();
}

describe('IDE DMA driver guest (bus master, PRD table, IRQ14)', () => {
  const img = diskImage();
  const expected = [0x04, 0x50, sum(img.subarray(3 * 512, 5 * 512)), 0x04, 0x50, 0x50, 3];

  it('reads and writes through the PRD table with one interrupt per command', async () => {
    const out: number[] = [];
    const disk = new MemoryDisk(img.length);
    disk.write(0, img.subarray(0, 16 * 512));
    const m = await Machine.create({ ramBytes: 16 << 20, firmware: romFromBody(dmaDriver(0xf000, 0)), debugcon: (x) => out.push(x), disks: [disk] });
    m.chipset.ide.setDmaMemory({ read: (addr, dst) => dst.set(m.core.readPhys(addr, dst.length)), write: (addr, src) => m.core.writePhys(addr, src) });
    expect(m.run(20_000_000)).toEqual({ kind: 'exit', status: 1 });
    expect(out).toEqual(expected);
    expect(disk.sector(10)).toEqual(img.subarray(4 * 512, 5 * 512));
  });

  it.skipIf(!hasQemu)('QEMU reports the same and writes the same sector', () => {
    const r = runQemuFloppy(floppyImage(dmaDriver(0, 0x7e00)), ['-drive', 'file=@DIR@/disk.img,format=raw,if=ide,index=0'], { 'disk.img': img }, ['disk.img']);
    expect(r.status).toBe(1);
    expect(r.bytes).toEqual(expected);
    expect(r.files['disk.img'].subarray(10 * 512, 11 * 512)).toEqual(img.subarray(4 * 512, 5 * 512));
  });
});
