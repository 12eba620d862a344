/**
 * 8259A PIC pair against the Intel 8259A datasheet (order 231468) and the PIIX3 datasheet
 * (82371SB, 2.4.1, ELCR). Expected values are the datasheet's, section named in each test.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { Bus } from '../../bindings/devices/bus.js';
import { PicPair } from '../../bindings/devices/pic-pair.js';
import { DeviceStateError } from '../../bindings/devices/state.js';
import { io } from './helpers.js';
import { hasQemu, runQemu, runLocal, outb as qo, inb as qi } from './qemu-probe.js';

let bus: Bus, pic: PicPair, p: ReturnType<typeof io>;

/** Linux's init_8259A() (arch/x86/kernel/i8259.c): ICW1 0x11, vectors 0x30/0x38, ICW3 4/2, ICW4 1. */
function linuxInit(icw4 = 0x01) {
  p.outb(0x21, 0xff); p.outb(0xa1, 0xff);
  p.outb(0x20, 0x11); p.outb(0x21, 0x30); p.outb(0x21, 0x04); p.outb(0x21, icw4);
  p.outb(0xa0, 0x11); p.outb(0xa1, 0x38); p.outb(0xa1, 0x02); p.outb(0xa1, icw4);
  p.outb(0x21, 0x00); p.outb(0xa1, 0x00);
}
const readIsr = (port: number) => { p.outb(port, 0x0b); return p.inb(port); };
const readIrr = (port: number) => { p.outb(port, 0x0a); return p.inb(port); };

beforeEach(() => { bus = new Bus(); pic = new PicPair(); pic.attach(bus); p = io(bus); });

describe('8259A initialisation (datasheet "Initialization Command Words")', () => {
  it('delivers IRQ0 at the ICW2 base and sets ISR until a non-specific EOI (OCW2 0x20)', () => {
    linuxInit();
    pic.line(0).set(true);
    expect(pic.intr).toBe(true);
    expect(pic.ack()).toBe(0x30);
    expect(readIsr(0x20)).toBe(0x01);
    expect(pic.intr).toBe(false);
    p.outb(0x20, 0x20);
    expect(readIsr(0x20)).toBe(0x00);
  });

  it('ICW1 clears the mask register and resets status read to IRR', () => {
    p.outb(0x21, 0x5a);
    expect(p.inb(0x21)).toBe(0x5a);
    p.outb(0x20, 0x0b); // read ISR next
    p.outb(0x20, 0x11);
    expect(p.inb(0x21)).toBe(0x00);
    p.outb(0x21, 0x08); p.outb(0x21, 0x04); p.outb(0x21, 0x01);
    pic.line(3).set(true);
    p.outb(0x21, 0xff); // mask so the request stays in IRR only
    expect(p.inb(0x20)).toBe(0x08); // IRR, not ISR
  });

  it('the SeaBIOS vectors: 0x08 for IRQ0-7, 0x70 for IRQ8-15', () => {
    p.outb(0x20, 0x11); p.outb(0x21, 0x08); p.outb(0x21, 0x04); p.outb(0x21, 0x01);
    p.outb(0xa0, 0x11); p.outb(0xa1, 0x70); p.outb(0xa1, 0x02); p.outb(0xa1, 0x01);
    pic.line(1).set(true);
    expect(pic.ack()).toBe(0x09);
    pic.line(8).set(true);
    p.outb(0x20, 0x20);
    expect(pic.ack()).toBe(0x70);
  });

  it('ICW2 keeps only T7-T3 in 8086 mode', () => {
    p.outb(0x20, 0x13); p.outb(0x21, 0x37); p.outb(0x21, 0x01); // single, IC4
    pic.line(5).set(true);
    expect(pic.ack()).toBe(0x35);
  });
});

describe('cascade (datasheet "Cascading")', () => {
  it('a slave IRQ goes through master IR2: both ISRs set, vector from the slave', () => {
    linuxInit();
    pic.line(14).set(true);
    expect(pic.intr).toBe(true);
    expect(pic.ack()).toBe(0x3e);
    expect(readIsr(0x20)).toBe(0x04);
    expect(readIsr(0xa0)).toBe(0x40);
    p.outb(0xa0, 0x20); p.outb(0x20, 0x20);
    expect(readIsr(0x20)).toBe(0); expect(readIsr(0xa0)).toBe(0);
  });

  it('ISA IRQ2 arrives on the slave as IRQ9', () => {
    linuxInit();
    pic.line(2).set(true);
    expect(pic.ack()).toBe(0x39);
  });
});

