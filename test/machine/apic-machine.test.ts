/**
 * The machine with its APICs (`apic: true`): JeOS runs unchanged with the 8259 pair
 * behind the local APIC's LINT0 (MP 1.4, 3.6.2.2 virtual wire: every interrupt arrives as
 * ExtINT), the TPR variant of irqmask costs three MMIO exits per iteration (one TPR read,
 * two writes: SDM vol. 3A, 10.8.6), and vm.json's `apic` is checked like its other fields.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../bindings/machine/machine.js';
import { checkVmConfig } from '../../bindings/config/validate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runCli, repoRoot } from '../helpers/cli.js';

const root = join(__dirname, '..', '..');
const kernel = readFileSync(join(root, 'guests/jeos/jeos.elf'));
/** Cycle counts are measured values: compare the lines with them removed. */
const shape = (t: string) => t.replace(/cycles=\d+/g, 'cycles=N').replace(/per_iter=\d+/g, 'per_iter=N');

async function jeos(apic: boolean, cmdline?: string) {
  let text = '';
  const m = await Machine.create({
    ramBytes: 64 << 20, kernel, cmdline, apic, serialOut: (b) => { text += String.fromCharCode(b); },
  });
  const stop = m.run(400_000_000);
  return { text, stop, stats: m.stats() };
}

