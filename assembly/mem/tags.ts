// The tagged TLB (issue 9, section 4): TLB entries carry the address space (VPID on Intel,
// ASID on AMD; 0 for the host) they were filled under. The software TLB (mem/tlb.ts) is
// direct-mapped on the linear page and its hit test compares no tag, so the native hot path
// stays as it is: instead, a world switch with tags on moves the entries of the address
// space it leaves (those the fill log names) to a save area under their tag and brings
// back those of the address space it enters (counted as survivors, S_CNT_TLB_SURVIVE).
// With tags off, or when the fill log overflowed, the switch flushes the whole TLB.
// INVVPID/INVEPT and changes of the physical map drop saved entries (tagDrop).
import {
  STATE_BASE, S_TLB_TAGS, S_CNT_TLB_SURVIVE, TLB_TAG, TLB_ADD, TLB_GLOBAL, TLB_FILL_LOG,
  FILL_LOG_MAX, TLBSAVE_TAGS, TLBSAVE_ID, TLBSAVE_N, TLBSAVE_TABLE, TLBSAVE_ENTRY_SIZE, TS_INDEX,
  TS_TAG, TS_ADD, TS_GLOBAL,
} from '../generated/layout';
import { tlbFlushAll, fillCount, setFillCount, noteFill } from './tlb';

const FREE: u32 = 0xffffffff;
let initialized = false;
function init(): void {
  if (initialized) return;
  initialized = true;
  memory.fill(TLBSAVE_ID, 0xff, TLBSAVE_TAGS * 4);
  memory.fill(TLBSAVE_N, 0, TLBSAVE_TAGS * 4);
}

@inline function slotEntry(slot: u32, k: u32): u32 {
  return TLBSAVE_TABLE + (slot * <u32>FILL_LOG_MAX + k) * TLBSAVE_ENTRY_SIZE;
}

/** The save slot of `tag`, or -1. */
function findSlot(tag: u32): i32 {
  for (let i: u32 = 0; i < <u32>TLBSAVE_TAGS; i++) {
    if (load<u32>(TLBSAVE_ID + (i << 2)) == tag) return <i32>i;
  }
  return -1;
}

/** Drops the saved entries of `tag` (all tags when `all`). */
export function tagDrop(tag: u32, all: bool): void {
  init();
  if (liveTag != FREE && (all || liveTag == tag)) { liveTag = FREE; tlbFlushAll(false); }
  for (let i: u32 = 0; i < <u32>TLBSAVE_TAGS; i++) {
    if (all || load<u32>(TLBSAVE_ID + (i << 2)) == tag) {
      store<u32>(TLBSAVE_ID + (i << 2), FREE);
      store<u32>(TLBSAVE_N + (i << 2), 0);
    }
  }
}

let victim: u32 = 0;

/** A host-owned exit leaves the guest's entries live (tlbExitToHost): the tag they belong
 *  to, or FREE. The TypeScript VMM runs no guest-visible code of its own, so they stay in
 *  the TLB, as hardware keeps VPID/ASID-tagged entries across an exit; the switch is made
 *  only if something else uses the TLB first (tlbSettle), and re-entering the same tag
 *  finds them in place. */
export let liveTag: u32 = FREE;

/** The exit of a host-owned entry from address space `from` (a VPID/ASID, TAG_NONE). */
export function tlbExitToHost(from: u32): void {
  init();
  // Nothing is saved or restored here, so the fill log may have overflowed: only a switch
  // made later (tlbSettle) needs it, and it flushes when it cannot save.
  if (load<u32>(STATE_BASE + S_TLB_TAGS) == 0 || from == TAG_NONE || from == 0) {
    tlbWorldSwitch(from, 0);
    return;
  }
  liveTag = from;
}

/** Makes a deferred switch to the host (anything but re-entering the live tag). */
export function tlbSettle(): void {
  if (liveTag == FREE) return;
  const from = liveTag;
  liveTag = FREE;
  tlbWorldSwitch(from, 0);
}

/** No tag: a guest without VPID/ASID, whose switches always flush. */
export const TAG_NONE: u32 = 0xffffffff;

/** A world switch from address space `from` to `to` (0 the host, TAG_NONE untagged). */
export function tlbWorldSwitch(from: u32, to: u32): void {
  init();
  if (liveTag != FREE) {
    // Entering the address space whose entries stayed live: nothing moved, all survive.
    if (from == 0 && to == liveTag && load<u32>(STATE_BASE + S_TLB_TAGS) != 0) {
      liveTag = FREE;
      store<u64>(STATE_BASE + S_CNT_TLB_SURVIVE,
        load<u64>(STATE_BASE + S_CNT_TLB_SURVIVE) + <u64>fillCount);
      return;
    }
    tlbSettle();
  }
  if (load<u32>(STATE_BASE + S_TLB_TAGS) == 0 || fillCount > <u32>FILL_LOG_MAX ||
    from == TAG_NONE || to == TAG_NONE) {
    tlbFlushAll(false);
    return;
  }
  if (from == to) return;
  // Save the live entries under `from`.
  let slot = findSlot(from);
  if (slot < 0) {
    slot = findSlot(FREE);
    if (slot < 0) { slot = <i32>victim; victim = (victim + 1) % <u32>TLBSAVE_TAGS; }
  }
  const s = <u32>slot;
  let n: u32 = 0;
  for (let k: u32 = 0; k < fillCount; k++) {
    const i = load<u32>(TLB_FILL_LOG + (k << 2));
    const tag = load<u32>(TLB_TAG + (i << 2));
    if (tag == FREE) continue;
    const e = slotEntry(s, n);
    store<u32>(e + TS_INDEX, i);
    store<u32>(e + TS_TAG, tag);
    store<u32>(e + TS_ADD, load<u32>(TLB_ADD + (i << 2)));
    store<u32>(e + TS_GLOBAL, load<u32>(TLB_GLOBAL + (i << 2)));
    n++;
  }
  store<u32>(TLBSAVE_ID + (s << 2), from);
  store<u32>(TLBSAVE_N + (s << 2), n);
  tlbFlushAll(false);
  // Bring back the entries of `to`.
  const t = findSlot(to);
  if (t < 0) return;
  const ts = <u32>t;
  const m = load<u32>(TLBSAVE_N + (ts << 2));
  for (let k: u32 = 0; k < m; k++) {
    const e = slotEntry(ts, k);
    const i = load<u32>(e + TS_INDEX);
    store<u32>(TLB_TAG + (i << 2), load<u32>(e + TS_TAG));
    store<u32>(TLB_ADD + (i << 2), load<u32>(e + TS_ADD));
    store<u32>(TLB_GLOBAL + (i << 2), load<u32>(e + TS_GLOBAL));
    noteFill(i);
  }
  store<u64>(STATE_BASE + S_CNT_TLB_SURVIVE, load<u64>(STATE_BASE + S_CNT_TLB_SURVIVE) + m);
  store<u32>(TLBSAVE_ID + (ts << 2), FREE);
  store<u32>(TLBSAVE_N + (ts << 2), 0);
  if (m > 0) setFillCount(fillCount); // entries are in the fill log again
}
