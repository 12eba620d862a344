/**
 * The SparseExtentHeader (VMDK 5.0, "Hosted Sparse Extent Header"): parsed with each
 * field checked, and built for new extents.
 */
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, setU64, ceilDiv } from '../bytes.js';
import { ImageError, hex } from '../errors.js';
import * as C from './constants.js';

export interface SparseHeader {
  version: number;
  flags: number;
  /** Sectors. */
  capacity: number;
  grainSize: number;
  descriptorOffset: number;
  descriptorSize: number;
  numGTEsPerGT: number;
  rgdOffset: number;
  /** Sectors, or -1 for GD_AT_END. */
  gdOffset: number;
  overHead: number;
  uncleanShutdown: boolean;
  compressAlgorithm: number;
}

const MAX_SECTORS = Math.floor(Number.MAX_SAFE_INTEGER / C.SECTOR);

function bad(base: number, field: string, rel: number, problem: string): never {
  const at = base + rel;
  throw new ImageError(`vmdk: header field ${field} (offset ${hex(at)}): ${problem}`, field, at);
}

/** Parses the 512-byte header found at `base` (0, or the footer's place). */
export function parseHeader(bytes: Uint8Array, base: number): SparseHeader {
  const dv = view(bytes);
  if (dv.getUint32(C.H_MAGIC, true) !== C.SPARSE_MAGIC)
    bad(base, 'magicNumber', C.H_MAGIC, 'not KDMV');
  const sectors = (field: string, rel: number): number => {
    const v = dv.getBigUint64(rel, true);
    if (v > BigInt(MAX_SECTORS))
      bad(
        base,
        field,
        rel,
        `${v} sectors (${v * 512n} bytes) is beyond 2^53 - 1 bytes, ` +
          'the largest this implementation handles',
      );
    return Number(v);
  };
  const h: SparseHeader = {
    version: dv.getUint32(C.H_VERSION, true),
    flags: dv.getUint32(C.H_FLAGS, true),
    capacity: sectors('capacity', C.H_CAPACITY),
    grainSize: sectors('grainSize', C.H_GRAIN_SIZE),
    descriptorOffset: sectors('descriptorOffset', C.H_DESCRIPTOR_OFFSET),
    descriptorSize: sectors('descriptorSize', C.H_DESCRIPTOR_SIZE),
    numGTEsPerGT: dv.getUint32(C.H_NUM_GTES_PER_GT, true),
    rgdOffset: sectors('rgdOffset', C.H_RGD_OFFSET),
    gdOffset:
      dv.getBigUint64(C.H_GD_OFFSET, true) === C.GD_AT_END
        ? -1
        : sectors('gdOffset', C.H_GD_OFFSET),
    overHead: sectors('overHead', C.H_OVERHEAD),
    uncleanShutdown: bytes[C.H_UNCLEAN_SHUTDOWN] !== 0,
    compressAlgorithm: dv.getUint16(C.H_COMPRESS_ALGORITHM, true),
  };
  if (h.version < 1 || h.version > C.MAX_VERSION)
    bad(base, 'version', C.H_VERSION, `version ${h.version} is not 1..${C.MAX_VERSION}`);
  if (h.grainSize < 1 || (h.grainSize & (h.grainSize - 1)) !== 0 || h.grainSize > 2048) {
    bad(
      base,
      'grainSize',
      C.H_GRAIN_SIZE,
      `${h.grainSize} sectors is not a power of two up to 1 MiB`,
    );
  }
  if (h.numGTEsPerGT === 0 || h.numGTEsPerGT > 65536)
    bad(base, 'numGTEsPerGT', C.H_NUM_GTES_PER_GT, `${h.numGTEsPerGT} is not 1..65536`);
  if (
    h.flags & C.FLAG_NL_DETECT &&
    (bytes[C.H_SINGLE_END_LINE_CHAR] !== 0x0a ||
      bytes[C.H_NON_END_LINE_CHAR] !== 0x20 ||
      bytes[C.H_DOUBLE_END_LINE_CHAR1] !== 0x0d ||
      bytes[C.H_DOUBLE_END_LINE_CHAR2] !== 0x0a)
  ) {
    bad(
      base,
      'singleEndLineChar',
      C.H_SINGLE_END_LINE_CHAR,
      'the newline detection characters are damaged (the file went through a text-mode transfer?)',
    );
  }
  if ((h.flags & C.FLAG_COMPRESSED) && h.compressAlgorithm !== C.COMPRESSION_DEFLATE) {
    bad(
      base,
      'compressAlgorithm',
      C.H_COMPRESS_ALGORITHM,
      `compression algorithm ${h.compressAlgorithm} is not deflate (1)`,
    );
  }
  const gdEntries = ceilDiv(h.capacity, h.grainSize * h.numGTEsPerGT);
  if (gdEntries * 4 > C.MAX_GD_BYTES) {
    bad(
      base,
      'capacity',
      C.H_CAPACITY,
      `${h.capacity} sectors need a grain directory of ${gdEntries} ` +
        `entries, over the ${C.MAX_GD_BYTES >> 20} MiB limit`,
    );
  }
  return h;
}

export function readHeaderAt(src: ByteSource, offset: number, what: string): SparseHeader {
  return parseHeader(readExact(src, offset, C.HEADER_SIZE, what), offset);
}

export function buildHeader(h: SparseHeader): Uint8Array {
  const b = new Uint8Array(C.HEADER_SIZE);
  const dv = view(b);
  dv.setUint32(C.H_MAGIC, C.SPARSE_MAGIC, true);
  dv.setUint32(C.H_VERSION, h.version, true);
  dv.setUint32(C.H_FLAGS, h.flags, true);
  setU64(dv, C.H_CAPACITY, h.capacity, true);
  setU64(dv, C.H_GRAIN_SIZE, h.grainSize, true);
  setU64(dv, C.H_DESCRIPTOR_OFFSET, h.descriptorOffset, true);
  setU64(dv, C.H_DESCRIPTOR_SIZE, h.descriptorSize, true);
  dv.setUint32(C.H_NUM_GTES_PER_GT, h.numGTEsPerGT, true);
  setU64(dv, C.H_RGD_OFFSET, h.rgdOffset, true);
  if (h.gdOffset < 0) dv.setBigUint64(C.H_GD_OFFSET, C.GD_AT_END, true);
  else setU64(dv, C.H_GD_OFFSET, h.gdOffset, true);
  setU64(dv, C.H_OVERHEAD, h.overHead, true);
  b[C.H_UNCLEAN_SHUTDOWN] = h.uncleanShutdown ? 1 : 0;
  b[C.H_SINGLE_END_LINE_CHAR] = 0x0a;
  b[C.H_NON_END_LINE_CHAR] = 0x20;
  b[C.H_DOUBLE_END_LINE_CHAR1] = 0x0d;
  b[C.H_DOUBLE_END_LINE_CHAR2] = 0x0a;
  dv.setUint16(C.H_COMPRESS_ALGORITHM, h.compressAlgorithm, true);
  return b;
}
