/**
 * The benchmark guests (guests/bench) and the instruction count each executes between its
 * two checkpoints, computed from the guest's source (see each .asm header). The list lives
 * in the library (bindings/bench/loops.ts), which `wasmvisor bench` also runs.
 */
export { WORKLOADS, type Workload } from '../bindings/bench/loops.js';

export function benchImageUrl(name: string): URL {
  return new URL(`../guests/bench/${name}.bin`, import.meta.url);
}
