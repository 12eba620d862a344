/**
 * Random instruction streams: whatever bytes a guest executes, the core must end every
 * run() with an exit or a status, never a wasm trap or a host exception, never touch
 * memory outside the VM's structures, and leave a consistent state behind.
 *
 * The driver runs inside the core (assembly/fuzz.ts) so that a million streams fit in CI
 * time. Each stream resets the CPU into real mode, flat 32-bit or 16-bit protected mode, or
 * 32-bit paging with random page-table entries, at CPL 0 or 3, with random registers,
 * EFLAGS, code, IVT/IDT/GDT contents and TSS limit, runs at most 32 instructions per run()
 * and answers up to 8 port/MMIO exits with random values. After every run() it checks:
 * EFLAGS fixed and reserved bits, the segment-cache access-rights format, CS usable code in
 * protected mode, CPL = SS.DPL (0 in real mode), EIP within the CS limit (+ one instruction
 * length), selectors 16-bit; at the end, that the guard areas of the core's memory are
 * untouched.
 *
 * Longer runs: WASMVISOR_FUZZ_STREAMS=50000000 WASMVISOR_FUZZ_SEED=7 npx vitest run test/core/fuzz.test.ts
 */
import { describe, it, expect } from 'vitest';
import { createCore, type WasmCore } from '../../bindings/core/index.js';

const STREAMS = Number(process.env.WASMVISOR_FUZZ_STREAMS ?? 1_000_000);
const SEED = Number(process.env.WASMVISOR_FUZZ_SEED ?? 0x5eed);
const CHUNK = 100_000;

const INVARIANTS: Record<number, string> = {
  1: 'EFLAGS bit 1 clear or a reserved bit set', 2: 'segment access rights not in the VMCS format',
  3: 'CS unusable or not a code segment in protected mode', 4: 'CPL differs from SS.DPL',
  5: 'CPL not 0 in real mode', 6: 'EIP beyond the CS limit', 7: 'selector wider than 16 bits',
  8: 'exit reason not recorded', 9: 'guard area of the core written',
};

describe('random instruction streams', () => {
  it(`run ${STREAMS.toLocaleString('en')} streams without a trap, a stray write or an inconsistent state`, async () => {
    const core = (await createCore({ ramBytes: 1 << 20 })) as WasmCore;
    core.addMmio(0xa0000, 0x20000);
    let instructions = 0;
    for (let done = 0, k = 0; done < STREAMS; done += CHUNK, k++) {
      const n = Math.min(CHUNK, STREAMS - done);
      const r = core.fuzz(SEED + 7919 * k, n, 32, 8, true);
      instructions += r.instructions;
      expect(r.guardsIntact, 'guard areas intact').toBe(true);
      expect(r.violations === 0 ? 'none' : `${INVARIANTS[r.firstCode]} (chunk ${k}, stream ${r.firstStream})`).toBe('none');
    }
    // The streams really execute: on average more than one instruction each.
    expect(instructions).toBeGreaterThan(STREAMS);
  }, 600_000);
});
