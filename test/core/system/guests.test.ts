/**
 * System behaviour against Bochs: each guest in ./guests (nasm source, built image and the
 * fixtures are committed; ./guests/build.sh rebuilds them) runs on the core, and its serial
 * output must be the one Bochs 2.7 printed for the same image (NAME.bochs.txt; the header line
 * says how it was produced). NAME.qemu.txt holds QEMU's output for comparison only: QEMU's TCG
 * skips segment-limit checks, #AC and some error-code details (see build.sh).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runGuest } from '../../../bindings/testing/harness.js';
import { newCore } from './core.js';

const dir = fileURLToPath(new URL('./guests/', import.meta.url));

/** The reference output without its comment lines; `shutdown` when Bochs reported a triple fault. */
function reference(name: string): { lines: string[]; shutdown: boolean } {
  const text = readFileSync(dir + name + '.bochs.txt', 'latin1');
  const all = text.split('\n');
  return {
    lines: all.filter((l) => !l.startsWith('# ')).join('\n').split('\n'),
    shutdown: all.some((l) => l.startsWith('# shutdown:')),
  };
}

/** The harness takes every write to port 3f8 as a character; the guests' first such write is
 *  the 16550A divisor-latch low byte (1, written with LCR.DLAB set), not data. */
function serialText(output: string): string {
  return output.startsWith('\x01') ? output.slice(1) : output;
}

const guests: Array<[string, string]> = [
  ['segload', 'segment register loads: types, DPL/RPL/CPL, null, present, limits, expand-down, LDT, LAR/LSL/VERR/VERW'],
  ['gates', 'far transfers, 32- and 16-bit call gates with parameters, ring 3, INT n DPL, IRET nulling, I/O bitmap, POPF, #AC, 16-bit trap gate'],
  ['exceptions', 'exception vectors and error codes, IDT gate checks with EXT, #DF classes, #PF and A/D bits, triple fault'],
  ['realmode', 'real mode: IVT delivery, segment arithmetic, big real mode, 64 KiB limits, LIDT, back to protected mode'],
  ['sysregs', 'CR0/CR2/CR3/CR4 and their #GP checks, LMSW/SMSW/CLTS, debug registers, MSRs, LTR/LLDT, SYSENTER/SYSEXIT'],
  ['v86', 'virtual-8086 mode: IRET into it, IOPL-sensitive instructions, the I/O bitmap, the V86 interrupt frame'],
  ['tasks', 'task switches: CALL to a TSS and IRET back, JMP through a task gate, INT n and #DF through task gates, TSS checks'],
];

/**
 * Lines where the core is known to differ from Bochs, outside the system machinery: the
 * reference line, the core's line, and why. The test expects exactly these lines to differ
 * (and says so on the console), so fixing the cause makes it fail until the entry goes.
 */
const knownDeviations: Record<string, Array<{ bochs: string; core: string; why: string }>> = {};

function withKnownDeviations(name: string, lines: string[]): string[] {
  const out = lines.slice();
  for (const d of knownDeviations[name] ?? []) {
    const i = out.indexOf(d.bochs);
    if (i < 0) throw new Error(`${name}: known deviation not in the fixture: ${d.bochs}`);
    console.warn(`${name}: known deviation from Bochs (${d.why}): expecting "${d.core}"`);
    out[i] = d.core;
  }
  return out;
}

describe('system guests print what Bochs prints', () => {
  for (const [name, what] of guests) {
    it(`${name}: ${what}`, async () => {
      const core = await newCore();
      const image = new Uint8Array(readFileSync(dir + name + '.bin'));
      const run = runGuest(core, image, { maxInstructions: 20_000_000 });
      const ref = reference(name);
      expect(serialText(run.output).split('\n')).toEqual(withKnownDeviations(name, ref.lines));
      if (ref.shutdown) expect(run.end).toBe('shutdown');
      else expect(run.exitStatus).toBe((0x10 << 1) | 1);
    });
  }
});
