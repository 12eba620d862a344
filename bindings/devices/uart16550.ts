/**
 * National Semiconductor PC16550D UART (datasheet "PC16550D Universal Asynchronous
 * Receiver/Transmitter with FIFOs", June 1995; register map in Table II, IIR priorities in
 * Table IV). COM1 is at 0x3F8 on IRQ4, COM2 at 0x2F8 on IRQ3.
 *
 * The host side is a byte stream: transmitted bytes go to `sink` at once (the line is
 * infinitely fast, so THRE and TEMT are always set after a write), and the host pushes
 * received bytes with `receive()`, which takes only what fits in the receiver FIFO and
 * returns how many it took, so nothing is ever dropped on the host side. The character
 * timeout runs on the virtual clock from the programmed divisor and line format.
 */
import type { Bus } from './bus.js';
import type { Timer, VirtualClock } from './clock.js';
import type { IrqLine } from './irq.js';
import { bool, DeviceStateError, int, intArray, obj } from './state.js';

export const COM1 = { base: 0x3f8, irq: 4 } as const;
export const COM2 = { base: 0x2f8, irq: 3 } as const;

// IER (Table II): interrupt enables.
export const IER_ERBFI = 0x01; // received data available (and timeout)
export const IER_ETBEI = 0x02; // transmitter holding register empty
export const IER_ELSI = 0x04;  // receiver line status
export const IER_EDSSI = 0x08; // modem status
// IIR (Table IV): bit 0 = 0 when pending; bits 3-1 the source; bits 7-6 set with FIFOs on.
export const IIR_NONE = 0x01;
export const IIR_RLS = 0x06;
export const IIR_RDA = 0x04;
export const IIR_CTI = 0x0c;
export const IIR_THRE = 0x02;
export const IIR_MSI = 0x00;
export const IIR_FIFO = 0xc0;
// FCR.
export const FCR_ENABLE = 0x01;
export const FCR_RX_RESET = 0x02;
export const FCR_TX_RESET = 0x04;
// LCR.
export const LCR_DLAB = 0x80;
// MCR.
export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08;
export const MCR_LOOP = 0x10;
// LSR.
export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_PE = 0x04;
export const LSR_FE = 0x08;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
export const LSR_FIFO_ERR = 0x80;
// MSR.
export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04;
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;

const FIFO_SIZE = 16;
/** RCVR trigger levels by FCR bits 7-6. */
const TRIGGER = [1, 4, 8, 14];
/** The PC's UART input clock: 1.8432 MHz, 16 clocks per bit. */
const UART_CLOCK_HZ = 1_843_200;

export interface UartOptions {
  /**
   * On PC boards MCR OUT2 gates the INTR pin onto the ISA IRQ line (IBM Asynchronous
   * Communications Adapter), and loopback forces OUT2 inactive. Default true. QEMU does
   * not gate; set false to match it.
   */
  out2GatesIrq?: boolean;
}

export interface UartState {
  ier: number; lcr: number; mcr: number; lsrErrors: number; msr: number; scr: number;
  dll: number; dlm: number; fifoEnabled: boolean; trigger: number; thrPending: boolean;
  timeoutPending: boolean; timeoutAt: number; rx: number[]; modemInputs: number; lastRx: number;
}

export class Uart16550 {
  ier = 0;
  lcr = 0;
  mcr = 0;
  /** LSR bits 1-4 and 7 (the error bits, cleared by reading LSR). */
  lsrErrors = 0;
  /** MSR including delta bits. */
  msr = 0;
  scr = 0;
  dll = 0x0c; // 9600 baud, as after a BIOS; the datasheet leaves the divisor undefined at reset
  dlm = 0;
  fifoEnabled = false;
  trigger = 1;
  thrPending = false;
  timeoutPending = false;
  rx: number[] = [];
  /** The holding register's last character (16450 mode reads it again). */
  lastRx = 0;
  /** The modem control inputs seen when not in loopback: CTS, DSR, DCD asserted by the host. */
  modemInputs = MSR_CTS | MSR_DSR | MSR_DCD;
  private readonly timer: Timer;
  private irqLevel = false;
  private readonly out2Gates: boolean;
  /** Bytes transmitted to the host and received from it. */
  txBytes = 0;
  rxBytes = 0;

  constructor(
    private readonly clock: VirtualClock, private readonly irq: IrqLine,
    private readonly sink: (byte: number) => void, opts: UartOptions = {},
  ) {
    this.out2Gates = opts.out2GatesIrq ?? true;
    this.timer = clock.timer(() => {
      if (this.rx.length && this.fifoEnabled) { this.timeoutPending = true; this.update(); }
    });
    this.msr = this.modemInputs;
  }

