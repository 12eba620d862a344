/**
 * Every device on one bus, driven by a seeded stream of random port I/O, clock advances
 * and INTA cycles: a guest doing anything must not throw in the host; two runs with the
 * same inputs must give the same outputs (determinism); and a snapshot taken midway,
 * passed through JSON and restored, must continue exactly as the uninterrupted run.
 */
import { describe, it, expect } from 'vitest';
import { Bus } from '../../bindings/devices/bus.js';
import { VirtualClock } from '../../bindings/devices/clock.js';
import { PicPair } from '../../bindings/devices/pic-pair.js';
import { Pit } from '../../bindings/devices/pit.js';
import { Port61 } from '../../bindings/devices/port61.js';
import { Rtc } from '../../bindings/devices/rtc.js';
import { Uart16550, COM1 } from '../../bindings/devices/uart16550.js';
import { I8042 } from '../../bindings/devices/i8042.js';
import { DebugCon, DebugExit, PostPort } from '../../bindings/devices/debug-ports.js';
import { attachChipset } from '../../bindings/devices/pc-chipset.js';
import { VgaText } from '../../bindings/devices/vga.js';
import { MemoryDisk } from './helpers.js';

const PORTS = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71,
  ...Array.from({ length: 8 }, (_, i) => COM1.base + i), 0x60, 0x64, 0x92, 0x80, 0xe9, 0xf4,
  0xcf8, 0xcf9, 0xcfc, 0xcfd, 0xcfe, 0xcff, ...Array.from({ length: 8 }, (_, i) => 0x1f0 + i), 0x3f6,
  ...Array.from({ length: 8 }, (_, i) => 0x170 + i), 0x376, 0xc000, 0xc002, 0xc004,
  0x3c2, 0x3c4, 0x3c5, 0x3cc, 0x3ce, 0x3cf, 0x3d4, 0x3d5, 0x3da];
/** The VGA's text buffer (it reads memory only for the screen, not on port I/O). */
const textRam = (_addr: number, n: number) => new Uint8Array(n);

/** xorshift32: the same stream on every run. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >> 17; s ^= s << 5; s >>>= 0; return s; };
}

interface Pc { bus: Bus; clock: VirtualClock; pic: PicPair; out: number[]; state(): unknown }

/** The devices of a PC; from a snapshot when `saved` is given. The disks persist across builds. */
function build(disks: MemoryDisk[], saved?: any): Pc {
  const out: number[] = [];
  const clock = saved ? VirtualClock.fromState(saved.clock) : new VirtualClock(50_000_000);
  const pic = saved ? PicPair.fromState(saved.pic) : new PicPair();
  const bus = new Bus();
  const pit = saved ? Pit.fromState(saved.pit, clock, pic.line(0)) : new Pit(clock, pic.line(0));
  const p61 = saved ? Port61.fromState(saved.p61, pit) : new Port61(pit);
  const rtc = saved ? Rtc.fromState(saved.rtc, clock, pic.line(8)) : new Rtc(clock, pic.line(8), { ramBytes: 32 << 20 });
  const sink = (b: number) => out.push(0x1000 | b);
  const uart = saved ? Uart16550.fromState(saved.uart, clock, pic.line(4), sink) : new Uart16550(clock, pic.line(4), sink);
  const cb = { onReset: () => out.push(0x2000), onA20: (on: boolean) => out.push(on ? 0x3001 : 0x3000) };
  const kbc = saved ? I8042.fromState(saved.kbc, pic.line(1), pic.line(12), cb) : new I8042(pic.line(1), pic.line(12), cb);
  const post = saved ? PostPort.fromState(saved.post) : new PostPort();
  const vga = saved ? VgaText.fromState(saved.vga, textRam) : new VgaText(textRam);
  vga.attach(bus);
  pic.attach(bus); pit.attach(bus); p61.attach(bus); rtc.attach(bus); uart.attach(bus, COM1.base); kbc.attach(bus); post.attach(bus);
  new DebugExit((s) => out.push(0x4000 | s)).attach(bus);
  new DebugCon((b) => out.push(0x5000 | b)).attach(bus);
  const chip = attachChipset(bus, pic, { disks, onReset: () => out.push(0x6000) });
  if (saved) { chip.pci.restore(saved.pci); chip.ide.restore(saved.ide); }
  const state = () => JSON.parse(JSON.stringify({
    clock: clock.state(), pic: pic.state(), pit: pit.state(), p61: p61.state(), rtc: rtc.state(), uart: uart.state(),
    kbc: kbc.state(), post: post.state(), pci: chip.pci.state(), ide: chip.ide.state(), vga: vga.state(),
  }));
  return { bus, clock, pic, out, state };
}

