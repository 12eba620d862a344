/**
 * The i8042 keyboard controller at 0x60 (data) and 0x64 (status / command), IRQ1, and the
 * PS/2 System Control Port A at 0x92 (fast A20 and fast reset). Command and status bits
 * follow the IBM PC/AT and PS/2 technical references ("Keyboard Controller" commands
 * 0x20-0xFF, status register, command byte, output port) as QEMU's pckbd and SeaBIOS use
 * them. A PS/2 mouse (`ps2-mouse.ts`) is on the auxiliary port, on IRQ12.
 *
 * The host wires `onReset` (CPU reset, from command 0xFE, output port bit 0 or port 0x92
 * bit 0) and `onA20` (the A20 gate: output port bit 1 OR port 0x92 bit 1, as PIIX ORs them).
 */
import type { Bus, BusDevice } from './bus.js';
import type { IrqLine } from './irq.js';
import { Ps2Keyboard } from './ps2-keyboard.js';
import { Ps2Mouse } from './ps2-mouse.js';
import { bool, bytes, encodeBytes, int, intArray, obj } from './state.js';

// Status register (port 0x64 read).
export const STAT_OBF = 0x01;
export const STAT_IBF = 0x02;
export const STAT_SYS = 0x04;
export const STAT_CMD = 0x08;
export const STAT_UNLOCKED = 0x10;
export const STAT_AUX_OBF = 0x20;
// Command byte (controller RAM byte 0).
export const CB_KBD_INT = 0x01;
export const CB_AUX_INT = 0x02;
export const CB_SYS = 0x04;
export const CB_KBD_DISABLE = 0x10;
export const CB_AUX_DISABLE = 0x20;
export const CB_TRANSLATE = 0x40;
// Output port.
export const OUT_RESET = 0x01; // 0 holds the CPU in reset
export const OUT_A20 = 0x02;
export const OUT_OBF = 0x10; // IRQ1 (output buffer full from the keyboard)
export const OUT_AUX_OBF = 0x20; // IRQ12
// Port 0x92.
export const P92_FAST_RESET = 0x01;
export const P92_A20 = 0x02;

const QUEUE_MAX = 64;

export interface I8042Callbacks {
  onReset?: () => void;
  onA20?: (enabled: boolean) => void;
}

export interface I8042State {
  ram: string; status: number; outport: number; port92: number; pending: number;
  obf: number; obfAux: boolean; obfFull: boolean; ctlQueue: number[]; kbdQueue: number[];
  keyboard: unknown;
  auxQueue: number[]; mouse: unknown;
}

export class I8042 {
  /** Controller RAM; byte 0 is the command byte. */
  ram = new Uint8Array(32);
  /** SYS and CMD status bits (the others are computed). */
  status = STAT_CMD;
  /**
   * Output port: CPU running, A20 enabled, bits 2-3 (undefined) and the keyboard clock and
   * data lines (bits 6-7, idle high) set: 0xCF, the value QEMU's pckbd reports.
   */
  outport = 0xcf;
  port92 = 0;
  /** A controller command waiting for its data byte at 0x60, or 0. */
  pending = 0;
  /** The output buffer. */
  obf = 0;
  obfAux = false;
  obfFull = false;
  /** Bytes waiting behind the output buffer: the controller's own replies, then the keyboard's. */
  ctlQueue: number[] = [];
  kbdQueue: number[] = [];
  /** Bytes from the mouse waiting behind the keyboard's. */
  auxQueue: number[] = [];
  keyboard = new Ps2Keyboard();
  mouse = new Ps2Mouse();
  private irq1Level = false;
  private irq12Level = false;
  private a20 = true;

  constructor(
    private readonly irq1: IrqLine, private readonly irq12: IrqLine,
    private readonly cb: I8042Callbacks = {},
  ) {
    this.ram[0] = CB_KBD_INT | CB_AUX_INT; // QEMU's reset command byte; the BIOS rewrites it
  }

  get commandByte(): number { return this.ram[0]; }
  get a20Enabled(): boolean { return this.a20; }

  private setA20(): void {
    const on = (this.outport & OUT_A20) !== 0 || (this.port92 & P92_A20) !== 0;
    if (on !== this.a20) { this.a20 = on; this.cb.onA20?.(on); }
  }

  private resetCpu(): void { this.cb.onReset?.(); }

