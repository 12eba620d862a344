/**
 * VMX and SVM state in a snapshot: the state block (VMX operation, the VMXON and current-
 * VMCS pointers and launch state, the VMCB pointer, GIF, VM_HSAVE_PA, guest mode),
 * Core.saveVirtState (the current VMCS's fields, exits by reason, VMM RAM with the
 * TypeScript VMM's VMCS/VMCB and EPT/NPT) and the VMM's own state. A VM saved mid-run and
 * restored on a fresh core continues with the same output and counters as the VM that was
 * never stopped: a loop guest under vtx and svm (a Machine), and a guest hypervisor in
 * native mode (the system guests vmx-exits and svm-npt, whose expected lines are Bochs'
 * output), saved at several points of their run.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../bindings/index.js';
import { createCore, VirtStateError } from '../../bindings/core/index.js';
import type { Core } from '../../bindings/core/types.js';
import { bootMultiboot } from '../../bindings/boot/multiboot.js';
import { COM1_LSR, COM1_THR, DEBUG_EXIT_PORT } from '../../bindings/testing/harness.js';
import { GUEST_RAM, fixture, guestBootOptions, guestImage } from '../system/guests.js';

const root = join(__dirname, '..', '..');

/** The counters of what the guest did (architectural events, exits, the VMM's work). The
 *  TLB and walk caches are not architectural state (SDM vol. 3A 4.10: software may not
 *  rely on their contents): a restored CPU starts them empty, so their hits, misses,
 *  walks and flushes after a restore differ by the refills, and are left out. */
const CACHE_COUNTERS = /^(tlb|pageWalks|walkMemRefs|slowBoundaries|nested|pwc|ntlb)/;
function architectural(c: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c ?? {}).filter(([k]) => !CACHE_COUNTERS.test(k)));
}
const RAM = 64 << 20;

/** RAM but the legacy hole (VGA and ROM, not RAM the guest owns). */
function saveRam(core: Core, bytes: number): [number, Uint8Array][] {
  return [[0, core.readPhys(0, 0xa0000)], [0x100000, core.readPhys(0x100000, bytes - 0x100000)]];
}

describe('a vtx/svm VM saved mid-run continues the same', () => {
  for (const mode of ['vtx', 'svm'] as const) {
    it(`${mode}: the pages loop (EPT/NPT built lazily, exits, emulated I/O)`, async () => {
      const kernel = readFileSync(join(root, 'guests/bench/pages.bin'));
      const make = async (out: number[]) => Machine.create({ ramBytes: RAM, kernel, mode,
        debugcon: (b) => { out.push(b, m0regs(b)); } });
      let current: Machine | undefined;
      const m0regs = (b: number) => (b === 3 ? current!.core.getRegs().ebx >>> 0 : 0);
      // The run never stopped.
      const whole: number[] = [];
      current = await make(whole);
      expect(current.run(200_000_000)).toMatchObject({ kind: 'exit' });
      const wholeStats = current.stats();
      // Stopped at 7 million instructions (inside the timed loop), saved, restored on a new
      // machine of the same options, run to the end.
      const first: number[] = [];
      const a = await make(first);
      current = a;
      a.run(7_000_000);
      const state = a.core.saveState();
      const virt = a.core.saveVirtState();
      const vmm = JSON.parse(JSON.stringify(a.vcpu.ops.saveVmmState!()));
      const ram = saveRam(a.core, RAM);
      const second: number[] = [];
      const b = await make(second);
      current = b;
      b.core.loadVirtState(virt);
      for (const [at, bytes] of ram) b.core.writePhys(at, bytes);
      b.core.loadState(state);
      b.vcpu.ops.loadVmmState!(vmm);
      expect(b.run(200_000_000)).toMatchObject({ kind: 'exit' });
      expect([...first, ...second]).toEqual(whole);
      const s = b.stats();
      expect(architectural(s.core)).toEqual(architectural(wholeStats.core));
      expect(architectural(s.vmm as unknown as Record<string, unknown>))
        .toEqual(architectural(wholeStats.vmm as unknown as Record<string, unknown>));
    }, 120_000);
  }

  it('refuses a blob that is not a virtualization state, and one of another layout',
    async () => {
      const core = await createCore({ ramBytes: 4 << 20 });
      expect(() => core.loadVirtState(new Uint8Array(40))).toThrow(VirtStateError);
      const other = await createCore({ ramBytes: 8 << 20 });
      other.addVmmRam(4096);
      const blob = other.saveVirtState();
      // VMM RAM after 8 MiB of guest RAM cannot be placed after 4 MiB.
      expect(() => core.loadVirtState(blob)).toThrow(/cannot be placed|VMM RAM region/);
      const cut = blob.slice(0, blob.length - 100);
      expect(() => other.loadVirtState(cut)).toThrow(/truncated/);
    });
});

/** Runs a system guest on `core` to its end (COM1 output, isa-debug-exit), as the test
 *  harness does, from wherever its state is; `stopAt` stops after that many instructions. */
function runFrom(core: Core, out: string[], stopAt = Infinity): 'exit' | 'stopped' {
  for (;;) {
    const left = stopAt - core.counters().instructions;
    if (left <= 0) return 'stopped';
    const e = core.run(Math.min(left, 1_000_000));
    if (e.reason === 'io') {
      if (e.write) {
        if (e.port === COM1_THR) out.push(String.fromCharCode(e.value & 0xff));
        else if (e.port === DEBUG_EXIT_PORT) return 'exit';
      } else {
        const v = e.port === COM1_LSR ? 0x60 : 0xff;
        core.completeIo(e.size === 1 ? v : e.size === 2 ? v * 0x101 : (v * 0x1010101) >>> 0);
      }
    } else if (e.reason === 'mmio') {
      if (!e.write) core.completeIo(e.size === 4 ? 0xffffffff : e.size === 2 ? 0xffff : 0xff);
    } else if (e.reason !== 'budget') throw new Error(`${e.reason}`);
  }
}

describe('a guest hypervisor saved mid-run continues the same', () => {
  for (const [name, vendor] of [['vmx-exits', 'vmx'], ['svm-npt', 'svm']] as const) {
    it(`${name}: saved at several points, restored on a fresh core, prints the fixture`,
      async () => {
        const fresh = async () => {
          const c = await createCore({ ramBytes: GUEST_RAM });
          if (vendor === 'vmx') c.setVmx(true); else c.setSvm(true);
          return c;
        };
        const want = fixture(name).output;
        const whole = await fresh();
        bootMultiboot(whole, guestImage(name), guestBootOptions(name));
        const wholeOut: string[] = [];
        expect(runFrom(whole, wholeOut)).toBe('exit');
        expect(wholeOut.join('')).toBe(want);
        const total = whole.counters().instructions;
        for (const frac of [0.2, 0.5, 0.8]) {
          const a = await fresh();
          bootMultiboot(a, guestImage(name), guestBootOptions(name));
          const out: string[] = [];
          expect(runFrom(a, out, Math.floor(total * frac))).toBe('stopped');
          const state = a.saveState(), virt = a.saveVirtState();
          const ram = saveRam(a, GUEST_RAM);
          const b = await fresh();
          b.loadVirtState(virt);
          for (const [at, bytes] of ram) b.writePhys(at, bytes);
          b.loadState(state);
          expect(runFrom(b, out)).toBe('exit');
          expect(out.join(''), `saved at ${frac}`).toBe(want);
          expect(architectural(b.counters()), `saved at ${frac}`)
            .toEqual(architectural(whole.counters()));
        }
      }, 120_000);
  }
});
