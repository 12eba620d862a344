/**
 * Debian 12's own i386 kernel (linux-image-*-686, unmodified) boots on wasmvisor with the
 * Linux boot protocol (bindings/boot/linux.ts) to a busybox shell on ttyS0, runs the
 * commands of tools/linux/session.mjs typed into COM1, and powers off with `poweroff -f`
 * through the ACPI tables' PM1a_CNT (\_S5's SLP_TYP | SLP_EN), as under QEMU.
 * Its kernel log is compared, milestone by milestone, with QEMU's boot of the same files
 * (`qemu-system-i386 -cpu pentium2`, recorded by tools/linux/qemu-boot.mjs into the same
 * cache; tools/linux/fetch.sh fetches the packages and records it).
 *
 * The machines differ where the README's Linux section says (no SMBIOS, MP table or APIC
 * here, a small DSDT; no top-of-RAM firmware area), so only the milestones that depend on
 * neither timing nor firmware are compared line for line.
 *
 * The hardware modes boot the same kernel in test/linux/modes.test.ts.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasTool } from '../helpers/tools.js';
import { LINUX_CACHE } from '../helpers/tools-probe.js';
// @ts-expect-error a plain .mjs module shared with the recording script
import { MILESTONES, milestones } from '../../tools/linux/session.mjs';
import { boot, withLinux, type Boot } from './boot.js';

describe.skipIf(!withLinux)('Debian 12 i386 kernel, busybox initramfs', () => {
  let first: Boot;
  beforeAll(async () => { first = await boot(); }, 900_000);

  it('boots to the shell, runs the commands and powers off', () => {
    const { log, stop } = first;
    // The FADT and the DSDT's \_S5: the kernel writes SLP_TYP | SLP_EN to PM1a_CNT, as under
    // QEMU, which prints the same line (checked against its log below).
    expect(log).toContain('reboot: Power down');
    expect(stop).toEqual({ kind: 'poweroff' });
    expect(log).toMatch(/Linux \(none\) 6\.\d+\.\d+-\d+-686 #1 SMP PREEMPT_DYNAMIC Debian .* i686 GNU\/Linux/);
    // /proc/cpuinfo: the CPU the core's CPUID describes (family 6, model 8, x87, no SSE).
    expect(log).toMatch(/vendor_id\s*: GenuineIntel/);
    expect(log).toMatch(/cpu family\s*: 6/);
    expect(log).toMatch(/flags\s*: fpu .*\bcmov\b/);
    expect(log).not.toMatch(/flags\s*: .*\bsse\b/);
    // /proc/interrupts: the PIT on IRQ 0 and COM1 on IRQ 4, through the 8259 pair.
    expect(log).toMatch(/ 0: +\d+ +XT-PIC +timer/);
    expect(log).toMatch(/ 4: +\d+ +XT-PIC +ttyS0/);
    expect(log).toContain('\ntmpfs-42');
    expect(log.match(/256\+0 records in/g)?.length).toBe(3);
    expect(log).toMatch(/ 262144 .*\/tmp\/z/);
    expect(log).toContain('wasmvisor-initramfs: done');
    console.log(`linux: shell prompt after ${first.toPrompt} instructions; session done ` +
      `after ${first.instructions}; ${first.wallMs} ms`);
  });

  it('prints the same milestones as QEMU -cpu pentium2', () => {
    const qemuLog = join(LINUX_CACHE, 'qemu.log');
    // QEMU's record is made by tools/linux/fetch.sh where QEMU is installed (CI).
    if (!hasTool('qemu-system-i386') || !existsSync(qemuLog)) {
      expect(process.env.CI, 'CI records QEMU\'s boot (tools/linux/fetch.sh)').not.toBe('true');
      return;
    }
    const ours = milestones(first.log) as (string | undefined)[];
    const theirs = milestones(readFileSync(qemuLog, 'latin1')) as (string | undefined)[];
    MILESTONES.forEach((re: RegExp, i: number) => {
      expect(theirs[i], `QEMU printed ${re}`).toBeDefined();
      expect(ours[i], `milestone ${re}`).toBe(theirs[i]);
    });
    // Both power off the same way: the ACPI S5 path (kernel/reboot.c, "Power down").
    expect(readFileSync(qemuLog, 'latin1')).toContain('reboot: Power down');
  });

  it('is deterministic: a second boot prints the same bytes', async () => {
    const second = await boot();
    expect(second.instructions).toBe(first.instructions);
    expect(second.log).toBe(first.log);
  }, 900_000);
});
