/**
 * Hypervisor -> Vm -> VCpu: several VMs in one hypervisor, each its own instance. A guest
 * that triple-faults ends its own VM; a second VM in the same hypervisor runs to its end
 * and prints what it prints under QEMU (the system tests' fixtures, recorded under QEMU
 * 7.2: guests/systests/expected). Same inputs, same counters (deterministic virtual time).
 */
import { describe, it, expect } from 'vitest';
import { Hypervisor, type Vm } from '../../bindings/index.js';
import { fixture, guestImage } from '../system/guests.js';
import { createCore } from '../../bindings/core/index.js';
import { modeAvailable } from '../../bindings/vmm/modes/index.js';

/** A multiboot systest guest as a VM, its COM1 output collected. */
async function addGuest(hv: Hypervisor, name: string, mode?: 'native' | 'vtx' | 'svm') {
  const out = { text: '' };
  const vm = await hv.createVm({
    name, ramBytes: 128 << 20, kernel: guestImage(name), mode,
    serialOut: (b) => { out.text += String.fromCharCode(b); },
  });
  return { vm, out };
}

const trimEnd = (s: string) => s.replace(/\n+$/, '');

describe('Hypervisor', () => {
  it('a triple fault under vtx ends its own VM; a native and a vtx VM beside it finish',
    async () => {
      if (!modeAvailable(await createCore({ ramBytes: 2 << 20 }), 'vtx')) return;
      const hv = new Hypervisor();
      const bad = await addGuest(hv, 'triplefault', 'vtx');
      const a = await addGuest(hv, 'paging', 'vtx');
      const b = await addGuest(hv, 'tasks', 'native');
      const stops = hv.run({ slice: 5_000, maxInstructions: 50_000_000 });
      expect(stops.get(bad.vm)).toEqual({ kind: 'shutdown', why: 'triple fault' });
      expect(trimEnd(bad.out.text)).toBe(trimEnd(fixture('triplefault').output));
      for (const [g, name] of [[a, 'paging'], [b, 'tasks']] as const) {
        expect(trimEnd(g.out.text), name).toBe(trimEnd(fixture(name).output));
        expect(stops.get(g.vm), name).toEqual({ kind: 'exit', status: fixture(name).exitStatus });
      }
      expect(bad.vm.stats().vmm!.exitsByReason['TRIPLE_FAULT (2)']).toBe(1);
    });

  it('a triple fault ends its own VM; the other VM in the hypervisor runs to its end', async () => {
    const hv = new Hypervisor();
    const bad = await addGuest(hv, 'triplefault');
    const good = await addGuest(hv, 'paging');
    // Small slices: the two VMs interleave, the triple fault happens while the other runs.
    const stops = hv.run({ slice: 10_000, maxInstructions: 50_000_000 });
    expect(hv.vms.map((v: Vm) => v.name)).toEqual(['triplefault', 'paging']);
    // QEMU -no-reboot shuts down on the triple fault (its fixture: exit status 0).
    expect(fixture('triplefault').exitStatus).toBe(0);
    expect(stops.get(bad.vm)).toEqual({ kind: 'shutdown', why: 'triple fault' });
    expect(bad.vm.ended).toEqual({ kind: 'shutdown', why: 'triple fault' });
    expect(trimEnd(bad.out.text)).toBe(trimEnd(fixture('triplefault').output));
    // The other VM: QEMU's output and QEMU's isa-debug-exit status.
    const ref = fixture('paging');
    expect(trimEnd(good.out.text)).toBe(trimEnd(ref.output));
    expect(stops.get(good.vm)).toEqual({ kind: 'exit', status: ref.exitStatus });
    // An ended VM stays ended.
    expect(bad.vm.run()).toEqual({ kind: 'shutdown', why: 'triple fault' });
  });

  it('an exception from one VM\'s own instance ends that VM only', async () => {
    const hv = new Hypervisor();
    const broken = await addGuest(hv, 'hello');
    const good = await addGuest(hv, 'hello');
    broken.vm.machine.run = () => { throw new Error('instance failed'); };
    const stops = hv.run();
    expect(stops.get(broken.vm)).toEqual({
      kind: 'invalid', why: 'host error in hello: instance failed',
    });
    expect(trimEnd(good.out.text)).toBe(trimEnd(fixture('hello').output));
  });

  it('is deterministic: the same guests give the same counters twice', async () => {
    const once = async () => {
      const hv = new Hypervisor();
      const a = await addGuest(hv, 'paging');
      const b = await addGuest(hv, 'irq');
      hv.run({ slice: 7_919, maxInstructions: 20_000_000 });
      return [a, b].map(({ vm, out }) => ({ out: out.text, stats: vm.stats(), end: vm.ended }));
    };
    const first = await once();
    expect(first[0].out).toContain('paging on');
    expect(first[0].stats.instructions).toBeGreaterThan(0);
    expect(await once()).toEqual(first);
  });

  it('rejects a bad slice with a RangeError', () => {
    expect(() => new Hypervisor().run({ slice: 0 })).toThrow(RangeError);
  });
});
