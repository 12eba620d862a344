/**
 * The PIIX4 power-management function (00:01.3) against the Intel 82371AB datasheet (3.4:
 * PMBA at 40h, bits 15:6 the base and bit 0 hardwired 1; PMREGMISC at 80h, bit 0 PMIOSE),
 * the ACPI specification (4.8.3.2.1 PM1 Control: SLP_TYP 12:10, SLP_EN 13 write-only;
 * 4.8.3.3 PM timer: 24 bits at 3.579545 MHz) and QEMU's pc machine (hw/acpi/core.c:
 * SLP_EN with SLP_TYP 0 or 2 powers off; SeaBIOS programs PMBA 600h).
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { Bus } from '../../bindings/devices/bus.js';
import { PicPair } from '../../bindings/devices/pic-pair.js';
import { attachChipset } from '../../bindings/devices/pc-chipset.js';
import { Piix4Pm } from '../../bindings/devices/pci/piix4-pm.js';
import { io } from './helpers.js';
import {
  hasQemu, runQemu, runLocal, outl as qol, outb as qob, outw as qow, inl as qil, inw as qiw, inb as qib,
} from './qemu-probe.js';

const cfgAddr = (reg: number) => (0x80000000 | 1 << 11 | 3 << 8 | reg) >>> 0; // 00:01.3

let bus: Bus, p: ReturnType<typeof io>, offs: number, now: number, pm: Piix4Pm;
beforeEach(() => {
  bus = new Bus(); offs = 0; now = 0;
  const chip = attachChipset(bus, new PicPair(), { onPowerOff: () => offs++, now: () => now });
  pm = chip.pm;
  p = io(bus);
});
const cfg = (reg: number) => { p.outl(0xcf8, cfgAddr(reg)); return p.inl(0xcfc); };
const setCfg = (reg: number, v: number, size: 1 | 4 = 4) => {
  p.outl(0xcf8, cfgAddr(reg));
  if (size === 4) p.outl(0xcfc, v); else p.outb(0xcfc + (reg & 3), v);
};
const enable = (base = 0x600) => { setCfg(0x40, base | 1); setCfg(0x80, 1, 1); };

describe('PIIX4 power management (82371AB 3.4, ACPI 4.8.3)', () => {
  it('is 8086:7113, class 06 80 00, at 00:01.3, with INTA#', () => {
    expect(cfg(0x00)).toBe(0x71138086);
    expect(cfg(0x08) >>> 8).toBe(0x068000);
    expect((cfg(0x3c) >> 8) & 0xff).toBe(1);
  });

  it('PMBA: bits 15:6 are the base, bit 0 reads 1; PMREGMISC bit 0 only', () => {
    expect(cfg(0x40)).toBe(0x00000001);
    setCfg(0x40, 0xffffffff);
    expect(cfg(0x40)).toBe(0x0000ffc1);
    setCfg(0x80, 0xff, 1);
    expect(cfg(0x80) & 0xff).toBe(0x01);
  });

  it('PM1a_CNT decodes at PMBA + 4 only while PMIOSE is set', () => {
    setCfg(0x40, 0x601);
    p.outw(0x604, 0x2000);
    expect(offs).toBe(0);
    expect(p.inw(0x604)).toBe(0xffff); // nothing decodes there: the bus floats
    setCfg(0x80, 1, 1);
    p.outw(0x604, 0x0001); // SCI_EN, no sleep
    expect(p.inw(0x604)).toBe(0x0001);
    setCfg(0x40, 0xb001); // moved: the old address floats, the new one answers
    expect(p.inw(0x604)).toBe(0xffff);
    expect(p.inw(0xb004)).toBe(0x0001);
  });

  it('SLP_EN with SLP_TYP 0 (S5) or 2 (S4) powers off, not 1 (S3); SLP_EN reads 0', () => {
    enable();
    p.outw(0x604, 1 << 10 | 0x2000);
    expect(offs).toBe(0);
    expect(p.inw(0x604)).toBe(1 << 10);
    p.outw(0x604, 0x2000);
    expect(offs).toBe(1);
    p.outw(0x604, 2 << 10 | 0x2000);
    expect(offs).toBe(2);
    p.outb(0x605, 0x20); // a byte access does not write the 16-bit register (QEMU too)
    expect(offs).toBe(2);
  });

  it('PM_TMR at PMBA + 8 counts 3,579,545 Hz of virtual time in 24 bits', () => {
    enable();
    expect(p.inl(0x608)).toBe(0);
    now = 1e9;
    expect(p.inl(0x608)).toBe(3_579_545);
    now = 5e9 + 1000; // 5 s and 1 us: 17,897,728 ticks, modulo 2^24
    expect(p.inl(0x608)).toBe((5 * 3_579_545 + 3) % 2 ** 24);
  });

  it('keeps its registers across a snapshot and decodes where they say', () => {
    enable(0x700);
    p.outw(0x704, 0x0001);
    const s = JSON.parse(JSON.stringify(pm.state()));
    const b2 = new Bus();
    let off2 = 0;
    const chip2 = attachChipset(b2, new PicPair(), { onPowerOff: () => off2++ });
    chip2.pm.restore(s, 'pm');
    expect(b2.read('pio', 0x704, 2)).toBe(0x0001);
    b2.write('pio', 0x704, 2, 0x2000);
    expect(off2).toBe(1);
  });
});

describe('PM1a event registers (ACPI 4.8.3.1)', () => {
  it('PM1a_EN at PMBA + 2 keeps what is written; PM1a_STS reads 0 (no event raised)', () => {
    enable(0x700);
    p.outw(0x702, 0x0121);
    expect(p.inw(0x702)).toBe(0x0121);
    p.outw(0x700, 0xffff); // write 1 to clear
    expect(p.inw(0x700)).toBe(0);
    expect(p.inl(0x700)).toBe(0x01210000);
  });
});

describe.skipIf(!hasQemu)('against QEMU (its pc machine after SeaBIOS)', () => {
  it('PM1a_EN reads back as written', () => {
    const ops = [qol(0xcf8, cfgAddr(0x40)), qol(0xcfc, 0x0701), qol(0xcf8, cfgAddr(0x80)),
      qob(0xcfc, 0x01), qow(0x702, 0x0121), qiw(0x702)];
    const q = runQemu(ops).bytes;
    const local = runLocal(ops, (port, size) => bus.read('pio', port, size),
      (port, size, v) => bus.write('pio', port, size, v));
    expect(local).toEqual(q);
  });

  it('the same identity, header and PM registers as programmed', () => {
    const ops = [];
    for (const r of [0x00, 0x08, 0x0c]) ops.push(qol(0xcf8, cfgAddr(r)), qil(0xcfc));
    ops.push(qol(0xcf8, cfgAddr(0x3c)), qib(0xcfd)); // Interrupt Pin
    ops.push(qol(0xcf8, cfgAddr(0x04)), qiw(0xcfe)); // status (SeaBIOS set the command)
    ops.push(qol(0xcf8, cfgAddr(0x40)), qol(0xcfc, 0x0701), qil(0xcfc));
    ops.push(qol(0xcf8, cfgAddr(0x80)), qob(0xcfc, 0x01), qib(0xcfc));
    const q = runQemu(ops).bytes;
    expect(q.length).toBe(3 * 4 + 1 + 2 + 4 + 1);
    const local = runLocal(ops, (port, size) => bus.read('pio', port, size),
      (port, size, v) => bus.write('pio', port, size, v));
    expect(local).toEqual(q);
  });
});
