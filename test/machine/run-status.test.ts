/**
 * The exit status of `wasmvisor run` (README, "Exit status"): odd statuses are the guest's
 * (isa-debug-exit's (v << 1) | 1, as QEMU), even ones wasmvisor's, each distinct. Each way
 * of resetting the CPU ends QEMU with -no-reboot (the guest would spin forever otherwise),
 * and ends the run here; the instruction limit and a reset each have their own status.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { romFromBody } from '../devices/qemu-probe.js';
import { runCliInProcess } from '../helpers/cli.js';
import {
  STATUS_HALTED, STATUS_USAGE, STATUS_GUEST_FAILED, STATUS_LIMIT, STATUS_RESET,
} from '../../bindings/cli/run.js';
import { hasTool } from '../helpers/tools.js';

const withQemu = hasTool('qemu-system-i386');

/** After the code under test: spin (jmp $) until the reset takes effect. */
const THEN_SPIN = [0xeb, 0xfe];
/** No run here may take longer than this. */
const LIMIT = ['--max-instructions', '10000000'];
const RESETS: Record<string, number[]> = {
  // i8042 command 0xFE: pulse the reset line (8042 datasheet, "Pulse output port").
  'i8042 0xFE': [0xb0, 0xfe, 0xe6, 0x64],
  // Port 0x92 bit 0, fast reset on its 0 -> 1 edge (PIIX3 / PS/2 "System Control Port A").
  'port 0x92': [0xb0, 0x01, 0xe6, 0x92],
  // 0xCF9 Reset Control: SRST with RCPU (82371SB PIIX3 datasheet, 4.1.x "RC").
  'port 0xCF9': [0xba, 0xf9, 0x0c, 0xb0, 0x06, 0xee],
};

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'wv-status-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rom(name: string, body: number[]): string {
  const f = join(dir, `${name.replace(/\W/g, '_')}.rom`);
  writeFileSync(f, romFromBody([0xfa, ...body])); // cli first
  return f;
}

describe('exit status of wasmvisor run', () => {
  it('the statuses of wasmvisor\'s own ends are even and all different', () => {
    const ours = [STATUS_HALTED, STATUS_USAGE, STATUS_GUEST_FAILED, STATUS_LIMIT, STATUS_RESET];
    expect(new Set(ours).size).toBe(ours.length);
    for (const s of ours) expect(s % 2).toBe(0);
  });

  for (const [name, code] of Object.entries(RESETS)) {
    it(`a CPU reset through ${name} ends the run (${STATUS_RESET}), as it ends QEMU`, async () => {
      const f = rom(name, [...code, ...THEN_SPIN]);
      if (withQemu) {
        const q = spawnSync('qemu-system-i386', ['-display', 'none', '-nodefaults', '-no-reboot',
          '-bios', f, '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'], { timeout: 30_000 });
        expect(q.status).toBe(0); // -no-reboot: QEMU ends at the reset
      }
      const r = await runCliInProcess(['run', '--bios', f, ...LIMIT]);
      expect(r.status).toBe(STATUS_RESET);
      expect(r.err).toMatch(/guest reset the CPU/);
    });
  }

  it(`reaching --max-instructions gives status ${STATUS_LIMIT}`, async () => {
    const f = rom('loop', [0xeb, 0xfe]); // jmp $
    const r = await runCliInProcess(['run', '--bios', f, '--max-instructions', '1000']);
    expect(r.status).toBe(STATUS_LIMIT);
    expect(r.err).toMatch(/instruction limit reached/);
  });

  it(`HLT, interrupts off: ${STATUS_HALTED}; isa-debug-exit v: (v << 1) | 1`, async () => {
    const halt = await runCliInProcess(['run', '--bios', rom('hlt', [0xf4]), ...LIMIT]);
    expect(halt.status).toBe(STATUS_HALTED);
    for (const v of [0, 1, 2, 0x7f]) {
      const f = rom(`exit${v}`, [0xb0, v, 0xe6, 0xf4, 0xf4]); // mov al, v; out 0xf4, al; hlt
      const r = await runCliInProcess(['run', '--bios', f, ...LIMIT]);
      expect(r.status).toBe(((v << 1) | 1) & 0xff);
    }
  });

  it(`a triple fault gives status ${STATUS_GUEST_FAILED}`, async () => {
    // lidt cs:[9] (six zero bytes: limit 0), then int3: beyond the limit, #GP; #GP beyond
    // it, #DF; #DF beyond it, shutdown (SDM vol. 3A, 20.1.4 and 6.15, interrupt 8).
    const f = rom('triple', [0x2e, 0x0f, 0x01, 0x1e, 0x09, 0x00, 0xcc, 0xf4, 0, 0, 0, 0, 0, 0]);
    const r = await runCliInProcess(['run', '--bios', f, ...LIMIT]);
    expect(r.status).toBe(STATUS_GUEST_FAILED);
    expect(r.err).toMatch(/shut down/);
  });
});
