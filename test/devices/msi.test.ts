/**
 * MSI and MSI-X capability structures against their layouts (PCI Local Bus 3.0, 6.8.1 and
 * 6.8.2; PCI Express Base 3.0, 7.7) and the message format the local APIC decodes (Intel
 * SDM vol. 3A, 10.11.1 and 10.11.2); then QEMU's edu device (docs/specs/edu.txt) and a
 * fuzz of configuration and table writes.
 */
import { describe, it, expect } from 'vitest';
import { PciFunction, CMD_BUS_MASTER } from '../../bindings/devices/pci/pci-function.js';
import {
  MsiCapability, MsixCapability, apicMsiSink, CAP_ID_MSI, CAP_ID_MSIX,
} from '../../bindings/devices/pci/msi.js';
import { EduDevice } from '../../bindings/devices/pci/edu.js';
import { LocalApic } from '../../bindings/devices/apic/local-apic.js';
import { VirtualClock } from '../../bindings/devices/clock.js';

const fn = () => new PciFunction('t', { vendor: 0x1234, device: 0x5678, classCode: 0 });
const msgs: [number, number][] = [];
const sink = (a: number, d: number) => { msgs.push([a, d]); };

describe('MSI capability (PCI 3.0, 6.8.1)', () => {
  it('32-bit layout (figure 6-9): ID 05h, Message Control, Address, Data at +8', () => {
    const f = fn();
    new MsiCapability(f, 0x50, sink, { vectors: 4 });
    expect(f.config[0x34]).toBe(0x50); // capabilities pointer
    expect(f.get16(0x06) & 0x10).toBe(0x10); // status: capabilities list (6.2.3)
    expect(f.config[0x50]).toBe(CAP_ID_MSI);
    expect(f.get16(0x52)).toBe(2 << 1); // MMC 010b: 4 vectors, not 64-bit
    f.writeConfig(0x54, 4, 0xffffffff);
    expect(f.readConfig(0x54, 4)).toBe(0xfffffffc); // address bits 1:0 reserved
    f.writeConfig(0x58, 2, 0xffff);
    expect(f.readConfig(0x58, 2)).toBe(0xffff);
    f.writeConfig(0x52, 2, 0xffff); // only enable and MME are writable
    expect(f.get16(0x52)).toBe(0x0071 | (2 << 1));
  });
  it('64-bit with per-vector masking (figure 6-10): upper address, data +0Ch, mask, pending', () => {
    const f = fn();
    new MsiCapability(f, 0x60, sink, { vectors: 2, is64: true, perVectorMask: true });
    expect(f.get16(0x62)).toBe(0x0180 | (1 << 1));
    f.writeConfig(0x68, 4, 0x12345678);
    expect(f.readConfig(0x68, 4)).toBe(0x12345678);
    f.writeConfig(0x70, 4, 0xffffffff);
    expect(f.readConfig(0x70, 4)).toBe(0x3); // one mask bit per capable vector
    f.writeConfig(0x74, 4, 0xffffffff);
    expect(f.readConfig(0x74, 4)).toBe(0); // pending bits are read-only
  });
  it('messages: only when enabled and bus master; MME selects the vector bits of the data', () => {
    const f = fn();
    const m = new MsiCapability(f, 0x50, sink, { vectors: 4 });
    msgs.length = 0;
    f.writeConfig(0x54, 4, 0xfee00000); f.writeConfig(0x58, 2, 0x40);
    expect(m.notify(0)).toBe(false); // disabled
    f.writeConfig(0x52, 2, 0x11); // enable, MME 001b: 2 vectors
    expect(m.notify(1)).toBe(false); // bus master off (6.2.2)
    f.writeConfig(0x04, 2, CMD_BUS_MASTER);
    m.notify(1); m.notify(3); // 3 & (2 - 1) = 1
    expect(msgs).toEqual([[0xfee00000, 0x41], [0xfee00000, 0x41]]);
  });
  it('a masked vector sets its pending bit instead of sending', () => {
    const f = fn();
    const m = new MsiCapability(f, 0x50, sink, { vectors: 1, perVectorMask: true });
    f.writeConfig(0x04, 2, CMD_BUS_MASTER); f.writeConfig(0x52, 2, 1);
    f.writeConfig(0x5c, 4, 1);
    msgs.length = 0;
    expect(m.notify(0)).toBe(false);
    expect(f.readConfig(0x60, 4)).toBe(1);
    expect(msgs).toEqual([]);
  });
});

