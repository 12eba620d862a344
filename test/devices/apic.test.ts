/**
 * The local APIC against the Intel SDM vol. 3A, chapter 10, and the I/O APIC against the
 * 82093AA datasheet, register by register: each expected value is the manual's, its
 * section named in the test. Then the MP and ACPI tables' layouts and checksums (MP 1.4,
 * ACPI 6.x), and a fuzz of random register sequences on both devices.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { Bus } from '../../bindings/devices/bus.js';
import { VirtualClock } from '../../bindings/devices/clock.js';
import { PicPair } from '../../bindings/devices/pic-pair.js';
import { LocalApic } from '../../bindings/devices/apic/local-apic.js';
import { IoApic } from '../../bindings/devices/apic/io-apic.js';
import {
  acpiTable, madt, mpConfigTable, mpFloatingPointer, writePlatformTables, TABLES_PHYS,
} from '../../bindings/devices/apic/tables.js';
import { DeviceStateError } from '../../bindings/devices/state.js';

const BASE = 0xfee00000, IO = 0xfec00000;
let clock: VirtualClock, bus: Bus, pic: PicPair, apic: LocalApic, ioapic: IoApic;
let nmis = 0;
const eois: number[] = [];
const rd = (off: number) => bus.read('mmio', BASE + off, 4);
const wr = (off: number, v: number) => bus.write('mmio', BASE + off, 4, v);
const iord = (index: number) => { bus.write('mmio', IO, 4, index); return bus.read('mmio', IO + 0x10, 4); };
const iowr = (index: number, v: number) => {
  bus.write('mmio', IO, 4, index); bus.write('mmio', IO + 0x10, 4, v);
};

beforeEach(() => {
  clock = new VirtualClock();
  bus = new Bus();
  pic = new PicPair();
  nmis = 0;
  eois.length = 0;
  apic = new LocalApic(clock, {
    nmi: () => { nmis++; }, pic, eoiBroadcast: (v) => { eois.push(v); ioapic.eoi(v); },
  });
  ioapic = new IoApic(apic);
  apic.attach(bus);
  ioapic.attach(bus);
});

const enable = () => wr(0xf0, 0x1ff);

describe('local APIC reset state (SDM vol. 3A, 10.4.7.1)', () => {
  it('IRR, ISR, TMR, ICR, LDR, TPR, timer counts and divide are 0; DFR all ones', () => {
    for (const off of [0x80, 0xd0, 0x300, 0x310, 0x380, 0x390, 0x3e0]) expect(rd(off)).toBe(0);
    for (let i = 0; i < 8; i++) {
      expect([rd(0x100 + i * 16), rd(0x180 + i * 16), rd(0x200 + i * 16)]).toEqual([0, 0, 0]);
    }
    expect(rd(0xe0)).toBe(0xffffffff);
  });
  it('SVR is 0xFF (software disabled); every LVT entry masked (0x00010000)', () => {
    expect(rd(0xf0)).toBe(0xff);
    for (const off of [0x320, 0x330, 0x340, 0x350, 0x360, 0x370]) expect(rd(off)).toBe(0x10000);
  });
  it('version (10.4.8): 0x14 with Max LVT Entry 5 (six entries)', () => {
    expect(rd(0x30)).toBe(0x00050014);
  });
});

describe('local APIC registers', () => {
  it('ID keeps bits 31:24 (10.4.6); LDR bits 31:24 (10.6.2.2); DFR model bits 31:28', () => {
    wr(0x20, 0x12345678); expect(rd(0x20)).toBe(0x12000000);
    wr(0xd0, 0xabcdef01); expect(rd(0xd0)).toBe(0xab000000);
    wr(0xe0, 0); expect(rd(0xe0)).toBe(0x0fffffff);
  });
  it('software disabled: LVT writes keep the mask set (10.4.7.2); enabled they clear it', () => {
    wr(0x370, 0x33); expect(rd(0x370)).toBe(0x10033);
    enable(); wr(0x370, 0x33); expect(rd(0x370)).toBe(0x33);
    wr(0xf0, 0xff); expect(rd(0x370)).toBe(0x10033); // disabling sets every mask
  });
  it('LVT write masks (10.5.1, figure 10-8): timer, LINT, error; delivery status read-only', () => {
    enable();
    wr(0x320, 0xffffffff); expect(rd(0x320)).toBe(0x000300ff);
    wr(0x350, 0xffffffff); expect(rd(0x350)).toBe(0x0001a7ff);
    wr(0x360, 0xffffffff); expect(rd(0x360)).toBe(0x0001a7ff);
    wr(0x370, 0xffffffff); expect(rd(0x370)).toBe(0x000100ff);
    wr(0x330, 0xffffffff); expect(rd(0x330)).toBe(0x000107ff);
  });
  it('SVR keeps vector and enable (10.9, figure 10-23)', () => {
    wr(0xf0, 0xffffffff); expect(rd(0xf0)).toBe(0x1ff);
  });
  it('non-dword accesses are not registers: writes dropped, counted', () => {
    enable();
    bus.write('mmio', BASE + 0x80, 1, 0x55);
    expect(rd(0x80)).toBe(0);
    expect(apic.stats.badAccesses).toBe(1);
  });
});

describe('priority, TPR and PPR (10.8.3)', () => {
  beforeEach(enable);
  it('PPR is TPR when its class is at least the in-service class, else the ISR class', () => {
    wr(0x80, 0x35); expect(rd(0xa0)).toBe(0x35);
    wr(0x80, 0); wr(0x300, 0x40061); // self-IPI 0x61
    expect(apic.ack()).toBe(0x61);
    expect(rd(0xa0)).toBe(0x60);
    wr(0x80, 0x7f); expect(rd(0xa0)).toBe(0x7f);
  });
  it('an interrupt is taken only when its class is above PPR[7:4] (10.8.3.1)', () => {
    wr(0x80, 0x40); wr(0x300, 0x40045);
    expect(apic.intr).toBe(false);
    wr(0x80, 0x3f); expect(apic.intr).toBe(true);
  });
  it('the highest vector first; IRR to ISR at INTA (10.8.4); EOI clears the highest ISR bit', () => {
    wr(0x300, 0x40045); wr(0x300, 0x40075);
    expect(rd(0x220)).toBe(1 << 5); expect(rd(0x230)).toBe(1 << 21);
    expect(apic.ack()).toBe(0x75);
    expect(rd(0x230)).toBe(0); expect(rd(0x130)).toBe(1 << 21);
    expect(apic.intr).toBe(false); // 0x45 is below the in-service class 7
    wr(0xb0, 0);
    expect(rd(0x130)).toBe(0);
    expect(apic.ack()).toBe(0x45);
  });
  it('a second request of a pending vector merges into the one IRR bit (10.8.4)', () => {
    wr(0x300, 0x40050); wr(0x300, 0x40050);
    expect(apic.ack()).toBe(0x50);
    expect(apic.intr).toBe(false);
  });
});

describe('ICR (10.6.1) and the error status register (10.5.3)', () => {
  beforeEach(enable);
  it('NMI delivery mode to the own physical ID raises the NMI input', () => {
    wr(0x310, 0); wr(0x300, 0x4400);
    expect(nmis).toBe(1);
    expect(apic.takeNmiWake()).toBe(true);
  });
  it('all-excluding-self reaches nobody on one CPU; another physical ID neither', () => {
    wr(0x300, 0xc0050); wr(0x310, 0x05000000); wr(0x300, 0x4050);
    expect(apic.intr).toBe(false);
  });
  it('logical flat destination matches the LDR bits', () => {
    wr(0xd0, 0x01000000); wr(0x310, 0x01000000); wr(0x300, 0x0850);
    expect(apic.ack()).toBe(0x50);
  });
  it('INIT and start-up to itself are ignored (one CPU), counted', () => {
    wr(0x300, 0x44500); wr(0x300, 0x44600);
    expect(apic.intr).toBe(false);
    expect(apic.stats.ignoredMessages).toBe(2);
  });
  it('a fixed IPI with vector < 16 sets "send illegal vector" (bit 5) after an ESR write', () => {
    wr(0x300, 0x40005);
    expect(rd(0x280)).toBe(0);
    wr(0x280, 0);
    expect(rd(0x280)).toBe(0x20);
    wr(0x280, 0);
    expect(rd(0x280)).toBe(0);
  });
  it('an error raises the error LVT\'s vector when unmasked (10.5.3)', () => {
    wr(0x370, 0x3e);
    wr(0x300, 0x40007); // fixed, vector 7: send illegal vector
    expect(apic.ack()).toBe(0x3e);
    wr(0x280, 0);
    expect(rd(0x280)).toBe(0x20);
  });
  it('delivery status reads idle (bit 12 clear): a message is accepted at once', () => {
    wr(0x300, 0x41050);
    expect(rd(0x300) & 0x1000).toBe(0);
  });
});

describe('the timer (10.5.4) on the virtual clock', () => {
  beforeEach(enable);
  it('one-shot: counts down at bus/divisor and fires once, current count stays 0', () => {
    wr(0x3e0, 0xb); // divide by 1
    wr(0x320, 0x40);
    wr(0x380, 1000);
    clock.advanceTo(400);
    expect(rd(0x390)).toBe(600);
    clock.advanceTo(1000);
    expect(apic.ack()).toBe(0x40);
    clock.advanceTo(5000);
    expect(rd(0x390)).toBe(0);
    expect(apic.stats.timerTicks).toBe(1);
  });
  it('divide configuration (figure 10-10): 0000b divides by 2, 1010b by 128', () => {
    wr(0x3e0, 0x0); wr(0x380, 100);
    clock.advanceTo(100); expect(rd(0x390)).toBe(50);
    wr(0x3e0, 0xa); wr(0x380, 100);
    clock.advanceTo(100 + 128 * 10); expect(rd(0x390)).toBe(90);
  });
  it('periodic: reloads and fires every initial count; an initial count of 0 stops it', () => {
    wr(0x3e0, 0xb); wr(0x320, 0x20041); wr(0x380, 100);
    clock.advanceTo(350);
    expect(apic.stats.timerTicks).toBe(3);
    expect(rd(0x390)).toBe(50);
    wr(0x380, 0);
    clock.advanceTo(10000);
    expect(apic.stats.timerTicks).toBe(3);
  });
  it('a masked timer counts and ticks but requests nothing', () => {
    wr(0x3e0, 0xb); wr(0x320, 0x10040); wr(0x380, 10);
    clock.advanceTo(20);
    expect(apic.stats.timerTicks).toBe(1);
    expect(apic.intr).toBe(false);
  });
});

describe('LINT0 and LINT1', () => {
  it('the 8259 pair passes while software-disabled (PIC mode) and through LINT0 ExtINT', () => {
    // 8259: ICW1-4, vector base 0x20, IRQ0 unmasked
    pic.attach(bus);
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 4], [0x21, 1], [0x21, 0xfe]]) {
      bus.write('pio', p, 1, v);
    }
    pic.line(0).set(true);
    expect(apic.intr).toBe(true);
    enable(); // LINT0 still masked: the virtual wire is closed
    expect(apic.intr).toBe(false);
    wr(0x350, 0x700);
    expect(apic.intr).toBe(true);
    expect(apic.ack()).toBe(0x20);
    expect(apic.stats.extint).toBe(1);
  });
  it('LINT1 in NMI mode raises the NMI input; masked it does not', () => {
    enable();
    wr(0x360, 0x10400); apic.lint(1, true); expect(nmis).toBe(0);
    wr(0x360, 0x400); apic.lint(1, true); expect(nmis).toBe(1);
  });
});

describe('IA32_APIC_BASE global disable (10.4.3)', () => {
  it('the page floats, the 8259 and LINT1 reach the CPU directly', () => {
    let base = 0xfee00900;
    const a = new LocalApic(clock, { nmi: () => { nmis++; }, pic, apicBase: () => base });
    const b = new Bus();
    a.attach(b);
    b.write('mmio', BASE + 0xf0, 4, 0x1ff);
    base = 0xfee00100;
    expect(b.read('mmio', BASE + 0xf0, 4)).toBe(0xffffffff);
    b.write('mmio', BASE + 0x80, 4, 0x20); // dropped
    a.lint(1, true);
    expect(nmis).toBe(1);
    pic.attach(b);
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 4], [0x21, 1], [0x21, 0xfe]]) {
      b.write('pio', p, 1, v);
    }
    pic.line(0).set(true);
    expect(a.intr).toBe(true);
    expect(a.ack()).toBe(0x20);
    base = 0xfee00900;
    expect(a.tpr).toBe(0);
  });
});

describe('I/O APIC (82093AA datasheet)', () => {
  beforeEach(() => { enable(); });
  it('IOAPICVER 0x00170011 (3.2.2), ID bits 27:24 (3.2.1), entries masked after reset', () => {
    expect(iord(1)).toBe(0x00170011);
    iowr(0, 0xffffffff); expect(iord(0)).toBe(0x0f000000);
    expect(iord(2)).toBe(0x0f000000); // IOAPICARB loaded with the ID (3.2.3)
    for (let n = 0; n < 24; n++) expect([iord(0x10 + 2 * n), iord(0x11 + 2 * n)]).toEqual([0x10000, 0]);
  });
  it('redirection entry writable bits (3.2.4): low 0x0001afff, high 63:56', () => {
    iowr(0x10, 0xffffffff); expect(iord(0x10)).toBe(0x0001afff);
    iowr(0x11, 0xffffffff); expect(iord(0x11)).toBe(0xff000000);
  });
  it('edge: a rising edge sends the vector; a masked pin loses it', () => {
    iowr(0x14, 0x30);
    ioapic.setPin(2, true); ioapic.setPin(2, false);
    expect(apic.ack()).toBe(0x30);
    wr(0xb0, 0);
    iowr(0x14, 0x10030);
    ioapic.setPin(2, true); ioapic.setPin(2, false);
    expect(apic.intr).toBe(false);
    expect(ioapic.stats.maskedEdges).toBe(1);
  });
  it('level: remote IRR set on delivery, cleared by the EOI broadcast, resent while high', () => {
    iowr(0x10 + 2 * 10, 0x8051); // level, vector 0x51
    ioapic.setPin(10, true);
    expect(iord(0x10 + 2 * 10) & 0x4000).toBe(0x4000);
    expect(apic.ack()).toBe(0x51);
    expect(rd(0x1a0) & (1 << 0x11)).not.toBe(0); // TMR: level (10.8.4)
    wr(0xb0, 0); // EOI: broadcast to the I/O APIC (10.8.5), the line is still high
    expect(eois).toEqual([0x51]);
    expect(apic.ack()).toBe(0x51);
    ioapic.setPin(10, false);
    wr(0xb0, 0);
    expect(iord(0x10 + 2 * 10) & 0x4000).toBe(0);
    expect(apic.intr).toBe(false);
  });
  it('NMI delivery mode raises the NMI input; another physical destination gets nothing', () => {
    iowr(0x12, 0x400); ioapic.setPin(1, true);
    expect(nmis).toBe(1);
    iowr(0x16, 0x33); iowr(0x17, 0x05000000); ioapic.setPin(3, true);
    expect(apic.intr).toBe(false);
  });
});

describe('state round trip and bad snapshots', () => {
  it('local APIC and I/O APIC state survive a round trip; bad fields are refused', () => {
    enable(); wr(0x80, 0x20); wr(0x300, 0x40050); wr(0x3e0, 0xb); wr(0x380, 1000);
    clock.advanceTo(100);
    const s = apic.state();
    const b = LocalApic.fromState(JSON.parse(JSON.stringify(s)), clock, { nmi() {}, pic });
    expect(b.state()).toEqual(s);
    expect(b.currentCount()).toBe(900);
    expect(() => LocalApic.fromState({ ...s, irr: [1] }, clock, { nmi() {}, pic }))
      .toThrow(DeviceStateError);
    const io = ioapic.state();
    expect(IoApic.fromState(JSON.parse(JSON.stringify(io)), apic).state()).toEqual(io);
    expect(() => IoApic.fromState({ ...io, lo: 'x' }, apic)).toThrow(DeviceStateError);
  });
});

const sum = (b: Uint8Array) => b.reduce((a, x) => (a + x) & 0xff, 0);

describe('MP and ACPI tables', () => {
  const cpu = { signature: 0x680, features: 0xab3d };
  it('MP floating pointer (MP 1.4, 4.1): "_MP_", 16 bytes, revision 4, checksum 0', () => {
    const f = mpFloatingPointer(0xfa010);
    expect(String.fromCharCode(...f.slice(0, 4))).toBe('_MP_');
    expect([f.length, f[8], f[9], sum(f)]).toEqual([16, 1, 4, 0]);
  });
  it('MP configuration table (4.2): "PCMP", length and entry count match the entries', () => {
    const t = mpConfigTable(cpu);
    const dv = new DataView(t.buffer);
    expect(String.fromCharCode(...t.slice(0, 4))).toBe('PCMP');
    expect(dv.getUint16(4, true)).toBe(t.length);
    expect(sum(t)).toBe(0);
    let at = 44, n = 0;
    while (at < t.length) { at += t[at] === 0 ? 20 : 8; n++; }
    expect(at).toBe(t.length);
    expect(dv.getUint16(34, true)).toBe(n);
    expect(dv.getUint32(36, true)).toBe(0xfee00000);
  });
  it('MADT (ACPI 5.2.12): header length, checksum, entries whose lengths add up', () => {
    const m = madt();
    expect(String.fromCharCode(...m.slice(0, 4))).toBe('APIC');
    expect(new DataView(m.buffer).getUint32(4, true)).toBe(m.length);
    expect(sum(m)).toBe(0);
    let at = 44;
    while (at < m.length) at += m[at + 1];
    expect(at).toBe(m.length);
  });
  it('RSDP (5.2.5.3) checksums its 20 bytes; the RSDT lists the MADT and extra tables', () => {
    const mem = new Uint8Array(0x100000);
    const dmar = acpiTable('DMAR', 1, new Uint8Array(12));
    writePlatformTables((a, d) => mem.set(d, a), { cpu, extraTables: [dmar] });
    let rsdp = -1;
    for (let a = 0xe0000; a < 0x100000; a += 16) {
      if (String.fromCharCode(...mem.slice(a, a + 8)) === 'RSD PTR ') { rsdp = a; break; }
    }
    expect(rsdp).toBeGreaterThanOrEqual(TABLES_PHYS);
    expect(sum(mem.slice(rsdp, rsdp + 20))).toBe(0);
    const dv = new DataView(mem.buffer);
    const rsdt = dv.getUint32(rsdp + 16, true);
    const len = dv.getUint32(rsdt + 4, true);
    expect(sum(mem.slice(rsdt, rsdt + len))).toBe(0);
    const sigs = [];
    for (let a = rsdt + 36; a < rsdt + len; a += 4) {
      const t = dv.getUint32(a, true);
      sigs.push(String.fromCharCode(...mem.slice(t, t + 4)));
      expect(sum(mem.slice(t, t + dv.getUint32(t + 4, true)))).toBe(0);
    }
    expect(sigs).toEqual(['APIC', 'DMAR']);
  });
});

/** A small deterministic generator (xorshift32). */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

