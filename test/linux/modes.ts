/**
 * The same Debian kernel (test/linux/debian.test.ts) under a hardware mode: one boot,
 * stopped at the shell prompt; its kernel-log milestones up to the init's marker are
 * QEMU's (tools/linux/qemu-boot.mjs's record of `qemu-system-i386 -cpu pentium2`), as the
 * native boot's are. Used by modes-nested.test.ts and modes-shadow.test.ts (two files, so
 * their boots run side by side).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineConfig } from '../../bindings/machine/machine.js';
import { LINUX_CACHE } from '../helpers/tools-probe.js';
// @ts-expect-error a plain .mjs module shared with the recording script
import { MILESTONES, milestones } from '../../tools/linux/session.mjs';
import { boot, withLinux } from './boot.js';

/** The milestones printed before the shell prompt (up to the init's marker). */
const BEFORE_SHELL =
  MILESTONES.findIndex((re: RegExp) => re.test('wasmvisor-initramfs: init running')) + 1;

/** One test per mode: a boot to the shell prompt, its milestones QEMU's. */
export function bootsUnder(modes: [string, Partial<MachineConfig>][]): void {
  describe.skipIf(!withLinux)('the same kernel under the hardware modes', () => {
    for (const [name, vmm] of modes) {
      it(`${name}: boots to the shell prompt, the milestones QEMU's (as native's)`, async () => {
        const b = await boot(vmm, true);
        expect(b.toPrompt, `${name} reached the prompt`).toBeGreaterThan(0);
        const ours = (milestones(b.log) as (string | undefined)[]).slice(0, BEFORE_SHELL);
        const qemuLog = join(LINUX_CACHE, 'qemu.log');
        if (existsSync(qemuLog)) {
          const theirs = milestones(readFileSync(qemuLog, 'latin1')) as (string | undefined)[];
          expect(ours).toEqual(theirs.slice(0, BEFORE_SHELL));
        } else {
          expect(process.env.CI, 'CI records QEMU\'s boot (tools/linux/fetch.sh)').not.toBe('true');
          MILESTONES.slice(0, BEFORE_SHELL).forEach((re: RegExp, i: number) =>
            expect(ours[i], `milestone ${re}`).toBeDefined());
        }
        console.log(`linux under ${name}: shell prompt after ${b.toPrompt} instructions, ` +
          `${b.exits} exits to the host, ${b.vmExits} VM exits, ${b.wallMs} ms`);
      }, 900_000);
    }
  });
}