describe('priority (datasheet "Fully Nested Mode", "Priority Resolver")', () => {
  it('serves IR0 before IR1 and blocks lower levels while a higher one is in service', () => {
    linuxInit();
    pic.line(1).set(true); pic.line(0).set(true);
    expect(pic.ack()).toBe(0x30);
    expect(pic.intr).toBe(false); // IR1 is lower than in-service IR0
    p.outb(0x20, 0x20);
    expect(pic.ack()).toBe(0x31);
  });

  it('a higher level interrupts a lower one in service', () => {
    linuxInit();
    pic.line(4).set(true);
    expect(pic.ack()).toBe(0x34);
    pic.line(1).set(true);
    expect(pic.ack()).toBe(0x31);
    expect(readIsr(0x20)).toBe(0x12);
    p.outb(0x20, 0x20); // clears the highest in service: IR1
    expect(readIsr(0x20)).toBe(0x10);
  });

  it('OCW1 masks a level; its request stays visible in IRR (OCW3 RR=1 RIS=0)', () => {
    linuxInit();
    p.outb(0x21, 0x08);
    pic.line(3).set(true);
    expect(pic.intr).toBe(false);
    expect(readIrr(0x20)).toBe(0x08);
    p.outb(0x21, 0x00);
    expect(pic.ack()).toBe(0x33);
  });

  it('specific EOI (OCW2 0x60|L) clears only level L', () => {
    linuxInit();
    pic.line(5).set(true); expect(pic.ack()).toBe(0x35);
    pic.line(2 + 1).set(true); expect(pic.ack()).toBe(0x33);
    p.outb(0x20, 0x65);
    expect(readIsr(0x20)).toBe(0x08);
  });

  it('rotate on non-specific EOI (OCW2 0xA0) makes the served level the lowest', () => {
    linuxInit();
    pic.line(0).set(true); expect(pic.ack()).toBe(0x30);
    p.outb(0x20, 0xa0);
    pic.line(0).set(false); pic.line(0).set(true); pic.line(5).set(true);
    expect(pic.ack()).toBe(0x35); // IR0 is now lowest priority, IR1 highest
  });

  it('set priority (OCW2 0xC0|L) makes L the lowest, L+1 the highest', () => {
    linuxInit();
    p.outb(0x20, 0xc0 | 4);
    pic.line(3).set(true); pic.line(6).set(true);
    expect(pic.ack()).toBe(0x36);
  });

  it('rotate on specific EOI (OCW2 0xE0|L)', () => {
    linuxInit();
    pic.line(2 + 4).set(true); expect(pic.ack()).toBe(0x36);
    p.outb(0x20, 0xe6);
    expect(readIsr(0x20)).toBe(0);
    pic.line(7).set(true); pic.line(5).set(true);
    expect(pic.ack()).toBe(0x37); // 7 is now highest
  });
});

describe('edge and level sensing (datasheet "Edge and Level Triggered Modes"; PIIX3 ELCR)', () => {
  it('an edge line held high requests once', () => {
    linuxInit();
    pic.line(3).set(true);
    expect(pic.ack()).toBe(0x33);
    p.outb(0x20, 0x20);
    pic.line(3).set(true);
    expect(pic.intr).toBe(false);
  });

  it('ELCR bits 0-2 of ELCR1 and 0, 5 of ELCR2 are reserved (read 0)', () => {
    p.outb(0x4d0, 0xff); p.outb(0x4d1, 0xff);
    expect(p.inb(0x4d0)).toBe(0xf8);
    expect(p.inb(0x4d1)).toBe(0xde);
  });

  it('a level line requests again after EOI while still high', () => {
    linuxInit();
    p.outb(0x4d1, 0x08); // IRQ11 level
    pic.line(11).set(true);
    expect(pic.ack()).toBe(0x3b);
    p.outb(0xa0, 0x20); p.outb(0x20, 0x20);
    expect(pic.intr).toBe(true);
    pic.line(11).set(false);
    expect(pic.intr).toBe(false);
  });

  it('ICW1 LTIM makes every input level sensitive', () => {
    p.outb(0x20, 0x19); p.outb(0x21, 0x20); p.outb(0x21, 0x04); p.outb(0x21, 0x01);
    pic.line(4).set(true);
    expect(pic.ack()).toBe(0x24);
    p.outb(0x20, 0x20);
    expect(pic.ack()).toBe(0x24);
  });

  it('a level request withdrawn before INTA gives the spurious IR7 vector without ISR (datasheet "Interrupt Sequence")', () => {
    linuxInit();
    p.outb(0x4d0, 0x20); // IRQ5 level
    pic.line(5).set(true);
    expect(pic.intr).toBe(true);
    pic.line(5).set(false);
    expect(pic.ack()).toBe(0x37);
    expect(readIsr(0x20)).toBe(0);
  });

  it('an edge request withdrawn before INTA is a spurious IR7 too', () => {
    linuxInit();
    pic.line(4).set(true);
    pic.master.lines &= ~0x10; pic.master.irr &= ~0x10; // the pin falls during the INTA cycle
    expect(pic.ack()).toBe(0x37);
    expect(readIsr(0x20)).toBe(0);
  });

  it('a spurious slave request gives IRQ15 with master ISR bit 2 set, slave ISR clear', () => {
    linuxInit();
    p.outb(0x4d1, 0x02); // IRQ9 level
    pic.line(9).set(true);
    // The request disappears after the master latched the cascade edge.
    pic.slave.setLine(1, false);
    expect(pic.ack()).toBe(0x3f);
    expect(readIsr(0x20)).toBe(0x04);
    expect(readIsr(0xa0)).toBe(0x00);
  });
});

