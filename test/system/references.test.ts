/**
 * The fixtures themselves, checked against the references: the committed QEMU outputs
 * are re-recorded when qemu-system-i386 is installed, and v86 (npm) prints the same lines
 * except where it is known to be wrong (listed in guests/systests/README.md).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runV86 } from '../../bindings/testing/v86.js';
import { SYSTEST_GUESTS, fixture, guestImage, lineDiff } from './guests.js';

const hasQemu = spawnSync('qemu-system-i386', ['--version']).status === 0;
if (!hasQemu) console.warn('qemu-system-i386 not installed: the QEMU fixtures are not re-checked');

describe.skipIf(!hasQemu)('QEMU still prints the committed fixtures', () => {
  const guestsDir = new URL('../../guests/systests/', import.meta.url);
  for (const name of SYSTEST_GUESTS) {
    it(name, () => {
      const file = name.startsWith('elf/') ? `${name}.elf` : `${name}.bin`;
      const r = spawnSync('sh', ['run-qemu.sh', file], { cwd: guestsDir, timeout: 30_000, encoding: 'utf8' });
      const want = fixture(name);
      expect(r.stdout).toBe(want.output);
      expect(r.status).toBe(want.exitStatus);
    });
  }
  it('is the QEMU version the fixtures name (else re-record them)', () => {
    const version = execFileSync('qemu-system-i386', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    if (!fixture('hello').header[0].includes(version)) console.warn(`fixtures recorded with another QEMU: ${fixture('hello').header[0]}, installed: ${version}`);
    expect(version).toMatch(/QEMU emulator version/);
  });
});

/** v86's known departures from the SDM, as the fixture lines they change. */
const V86_KNOWN: Record<string, string[]> = {
  mbinfo: ['*'], // v86 puts the boot information elsewhere (EBX=0x7c00) and sets other flags
};

describe('v86 agrees with the QEMU fixtures', () => {
  for (const name of SYSTEST_GUESTS) {
    if (name === 'exceptions') continue; // below
    it(name, async () => {
      const want = fixture(name);
      const got = await runV86(guestImage(name), { timeoutMs: 30_000 });
      const known = V86_KNOWN[name] ?? [];
      if (known.includes('*')) {
        expect(got.exitStatus).toBe(want.exitStatus);
        return;
      }
      const diff = lineDiff(want.output, got.output).filter((d) => !known.some((k) => d.includes(JSON.stringify(k))));
      expect(diff).toEqual([]);
      expect(got.exitStatus).toBe(want.exitStatus);
    });
  }
  it('exceptions: the same up to where v86 stops, except BOUND and single-step', async () => {
    const want = fixture('exceptions').output.split('\n');
    const got = await runV86(guestImage('exceptions'), { timeoutMs: 30_000 });
    // v86 0.5.462 panics ("Unimplemented: #GP handler") on an INT beyond the IDT limit.
    expect(got.crash).toBeDefined();
    const lines = got.output.split('\n');
    const stop = want.findIndex((l) => l.startsWith('int 0x40 beyond idt limit'));
    const differing = lines.slice(0, stop).filter((l, i) => l !== want[i]).map((l) => l.split(':')[0]);
    expect(differing).toEqual(['bound out of range', 'single step']);
  });
});
