/**
 * A qcow2 image as a block device (qcow2.txt, "Cluster mapping"): guest offsets map
 * through a two-level table (L1 -> L2 -> host cluster). Reads handle unallocated clusters
 * (zeros, or the backing file), zero clusters (version 3), compressed clusters and normal
 * ones; writes allocate clusters at the end of the file and keep the refcounts exact, so
 * what is written passes `qemu-img check`. `writeCompressed` writes a whole cluster
 * compressed, as `qemu-img convert -c` does.
 */
import { inflateSync } from 'fflate';
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, setU64, inflateBounded } from '../bytes.js';
import { ImageError, hex } from '../errors.js';
import {
  checkRange,
  type BlockStatus,
  type DiskImage,
  type ImageInfo,
  type MapEntry,
  type SnapshotInfo,
} from '../types.js';
import { readHeader, featureList, type Qcow2Header } from './header.js';
import { Refcounts, overlaps } from './refcounts.js';
import {
  readSnapshots,
  readBitmaps,
  BME_FLAG_IN_USE,
  BME_FLAG_AUTO,
  type Snapshot,
} from './snapshots.js';
import {
  compressCluster,
  compressedEntry,
  compressedExtent,
  COMPRESSED_SECTOR,
} from './compress.js';
import * as C from './constants.js';

/** Opens the backing file a qcow2 image names (a file next to it, a fetch in a page...). */
export type BackingResolver = (name: string, format: string | undefined) => DiskImage;

export interface Qcow2OpenOptions {
  /** Open read-only even when the source is writable. */
  readOnly?: boolean;
  /** Needed to read an image with a backing file; without it, opening such an image fails. */
  backing?: BackingResolver;
}

const TWO32 = 0x1_0000_0000;
/** Bytes of L2 tables kept in memory (written through, so eviction is free). */
const L2_CACHE_BYTES = 8 << 20;

export type ClusterKind = 'unallocated' | 'zero' | 'normal' | 'compressed';

export interface ClusterMapping {
  kind: ClusterKind;
  /** Host offset of a normal cluster (or of a preallocated zero cluster); 0 otherwise. */
  host: number;
  /** The raw L2 entry halves. */
  hi: number;
  lo: number;
  /** Where the L2 entry lives in the file (0 when the L1 entry is empty). */
  entryAt: number;
}

/** Snapshots as `qemu-img info --output json` lists them (its key order). */
export function snapshotInfo(list: Snapshot[]): SnapshotInfo[] {
  return list.map((sn) => ({
    ...(sn.icount !== undefined ? { icount: sn.icount } : {}),
    'vm-clock-nsec': sn.vmClockNsec % 1e9,
    name: sn.name,
    'date-sec': sn.dateSec,
    'date-nsec': sn.dateNsec,
    'vm-clock-sec': Math.floor(sn.vmClockNsec / 1e9),
    id: sn.id,
    'vm-state-size': sn.vmStateSize,
  }));
}

export class Qcow2Image implements DiskImage {
  readonly format = 'qcow2' as const;
  readonly header: Qcow2Header;
  readonly size: number;
  readonly clusterSize: number;
  readonly readOnly: boolean;
  private readonly l2Entries: number;
  private readonly l1: Uint8Array;
  private readonly l1dv: DataView;
  private readonly l2Cache = new Map<number, Uint8Array>();
  private refs?: Refcounts;
  private backingImage?: DiskImage;
  private lastCompressed?: { key: string; data: Uint8Array };
  private writePrepared = false;
  /** Host offsets of L2 tables and refcount blocks, built on the first in-place write. */
  private metadata?: Set<number>;

