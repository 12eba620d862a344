/**
 * The PS/2 mouse on the i8042's auxiliary port: its command set (IBM PS/2 Mouse Technical
 * Reference, commands E6h-FFh) with the IntelliMouse ID detection by sample-rate sequence
 * (200, 100, 80 -> ID 3; then 200, 200, 80 -> ID 4), replying as QEMU's ps2 mouse does.
 * The host moves it with `move()`; packets go out in stream mode while reporting is on.
 */
import { bool, int, obj } from './state.js';

export const AUX_ACK = 0xfa;
export const AUX_NACK = 0xfe;

export interface Ps2MouseState {
  pending: number; enabled: boolean; remote: boolean; wrap: boolean; scaling21: boolean;
  resolution: number; sampleRate: number; type: number; detect: number; buttons: number;
}

export class Ps2Mouse {
  /** A command waiting for its parameter (F3h sample rate, E8h resolution), or 0. */
  pending = 0;
  enabled = false;
  remote = false;
  wrap = false;
  scaling21 = false;
  resolution = 2;
  sampleRate = 100;
  /** Device ID: 0 standard, 3 IntelliMouse (wheel), 4 IntelliMouse Explorer. */
  type = 0;
  /** Progress through the IntelliMouse detection sequence. */
  detect = 0;
  buttons = 0;

  /** A byte written to the mouse (controller command D4h). Returns the mouse's replies. */
  write(v: number): number[] {
    if (this.pending) {
      const cmd = this.pending;
      this.pending = 0;
      if (cmd === 0xf3) { this.setSampleRate(v); return [AUX_ACK]; }
      if (cmd === 0xe8) { this.resolution = v & 3; return [AUX_ACK]; }
    }
    if (this.wrap && v !== 0xec && v !== 0xff) return [v]; // wrap mode echoes
    switch (v) {
      case 0xff: this.reset(); return [AUX_ACK, 0xaa, 0x00]; // reset: BAT passed, ID 0
      case 0xfe: return [AUX_ACK];
      case 0xf6: this.defaults(); return [AUX_ACK];
      case 0xf5: this.enabled = false; return [AUX_ACK];
      case 0xf4: this.enabled = true; return [AUX_ACK];
      case 0xf3: case 0xe8: this.pending = v; return [AUX_ACK];
      case 0xf2: return [AUX_ACK, this.type]; // get device ID
      case 0xf0: this.remote = true; return [AUX_ACK];
      case 0xee: this.wrap = true; return [AUX_ACK];
      case 0xec: this.wrap = false; return [AUX_ACK];
      case 0xea: this.remote = false; return [AUX_ACK];
      case 0xeb: return [AUX_ACK, ...this.packet(0, 0, 0)]; // read data
      case 0xe9: // status request: mode/enable/scaling/buttons, resolution, sample rate
        return [
          AUX_ACK,
          (this.remote ? 0x40 : 0) | (this.enabled ? 0x20 : 0) | (this.scaling21 ? 0x10 : 0) |
            (this.buttons & 7),
          this.resolution, this.sampleRate,
        ];
      case 0xe7: this.scaling21 = true; return [AUX_ACK];
      case 0xe6: this.scaling21 = false; return [AUX_ACK];
      default: return [AUX_NACK];
    }
  }

  private setSampleRate(v: number): void {
    this.sampleRate = v;
    switch (this.detect) {
      case 1: this.detect = v === 100 ? 2 : v === 200 ? 3 : 0; break;
      case 2: if (v === 80) this.type = 3; this.detect = 0; break;
      case 3: if (v === 80) this.type = 4; this.detect = 0; break;
      default: this.detect = v === 200 ? 1 : 0;
    }
  }

  /** A movement packet (3 bytes, 4 with a wheel): bit 3 always set, signs and buttons. */
  packet(dx: number, dy: number, dz: number): number[] {
    dx = Math.max(-256, Math.min(255, Math.trunc(dx)));
    dy = Math.max(-256, Math.min(255, Math.trunc(dy)));
    const head = 0x08 | (this.buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0);
    const p = [head, dx & 0xff, dy & 0xff];
    if (this.type === 3 || this.type === 4) {
      p.push(Math.max(-8, Math.min(7, Math.trunc(dz))) & 0x0f);
    }
    return p;
  }

  /** Host movement (dy positive = up, as PS/2 counts) and buttons (bit 0 left, 1 right,
   *  2 middle). */
  move(dx: number, dy: number, buttons: number, dz = 0): number[] {
    this.buttons = buttons & 7;
    return this.enabled && !this.remote && !this.wrap ? this.packet(dx, dy, dz) : [];
  }

  private defaults(): void {
    this.sampleRate = 100; this.resolution = 2; this.scaling21 = false; this.enabled = false;
  }
  reset(): void {
    this.defaults();
    this.pending = 0; this.remote = false; this.wrap = false; this.type = 0; this.detect = 0;
  }

  state(): Ps2MouseState {
    const {
      pending, enabled, remote, wrap, scaling21, resolution, sampleRate, type, detect, buttons,
    } = this;
    return {
      pending, enabled, remote, wrap, scaling21, resolution, sampleRate, type, detect, buttons,
    };
  }

  static fromState(s: unknown, path: string): Ps2Mouse {
    const o = obj(s, path);
    const m = new Ps2Mouse();
    m.pending = int(o, 'pending', path, 0, 255);
    if (m.pending !== 0 && m.pending !== 0xf3 && m.pending !== 0xe8) m.pending = 0;
    for (const k of ['enabled', 'remote', 'wrap', 'scaling21'] as const) m[k] = bool(o, k, path);
    m.resolution = int(o, 'resolution', path, 0, 3);
    m.sampleRate = int(o, 'sampleRate', path, 0, 255);
    m.type = int(o, 'type', path, 0, 4);
    m.detect = int(o, 'detect', path, 0, 3);
    m.buttons = int(o, 'buttons', path, 0, 7);
    return m;
  }
}
