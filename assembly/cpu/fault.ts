// The fault convention. AssemblyScript has no exceptions (`throw` aborts the instance),
// so an instruction that faults records the exception here and returns; every caller
// checks `faulted` after each access that can fault and returns at once. The run loop
// then restores EIP and ESP to their values at the start of the instruction (precise
// faults: the instruction restarts after the handler) and delivers the exception.
//
// An exit to the host in the middle of an instruction (a port or MMIO access that the host
// must complete) uses the same path with `exitPending` set: the instruction is abandoned
// and replayed when the host runs the core again (see cpu/iolog.ts).

import { needAttention } from './events';

// Exception vectors (Intel SDM vol. 3A, table 6-1).
export const DE = 0; export const DB = 1; export const NMI_VEC = 2; export const BP = 3;
export const OF_VEC = 4; export const BR = 5; export const UD = 6; export const NM = 7;
export const DF_VEC = 8; export const TS = 10; export const NP = 11; export const SS_VEC = 12;
export const GP = 13; export const PF_VEC = 14; export const MF = 16; export const AC_VEC = 17;

/** Set when the current instruction is abandoned (exception or exit). */
export let faulted: bool = false;
/** True when the abandon is an exit to the host rather than an exception. */
export let exitPending: bool = false;
export let excVector: i32 = -1;
export let excCode: u32 = 0;
export let excHasCode: bool = false;

/** Raises exception `vector` with an error code (SDM vol. 3A, 6.13). */
export function raise(vector: i32, code: u32, hasCode: bool): void {
  if (faulted) return; // the first fault of an instruction wins
  faulted = true;
  needAttention(); // the run loop looks at `faulted` only under attention
  exitPending = false;
  excVector = vector;
  excCode = code;
  excHasCode = hasCode;
}

@inline export function raiseGP(code: u32): void { raise(GP, code, true); }
@inline export function raiseSS(code: u32): void { raise(SS_VEC, code, true); }
@inline export function raiseUD(): void { raise(UD, 0, false); }
@inline export function raiseNP(code: u32): void { raise(NP, code, true); }
@inline export function raiseTS(code: u32): void { raise(TS, code, true); }
@inline export function raiseDE(): void { raise(DE, 0, false); }

/** Abandons the instruction for an exit to the host. */
export function requestExit(): void {
  if (faulted) return;
  faulted = true;
  needAttention();
  exitPending = true;
  excVector = -1;
}

/** True when the abandon is a VM exit (raiseVmExit); `vmExitTrap`: the exit is trap-like
 *  (EIP and ESP stay where the instruction left them) rather than fault-like. */
export let vmExitRaised: bool = false;
export let vmExitTrap: bool = false;

/** Abandons the instruction (or event delivery) for a VM exit (issue 9; SDM vol. 3C,
 *  chapter 28: an exit is taken like a fault, the guest's EIP naming the instruction,
 *  unless the vendor says it is trap-like). The vendor code recorded the exit information
 *  before; the run loop calls vmExitPerform() (assembly/vmm/guest.ts). */
export function raiseVmExit(trapLike: bool): void {
  if (faulted) return;
  faulted = true;
  needAttention();
  exitPending = true;
  vmExitRaised = true;
  vmExitTrap = trapLike;
  excVector = -1;
}

/** Clears the fault state (run loop, after handling). */
export function clearFault(): void {
  vmExitRaised = false;
  vmExitTrap = false;
  faulted = false;
  exitPending = false;
  excVector = -1;
  excHasCode = false;
  excCode = 0;
}