  constructor(
    private readonly src: ByteSource,
    opts: Qcow2OpenOptions = {},
  ) {
    this.header = readHeader(src);
    const h = this.header;
    this.clusterSize = 2 ** h.clusterBits;
    this.l2Entries = this.clusterSize / 8;
    this.size = h.size;
    this.readOnly = !!opts.readOnly || !src.writable;
    this.l1 =
      h.l1Size > 0
        ? readExact(src, h.l1TableOffset, h.l1Size * 8, 'qcow2 L1 table')
        : new Uint8Array(0);
    this.l1dv = view(this.l1);
    if (h.backingFile !== undefined) {
      if (!opts.backing) {
        throw new ImageError(
          `qcow2: the image has a backing file "${h.backingFile}" and no way to open it was given`,
          'backing_file_offset',
          C.H_BACKING_FILE_OFFSET,
        );
      }
      this.backingImage = opts.backing(h.backingFile, h.backingFormat);
    }
  }

  get backing(): DiskImage | undefined {
    return this.backingImage;
  }

  /** Where guest cluster `ci` lives. Entries pointing outside the file are errors. */
  map(ci: number): ClusterMapping {
    const l1i = Math.floor(ci / this.l2Entries);
    const l1At = this.header.l1TableOffset + l1i * 8;
    const l2off = this.l1Entry(l1i, l1At);
    if (l2off === 0) return { kind: 'unallocated', host: 0, hi: 0, lo: 0, entryAt: 0 };
    const table = this.l2Table(l2off, l1i, l1At);
    const idx = ci % this.l2Entries;
    const dv = view(table);
    const hi = dv.getUint32(idx * 8);
    const lo = dv.getUint32(idx * 8 + 4);
    const entryAt = l2off + idx * 8;
    if (hi & C.HI_COMPRESSED) return { kind: 'compressed', host: 0, hi, lo, entryAt };
    const where = `qcow2: L2 entry for guest cluster ${ci} at offset ${hex(entryAt)}`;
    if (hi & C.L2_HI_RESERVED || lo & C.L2_LO_RESERVED) {
      throw new ImageError(
        `${where}: reserved bits are set (0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')})`,
        'L2 entry',
        entryAt,
      );
    }
    const host = (hi & C.HI_OFFSET_MASK) * TWO32 + ((lo & C.LO_OFFSET_MASK) >>> 0);
    if (host !== 0) {
      if (host % this.clusterSize !== 0)
        throw new ImageError(
          `${where}: host offset ${hex(host)} is not cluster-aligned`,
          'L2 entry',
          entryAt,
        );
      if (host >= this.src.size)
        throw new ImageError(
          `${where}: host offset ${hex(host)} lies outside the file (${this.src.size} bytes)`,
          'L2 entry',
          entryAt,
        );
    }
    if (lo & C.LO_ZERO) {
      if (this.header.version < 3)
        throw new ImageError(
          `${where}: the zero flag is not allowed in a version 2 image`,
          'L2 entry',
          entryAt,
        );
      return { kind: 'zero', host, hi, lo, entryAt };
    }
    return { kind: host === 0 ? 'unallocated' : 'normal', host, hi, lo, entryAt };
  }

