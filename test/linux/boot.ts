/**
 * Boots Debian's kernel and initramfs of tools/linux/cache on a Machine, typing the
 * commands of tools/linux/session.mjs into COM1 (shared by the Linux tests).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, type StopReason, type MachineConfig } from '../../bindings/machine/machine.js';
import { hasTool } from '../helpers/tools.js';
import { LINUX_CACHE } from '../helpers/tools-probe.js';
// @ts-expect-error a plain .mjs module shared with the recording script
import { APPEND, COMMANDS, PROMPT } from '../../tools/linux/session.mjs';

export const withLinux = hasTool('debian-linux');
const RAM = 128 * 1024 * 1024;
/** Guest instructions a boot and the session may take (about 7.5 billion are needed). */
const LIMIT = 20_000_000_000;

export interface Boot {
  log: string;
  stop: StopReason;
  instructions: number;
  toPrompt: number;
  exits: number;
  /** Under vtx/svm: the VM exits the VMM handled. */
  vmExits: number;
  wallMs: number;
}

/** Boots the kernel, types each command once the prompt is back, runs to the end (or
 *  stops at the first prompt with `toShell`). */
export async function boot(vmm: Partial<MachineConfig> = {}, toShell = false): Promise<Boot> {
  let log = '';
  const m = await Machine.create({
    ...vmm, ramBytes: RAM, cmdline: APPEND,
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
      if (toShell) break;
      seen = n;
      m.inputOpen = true;
      m.input(new TextEncoder().encode(COMMANDS[typed++] + '\n'));
    }
    if (m.stats().instructions > LIMIT) break;
  }
  const st = m.stats();
  const exits = Object.values(st.exits ?? {}).reduce((a: number, b) => a + Number(b), 0);
  return { log, stop, instructions: st.instructions, toPrompt, exits,
    vmExits: st.vmm?.vmExits ?? 0,
    wallMs: Math.round(performance.now() - t0) };
}

