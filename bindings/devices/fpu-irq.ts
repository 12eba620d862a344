/**
 * The PC/AT's coprocessor error logic: the CPU's FERR# output to IRQ 13 and port 0xF0.
 *
 * SDM vol. 1, 8.7 "Handling x87 FPU Exceptions in Software" and appendix D.2.1 "MS-DOS
 * Compatibility Sub-mode in the Intel486 and Pentium Processors" (the P6 keeps it): with
 * CR0.NE = 0 the processor asserts FERR# on an unmasked x87 exception; the PC routes FERR#
 * through a latch to IRQ 13, the slave 8259's IR5. The handler writes port 0F0H, which
 * clears the latch (IRQ 13 drops) and asserts IGNNE#; IGNNE# stays asserted until FERR#
 * goes away (the handler clears the exception with FNCLEX, FNINIT...), and a new FERR#
 * then raises IRQ 13 again. QEMU (hw/i386/pc.c ioport_f0_write, fpu_check_raise_ferr_irq)
 * and Bochs (iodev/devices.cc, port 0x00F0) do the same.
 *
 * The core reports FERR# and counts its assertions (`Core.ferr()`); the machine calls
 * `update()` after each exit of the core (a new assertion ends the core's run at the next
 * boundary where the interrupt can be taken). The core does not stall on IGNNE#
 * (assembly/cpu/fpu/insns.ts), so `ignne` only decides whether a port write leaves FERR#
 * pending without a new request; it is not an input to the CPU.
 */
import type { Bus } from './bus.js';
import type { IrqLine } from './irq.js';
import { bool, int, obj } from './state.js';
import type { FerrLine } from '../core/types.js';

/** The PC/AT's coprocessor ports: a write to 0xF0 clears the busy latch (IBM PC AT TRM). */
export const FPU_CLEAR_PORT = 0xf0;
/** IRQ 13: the slave 8259's IR5 on the PC/AT. */
export const FPU_IRQ = 13;

export class FpuIrq {
  /** The IRQ 13 latch: set by FERR# rising, cleared by a write to port 0xF0. */
  latched = false;
  /** IGNNE#: asserted by the port write, released when FERR# goes away. */
  ignne = false;
  private ferr = false;
  private assertions = 0;

  /** `sample` reads FERR# from the CPU (Core.ferr()). */
  constructor(private readonly line: IrqLine, private readonly sample: () => FerrLine) {}

  /** Follows FERR#: the machine calls this after each exit of the core. */
  update(): void {
    const { asserted, assertions } = this.sample();
    if (assertions !== this.assertions) {
      // FERR# was asserted anew since the last look, so it went away before: IGNNE# was
      // released, and the rising edge sets the latch.
      this.assertions = assertions;
      this.ignne = false;
      this.latched = true;
      this.line.set(true);
    }
    if (!asserted) this.ignne = false;
    this.ferr = asserted;
  }

  attach(bus: Bus): void {
    bus.register({ space: 'pio', base: FPU_CLEAR_PORT, length: 1, width: 1, device: {
      name: 'fpu-error',
      // Write-only on the PC/AT: reads float.
      read: () => 0xff,
      write: () => {
        this.update();
        this.latched = false;
        this.line.set(false);
        if (this.ferr) this.ignne = true;
      },
    } });
  }

  state() {
    return { latched: this.latched, ignne: this.ignne, ferr: this.ferr,
      assertions: this.assertions };
  }
  restore(s: unknown): void {
    const o = obj(s, 'fpuIrq');
    this.latched = bool(o, 'latched', 'fpuIrq');
    this.ignne = bool(o, 'ignne', 'fpuIrq');
    this.ferr = bool(o, 'ferr', 'fpuIrq');
    this.assertions = int(o, 'assertions', 'fpuIrq', 0, 0xffffffff);
    this.line.set(this.latched);
  }
}
