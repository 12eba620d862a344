/**
 * Random instruction streams: whatever bytes a guest executes, the core must end every
 * run() with an exit or a status, never a wasm trap or a host exception, never touch
 * memory outside the VM's structures, and leave a consistent state behind.
 *
 * The driver runs inside the core (assembly/fuzz.ts) so that a million streams fit in CI
 * time. It is built into its own module, build/fuzz.wasm (assembly/fuzz-entry.ts: the
 * release core's code and options plus the driver), so the shipped core does not carry
 * it. Each stream resets the CPU into real mode, flat 32-bit or 16-bit protected mode, or
 * 32-bit paging with random page-table entries, at CPL 0 or 3, with random registers,
 * EFLAGS, code, IVT/IDT/GDT contents and TSS limit, runs at most 32 instructions per run()
 * and answers up to 8 port/MMIO exits with random values. After every run() it checks:
 * EFLAGS fixed and reserved bits, the segment-cache access-rights format, CS usable code in
 * protected mode, CPL = SS.DPL (0 in real mode), EIP within the CS limit (+ one instruction
 * length), selectors 16-bit, the x87 control, status and tag words well formed; at the
 * end, that the guard areas of the core's memory (all the space scripts/layout.mjs leaves
 * unused) are untouched.
 *
 * x87 streams: a second run (a quarter as many streams) makes half of them x87 code
 * (escape opcodes D8-DF with random ModRM and operands, FWAIT, prefixes, FXSAVE/FXRSTOR
 * and the rest of 0F AE) with random CR0.EM/MP/TS/NE, over an FPU state that carries over between streams. They
 * are checked for "no crash, no stray access, consistent state" only: no reference runs
 * them (the FPU's results are compared with the real CPU's by the captured vectors).
 *
 * Longer runs:
 *   WASMVISOR_FUZZ_STREAMS=50000000 WASMVISOR_FUZZ_SEED=7 npx vitest run test/core/fuzz.test.ts
 */
import { readFileSync, existsSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  S_CNT_INSN, STATE_BASE, S_FPU_CW, S_FPU_SW, S_FPU_TW,
} from '../../bindings/generated/layout.js';

const STREAMS = Number(process.env.WASMVISOR_FUZZ_STREAMS ?? 1_000_000);
const SEED = Number(process.env.WASMVISOR_FUZZ_SEED ?? 0x5eed);
const CHUNK = 100_000;
const FUZZ_WASM = new URL('../../build/fuzz.wasm', import.meta.url);

/** The exports of build/fuzz.wasm used here (assembly/index.ts and assembly/fuzz.ts). */
interface FuzzCore {
  memory: WebAssembly.Memory;
  init(ramBytes: number): number;
  addMmio(phys: number, len: number): number;
  fuzz(
    seed: number, streams: number, budget: number, maxExits: number, stopAtFirst: number,
  ): number;
  fuzzArmGuards(): void;
  guardsIntact(): number;
  fuzzFirstCode(): number;
  fuzzFirstAt(): number;
  fuzzSetX87(on: number): void;
  fuzzX87Streams(): number;
}

async function fuzzCore(ramBytes: number): Promise<FuzzCore> {
  if (!existsSync(FUZZ_WASM)) {
    throw new Error(`${FUZZ_WASM.pathname} is missing: run npm run build:wasm`);
  }
  const env = {
    abort(_msg: number, _file: number, line: number, column: number): never {
      throw new Error(`the fuzz core aborted at line ${line}:${column}`);
    },
  };
  const { instance } = await WebAssembly.instantiate(readFileSync(FUZZ_WASM), { env });
  const x = instance.exports as unknown as FuzzCore;
  if (!x.init(ramBytes)) throw new Error(`cannot allocate ${ramBytes} bytes of guest RAM`);
  return x;
}

const retired = (x: FuzzCore): bigint =>
  new DataView(x.memory.buffer).getBigUint64(STATE_BASE + S_CNT_INSN, true);

const INVARIANTS: Record<number, string> = {
  1: 'EFLAGS bit 1 clear or a reserved bit set', 2: 'segment access rights not in the VMCS format',
  3: 'CS unusable or not a code segment in protected mode', 4: 'CPL differs from SS.DPL',
  5: 'CPL not 0 in real mode', 6: 'EIP beyond the CS limit', 7: 'selector wider than 16 bits',
  8: 'exit reason not recorded', 9: 'guard area of the core written',
  10: 'VMX operation without VMX or without the fixed CR0/CR4 bits',
  11: 'x87 control word with reserved bits, or status/tag word wider than 16 bits',
};

describe('random instruction streams', () => {
  const streams = STREAMS.toLocaleString('en');
  it(`run ${streams} streams without a trap, a stray write or an inconsistent state`, async () => {
    const x = await fuzzCore(1 << 20);
    expect(x.addMmio(0xa0000, 0x20000)).toBe(1);
    const before = retired(x);
    for (let done = 0, k = 0; done < STREAMS; done += CHUNK, k++) {
      const n = Math.min(CHUNK, STREAMS - done);
      x.fuzzArmGuards();
      const violations = x.fuzz((SEED + 7919 * k) >>> 0, n, 32, 8, 1);
      expect(x.guardsIntact() !== 0, 'guard areas intact').toBe(true);
      const first = `${INVARIANTS[x.fuzzFirstCode()]} (chunk ${k}, stream ${x.fuzzFirstAt()})`;
      expect(violations === 0 ? 'none' : first).toBe('none');
    }
    // The streams really execute: on average more than one instruction each.
    expect(Number(retired(x) - before)).toBeGreaterThan(STREAMS);
  }, 600_000);

  const x87 = Math.ceil(STREAMS / 4).toLocaleString('en');
  it(`run ${x87} streams, half of them x87 code, with the same checks`, async () => {
    const x = await fuzzCore(1 << 20);
    expect(x.addMmio(0xa0000, 0x20000)).toBe(1);
    x.fuzzSetX87(1);
    const n = Math.ceil(STREAMS / 4);
    for (let done = 0, k = 0; done < n; done += CHUNK, k++) {
      x.fuzzArmGuards();
      const violations = x.fuzz((SEED + 104729 * (k + 1)) >>> 0, Math.min(CHUNK, n - done),
        32, 8, 1);
      expect(x.guardsIntact() !== 0, 'guard areas intact').toBe(true);
      const first = `${INVARIANTS[x.fuzzFirstCode()]} (chunk ${k}, stream ${x.fuzzFirstAt()})`;
      expect(violations === 0 ? 'none' : first).toBe('none');
    }
    expect(x.fuzzX87Streams()).toBeGreaterThan(n / 3);
    // The FPU ran: its state is no longer RESET's (CW 0040h, SW 0, TW 5555h).
    const dv = new DataView(x.memory.buffer);
    const fpu = [S_FPU_CW, S_FPU_SW, S_FPU_TW].map((o) => dv.getUint32(STATE_BASE + o, true));
    expect(fpu).not.toEqual([0x0040, 0, 0x5555]);
  }, 600_000);
});
