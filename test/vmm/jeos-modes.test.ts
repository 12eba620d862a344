/**
 * JeOS under each mode against JeOS native: every line the same but the measured cycles
 * and the `info cpu` line, where a guest under vtx/svm sees the VMM (CPUID.1:ECX bit 31,
 * leaf 0x40000000 with the signature and maximum leaf of bindings/vmm/cpuid.ts). Native's
 * own output is checked against QEMU's by test/machine and scripts/compare-qemu.mjs.
 * A core built without a vendor's host side refuses that mode with a typed error instead.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, type MachineConfig, type StopReason } from '../../bindings/index.js';
import { RawImage } from '../../bindings/disk/raw.js';
import { MemorySource } from '../../bindings/disk/source.js';
import { createCore } from '../../bindings/core/index.js';
import { modeAvailable } from '../../bindings/vmm/modes/index.js';

const root = join(__dirname, '..', '..');
const kernel = readFileSync(join(root, 'guests/jeos/jeos.elf'));
const diskImage = readFileSync(join(root, 'guests/jeos/disk.img'));

interface Run { text: string; stop: StopReason; stats: ReturnType<Machine['stats']> }

async function bootJeos(options: Partial<MachineConfig>): Promise<Run> {
  let text = '';
  const m = await Machine.create({
    ramBytes: 64 << 20, kernel, cmdline: 'iters=200',
    disks: [new RawImage(new MemorySource(new Uint8Array(diskImage)))],
    serialOut: (b) => { text += String.fromCharCode(b); },
    ...options,
  });
  const stop = m.run(400_000_000);
  return { text, stop, stats: m.stats() };
}

/** The output with every measured cycle count replaced (`cycles=`, `per_iter=`,
 *  `write_cycles=`...): what differs between modes by design. */
const withoutCycles = (s: string) =>
  s.replace(/\b(\w*cycles|per_iter)=\d+/g, '$1=N');

describe('JeOS under vtx and svm against native', () => {
  let native: Run;
  beforeAll(async () => { native = await bootJeos({}); }, 120_000);

  it('native: passes every check and powers off', () => {
    expect(native.stop).toEqual({ kind: 'poweroff' });
    expect(native.text).toMatch(/info cpu .*hypervisor_bit=0 .*hv_signature=none/);
  });

  for (const [mode, paging] of [['vtx', 'nested'], ['svm', 'nested'], ['vtx', 'shadow'],
    ['svm', 'shadow']] as const) {
    it(`${mode} with ${paging} paging: the same lines as native but cycles and the VMM's CPUID`,
      async () => {
        if (!modeAvailable(await createCore({ ramBytes: 2 << 20 }), mode)) {
          await expect(bootJeos({ mode, paging })).rejects.toMatchObject({
            code: 'mode-not-available',
            message: expect.stringContaining('not available in this build'),
          });
          return;
        }
        const run = await bootJeos({ mode, paging });
        expect(run.stop).toEqual({ kind: 'poweroff' });
        // The VMM's leaves: signature "wasmvisorVMM", maximum leaf 0x40000001.
        const cpu = (t: string) => t.split('\n').find((l) => l.startsWith('info cpu'))!;
        expect(cpu(run.text)).toBe(cpu(native.text)
          .replace('hypervisor_bit=0', 'hypervisor_bit=1')
          .replace('hv_max_leaf=0x00000000', 'hv_max_leaf=0x40000001')
          .replace('hv_signature=none', 'hv_signature=wasmvisorVMM'));
        const rest = (t: string) => withoutCycles(t).split('\n')
          .filter((l) => !l.startsWith('info cpu')).join('\n');
        expect(rest(run.text)).toBe(rest(native.text));
        const v = run.stats.vmm!;
        expect(v.mode).toBe(mode);
        expect(v.vmEntries).toBeGreaterThan(0);
        // Every exit but the last (the poweroff's port write ends the run) re-enters.
        expect(v.vmExits).toBeGreaterThanOrEqual(v.vmEntries - 1);
        expect(v.paging).toBe(paging);
        if (paging === 'nested') {
          expect(v.pagesMapped).toBeGreaterThan(0);
          expect(v.shadow).toBeUndefined();
        } else {
          // Shadow paging: no EPT/NPT at all; every kind of fault happened (JeOS forks, maps
          // pages on demand, kills processes on true faults, switches address spaces).
          expect(v.pagesMapped).toBe(0);
          expect(v.nestedWalks).toBe(0);
          const sh = v.shadow!;
          for (const k of ['hiddenFaults', 'trueFaults', 'traceFaults', 'pagesBuilt',
            'cr3Switches', 'rootHits', 'rootMisses', 'resyncs', 'invlpgs'] as const) {
            expect(sh[k], k).toBeGreaterThan(0);
          }
          // The exits are the #PF intercepts' and the CR3/INVLPG ones, counted alike.
          const pf = mode === 'vtx' ? v.exitsByReason['EXCEPTION_NMI (0)']
            : v.exitsByReason['EXCP14 (0x4e)'];
          expect(pf).toBe(sh.hiddenFaults + sh.trueFaults + sh.traceFaults + sh.emulatedFaults);
        }
        // JeOS's WRMSRs are all SYSENTER_* (its task switch moves SYSENTER_ESP), which the
        // VMM passes through (MSR bitmap / MSRPM): no MSR exit.
        expect(Object.keys(v.exitsByReason).filter((k) => /^MSR/.test(k))).toEqual([]);
        if (paging === 'nested') {
          // A REP INS/OUTS reaches the device model a page of elements per exit, as natively
          // (the disk's sectors): the port exits are native's, but the few the VMM makes
          // itself; element by element they were ten times as many.
          const io = (r: Run) => r.stats.exits.io ?? 0;
          expect(io(run)).toBeLessThan(io(native) * 1.01);
          expect(io(run)).toBeGreaterThanOrEqual(io(native));
          const oneByOne = await bootJeos({ mode, paging: 'nested', stringIo: false });
          expect(withoutCycles(oneByOne.text)).toBe(withoutCycles(run.text));
          expect(io(oneByOne)).toBeGreaterThan(5 * io(run));
          // A plain IN/OUT is done from the exit information (fast PIO): the emulator runs
          // only the string I/O, CPUID and the like: less than half as many instructions.
          expect(v.emulated).toBeLessThan(io(run) / 2);
          // Virtual time is the instruction count: the guest retires native's instructions
          // exactly (an I/O instruction completed by the VMM retires when the guest resumes,
          // as the core retires one after the device model answered).
          expect(run.stats.core.instructions).toBe(native.stats.core.instructions);
        }
        // Determinism: the same counters twice.
        const again = await bootJeos({ mode, paging });
        expect(again.text).toBe(run.text);
        expect(again.stats).toEqual(run.stats);
      }, 300_000);
  }
});
