/**
 * The same JeOS image under QEMU and under
 * `wasmvisor run` prints the same lines except the measured cycles. This runs
 * scripts/compare-qemu.mjs end to end (both halves) when QEMU is installed.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { hasTool } from '../helpers/tools.js';

const ROOT = resolve(__dirname, '../..');
const hasQemu = hasTool('qemu-system-i386');

function compareScript(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/compare-qemu.mjs'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe.skipIf(!hasQemu)('JeOS: QEMU and wasmvisor print the same lines', () => {
  it('without a disk (fewer iterations: the full run follows)', async () => {
    const r = await compareScript(['--no-disk', '--append', 'iters=200 forkwait=20 compute=10']);
    // Every check passed: JeOS powers off, which ends both with status 0.
    expect(r.stdout).toContain('qemu: exit status 0');
    expect(r.stdout).toContain('wasmvisor: exit status 0');
    expect(r.stdout).toMatch(/same output \(\d+ lines/);
    expect(r.status).toBe(0);
  });

  it('with the disk (the IDE workload writes a scratch copy on each side)', async () => {
    const r = await compareScript([]);
    expect(r.stdout).toMatch(/same output \(\d+ lines/);
    expect(r.status).toBe(0);
  });
});