/** `n` random steps from the generator; everything observable goes to `pc.out`. */
function drive(pc: Pc, next: () => number, n: number): void {
  for (let k = 0; k < n; k++) {
    const r = next();
    const port = PORTS[r % PORTS.length];
    const size = ([1, 1, 1, 2, 4] as const)[(r >>> 8) % 5];
    const op = (r >>> 12) % 8;
    if (op < 3) pc.bus.write('pio', port, size, next());
    else if (op < 6) pc.out.push(pc.bus.read('pio', port, size));
    else if (op === 6) pc.clock.advanceTo(pc.clock.now + (next() % 3_000_000));
    else if (pc.pic.intr) pc.out.push(0x7000 | pc.pic.ack());
  }
}

/** Puts every device in a state with something to lose: timers, FIFOs, half-done transfers. */
function warmUp(pc: Pc): void {
  const o = (port: number, v: number, size: 1 | 2 | 4 = 1) => pc.bus.write('pio', port, size, v);
  const i = (port: number, size: 1 | 2 | 4 = 1) => pc.out.push(pc.bus.read('pio', port, size));
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0], [0xa1, 0]]) o(p, v);
  o(0x43, 0x34); o(0x40, 0xe8); o(0x40, 0x03); // counter 0: mode 2, 1000
  o(0x61, 0x03); o(0x43, 0xb6); o(0x42, 0xf4); o(0x42, 0x01); // counter 2: mode 3, 500, gate on
  o(0x43, 0x70); o(0x41, 0x10); // counter 1: mode 0, only the LSB written
  o(0x43, 0x00); i(0x40); // counter 0 latched, LSB read
  o(0x70, 0x0a); o(0x71, 0x23); o(0x70, 0x0b); o(0x71, 0x72); o(0x70, 0x01); o(0x71, 0xff); o(0x70, 0x03); o(0x71, 0xff); o(0x70, 0x05); o(0x71, 0xff);
  const B = COM1.base;
  o(B + 3, 0x03); o(B + 2, 0xc7); o(B + 4, 0x1b); for (const c of [1, 2, 3, 4, 5]) o(B, c); o(B + 1, 0x0f);
  o(0x60, 0xff); i(0x60);
  o(0x1f6, 0xe0); o(0x1f2, 4); o(0x1f3, 10); o(0x1f4, 0); o(0x1f5, 0); o(0x1f7, 0x20);
  for (let k = 0; k < 100; k++) i(0x1f0, 2);
  o(0x176, 0xe0); o(0x172, 4); o(0x177, 0xc6); o(0x172, 8); o(0x173, 3); o(0x174, 0); o(0x175, 0); o(0x177, 0xc5);
  for (let k = 0; k < 300; k++) o(0x170, 0x1234 + k, 2);
  o(0xcf8, 0x80000820, 4); o(0xcfc, 0xc000, 4); o(0xcf8, 0x80000804, 4); o(0xcfc, 0x1, 4); o(0xc002, 0x60);
  pc.clock.advanceTo(pc.clock.now + 1_234_567);
}

