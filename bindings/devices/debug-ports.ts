/**
 * The small ports a guest uses to talk to whoever runs it:
 * - 0x80, the POST code port: BIOSes and kernels write progress codes; each is recorded.
 *   Some boards and firmware write theirs to 0x190 as well; a second PostPort takes those.
 * - 0xF4-0xF7, QEMU's isa-debug-exit (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`):
 *   a write of v ends the VM with exit status (v << 1) | 1 (QEMU hw/misc/debugexit.c).
 * - 0xE9, the Bochs/QEMU debug console (`-debugcon`): written bytes go to a sink; a read
 *   returns 0xE9 so a guest can detect it (QEMU hw/char/debugcon.c, readback 0xe9).
 */
import type { Bus } from './bus.js';
import { int, intArray, obj } from './state.js';

/** How many POST codes are kept (oldest dropped first). */
const POST_HISTORY = 256;

export class PostPort {
  last = 0;
  /** Called with each code written (after it is recorded). */
  onWrite?: (code: number) => void;
  constructor(readonly port = 0x80) {}
  /** The last POST_HISTORY codes, as a ring (this port is the hot "in/out" benchmark port). */
  private readonly ring = new Uint8Array(POST_HISTORY);
  private count = 0;
  write(v: number): void {
    this.last = v;
    this.ring[this.count++ % POST_HISTORY] = v;
    this.onWrite?.(v);
  }
  /** The recorded codes, oldest first. */
  get history(): number[] {
    const n = Math.min(this.count, POST_HISTORY), out: number[] = [];
    for (let i = this.count - n; i < this.count; i++) out.push(this.ring[i % POST_HISTORY]);
    return out;
  }
  attach(bus: Bus): void {
    // Reads float: the port is write-only on the PC (the Adams & Agesen "in" workload reads it).
    bus.register({ space: 'pio', base: this.port, length: 1, width: 1, device: {
      name: 'post', read: () => 0xff, write: (_o, _s, v) => this.write(v),
    } });
  }
  state() { return { last: this.last, history: this.history }; }
  static fromState(s: unknown, port = 0x80): PostPort {
    const o = obj(s, 'post');
    const p = new PostPort(port);
    p.last = int(o, 'last', 'post', 0, 255);
    for (const v of intArray(o, 'history', 'post', 0, 255, POST_HISTORY)) p.write(v);
    p.last = int(o, 'last', 'post', 0, 255);
    return p;
  }
}

/** isa-debug-exit. `onExit` receives the process exit status QEMU would use. */
export class DebugExit {
  constructor(
    private readonly onExit: (status: number) => void, readonly base = 0xf4, readonly size = 4,
  ) {}
  attach(bus: Bus): void {
    bus.register({ space: 'pio', base: this.base, length: this.size, width: 4, device: {
      name: 'isa-debug-exit',
      read: (_o, s) => (s === 4 ? 0xffffffff : (1 << (8 * s)) - 1),
      write: (_o, _s, v) => this.onExit(((v << 1) | 1) >>> 0),
    } });
  }
}

/** The 0xE9 debug console; `sink` receives each byte written. */
export class DebugCon {
  constructor(private readonly sink: (byte: number) => void, readonly port = 0xe9) {}
  attach(bus: Bus): void {
    bus.register({ space: 'pio', base: this.port, length: 1, width: 1, device: {
      name: 'debugcon', read: () => 0xe9, write: (_o, _s, v) => this.sink(v & 0xff),
    } });
  }
}
