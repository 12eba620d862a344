// Per-instruction facts the run loop reads after an instruction: whether it opened an
// interrupt shadow (STI, MOV SS, POP SS: SDM vol. 2B) and whether it delivered a software
// interrupt (no single-step trap follows those).

import { needAttention } from './events';

/** Set by STI / MOV SS / POP SS: the next instruction runs with interrupts held off. */
export let shadowNext: bool = false;
/** Also raises `attention`: the run loop looks at `shadowNext` only under attention. */
@inline export function setShadowNext(): void { shadowNext = true; needAttention(); }
export function clearShadowNext(): void { shadowNext = false; }
/** Set when the instruction delivered INT n / INT3 / INTO / INT1. */
export let softIntDelivered: bool = false;
@inline export function setSoftInt(): void { softIntDelivered = true; }
export function clearSoftInt(): void { softIntDelivered = false; }