/** Reads back what `warmUp` left, over virtual time, taking and ending interrupts. */
function observe(pc: Pc): void {
  const i = (port: number, size: 1 | 2 | 4 = 1) => pc.out.push(pc.bus.read('pio', port, size));
  for (let k = 0; k < 300; k++) {
    pc.clock.advanceTo(pc.clock.now + 37_000);
    if (pc.pic.intr) { pc.out.push(0x7000 | pc.pic.ack()); pc.bus.write('pio', 0xa0, 1, 0x20); pc.bus.write('pio', 0x20, 1, 0x20); }
    for (const p of [0x3f8, 0x3fa, 0x3fd, 0x40, 0x42, 0x61, 0x60, 0x64, 0x1f7, 0x177, 0xc002]) i(p);
    i(0x1f0, 2); pc.bus.write('pio', 0x170, 2, k);
    pc.bus.write('pio', 0x70, 1, 0x0c); i(0x71);
    pc.bus.write('pio', 0x70, 1, 0x00); i(0x71);
  }
}

function disks(): MemoryDisk[] { return [MemoryDisk.withPattern(256), undefined as never, MemoryDisk.withPattern(64)].filter(Boolean); }

describe('all devices under random guest I/O', () => {
  it('never throws, and two runs with the same inputs give the same outputs', () => {
    const runs = [1, 2].map(() => {
      const pc = build(disks());
      drive(pc, rng(12345), 20_000);
      return { out: pc.out, state: pc.state() };
    });
    expect(runs[0].out.length).toBeGreaterThan(5000);
    expect(runs[1].out).toEqual(runs[0].out);
    expect(runs[1].state).toEqual(runs[0].state);
  });

  it('a snapshot restored midway continues exactly as the uninterrupted run', () => {
    const straight = build(disks());
    warmUp(straight); observe(straight); drive(straight, rng(999), 6000);

    const d = disks();
    const first = build(d);
    warmUp(first);
    const resumed = build(d, first.state());
    observe(resumed); drive(resumed, rng(999), 6000);
    expect(first.out.concat(resumed.out)).toEqual(straight.out);
    expect(resumed.state()).toEqual(straight.state());
  });

  it('many seeds: no host exception from any byte sequence', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const pc = build(disks());
      expect(() => drive(pc, rng(seed * 7919), 3000)).not.toThrow();
    }
  });
});

describe('snapshots from an untrusted source', () => {
  it('a corrupted snapshot is refused with DeviceStateError, or restores into devices that still cannot be made to throw', () => {
    const d = disks();
    const pc = build(d);
    warmUp(pc);
    const base = JSON.stringify(pc.state());
    const next = rng(4242);
    let refused = 0, restored = 0;
    for (let k = 0; k < 400; k++) {
      const s = JSON.parse(base);
      // Walk to a random leaf and replace or delete it.
      let node: any = s, key: string | number = '';
      for (let depth = 0; depth < 8; depth++) {
        const keys = Object.keys(node);
        if (!keys.length) break;
        key = keys[next() % keys.length];
        if (typeof node[key] !== 'object' || node[key] === null) break;
        if (depth < 7 && next() % 4 !== 0) node = node[key]; else break;
      }
      const choices = [-1, 2 ** 40, 0.5, 'x', true, null, 1e300, 7, 255, 65536, -(2 ** 31)];
      if (next() % 10 === 0) delete node[key]; else node[key] = choices[next() % choices.length];
      let restoredPc: Pc;
      try {
        restoredPc = build(d, s);
      } catch (e) {
        expect((e as Error).name, `${String(key)}: ${(e as Error).message}`).toBe('DeviceStateError');
        refused++;
        continue;
      }
      restored++;
      expect(() => drive(restoredPc, rng(k + 1), 300)).not.toThrow();
    }
    expect(refused).toBeGreaterThan(100);
    expect(restored).toBeGreaterThan(10);
  });
});
