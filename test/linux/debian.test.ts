/**
 * Debian 12's own i386 kernel (linux-image-*-686, unmodified) boots on wasmvisor with the
 * Linux boot protocol (bindings/boot/linux.ts) to a busybox shell on ttyS0, runs the
 * commands of tools/linux/session.mjs typed into COM1, and stops with `poweroff -f`.
 * Its kernel log is compared, milestone by milestone, with QEMU's boot of the same files
 * (`qemu-system-i386 -cpu pentium2`, recorded by tools/linux/qemu-boot.mjs into the same
 * cache; tools/linux/fetch.sh fetches the packages and records it).
 *
 * The machines differ where the README's Linux section says (no ACPI, SMBIOS, MP table or
 * APIC here yet; no top-of-RAM firmware area), so only the milestones that depend on
 * neither timing nor firmware are compared line for line.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, type StopReason } from '../../bindings/machine/machine.js';
import { hasTool } from '../helpers/tools.js';
import { LINUX_CACHE } from '../helpers/tools-probe.js';
// @ts-expect-error a plain .mjs module shared with the recording script
import { APPEND, COMMANDS, PROMPT, MILESTONES, milestones } from '../../tools/linux/session.mjs';

const withLinux = hasTool('debian-linux');
const RAM = 128 * 1024 * 1024;
/** Guest instructions a boot and the session may take (about 7.5 billion are needed). */
const LIMIT = 20_000_000_000;

interface Boot {
  log: string;
  stop: StopReason;
  instructions: number;
  toPrompt: number;
  wallMs: number;
}

/** Boots the kernel, types each command once the prompt is back, runs to the end. */
async function boot(): Promise<Boot> {
  let log = '';
  const m = await Machine.create({
    ramBytes: RAM, cmdline: APPEND,
    kernel: new Uint8Array(readFileSync(join(LINUX_CACHE, 'vmlinuz'))),
    initrd: new Uint8Array(readFileSync(join(LINUX_CACHE, 'initrd.cpio'))),
    serialOut: (b) => { log += String.fromCharCode(b); },
  });
  const t0 = performance.now();
  const prompts = () => log.split(PROMPT).length - 1;
  let typed = 0, seen = 0, toPrompt = 0;
  let stop: StopReason;
  for (;;) {
    stop = m.run(20_000_000);
    if (stop.kind !== 'limit') break;
    const n = prompts();
    if (n > seen && typed < COMMANDS.length) {
      if (!toPrompt) toPrompt = m.stats().instructions;
      seen = n;
      m.inputOpen = true;
      m.input(new TextEncoder().encode(COMMANDS[typed++] + '\n'));
    }
    if (m.stats().instructions > LIMIT) break;
  }
  return { log, stop, instructions: m.stats().instructions, toPrompt,
    wallMs: Math.round(performance.now() - t0) };
}

describe.skipIf(!withLinux)('Debian 12 i386 kernel, busybox initramfs', () => {
  let first: Boot;
  beforeAll(async () => { first = await boot(); }, 900_000);

  it('boots to the shell, runs the commands and halts', () => {
    const { log, stop } = first;
    // No ACPI tables here: `poweroff -f` finds no power-off method and halts the CPU.
    expect(log).toContain('reboot: System halted');
    expect(stop).toEqual({ kind: 'halted', why: 'HLT with interrupts disabled' });
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
  });

  it('is deterministic: a second boot prints the same bytes', async () => {
    const second = await boot();
    expect(second.instructions).toBe(first.instructions);
    expect(second.log).toBe(first.log);
  }, 900_000);
});
