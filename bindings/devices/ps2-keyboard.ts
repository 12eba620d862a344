/**
 * The PS/2 keyboard behind the i8042: enough of its command set for a guest that probes
 * and initialises it (IBM "Keyboard and Auxiliary Device Controller" technical reference,
 * keyboard commands; the codes are the same in every PS/2 keyboard). Host keys arrive as
 * bytes already in the code set the guest expects.
 */
import { bool, int, obj } from './state.js';

export const KBD_ACK = 0xfa;
export const KBD_RESEND = 0xfe;
export const KBD_BAT_OK = 0xaa;
export const KBD_ECHO = 0xee;

export interface Ps2KeyboardState {
  pending: number; scanning: boolean; leds: number; codeSet: number; typematic: number;
}

export class Ps2Keyboard {
  /** A command waiting for its parameter byte (0xED, 0xF0, 0xF3), or 0. */
  pending = 0;
  scanning = true;
  leds = 0;
  codeSet = 2;
  typematic = 0x2b;

  /**
   * A byte from the host (through the controller). Returns the keyboard's reply bytes.
   * `translate` is the controller's translation (command byte bit 6), which turns the
   * keyboard ID 0x83 into 0x41 on the way to the host.
   */
  write(v: number, translate: boolean): number[] {
    if (this.pending) {
      const cmd = this.pending;
      this.pending = 0;
      switch (cmd) {
        case 0xed: this.leds = v & 7; return [KBD_ACK];
        case 0xf3: this.typematic = v & 0x7f; return [KBD_ACK];
        case 0xf0:
          // The controller's translation turns the set number too: 1, 2, 3 -> 0x43, 0x41, 0x3F
          // (the set 2 to set 1 table every translating 8042 uses).
          if (v === 0) {
            return [KBD_ACK, translate ? [0, 0x43, 0x41, 0x3f][this.codeSet] : this.codeSet];
          }
          if (v >= 1 && v <= 3) { this.codeSet = v; return [KBD_ACK]; }
          return [KBD_RESEND];
      }
    }
    switch (v) {
      case 0xff: this.reset(); return [KBD_ACK, KBD_BAT_OK]; // reset and basic assurance test
      case 0xfe: return [KBD_ACK]; // resend: nothing was lost here
      case 0xf6: this.defaults(); return [KBD_ACK]; // set default
      case 0xf5: this.defaults(); this.scanning = false; return [KBD_ACK]; // default disable
      case 0xf4: this.scanning = true; return [KBD_ACK]; // enable
      case 0xf3: case 0xed: case 0xf0: this.pending = v; return [KBD_ACK];
      case 0xf2: return [KBD_ACK, 0xab, translate ? 0x41 : 0x83]; // read ID: MF2 keyboard
      case 0xee: return [KBD_ECHO];
      case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        return [KBD_ACK]; // set-3 key modes
      default: return [KBD_RESEND];
    }
  }

  private defaults(): void { this.typematic = 0x2b; this.codeSet = 2; }
  reset(): void { this.defaults(); this.pending = 0; this.scanning = true; this.leds = 0; }

  state(): Ps2KeyboardState {
    const { pending, scanning, leds, codeSet, typematic } = this;
    return { pending, scanning, leds, codeSet, typematic };
  }

  static fromState(s: unknown, path: string): Ps2Keyboard {
    const o = obj(s, path);
    const k = new Ps2Keyboard();
    k.pending = int(o, 'pending', path, 0, 255);
    if (![0, 0xed, 0xf0, 0xf3].includes(k.pending)) k.pending = 0;
    k.scanning = bool(o, 'scanning', path);
    k.leds = int(o, 'leds', path, 0, 7);
    k.codeSet = int(o, 'codeSet', path, 1, 3);
    k.typematic = int(o, 'typematic', path, 0, 0x7f);
    return k;
  }
}