  /** Moves the next byte into the output buffer if it is empty; drives IRQ1. */
  private refill(): void {
    if (!this.obfFull) {
      const command = this.ram[0];
      if (this.ctlQueue.length) this.load(this.ctlQueue, false);
      else if (this.kbdQueue.length && !(command & CB_KBD_DISABLE)) this.load(this.kbdQueue, false);
      else if (this.auxQueue.length && !(command & CB_AUX_DISABLE)) this.load(this.auxQueue, true);
    }
    const l1 = this.obfFull && !this.obfAux && (this.ram[0] & CB_KBD_INT) !== 0;
    const l12 = this.obfFull && this.obfAux && (this.ram[0] & CB_AUX_INT) !== 0;
    if (l1 !== this.irq1Level) { this.irq1Level = l1; this.irq1.set(l1); }
    if (l12 !== this.irq12Level) { this.irq12Level = l12; this.irq12.set(l12); }
  }

  /** Moves the first byte of `queue` into the (empty) output buffer. */
  private load(queue: number[], aux: boolean): void {
    this.obf = queue.shift()!; this.obfAux = aux; this.obfFull = true;
  }

  private auxReply(bytes: number[]): void {
    for (const b of bytes) if (this.auxQueue.length < QUEUE_MAX) this.auxQueue.push(b & 0xff);
    this.refill();
  }

  /** Host mouse movement; a packet is queued while the mouse reports in stream mode. */
  mouseInput(dx: number, dy: number, buttons: number, dz = 0): void {
    this.auxReply(this.mouse.move(dx, dy, buttons, dz));
  }

  private reply(...b: number[]): void {
    for (const x of b) if (this.ctlQueue.length < QUEUE_MAX) this.ctlQueue.push(x & 0xff);
    this.refill();
  }

  /**
   * Bytes from the host keyboard, in the code set the guest expects; dropped if scanning is
   * off.
   */
  keyboardInput(data: ArrayLike<number>): void {
    if (!this.keyboard.scanning) return;
    for (let i = 0; i < data.length && this.kbdQueue.length < QUEUE_MAX; i++) {
      this.kbdQueue.push(data[i] & 0xff);
    }
    this.refill();
  }

  readStatus(): number {
    const obf = this.obfFull ? STAT_OBF : 0;
    const auxObf = this.obfFull && this.obfAux ? STAT_AUX_OBF : 0;
    return this.status | STAT_UNLOCKED | obf | auxObf;
  }

  readData(): number {
    const v = this.obf; // an empty buffer reads its last byte again
    this.obfFull = false;
    this.refill();
    return v;
  }

  /** Port 0x64 write: a controller command. */
  writeCommand(c: number): void {
    this.status |= STAT_CMD;
    this.pending = 0;
    if (c >= 0x20 && c <= 0x3f) { this.reply(this.ram[c & 0x1f]); return; } // read controller RAM
    if (c >= 0x60 && c <= 0x7f) { this.pending = c; return; } // write controller RAM
    switch (c) {
      case 0xa7: this.ram[0] |= CB_AUX_DISABLE; break;
      case 0xa8: this.ram[0] &= ~CB_AUX_DISABLE; this.refill(); break;
      case 0xa9: this.reply(0x00); break; // auxiliary interface test: no error
      case 0xaa: this.status |= STAT_SYS; this.reply(0x55); break; // self-test passed
      case 0xab: this.reply(0x00); break; // keyboard interface test: no error
      case 0xad: this.ram[0] |= CB_KBD_DISABLE; break;
      case 0xae: this.ram[0] &= ~CB_KBD_DISABLE; this.refill(); break;
      case 0xc0: this.reply(0x80); break; // read input port: bit 7, keyboard not inhibited
      case 0xd0: this.reply(this.readOutport()); break;
      case 0xd1: case 0xd2: case 0xd3: case 0xd4: this.pending = c; break;
      // disable A20 (HP Vectra extension)
      case 0xdd: this.outport &= ~OUT_A20; this.setA20(); break;
      case 0xdf: this.outport |= OUT_A20; this.setA20(); break; // enable A20
      default:
        // 0xF0-0xFF pulse the output port bits whose command bits 3-0 are 0: 0xFE pulses
        // bit 0, the CPU reset line.
        if (c >= 0xf0 && !(c & 0x01)) this.resetCpu();
        break;
    }
  }

