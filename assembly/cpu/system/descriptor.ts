// Segment descriptors (Intel SDM vol. 3A, 3.4.5): reading them from the GDT/LDT and
// converting them to the segment cache (VMCS access-rights format, SDM vol. 3C, 25.4.1).
import { STATE_BASE, S_GDTR_BASE, S_GDTR_LIMIT } from '../../generated/layout';
import { segBase, segLimit, segAccess, LDTR, AR_UNUSABLE } from '../state';
import { sysRead32, sysWrite32 } from '../access';
import { faulted, raiseGP } from '../fault';

export let descLo: u32 = 0;
export let descHi: u32 = 0;
/** Linear address of the descriptor last read (for setting its accessed bit). */
export let descAddr: u32 = 0;

/** Reads the descriptor of `sel` into descLo/descHi. Returns false (and raises
 *  #GP(sel & ~3)) when the selector is outside its table. Null selectors are the caller's. */
export function readDescriptor(sel: u32): bool {
  let base: u32, limit: u32;
  if ((sel & 4) != 0) {
    if ((segAccess(LDTR) & AR_UNUSABLE) != 0) { raiseGP(sel & 0xfffc); return false; }
    base = segBase(LDTR); limit = segLimit(LDTR);
  } else {
    base = load<u32>(STATE_BASE + S_GDTR_BASE); limit = load<u32>(STATE_BASE + S_GDTR_LIMIT);
  }
  const idx = sel & 0xfff8;
  if (idx + 7 > limit) { raiseGP(sel & 0xfffc); return false; }
  descAddr = base + idx;
  descLo = sysRead32(descAddr);
  if (faulted) return false;
  descHi = sysRead32(descAddr + 4);
  return !faulted;
}

@inline export function descBase(): u32 { return (descLo >>> 16) | ((descHi & 0xff) << 16) | (descHi & 0xff000000); }
@inline export function descLimit(): u32 {
  const l = (descHi & 0xf0000) | (descLo & 0xffff);
  return (descHi & (1 << 23)) != 0 ? (l << 12) | 0xfff : l;
}
/** Access rights in the VMCS format: descriptor bits 40-47 to 0-7 and 52-55 to 12-15. */
@inline export function descAccess(): u32 { return (descHi >>> 8) & 0xf0ff; }
@inline export function descDpl(): u32 { return (descHi >> 13) & 3; }
@inline export function descPresent(): bool { return (descHi & (1 << 15)) != 0; }
@inline export function descType(): u32 { return (descHi >> 8) & 0x1f; } // S bit included (bit 4)

/** Sets the accessed bit of a code/data descriptor in memory (SDM vol. 3A, 3.4.5.1). */
export function setAccessed(): void {
  if ((descHi & 0x100) == 0) {
    descHi |= 0x100;
    sysWrite32(descAddr + 4, descHi);
  }
}
