// One flag the run loop tests between instructions instead of every event source: set
// whenever an NMI, an external interrupt, an interrupt-window request, HLT or an interrupt
// shadow may need the boundary check; recomputed by the check itself.
//
// An event that cannot be taken yet costs nothing, as interrupt-window exiting in
// hardware (SDM vol. 3C, table 25-6, "interrupt-window exiting"): with IF = 0 a pending
// external interrupt and an interrupt-window request leave `attention` clear, and so does
// an NMI while NMIs are blocked. Whatever can open the window raises `attention` itself:
// STI (its shadow, shadow.ts), every full write of EFLAGS that sets IF (POPF, IRET, a
// task switch, an interrupt or exception through a task gate: flags.ts setFlags()),
// IRET's end of NMI blocking (system/iret.ts), the end of an interrupt shadow (run.ts)
// and the host (run() entry).
import {
  STATE_BASE, S_NMI_PENDING, S_NMI_BLOCKED, S_INTR_PENDING, S_IRQ_WINDOW, S_HALTED,
  S_INT_SHADOW,
} from '../generated/layout';
import { guestAttn, guestIntrOpen } from '../vmm/guest';

export let attention: bool = true;
@inline export function needAttention(): void { attention = true; }

/** `ifSet`: EFLAGS.IF as the instruction boundary finds it. */
export function recomputeAttention(ifSet: bool): void {
  const nmi = load<u32>(STATE_BASE + S_NMI_PENDING) != 0 &&
    load<u32>(STATE_BASE + S_NMI_BLOCKED) == 0;
  const intr = (ifSet || guestIntrOpen) && ((load<u32>(STATE_BASE + S_INTR_PENDING) & 0x100) |
    load<u32>(STATE_BASE + S_IRQ_WINDOW)) != 0;
  attention = nmi || intr ||
    (load<u32>(STATE_BASE + S_HALTED) | load<u32>(STATE_BASE + S_INT_SHADOW)) != 0 ||
    guestAttn; // non-root operation that checks every boundary (assembly/vmm/guest.ts)
}
