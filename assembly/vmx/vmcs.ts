// Field access to the current VMCS for the VMX code (entry, exits, host exports). The
// fields live in the VMCS block of the core's memory (scripts/layout.mjs, one u32 slot per
// encoding: assembly/cpu/system/vmx.ts); the slot of an encoding is looked up once and
// cached in a table indexed by the encoding's bits 14:1 (SDM vol. 3C, table 25-21).
import { VMCS_FIELDS } from '../generated/layout';
import { vmcsSlot } from '../cpu/system/vmx';

/** Slot + 1 of every encoding below 0x8000 (0: not looked up yet; -1: unsupported). */
const slots = new StaticArray<i16>(0x4000);

/** The slot address of field `enc`, or 0 when the field is unsupported. */
export function fieldAddr(enc: u32): u32 {
  if (enc >= 0x8000) return 0;
  const i = <i32>(enc >> 1);
  let s = <i32>unchecked(slots[i]);
  if (s == 0) {
    s = vmcsSlot(enc & ~1) ;
    s = s < 0 ? -1 : s + 1;
    unchecked(slots[i] = <i16>s);
  }
  if (s < 0) return 0;
  // The HIGH half of a 64-bit field (access type 1) is the slot after its FULL half.
  const hi: u32 = ((enc & 1) != 0 && ((enc >> 13) & 3) == 1) ? 1 : 0;
  if ((enc & 1) != 0 && hi == 0) return 0;
  return VMCS_FIELDS + ((<u32>(s - 1) + hi) << 2);
}

/** Reads field `enc` (32 bits; the FULL half of a 64-bit field); 0 when unsupported. */
export function vr(enc: u32): u32 {
  const a = fieldAddr(enc);
  return a == 0 ? 0 : load<u32>(a);
}
/** Reads a 64-bit field whole. */
export function vr64(enc: u32): u64 {
  const a = fieldAddr(enc);
  if (a == 0) return 0;
  if (((enc >> 13) & 3) != 1) return <u64>load<u32>(a);
  return (<u64>load<u32>(a + 4) << 32) | <u64>load<u32>(a);
}
/** Writes field `enc` (any type, also the read-only ones: the processor's own writes),
 *  masked to its width; a 64-bit field's high half is cleared. */
export function vw(enc: u32, v: u32): void {
  const a = fieldAddr(enc);
  if (a == 0) return;
  const w = (enc >> 13) & 3;
  store<u32>(a, w == 0 ? v & 0xffff : v);
  if (w == 1 && (enc & 1) == 0) store<u32>(a + 4, 0);
}
/** Writes a 64-bit field whole. */
export function vw64(enc: u32, v: u64): void {
  const a = fieldAddr(enc);
  if (a == 0) return;
  if (((enc >> 13) & 3) != 1) { vw(enc, <u32>v); return; }
  store<u32>(a, <u32>v);
  store<u32>(a + 4, <u32>(v >> 32));
}
