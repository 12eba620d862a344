/**
 * AMD-V under random input (assembly/svm/fuzz.ts, built into build/fuzz.wasm): L1
 * hypervisors that VMRUN random VMCBs (valid ones with random fields spoiled, random
 * intercept vectors, permission maps, EVENTINJ, nested paging over random tables) whose
 * L2 guests run random bytes. Every run() must end in an exit or a status (no wasm trap),
 * leave the state invariants of test/core/fuzz.test.ts intact, keep guest mode to a CPU
 * with SVM and EFER.SVME, and every #VMEXIT the L1 sees must carry VMEXIT_INVALID or an
 * exit code of AMD APM vol. 2, appendix C; no write may land in the core's guard areas.
 *
 * Longer runs: WASMVISOR_SVM_FUZZ_CASES=5000000 npx vitest run test/vmm/svm-fuzz.test.ts
 */
import { readFileSync, existsSync } from 'node:fs';
import { describe, it, expect } from 'vitest';

const CASES = Number(process.env.WASMVISOR_SVM_FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.WASMVISOR_FUZZ_SEED ?? 0x5e1f);
const CHUNK = 25_000;
const FUZZ_WASM = new URL('../../build/fuzz.wasm', import.meta.url);

interface FuzzCore {
  init(ramBytes: number): number;
  addMmio(phys: number, len: number): number;
  fuzzSvm(seed: number, cases: number, budget: number, maxExits: number): number;
  fuzzArmGuards(): void;
  guardsIntact(): number;
  fuzzFirstCode(): number;
  fuzzFirstAt(): number;
  svmFuzzExitCount(): number;
  svmFuzzInvalidCount(): number;
}

const INVARIANTS: Record<number, string> = {
  1: 'EFLAGS bit 1 clear or a reserved bit set', 2: 'segment access rights not in the VMCS format',
  3: 'CS unusable or not a code segment in protected mode', 4: 'CPL differs from SS.DPL',
  5: 'CPL not 0 in real mode', 6: 'EIP beyond the CS limit', 7: 'selector wider than 16 bits',
  8: 'exit reason not recorded', 9: 'guard area of the core written',
  11: 'SVM guest mode without SVM or EFER.SVME', 12: 'an exit code appendix C does not list',
};

describe('random VMCBs and L2 instruction streams', () => {
  it(`${CASES.toLocaleString('en')} cases: no trap, no stray write, documented exits`, async () => {
    if (!existsSync(FUZZ_WASM)) throw new Error(`${FUZZ_WASM.pathname} is missing: npm run build`);
    const env = {
      abort(_m: number, _f: number, line: number, col: number): never {
        throw new Error(`the fuzz core aborted at ${line}:${col}`);
      },
    };
    const { instance } = await WebAssembly.instantiate(readFileSync(FUZZ_WASM), { env });
    const x = instance.exports as unknown as FuzzCore;
    expect(x.init(1 << 20)).toBe(1);
    expect(x.addMmio(0xa0000, 0x20000)).toBe(1);
    let exits = 0, invalid = 0;
    for (let done = 0, k = 0; done < CASES; done += CHUNK, k++) {
      const n = Math.min(CHUNK, CASES - done);
      x.fuzzArmGuards();
      const v = x.fuzzSvm((SEED + 7919 * k) >>> 0, n, 64, 8);
      expect(x.guardsIntact() !== 0, 'guard areas intact').toBe(true);
      const first = `${INVARIANTS[x.fuzzFirstCode()]} (chunk ${k}, case ${x.fuzzFirstAt()})`;
      expect(v === 0 ? 'none' : first).toBe('none');
      exits += x.svmFuzzExitCount();
      invalid += x.svmFuzzInvalidCount();
    }
    // Both outcomes occur: refused VMCBs and guests that ran until an exit.
    expect(invalid).toBeGreaterThan(CASES / 100);
    expect(exits - invalid).toBeGreaterThan(CASES / 100);
  }, 600_000);
});
