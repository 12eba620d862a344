/**
 * The qcow2 header and its extensions (qcow2.txt, "Header" and "Header extensions"):
 * parsed with every field checked against the file, and serialized for new images.
 * Extensions this code does not interpret are kept as they are.
 */
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, u64, setU64 } from '../bytes.js';
import { ImageError, hex } from '../errors.js';
import * as C from './constants.js';

export interface HeaderExtension {
  type: number;
  data: Uint8Array;
}

export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
  extensions: HeaderExtension[];
  backingFile?: string;
  backingFormat?: string;
  /** From the feature name table extension: "type:bit" -> name. */
  featureNames: Map<string, string>;
}

const FMT = 'qcow2';

function bad(field: string, at: number, problem: string): never {
  throw new ImageError(`${FMT}: header field ${field} (offset ${hex(at)}): ${problem}`, field, at);
}

function big64(dv: DataView, at: number): bigint {
  return dv.getBigUint64(at, false);
}

const FEATURE_KINDS = ['incompatible', 'compatible', 'autoclear'];

/** Reads and checks the header, its extensions and the backing file name. */
export function readHeader(src: ByteSource): Qcow2Header {
  const first = readExact(src, 0, C.V2_HEADER_LENGTH, 'qcow2 header');
  const dv = view(first);
  if (dv.getUint32(C.H_MAGIC) !== C.QCOW2_MAGIC) bad('magic', 0, 'not QFI\\xfb');
  const version = dv.getUint32(C.H_VERSION);
  if (version !== 2 && version !== 3)
    bad('version', C.H_VERSION, `version ${version} is not 2 or 3`);
  const fileSize = src.size;
  const h: Qcow2Header = {
    version,
    backingFileOffset: u64(
      dv,
      C.H_BACKING_FILE_OFFSET,
      false,
      'backing_file_offset',
      C.H_BACKING_FILE_OFFSET,
    ),
    backingFileSize: dv.getUint32(C.H_BACKING_FILE_SIZE),
    clusterBits: dv.getUint32(C.H_CLUSTER_BITS),
    size: 0,
    cryptMethod: dv.getUint32(C.H_CRYPT_METHOD),
    l1Size: dv.getUint32(C.H_L1_SIZE),
    l1TableOffset: u64(dv, C.H_L1_TABLE_OFFSET, false, 'l1_table_offset', C.H_L1_TABLE_OFFSET),
    refcountTableOffset: u64(
      dv,
      C.H_REFCOUNT_TABLE_OFFSET,
      false,
      'refcount_table_offset',
      C.H_REFCOUNT_TABLE_OFFSET,
    ),
    refcountTableClusters: dv.getUint32(C.H_REFCOUNT_TABLE_CLUSTERS),
    nbSnapshots: dv.getUint32(C.H_NB_SNAPSHOTS),
    snapshotsOffset: u64(dv, C.H_SNAPSHOTS_OFFSET, false, 'snapshots_offset', C.H_SNAPSHOTS_OFFSET),
    incompatibleFeatures: 0n,
    compatibleFeatures: 0n,
    autoclearFeatures: 0n,
    refcountOrder: 4,
    headerLength: C.V2_HEADER_LENGTH,
    compressionType: C.COMPRESSION_ZLIB,
    extensions: [],
    featureNames: new Map(),
  };
  const sizeBig = big64(dv, C.H_SIZE);
  if (sizeBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    bad(
      'size',
      C.H_SIZE,
      `virtual size ${sizeBig} bytes is beyond 2^53 - 1, the largest this implementation handles`,
    );
  }
  h.size = Number(sizeBig);

  if (h.clusterBits < C.MIN_CLUSTER_BITS || h.clusterBits > C.MAX_CLUSTER_BITS) {
    bad(
      'cluster_bits',
      C.H_CLUSTER_BITS,
      `${h.clusterBits} is outside ${C.MIN_CLUSTER_BITS}..${C.MAX_CLUSTER_BITS}`,
    );
  }
  const cs = 2 ** h.clusterBits;

  if (version === 3) {
    const v3 = readExact(src, 0, C.V3_MIN_HEADER_LENGTH, 'qcow2 version 3 header');
    const d3 = view(v3);
    h.incompatibleFeatures = big64(d3, C.H_INCOMPATIBLE_FEATURES);
    h.compatibleFeatures = big64(d3, C.H_COMPATIBLE_FEATURES);
    h.autoclearFeatures = big64(d3, C.H_AUTOCLEAR_FEATURES);
    h.refcountOrder = d3.getUint32(C.H_REFCOUNT_ORDER);
    h.headerLength = d3.getUint32(C.H_HEADER_LENGTH);
    if (
      h.headerLength < C.V3_MIN_HEADER_LENGTH ||
      h.headerLength > cs ||
      h.headerLength % 8 !== 0
    ) {
      bad(
        'header_length',
        C.H_HEADER_LENGTH,
        `${h.headerLength} must be a multiple of 8 from ` +
          `${C.V3_MIN_HEADER_LENGTH} to the cluster size ${cs}`,
      );
    }
    if (h.headerLength > C.H_COMPRESSION_TYPE) {
      h.compressionType = readExact(src, C.H_COMPRESSION_TYPE, 1, 'compression_type')[0];
    }
    if (h.refcountOrder > C.MAX_REFCOUNT_ORDER) {
      bad(
        'refcount_order',
        C.H_REFCOUNT_ORDER,
        `${h.refcountOrder} is above ${C.MAX_REFCOUNT_ORDER} (64-bit refcounts)`,
      );
    }
  }

  readExtensions(src, h, cs);

  if (h.backingFileOffset !== 0) {
    if (h.backingFileSize === 0 || h.backingFileSize > C.MAX_BACKING_NAME) {
      bad(
        'backing_file_size',
        C.H_BACKING_FILE_SIZE,
        `${h.backingFileSize} is not 1..${C.MAX_BACKING_NAME}`,
      );
    }
    const name = readExact(src, h.backingFileOffset, h.backingFileSize, 'backing file name');
    h.backingFile = new TextDecoder().decode(name);
  }
  validate(h, fileSize, cs);
  return h;
}