  /** Output port with the live IRQ bits (bits 4 and 5 follow the output buffer). */
  private readOutport(): number {
    let v = this.outport & ~(OUT_OBF | OUT_AUX_OBF);
    if (this.obfFull) v |= this.obfAux ? OUT_AUX_OBF : OUT_OBF;
    return v;
  }

  /** Port 0x60 write: a command's data byte, or a byte for the keyboard. */
  writeData(v: number): void {
    this.status &= ~STAT_CMD;
    const cmd = this.pending;
    this.pending = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
      this.ram[cmd & 0x1f] = v;
      if (cmd === 0x60) { this.status = (this.status & ~STAT_SYS) | (v & CB_SYS); this.refill(); }
      return;
    }
    switch (cmd) {
      case 0xd1:
        this.outport = v;
        this.setA20();
        if (!(v & OUT_RESET)) this.resetCpu();
        return;
      case 0xd2: this.reply(v); return; // as if from the keyboard
      case 0xd3: this.auxReply([v]); return; // as if from the mouse
      case 0xd4: this.auxReply(this.mouse.write(v)); return; // to the mouse
    }
    // Writing to the keyboard re-enables its interface (as QEMU's pckbd does).
    this.ram[0] &= ~CB_KBD_DISABLE;
    // A guest that never reads cannot grow the queue: replies beyond it are lost, as a
    // real keyboard's would be while its buffer is full.
    const translate = (this.ram[0] & CB_TRANSLATE) !== 0;
    for (const b of this.keyboard.write(v, translate)) {
      if (this.kbdQueue.length < QUEUE_MAX) this.kbdQueue.push(b);
    }
    this.refill();
  }

  writePort92(v: number): void {
    const old = this.port92;
    this.port92 = v & 0x03;
    this.setA20();
    if (v & P92_FAST_RESET && !(old & P92_FAST_RESET)) this.resetCpu();
  }

  attach(bus: Bus): void {
    const port = (base: number, device: BusDevice) =>
      bus.register({ space: 'pio', base, length: 1, width: 1, device });
    port(0x60, {
      name: 'i8042-data', read: () => this.readData(), write: (_o, _s, v) => this.writeData(v),
    });
    port(0x64, {
      name: 'i8042-cmd', read: () => this.readStatus(), write: (_o, _s, v) => this.writeCommand(v),
    });
    port(0x92, {
      name: 'port92', read: () => this.port92, write: (_o, _s, v) => this.writePort92(v),
    });
  }

  state(): I8042State {
    return {
      ram: encodeBytes(this.ram), status: this.status, outport: this.outport, port92: this.port92,
      pending: this.pending, obf: this.obf, obfAux: this.obfAux, obfFull: this.obfFull,
      ctlQueue: [...this.ctlQueue], kbdQueue: [...this.kbdQueue],
      keyboard: this.keyboard.state(), auxQueue: [...this.auxQueue], mouse: this.mouse.state(),
    };
  }

  static fromState(s: unknown, irq1: IrqLine, irq12: IrqLine, cb: I8042Callbacks = {}): I8042 {
    const o = obj(s, 'i8042');
    const k = new I8042(irq1, irq12, cb);
    k.ram = bytes(o, 'ram', 'i8042', 32);
    k.status = int(o, 'status', 'i8042', 0, 255) & (STAT_SYS | STAT_CMD);
    k.outport = int(o, 'outport', 'i8042', 0, 255);
    k.port92 = int(o, 'port92', 'i8042', 0, 3);
    k.pending = int(o, 'pending', 'i8042', 0, 255);
    k.obf = int(o, 'obf', 'i8042', 0, 255);
    k.obfAux = bool(o, 'obfAux', 'i8042');
    k.obfFull = bool(o, 'obfFull', 'i8042');
    k.ctlQueue = intArray(o, 'ctlQueue', 'i8042', 0, 255, QUEUE_MAX).slice();
    k.kbdQueue = intArray(o, 'kbdQueue', 'i8042', 0, 255, QUEUE_MAX).slice();
    k.keyboard = Ps2Keyboard.fromState(o.keyboard, 'i8042.keyboard');
    k.auxQueue = intArray(o, 'auxQueue', 'i8042', 0, 255, QUEUE_MAX).slice();
    k.mouse = Ps2Mouse.fromState(o.mouse, 'i8042.mouse');
    k.a20 = (k.outport & OUT_A20) !== 0 || (k.port92 & P92_A20) !== 0;
    k.irq1Level = false;
    k.irq12Level = false;
    k.refill();
    return k;
  }
}
