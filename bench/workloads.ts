/**
 * The benchmark guests (guests/bench) and the instruction count each executes between its
 * two checkpoints, computed from the guest's source (see each .asm header).
 */
export interface Workload {
  name: string;
  what: string;
  /** Instructions between the two checkpoints (from the first after the start OUT to the end OUT, exclusive). */
  instructions: number;
}

export const WORKLOADS: Workload[] = [
  { name: 'alu-rotate', what: 'ALU loop with a rotate', instructions: 1 + 6 * 10_000_000 + 1 },
  { name: 'alu', what: 'ALU loop without a rotate', instructions: 1 + 6 * 10_000_000 + 1 },
  { name: 'memory', what: 'load/add/store over 64 KiB', instructions: 1 + 600 * (2 + 6 * 16_384 + 2) + 1 },
  { name: 'callret', what: 'call/ret loop', instructions: 1 + 4 * 10_000_000 + 1 },
  { name: 'pages', what: 'one access per 4 KiB page over 8 MiB, paging on', instructions: 1 + 6_000 * (2 + 4 * 2_048 + 2) + 1 },
];

export function benchImageUrl(name: string): URL {
  return new URL(`../guests/bench/${name}.bin`, import.meta.url);
}
