/**
 * MC146818A RTC/CMOS against the Motorola datasheet: time/calendar registers and data
 * modes (Table 3), register A divider and rate selection (Table 4), register B modes,
 * register C flags (cleared on read), register D VRT; and the memory-size bytes against QEMU.
 * 2006-06-17 was a Saturday (day of week 7, Sunday = 1).
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { Bus } from '../../bindings/devices/bus.js';
import { VirtualClock } from '../../bindings/devices/clock.js';
import { RecordingIrqLine } from '../../bindings/devices/irq.js';
import { Rtc } from '../../bindings/devices/rtc.js';
import { io } from './helpers.js';
import { hasQemu, runQemu, runLocal, outb as qo, inb as qi } from './qemu-probe.js';

const START = Date.UTC(2006, 5, 17, 16, 1, 21);
const S = 1e9;
let clock: VirtualClock, irq: RecordingIrqLine, rtc: Rtc, bus: Bus, p: ReturnType<typeof io>;
beforeEach(() => {
  clock = new VirtualClock(); irq = new RecordingIrqLine(); bus = new Bus();
  rtc = new Rtc(clock, irq, { startTime: START, ramBytes: 64 << 20 }); rtc.attach(bus); p = io(bus);
});
const rd = (r: number) => { p.outb(0x70, r); return p.inb(0x71); };
const wr = (r: number, v: number) => { p.outb(0x70, r); p.outb(0x71, v); };

describe('time and calendar (Table 3)', () => {
  it('BCD, 24-hour: seconds, minutes, hours, day of week, date, month, year, century', () => {
    expect([0, 2, 4, 6, 7, 8, 9, 0x32].map(rd)).toEqual([0x21, 0x01, 0x16, 0x07, 0x17, 0x06, 0x06, 0x20]);
  });

  it('binary mode (register B DM = 1)', () => {
    wr(0x0b, 0x06);
    expect([0, 2, 4, 7, 8, 9].map(rd)).toEqual([21, 1, 16, 17, 6, 6]);
  });

  it('12-hour mode: PM hours have bit 7 set (BCD 0x81-0x92)', () => {
    wr(0x0b, 0x00);
    expect(rd(4)).toBe(0x84);
    wr(0x0b, 0x04);
    expect(rd(4)).toBe(0x84); // binary 4 | PM
  });

  it('advances with virtual time only: one second per 1e9 ns, carrying into minutes', () => {
    clock.advanceTo(S - 1);
    expect(rd(0)).toBe(0x21);
    clock.advanceTo(S);
    expect(rd(0)).toBe(0x22);
    clock.advanceTo(40 * S);
    expect([rd(0), rd(2)]).toEqual([0x01, 0x02]);
  });

  it('SET stops updates; written time runs when SET clears; SET clears UIE (Register B)', () => {
    wr(0x0b, 0x82 | 0x10);
    expect(rd(0x0b)).toBe(0x82);
    wr(0, 0x59); wr(2, 0x59); wr(4, 0x23); wr(7, 0x31); wr(8, 0x12); wr(9, 0x99); wr(0x32, 0x19);
    clock.advanceTo(5 * S);
    expect(rd(0)).toBe(0x59);
    wr(0x0b, 0x02);
    clock.advanceTo(6 * S);
    expect([0, 2, 4, 7, 8, 9, 0x32, 6].map(rd)).toEqual([0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x20, 0x07]); // 2000-01-01 was a Saturday
  });
});

describe('register A: UIP, divider, rate (Table 4)', () => {
  it('UIP is set during the 244 us before an update', () => {
    clock.advanceTo(S - 300_000);
    expect(rd(0x0a) & 0x80).toBe(0);
    clock.advanceTo(S - 200_000);
    expect(rd(0x0a) & 0x80).toBe(0x80);
    expect(rd(0x0a) & 0x7f).toBe(0x26);
  });

  it('divider reset (DV = 11x) holds the time; the first update comes half a second after release', () => {
    wr(0x0a, 0x76);
    clock.advanceTo(10 * S);
    expect(rd(0)).toBe(0x21);
    wr(0x0a, 0x26);
    clock.advanceTo(10 * S + 499_000_000);
    expect(rd(0)).toBe(0x21);
    clock.advanceTo(10 * S + 500_000_000);
    expect(rd(0)).toBe(0x22);
  });
});

describe('interrupts (registers B and C)', () => {
  it('update-ended: IRQ8 once a second, register C 0x90, cleared on read', () => {
    wr(0x0b, 0x12);
    clock.advanceTo(S);
    expect(irq.level).toBe(true);
    expect(rd(0x0c)).toBe(0xd0); // IRQF, UF, and PF: the 1024 Hz rate runs even with PIE clear
    expect(irq.level).toBe(false);
    expect(rd(0x0c)).toBe(0x00);
    clock.advanceTo(3 * S);
    expect(irq.rises).toBe(2);
  });

  it('periodic at 1024 Hz (RS = 0110): 1024 interrupts in a second when C is read each time', () => {
    wr(0x0b, 0x42);
    let n = 0;
    irq.set = function (l: boolean) { if (l) { n++; rd(0x0c); } };
    clock.advanceTo(S);
    expect(n).toBe(1024);
  });

  it('PF is set even with PIE clear, without IRQF (Register C)', () => {
    clock.advanceTo(S / 100);
    expect(rd(0x0c)).toBe(0x40);
    expect(irq.level).toBe(false);
  });

  it('rate 15 (RS = 1111) is 500 ms; RS = 0 disables', () => {
    wr(0x0a, 0x2f); wr(0x0b, 0x42); rd(0x0c);
    clock.advanceTo(499_000_000); expect(irq.level).toBe(false);
    clock.advanceTo(500_000_000); expect(irq.level).toBe(true);
    rd(0x0c); wr(0x0a, 0x20);
    clock.advanceTo(5 * S); expect(rd(0x0c) & 0x40).toBe(0);
  });

  it('alarm: AF when hours, minutes, seconds match; 0xC0-0xFF bytes match anything', () => {
    wr(1, 0x25); wr(3, 0x01); wr(5, 0x16); wr(0x0b, 0x22);
    clock.advanceTo(3 * S); expect(irq.level).toBe(false);
    clock.advanceTo(4 * S); expect(irq.level).toBe(true);
    expect(rd(0x0c)).toBe(0x80 | 0x40 | 0x20 | 0x10);
    wr(1, 0xff); wr(3, 0xff); wr(5, 0xff);
    clock.advanceTo(5 * S); expect(rd(0x0c) & 0xa0).toBe(0xa0);
  });

  it('register D reads VRT = 1', () => { expect(rd(0x0d)).toBe(0x80); });
});

describe('port 0x70 and CMOS RAM', () => {
  it('bit 7 of the index masks NMI; bits 6-0 select the register', () => {
    p.outb(0x70, 0x8e);
    expect(rtc.nmiMasked).toBe(true);
    p.outb(0x71, 0x5a);
    p.outb(0x70, 0x0e);
    expect(rtc.nmiMasked).toBe(false);
    expect(p.inb(0x71)).toBe(0x5a);
  });

  it('equipment byte: PS/2 mouse, no FPU, no floppy by default; 0x37 mirrors the century', () => {
    expect(rd(0x14)).toBe(0x04);
    expect(new Rtc(clock, irq, { fpu: true, floppies: 2 }).read(0x14)).toBe(0x04 | 0x02 | 0x01 | 0x40);
    expect(rd(0x37)).toBe(0x20);
  });

  it('memory-size bytes for 64 MiB', () => {
    expect([0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35].map(rd)).toEqual([0x80, 0x02, 0x00, 0xfc, 0x00, 0xfc, 0x00, 0x03]);
  });
});

describe('snapshots', () => {
  it('keeps time and a pending update interrupt', () => {
    wr(0x0b, 0x12);
    clock.advanceTo(S / 2);
    const s = JSON.parse(JSON.stringify({ c: clock.state(), r: rtc.state() }));
    const c2 = VirtualClock.fromState(s.c); const irq2 = new RecordingIrqLine();
    const r2 = Rtc.fromState(s.r, c2, irq2);
    c2.advanceTo(S);
    expect(irq2.level).toBe(true);
    expect(r2.read(0)).toBe(0x22);
    s.r.cmos = 'AAAA';
    expect(() => Rtc.fromState(s.r, c2, irq2)).toThrow(/rtc\.cmos/);
  });
});

describe.skipIf(!hasQemu)('against QEMU (mc146818rtc, pc_cmos_init)', () => {
  it('the same calendar, register D, century bytes and memory-size bytes for -m 64', () => {
    const regs = [0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x32, 0x37, 0x09, 0x08, 0x07, 0x06, 0x04, 0x0d];
    const ops = regs.flatMap((r) => [qo(0x70, r), qi(0x71)]);
    // Data modes (register B DM and 24/12): 12-hour BCD, 12-hour binary, 24-hour binary.
    for (const b of [0x00, 0x04, 0x06]) ops.push(qo(0x70, 0x0b), qo(0x71, b), qo(0x70, 0x04), qi(0x71), qo(0x70, 0x07), qi(0x71), qo(0x70, 0x09), qi(0x71));
    ops.push(qo(0x70, 0x0b), qo(0x71, 0x02));
    const q = runQemu(ops, ['-m', '64', '-rtc', 'base=2006-06-17T16:01:21,clock=vm']).bytes;
    expect(runLocal(ops, (port, size) => bus.read('pio', port, size), (port, size, v) => bus.write('pio', port, size, v))).toEqual(q);
  });
});
