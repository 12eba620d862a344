/**
 * The timer and the interrupt controller as nobody has programmed them: a guest that runs
 * from the reset vector and executes STI without touching the 8259A or the 8254 takes no
 * interrupt. 8254 datasheet (Intel 231164), "Programming the 8254": a counter's state is
 * undefined until its control word is written, and counting starts only after a count is
 * written. 8259A datasheet (Intel 231468): nothing is defined before ICW1. The probe
 * (power-on-probe.ts) runs under Bochs 2.7 and QEMU with nothing before it; Bochs reads
 * every byte the same as this machine. QEMU's PIT counts from reset (mode 3) and its PIC
 * starts unmasked at vector base 0, but its local APIC keeps LINT0 masked after reset
 * (SDM vol. 3A 10.4.7.1: the LVT entries reset masked), so there too no interrupt arrives.
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../bindings/machine/machine.js';
import { powerOnProbe, POWER_ON_BYTES } from './power-on-probe.js';
import { hasQemu, runQemuBios } from './qemu-probe.js';
import { hasBochs, runBochsRom } from './bochs-probe.js';

/** Ours, run once: 1 M instructions a virtual second so the RTC's seconds pass quickly. */
let cached: number[] | undefined;
async function ours(): Promise<number[]> {
  if (cached) return cached;
  const out: number[] = [];
  const m = await Machine.create({
    ramBytes: 16 << 20, firmware: powerOnProbe(), instructionsPerSecond: 1_000_000,
    debugcon: (x) => out.push(x),
  });
  expect(m.run(100_000_000)).toEqual({ kind: 'exit', status: 1 });
  expect(m.stats().interruptsInjected).toBe(0);
  return (cached = out);
}

describe('power-on state of the PIC and the PIT', () => {
  it('STI with an unprogrammed 8254 and 8259A takes no interrupt (last byte FFh)', async () => {
    const b = await ours();
    expect(b).toHaveLength(POWER_ON_BYTES);
    expect(b[POWER_ON_BYTES - 1]).toBe(0xff);
  });

  it.skipIf(!hasBochs)('reads what Bochs 2.7 reads: IRR 0, lines masked, OUT0 steady', async () => {
    expect(await ours()).toEqual(runBochsRom(powerOnProbe(), POWER_ON_BYTES));
  });

  it.skipIf(!hasQemu)('QEMU, whose PIT counts and PIC is unmasked, delivers nothing either', async () => {
    const q = runQemuBios(powerOnProbe());
    expect(q, JSON.stringify(q)).toMatchObject({ status: 1 });
    expect(q.bytes).toHaveLength(POWER_ON_BYTES);
    const b = await ours();
    expect(b[0]).toBe(q.bytes[0]); // no request latched at power-on
    expect(b[POWER_ON_BYTES - 1]).toBe(q.bytes[POWER_ON_BYTES - 1]); // no interrupt taken
  });
});