function readExtensions(src: ByteSource, h: Qcow2Header, cs: number): void {
  let at = h.headerLength;
  // Extensions live in the first cluster (they end before the backing file name, if any).
  while (at + 8 <= cs) {
    if (at + 8 > src.size) break; // a header without an end marker: nothing more
    const hd = view(readExact(src, at, 8, 'header extension'));
    const type = hd.getUint32(0);
    const len = hd.getUint32(4);
    if (type === C.EXT_END) return;
    if (at + 8 + len > cs) {
      throw new ImageError(
        `qcow2: header extension 0x${type.toString(16)} at offset ${hex(at)}: ` +
          `length ${len} runs past the first cluster (${cs} bytes)`,
        'header extension length',
        at + 4,
      );
    }
    const data = readExact(src, at + 8, len, `header extension 0x${type.toString(16)}`);
    h.extensions.push({ type, data });
    if (type === C.EXT_BACKING_FORMAT) h.backingFormat = new TextDecoder().decode(data);
    if (type === C.EXT_FEATURE_TABLE) {
      // "Feature name table": 48-byte entries: type (u8), bit (u8), name (46 bytes, NUL-padded).
      for (let i = 0; i + 48 <= len; i += 48) {
        const name = new TextDecoder().decode(data.subarray(i + 2, i + 48)).replace(/\0.*$/s, '');
        h.featureNames.set(`${data[i]}:${data[i + 1]}`, name);
      }
    }
    at += 8 + Math.ceil(len / 8) * 8;
  }
}

function validate(h: Qcow2Header, fileSize: number, cs: number): void {
  if (h.cryptMethod !== C.CRYPT_NONE) {
    bad(
      'crypt_method',
      C.H_CRYPT_METHOD,
      `encrypted images (method ${h.cryptMethod}) are not supported`,
    );
  }
  const known = BigInt(C.INCOMPAT_DIRTY | C.INCOMPAT_CORRUPT | C.INCOMPAT_COMPRESSION);
  const unknown = h.incompatibleFeatures & ~known;
  if (unknown !== 0n) {
    const names: string[] = [];
    for (let b = 0; b < 64; b++) {
      if ((unknown >> BigInt(b)) & 1n) names.push(h.featureNames.get(`0:${b}`) ?? `bit ${b}`);
    }
    bad(
      'incompatible_features',
      C.H_INCOMPATIBLE_FEATURES,
      `unsupported incompatible features: ${names.join(', ')}`,
    );
  }
  if (
    h.compressionType !== C.COMPRESSION_ZLIB &&
    !(h.incompatibleFeatures & BigInt(C.INCOMPAT_COMPRESSION))
  ) {
    bad(
      'compression_type',
      C.H_COMPRESSION_TYPE,
      `type ${h.compressionType} without the compression-type incompatible bit`,
    );
  }
  if (h.compressionType > C.COMPRESSION_ZSTD) {
    bad('compression_type', C.H_COMPRESSION_TYPE, `unknown compression type ${h.compressionType}`);
  }
  const l2Entries = cs / 8;
  const needL1 = Math.ceil(h.size / (cs * l2Entries));
  if (h.l1Size * 8 > C.MAX_L1_BYTES) {
    bad(
      'l1_size',
      C.H_L1_SIZE,
      `${h.l1Size} entries exceed the ${C.MAX_L1_BYTES >> 20} MiB limit of an L1 table`,
    );
  }
  if (h.l1Size < needL1) {
    bad(
      'l1_size',
      C.H_L1_SIZE,
      `${h.l1Size} entries cannot map a virtual size of ${h.size} bytes (needs ${needL1})`,
    );
  }
  if (h.l1Size > 0)
    tableInFile(
      'l1_table_offset',
      C.H_L1_TABLE_OFFSET,
      h.l1TableOffset,
      h.l1Size * 8,
      cs,
      fileSize,
    );
  if (h.refcountTableClusters === 0)
    bad('refcount_table_clusters', C.H_REFCOUNT_TABLE_CLUSTERS, 'is 0');
  if (h.refcountTableClusters * cs > C.MAX_REFTABLE_BYTES) {
    bad(
      'refcount_table_clusters',
      C.H_REFCOUNT_TABLE_CLUSTERS,
      `${h.refcountTableClusters} clusters exceed the ` +
        `${C.MAX_REFTABLE_BYTES >> 20} MiB limit of a refcount table`,
    );
  }
  tableInFile(
    'refcount_table_offset',
    C.H_REFCOUNT_TABLE_OFFSET,
    h.refcountTableOffset,
    h.refcountTableClusters * cs,
    cs,
    fileSize,
  );
  if (h.nbSnapshots > 0) {
    tableInFile(
      'snapshots_offset',
      C.H_SNAPSHOTS_OFFSET,
      h.snapshotsOffset,
      C.SNAPSHOT_FIXED_SIZE * h.nbSnapshots,
      cs,
      fileSize,
    );
  }
}

