/**
 * Creating and deleting internal snapshots (qcow2.txt, "Snapshots" and "Snapshot table").
 * A snapshot is a copy of the active L1 table; every cluster reached through it gains a
 * reference (refcounts count each path from an L1 table), so writes after the snapshot
 * copy on write. Deleting walks the snapshot's tables and drops those references again,
 * then restores the COPIED flags of the active tables where a refcount fell back to 1.
 */
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, setU64, ceilDiv, u64 } from '../bytes.js';
import { ImageError, hex } from '../errors.js';
import { readHeader, type Qcow2Header } from './header.js';
import { Refcounts } from './refcounts.js';
import { readSnapshots } from './snapshots.js';
import { compressedExtent } from './compress.js';
import * as C from './constants.js';

const TWO32 = 0x1_0000_0000;

interface Ctx { src: ByteSource; h: Qcow2Header; cs: number; refs: Refcounts }

function open(src: ByteSource): Ctx {
  const h = readHeader(src);
  if (h.incompatibleFeatures & BigInt(C.INCOMPAT_DIRTY | C.INCOMPAT_CORRUPT)) {
    throw new ImageError(
      'qcow2: the image is dirty or marked corrupt; repair it with "img check -r all" first',
      'incompatible_features',
      C.H_INCOMPATIBLE_FEATURES,
    );
  }
  const cs = 2 ** h.clusterBits;
  return { src, h, cs, refs: new Refcounts(src, h, cs) };
}

function entryOffset(hi: number, lo: number): number {
  return (hi & C.HI_OFFSET_MASK) * TWO32 + ((lo & C.LO_OFFSET_MASK) >>> 0);
}

/** Adds `by` to the count of every cluster of [offset, offset + bytes). */
function bump(
  ctx: Ctx,
  deltas: Map<number, number>,
  offset: number,
  bytes: number,
  by: number,
): void {
  const { cs, src } = ctx;
  if (offset + bytes > ceilDiv(src.size, cs) * cs) {
    throw new ImageError(
      `qcow2: a table entry points at ${hex(offset)} (${bytes} bytes), ` +
        `outside the file (${src.size} bytes); repair the image first`,
    );
  }
  for (let c = Math.floor(offset / cs); c <= Math.floor((offset + bytes - 1) / cs); c++)
    deltas.set(c, (deltas.get(c) ?? 0) + by);
}

/** Counts `by` for every L2 table and data cluster reached from the L1 table at `l1Offset`. */
function walk(
  ctx: Ctx,
  deltas: Map<number, number>,
  l1Offset: number,
  l1Size: number,
  by: number,
): void {
  const { src, cs } = ctx;
  if (l1Size === 0) return;
  const l1 = view(readExact(src, l1Offset, l1Size * 8, 'qcow2 L1 table'));
  for (let i = 0; i < l1Size; i++) {
    const l2off = entryOffset(l1.getUint32(i * 8), l1.getUint32(i * 8 + 4));
    if (l2off === 0) continue;
    const l2 = view(readExact(src, l2off, cs, 'qcow2 L2 table'));
    for (let j = 0; j < cs / 8; j++) {
      const hi = l2.getUint32(j * 8),
        lo = l2.getUint32(j * 8 + 4);
      if (hi & C.HI_COMPRESSED) {
        const c = compressedExtent(hi, lo, ctx.h.clusterBits);
        bump(ctx, deltas, c.host, c.bytes, by);
        continue;
      }
      const host = entryOffset(hi, lo);
      if (host) bump(ctx, deltas, host, cs, by);
    }
    bump(ctx, deltas, l2off, cs, by);
  }
}

/**
 * Checks every new refcount first (nothing is written if one would overflow the
 * refcount width or drop below zero), then applies them.
 */
function applyDeltas(ctx: Ctx, deltas: Map<number, number>): void {
  const { refs } = ctx;
  const max = 2 ** Math.min(refs.bits, 53) - 1;
  for (const [c, d] of deltas) {
    const v = refs.get(c) + d;
    if (v < 0)
      throw new ImageError(
        `qcow2: refcount of cluster ${c} would drop below 0; the image needs "img check -r all"`,
      );
    if (v > max)
      throw new ImageError(
        `qcow2: refcount of cluster ${c} would overflow ${refs.bits}-bit ` +
          'refcounts (create the image with a larger refcount_bits)',
      );
  }
  for (const [c, d] of deltas) if (d !== 0) refs.set(c, refs.get(c) + d);
}

