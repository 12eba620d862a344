/**
 * The checkpoints guest's register blocks on this host's own CPU (a 32-bit Linux build of
 * the same source, guests/systests/hostcpu) against the QEMU fixture the differential
 * runner's v86 values also match: a real processor as the third reference. Addresses
 * (ESP; EBP in block 9; ESI/EDI in block 5) and EFLAGS.IF differ by construction and are
 * left out.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture } from '../system/guests.js';
import { hasTool } from '../helpers/tools.js';

const program = fileURLToPath(new URL('../../guests/systests/hostcpu/checkpoints-linux', import.meta.url));
// The probe for gcc -m32 builds and runs a 32-bit program: this machine runs one.
const canRun = hasTool('gcc -m32');

type Fields = Record<string, number>;
const parse = (line: string): Fields =>
  Object.fromEntries([...line.matchAll(/(\w+)=([0-9a-f]{8})/g)].map((m) => [m[1], parseInt(m[2], 16)]));

/** Fields that hold addresses, per checkpoint (1-based), besides ESP. */
const ADDRESSES: Record<number, string[]> = { 5: ['esi', 'edi'], 9: ['ebp'] };

describe.skipIf(!canRun)('checkpoint blocks on the host CPU', () => {
  it('give the registers and flags QEMU gave', () => {
    const run = spawnSync(program, { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const host = run.stdout.trim().split('\n').map(parse);
    const qemu = fixture('checkpoints').output.split('\n').filter((l) => l.startsWith('ck ')).map(parse);
    expect(host.length).toBe(9);
    expect(qemu.length).toBe(9);
    host.forEach((h, i) => {
      const skip = new Set(['esp', ...(ADDRESSES[i + 1] ?? [])]);
      for (const k of Object.keys(qemu[i])) {
        if (skip.has(k)) continue;
        const mask = k === 'efl' ? ~0x200 : ~0;
        expect((h[k] & mask) >>> 0, `checkpoint ${i + 1} ${k}`).toBe((qemu[i][k] & mask) >>> 0);
      }
    });
  });
});
