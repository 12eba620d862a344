/**
 * qcow2 reference counts (qcow2.txt, "Host cluster management"): a refcount table of
 * 64-bit refcount-block offsets, each block an array of `refcount_bits`-wide counts, one per
 * host cluster. New clusters are only ever taken at the end of the file, so allocation can
 * never land on live data even when the counts on disk are wrong.
 */
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, u64, setU64, ceilDiv } from '../bytes.js';
import { ImageError, hex } from '../errors.js';
import type { Qcow2Header } from './header.js';
import * as C from './constants.js';

/** Bytes of refcount blocks kept in memory; written through, so eviction costs nothing. */
const BLOCK_CACHE_BYTES = 4 << 20;

export class Refcounts {
  readonly bits: number;
  /** "refcount_block_entries = cluster_size * 8 / refcount_bits". */
  readonly perBlock: number;
  /** The largest refcount that fits in `refcount_bits` (and in a JavaScript number). */
  readonly maxRefcount: number;
  readonly table: number[] = [];
  /** Entries the table on disk has room for; entries past it wait for flush(). */
  private diskEntries: number;
  /** Index of the first cluster past the end of the file: where allocation happens. */
  endCluster: number;
  private readonly cache = new Map<number, Uint8Array>();
  /** Where the next compressed data may go (inside a cluster), 0 for a new cluster. */
  private freeByteOffset = 0;
  /** Told of every refcount block this object creates (the image keeps a metadata map). */
  onNewBlock?: (offset: number) => void;

  constructor(
    private readonly src: ByteSource,
    private readonly h: Qcow2Header,
    private readonly cs: number,
  ) {
    this.bits = 2 ** h.refcountOrder;
    this.perBlock = (cs * 8) / this.bits;
    this.maxRefcount = 2 ** Math.min(this.bits, 53) - 1;
    this.diskEntries = (h.refcountTableClusters * cs) / 8;
    this.endCluster = ceilDiv(src.size, cs);
    const raw = readExact(src, h.refcountTableOffset, this.diskEntries * 8, 'qcow2 refcount table');
    const dv = view(raw);
    const seen = new Set<number>();
    for (let i = 0; i < this.diskEntries; i++) {
      const at = h.refcountTableOffset + i * 8;
      const off = u64(dv, i * 8, false, `refcount table entry ${i}`, at);
      if (off === 0) {
        this.table.push(0);
        continue;
      }
      const where = `qcow2: refcount table entry ${i} at offset ${hex(at)}`;
      if (off % cs !== 0)
        throw new ImageError(
          `${where}: block offset ${hex(off)} is not cluster-aligned`,
          'refcount table entry',
          at,
        );
      if (off + cs > src.size)
        throw new ImageError(
          `${where}: block at ${hex(off)} lies outside the file (${src.size} bytes)`,
          'refcount table entry',
          at,
        );
      if (
        off === 0 ||
        overlaps(off, cs, h.refcountTableOffset, this.diskEntries * 8) ||
        (h.l1Size > 0 && overlaps(off, cs, h.l1TableOffset, h.l1Size * 8))
      ) {
        throw new ImageError(
          `${where}: block at ${hex(off)} overlaps the header, the L1 table or the refcount table`,
          'refcount table entry',
          at,
        );
      }
      if (seen.has(off))
        throw new ImageError(
          `${where}: block at ${hex(off)} is already used by another entry (a refcount loop)`,
          'refcount table entry',
          at,
        );
      seen.add(off);
      this.table.push(off);
    }
  }

  get(cluster: number): number {
    const bi = Math.floor(cluster / this.perBlock);
    if (bi >= this.table.length || this.table[bi] === 0) return 0;
    const blk = this.block(this.table[bi]);
    return this.getIn(blk, cluster % this.perBlock, this.table[bi]);
  }

  set(cluster: number, value: number): void {
    if (value < 0 || value >= 2 ** Math.min(this.bits, 53)) {
      throw new ImageError(
        `qcow2: refcount ${value} of cluster ${cluster} does not fit in ${this.bits} bits`,
      );
    }
    // Only clusters of the file get counts: everything else is a damaged pointer (and
    // would grow the table without bound). Repair may lower a count stored past the end
    // (a leak there, as QEMU repairs it), in a refcount block that exists.
    const lowering =
      cluster >= this.endCluster && value < this.get(cluster) &&
      this.table[Math.floor(cluster / this.perBlock)] !== 0;
    if (
      !Number.isSafeInteger(cluster) || cluster < 0 || (cluster >= this.endCluster && !lowering)
    ) {
      throw new ImageError(
        `qcow2: refcount for cluster ${cluster}, past the end of the image ` +
          `(${this.endCluster} clusters): a table points outside the file`,
      );
    }
    const bi = Math.floor(cluster / this.perBlock);
    while (this.table.length <= bi) this.table.push(0);
    if (this.table[bi] === 0) this.newBlock(bi);
    const off = this.table[bi];
    const blk = this.block(off);
    const idx = cluster % this.perBlock;
    const [byteAt, len] = this.setIn(blk, idx, value);
    this.src.write(off + byteAt, blk.subarray(byteAt, byteAt + len));
  }

  /** Takes `n` contiguous clusters at the end of the file; returns the host offset. */
  allocate(n: number): number {
    const start = this.endCluster;
    this.endCluster += n;
    for (let i = 0; i < n; i++) this.set(start + i, 1);
    return start * this.cs;
  }