/** Sets each active L1/L2 entry's COPIED flag to "refcount is 1" and writes changed tables. */
function fixCopied(ctx: Ctx): void {
  const { src, h, cs, refs } = ctx;
  if (h.l1Size === 0) return;
  const l1b = readExact(src, h.l1TableOffset, h.l1Size * 8, 'qcow2 L1 table');
  const l1 = view(l1b);
  const flag = (dv: DataView, at: number, on: boolean): boolean => {
    const hi = dv.getUint32(at);
    const next = on ? hi | C.HI_COPIED : hi & ~C.HI_COPIED;
    if ((next >>> 0) === (hi >>> 0)) return false;
    dv.setUint32(at, next >>> 0);
    return true;
  };
  let l1Changed = false;
  for (let i = 0; i < h.l1Size; i++) {
    const l2off = entryOffset(l1.getUint32(i * 8), l1.getUint32(i * 8 + 4));
    if (l2off === 0) continue;
    l1Changed = flag(l1, i * 8, refs.get(l2off / cs) === 1) || l1Changed;
    const l2b = readExact(src, l2off, cs, 'qcow2 L2 table');
    const l2 = view(l2b);
    let changed = false;
    for (let j = 0; j < cs / 8; j++) {
      const hi = l2.getUint32(j * 8), lo = l2.getUint32(j * 8 + 4);
      if (hi & C.HI_COMPRESSED) continue;
      const host = entryOffset(hi, lo);
      if (host) changed = flag(l2, j * 8, refs.get(host / cs) === 1) || changed;
    }
    if (changed) src.write(l2off, l2b);
  }
  if (l1Changed) src.write(h.l1TableOffset, l1b);
}

/** Writes a new snapshot table (entries as raw bytes) and points the header at it. */
function writeTable(ctx: Ctx, entries: Uint8Array[], oldBytes: number): void {
  const { src, h, cs, refs } = ctx;
  const total = entries.reduce((n, e) => n + e.length, 0);
  let offset = 0;
  if (total > 0) {
    const clusters = ceilDiv(total, cs);
    offset = refs.allocate(clusters);
    const buf = new Uint8Array(clusters * cs);
    let at = 0;
    for (const e of entries) { buf.set(e, at); at += e.length; }
    src.write(offset, buf);
  }
  const f = new Uint8Array(12);
  const dv = view(f);
  dv.setUint32(0, entries.length);
  setU64(dv, 4, offset, false);
  src.write(C.H_NB_SNAPSHOTS, f);
  if (h.nbSnapshots > 0 && oldBytes > 0) refs.release(h.snapshotsOffset, oldBytes);
  h.nbSnapshots = entries.length;
  h.snapshotsOffset = offset;
}

/** The current table's entries as raw bytes, each padded to 8 as stored. */
function rawEntries(ctx: Ctx): { entries: Uint8Array[]; bytes: number } {
  const { src, h } = ctx;
  if (h.nbSnapshots === 0) return { entries: [], bytes: 0 };
  const { bytes } = readSnapshots(src, h);
  const all = readExact(src, h.snapshotsOffset, bytes, 'qcow2 snapshot table');
  const entries: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < h.nbSnapshots; i++) {
    const dv = view(all.subarray(at));
    const len =
      Math.ceil(
        (C.SNAPSHOT_FIXED_SIZE + dv.getUint32(36) + dv.getUint16(12) + dv.getUint16(14)) / 8,
      ) * 8;
    entries.push(all.slice(at, at + len));
    at += len;
  }
  return { entries, bytes };
}

export interface NewSnapshot {
  name: string;
  /** Seconds since the epoch (defaults to now). */
  dateSec?: number;
  dateNsec?: number;
}

