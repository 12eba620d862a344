/**
 * The system test guests and their fixtures (guests/systests, see its README): recorded
 * under QEMU, except the BOCHS_GUESTS, which QEMU cannot judge and Bochs recorded.
 */
import { readFileSync } from 'node:fs';
import type { HarnessOptions } from '../../bindings/testing/harness.js';

export const SYSTEST_GUESTS = [
  'hello', 'pmode', 'mbinfo', 'segments', 'descriptors', 'exceptions', 'paging', 'rings', 'holes',
  'sysenter', 'tss', 'realmode', 'realirq', 'pm16', 'modules', 'sysinsns', 'debug', 'irq', 'triplefault', 'limits', 'strict',
  'checkpoints', 'elf/elfkernel', 'elf/higherhalf',
] as const;

export const BOCHS_GUESTS = ['limits', 'strict', 'tss'];

const root = new URL('../../guests/systests/', import.meta.url);

/**
 * Boot arguments (and, for irq, the interrupt a PIC would raise) of the guests that take
 * some: the same as their QEMU command line in the
 * fixture header. QEMU prefixes the command line with the kernel's file name and passes
 * each -initrd entry ("file args") whole as the module string; these are given as such.
 */
export function guestBootOptions(name: string): HarnessOptions {
  // irq: the PIT's IRQ0 through the PIC, remapped by the guest to vector 0x20: first at
  // its HLT, then pending when it executes STI (taken after the next instruction).
  if (name === 'irq') return { interrupts: [{ when: 'hlt', vector: 0x20 }, { when: 'window', vector: 0x20 }] };
  if (name === 'realirq') return { interrupts: [{ when: 'hlt', vector: 0x20 }] };
  if (name !== 'modules') return {};
  const file = (p: string) => new Uint8Array(readFileSync(new URL(p, root)));
  return {
    cmdline: 'modules.bin one two=2',
    modules: [
      { data: file('modules/a.txt'), string: 'modules/a.txt first module' },
      { data: file('modules/b.txt'), string: 'modules/b.txt' },
    ],
  };
}

export function guestImage(name: string): Uint8Array {
  const file = name.startsWith('elf/') ? `${name}.elf` : `${name}.bin`;
  return new Uint8Array(readFileSync(new URL(file, root)));
}

export interface Fixture {
  /** The header lines ("# reference: QEMU ..."). */
  header: string[];
  output: string;
  exitStatus: number;
}

export function fixture(name: string): Fixture {
  const text = readFileSync(new URL(`expected/${name.replace(/^elf\//, '')}.txt`, root), 'utf8');
  const lines = text.split('\n');
  const header = lines.filter((l) => l.startsWith('# '));
  const output = lines.filter((l) => !l.startsWith('# ')).join('\n');
  const status = /^# exit status: (\d+)/.exec(header.find((l) => l.startsWith('# exit status')) ?? '');
  if (!status) throw new Error(`fixture ${name} has no "# exit status" line`);
  return { header, output, exitStatus: Number(status[1]) };
}

/** Lines that differ, as "line N: expected | actual". */
export function lineDiff(expected: string, actual: string): string[] {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) out.push(`line ${i + 1}: ${JSON.stringify(a[i])} | ${JSON.stringify(b[i])}`);
  }
  return out;
}