describe('MSI-X capability (PCIe 3.0, 7.7)', () => {
  const make = () => {
    const f = fn();
    const m = new MsixCapability(f, 0x70, sink,
      { vectors: 3, tableBar: 1, tableOffset: 0x2000, pbaBar: 1, pbaOffset: 0x3000 });
    return { f, m };
  };
  it('ID 11h, table size N-1 read-only, Table/PBA offset and BIR read-only', () => {
    const { f } = make();
    expect(f.config[0x70]).toBe(CAP_ID_MSIX);
    expect(f.get16(0x72)).toBe(2);
    expect(f.readConfig(0x74, 4)).toBe(0x2001);
    expect(f.readConfig(0x78, 4)).toBe(0x3001);
    f.writeConfig(0x74, 4, 0); f.writeConfig(0x72, 2, 0xffff);
    expect(f.readConfig(0x74, 4)).toBe(0x2001);
    expect(f.get16(0x72)).toBe(0xc002); // enable 15 and function mask 14 writable
  });
  it('entries start masked (7.7.3); a masked vector is pending, unmasking sends it', () => {
    const { f, m } = make();
    expect(m.table.read(12, 4)).toBe(1);
    f.writeConfig(0x04, 2, CMD_BUS_MASTER); f.writeConfig(0x72, 2, 0x8000);
    m.table.write(16, 4, 0xfee00000); m.table.write(24, 4, 0x51);
    msgs.length = 0;
    expect(m.notify(1)).toBe(false);
    expect(m.pba.read(0, 4)).toBe(2);
    m.table.write(28, 4, 0);
    expect(msgs).toEqual([[0xfee00000, 0x51]]);
    expect(m.pba.read(0, 4)).toBe(0);
  });
  it('the function mask holds every vector; clearing it sends the pending ones', () => {
    const { f, m } = make();
    f.writeConfig(0x04, 2, CMD_BUS_MASTER); f.writeConfig(0x72, 2, 0xc000);
    m.table.write(0, 4, 0xfee00000); m.table.write(8, 4, 0x52); m.table.write(12, 4, 0);
    msgs.length = 0;
    m.notify(0);
    expect(msgs).toEqual([]);
    f.writeConfig(0x72, 2, 0x8000); m.configChanged();
    expect(msgs).toEqual([[0xfee00000, 0x52]]);
  });
});

describe('MSI to the local APIC (SDM vol. 3A, 10.11)', () => {
  it('address FEEx_xxxxh with the destination in 19:12; data vector and delivery mode', () => {
    let nmi = 0;
    const apic = new LocalApic(new VirtualClock(), { nmi: () => { nmi++; }, pic: { intr: false, ack: () => 0 } });
    apic.writeRegister(0xf0, 0x1ff);
    const stats = { delivered: 0, notApic: 0 };
    const s = apicMsiSink(apic, stats);
    s(0xfee00000, 0x0055);
    expect(apic.ack()).toBe(0x55);
    s(0xfee05000, 0x0056); // destination 5: not this APIC (ID 0)
    expect(apic.intr).toBe(false);
    s(0xfee00000, 0x0400); // delivery mode NMI
    expect(nmi).toBe(1);
    s(0x00001000, 0x57); // an ordinary memory address: not an interrupt
    expect(stats).toEqual({ delivered: 2, notApic: 1 });
  });
});

describe("QEMU's edu device (docs/specs/edu.txt)", () => {
  it('identification, liveness, factorial, raise and acknowledge through MSI', () => {
    msgs.length = 0;
    const e = new EduDevice(sink);
    expect(e.pci.readConfig(0, 4)).toBe(0x11e81234);
    expect(e.pci.readConfig(8, 4)).toBe(0x00ff0010);
    expect(e.read(0, 4)).toBe(0x010000ed);
    e.write(4, 4, 0x12345678); expect(e.read(4, 4)).toBe(0xedcba987);
    e.write(8, 4, 10); expect(e.read(8, 4)).toBe(3628800);
    e.write(8, 4, 0xffffffff); expect(e.read(8, 4)).toBe(0); // n! mod 2^32, bounded work
    e.pci.writeConfig(0x44, 4, 0xfee00000); e.pci.writeConfig(0x4c, 2, 0x61);
    e.pci.writeConfig(0x04, 2, 0x6); e.pci.writeConfig(0x42, 2, 1);
    e.write(0x60, 4, 4);
    expect(msgs).toEqual([[0xfee00000, 0x61]]);
    expect(e.read(0x24, 4)).toBe(4);
    e.write(0x64, 4, 4);
    expect(e.read(0x24, 4)).toBe(0);
  });
});

describe('fuzz: configuration, table and register writes never throw', () => {
  it('20,000 random accesses to a function with MSI and MSI-X and to the edu device', () => {
    let s = 0x6801;
    const r = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
    const f = fn();
    const msi = new MsiCapability(f, 0x50, () => {}, { vectors: 8, is64: true, perVectorMask: true });
    const x = new MsixCapability(f, 0x70, () => {},
      { vectors: 16, tableBar: 0, tableOffset: 0, pbaBar: 0, pbaOffset: 0x800 });
    const e = new EduDevice(() => {});
    const sizes = [1, 2, 4] as const;
    for (let i = 0; i < 20_000; i++) {
      const v = r(), k = v & 7, size = sizes[(v >>> 3) % 3];
      const off = (v >>> 8) & 0xff;
      if (k === 0) f.writeConfig(off, size, r());
      else if (k === 1) x.table.write((v >>> 8) & 0x1ff, size, r());
      else if (k === 2) x.pba.read((v >>> 8) & 0xff, size);
      else if (k === 3) { msi.notify(v >>> 16); x.notify((v >>> 16) & 31); x.configChanged(); }
      else if (k === 4) e.pci.writeConfig(off, size, r());
      else if (k === 5) e.write((v >>> 8) & 0xfc, size, r() & 0xff);
      else e.read((v >>> 8) & 0xff, size);
    }
    expect(f.config[0x50]).toBe(CAP_ID_MSI);
    expect(f.config[0x70]).toBe(CAP_ID_MSIX);
  });
});