/** `img snapshot -c NAME`: returns the new snapshot's ID. */
export function createSnapshot(src: ByteSource, s: NewSnapshot): string {
  const ctx = open(src);
  const { h, cs, refs } = ctx;
  const existing = readSnapshots(src, h).list;
  const id = String(existing.reduce((m, sn) => Math.max(m, Number(sn.id) || 0), 0) + 1);
  // Every cluster the active tables reach gains a reference; checked before anything is written.
  const deltas = new Map<number, number>();
  walk(ctx, deltas, h.l1TableOffset, h.l1Size, +1);
  for (const [c, d] of deltas) {
    if (refs.get(c) + d > 2 ** Math.min(refs.bits, 53) - 1) {
      throw new ImageError(
        `qcow2: refcount of cluster ${c} would overflow ${refs.bits}-bit ` +
          'refcounts (create the image with a larger refcount_bits)',
      );
    }
  }
  // The snapshot's L1 table: a copy of the active one.
  let l1Offset = 0;
  if (h.l1Size > 0) {
    const l1 = readExact(src, h.l1TableOffset, h.l1Size * 8, 'qcow2 L1 table');
    const clusters = ceilDiv(h.l1Size * 8, cs);
    const copy = new Uint8Array(clusters * cs);
    copy.set(l1);
    const dv = view(copy);
    for (let i = 0; i < h.l1Size; i++) dv.setUint32(i * 8, dv.getUint32(i * 8) & ~C.HI_COPIED);
    l1Offset = refs.allocate(clusters);
    src.write(l1Offset, copy);
    applyDeltas(ctx, deltas);
  }
  fixCopied(ctx);
  const enc = new TextEncoder();
  const idb = enc.encode(id), nameb = enc.encode(s.name);
  if (nameb.length > 65535) throw new ImageError('qcow2: snapshot name too long');
  // Extra data (version 3 needs at least 16 bytes): vm_state_size_large, disk_size, icount.
  const extra = 24;
  const e = new Uint8Array(
    Math.ceil((C.SNAPSHOT_FIXED_SIZE + extra + idb.length + nameb.length) / 8) * 8,
  );
  const dv = view(e);
  const now = Date.now();
  setU64(dv, 0, l1Offset, false);
  dv.setUint32(8, h.l1Size);
  dv.setUint16(12, idb.length);
  dv.setUint16(14, nameb.length);
  dv.setUint32(16, s.dateSec ?? Math.floor(now / 1000));
  dv.setUint32(20, s.dateNsec ?? (now % 1000) * 1e6);
  dv.setUint32(36, extra);
  setU64(dv, 48, h.size, false); // disk_size
  e.set(idb, C.SNAPSHOT_FIXED_SIZE + extra);
  e.set(nameb, C.SNAPSHOT_FIXED_SIZE + extra + idb.length);
  const old = rawEntries(ctx);
  writeTable(ctx, [...old.entries, e], old.bytes);
  if (h.version === 3 && h.autoclearFeatures !== 0n)
    src.write(C.H_AUTOCLEAR_FEATURES, new Uint8Array(8));
  refs.flush();
  src.flush();
  return id;
}

/** `img snapshot -d NAME|ID`: deletes the first snapshot with that ID, else that name. */
export function deleteSnapshot(src: ByteSource, nameOrId: string): void {
  const ctx = open(src);
  const { h, cs, refs } = ctx;
  const list = readSnapshots(src, h).list;
  let k = list.findIndex((sn) => sn.id === nameOrId);
  if (k < 0) k = list.findIndex((sn) => sn.name === nameOrId);
  if (k < 0) throw new ImageError(`Could not delete snapshot '${nameOrId}': snapshot not found`);
  const sn = list[k];
  const deltas = new Map<number, number>();
  walk(ctx, deltas, sn.l1TableOffset, sn.l1Size, -1);
  for (const [c, d] of deltas) {
    if (refs.get(c) + d < 0)
      throw new ImageError(
        `qcow2: refcount of cluster ${c} would drop below 0; the image needs "img check -r all"`,
      );
  }
  const old = rawEntries(ctx);
  writeTable(ctx, old.entries.filter((_, i) => i !== k), old.bytes);
  applyDeltas(ctx, deltas);
  if (sn.l1Size > 0) refs.release(sn.l1TableOffset, ceilDiv(sn.l1Size * 8, cs) * cs);
  fixCopied(ctx);
  if (h.version === 3 && h.autoclearFeatures !== 0n)
    src.write(C.H_AUTOCLEAR_FEATURES, new Uint8Array(8));
  refs.flush();
  src.flush();
}

