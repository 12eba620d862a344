/**
 * The management domain and `wasmvisor xl`: PV domains created from vm.json files, each a
 * machine of its own, run round-robin; one domain's crash ends it alone (its state and
 * reason in the list), the others finish; destroy and console behave as Xen's xl's do.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagementDomain } from '../../bindings/vmm/pv/xl.js';
import { readPvElf } from '../../bindings/vmm/pv/builder.js';
import { runCliInProcess } from '../helpers/cli.js';
import { KERNEL } from './harness.js';

/** pvtest with its XEN_ELFNOTE_ENTRY moved to page 0, which the builder leaves unmapped:
 *  its first fetch faults before it has a trap table, so the domain crashes. */
function crashingKernel(): Uint8Array {
  const k = new Uint8Array(KERNEL);
  const note = [4, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0x58, 0x65, 0x6e, 0];
  for (let i = 0; i < k.length - 20; i++) {
    if (note.every((b, j) => k[i + j] === b)) {
      new DataView(k.buffer).setUint32(i + 16, 0x10, true);
      return k;
    }
  }
  throw new Error('no entry note');
}

describe('the management domain', () => {
  it('runs domains side by side; a crash ends one domain alone', async () => {
    expect(readPvElf(crashingKernel()).entry).toBe(0x10);
    const xl = new ManagementDomain();
    const a = await xl.create('a', { ramBytes: 16 << 20, kernel: KERNEL });
    const bad = await xl.create('bad', { ramBytes: 16 << 20, kernel: crashingKernel() });
    const b = await xl.create('b', { ramBytes: 8 << 20, kernel: KERNEL });
    expect([a, bad, b]).toEqual([1, 2, 3]);
    xl.run();
    const list = xl.list();
    expect(list.map((d) => [d.id, d.name, d.state])).toEqual([[0, 'Domain-0', 'running'],
      [1, 'a', 'shutdown'], [2, 'bad', 'crashed'], [3, 'b', 'shutdown']]);
    expect(list[2].stop).toMatch(/vector 14 with no handler/);
    expect(xl.console(a)).toMatch(/\npv done\n$/);
    expect(xl.console(b)).toBe(xl.console(a));
    expect(list[1].hypercalls).toBeGreaterThan(50);
    xl.destroy(bad);
    expect(xl.list().map((d) => d.id)).toEqual([0, 1, 3]);
    expect(() => xl.console(bad)).toThrow(/no domain 2/);
    expect(() => xl.destroy(9)).toThrow(/no domain 9/);
  });

  it('wasmvisor xl create: console lines by domain name, the list, status 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xl-'));
    copyFileSync(new URL('../../guests/pv/pvtest.elf', import.meta.url), join(dir, 'pvtest.elf'));
    const vm = JSON.parse(readFileSync(new URL('../../guests/pv/vm.json', import.meta.url),
      'utf8'));
    writeFileSync(join(dir, 'one.json'), JSON.stringify({ ...vm, name: 'one' }));
    writeFileSync(join(dir, 'two.json'), JSON.stringify({ ...vm, name: 'two' }));
    const r = await runCliInProcess(['xl', 'create', 'one.json', 'two.json'], dir);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toContain('[one] xen-3.0-x86_32 start\n');
    expect(r.out).toContain('[two] pv done\n');
    expect(r.out).toMatch(/^Name +ID +Mem +State +Instructions +Hypercalls$/m);
    expect(r.out).toMatch(/^one +1 +16 +shutdown +\d+ +\d+$/m);
    expect(r.out).toMatch(/^two +2 +16 +shutdown/m);
  });
});
