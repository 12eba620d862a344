/**
 * System control port B at 0x61 ("NMI Status and Control Register", Intel 82371SB PIIX3
 * datasheet, 4.7.2; IBM PC/AT Technical Reference, port 61h): the PIT counter 2 gate and
 * speaker enable, the refresh toggle and OUT2.
 */
import type { Bus } from './bus.js';
import { PIT_HZ, type Pit } from './pit.js';
import { int, obj } from './state.js';

/** Bit 0: timer counter 2 gate (R/W). */
export const P61_GATE2 = 0x01;
/** Bit 1: speaker data enable (R/W). */
export const P61_SPEAKER = 0x02;
/** Bits 2-3: PCI SERR# and IOCHK# NMI enables (R/W, stored only: no NMI sources here). */
export const P61_NMI_ENABLES = 0x0c;
/** Bit 4: refresh cycle toggle (RO). */
export const P61_REFRESH = 0x10;
/** Bit 5: timer counter 2 OUT status (RO). */
export const P61_OUT2 = 0x20;
/**
 * The refresh toggle flips on each refresh request, every 15.085 us: counter 1's rate as
 * the AT BIOS programs it (count 18 at 1.193182 MHz). Counted in PIT clocks so that it is
 * exact on the virtual clock.
 */
const REFRESH_PIT_CLOCKS = 18;

/** What the PC speaker plays: a square wave of `hz`, or silence. */
export interface SpeakerTone { on: boolean; hz: number }

export class Port61 {
  /** The R/W bits 0-3. */
  value = 0;
  private tone: SpeakerTone = { on: false, hz: 0 };

  /**
   * Counter 2 starts with GATE low, matching bit 0 clear. `onSpeaker` (a host audio
   * backend) hears each change of the tone.
   */
  constructor(private readonly pit: Pit, private readonly onSpeaker?: (tone: SpeakerTone) => void) {
    pit.onChannel2 = () => this.speakerChanged();
  }

  /**
   * The tone: speaker data enabled and GATE2 high with counter 2 in mode 3 (the square
   * wave BIOSes and kernels use for beeps) at PIT_HZ / count.
   */
  speaker(): SpeakerTone {
    const c = this.pit.channels[2];
    const both = P61_SPEAKER | P61_GATE2;
    const on = (this.value & both) === both && c.mode === 3 && c.hasCount;
    return on ? { on, hz: PIT_HZ / c.reload } : { on: false, hz: 0 };
  }

  private speakerChanged(): void {
    const t = this.speaker();
    if (t.on !== this.tone.on || t.hz !== this.tone.hz) { this.tone = t; this.onSpeaker?.(t); }
  }

  read(): number {
    const refresh = Math.floor(this.pit.tick() / REFRESH_PIT_CLOCKS) & 1;
    return this.value | (refresh ? P61_REFRESH : 0) | (this.pit.out(2) ? P61_OUT2 : 0);
  }

  write(v: number): void {
    this.value = v & 0x0f;
    this.pit.setGate(2, (v & P61_GATE2) !== 0);
    this.speakerChanged();
  }

  /** The speaker sounds when enabled and OUT2 is high (the AND gate on the AT board). */
  get speakerOn(): boolean { return (this.value & P61_SPEAKER) !== 0 && this.pit.out(2); }

  attach(bus: Bus): void {
    bus.register({ space: 'pio', base: 0x61, length: 1, width: 1, device: {
      name: 'port61', read: () => this.read(), write: (_o, _s, v) => this.write(v),
    } });
  }

  state(): { value: number } { return { value: this.value }; }

  static fromState(s: unknown, pit: Pit, onSpeaker?: (tone: SpeakerTone) => void): Port61 {
    const p = new Port61(pit, onSpeaker);
    p.value = int(obj(s, 'port61'), 'value', 'port61', 0, 15);
    pit.setGate(2, (p.value & P61_GATE2) !== 0); // no-op unless the two snapshots disagree
    p.speakerChanged();
    return p;
  }
}
