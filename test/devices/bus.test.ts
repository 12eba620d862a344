/** The I/O bus: routing of synthetic 'io'/'mmio' exits as the core produces them. */
import { describe, it, expect } from 'vitest';
import { Bus, BusError, type BusDevice } from '../../bindings/devices/bus.js';

function recorder(name: string, log: string[]): BusDevice {
  return {
    name,
    read: (o, s) => { log.push(`${name} r${s}@${o}`); return 0x11223344 >>> (8 * (4 - s)); },
    write: (o, s, v) => { log.push(`${name} w${s}@${o}=${v.toString(16)}`); },
  };
}

describe('bus', () => {
  it('routes an io exit to the registered device with the offset in its range', () => {
    const bus = new Bus(); const log: string[] = [];
    bus.register({ space: 'pio', base: 0x3f8, length: 8, device: recorder('uart', log) });
    expect(bus.handleExit({ reason: 'io', port: 0x3fd, size: 1, write: false, value: 0 })).toBe(0x11);
    expect(bus.handleExit({ reason: 'io', port: 0x3f8, size: 1, write: true, value: 0x41 })).toBeUndefined();
    expect(log).toEqual(['uart r1@5', 'uart w1@0=41']);
  });

  it('unclaimed reads are all ones of the access size and writes are dropped and counted', () => {
    const bus = new Bus();
    expect(bus.handleExit({ reason: 'io', port: 0x1234, size: 1, write: false, value: 0 })).toBe(0xff);
    expect(bus.handleExit({ reason: 'io', port: 0x1234, size: 2, write: false, value: 0 })).toBe(0xffff);
    expect(bus.handleExit({ reason: 'io', port: 0x1234, size: 4, write: false, value: 0 })).toBe(0xffffffff);
    bus.handleExit({ reason: 'io', port: 0x80, size: 1, write: true, value: 1 });
    expect(bus.counters.unclaimedWrites).toBe(1);
    expect(bus.counters.unclaimedReads).toBe(1 + 2 + 4);
    expect(bus.unclaimedPorts.has(0x80)).toBe(true);
  });

  it('splits a word access to byte-wide devices into byte accesses, little-endian, as the ISA bus does', () => {
    const bus = new Bus(); const log: string[] = [];
    bus.register({ space: 'pio', base: 0x20, length: 1, width: 1, device: recorder('a', log) });
    bus.register({ space: 'pio', base: 0x21, length: 1, width: 1, device: recorder('b', log) });
    bus.handleExit({ reason: 'io', port: 0x20, size: 2, write: true, value: 0xbbaa });
    expect(log).toEqual(['a w1@0=aa', 'b w1@0=bb']);
    expect(bus.read('pio', 0x21, 2)).toBe(0xff11); // b, then unclaimed 0x22
  });

  it('passes wide accesses whole to a device that takes them', () => {
    const bus = new Bus(); const log: string[] = [];
    bus.register({ space: 'pio', base: 0x1f0, length: 8, width: 4, device: recorder('ide', log) });
    expect(bus.read('pio', 0x1f0, 2)).toBe(0x1122);
    expect(log).toEqual(['ide r2@0']);
  });

  it('routes mmio exits by binary search and refuses overlaps', () => {
    const bus = new Bus(); const log: string[] = [];
    bus.register({ space: 'mmio', base: 0xfec00000, length: 0x1000, device: recorder('ioapic', log) });
    bus.register({ space: 'mmio', base: 0xfee00000, length: 0x1000, device: recorder('lapic', log) });
    bus.handleExit({ reason: 'mmio', address: 0xfee000b0, size: 4, write: true, value: 0 });
    expect(log).toEqual(['lapic w4@176=0']);
    expect(() => bus.register({ space: 'mmio', base: 0xfee00800, length: 16, device: recorder('x', log) })).toThrow(/overlaps lapic/);
    expect(() => bus.register({ space: 'pio', base: 0xfffe, length: 4, device: recorder('x', log) })).toThrow(BusError);
    bus.unregister('mmio', 0xfee00000);
    expect(bus.read('mmio', 0xfee000b0, 4)).toBe(0xffffffff);
  });

  it('tells the machine about each MMIO range, so the core can exit on it', () => {
    const bus = new Bus(); const seen: [number, number][] = [];
    bus.onMmioRegistered = (b, l) => seen.push([b, l]);
    bus.register({ space: 'mmio', base: 0xfebf0000, length: 0x1000, device: recorder('bar', []) });
    bus.register({ space: 'pio', base: 0x100, length: 4, device: recorder('io', []) });
    expect(seen).toEqual([[0xfebf0000, 0x1000]]);
  });

  it('ignores exits that are not accesses', () => {
    expect(new Bus().handleExit({ reason: 'hlt' })).toBeUndefined();
  });
});
