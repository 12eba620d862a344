/**
 * `img check` for qcow2: recomputes every cluster's reference count from the metadata
 * (header, L1/L2 tables of the active layer and of each internal snapshot, the snapshot
 * table, the refcount table and blocks) and compares it with the stored refcounts, as
 * qemu-img check does; also checks the COPIED flags (qcow2.txt, "L1/L2 table entry" bit 63).
 */
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, ceilDiv } from '../bytes.js';
import { ImageError, hex } from '../errors.js';
import { checkOrFail, emptyCheck, type CheckResult } from '../check.js';
import { readHeader, type Qcow2Header } from './header.js';
import { Refcounts } from './refcounts.js';
import { readSnapshots, readBitmaps } from './snapshots.js';
import { compressedExtent } from './compress.js';
import * as C from './constants.js';

const TWO32 = 0x1_0000_0000;

interface Table { offset: number; entries: number; active: boolean }

export function checkQcow2(src: ByteSource): CheckResult {
  return checkOrFail('qcow2', () => checkQcow2Unsafe(src));
}

/** What a check computed, for repair: the references found and the stored refcounts. */
export interface Qcow2Analysis {
  seen: Uint32Array;
  refs: Refcounts;
  header: Qcow2Header;
  /** Active-layer entries whose COPIED flag disagrees with the refcount: where they live. */
  badCopied: number[];
}

