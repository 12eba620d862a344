/**
 * PCI interrupt routing of the PIIX3 (82371SB datasheet 2.2.9, "PIRQRC[A:D]—PIRQx Route
 * Control Registers", config 0x60-0x63 of the ISA bridge): each of the four PIRQ links goes
 * to an ISA IRQ when bit 7 is clear, bits 3-0 naming it (3-7, 9-12, 14, 15 are valid).
 *
 * A function's INTx pin reaches link (pin - 1 + slot - 1) mod 4, the swizzle of the i440FX
 * board that QEMU wires and SeaBIOS assumes when it fills Interrupt Line. Links are
 * wired-OR (PCI interrupts are shared, active-low, level), so an ISA IRQ is asserted while
 * any link routed to it is; the guest sets that IRQ level-triggered in the ELCR.
 */
import type { IrqLine } from '../irq.js';
import type { PicPair } from '../pic-pair.js';
import type { PciFunction } from './pci-function.js';

export const PIRQRC = 0x60;
const ROUTE_DISABLE = 0x80;
const VALID_IRQS = new Set([3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15]);

export class PiixIrqRouter {
  /** How many functions assert each link. */
  private readonly asserted = [0, 0, 0, 0];
  /** The ISA IRQ each link drives now, or -1. */
  private readonly routed = [-1, -1, -1, -1];
  /** The level this router drives on each ISA IRQ. */
  private readonly isaLevel = new Map<number, boolean>();

  constructor(private readonly isa: PciFunction, private readonly pic: PicPair) {
    isa.onConfigWrite = (off) => { if (off >= PIRQRC && off < PIRQRC + 4) this.reroute(); };
    this.reroute();
  }

  /** The link a function's pin (1 = INTA# .. 4 = INTD#) in `slot` reaches. */
  static link(slot: number, pin: number): number { return (pin - 1 + slot - 1) & 3; }

  /** The interrupt line for a function in `slot` with Interrupt Pin `pin`. */
  line(slot: number, pin: number): IrqLine {
    const link = PiixIrqRouter.link(slot, pin);
    let level = false;
    const set = (l: boolean) => {
      if (l === level) return;
      level = l;
      this.asserted[link] += l ? 1 : -1;
      this.drive();
    };
    return { set, pulse: () => { set(true); set(false); } };
  }

  private reroute(): void {
    for (let i = 0; i < 4; i++) {
      const v = this.isa.config[PIRQRC + i];
      this.routed[i] = v & ROUTE_DISABLE || !VALID_IRQS.has(v & 0x0f) ? -1 : v & 0x0f;
    }
    this.drive();
  }

  /** Sets every ISA IRQ this router feeds to the OR of the links routed to it. */
  private drive(): void {
    const want = new Map<number, boolean>();
    for (const irq of this.isaLevel.keys()) want.set(irq, false);
    for (let i = 0; i < 4; i++) {
      const irq = this.routed[i];
      if (irq >= 0) want.set(irq, (want.get(irq) ?? false) || this.asserted[i] > 0);
    }
    for (const [irq, l] of want) {
      if ((this.isaLevel.get(irq) ?? false) !== l) this.pic.line(irq).set(l);
      this.isaLevel.set(irq, l);
    }
  }
}
