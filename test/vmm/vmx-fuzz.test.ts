/**
 * Fuzz of the VT-x path (assembly/fuzz-vmx.ts in build/fuzz.wasm): random VMCS contents,
 * control bits, EPT entries, injected events and guest instruction streams. Every case must
 * end in a documented outcome (SDM vol. 3C: VMfailValid 7, entry failure 33/34 with bit 31,
 * or a VM exit with a basic reason of appendix C), never trap the wasm instance (a trap fails
 * the test), never shut a host-owned guest down, never write outside the VM's memory.
 */
import { readFileSync, existsSync } from 'node:fs';
import { describe, it, expect } from 'vitest';

const CASES = Number(process.env.WASMVISOR_VMX_FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.WASMVISOR_FUZZ_SEED ?? 0x5eed);
const CHUNK = 25_000;
const FUZZ_WASM = new URL('../../build/fuzz.wasm', import.meta.url);

interface VmxFuzz {
  init(ramBytes: number): number;
  fuzzVmx(seed: number, cases: number, budget: number, maxExits: number): number;
  fuzzVmxFirst(): number;
  fuzzVmxFirstCase(): number;
  fuzzVmxEntered(): number;
  fuzzVmxExits(): number;
  fuzzVmxFailed(): number;
  fuzzArmGuards(): void;
  guardsIntact(): number;
}

describe('VT-x fuzz', () => {
  it(`${CASES} random VMCS / guest cases end in a documented failure or exit`, async () => {
    if (!existsSync(FUZZ_WASM)) throw new Error('build/fuzz.wasm is missing: npm run build:wasm');
    const env = {
      abort(_m: number, _f: number, line: number, col: number): never {
        throw new Error(`the fuzz core aborted at line ${line}:${col}`);
      },
    };
    const { instance } = await WebAssembly.instantiate(readFileSync(FUZZ_WASM), { env });
    const x = instance.exports as unknown as VmxFuzz;
    expect(x.init(4 << 20)).toBeTruthy();
    x.fuzzArmGuards();
    let entered = 0, exits = 0, failed = 0;
    for (let done = 0, k = 0; done < CASES; done += CHUNK, k++) {
      const n = Math.min(CHUNK, CASES - done);
      const v = x.fuzzVmx((SEED + k * 0x9e3779b9) >>> 0, n, 200, 4);
      expect(v, `violation ${x.fuzzVmxFirst()} in case ${x.fuzzVmxFirstCase()} of chunk ${k}`)
        .toBe(0);
      entered += x.fuzzVmxEntered(); exits += x.fuzzVmxExits(); failed += x.fuzzVmxFailed();
    }
    expect(x.guardsIntact() !== 0, 'guard areas intact').toBe(true);
    // The cases reach every outcome: entries, exits and failed entries.
    expect(entered).toBeGreaterThan(CASES / 10);
    expect(exits).toBeGreaterThan(CASES / 20);
    expect(failed).toBeGreaterThan(CASES / 20);
  }, 600_000);
});
