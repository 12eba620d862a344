/**
 * The fixtures themselves, checked against the references: the committed QEMU (and Bochs)
 * outputs are re-recorded when the emulator is installed, Bochs prints what QEMU printed
 * for the guests both can run, and v86 (npm) prints the same lines except where it is
 * known to be wrong (listed in guests/systests/README.md).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hasTool } from '../helpers/tools.js';
import {
  BOCHS_GUESTS, QEMU_GUESTS, fixture, lineDiff, runOnBochs, runOnQemu, runOnV86, withSdmLines,
} from './guests.js';

const hasQemu = hasTool('qemu-system-i386');
const hasBochs = hasTool('bochs') && hasTool('nasm');

describe.skipIf(!hasBochs)('Bochs', () => {
  // Regenerated here, not read: each Bochs fixture is what Bochs prints today, except the
  // lines where Bochs departs from the SDM (guests.ts BOCHS_DEPARTURES: the fixture holds
  // the SDM's line there).
  for (const name of BOCHS_GUESTS) {
    it(`still prints the committed fixture: ${name}`, () => {
      const want = fixture(name);
      const got = runOnBochs(name);
      expect(lineDiff(want.output, withSdmLines(name, got.output))).toEqual([]);
      expect(got.status).toBe(want.exitStatus);
    });
  }
  // Bochs as a second reference for QEMU's fixtures (its ROM loader gives other boot
  // information, so the guests that print it are left out).
  for (const name of ['segments', 'descriptors', 'exceptions', 'paging', 'rings', 'holes',
    'sysenter', 'realmode', 'realirq', 'pm16', 'sysinsns', 'debug', 'irq', 'checkpoints']) {
    it(`prints what QEMU printed: ${name}`, () => {
      expect(lineDiff(fixture(name).output, runOnBochs(name).output)).toEqual([]);
    });
  }
});

const qemuVersion = hasQemu
  ? execFileSync('qemu-system-i386', ['--version'], { encoding: 'utf8' }).split('\n')[0]
  : '';
const recordedWith = fixture('hello').header[0];
const sameQemu = hasQemu && recordedWith.includes(qemuVersion);
if (hasQemu && !sameQemu) {
  console.warn(`installed ${qemuVersion}, fixtures recorded with ` +
    `${recordedWith.replace('# reference: ', '')}: lines that differ are reported, not ` +
    'failed (re-record with scripts/build-systests.sh --record)');
}

describe.skipIf(!hasQemu)('QEMU still prints the committed fixtures', () => {
  for (const name of QEMU_GUESTS) {
    it(name, () => {
      const r = runOnQemu(name);
      const want = fixture(name);
      if (sameQemu) {
        expect(r.output).toBe(want.output);
      } else {
        const diff = lineDiff(want.output, r.output);
        if (diff.length) console.warn(`${name} under ${qemuVersion}:\n  ${diff.join('\n  ')}`);
      }
      expect(r.status).toBe(want.exitStatus);
    });
  }
});

/**
 * v86's known departures from the SDM (see guests/systests/README.md): lines whose text
 * (up to the colon) differs, the line from which v86 goes its own way (`stopsAt`; with
 * `crash` it stops there with that panic of its own), or a guest whose subject v86 does
 * not implement at all (`any`: it must still run to its end).
 */
interface V86Departure { differ?: string[]; stopsAt?: string; crash?: string; any?: true }
const V86_KNOWN: Record<string, V86Departure> = {
  mbinfo: { any: true }, // v86 puts the boot information elsewhere (EBX=0x7c00), other flags
  modules: { any: true }, // run without modules here (v86 takes one initrd, not a module list)
  exceptions: {
    differ: ['bound out of range', 'single step'],
    stopsAt: 'int 0x40 beyond idt limit',
    crash: 'Unimplemented: #GP handler',
  },
  descriptors: { stopsAt: 'lldt a data selector', crash: '#GP | lldt: not a system entry' },
  limits: { any: true }, // v86 checks no segment limits (the Bochs fixture's subject)
  strict: { stopsAt: 'mov cr0 with pg=1 pe=0', crash: 'cannot load PG without PE' },
  debug: { any: true }, // v86 has no debug traps: no breakpoints, no single-step
  sysinsns: { stopsAt: 'invd, wbinvd' }, // v86 raises #UD for INVD
  tss: { stopsAt: 'tss.ss0 = 0 (null)', crash: 'Unimplemented: #TS handler' },
  // v86 panics instead of shutting down
  triplefault: { crash: 'Unimplemented: #GP handler' },
  // ignores the real-mode IDTR base (an IVT moved by LIDT), then panics
  realmode: { stopsAt: 'int frame ip=70cf', crash: 'Unimplemented: #GP handler' },
};

describe('v86 agrees with the QEMU fixtures', () => {
  for (const name of [...QEMU_GUESTS, 'limits', 'strict', 'tss']) {
    it(name, async () => {
      const want = fixture(name);
      const got = await runOnV86(name);
      const known = V86_KNOWN[name] ?? {};
      if (known.any) {
        expect(got.exitStatus).toBe(want.exitStatus);
        return;
      }
      let expected = want.output.split('\n');
      let actual = got.output.split('\n');
      if (known.stopsAt) {
        if (known.crash) {
          expect(got.crash, 'v86 was expected to stop with a panic').toContain(known.crash);
        }
        const stop = expected.findIndex((l) => l.startsWith(known.stopsAt!));
        expect(stop).toBeGreaterThanOrEqual(0);
        expected = expected.slice(0, stop);
        actual = actual.slice(0, stop);
      } else if (known.crash) {
        expect(got.crash, 'v86 was expected to stop with a panic').toContain(known.crash);
      } else {
        expect(got.exitStatus).toBe(want.exitStatus);
      }
      const differing = actual
        .map((l, i) => (l === expected[i] ? null : (expected[i] ?? l).split(':')[0]))
        .filter((x) => x !== null);
      expect(differing).toEqual(known.differ ?? []);
      expect(actual.length).toBe(expected.length);
    });
  }
});