  /**
   * Takes `bytes` (at most a cluster) for compressed data, packed after the previous
   * compressed data as QEMU packs it (qcow2-refcount.c, qcow2_alloc_bytes): in the rest of
   * the last host cluster used, spilling into a new one when that is the next cluster of
   * the file, else at the start of a new cluster; every cluster the bytes touch gains one
   * reference. Returns the host byte offset.
   */
  allocateBytes(bytes: number): number {
    const cs = this.cs;
    if (bytes <= 0 || bytes > cs)
      throw new ImageError(`qcow2: cannot allocate ${bytes} bytes of compressed data (1 to ${cs})`);
    let off = this.freeByteOffset;
    // A cluster whose refcount is at its maximum cannot take another reference.
    if (off && this.get(Math.floor(off / cs)) >= this.maxRefcount) off = 0;
    if (!off || cs - (off % cs) < bytes) {
      const fresh = this.endCluster * cs;
      this.endCluster++;
      if (!off || Math.ceil(off / cs) * cs !== fresh) off = fresh;
    }
    for (let c = Math.floor(off / cs); c <= Math.floor((off + bytes - 1) / cs); c++)
      this.set(c, this.get(c) + 1);
    const end = off + bytes;
    this.freeByteOffset = end % cs ? end : 0;
    return off;
  }

  /** Drops one reference to every cluster touched by [offset, offset + bytes). */
  release(offset: number, bytes: number): void {
    const first = Math.floor(offset / this.cs);
    const last = Math.floor((offset + bytes - 1) / this.cs);
    for (let c = first; c <= last; c++) {
      const v = this.get(c);
      if (v > 0) this.set(c, v - 1);
    }
  }

  /** Writes the refcount table out, moving it to a larger place if it has outgrown its own. */
  flush(): void {
    let slack = 64;
    for (;;) {
      const needed = this.usedEntries();
      if (needed <= this.diskEntries) return;
      const clusters = ceilDiv((needed + slack) * 8, this.cs);
      const start = this.allocate(clusters);
      if (this.usedEntries() * 8 <= clusters * this.cs) {
        const buf = new Uint8Array(clusters * this.cs);
        const dv = view(buf);
        this.table.forEach((off, i) => setU64(dv, i * 8, off, false));
        this.src.write(start, buf);
        const hdr = new Uint8Array(12);
        const hv = view(hdr);
        setU64(hv, 0, start, false);
        hv.setUint32(8, clusters);
        this.src.write(C.H_REFCOUNT_TABLE_OFFSET, hdr);
        const old = this.h.refcountTableOffset;
        const oldBytes = this.h.refcountTableClusters * this.cs;
        this.h.refcountTableOffset = start;
        this.h.refcountTableClusters = clusters;
        this.diskEntries = (clusters * this.cs) / 8;
        this.release(old, oldBytes);
        return;
      }
      this.release(start, clusters * this.cs);
      slack *= 4;
    }
  }

  private usedEntries(): number {
    let n = this.table.length;
    while (n > 0 && this.table[n - 1] === 0) n--;
    return n;
  }

  /** Creates refcount block `bi` in a new cluster at the end of the file. */
  private newBlock(bi: number): void {
    const blockCluster = this.endCluster++;
    const off = blockCluster * this.cs;
    const blk = new Uint8Array(this.cs);
    this.src.write(off, blk);
    this.table[bi] = off;
    this.remember(off, blk);
    this.onNewBlock?.(off);
    if (bi < this.diskEntries) {
      const e = new Uint8Array(8);
      setU64(view(e), 0, off, false);
      this.src.write(this.h.refcountTableOffset + bi * 8, e);
    }
    // The block is a cluster too, and counts itself if it covers itself.
    this.set(blockCluster, 1);
  }

  private block(off: number): Uint8Array {
    let b = this.cache.get(off);
    if (b) {
      this.cache.delete(off);
      this.cache.set(off, b);
      return b;
    }
    b = readExact(this.src, off, this.cs, 'qcow2 refcount block');
    this.remember(off, b);
    return b;
  }

  private remember(off: number, b: Uint8Array): void {
    this.cache.set(off, b);
    if (this.cache.size > Math.max(4, BLOCK_CACHE_BYTES / this.cs))
      this.cache.delete(this.cache.keys().next().value as number);
  }

  /** "Refcount block entry": sub-byte widths count from the least significant bit. */
  private getIn(blk: Uint8Array, idx: number, blockOff: number): number {
    const bits = this.bits;
    const dv = view(blk);
    switch (bits) {
      case 8:
        return blk[idx];
      case 16:
        return dv.getUint16(idx * 2);
      case 32:
        return dv.getUint32(idx * 4);
      case 64:
        return u64(dv, idx * 8, false, 'refcount', blockOff + idx * 8);
      default: {
        const bit = idx * bits;
        return (blk[bit >> 3] >> (bit & 7)) & ((1 << bits) - 1);
      }
    }
  }

  private setIn(blk: Uint8Array, idx: number, v: number): [number, number] {
    const bits = this.bits;
    const dv = view(blk);
    switch (bits) {
      case 8:
        blk[idx] = v;
        return [idx, 1];
      case 16:
        dv.setUint16(idx * 2, v);
        return [idx * 2, 2];
      case 32:
        dv.setUint32(idx * 4, v);
        return [idx * 4, 4];
      case 64:
        setU64(dv, idx * 8, v, false);
        return [idx * 8, 8];
      default: {
        const bit = idx * bits;
        const mask = ((1 << bits) - 1) << (bit & 7);
        blk[bit >> 3] = (blk[bit >> 3] & ~mask) | ((v << (bit & 7)) & mask);
        return [bit >> 3, 1];
      }
    }
  }
}

export function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + alen;
}
