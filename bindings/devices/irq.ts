/**
 * Interrupt lines. A device gets an `IrqLine` injected and drives it like the pin it has:
 * `set(level)` for level outputs (the UART's INTR, the RTC's IRQ#), `pulse()` for a
 * one-shot edge. The line's receiver (the PIC) decides edge or level sensing.
 */
export interface IrqLine {
  set(level: boolean): void;
  /** A rising then falling edge. */
  pulse(): void;
}

/** A line connected to nothing (a device built without its interrupt wired). */
export const NO_IRQ: IrqLine = { set() {}, pulse() {} };

/** A line that records its level; tests and simple consumers use it. */
export class RecordingIrqLine implements IrqLine {
  level = false;
  /** Number of low-to-high transitions seen. */
  rises = 0;
  set(level: boolean): void {
    if (level && !this.level) this.rises++;
    this.level = level;
  }
  pulse(): void { this.set(true); this.set(false); }
}
