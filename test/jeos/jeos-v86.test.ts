/**
 * JeOS under v86 (the npm package, an x86 emulator written elsewhere): with no disk, it
 * prints the same lines as under QEMU, measured values aside. Two independent emulators
 * agreeing on every check, count and CRC is the evidence that the kernel's results are
 * the machine's and not an accident of one emulator.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runV86, type V86Run } from '../../bindings/testing/v86.js';
// @ts-expect-error: a plain ESM script without type declarations
import * as compare from '../../scripts/compare-qemu.mjs';
import { hasTool } from '../helpers/tools.js';

const KERNEL = join(resolve(__dirname, '../..'), 'guests/jeos/jeos.elf');
const hasQemu = hasTool('qemu-system-i386');

describe('JeOS under v86', () => {
  let run: V86Run;
  let output: string;
  let lines: string[];
  beforeAll(async () => {
    run = await runV86(new Uint8Array(readFileSync(KERNEL)), { memoryBytes: 64 << 20, timeoutMs: 90_000 });
    // The runner records every byte written to 0x3F8, including the divisor-latch low
    // byte (1, for 115200 baud) the kernel writes there with LCR.DLAB set: drop it.
    output = run.output.startsWith('\x01') ? run.output.slice(1) : run.output;
    lines = compare.outputLines(output);
  });

  it('boots from the memory map v86 gives, passes every check and exits with code 0', () => {
    expect(run.crash).toBeUndefined();
    expect(run.timedOut).toBe(false);
    expect(lines).toContain('ide0 absent');
    expect(lines.filter((l) => l.startsWith('check ')).every((l) => / ok\b/.test(l))).toBe(true);
    expect(lines).toContain('wl disk skipped=no-disk');
    expect(lines).toContain('jeos summary workloads=14 failures=0');
    // v86's PIIX4 PM function (if any) has no PM I/O base programmed: JeOS finds nothing to
    // power off through and leaves through isa-debug-exit with code 0.
    expect(run.exitStatus).toBe(1);
  });

  it.skipIf(!hasQemu)('prints the lines QEMU prints, measured values aside', async () => {
    const q = await compare.runQemu({ kernel: KERNEL, mem: 64 });
    expect(q.status).toBe(0); // QEMU: JeOS powers off
    expect(compare.compareOutputs(q.output, output).differences).toEqual([]);
  });
});
