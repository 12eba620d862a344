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

  it('interdomain event channels between two DomUs (alloc_unbound, bind, send, close)',
    async () => {
      const xl = new ManagementDomain();
      const ida = await xl.create('a', { ramBytes: 8 << 20, kernel: KERNEL });
      const idb = await xl.create('b', { ramBytes: 8 << 20, kernel: KERNEL });
      const peer = (id: number) => xl.domain(id)!;
      const a = peer(ida), b = peer(idb);
      expect([a.domid, b.domid]).toEqual([1, 2]);
      const ARG = 0x300000;
      const call = (d: typeof a, cmd: number, ...words: number[]) => {
        const u = new Uint8Array(16);
        words.forEach((w, i) => new DataView(u.buffer).setUint32(i * 4, w >>> 0, true));
        d.mem.write(ARG, u);
        return d.hypercall(32, [cmd, ARG]);
      };
      const out = (d: typeof a, at: number) => d.mem.u32(ARG + at);
      // EVTCHNOP_alloc_unbound { dom = DOMID_SELF, remote_dom = 2 } -> port
      expect(call(a, 6, 0x7ff0 | (2 << 16))).toBe(0);
      const pa = out(a, 4);
      // EVTCHNOP_bind_interdomain { remote_dom, remote_port } -> local_port
      expect(call(b, 0, 7, pa)).toBe(-3); // ESRCH: no domain 7
      expect(call(b, 0, ida, pa + 1)).toBe(-22); // EINVAL: no such unbound port
      expect(call(b, 0, ida, pa)).toBe(0);
      const pb = out(b, 8);
      expect(call(b, 0, ida, pa)).toBe(-22); // bound already
      expect(call(b, 4, pb)).toBe(0); // EVTCHNOP_send
      expect(a.events.isPending(pa)).toBe(true);
      expect(b.events.isPending(pb)).toBe(false);
      expect(call(a, 4, pa)).toBe(0);
      expect(b.events.isPending(pb)).toBe(true);
      // A port offered to domain 3 cannot be taken by domain 2.
      expect(call(a, 6, 0x7ff0 | (3 << 16))).toBe(0);
      expect(call(b, 0, ida, out(a, 4))).toBe(-22);
      // Closing one end leaves the other unbound, offered back; a send there is dropped.
      expect(call(a, 3, pa)).toBe(0);
      expect(b.events.ports[pb].state).toBe(1); // EVTCHNSTAT_unbound
      expect(call(b, 4, pb)).toBe(0);
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