  private get loop(): boolean { return (this.mcr & MCR_LOOP) !== 0; }

  /** Four character times at the programmed rate and format (datasheet, "FIFO Interrupt Mode
   *  Operation"). */
  private timeoutNs(): number {
    const divisor = (this.dlm << 8 | this.dll) || 0x10000;
    const bits = 1 + 5 + (this.lcr & 3) + (this.lcr & 0x08 ? 1 : 0) + (this.lcr & 0x04 ? 2 : 1);
    return Math.ceil((4 * bits * divisor * 16 * 1e9) / UART_CLOCK_HZ);
  }

  private restartTimeout(): void {
    if (this.rx.length && this.fifoEnabled) this.timer.arm(this.clock.now + this.timeoutNs());
    else this.timer.disarm();
  }

  /** The highest-priority pending source (Table IV). */
  private source(): number {
    if (this.ier & IER_ELSI && this.lsrErrors & (LSR_OE | LSR_PE | LSR_FE | LSR_BI)) return IIR_RLS;
    if (this.ier & IER_ERBFI) {
      if (this.rx.length >= (this.fifoEnabled ? this.trigger : 1)) return IIR_RDA;
      if (this.timeoutPending && this.rx.length) return IIR_CTI;
    }
    if (this.ier & IER_ETBEI && this.thrPending) return IIR_THRE;
    if (this.ier & IER_EDSSI && this.msr & 0x0f) return IIR_MSI;
    return IIR_NONE;
  }

