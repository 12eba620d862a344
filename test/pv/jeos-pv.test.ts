/**
 * One JeOS image natively and as a Xen-style PV guest (`mode: 'pv'`): the same lines but
 * the measured cycles and the two `info` lines that describe the platform. Under pv the
 * `info cpu` line names Xen's leaves as the forced-emulation CPUID answers them
 * (arch-x86/cpuid.h: signature "XenVMMXenVMM", EAX of leaf 0x40000000 the highest leaf);
 * `info mem` counts the domain's pages from start_info (xen.h) below the last page of the
 * kernel map, where shared_info and the grant table are mapped. The disk workload's data
 * goes through blkfront and the management domain's blkback. Native's own output is checked against QEMU's
 * (test/jeos/compare-wasmvisor.test.ts). Xen's invariants (a page is a page table or
 * writable, never both; counts) hold at the end, and two runs give the same counters.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, type MachineConfig, type StopReason } from '../../bindings/index.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { MemorySource } from '../../bindings/disk/source.js';

const root = join(__dirname, '..', '..');
const kernel = readFileSync(join(root, 'guests/jeos/jeos.elf'));
const diskImage = readFileSync(join(root, 'guests/jeos/disk.img'));

interface Run {
  text: string; stop: StopReason; stats: ReturnType<Machine['stats']>; invariants: string[];
}

async function bootJeos(options: Partial<MachineConfig>): Promise<Run> {
  let text = '';
  const m = await Machine.create({
    ramBytes: 64 << 20, kernel, cmdline: 'iters=200',
    disks: [new RawImage(new MemorySource(new Uint8Array(diskImage)))],
    serialOut: (b) => { text += String.fromCharCode(b); },
    ...options,
  });
  const stop = m.run(400_000_000);
  return { text, stop, stats: m.stats(), invariants: m.pvDomain?.frames.check() ?? [] };
}

const withoutCycles = (s: string) => s.replace(/\b(\w*cycles|per_iter)=\d+/g, '$1=N');
const info = (t: string, what: string) => t.split('\n').find((l) => l.startsWith(what))!;

describe('JeOS as a PV guest against native', () => {
  let native: Run, pv: Run;
  beforeAll(async () => {
    native = await bootJeos({});
    pv = await bootJeos({ mode: 'pv' });
  }, 240_000);

  it('both pass every check and power off', () => {
    expect(native.stop).toEqual({ kind: 'poweroff' });
    expect(pv.stop).toEqual({ kind: 'poweroff' });
    expect(pv.text).toContain('jeos summary workloads=14 failures=0');
  });

  it('finds the PV interface and installs the Xen pv-ops', () => {
    expect(info(pv.text, 'info cpu')).toBe(info(native.text, 'info cpu')
      .replace('hypervisor_bit=0', 'hypervisor_bit=1')
      .replace('hv_max_leaf=0x00000000', 'hv_max_leaf=0x40000002')
      .replace('hv_signature=none', 'hv_signature=XenVMMXenVMM')
      .replace('pvops=native', 'pvops=xen'));
    // 64 MiB less the VMM's 16 frames, capped below the 32 MiB kernel map's last two pages
    // (shared_info and the grant table).
    expect(info(pv.text, 'info mem')).toMatch(/^info mem top_kib=32760 source=start_info /);
  });

  it('prints the same lines as native but cycles and the platform lines', () => {
    const rest = (t: string) => withoutCycles(t).split('\n')
      .filter((l) => !l.startsWith('info cpu') && !l.startsWith('info mem')).join('\n');
    expect(rest(pv.text)).toBe(rest(native.text));
  });

  it('runs on hypercalls: batched mmu_update, pinned directories, no page table writable', () => {
    const p = pv.stats.vmm!.pv!;
    expect(pv.stats.vmm!.mode).toBe('pv');
    expect(p.errors).toEqual({});
    expect(p.mmuUpdates).toBeGreaterThan(p.mmuBatches); // some batches carry several
    expect(p.mmuext.pin_l2_table).toBeGreaterThan(0);
    expect(p.mmuext.unpin_table).toBeGreaterThan(0);
    expect(p.mmuext.new_baseptr).toBeGreaterThan(0);
    expect(p.hypercalls.set_trap_table).toBe(1);
    expect(p.hypercalls.console_io).toBeGreaterThan(0);
    expect(p.timerEvents).toBeGreaterThan(0);
    expect(p.upcalls).toBeGreaterThan(0);
    expect(pv.invariants).toEqual([]);
    // The disk workload through blkfront: iters=200 writes and reads of 8 sectors each
    // (one request apiece: 8 segments at most of a page) and one flush.
    expect(p.ringRequests).toBe(401);
    expect(p.frontNotifications).toBe(401);
  });

  it('is deterministic: the same output and counters twice', async () => {
    const again = await bootJeos({ mode: 'pv' });
    expect(again.text).toBe(pv.text);
    expect(again.stats).toEqual(pv.stats);
  }, 120_000);
});
