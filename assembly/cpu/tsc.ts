// The virtual time stamp counter: TSC = instructions retired x ticks per instruction,
// deterministic (DESIGN.md, "Deterministic virtual time"). The run loop counts retired
// instructions in a local and folds them into S_TSC at exit; RDTSC adds the part not yet
// folded.
export let tscRetired: u64 = 0;
export let tscPerInsn: u64 = 1;
/** Instructions retired in the current slice of the run loop (not yet in tscRetired). */
export let sliceCount: u32 = 0;
@inline export function setSliceCount(v: u32): void { sliceCount = v; }
@inline export function tscPending(): u64 { return (tscRetired + <u64>sliceCount) * tscPerInsn; }
export function setTscRetired(v: u64): void { tscRetired = v; }
export function setTscPerInsn(v: u64): void { tscPerInsn = v; }