describe('fuzz: random register sequences never throw and keep the invariants', () => {
  it('local APIC: 20,000 random MMIO accesses, timer time and INTA cycles', () => {
    const r = rng(0x13);
    const sizes = [1, 2, 4] as const;
    for (let i = 0; i < 20_000; i++) {
      const x = r();
      const off = x & 0xfff, size = sizes[(x >>> 12) % 3];
      const kind = (x >>> 16) & 7;
      if (kind < 3) bus.read('mmio', BASE + off, size);
      else if (kind < 6) bus.write('mmio', BASE + (off & 0x3f0), 4, r());
      else if (kind === 6) clock.advanceTo(clock.now + (r() & 0xffff));
      else if (apic.intr) {
        const v = apic.ack();
        expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThan(256);
      }
      expect(apic.ppr).toBeLessThan(256);
      expect(rd(0x390)).toBeLessThanOrEqual(rd(0x380));
    }
  });
  it('I/O APIC: 20,000 random IOREGSEL/IOWIN accesses and pin changes', () => {
    const r = rng(0x82093);
    enable();
    for (let i = 0; i < 20_000; i++) {
      const x = r();
      const kind = x & 7;
      if (kind < 2) bus.write('mmio', IO + ((x >>> 3) & 0x1f), [1, 2, 4][(x >>> 8) % 3] as 1 | 2 | 4, r());
      else if (kind < 4) bus.read('mmio', IO + ((x >>> 3) & 0x1f), [1, 2, 4][(x >>> 8) % 3] as 1 | 2 | 4);
      else if (kind < 6) ioapic.setPin((x >>> 3) % 24, (x & 0x100) !== 0);
      else if (kind === 6) { if (apic.intr) apic.ack(); }
      else wr(0xb0, 0);
      expect(iord(1)).toBe(0x00170011);
    }
  });
});