  private update(): void {
    let level = this.source() !== IIR_NONE;
    if (this.out2Gates && (!(this.mcr & MCR_OUT2) || this.loop)) level = false;
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq.set(level); }
  }

  /** Host to guest. Returns how many of `data` fit (the rest should be offered again later). */
  receive(data: ArrayLike<number>): number {
    if (this.loop) return 0; // "the receiver input is disconnected" in loopback
    const room = (this.fifoEnabled ? FIFO_SIZE : 1) - this.rx.length;
    const n = Math.min(room, data.length);
    for (let i = 0; i < n; i++) this.rx.push(data[i] & 0xff);
    this.rxBytes += n;
    if (n) { this.restartTimeout(); this.update(); }
    return n;
  }

  /** Room left in the receiver. */
  get rxSpace(): number {
    return this.loop ? 0 : (this.fifoEnabled ? FIFO_SIZE : 1) - this.rx.length;
  }

  /** A character arriving from the loopback path: may overrun (datasheet, LSR bit 1). */
  private loopReceive(b: number): void {
    if (this.rx.length >= (this.fifoEnabled ? FIFO_SIZE : 1)) {
      this.lsrErrors |= LSR_OE;
      // The holding register is overwritten; a full FIFO keeps its data.
      if (!this.fifoEnabled) this.rx[0] = b;
    } else this.rx.push(b);
    this.restartTimeout();
  }

  /** Updates MSR from the modem inputs, setting delta bits on changes (datasheet, MSR). */
  private setModemStatus(inputs: number): void {
    const old = this.msr & 0xf0;
    let delta = 0;
    if ((old ^ inputs) & MSR_CTS) delta |= MSR_DCTS;
    if ((old ^ inputs) & MSR_DSR) delta |= MSR_DDSR;
    if ((old ^ inputs) & MSR_DCD) delta |= MSR_DDCD;
    if (old & MSR_RI && !(inputs & MSR_RI)) delta |= MSR_TERI; // trailing edge of RI
    this.msr = (this.msr & 0x0f) | delta | inputs;
  }

  /** The host changes the modem control inputs (CTS, DSR, RI, DCD in MSR bit positions). */
  setModemInputs(inputs: number): void {
    this.modemInputs = inputs & 0xf0;
    if (!this.loop) { this.setModemStatus(this.modemInputs); this.update(); }
  }

  /** In loopback, DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (datasheet, MCR bit 4). */
  private loopInputs(): number {
    const m = this.mcr;
    return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) |
      (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
  }

  read(offset: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case 0: {
        if (dlab) return this.dll;
        // Without FIFOs RBR keeps the last character after it is read (only DR clears);
        // an empty FIFO reads 00h, as QEMU's does.
        const b = this.rx.length ? this.rx.shift()! : this.fifoEnabled ? 0 : this.lastRx;
        this.lastRx = b;
        this.timeoutPending = false;
        this.restartTimeout();
        this.update();
        return b;
      }
      case 1: return dlab ? this.dlm : this.ier;
      case 2: {
        const src = this.source();
        // Reading IIR clears a THRE interrupt when it is the one reported (Table IV).
        if (src === IIR_THRE) { this.thrPending = false; this.update(); }
        return src | (this.fifoEnabled ? IIR_FIFO : 0);
      }
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: {
        const v = (this.rx.length ? LSR_DR : 0) | LSR_THRE | LSR_TEMT | this.lsrErrors;
        this.lsrErrors = 0;
        this.update();
        return v;
      }
      case 6: {
        const v = this.msr;
        this.msr &= 0xf0;
        this.update();
        return v;
      }
      default: return this.scr;
    }
  }

  write(offset: number, v: number): void {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case 0:
        if (dlab) { this.dll = v; break; }
        this.txBytes++;
        if (this.loop) this.loopReceive(v); else this.sink(v);
        // The byte leaves THR at once: THR is empty again, so THRE interrupts again.
        this.thrPending = true;
        break;
      case 1: {
        if (dlab) { this.dlm = v; break; }
        const was = this.ier;
        this.ier = v & 0x0f;
        // Enabling ETBEI with THR empty raises THRE at once (datasheet, IER bit 1).
        if (!(this.ier & IER_ETBEI)) this.thrPending = false;
        else if (!(was & IER_ETBEI)) this.thrPending = true;
        break;
      }
      case 2: this.writeFcr(v); break;
      case 3: this.lcr = v; break;
      case 4: {
        this.mcr = v & 0x1f;
        this.setModemStatus(this.loop ? this.loopInputs() : this.modemInputs);
        break;
      }
      case 5: break; // LSR is read-only here (a factory test register on the part)
      case 6: break; // MSR likewise
      default: this.scr = v;
    }
    this.update();
  }

  /** FCR (datasheet, "FIFO Control Register"): FCR0 must be set for the other bits to count. */
  private writeFcr(v: number): void {
    const enable = (v & FCR_ENABLE) !== 0;
    // Changing mode clears the FIFOs.
    if (enable !== this.fifoEnabled) { this.rx = []; this.timeoutPending = false; }
    this.fifoEnabled = enable;
    if (!enable) return;
    if (v & FCR_RX_RESET) { this.rx = []; this.timeoutPending = false; }
    this.trigger = TRIGGER[v >> 6];
    this.restartTimeout();
  }

  attach(bus: Bus, base: number): void {
    bus.register({ space: 'pio', base, length: 8, width: 1, device: {
      name: `uart@${base.toString(16)}`,
      read: (o) => this.read(o), write: (o, _s, v) => this.write(o, v),
    } });
  }

  state(): UartState {
    const {
      ier, lcr, mcr, lsrErrors, msr, scr, dll, dlm, fifoEnabled, trigger, thrPending,
      timeoutPending, modemInputs, lastRx,
    } = this;
    return {
      ier, lcr, mcr, lsrErrors, msr, scr, dll, dlm, fifoEnabled, trigger, thrPending,
      timeoutPending, timeoutAt: this.timer.deadline, rx: [...this.rx], modemInputs, lastRx,
    };
  }

  static fromState(
    s: unknown, clock: VirtualClock, irq: IrqLine, sink: (byte: number) => void,
    opts: UartOptions = {}, path = 'uart',
  ): Uart16550 {
    const o = obj(s, path);
    const u = new Uart16550(clock, irq, sink, opts);
    u.ier = int(o, 'ier', path, 0, 15);
    u.mcr = int(o, 'mcr', path, 0, 0x1f);
    const byteFields = [
      'lcr', 'lsrErrors', 'msr', 'scr', 'dll', 'dlm', 'modemInputs', 'lastRx',
    ] as const;
    for (const k of byteFields) u[k] = int(o, k, path, 0, 255);
    u.trigger = int(o, 'trigger', path, 1, 14);
    if (!TRIGGER.includes(u.trigger)) {
      throw new DeviceStateError(`${path}.trigger`, 'expected 1, 4, 8 or 14');
    }
    u.fifoEnabled = bool(o, 'fifoEnabled', path);
    u.thrPending = bool(o, 'thrPending', path);
    u.timeoutPending = bool(o, 'timeoutPending', path);
    u.rx = intArray(o, 'rx', path, 0, 255, u.fifoEnabled ? FIFO_SIZE : 1).slice();
    const at = int(o, 'timeoutAt', path, -1, Number.MAX_SAFE_INTEGER);
    if (at >= 0) u.timer.arm(at);
    u.irqLevel = false;
    u.update();
    return u;
  }
}
