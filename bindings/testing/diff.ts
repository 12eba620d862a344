/**
 * The differential runner: the same Multiboot image in wasmvisor and in v86, compared at
 * every checkpoint (a write to the checkpoint port: general registers and EFLAGS), and
 * on the COM1 output and exit status.
 */

import type { Core } from '../core/types.js';
import { runGuest, type Checkpoint, type GuestRun, type HarnessOptions } from './harness.js';
import { runV86, type V86Run } from './v86.js';

export interface DiffOptions extends HarnessOptions {
  /** EFLAGS bits compared (default: all but RF, bit 16, and bit 1 is always 1 anyway). */
  eflagsMask?: number;
  /** Use v86's JIT (default false: its interpreter, the simpler reference). */
  v86Jit?: boolean;
}

export interface DiffReport {
  wasmvisor: GuestRun;
  v86: V86Run;
  /** One line per difference; empty when both agree. */
  mismatches: string[];
}

const REGS: Exclude<keyof Checkpoint, 'instructions'>[] = [
  'value', 'eip', 'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eflags',
];
const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

export function compareCheckpoints(
  a: Checkpoint[], b: Checkpoint[], eflagsMask = ~0x10000,
): string[] {
  const out: string[] = [];
  if (a.length !== b.length) out.push(`checkpoint count: wasmvisor ${a.length}, v86 ${b.length}`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    for (const r of REGS) {
      const mask = r === 'eflags' ? eflagsMask : ~0;
      if (((a[i][r] ^ b[i][r]) & mask) !== 0) {
        out.push(`checkpoint ${i + 1} (value ${hex(b[i].value)}): `
          + `${r} wasmvisor ${hex(a[i][r])}, v86 ${hex(b[i][r])}`);
      }
    }
  }
  return out;
}

export async function diffRun(
  core: Core, image: Uint8Array, opts: DiffOptions = {},
): Promise<DiffReport> {
  const wasmvisor = runGuest(core, image, opts);
  const v86 = await runV86(image, {
    jit: opts.v86Jit ?? false, memoryBytes: core.ramBytes, checkpointPort: opts.checkpointPort,
  });
  const mismatches = compareCheckpoints(wasmvisor.checkpoints, v86.checkpoints, opts.eflagsMask);
  if (v86.crash) mismatches.push(`v86 crashed: ${v86.crash}`);
  if (v86.timedOut) mismatches.push('v86 did not finish in time');
  if (wasmvisor.output !== v86.output) {
    const a = wasmvisor.output.split('\n');
    const b = v86.output.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    const [ours, theirs] = [JSON.stringify(a[i]), JSON.stringify(b[i])];
    mismatches.push(`output differs at line ${i + 1}: wasmvisor ${ours}, v86 ${theirs}`);
  }
  if (wasmvisor.exitStatus !== v86.exitStatus) {
    mismatches.push(`exit status: wasmvisor ${wasmvisor.exitStatus} (${wasmvisor.detail}), `
      + `v86 ${v86.exitStatus}`);
  }
  return { wasmvisor, v86, mismatches };
}