function checkQcow2Unsafe(src: ByteSource, out?: { analysis?: Qcow2Analysis }): CheckResult {
  const r = emptyCheck('qcow2');
  let h: Qcow2Header;
  try {
    h = readHeader(src);
  } catch (e) {
    r['check-errors']++;
    r.messages.push(`ERROR ${(e as Error).message}`);
    return r;
  }
  const cs = 2 ** h.clusterBits;
  const fileClusters = ceilDiv(src.size, cs);
  // A reference may run less than a cluster past the end of the file (the last cluster of
  // an image can be partly written), so it reaches at most cluster `fileClusters`.
  const refsSeen = new Uint32Array(fileClusters + 1);
  /** Clusters compared with their refcounts: the file's, and one past it when referenced. */
  let nbClusters = fileClusters;
  const corrupt = (msg: string) => { r.corruptions++; r.messages.push(msg); };

  /**
   * Counts one reference to each cluster of [off, off + bytes). As QEMU's
   * qcow2_inc_refcounts_imrt: a region that runs one cluster or more past the end of the
   * file is a corruption and counts nothing (its clusters' refcounts then show as leaks).
   */
  const inc = (off: number, bytes: number, _what: string): boolean => {
    if (off + bytes - src.size >= cs) {
      corrupt(
        'ERROR: counting reference for region exceeding the end of the file by one ' +
          `cluster or more: offset ${hex(off)} size ${hex(bytes)}`,
      );
      return false;
    }
    const last = Math.floor((off + bytes - 1) / cs);
    for (let c = Math.floor(off / cs); c <= last; c++) refsSeen[c]++;
    if (last + 1 > nbClusters) nbClusters = last + 1;
    return true;
  };

  let refs: Refcounts;
  try {
    refs = new Refcounts(src, h, cs);
  } catch (e) {
    r['check-errors']++;
    r.messages.push(`ERROR ${(e as Error).message}`);
    return r;
  }

  inc(0, cs, 'header');
  const tables: Table[] = [{ offset: h.l1TableOffset, entries: h.l1Size, active: true }];
  if (h.nbSnapshots > 0) {
    try {
      const snaps = readSnapshots(src, h);
      inc(h.snapshotsOffset, snaps.bytes, 'snapshot table');
      for (const sn of snaps.list)
        tables.push({ offset: sn.l1TableOffset, entries: sn.l1Size, active: false });
    } catch (e) {
      corrupt(`ERROR ${(e as Error).message}`);
    }
  }
  let allocated = 0, fragmented = 0, compressed = 0;
  const l2Copied: Array<{ l1i: number; off: number; copied: boolean; hi: number; lo: number }> = [];
  const dataCopied: Array<{ off: number; hi: number; lo: number; at: number }> = [];
  const badCopied: number[] = [];
  for (const t of tables) {
    if (t.entries === 0) continue;
    if (!inc(t.offset, t.entries * 8, 'L1 table')) continue;
    let l1: DataView;
    try {
      l1 = view(readExact(src, t.offset, t.entries * 8, 'qcow2 L1 table'));
    } catch (e) {
      corrupt(`ERROR ${(e as Error).message}`);
      continue;
    }
    for (let i = 0; i < t.entries; i++) {
      const hi = l1.getUint32(i * 8), lo = l1.getUint32(i * 8 + 4);
      const l2off = (hi & C.HI_OFFSET_MASK) * TWO32 + ((lo & C.LO_OFFSET_MASK) >>> 0);
      if (l2off === 0) continue;
      if ((lo & C.L1_LO_RESERVED) || (hi & C.L1_HI_RESERVED) || l2off % cs) {
        corrupt(
          `ERROR L1 entry ${i} at ${hex(t.offset + i * 8)}: ` +
            'invalid L2 table offset or reserved bits set',
        );
        continue;
      }
      if (!inc(l2off, cs, `L2 table of L1 entry ${i}`)) continue;
      if (t.active) l2Copied.push({ l1i: i, off: l2off, copied: (hi & C.HI_COPIED) !== 0, hi, lo });
      let l2: DataView;
      try {
        l2 = view(readExact(src, l2off, cs, 'qcow2 L2 table'));
      } catch (e) {
        corrupt(`ERROR ${(e as Error).message}`);
        continue;
      }
      // Fragmentation is counted per L2 table, as QEMU's check_refcounts_l2 does.
      let nextContiguous = 0;
      for (let j = 0; j < cs / 8; j++) {
        const ehi = l2.getUint32(j * 8), elo = l2.getUint32(j * 8 + 4);
        if (ehi === 0 && elo === 0) continue;
        const at = l2off + j * 8;
        if (ehi & C.HI_COMPRESSED) {
          const { host, bytes: len } = compressedExtent(ehi, elo, h.clusterBits);
          // qcow2.txt "L2 table entry": bit 63 is never set for compressed clusters.
          if (ehi & C.HI_COPIED)
            corrupt(
              `ERROR: coffset=0x${host.toString(16)}: ` +
                'copied flag must never be set for compressed clusters',
            );
          inc(host, len, `compressed cluster (L2 entry at ${hex(at)})`);
          // QEMU counts compressed clusters as fragmented "by nature".
          if (t.active) { allocated++; compressed++; fragmented++; }
          continue;
        }
        const host = (ehi & C.HI_OFFSET_MASK) * TWO32 + ((elo & C.LO_OFFSET_MASK) >>> 0);
        if ((elo & C.L2_LO_RESERVED) || (ehi & C.L2_HI_RESERVED) || host % cs) {
          corrupt(
            `ERROR L2 entry at ${hex(at)}: invalid cluster ` +
              `offset ${hex(host)} or reserved bits set`,
          );
          continue;
        }
        if (elo & C.LO_ZERO && h.version < 3)
          corrupt(`ERROR L2 entry at ${hex(at)}: zero flag in a version 2 image`);
        if (host === 0) continue;
        if (!inc(host, cs, `data cluster (L2 entry at ${hex(at)})`)) continue;
        if (t.active) {
          // A preallocated zero cluster (zero flag with an offset) counts as allocated too.
          allocated++;
          if (nextContiguous && host !== nextContiguous) fragmented++;
          nextContiguous = host + cs;
          dataCopied.push({ off: host, hi: ehi, lo: elo, at });
        }
      }
    }
  }
  const bitmaps = h.extensions.find((e) => e.type === C.EXT_BITMAPS);
  if (bitmaps && (h.autoclearFeatures & BigInt(C.AUTOCLEAR_BITMAPS))) {
    try {
      countBitmaps(src, bitmaps.data, cs, inc);
    } catch (e) {
      corrupt(`ERROR ${(e as Error).message}`);
    }
  }
  inc(h.refcountTableOffset, h.refcountTableClusters * cs, 'refcount table');
  refs.table.forEach((off, i) => { if (off) inc(off, cs, `refcount block ${i}`); });

  // Compare with the stored refcounts (qemu-img's wording).
  let endCluster = 0;
  for (let c = 0; c < nbClusters; c++) {
    let stored: number;
    try { stored = refs.get(c); } catch (e) { corrupt(`ERROR ${(e as Error).message}`); continue; }
    if (stored > 0) endCluster = c + 1;
    const seen = refsSeen[c];
    if (stored === seen) continue;
    if (stored < seen) corrupt(`ERROR cluster ${c} refcount=${stored} reference=${seen}`);
    else { r.leaks++; r.messages.push(`Leaked cluster ${c} refcount=${stored} reference=${seen}`); }
  }
  for (const e of l2Copied) {
    const rc = refs.get(Math.floor(e.off / cs));
    if ((rc === 1) !== e.copied) {
      corrupt(
        `ERROR OFLAG_COPIED L2 cluster: l1_index=${e.l1i} ` +
          `l1_entry=${entryHex(e.hi, e.lo)} refcount=${rc}`,
      );
      badCopied.push(h.l1TableOffset + e.l1i * 8);
    }
  }
  if (h.nbSnapshots === 0) {
    for (const e of dataCopied) {
      const rc = refs.get(Math.floor(e.off / cs));
      if ((rc === 1) !== ((e.hi & C.HI_COPIED) !== 0)) {
        corrupt(`ERROR OFLAG_COPIED data cluster: l2_entry=${entryHex(e.hi, e.lo)} refcount=${rc}`);
        badCopied.push(e.at);
      }
    }
  }
  r['image-end-offset'] = endCluster * cs;
  r['total-clusters'] = ceilDiv(h.size, cs);
  r['allocated-clusters'] = allocated;
  r['fragmented-clusters'] = fragmented;
  r['compressed-clusters'] = compressed;
  if (out) out.analysis = { seen: refsSeen, refs, header: h, badCopied };
  return r;
}

