/**
 * The PCI host bridge's configuration mechanism #1 (PCI Local Bus Specification 3.0,
 * 3.2.2.3.2): CONFIG_ADDRESS at 0xCF8 (dword accesses only), CONFIG_DATA at 0xCFC-0xCFF
 * (byte, word or dword at any offset). One bus, bus 0. Also the PIIX3 Reset Control
 * Register at 0xCF9 (82371SB datasheet, 4.1.x RC), which shares the CONFIG_ADDRESS ports
 * for byte accesses.
 */
import type { Bus } from '../bus.js';
import { int, obj } from '../state.js';
import type { IrqLine } from '../irq.js';
import {
  HEADER_MULTIFUNCTION, PCI_HEADER_TYPE, PCI_INTERRUPT_PIN, type PciFunction,
} from './pci-function.js';

/** CONFIG_ADDRESS bit 31: enable; bits 30-24 reserved (read 0); bits 1-0 read 0. */
const ADDR_ENABLE = 0x80000000;
const ADDR_MASK = 0x80fffffc;
/** Reset Control: bit 2 RCPU (a 0-to-1 transition resets), bit 1 SRST (hard reset). */
const RC_RCPU = 0x04;
const RC_SRST = 0x02;

export class PciHost {
  address = 0;
  rc = 0;
  /** Functions by (device << 3 | function) on bus 0. */
  readonly functions = new Map<number, PciFunction>();

  /**
   * @param route gives a function's INTx line from its slot and Interrupt Pin (the
   * chipset's PIRQ router); without it INTx goes nowhere.
   */
  constructor(
    private readonly onReset: () => void = () => {},
    private readonly route?: (slot: number, pin: number) => IrqLine,
  ) {}

  /** Puts `fn` at 00:device.function; function 0 gets the multi-function bit when others exist. */
  add(device: number, fn: number, f: PciFunction): void {
    if (device < 0 || device > 31 || fn < 0 || fn > 7) {
      throw new RangeError(`no PCI slot ${device}.${fn}`);
    }
    const key = device << 3 | fn;
    if (this.functions.has(key)) {
      throw new RangeError(`PCI slot 00:${device.toString(16)}.${fn} is taken`);
    }
    this.functions.set(key, f);
    const pin = f.config[PCI_INTERRUPT_PIN];
    if (this.route && pin >= 1 && pin <= 4) f.intxLine = this.route(device, pin);
    const f0 = this.functions.get(device << 3);
    if (fn > 0 && f0) f0.config[PCI_HEADER_TYPE] |= HEADER_MULTIFUNCTION;
  }

  /** The function CONFIG_ADDRESS selects, or undefined (type 1 and other buses find nothing). */
  private selected(): PciFunction | undefined {
    if (!(this.address & ADDR_ENABLE)) return undefined;
    if ((this.address >> 16) & 0xff) return undefined; // only bus 0
    const key = (this.address >> 8) & 0xff;
    // "Functions other than 0 are only checked when function 0 exists" (3.0, 3.2.2.3.4 note)
    if (!this.functions.has(key & ~7)) return undefined;
    return this.functions.get(key);
  }

  readData(offset: number, size: 1 | 2 | 4): number {
    const f = this.selected();
    if (!f) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1; // master abort: all ones
    return f.readConfig((this.address & 0xfc) + offset, size);
  }

  writeData(offset: number, size: 1 | 2 | 4, v: number): void {
    this.selected()?.writeConfig((this.address & 0xfc) + offset, size, v);
  }

  attach(bus: Bus): void {
    bus.register({ space: 'pio', base: 0xcf8, length: 4, width: 4, device: {
      name: 'pci-config-address',
      read: (o, s) => {
        if (o === 0 && s === 4) return this.address;
        if (o === 1 && s === 1) return this.rc;
        return s === 4 ? 0xffffffff : (1 << (8 * s)) - 1; // not CONFIG_ADDRESS: floats
      },
      write: (o, s, v) => {
        if (o === 0 && s === 4) this.address = (v & ADDR_MASK) >>> 0;
        else if (o === 1 && s === 1) {
          if (v & RC_RCPU && !(this.rc & RC_RCPU)) this.onReset();
          this.rc = v & RC_SRST;
        }
      },
    } });
    bus.register({ space: 'pio', base: 0xcfc, length: 4, width: 4, device: {
      name: 'pci-config-data',
      read: (o, s) => this.readData(o, s), write: (o, s, v) => this.writeData(o, s, v),
    } });
  }

  state(): { address: number; rc: number; functions: Record<string, unknown> } {
    const functions: Record<string, unknown> = {};
    for (const [k, f] of this.functions) functions[`${k >> 3}.${k & 7}`] = f.state();
    return { address: this.address, rc: this.rc, functions };
  }

  /** Restores into the functions already added (the machine builds the same slots). */
  restore(s: unknown): void {
    const o = obj(s, 'pci');
    this.address = (int(o, 'address', 'pci', 0, 0xffffffff) & ADDR_MASK) >>> 0;
    this.rc = int(o, 'rc', 'pci', 0, 255) & RC_SRST;
    const fns = obj(o.functions, 'pci.functions');
    for (const [k, f] of this.functions) {
      const key = `${k >> 3}.${k & 7}`;
      if (key in fns) f.restore(fns[key], `pci.functions.${key}`);
    }
  }
}
