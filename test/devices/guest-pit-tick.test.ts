/**
 * The PIT tick test, as kvmtool has one: a real-mode guest programs the PIC (ICW1-4, mask
 * all but IRQ0) and PIT counter 0 in mode 2, installs an IRQ0 handler that counts and
 * sends a non-specific EOI, and sleeps in HLT until K ticks. On this machine the virtual
 * time must be K periods of N PIT clocks (8254 datasheet, mode 2: first rising edge N+1
 * clocks after the count is written, then every N); under QEMU the same binary must also
 * count K ticks and read back the same PIT status.
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../bindings/machine/machine.js';
import { floppyImage, hasQemu, romFromBody, runQemuFloppy } from './qemu-probe.js';

const N = 11932; // Linux's LATCH for HZ=100
const K = 25;
const PIT_HZ = 1_193_182;

/** Hand-assembled real-mode program; `cs`/`base` say where it runs. */
function tickProgram(cs: number, base: number): number[] {
  const c: number[] = [];
  const b = (...x: number[]) => c.push(...x.map((v) => v & 0xff));
  const w = (v: number) => b(v, v >> 8);
  b(0xfa); // cli
  b(0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0); // xor ax,ax; mov ds,ax; mov ss,ax
  b(0xbc); w(0x7000); // mov sp,0x7000
  b(0xc7, 0x06); w(0x20); const handlerFix = c.length; w(0); // mov word [0x20], handler
  b(0xc7, 0x06); w(0x22); w(cs); // mov word [0x22], cs
  b(0xc7, 0x06); w(0x500); w(0); // mov word [0x500], 0
  for (const [port, v] of [[0x20, 0x11], [0x21, 0x08], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe], [0xa1, 0xff], [0x43, 0x34], [0x40, N & 0xff], [0x40, N >> 8]]) {
    b(0xb0, v, 0xe6, port); // mov al, v; out port, al
  }
  b(0xfb); // sti
  const loop = c.length;
  b(0xf4); // hlt
  b(0x83, 0x3e); w(0x500); b(K); // cmp word [0x500], K
  b(0x72, loop - (c.length + 2)); // jb loop
  b(0xfa); // cli
  b(0xa0); w(0x500); b(0xe6, 0xe9); // mov al,[0x500]; out 0xe9,al
  b(0xb0, 0xe2, 0xe6, 0x43, 0xe4, 0x40, 0x24, 0x7f, 0xe6, 0xe9); // read-back status of counter 0, OUT masked
  b(0xb0, 0x00, 0xe6, 0xf4, 0xf4); // isa-debug-exit; hlt
  const handler = c.length;
  b(0xff, 0x06); w(0x500); // inc word [0x500]
  b(0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf); // push ax; mov al,0x20; out 0x20,al; pop ax; iret
  c[handlerFix] = (base + handler) & 0xff; c[handlerFix + 1] = (base + handler) >> 8;
  return c;
}

describe('PIT tick guest (PIT mode 2 -> IRQ0 -> PIC -> CPU)', () => {
  it('counts K ticks in K periods of virtual time, one injected interrupt each', async () => {
    const out: number[] = [];
    const m = await Machine.create({ ramBytes: 16 << 20, firmware: romFromBody(tickProgram(0xf000, 0)), debugcon: (x) => out.push(x) });
    expect(m.run(50_000_000)).toEqual({ kind: 'exit', status: 1 });
    expect(out).toEqual([K, 0x34]);
    const s = m.stats();
    expect(s.interruptsInjected).toBe(K);
    const periodNs = (N * 1e9) / PIT_HZ;
    // The K-th tick is at edge N*K + 1 after the count was written; the guest then runs
    // for a few instructions more (at 10 ns each) before it exits.
    expect(s.virtualNs).toBeGreaterThanOrEqual(Math.floor(K * periodNs));
    expect(s.virtualNs).toBeLessThan(K * periodNs + 20_000);
    expect(s.haltedNs).toBeGreaterThan(0.9 * K * periodNs); // the CPU slept between ticks
    // HLT resumes only on an interrupt (SDM vol. 3A, HLT): one sleep per tick, though OUT0
    // also falls once per period.
    expect(s.exits.hlt).toBe(K);
  });

  it.skipIf(!hasQemu)('QEMU counts the same ticks and reads the same PIT status', () => {
    const r = runQemuFloppy(floppyImage(tickProgram(0x0000, 0x7e00)));
    expect(r.status).toBe(1);
    expect(r.bytes).toEqual([K, 0x34]);
  });
});