  read(offset: number, dst: Uint8Array): void {
    checkRange(this, offset, dst.length);
    const cs = this.clusterSize;
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const ci = Math.floor(pos / cs);
      const inCl = pos - ci * cs;
      const n = Math.min(cs - inCl, dst.length - done);
      this.readPiece(this.map(ci), ci, inCl, dst.subarray(done, done + n));
      done += n;
    }
  }

  private readPiece(m: ClusterMapping, ci: number, inCl: number, out: Uint8Array): void {
    switch (m.kind) {
      case 'normal': {
        const got = this.src.read(m.host + inCl, out);
        if (got < out.length) out.fill(0, got);
        return;
      }
      case 'compressed':
        out.set(this.decompress(m, ci).subarray(inCl, inCl + out.length));
        return;
      case 'zero':
        out.fill(0);
        return;
      case 'unallocated':
        this.readBacking(ci * this.clusterSize + inCl, out);
    }
  }

  private readBacking(pos: number, out: Uint8Array): void {
    const b = this.backingImage;
    if (!b || pos >= b.size) {
      out.fill(0);
      return;
    }
    const n = Math.min(out.length, b.size - pos);
    b.read(pos, out.subarray(0, n));
    if (n < out.length) out.fill(0, n);
  }

  /**
   * "Compressed Clusters Descriptor": with x = 62 - (cluster_bits - 8), bits 0..x-1 are
   * the host offset and bits x..61 the number of additional 512-byte sectors. The data is
   * raw deflate (compression_type 0) and must inflate to exactly one cluster.
   */
  private decompress(m: ClusterMapping, ci: number): Uint8Array {
    const key = `${m.hi}:${m.lo}`;
    if (this.lastCompressed?.key === key) return this.lastCompressed.data;
    const where = `qcow2: compressed L2 entry for guest cluster ${ci} at offset ${hex(m.entryAt)}`;
    if (this.header.compressionType !== C.COMPRESSION_ZLIB) {
      throw new ImageError(
        `${where}: zstd-compressed clusters are not supported`,
        'compression_type',
        C.H_COMPRESSION_TYPE,
      );
    }
    const { host, bytes: len } = compressedExtent(m.hi, m.lo, this.header.clusterBits);
    if (host >= this.src.size) {
      throw new ImageError(
        `${where}: compressed data at ${hex(host)} lies outside the file (${this.src.size} bytes)`,
        'L2 entry',
        m.entryAt,
      );
    }
    const data = new Uint8Array(Math.min(len, this.src.size - host));
    this.src.read(host, data);
    const cs = this.clusterSize;
    const out = inflateBounded(data, cs, false, inflateSync);
    if (typeof out === 'string' || out.length !== cs) {
      throw new ImageError(
        `${where}: compressed data at ${hex(host)}: ` +
          (typeof out !== 'string' ? `it inflates to ${out.length} bytes` : out) +
          (typeof out === 'string' && out.startsWith('not') ? '' : `, not the cluster size ${cs}`),
        'L2 entry',
        m.entryAt,
      );
    }
    this.lastCompressed = { key, data: out };
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    this.prepareWrite();
    const cs = this.clusterSize;
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const ci = Math.floor(pos / cs);
      const inCl = pos - ci * cs;
      const n = Math.min(cs - inCl, data.length - done);
      this.writePiece(ci, inCl, data.subarray(done, done + n));
      done += n;
    }
  }

  private writePiece(ci: number, inCl: number, piece: Uint8Array): void {
    const cs = this.clusterSize;
    const m = this.map(ci);
    if (m.kind === 'normal' && m.hi & C.HI_COPIED) {
      this.guardMetadata(m.host, m.entryAt);
      this.src.write(m.host + inCl, piece);
      return;
    }
    // Copy on write: the new cluster gets the old contents (backing, compressed, zeros)
    // with the piece laid over them.
    let full = piece;
    if (piece.length !== cs) {
      full = new Uint8Array(cs);
      this.readPiece(m, ci, 0, full);
      full.set(piece, inCl);
    }
    const refs = this.refs!;
    // QEMU's order: the L2 table (if new) before the data cluster it points to.
    const slot = this.l2Slot(ci);
    const host = refs.allocate(1);
    this.src.write(host, full);
    this.setL2Entry(slot, host);
    this.lastCompressed = undefined;
    if (m.kind === 'normal' || (m.kind === 'zero' && m.host !== 0)) refs.release(m.host, cs);
    if (m.kind === 'compressed') {
      // QEMU frees every host cluster the compressed data touches (qcow2_free_any_cluster).
      const c = compressedExtent(m.hi, m.lo, this.header.clusterBits);
      refs.release(c.host, c.bytes);
    }
  }

  /**
   * Writes guest cluster `ci` compressed (`data` is the cluster, or the image's last,
   * shorter piece, padded with zeros as QEMU pads it). Like QEMU, compression never
   * overwrites: the cluster must be unallocated; data whose deflate stream is not smaller
   * than a cluster is written as a normal cluster. Returns whether it went compressed.
   */
  writeCompressed(ci: number, data: Uint8Array): boolean {
    const cs = this.clusterSize;
    if (!Number.isSafeInteger(ci) || ci < 0 || ci * cs >= this.size)
      throw new ImageError(`qcow2: guest cluster ${ci} lies outside the ${this.size}-byte disk`);
    const piece = Math.min(cs, this.size - ci * cs);
    if (data.length !== piece)
      throw new ImageError(
        'qcow2: a compressed write of guest cluster ' +
          `${ci} must be ${piece} bytes, not ${data.length}`,
      );
    this.prepareWrite();
    const m = this.map(ci);
    if (m.kind !== 'unallocated' && !(m.kind === 'zero' && m.host === 0)) {
      throw new ImageError(
        `qcow2: guest cluster ${ci} is already allocated (L2 entry at ` +
          `${hex(m.entryAt)}); compressed writes go to unallocated clusters only`,
        'L2 entry',
        m.entryAt,
      );
    }
    let full = data;
    if (piece !== cs) {
      full = new Uint8Array(cs);
      full.set(data);
    }
    const packed = compressCluster(full);
    if (!packed) {
      this.write(ci * cs, data);
      return false;
    }
    // As QEMU: the L2 table first, then the bytes, so the data follows any new table.
    const slot = this.l2Slot(ci);
    const host = this.refs!.allocateBytes(packed.length);
    const entry = compressedEntry(host, packed.length, this.header.clusterBits);
    if (!entry)
      throw new ImageError(
        `qcow2: host offset ${hex(host)} does not fit a compressed ` +
          `cluster descriptor with cluster_bits ${this.header.clusterBits}`,
      );
    this.src.write(host, packed);
    this.setL2Raw(slot, entry.hi, entry.lo);
    this.lastCompressed = undefined;
    return true;
  }

  /**
   * Ends a run of compressed writes as QEMU does (a zero-length compressed write,
   * qcow2_co_pwritev_compressed_part): the file is extended to a whole 512-byte sector,
   * "to ease reading with sector based I/Os".
   */
  endCompressed(): void {
    const n = this.src.size;
    if (n % COMPRESSED_SECTOR) this.src.truncate(n + COMPRESSED_SECTOR - (n % COMPRESSED_SECTOR));
  }

  /**
   * Never let a data write land on metadata (a corrupt L2 entry): the header, the L1 table,
   * the refcount table, a refcount block or an L2 table. Like QEMU, a version 3 image is
   * then marked corrupt (incompatible bit 1) so that nobody writes it again unrepaired.
   */
  private guardMetadata(host: number, entryAt: number): void {
    const h = this.header;
    const cs = this.clusterSize;
    if (!this.metadata) {
      this.metadata = new Set(this.refs!.table.filter((o) => o !== 0));
      this.refs!.onNewBlock = (o) => this.metadata!.add(o);
      for (let i = 0; i < h.l1Size; i++) {
        const off = this.l1Entry(i, h.l1TableOffset + i * 8);
        if (off) this.metadata.add(off);
      }
    }
    if (
      host < cs ||
      overlaps(host, cs, h.l1TableOffset, h.l1Size * 8) ||
      overlaps(host, cs, h.refcountTableOffset, h.refcountTableClusters * cs) ||
      this.metadata.has(host)
    ) {
      if (h.version === 3) {
        h.incompatibleFeatures |= BigInt(C.INCOMPAT_CORRUPT);
        const f = new Uint8Array(8);
        new DataView(f.buffer).setBigUint64(0, h.incompatibleFeatures);
        this.src.write(C.H_INCOMPATIBLE_FEATURES, f);
      }
      throw new ImageError(
        `qcow2: L2 entry at offset ${hex(entryAt)} points data at ` +
          `${hex(host)}, inside the image's metadata: refusing to ` +
          `write${h.version === 3 ? ' (the image is now marked corrupt)' : ''}`,
        'L2 entry',
        entryAt,
      );
    }
  }

  private setL2Entry(slot: { l2off: number; idx: number; table: Uint8Array }, host: number): void {
    const e = new Uint8Array(8);
    setU64(view(e), 0, host, false);
    const dv = view(e);
    this.setL2Raw(slot, dv.getUint32(0) | C.HI_COPIED, dv.getUint32(4));
  }

  private setL2Raw(
    slot: { l2off: number; idx: number; table: Uint8Array },
    hi: number,
    lo: number,
  ): void {
    const dv = view(slot.table);
    dv.setUint32(slot.idx * 8, hi);
    dv.setUint32(slot.idx * 8 + 4, lo);
    this.src.write(slot.l2off + slot.idx * 8, slot.table.subarray(slot.idx * 8, slot.idx * 8 + 8));
  }

  /** The active L2 table that holds guest cluster `ci`'s entry, made (or unshared) if needed. */
  private l2Slot(ci: number): { l2off: number; idx: number; table: Uint8Array } {
    const l1i = Math.floor(ci / this.l2Entries);
    const l1At = this.header.l1TableOffset + l1i * 8;
    let l2off = this.l1Entry(l1i, l1At);
    if (l2off === 0) {
      l2off = this.refs!.allocate(1);
      const table = new Uint8Array(this.clusterSize);
      this.src.write(l2off, table);
      this.remember(l2off, table);
      this.metadata?.add(l2off);
      setU64(this.l1dv, l1i * 8, l2off, false);
      this.l1dv.setUint32(l1i * 8, this.l1dv.getUint32(l1i * 8) | C.HI_COPIED);
      this.src.write(l1At, this.l1.subarray(l1i * 8, l1i * 8 + 8));
    } else if (!(this.l1dv.getUint32(l1i * 8) & C.HI_COPIED)) {
      l2off = this.unshareL2(l1i, l1At, l2off);
    }
    return { l2off, idx: ci % this.l2Entries, table: this.l2Table(l2off, l1i, l1At) };
  }

  /**
   * Copy on write of an L2 table shared with an internal snapshot (L1 entry without
   * COPIED). The copy keeps the entries as they are: every data cluster is still reached
   * once through the snapshot's path and once through the active one, so only the two
   * tables' refcounts change (qcow2.txt, "Snapshots": refcounts count every path).
   */
  private unshareL2(l1i: number, l1At: number, old: number): number {
    const refs = this.refs!;
    const copy = this.l2Table(old, l1i, l1At).slice();
    const neu = refs.allocate(1);
    this.src.write(neu, copy);
    this.remember(neu, copy);
    this.metadata?.add(neu);
    setU64(this.l1dv, l1i * 8, neu, false);
    this.l1dv.setUint32(l1i * 8, this.l1dv.getUint32(l1i * 8) | C.HI_COPIED);
    this.src.write(l1At, this.l1.subarray(l1i * 8, l1i * 8 + 8));
    refs.release(old, this.clusterSize);
    return neu;
  }

  private prepareWrite(): void {
    if (this.writePrepared) return;
    const h = this.header;
    if (this.readOnly) throw new ImageError('qcow2: the image is open read-only');
    if (h.incompatibleFeatures & BigInt(C.INCOMPAT_CORRUPT)) {
      throw new ImageError(
        'qcow2: the image is marked corrupt (incompatible feature bit 1); it can only be read',
        'incompatible_features',
        C.H_INCOMPATIBLE_FEATURES,
      );
    }
    if (h.incompatibleFeatures & BigInt(C.INCOMPAT_DIRTY)) {
      throw new ImageError(
        'qcow2: the dirty bit is set (refcounts may be stale after lazy-refcount use); ' +
          'repair with "qemu-img check -r all" before writing',
        'incompatible_features',
        C.H_INCOMPATIBLE_FEATURES,
      );
    }
    this.refs = new Refcounts(this.src, h, this.clusterSize);
    // "autoclear_features": a writer that does not maintain a feature must clear its bit.
    if (h.version === 3 && h.autoclearFeatures !== 0n) {
      h.autoclearFeatures = 0n;
      this.src.write(C.H_AUTOCLEAR_FEATURES, new Uint8Array(8));
    }
    this.writePrepared = true;
  }

  private l1Entry(l1i: number, l1At: number): number {
    if (l1i >= this.header.l1Size) return 0;
    const hi = this.l1dv.getUint32(l1i * 8);
    const lo = this.l1dv.getUint32(l1i * 8 + 4);
    if (hi & C.L1_HI_RESERVED || lo & C.L1_LO_RESERVED) {
      throw new ImageError(
        `qcow2: L1 entry ${l1i} at offset ${hex(l1At)}: reserved bits are set`,
        'L1 entry',
        l1At,
      );
    }
    return (hi & C.HI_OFFSET_MASK) * TWO32 + ((lo & C.LO_OFFSET_MASK) >>> 0);
  }

  private l2Table(off: number, l1i: number, l1At: number): Uint8Array {
    let t = this.l2Cache.get(off);
    if (t) {
      this.l2Cache.delete(off);
      this.l2Cache.set(off, t);
      return t;
    }
    const cs = this.clusterSize;
    const where = `qcow2: L1 entry ${l1i} at offset ${hex(l1At)}`;
    if (off % cs !== 0)
      throw new ImageError(
        `${where}: L2 table offset ${hex(off)} is not cluster-aligned`,
        'L1 entry',
        l1At,
      );
    if (off + cs > this.src.size)
      throw new ImageError(
        `${where}: L2 table at ${hex(off)} lies outside the file (${this.src.size} bytes)`,
        'L1 entry',
        l1At,
      );
    const h = this.header;
    if (
      off < cs ||
      overlaps(off, cs, h.l1TableOffset, h.l1Size * 8) ||
      overlaps(off, cs, h.refcountTableOffset, h.refcountTableClusters * cs)
    ) {
      throw new ImageError(
        `${where}: L2 table at ${hex(off)} overlaps the header, the L1 table or the refcount table`,
        'L1 entry',
        l1At,
      );
    }
    t = readExact(this.src, off, cs, 'qcow2 L2 table');
    this.remember(off, t);
    return t;
  }

  private remember(off: number, t: Uint8Array): void {
    this.l2Cache.set(off, t);
    if (this.l2Cache.size > Math.max(4, L2_CACHE_BYTES / this.clusterSize))
      this.l2Cache.delete(this.l2Cache.keys().next().value as number);
  }

  blockStatus(offset: number, length: number): BlockStatus {
    const end = Math.min(offset + length, this.size);
    const cs = this.clusterSize;
    const span = cs * this.l2Entries;
    const classify = (pos: number): { kind: 'data' | 'zero' | 'unallocated'; next: number } => {
      const ci = Math.floor(pos / cs);
      const l1i = Math.floor(ci / this.l2Entries);
      if (this.l1Entry(l1i, this.header.l1TableOffset + l1i * 8) === 0) {
        return { kind: 'unallocated', next: (l1i + 1) * span };
      }
      const k = this.map(ci).kind;
      return { kind: k === 'normal' || k === 'compressed' ? 'data' : k, next: (ci + 1) * cs };
    };
    const first = classify(offset);
    let pos = first.next;
    while (pos < end) {
      const c = classify(pos);
      if (c.kind !== first.kind) break;
      pos = c.next;
    }
    const len = Math.min(pos, end) - offset;
    if (first.kind === 'data') return { length: len, data: true };
    if (first.kind === 'zero' || !this.backingImage) return { length: len, data: false };
    const b = this.backingImage;
    if (offset >= b.size) return { length: len, data: false };
    const bs = b.blockStatus(offset, Math.min(len, b.size - offset));
    return { length: bs.length, data: bs.data };
  }

  /**
   * One `qemu-img map` run: clusters of one kind, with contiguous host offsets where they
   * have one; unallocated clusters are looked up in the backing file (depth + 1).
   */
  mapRange(offset: number, length: number): MapEntry {
    const end = Math.min(offset + length, this.size);
    const cs = this.clusterSize;
    const span = cs * this.l2Entries;
    const at = (pos: number): { kind: ClusterKind; host: number; next: number } => {
      const ci = Math.floor(pos / cs);
      const l1i = Math.floor(ci / this.l2Entries);
      if (this.l1Entry(l1i, this.header.l1TableOffset + l1i * 8) === 0)
        return { kind: 'unallocated', host: 0, next: (l1i + 1) * span };
      const m = this.map(ci);
      return { kind: m.kind, host: m.host, next: (ci + 1) * cs };
    };
    const first = at(offset);
    const inCl = offset % cs;
    let pos = first.next;
    while (pos < end) {
      const c = at(pos);
      if (c.kind !== first.kind || (first.host !== 0) !== (c.host !== 0)) break;
      if (first.host !== 0 && c.host !== first.host + (Math.floor(pos / cs) * cs - (offset - inCl)))
        break;
      pos = c.next;
    }
    const len = Math.min(pos, end) - offset;
    const base = { start: offset, length: len };
    const hostOff = first.host ? { offset: first.host + inCl } : {};
    switch (first.kind) {
      case 'normal':
        return { ...base, depth: 0, present: true, zero: false, data: true, ...hostOff };
      case 'compressed':
        return { ...base, depth: 0, present: true, zero: false, data: true };
      case 'zero':
        return { ...base, depth: 0, present: true, zero: true, data: false, ...hostOff };
      default: {
        const b = this.backingImage;
        if (!b) return { ...base, depth: 0, present: false, zero: true, data: false };
        if (offset >= b.size) return { ...base, depth: 1, present: false, zero: true, data: false };
        const e = b.mapRange(offset, Math.min(len, b.size - offset));
        return { ...e, depth: e.depth + 1 };
      }
    }
  }

  info(): ImageInfo {
    const h = this.header;
    const data: Record<string, unknown> = {
      compat: h.version === 3 ? '1.1' : '0.10',
      'compression-type': h.compressionType === C.COMPRESSION_ZSTD ? 'zstd' : 'zlib',
    };
    if (h.version === 3)
      data['lazy-refcounts'] = (h.compatibleFeatures & BigInt(C.COMPAT_LAZY_REFCOUNTS)) !== 0n;
    const bitmaps = h.extensions.find((e) => e.type === C.EXT_BITMAPS);
    if (bitmaps && h.autoclearFeatures & BigInt(C.AUTOCLEAR_BITMAPS)) {
      data.bitmaps = readBitmaps(this.src, bitmaps.data).list.map((b) => ({
        flags: [
          ...(b.flags & BME_FLAG_IN_USE ? ['in-use'] : []),
          ...(b.flags & BME_FLAG_AUTO ? ['auto'] : []),
        ],
        name: b.name,
        granularity: 2 ** b.granularityBits,
      }));
    }
    data['refcount-bits'] = 2 ** h.refcountOrder;
    if (h.version === 3) {
      data.corrupt = (h.incompatibleFeatures & BigInt(C.INCOMPAT_CORRUPT)) !== 0n;
      data['extended-l2'] = false;
      const inc = featureList(h, 0, h.incompatibleFeatures);
      if (inc.length) data['incompatible-features'] = inc;
    }
    const info: ImageInfo = {
      snapshots: h.nbSnapshots ? snapshotInfo(readSnapshots(this.src, h).list) : undefined,
      format: 'qcow2',
      'virtual-size': this.size,
      'cluster-size': this.clusterSize,
      'dirty-flag': (h.incompatibleFeatures & BigInt(C.INCOMPAT_DIRTY)) !== 0n,
      'format-specific': { type: 'qcow2', data },
    };
    if (h.backingFile !== undefined) info['backing-filename'] = h.backingFile;
    if (h.backingFormat !== undefined) info['backing-filename-format'] = h.backingFormat;
    return info;
  }

  flush(): void {
    this.refs?.flush();
    this.src.flush();
  }

  close(): void {
    if (this.writePrepared) this.refs?.flush();
    this.backingImage?.close();
    this.src.close();
  }
}