describe('the machine with a local APIC and an I/O APIC', () => {
  it('JeOS prints the same lines, its interrupts through LINT0 as ExtINT', async () => {
    const cmd = 'only=syscall,irqmask,disk,ctxsw';
    const [pic, apic] = [await jeos(false, cmd), await jeos(true, cmd)];
    expect(apic.stop).toEqual({ kind: 'poweroff' });
    expect(shape(apic.text)).toBe(shape(pic.text));
    expect(pic.stats.apic).toBeUndefined();
    expect(apic.stats.apic!.extint).toBe(apic.stats.interruptsInjected);
    expect(apic.stats.apic!.delivered).toBe(0);
  });

  it('irqmask-tpr: three MMIO exits per iteration; skipped without an APIC', async () => {
    const cmd = 'only=irqmask irqmask=1000 tpr=1';
    const on = await jeos(true, cmd);
    expect(on.text).toMatch(/^wl irqmask-tpr iters=1000 cycles=\d+ per_iter=\d+$/m);
    expect(on.stats.exits.mmio).toBe(3000);
    expect(on.stats.bus.mmioReads).toBe(1000);
    const off = await jeos(false, cmd);
    expect(off.text).toMatch(/^wl irqmask-tpr skipped=no-apic$/m);
  });

  it('wasmvisor run --apic --edu prints apic-msi\'s QEMU lines; --stats has the counters', () => {
    const text = readFileSync(join(repoRoot, 'guests/systests/expected/apic-msi.txt'), 'utf8');
    const want = text.split('\n').filter((l) => l && !l.startsWith('#'));
    const dir = mkdtempSync(join(tmpdir(), 'wv-apic-'));
    const stats = join(dir, 'stats.json');
    const r = runCli(['run', '--kernel', 'guests/systests/apic-msi.bin', '--apic', '--edu',
      '--stats', stats]);
    expect(r.stdout.split(/\r?\n/).filter(Boolean)).toEqual(want);
    const s = JSON.parse(readFileSync(stats, 'utf8'));
    expect(s.apic.accepted.msi).toBe(2); // the raise and the factorial's interrupt
    expect(s.apic.msi).toEqual({ delivered: 2, notApic: 0 });
    expect(s.apic.ioapic.perPin[11]).toBe(3); // INTA#: twice, then once (level)
    expect(s.apic.eoiBroadcasts).toBe(3);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is deterministic: the apic guest (timer, IPIs, PIT via the I/O APIC) repeats exactly',
    async () => {
      const image = readFileSync(join(repoRoot, 'guests/systests/apic.bin'));
      const once = async () => {
        let text = '';
        const m = await Machine.create({ ramBytes: 128 << 20, kernel: image, apic: true,
          serialOut: (b) => { text += String.fromCharCode(b); } });
        const stop = m.run(50_000_000);
        const s = m.stats();
        return { text, stop, instructions: s.instructions, ns: s.virtualNs, apic: s.apic };
      };
      const [a, b] = [await once(), await once()];
      expect(a.stop).toEqual({ kind: 'exit', status: 1 });
      expect(b).toEqual(a);
      expect(a.apic!.timerTicks).toBeGreaterThanOrEqual(4);
    });

  it('vm.json: apic must be a boolean', () => {
    const base = {
      version: 1, name: 'x', cpus: 1, memoryMiB: 16,
      boot: { firmware: 'multiboot', kernel: 'k.elf' }, disks: [], nics: [], serial: [],
    };
    expect(checkVmConfig({ ...base, apic: true })).toEqual([]);
    expect(checkVmConfig({ ...base, apic: 'yes' }).map((p) => p.path)).toEqual(['$.apic']);
  });
});

/** Real mode at F000:0000: IVT entry 2 -> handler (prints 'N', IRET); prints 'S', then
 *  CLI; HLT; prints 'E' and exits through isa-debug-exit. */
function nmiProgram(): number[] {
  return [
    0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x70, // cli; ds = ss = 0; sp
    0xc7, 0x06, 0x08, 0x00, 0x24, 0x00, // mov word [8], 0x24 (the handler)
    0xc7, 0x06, 0x0a, 0x00, 0x00, 0xf0, // mov word [0xa], 0xf000
    0xb0, 0x53, 0xe6, 0xe9, 0xf4, // 'S'; hlt (IF = 0)
    0xb0, 0x45, 0xe6, 0xe9, 0xb0, 0x00, 0xe6, 0xf4, 0xf4, // 'E'; exit
    0xb0, 0x4e, 0xe6, 0xe9, 0xcf, // handler at 0x24: 'N'; iret
  ];
}

describe('the board NMI (Machine.nmi, QEMU\'s `nmi` command)', () => {
  async function boot(apic: boolean) {
    const { romFromBody } = await import('../devices/qemu-probe.js');
    const out: number[] = [];
    const m = await Machine.create({ ramBytes: 4 << 20, firmware: romFromBody(nmiProgram()),
      apic, debugcon: (b) => out.push(b) });
    return { m, out };
  }
  it('wakes a CPU halted with IF = 0 through its NMI pin (no APIC) and runs vector 2', async () => {
    const { m, out } = await boot(false);
    expect(m.run(1000).kind).toBe('halted');
    expect(m.nmi()).toBe(true);
    expect(m.run(1000)).toEqual({ kind: 'exit', status: 1 });
    expect(String.fromCharCode(...out)).toBe('SNE');
  });
  it('stops at LINT1 masked after reset (SDM 10.4.7.1) and at the port 0x70 NMI mask', async () => {
    const { m, out } = await boot(true);
    m.run(1000);
    expect(m.nmi()).toBe(false);
    m.lapic!.writeRegister(0xf0, 0x1ff);
    m.lapic!.writeRegister(0x360, 0x400); // LINT1: NMI (10.5.1)
    m.rtc.nmiMasked = true;
    expect(m.nmi()).toBe(false);
    m.rtc.nmiMasked = false;
    expect(m.nmi()).toBe(true);
    expect(m.run(1000)).toEqual({ kind: 'exit', status: 1 });
    expect(String.fromCharCode(...out)).toBe('SNE');
  });
});

describe('a guest moving a memory BAR', () => {
  it('never throws on the host, however often BAR 0 of the edu device moves', async () => {
    const m = await Machine.create({ ramBytes: 4 << 20, kernel: readFileSync(join(repoRoot,
      'guests/systests/hello.bin')), apic: true, edu: true });
    const cfg = (off: number, v: number) => {
      m.bus.write('pio', 0xcf8, 4, (0x80000000 | (3 << 11) | off) >>> 0);
      m.bus.write('pio', 0xcfc, 4, v);
    };
    cfg(0x04, 0x2); // memory decoding on
    for (let i = 0; i < 300; i++) cfg(0x10, (0xc0000000 + i * 0x100000) >>> 0);
    expect(m.mmioTableFull).toBeGreaterThan(0);
    cfg(0x10, 0xc0000000);
    expect(m.bus.read('mmio', 0xc0000000, 4)).toBe(0x010000ed);
  });
});