function tableInFile(
  field: string,
  at: number,
  offset: number,
  bytes: number,
  cs: number,
  fileSize: number,
): void {
  if (offset % cs !== 0) bad(field, at, `${hex(offset)} is not aligned to the cluster size ${cs}`);
  if (offset === 0) bad(field, at, 'points at the header (offset 0)');
  if (offset + bytes > fileSize) {
    bad(
      field,
      at,
      `table at ${hex(offset)} (${bytes} bytes) lies outside the file (${fileSize} bytes)`,
    );
  }
}

/** Human names of the feature bits set in a features field, for `img info`. */
export function featureList(h: Qcow2Header, kind: 0 | 1 | 2, bits: bigint): string[] {
  const out: string[] = [];
  for (let b = 0; b < 64; b++) {
    if ((bits >> BigInt(b)) & 1n)
      out.push(h.featureNames.get(`${kind}:${b}`) ?? `${FEATURE_KINDS[kind]} bit ${b}`);
  }
  return out;
}

/** Serializes a header (and its extensions and backing name) into the first cluster. */
export function buildHeader(h: Qcow2Header, cs: number): Uint8Array {
  const out = new Uint8Array(cs);
  const dv = view(out);
  dv.setUint32(C.H_MAGIC, C.QCOW2_MAGIC);
  dv.setUint32(C.H_VERSION, h.version);
  dv.setUint32(C.H_CLUSTER_BITS, h.clusterBits);
  setU64(dv, C.H_SIZE, h.size, false);
  dv.setUint32(C.H_CRYPT_METHOD, h.cryptMethod);
  dv.setUint32(C.H_L1_SIZE, h.l1Size);
  setU64(dv, C.H_L1_TABLE_OFFSET, h.l1TableOffset, false);
  setU64(dv, C.H_REFCOUNT_TABLE_OFFSET, h.refcountTableOffset, false);
  dv.setUint32(C.H_REFCOUNT_TABLE_CLUSTERS, h.refcountTableClusters);
  dv.setUint32(C.H_NB_SNAPSHOTS, h.nbSnapshots);
  setU64(dv, C.H_SNAPSHOTS_OFFSET, h.snapshotsOffset, false);
  let at = C.V2_HEADER_LENGTH;
  if (h.version === 3) {
    dv.setBigUint64(C.H_INCOMPATIBLE_FEATURES, h.incompatibleFeatures);
    dv.setBigUint64(C.H_COMPATIBLE_FEATURES, h.compatibleFeatures);
    dv.setBigUint64(C.H_AUTOCLEAR_FEATURES, h.autoclearFeatures);
    dv.setUint32(C.H_REFCOUNT_ORDER, h.refcountOrder);
    dv.setUint32(C.H_HEADER_LENGTH, h.headerLength);
    if (h.headerLength > C.H_COMPRESSION_TYPE) out[C.H_COMPRESSION_TYPE] = h.compressionType;
    at = h.headerLength;
  }
  const exts = [...h.extensions];
  if (h.backingFormat !== undefined && !exts.some((e) => e.type === C.EXT_BACKING_FORMAT)) {
    exts.unshift({ type: C.EXT_BACKING_FORMAT, data: new TextEncoder().encode(h.backingFormat) });
  }
  for (const e of exts) {
    const padded = Math.ceil(e.data.length / 8) * 8;
    if (at + 8 + padded + 8 > cs)
      throw new ImageError('qcow2: header extensions do not fit in the first cluster');
    dv.setUint32(at, e.type);
    dv.setUint32(at + 4, e.data.length);
    out.set(e.data, at + 8);
    at += 8 + padded;
  }
  at += 8; // end-of-extensions marker (type 0, length 0)
  if (h.backingFile !== undefined) {
    const name = new TextEncoder().encode(h.backingFile);
    if (name.length === 0 || name.length > C.MAX_BACKING_NAME || at + name.length > cs) {
      throw new ImageError(
        `qcow2: backing file name of ${name.length} bytes does not fit (1..${C.MAX_BACKING_NAME})`,
      );
    }
    out.set(name, at);
    setU64(dv, C.H_BACKING_FILE_OFFSET, at, false);
    dv.setUint32(C.H_BACKING_FILE_SIZE, name.length);
  }
  return out;
}
