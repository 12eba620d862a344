/**
 * Intel 8254 PIT at ports 0x40-0x43, clocked at 1.193182 MHz on the virtual clock.
 * Counter 0 drives IRQ0, counter 2's GATE and OUT go through port 0x61 (`port61.ts`).
 * OUT0 is followed with a timer armed at its next transition, so IRQ0 arrives on the
 * exact virtual time the waveform says.
 */
import type { Bus } from './bus.js';
import { nsOfTick, ticksAt, type VirtualClock, type Timer } from './clock.js';
import type { IrqLine } from './irq.js';
import { PitChannel } from './pit-channel.js';
import { DeviceStateError, obj } from './state.js';

/** The PC's PIT input clock: 14.31818 MHz / 12. */
export const PIT_HZ = 1_193_182;

export interface PitState { channels: unknown[] }

export class Pit {
  readonly channels: PitChannel[];
  private readonly timer: Timer;
  private out0 = false;
  /** Called after counter 2 is reprogrammed (the speaker follows it). */
  onChannel2?: () => void;

  constructor(
    private readonly clock: VirtualClock, private readonly irq0: IrqLine, channels?: PitChannel[],
  ) {
    // GATE0 and GATE1 are tied high on the PC; GATE2 comes from port 0x61 bit 0.
    this.channels = channels ?? [new PitChannel(true), new PitChannel(true), new PitChannel(false)];
    this.timer = clock.timer(() => this.sync());
    this.out0 = this.channels[0].out(this.tick());
    irq0.set(this.out0);
    this.sync();
  }

  /** The last PIT clock edge at the current virtual time. */
  tick(): number { return ticksAt(this.clock.now, PIT_HZ); }

  /** Drives IRQ0 from OUT0 and arms the timer for its next transition. */
  private sync(): void {
    const t = this.tick();
    const out = this.channels[0].out(t);
    const next = this.channels[0].nextChange(t);
    if (next >= 0) this.timer.arm(nsOfTick(next, PIT_HZ)); else this.timer.disarm();
    if (out !== this.out0) { this.out0 = out; this.irq0.set(out); }
  }

  /** Port 0x40 + `n`. */
  readCounter(n: number): number { return this.channels[n].read(this.tick()); }

  writeCounter(n: number, v: number): void {
    this.channels[n].writeCount(v, this.tick());
    if (n === 0) this.sync();
    if (n === 2) this.onChannel2?.();
  }

  /**
   * Port 0x43, the control word register (datasheet, "Control Word Format"): SC1-SC0 in
   * D7-D6 (3 = read-back), RW1-RW0 in D5-D4 (0 = counter latch command), M2-M0, BCD.
   */
  writeControl(v: number): void {
    const t = this.tick();
    const sc = v >> 6;
    if (sc === 3) {
      // Read-back command (datasheet, "Read-Back Command"): D5 = 0 latches counts, D4 = 0
      // latches status, D3-D1 select counters 2-0.
      for (let i = 0; i < 3; i++) {
        if (!(v & (2 << i))) continue;
        if (!(v & 0x10)) this.channels[i].latchStatus(t);
        if (!(v & 0x20)) this.channels[i].latch(t);
      }
      return;
    }
    if (((v >> 4) & 3) === 0) { this.channels[sc].latch(t); return; }
    this.channels[sc].control(v);
    if (sc === 0) this.sync();
    if (sc === 2) this.onChannel2?.();
  }

  setGate(n: number, level: boolean): void {
    this.channels[n].setGate(level, this.tick());
    if (n === 0) this.sync();
  }

  out(n: number): boolean { return this.channels[n].out(this.tick()); }

  attach(bus: Bus): void {
    bus.register({ space: 'pio', base: 0x40, length: 4, width: 1, device: {
      name: 'pit',
      // The control register cannot be read (datasheet, Table 1: "No-Operation (3-State)").
      read: (o) => (o < 3 ? this.readCounter(o) : 0xff),
      write: (o, _s, v) => (o < 3 ? this.writeCounter(o, v) : this.writeControl(v)),
    } });
  }

  state(): PitState { return { channels: this.channels.map((c) => c.state()) }; }

  static fromState(s: unknown, clock: VirtualClock, irq0: IrqLine): Pit {
    const o = obj(s, 'pit');
    if (!Array.isArray(o.channels) || o.channels.length !== 3) {
      throw new DeviceStateError('pit.channels', 'expected 3 counters');
    }
    // Array.from visits the holes of a sparse array (map skips them): each is refused.
    const channel = (c: unknown, i: number) => PitChannel.fromState(c, `pit.channels[${i}]`);
    const channels = Array.from(o.channels, channel);
    return new Pit(clock, irq0, channels);
  }
}
