// One flag the run loop tests between instructions instead of every event source: set
// whenever an NMI, an external interrupt, an interrupt-window request, HLT or an interrupt
// shadow may need the boundary check; recomputed by the check itself.
import {
  STATE_BASE, S_NMI_PENDING, S_INTR_PENDING, S_IRQ_WINDOW, S_HALTED, S_INT_SHADOW,
} from '../generated/layout';

export let attention: bool = true;
@inline export function needAttention(): void { attention = true; }

export function recomputeAttention(): void {
  attention = (load<u32>(STATE_BASE + S_NMI_PENDING) | (load<u32>(STATE_BASE + S_INTR_PENDING) & 0x100) |
    load<u32>(STATE_BASE + S_IRQ_WINDOW) | load<u32>(STATE_BASE + S_HALTED) | load<u32>(STATE_BASE + S_INT_SHADOW)) != 0;
}
