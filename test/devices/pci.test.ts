/**
 * PCI configuration mechanism #1 and the i440FX/PIIX3 functions against the PCI Local Bus
 * Specification 3.0 (3.2.2.3.2 configuration mechanism, 6.1 header, 6.2.2 command,
 * 6.2.3 status, 6.2.5.1 BAR sizing, Appendix D class codes) and QEMU's `pc` machine.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { Bus } from '../../bindings/devices/bus.js';
import { RecordingIrqLine } from '../../bindings/devices/irq.js';
import { PciHost } from '../../bindings/devices/pci/pci-host.js';
import { PciFunction } from '../../bindings/devices/pci/pci-function.js';
import { i440fxHostBridge, piix3IsaBridge } from '../../bindings/devices/pci/i440fx.js';
import { PiixIde } from '../../bindings/devices/ide/piix-ide.js';
import { PicPair } from '../../bindings/devices/pic-pair.js';
import { attachChipset } from '../../bindings/devices/pc-chipset.js';
import { PiixIrqRouter } from '../../bindings/devices/pci/piix-irq.js';
import { Piix4Pm } from '../../bindings/devices/pci/piix4-pm.js';
import { io } from './helpers.js';
import { hasQemu, runQemu, runLocal, outl as qol, inl as qil, inw as qiw, inb as qib } from './qemu-probe.js';

const addr = (dev: number, fn: number, reg: number, bus = 0) => (0x80000000 | bus << 16 | dev << 11 | fn << 8 | reg) >>> 0;
let bus: Bus, host: PciHost, ide: PiixIde, p: ReturnType<typeof io>, resets: number;
beforeEach(() => {
  bus = new Bus(); resets = 0;
  host = new PciHost(() => resets++);
  ide = new PiixIde(new RecordingIrqLine(), new RecordingIrqLine());
  host.add(0, 0, i440fxHostBridge()); host.add(1, 0, piix3IsaBridge()); host.add(1, 1, ide.pci);
  host.add(1, 3, new Piix4Pm());
  host.attach(bus); ide.attach(bus); p = io(bus);
});
const cfg = (dev: number, fn: number, reg: number) => { p.outl(0xcf8, addr(dev, fn, reg)); return p.inl(0xcfc); };
const setCfg = (dev: number, fn: number, reg: number, v: number) => { p.outl(0xcf8, addr(dev, fn, reg)); p.outl(0xcfc, v); };

describe('configuration mechanism #1 (3.2.2.3.2)', () => {
  it('CONFIG_ADDRESS is a dword register; reserved bits 30-24 and 1-0 read 0', () => {
    p.outl(0xcf8, 0xffffffff);
    expect(p.inl(0xcf8)).toBe(0x80fffffc);
    p.outl(0xcf8, addr(1, 1, 0x08));
    expect(p.inl(0xcf8)).toBe(addr(1, 1, 0x08));
  });

  it('CONFIG_DATA takes byte, word and dword accesses at any offset', () => {
    p.outl(0xcf8, addr(0, 0, 0));
    expect(p.inb(0xcfc)).toBe(0x86); expect(p.inb(0xcfd)).toBe(0x80);
    expect(p.inw(0xcfe)).toBe(0x1237);
    expect(p.inl(0xcfc)).toBe(0x12378086);
  });

  it('with the enable bit clear, other buses, or an empty slot: all ones (master abort)', () => {
    p.outl(0xcf8, 0x00000000); expect(p.inl(0xcfc)).toBe(0xffffffff);
    expect(cfg(0x1f, 0, 0)).toBe(0xffffffff);
    p.outl(0xcf8, addr(0, 0, 0, 1)); expect(p.inl(0xcfc)).toBe(0xffffffff);
    expect(cfg(1, 2, 0)).toBe(0xffffffff);
  });

  it('enumerates bus 0: host bridge 00.0, ISA bridge 01.0, IDE 01.1, PM 01.3', () => {
    const found: string[] = [];
    for (let d = 0; d < 32; d++) {
      for (let f = 0; f < 8; f++) {
        const id = cfg(d, f, 0);
        if (id === 0xffffffff) { if (f === 0) break; continue; }
        found.push(`${d}.${f} ${id.toString(16)} class ${(cfg(d, f, 8) >>> 8).toString(16).padStart(6, '0')}`);
        if (f === 0 && !(cfg(d, f, 0x0c) & 0x800000)) break; // single-function device
      }
    }
    expect(found).toEqual(['0.0 12378086 class 060000', '1.0 70008086 class 060100',
      '1.1 70108086 class 010180', '1.3 71138086 class 068000']);
  });

  it('the PIIX3 Reset Control Register at 0xCF9: RCPU 0-to-1 resets (82371SB RC)', () => {
    p.outb(0xcf9, 0x02); expect(resets).toBe(0);
    expect(p.inb(0xcf9)).toBe(0x02);
    p.outb(0xcf9, 0x06); expect(resets).toBe(1);
  });
});

describe('header registers (6.1, 6.2)', () => {
  it('read-only identity; writable command bits; RW1C status bits', () => {
    setCfg(0, 0, 0, 0);
    expect(cfg(0, 0, 0)).toBe(0x12378086);
    const f = new PciFunction('t', { vendor: 0x1af4, device: 0x1000, classCode: 0x020000, status: 0x8000 });
    f.writeConfig(0x04, 2, 0xffff);
    expect(f.readConfig(0x04, 2)).toBe(0x0547);
    f.writeConfig(0x06, 2, 0x0000);
    expect(f.readConfig(0x06, 2)).toBe(0x8000);
    f.writeConfig(0x06, 2, 0x8000);
    expect(f.readConfig(0x06, 2)).toBe(0x0000);
    f.writeConfig(0x3c, 1, 0x0b);
    expect(f.readConfig(0x3c, 1)).toBe(0x0b);
  });

  it('BAR sizing: all ones reads back the size mask and the type bits (6.2.5.1)', () => {
    const f = new PciFunction('t', { vendor: 0x1af4, device: 0x1000, classCode: 0x020000 });
    f.defineBar(0, { kind: 'mem32', size: 4096 });
    f.defineBar(1, { kind: 'mem32', size: 0x10000, prefetchable: true });
    f.defineBar(2, { kind: 'io', size: 32 });
    for (const b of [0, 1, 2, 3]) f.writeConfig(0x10 + 4 * b, 4, 0xffffffff);
    expect([0, 1, 2, 3].map((b) => f.readConfig(0x10 + 4 * b, 4))).toEqual([0xfffff000, 0xffff0008, 0xffffffe1, 0]);
    f.writeConfig(0x10, 4, 0xfebf1234);
    expect(f.barAddress(0)).toBe(0xfebf1000);
    expect(() => f.defineBar(4, { kind: 'io', size: 24 })).toThrow(/power of two/);
  });

  it('a BAR decodes on the bus only while its space is enabled in the command register', () => {
    setCfg(1, 1, 0x20, 0xc000);
    expect(cfg(1, 1, 0x20)).toBe(0xc001);
    p.outb(0xc002, 0x60);
    expect(p.inb(0xc002)).toBe(0xff); // I/O decode off
    setCfg(1, 1, 0x04, 0x0001);
    p.outb(0xc002, 0x60);
    expect(p.inb(0xc002)).toBe(0x60); // bus master status: DMA-capable bits
    setCfg(1, 1, 0x20, 0xd000);
    expect(p.inb(0xd002)).toBe(0x60);
    expect(p.inb(0xc002)).toBe(0xff);
  });

  it('a BAR programmed over another device stays unmapped and the VM goes on', () => {
    setCfg(1, 1, 0x20, 0x1f0); setCfg(1, 1, 0x04, 0x0001);
    expect(ide.pci.overlaps).toBe(1);
    expect(p.inb(0x1f7)).toBe(0x00); // still the IDE command block (empty channel)
  });

  it('snapshots keep writable registers and re-map BARs', () => {
    setCfg(1, 1, 0x20, 0xc040); setCfg(1, 1, 0x04, 0x0001); setCfg(1, 0, 0x60, 0x0b0a0b0a);
    const s = JSON.parse(JSON.stringify(host.state()));
    const b2 = new Bus(); const h2 = new PciHost(); const ide2 = new PiixIde(new RecordingIrqLine(), new RecordingIrqLine());
    h2.add(0, 0, i440fxHostBridge()); h2.add(1, 0, piix3IsaBridge()); h2.add(1, 1, ide2.pci); h2.attach(b2); ide2.attach(b2);
    h2.restore(s);
    expect(h2.readData(0, 4)).toBe(host.readData(0, 4));
    b2.write('pio', 0xc042, 1, 0x20);
    expect(b2.read('pio', 0xc042, 1)).toBe(0x20);
    expect(h2.functions.get(8)!.readConfig(0x60, 4)).toBe(0x0b0a0b0a);
  });
});

describe.skipIf(!hasQemu)('against QEMU (i440FX + PIIX3)', () => {
  it('the same identity, class, header type, status and BAR sizing', () => {
    const ops = [];
    for (const [d, f] of [[0, 0], [1, 0], [1, 1], [1, 3]]) {
      for (const r of [0x00, 0x08, 0x0c]) ops.push(qol(0xcf8, addr(d, f, r)), qil(0xcfc));
      ops.push(qol(0xcf8, addr(d, f, 0x04)), qiw(0xcfe)); // status
    }
    ops.push(qol(0xcf8, addr(1, 1, 0x20)), qol(0xcfc, 0xffffffff), qil(0xcfc));
    ops.push(qol(0xcf8, addr(1, 1, 0x10)), qol(0xcfc, 0xffffffff), qil(0xcfc));
    ops.push(qol(0xcf8, addr(1, 1, 0x3c)), qib(0xcfd));
    ops.push(qol(0xcf8, addr(0x1f, 0, 0)), qil(0xcfc), qol(0xcf8, addr(0, 0, 0, 1)), qil(0xcfc), qol(0xcf8, addr(1, 2, 0)), qil(0xcfc));
    ops.push(qol(0xcf8, addr(1, 0, 0)), qiw(0xcfe), qib(0xcfd));
    ops.push(qol(0xcf8, addr(1, 0, 0x4c)), qib(0xcfc), qib(0xcfe), qol(0xcf8, addr(1, 0, 0x68)), qib(0xcfd));
    const q = runQemu(ops).bytes;
    expect(runLocal(ops, (port, size) => bus.read('pio', port, size), (port, size, v) => bus.write('pio', port, size, v))).toEqual(q);
  });
});

describe('INTx and PIIX3 PIRQ routing (PCI 3.0 6.2.2-6.2.4; 82371SB 2.2.9 PIRQRC)', () => {
  function setup() {
    const b = new Bus(); const pic = new PicPair(); pic.attach(b);
    const chip = attachChipset(b, pic);
    const q = io(b);
    // Linux's PIC init, IRQ11 level-triggered in the ELCR.
    for (const [port, v] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x4d1, 0x08]]) q.outb(port, v);
    const dev = (slot: number) => { const f = new PciFunction(`nic${slot}`, { vendor: 0x8086, device: 0x100e, classCode: 0x020000, interruptPin: 1 }); chip.pci.add(slot, 0, f); return f; };
    const route = (link: number, irq: number) => { q.outl(0xcf8, addr(1, 0, 0x60)); q.outb(0xcfc + link, irq); };
    return { pic, q, dev, route };
  }

  it('INTA# of slot 3 reaches PIRQC; routed to IRQ11 it interrupts at vector 0x3B', () => {
    const { pic, q, dev, route } = setup();
    const f = dev(3);
    f.setIntx(true);
    expect(pic.intr).toBe(false); // PIRQC routing disabled (bit 7) after reset
    expect(f.readConfig(0x06, 2) & 0x08).toBe(0x08); // status: interrupt pending
    route(2, 0x0b);
    expect(pic.intr).toBe(true);
    expect(pic.ack()).toBe(0x3b);
    q.outb(0xa0, 0x20); q.outb(0x20, 0x20);
    expect(pic.intr).toBe(true); // level: still asserted
    f.setIntx(false);
    expect(pic.intr).toBe(false);
    expect(f.readConfig(0x06, 2) & 0x08).toBe(0);
  });

  it('command bit 10 (Interrupt Disable) releases the pin; the status bit stays', () => {
    const { pic, dev, route } = setup();
    const f = dev(3); route(2, 0x0b);
    f.writeConfig(0x04, 2, 0x0400);
    f.setIntx(true);
    expect(pic.intr).toBe(false);
    expect(f.readConfig(0x06, 2) & 0x08).toBe(0x08);
    f.writeConfig(0x04, 2, 0x0000);
    expect(pic.intr).toBe(true);
  });

  it('links are shared: the IRQ stays asserted while any device on it is', () => {
    const { pic, dev, route } = setup();
    const a = dev(3), b = dev(7); // slots 3 and 7 both reach PIRQC
    route(2, 0x0b);
    a.setIntx(true); b.setIntx(true); a.setIntx(false);
    expect(pic.intr).toBe(true);
    b.setIntx(false);
    expect(pic.intr).toBe(false);
  });

  it.skipIf(!hasQemu)('the slot-to-link swizzle matches QEMU + SeaBIOS (Interrupt Line = PIRQRC[link])', () => {
    const ops = [qol(0xcf8, addr(1, 0, 0x60)), qil(0xcfc)];
    for (const slot of [3, 4, 5, 6]) ops.push(qol(0xcf8, addr(slot, 0, 0x3c)), qiw(0xcfc));
    const extra = [3, 4, 5, 6].flatMap((s) => ['-device', `e1000,addr=${s}.0`]);
    const b = runQemu(ops, [...extra, '-nic', 'none']).bytes;
    const pirq = b.slice(0, 4);
    for (let k = 0; k < 4; k++) {
      const slot = 3 + k, line = b[4 + 2 * k], pin = b[5 + 2 * k];
      expect(pin).toBe(1);
      expect([slot, line]).toEqual([slot, pirq[PiixIrqRouter.link(slot, pin)]]);
    }
    expect(new Set(pirq).size).toBeGreaterThan(1); // the links really go to different IRQs
  });
});