describe('modes (datasheet "Automatic End of Interrupt Mode", "Special Mask Mode", "Poll Command")', () => {
  it('AEOI (ICW4 bit 1) leaves ISR clear after INTA', () => {
    linuxInit(0x03);
    pic.line(0).set(true);
    expect(pic.ack()).toBe(0x30);
    expect(readIsr(0x20)).toBe(0);
  });

  it('rotate in AEOI mode (OCW2 0x80) rotates priority on each INTA', () => {
    linuxInit(0x03);
    p.outb(0x20, 0x80);
    pic.line(1).set(true); expect(pic.ack()).toBe(0x31);
    pic.line(1).set(false); pic.line(1).set(true); pic.line(6).set(true);
    expect(pic.ack()).toBe(0x36);
  });

  it('special mask mode (OCW3 0x68) lets lower levels in while a masked level is in service', () => {
    linuxInit();
    pic.line(3).set(true); expect(pic.ack()).toBe(0x33);
    pic.line(5).set(true);
    expect(pic.intr).toBe(false);
    p.outb(0x21, 0x08); p.outb(0x20, 0x68);
    expect(pic.ack()).toBe(0x35);
    p.outb(0x20, 0x48); // reset special mask
    p.outb(0x20, 0x65); p.outb(0x21, 0x00);
    expect(readIsr(0x20)).toBe(0x08);
  });

  it('poll (OCW3 0x0C): the next read returns 0x80|level and acknowledges it', () => {
    linuxInit();
    p.outb(0x21, 0xff);
    pic.line(6).set(true);
    p.outb(0x21, 0x00);
    p.outb(0x20, 0x0c);
    expect(p.inb(0x20)).toBe(0x86);
    expect(readIsr(0x20)).toBe(0x40);
    p.outb(0x20, 0x0c);
    expect(p.inb(0x20)).toBe(0x00); // no request: I bit clear
  });

  it('raises and lowers the INTR callback', () => {
    linuxInit();
    const seen: boolean[] = [];
    pic.onIntr = (l) => seen.push(l);
    pic.line(7).set(true);
    pic.ack();
    expect(seen).toEqual([true, false]);
  });
});

describe('snapshots', () => {
  it('round-trips through JSON and keeps serving', () => {
    linuxInit();
    pic.line(0).set(true); pic.ack(); pic.line(4).set(true);
    const copy = PicPair.fromState(JSON.parse(JSON.stringify(pic.state())));
    expect(copy.state()).toEqual(pic.state());
    copy.master.writeCommand(0x20);
    expect(copy.ack()).toBe(0x34);
  });

  it('rejects out-of-range fields with their path', () => {
    const s = JSON.parse(JSON.stringify(pic.state()));
    s.slave.imr = 300;
    expect(() => PicPair.fromState(s)).toThrow(DeviceStateError);
    expect(() => PicPair.fromState(s)).toThrow(/pic\.slave\.imr/);
  });
});


describe.skipIf(!hasQemu)('against QEMU (i8259 + PIIX3 ELCR)', () => {
  it('reads back IMR, ISR and the ELCR masks as QEMU does after the Linux init sequence', () => {
    const ops = [
      qo(0x21, 0xff), qo(0xa1, 0xff),
      qo(0x20, 0x11), qo(0x21, 0x30), qo(0x21, 0x04), qo(0x21, 0x01),
      qo(0xa0, 0x11), qo(0xa1, 0x38), qo(0xa1, 0x02), qo(0xa1, 0x01),
      qo(0x21, 0xa5), qi(0x21), qo(0xa1, 0x5a), qi(0xa1),
      qo(0x20, 0x0b), qi(0x20), qo(0xa0, 0x0b), qi(0xa0),
      qo(0x4d0, 0xff), qi(0x4d0), qo(0x4d1, 0xff), qi(0x4d1),
      qo(0x4d0, 0x00), qi(0x4d0), qo(0x4d1, 0x00), qi(0x4d1),
      qo(0x20, 0x11), qi(0x21), // ICW1 clears IMR
    ];
    const local = runLocal(ops, (port, size) => bus.read('pio', port, size), (port, size, v) => bus.write('pio', port, size, v));
    expect(local).toEqual(runQemu(ops).bytes);
  });
});