function entryHex(hi: number, lo: number): string {
  return (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * "Bitmaps extension" (counted only while autoclear bit 0 says it is consistent):
 * nb_bitmaps (u32), reserved (u32), bitmap_directory_size (u64), bitmap_directory_offset
 * (u64). Each directory entry: bitmap_table_offset (u64), bitmap_table_size (u32), flags
 * (u32), type (u8), granularity_bits (u8), name_size (u16), extra_data_size (u32), extra
 * data, name, padded to 8. Bitmap table entries hold a data cluster offset in bits 9-55.
 */
function countBitmaps(src: ByteSource, ext: Uint8Array, cs: number,
  inc: (off: number, bytes: number, what: string) => boolean): void {
  const { list, dirOffset, dirSize } = readBitmaps(src, ext);
  if (!inc(dirOffset, dirSize, 'bitmap directory')) return;
  list.forEach((b, i) => {
    if (b.tableSize > (64 << 20) / 8)
      throw new ImageError(
        `qcow2: bitmap ${i} table of ${b.tableSize} entries is too large`,
        'bitmap_table_size',
      );
    if (b.tableSize === 0 || !inc(b.tableOffset, b.tableSize * 8, `bitmap ${i} table`)) return;
    const t = view(readExact(src, b.tableOffset, b.tableSize * 8, 'qcow2 bitmap table'));
    for (let j = 0; j < b.tableSize; j++) {
      const off =
        (t.getUint32(j * 8) & C.HI_OFFSET_MASK) * TWO32 +
        ((t.getUint32(j * 8 + 4) & C.LO_OFFSET_MASK) >>> 0);
      if (off) inc(off, cs, `bitmap ${i} data cluster`);
    }
  });
}

export interface RepairResult {
  /** The check before repairing. */
  before: CheckResult;
  leaksFixed: number;
  corruptionsFixed: number;
  /** The check of the repaired image. */
  after: CheckResult;
  /** "Repairing cluster ..." lines. */
  messages: string[];
}

/**
 * `img check -r leaks|all`: sets every leaked cluster's refcount to the number of
 * references found; with "all", also raises refcounts that are too low and corrects the
 * COPIED flags. Clears the dirty bit once the image checks clean. (QEMU rebuilds the whole
 * refcount structure for "all"; fixing cluster by cluster gives the same counts.)
 */
export function repairQcow2(src: ByteSource, mode: 'leaks' | 'all'): RepairResult {
  const box: { analysis?: Qcow2Analysis } = {};
  const before = checkOrFail('qcow2', () => checkQcow2Unsafe(src, box));
  const res: RepairResult = {
    before,
    leaksFixed: 0,
    corruptionsFixed: 0,
    after: before,
    messages: [],
  };
  const a = box.analysis;
  if (!a || before['check-errors'] > 0) return res;
  const cs = 2 ** a.header.clusterBits;
  const n = a.seen.length;
  for (let c = 0; c < n; c++) {
    const stored = a.refs.get(c);
    const seen = a.seen[c];
    if (stored === seen || (stored < seen && mode !== 'all')) continue;
    res.messages.push(`Repairing cluster ${c} refcount=${stored} reference=${seen}`);
    a.refs.set(c, seen);
    if (stored > seen) res.leaksFixed++; else res.corruptionsFixed++;
  }
  if (mode === 'all') {
    for (const at of a.badCopied) {
      const e = view(readExact(src, at, 8, 'qcow2 table entry'));
      const host =
        (e.getUint32(0) & C.HI_OFFSET_MASK) * TWO32 + ((e.getUint32(4) & C.LO_OFFSET_MASK) >>> 0);
      const rc = a.refs.get(Math.floor(host / cs));
      e.setUint32(0, rc === 1 ? e.getUint32(0) | C.HI_COPIED : e.getUint32(0) & ~C.HI_COPIED);
      src.write(at, new Uint8Array(e.buffer));
      res.corruptionsFixed++;
    }
  }
  a.refs.flush();
  res.after = checkQcow2(src);
  if (
    res.after.corruptions === 0 &&
    res.after.leaks === 0 &&
    a.header.incompatibleFeatures & BigInt(C.INCOMPAT_DIRTY)
  ) {
    const f = view(readExact(src, C.H_INCOMPATIBLE_FEATURES, 8, 'incompatible_features'));
    f.setBigUint64(0, f.getBigUint64(0) & ~BigInt(C.INCOMPAT_DIRTY));
    src.write(C.H_INCOMPATIBLE_FEATURES, new Uint8Array(f.buffer));
  }
  src.flush();
  return res;
}
