// The virtual time stamp counter: TSC = instructions retired x ticks per instruction,
// deterministic (DESIGN.md, "Deterministic virtual time"). The run loop counts retired
// instructions in a local and folds them into S_TSC at exit; RDTSC adds the part not yet
// folded.
import { STATE_BASE, S_EXIT_REASON, EXIT_RDTSC } from '../generated/layout';
import { requestExit } from './fault';
export let tscRetired: u64 = 0;
export let tscPerInsn: u64 = 1;
/** Instructions retired in the current slice of the run loop (not yet in tscRetired). */
export let sliceCount: u32 = 0;
@inline export function setSliceCount(v: u32): void { sliceCount = v; }
@inline export function tscPending(): u64 { return (tscRetired + <u64>sliceCount) * tscPerInsn; }
export function setTscRetired(v: u64): void { tscRetired = v; }
export function setTscPerInsn(v: u64): void { tscPerInsn = v; }

// Simulated time (a cost profile chosen by the host, bindings/vmm/cost): RDTSC, RDTSCP and
// RDMSR of IA32_TSC exit to the host (EXIT_RDTSC) before they run, and run again with the
// host's answer: the simulated cycle count. Off: one predictable branch on a global.
export let tscExitOn: bool = false;
let tscAnswerValid: bool = false;
let tscAnswer: u64 = 0;
/** What the guest's own writes of IA32_TSC added to the counter (WRMSR 0x10, SDM vol. 3B
 *  17.17): the host adds it to the simulated count, so a guest that writes its TSC reads
 *  back from what it wrote. */
export let tscWriteAdjust: u64 = 0;
export function setTscExit(on: bool): void { tscExitOn = on; tscAnswerValid = false; }
export function setTscAnswer(v: u64): void { tscAnswer = v; tscAnswerValid = true; }
export function addTscWriteAdjust(d: u64): void { tscWriteAdjust += d; }
export function setTscWriteAdjust(v: u64): void { tscWriteAdjust = v; }
/** With simulated time on: true after requesting the exit (the caller returns, the
 *  instruction abandoned); false with the host's answer in `tscTaken`. */
export let tscTaken: u64 = 0;
export function tscNeedsHost(): bool {
  if (tscAnswerValid) { tscTaken = tscAnswer; tscAnswerValid = false; return false; }
  store<u32>(STATE_BASE + S_EXIT_REASON, EXIT_RDTSC);
  requestExit();
  return true;
}
