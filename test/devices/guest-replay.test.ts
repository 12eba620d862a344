/**
 * The device register sequences of the other tests, now executed by guest code on the
 * whole machine (core IN/OUT exits through the bus to the devices), from a ROM at the
 * reset vector, compared with the bus-level run of the same sequence and, when QEMU is
 * installed, with QEMU.
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../bindings/machine/machine.js';
import { Bus } from '../../bindings/devices/bus.js';
import { VirtualClock } from '../../bindings/devices/clock.js';
import { PicPair } from '../../bindings/devices/pic-pair.js';
import { Uart16550, COM1 } from '../../bindings/devices/uart16550.js';
import { I8042 } from '../../bindings/devices/i8042.js';
import { Rtc } from '../../bindings/devices/rtc.js';
import { NO_IRQ } from '../../bindings/devices/irq.js';
import { romImage, runLocal, outb as o, inb as i, type Op } from './qemu-probe.js';

async function onMachine(ops: Op[], ramBytes = 64 << 20): Promise<{ bytes: number[]; stop: unknown }> {
  const bytes: number[] = [];
  const m = await Machine.create({ ramBytes, firmware: romImage(ops), debugcon: (b) => bytes.push(b), startTime: Date.UTC(2006, 5, 17, 16, 1, 21) });
  const stop = m.run(10_000_000);
  return { bytes, stop };
}

function local(ops: Op[], attach: (bus: Bus) => void): number[] {
  const bus = new Bus();
  attach(bus);
  return runLocal(ops, (port, size) => bus.read('pio', port, size), (port, size, v) => bus.write('pio', port, size, v));
}

describe('device sequences run by guest code on the machine', () => {
  it('PIC: Linux init, mask and ISR reads, ELCR', async () => {
    const ops = [
      o(0x20, 0x11), o(0x21, 0x30), o(0x21, 0x04), o(0x21, 0x01), o(0xa0, 0x11), o(0xa1, 0x38), o(0xa1, 0x02), o(0xa1, 0x01),
      o(0x21, 0xa5), i(0x21), o(0xa1, 0x5a), i(0xa1), o(0x20, 0x0b), i(0x20), o(0x4d0, 0xff), i(0x4d0), o(0x4d1, 0xff), i(0x4d1),
    ];
    const r = await onMachine(ops);
    expect(r.stop).toEqual({ kind: 'exit', status: 1 });
    expect(r.bytes).toEqual(local(ops, (bus) => new PicPair().attach(bus)));
    expect(r.bytes).toEqual([0xa5, 0x5a, 0x00, 0xf8, 0xde]);
  });

  it('UART: divisor, scratch, FIFO and loopback', async () => {
    const B = COM1.base;
    const ops = [
      o(B + 3, 0x80), o(B, 0x01), o(B + 1, 0x00), i(B), o(B + 3, 0x03), o(B + 7, 0x42), i(B + 7), o(B + 2, 0xc7), i(B + 2),
      o(B + 4, 0x1b), o(B, 0x61), i(B + 5), i(B), i(B + 5),
    ];
    const r = await onMachine(ops);
    const c = new VirtualClock();
    expect(r.bytes).toEqual(local(ops, (bus) => new Uart16550(c, NO_IRQ, () => {}).attach(bus, B)));
    expect(r.bytes).toEqual([0x01, 0x42, 0xc1, 0x61, 0x61, 0x60]);
  });

  it('i8042: self-test, command byte, keyboard reset and identify', async () => {
    const ops = [o(0x64, 0xaa), i(0x60), o(0x64, 0x60), o(0x60, 0x45), o(0x64, 0x20), i(0x60), o(0x60, 0xff), i(0x60), i(0x60), o(0x60, 0xf2), i(0x60), i(0x60), i(0x60)];
    const r = await onMachine(ops);
    expect(r.bytes).toEqual(local(ops, (bus) => new I8042(NO_IRQ, NO_IRQ).attach(bus)));
    expect(r.bytes).toEqual([0x55, 0x45, 0xfa, 0xaa, 0xfa, 0xab, 0x41]);
  });

  it('RTC/CMOS: the memory-size bytes the machine fills for its RAM, register D', async () => {
    const ops = [0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x0d].flatMap((r) => [o(0x70, r), i(0x71)]);
    const r = await onMachine(ops, 64 << 20);
    const c = new VirtualClock();
    expect(r.bytes).toEqual(local(ops, (bus) => new Rtc(c, NO_IRQ, { ramBytes: 64 << 20 }).attach(bus)));
  });
});
