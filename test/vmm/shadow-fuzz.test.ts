/**
 * The shadow paging fuzz (issue 10, section 4): guests/systests/ptfuzz runs 100,000 random
 * page-table writes and accesses (PTEs, PDEs, 4 MiB pages, tables that are also data, two
 * address spaces; every fault's error code and CR2, every value read and every entry read
 * back hashed) from a fixed seed. Under vtx and svm with shadow paging it must print the
 * same hashes as native execution on the same core, checkpoint by checkpoint (the issue's
 * reference for shadow correctness). Against QEMU 7.2 (its recorded fixture) the number of
 * page faults at each checkpoint is the same; the hashes are not (README, shadow paging:
 * QEMU sets a PDE's accessed flag on a walk that faults at the PTE, the core does not).
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../bindings/index.js';
import { createCore } from '../../bindings/core/index.js';
import { modeAvailable } from '../../bindings/vmm/modes/index.js';
import { fixture, guestImage, GUEST_RAM } from '../system/guests.js';

async function run(options: { mode?: 'vtx' | 'svm'; paging?: 'shadow' }) {
  let text = '';
  const m = await Machine.create({
    ramBytes: GUEST_RAM, kernel: guestImage('ptfuzz'), ...options,
    serialOut: (b) => { text += String.fromCharCode(b); },
  });
  let stop = m.run(2_000_000_000);
  while (stop.kind === 'limit') stop = m.run(2_000_000_000);
  return { text, stop, stats: m.stats() };
}

const checkpoints = (t: string) => t.split('\n').filter((l) => l.startsWith('ops='));

describe('page-table fuzz: shadow paging against native', () => {
  let native: Awaited<ReturnType<typeof run>>;

  it('native: 100,000 operations, the fault counts of QEMU 7.2', async () => {
    native = await run({});
    expect(native.stop).toEqual({ kind: 'exit', status: 1 });
    const lines = checkpoints(native.text);
    expect(lines).toHaveLength(10);
    expect(lines[9]).toMatch(/^ops=000186a0 /); // 100,000
    const faults = (l: string) => l.replace(/.*faults=/, '');
    expect(lines.map(faults)).toEqual(checkpoints(fixture('ptfuzz').output).map(faults));
  }, 300_000);

  for (const mode of ['vtx', 'svm'] as const) {
    it(`${mode}-shadow: the same hashes as native at every checkpoint`, async () => {
      if (!modeAvailable(await createCore({ ramBytes: 2 << 20 }), mode)) return;
      const r = await run({ mode, paging: 'shadow' });
      expect(r.stop).toEqual({ kind: 'exit', status: 1 });
      expect(checkpoints(r.text)).toEqual(checkpoints(native.text));
      const sh = r.stats.vmm!.shadow!;
      // Every path taken many times: fills, reflected faults, traced writes and their
      // resyncs, INVLPGs, CR3 loads answered by the root cache, tables dropped.
      for (const k of ['hiddenFaults', 'trueFaults', 'traceFaults', 'resyncs', 'invlpgs',
        'rootHits', 'pagesEvicted'] as const) expect(sh[k], k).toBeGreaterThan(1000);
    }, 300_000);
  }
});
