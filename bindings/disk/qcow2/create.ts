/**
 * Creates an empty qcow2 image, laid out as QEMU lays out a new one: the header in
 * cluster 0, the refcount table in cluster 1, the first refcount block in cluster 2, then
 * the L1 table.
 */
import type { ByteSource } from '../source.js';
import { view, setU64, ceilDiv } from '../bytes.js';
import { ImageError } from '../errors.js';
import { buildHeader, type Qcow2Header } from './header.js';
import { Refcounts } from './refcounts.js';
import * as C from './constants.js';

export interface Qcow2CreateOptions {
  /** "0.10" writes a version 2 image, "1.1" (the default) version 3. */
  compat?: '0.10' | '1.1';
  clusterSize?: number;
  /** Width of a refcount, 1..64, a power of two (version 3 only; version 2 is 16). */
  refcountBits?: number;
  lazyRefcounts?: boolean;
  backingFile?: string;
  backingFormat?: string;
}

/** What the options and size come to, once checked: the numbers the header is made of. */
export interface Qcow2Layout {
  version: 2 | 3;
  /** Bytes per cluster (1 << clusterBits). */
  cs: number;
  clusterBits: number;
  /** refcount_order: refcounts are 1 << order bits wide. */
  order: number;
  l1Size: number;
}

/**
 * Checks the options and size of a new image without writing anything, so a command can
 * refuse bad options before it reports what it is about to create.
 */
export function qcow2Layout(size: number, opts: Qcow2CreateOptions = {}): Qcow2Layout {
  const compat = opts.compat ?? '1.1';
  if (compat !== '0.10' && compat !== '1.1')
    throw new ImageError(`qcow2: invalid compat level "${compat}" (use 0.10 or 1.1)`);
  const version = compat === '1.1' ? 3 : 2;
  const cs = opts.clusterSize ?? 65536;
  const clusterBits = Math.log2(cs);
  if (
    !Number.isInteger(clusterBits) ||
    clusterBits < C.MIN_CLUSTER_BITS ||
    clusterBits > C.MAX_CLUSTER_BITS
  ) {
    throw new ImageError(
      'qcow2: cluster size must be a power of two between ' +
        `${2 ** C.MIN_CLUSTER_BITS} and ${2 ** C.MAX_CLUSTER_BITS} bytes, not ${cs}`,
    );
  }
  const refBits = opts.refcountBits ?? 16;
  const order = Math.log2(refBits);
  if (!Number.isInteger(order) || order < 0 || order > C.MAX_REFCOUNT_ORDER) {
    throw new ImageError(
      `qcow2: refcount_bits must be a power of two from 1 to 64, not ${refBits}`,
    );
  }
  if (version === 2 && refBits !== 16)
    throw new ImageError('qcow2: refcount_bits other than 16 need compat=1.1');
  if (version === 2 && opts.lazyRefcounts)
    throw new ImageError('qcow2: lazy_refcounts need compat=1.1');
  if (!Number.isSafeInteger(size) || size < 0) throw new ImageError(`qcow2: invalid size ${size}`);
  const l2Entries = cs / 8;
  const l1Size = ceilDiv(size, cs * l2Entries);
  if (l1Size * 8 > C.MAX_L1_BYTES)
    throw new ImageError(
      `qcow2: a ${size}-byte image needs an L1 table over ` +
        `${C.MAX_L1_BYTES >> 20} MiB; use a larger cluster_size`,
    );
  return { version, cs, clusterBits, order, l1Size };
}

/** Writes a new, empty image into `src` (which is emptied first). Open it with Qcow2Image. */
export function createQcow2(src: ByteSource, size: number, opts: Qcow2CreateOptions = {}): void {
  const { version, cs, clusterBits, order, l1Size } = qcow2Layout(size, opts);

  const h: Qcow2Header = {
    version,
    backingFileOffset: 0,
    backingFileSize: 0,
    clusterBits,
    size,
    cryptMethod: 0,
    l1Size: 0,
    l1TableOffset: 0,
    refcountTableOffset: cs,
    refcountTableClusters: 1,
    nbSnapshots: 0,
    snapshotsOffset: 0,
    incompatibleFeatures: 0n,
    compatibleFeatures: opts.lazyRefcounts ? BigInt(C.COMPAT_LAZY_REFCOUNTS) : 0n,
    autoclearFeatures: 0n,
    refcountOrder: order,
    headerLength: version === 3 ? C.V3_HEADER_LENGTH : C.V2_HEADER_LENGTH,
    compressionType: C.COMPRESSION_ZLIB,
    extensions: [],
    featureNames: new Map(),
    backingFile: opts.backingFile,
    backingFormat: opts.backingFile !== undefined ? opts.backingFormat : undefined,
  };
  src.truncate(0);
  src.write(0, buildHeader(h, cs));
  // Refcount table (cluster 1) pointing at one empty block (cluster 2).
  const table = new Uint8Array(cs);
  setU64(view(table), 0, 2 * cs, false);
  src.write(cs, table);
  src.write(2 * cs, new Uint8Array(cs));
  // Count the first three clusters and take the L1 table through the allocator, so any
  // refcount blocks it needs (small clusters, narrow refcounts) come out the usual way.
  const refs = new Refcounts(src, h, cs);
  for (let c = 0; c < 3; c++) refs.set(c, 1);
  if (l1Size > 0) {
    const l1Bytes = ceilDiv(l1Size * 8, cs) * cs;
    const l1Off = refs.allocate(l1Bytes / cs);
    writeZeros(src, l1Off, l1Bytes);
    const f = new Uint8Array(12);
    const dv = view(f);
    dv.setUint32(0, l1Size);
    setU64(dv, 4, l1Off, false);
    src.write(C.H_L1_SIZE, f);
    h.l1Size = l1Size;
    h.l1TableOffset = l1Off;
  }
  refs.flush();
  src.flush();
}

function writeZeros(src: ByteSource, offset: number, bytes: number): void {
  const chunk = new Uint8Array(Math.min(bytes, 1 << 20));
  for (let done = 0; done < bytes; done += chunk.length) {
    src.write(offset + done, chunk.subarray(0, Math.min(chunk.length, bytes - done)));
  }
}
