// The virtual time stamp counter: TSC = instructions retired x ticks per instruction,
// deterministic (DESIGN.md, "Deterministic virtual time"). The run loop counts retired
// instructions in a local and folds them into S_TSC at exit; RDTSC adds the part not yet
// folded.
export let tscRetired: u64 = 0;
export let tscPerInsn: u64 = 1;
@inline export function tscPending(): u64 { return tscRetired * tscPerInsn; }
export function setTscRetired(v: u64): void { tscRetired = v; }
export function setTscPerInsn(v: u64): void { tscPerInsn = v; }
