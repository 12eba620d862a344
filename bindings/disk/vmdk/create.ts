/**
 * New VMDK extents. monolithicSparse is laid out as QEMU lays it out: header, embedded
 * descriptor, redundant GD and its GTs, GD and its GTs, all preallocated, then grains.
 * streamOptimized is written front to back by StreamOptimizedWriter (stream.ts).
 */
import type { ByteSource } from '../source.js';
import { view, ceilDiv } from '../bytes.js';
import { ImageError } from '../errors.js';
import { buildHeader, type SparseHeader } from './header.js';
import { buildDescriptor } from './descriptor.js';
import * as C from './constants.js';

export interface VmdkCreateOptions {
  /** The file name written into the descriptor's extent line. */
  extentName?: string;
  adapterType?: string;
  cid?: number;
  /**
   * false for an extent of a descriptor file (twoGbMaxExtentSparse): QEMU still reserves
   * the 20 descriptor sectors in the header but leaves them empty.
   */
  embedDescriptor?: boolean;
}

/** Descriptor space QEMU reserves: 20 sectors at sector 1. */
export const DESCRIPTOR_SECTORS = 20;

/**
 * Checks a new sparse extent's size (sectors, and a grain
 * directory within its limit); returns the capacity in sectors.
 */
export function checkVmdkSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new ImageError(`vmdk: invalid size ${size}`);
  const capacity = ceilDiv(size, C.SECTOR);
  const gtCount = ceilDiv(capacity, C.DEFAULT_GRAIN_SECTORS * C.GTES_PER_GT);
  if (gtCount * 4 > C.MAX_GD_BYTES)
    throw new ImageError(`vmdk: ${size} bytes is too large for a sparse extent`);
  return capacity;
}

export function descriptorBytes(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > DESCRIPTOR_SECTORS * C.SECTOR)
    throw new ImageError('vmdk: descriptor too long');
  const out = new Uint8Array(DESCRIPTOR_SECTORS * C.SECTOR);
  out.set(bytes);
  return out;
}

/** Writes an empty monolithicSparse extent of `size` bytes (rounded up to a sector). */
export function createMonolithicSparse(
  src: ByteSource,
  size: number,
  opts: VmdkCreateOptions = {},
): void {
  const capacity = checkVmdkSize(size);
  const grainSize = C.DEFAULT_GRAIN_SECTORS;
  const gtCount = ceilDiv(capacity, grainSize * C.GTES_PER_GT);
  if (gtCount * 4 > C.MAX_GD_BYTES)
    throw new ImageError(`vmdk: ${size} bytes is too large for a sparse extent`);
  const gdSectors = ceilDiv(gtCount * 4, C.SECTOR);
  const gtSectors = gtCount * ceilDiv(C.GTES_PER_GT * 4, C.SECTOR);
  const rgdOffset = 1 + DESCRIPTOR_SECTORS;
  const gdOffset = rgdOffset + gdSectors + gtSectors;
  const overHead = ceilDiv(gdOffset + gdSectors + gtSectors, grainSize) * grainSize;
  const h: SparseHeader = {
    version: 1,
    flags: C.FLAG_NL_DETECT | C.FLAG_RGD,
    capacity,
    grainSize,
    descriptorOffset: 1,
    descriptorSize: DESCRIPTOR_SECTORS,
    numGTEsPerGT: C.GTES_PER_GT,
    rgdOffset,
    gdOffset,
    overHead,
    uncleanShutdown: false,
    compressAlgorithm: C.COMPRESSION_NONE,
  };
  src.truncate(0);
  src.write(0, buildHeader(h));
  src.write(
    C.SECTOR,
    opts.embedDescriptor === false
      ? new Uint8Array(DESCRIPTOR_SECTORS * C.SECTOR)
      : descriptorBytes(
          buildDescriptor({
            createType: 'monolithicSparse',
            sectors: capacity,
            extentName: opts.extentName ?? 'disk.vmdk',
            cid: opts.cid,
            adapterType: opts.adapterType,
          }),
        ),
  );
  writeDirectory(src, rgdOffset, gdSectors, gtCount);
  writeDirectory(src, gdOffset, gdSectors, gtCount);
  src.truncate(overHead * C.SECTOR);
  src.flush();
}

/** A GD whose entries point at consecutive, zeroed GTs right after it (written in chunks). */
function writeDirectory(
  src: ByteSource,
  dirSector: number,
  gdSectors: number,
  gtCount: number,
): void {
  const gtSectors = ceilDiv(C.GTES_PER_GT * 4, C.SECTOR);
  const chunkEntries = 4096;
  for (let i = 0; i < gtCount; i += chunkEntries) {
    const n = Math.min(chunkEntries, gtCount - i);
    const b = new Uint8Array(n * 4);
    const dv = view(b);
    for (let j = 0; j < n; j++)
      dv.setUint32(j * 4, dirSector + gdSectors + (i + j) * gtSectors, true);
    src.write(dirSector * C.SECTOR + i * 4, b);
  }
  const zeros = new Uint8Array(1 << 20);
  const start = (dirSector + gdSectors) * C.SECTOR;
  const bytes = gtCount * gtSectors * C.SECTOR;
  for (let done = 0; done < bytes; done += zeros.length) {
    src.write(start + done, zeros.subarray(0, Math.min(zeros.length, bytes - done)));
  }
}