/**
 * `img snapshot -a NAME|ID`: the active layer becomes the snapshot's contents (and its
 * virtual size). Snapshot clusters gain a reference before the active L1 table is
 * rewritten, and the old active clusters lose theirs after, so an interruption leaks
 * clusters rather than losing data (QEMU's order).
 */
export function applySnapshot(src: ByteSource, nameOrId: string): void {
  const ctx = open(src);
  const { h, cs, refs } = ctx;
  const list = readSnapshots(src, h).list;
  const sn = list.find((x) => x.id === nameOrId) ?? list.find((x) => x.name === nameOrId);
  if (!sn) throw new ImageError(`Could not apply snapshot '${nameOrId}': snapshot not found`);
  const up = new Map<number, number>(), down = new Map<number, number>();
  walk(ctx, up, sn.l1TableOffset, sn.l1Size, +1);
  walk(ctx, down, h.l1TableOffset, h.l1Size, -1);
  const net = new Map(up);
  for (const [c, d] of down) net.set(c, (net.get(c) ?? 0) + d);
  const max = 2 ** Math.min(refs.bits, 53) - 1;
  for (const [c, d] of up) {
    if (refs.get(c) + d > max)
      throw new ImageError(
        `qcow2: refcount of cluster ${c} would overflow ${refs.bits}-bit refcounts`,
      );
  }
  for (const [c, d] of net) {
    if (refs.get(c) + d < 0)
      throw new ImageError(
        `qcow2: refcount of cluster ${c} would drop below 0; the image needs "img check -r all"`,
      );
  }
  // The active L1 table must hold the snapshot's entries.
  const room = h.l1Size === 0 ? 0 : (ceilDiv(h.l1Size * 8, cs) * cs) / 8;
  let l1Offset = h.l1TableOffset;
  const oldL1Offset = h.l1TableOffset, oldRoom = room;
  if (sn.l1Size > room) l1Offset = refs.allocate(ceilDiv(sn.l1Size * 8, cs));
  applyDeltas(ctx, up);
  const table = new Uint8Array(Math.max(sn.l1Size, room) * 8);
  if (sn.l1Size > 0)
    table.set(readExact(src, sn.l1TableOffset, sn.l1Size * 8, 'qcow2 snapshot L1 table'));
  src.write(l1Offset, table);
  const diskSize = snapshotDiskSize(src, h, list.indexOf(sn)) ?? h.size;
  const f = new Uint8Array(24);
  const dv = view(f);
  setU64(dv, 0, diskSize, false);
  dv.setUint32(C.H_CRYPT_METHOD - C.H_SIZE, h.cryptMethod);
  dv.setUint32(C.H_L1_SIZE - C.H_SIZE, sn.l1Size);
  setU64(dv, C.H_L1_TABLE_OFFSET - C.H_SIZE, l1Offset, false);
  src.write(C.H_SIZE, f);
  h.size = diskSize; h.l1Size = sn.l1Size; h.l1TableOffset = l1Offset;
  applyDeltas(ctx, down);
  if (l1Offset !== oldL1Offset && oldRoom > 0) refs.release(oldL1Offset, oldRoom * 8);
  fixCopied(ctx);
  if (h.version === 3 && h.autoclearFeatures !== 0n)
    src.write(C.H_AUTOCLEAR_FEATURES, new Uint8Array(8));
  refs.flush();
  src.flush();
}

/** Extra data bytes 8-15 of snapshot `k`: the virtual size when it was taken, if recorded. */
function snapshotDiskSize(src: ByteSource, h: Qcow2Header, k: number): number | undefined {
  let at = h.snapshotsOffset;
  for (let i = 0; i <= k; i++) {
    const dv = view(readExact(src, at, C.SNAPSHOT_FIXED_SIZE, 'snapshot table entry'));
    const extra = dv.getUint32(36);
    if (i === k) {
      if (extra < 16) return undefined;
      const e = view(readExact(src, at + C.SNAPSHOT_FIXED_SIZE + 8, 8, 'snapshot disk_size'));
      return u64(e, 0, false, 'snapshot disk_size', at + C.SNAPSHOT_FIXED_SIZE + 8);
    }
    at += Math.ceil((C.SNAPSHOT_FIXED_SIZE + extra + dv.getUint16(12) + dv.getUint16(14)) / 8) * 8;
  }
  return undefined;
}
