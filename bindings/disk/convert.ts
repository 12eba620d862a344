/**
 * Image conversion that streams: it walks the source's block status, reads only the
 * parts that hold data, one unit (a cluster or grain of the target) at a time, skips units
 * that are all zeros, and writes the rest. Memory is one unit plus the formats' bounded
 * table caches, whatever the virtual size.
 */
import type { ByteSource } from './source.js';
import type { DiskImage, ImageFormat } from './types.js';
import { isZero } from './bytes.js';
import { ImageError } from './errors.js';
import { createRaw } from './raw.js';
import { createQcow2, qcow2Layout, type Qcow2CreateOptions } from './qcow2/create.js';
import { Qcow2Image } from './qcow2/image.js';
import { checkVmdkSize, createMonolithicSparse, type VmdkCreateOptions } from './vmdk/create.js';
import { VmdkImage } from './vmdk/image.js';
import { StreamOptimizedWriter } from './vmdk/stream.js';
import {
  createVmdkExtents,
  VmdkExtentsImage,
  EXTENT_SUBFORMATS,
  type ExtentSubformat,
} from './vmdk/extents.js';

export type VmdkSubformat = 'monolithicSparse' | 'streamOptimized' | ExtentSubformat;
export const VMDK_SUBFORMATS: readonly string[] = [
  'monolithicSparse',
  'streamOptimized',
  ...EXTENT_SUBFORMATS,
];

export interface TargetSpec {
  format: ImageFormat;
  qcow2?: Qcow2CreateOptions;
  /**
   * For the subformats with separate extents (monolithicFlat, twoGbMaxExtent*), `dst` gets
   * the descriptor, `extentName` is its file name and `extentFile` creates each extent file
   * next to it.
   */
  vmdk?: VmdkCreateOptions & {
    subformat?: VmdkSubformat;
    extentFile?: (file: string) => ByteSource;
  };
  /**
   * `qemu-img convert -c`: qcow2 clusters are written compressed; VMDK takes it as QEMU
   * does (stream-optimized grains are always compressed, sparse extents never are); a
   * raw image cannot hold compressed data.
   */
  compress?: boolean;
}

export interface ConvertStats {
  /** Bytes read from the source (only the parts holding data). */
  bytesRead: number;
  /** Bytes of non-zero data written to the target. */
  bytesWritten: number;
  /** With `compress`: clusters written compressed (the others did not get smaller). */
  compressedClusters?: number;
}

/**
 * Checks that an image of `size` bytes can be made with these options, writing nothing
 * (createImage makes the same checks; this lets a command refuse before it prints).
 */
export function checkTarget(size: number, t: TargetSpec): void {
  if (t.format !== 'raw') size = Math.ceil(size / 512) * 512;
  switch (t.format) {
    case 'raw':
      if (!Number.isSafeInteger(size) || size < 0)
        throw new ImageError(`raw: invalid size ${size}`);
      return;
    case 'qcow2': qcow2Layout(size, t.qcow2); return;
    case 'vmdk': checkVmdkSize(size); return;
    default: throw new ImageError(`unknown image format "${t.format as string}"`);
  }
}

/** Writes the descriptor and extents of a separate-extent VMDK; returns the extents by name. */
function createSplitVmdk(dst: ByteSource, size: number, t: TargetSpec): Map<string, ByteSource> {
  const v = t.vmdk!;
  if (!v.extentFile)
    throw new ImageError(
      `vmdk: subformat ${v.subformat} writes extent files ` +
        'of its own, and no way to create them was given',
    );
  return createVmdkExtents(dst, size, {
    subformat: v.subformat as ExtentSubformat,
    name: v.extentName ?? 'disk.vmdk',
    create: v.extentFile,
    adapterType: v.adapterType,
    cid: v.cid,
  });
}

/** Creates an empty image of `size` bytes in `dst`, in the target's format. */
export function createImage(dst: ByteSource, size: number, t: TargetSpec): void {
  // qemu-img rounds qcow2 and VMDK sizes up to whole 512-byte sectors.
  if (t.format !== 'raw') size = Math.ceil(size / 512) * 512;
  switch (t.format) {
    case 'raw': createRaw(dst, size); return;
    case 'qcow2': createQcow2(dst, size, t.qcow2); return;
    case 'vmdk':
      if ((t.vmdk?.subformat ?? 'monolithicSparse') === 'streamOptimized')
        new StreamOptimizedWriter(dst, size, t.vmdk).finish();
      else if (EXTENT_SUBFORMATS.includes(t.vmdk?.subformat ?? '')) createSplitVmdk(dst, size, t);
      else createMonolithicSparse(dst, size, t.vmdk);
      return;
    default: throw new ImageError(`unknown image format "${t.format as string}"`);
  }
}

/**
 * Copies `src` into a new image in `dst`. `progress` is told how far the walk over the
 * source has got (bytes of its virtual size, done and total), for a progress meter.
 */
export function convertImage(
  src: DiskImage, dst: ByteSource, t: TargetSpec, progress?: (done: number, total: number) => void,
): ConvertStats {
  const size = src.size;
  const stats: ConvertStats = { bytesRead: 0, bytesWritten: 0 };
  // qemu-img's words (img_convert, block_driver_can_compress).
  if (t.compress && t.format === 'raw')
    throw new ImageError('Compression not supported for this file format');
  const sub = t.vmdk?.subformat ?? 'monolithicSparse';
  if (t.format === 'vmdk' && !VMDK_SUBFORMATS.includes(sub)) {
    throw new ImageError(
      `vmdk: subformat "${sub as string}" is not supported (use ${VMDK_SUBFORMATS.join(', ')})`,
    );
  }
  if (t.format === 'vmdk' && sub === 'streamOptimized') {
    const w = new StreamOptimizedWriter(dst, size, t.vmdk);
    try {
      eachDataUnit(src, w.grainBytes, stats, progress, (u, buf) => {
        if (buf.length < w.grainBytes) {
          const full = new Uint8Array(w.grainBytes);
          full.set(buf);
          buf = full;
        }
        w.writeGrain(u, buf);
      });
      w.finish();
    } finally {
      w.close();
    }
    return stats;
  }
  if (t.format === 'vmdk' && EXTENT_SUBFORMATS.includes(sub)) {
    const files = createSplitVmdk(dst, Math.ceil(size / 512) * 512, t);
    const out = new VmdkExtentsImage(dst, {
      resolve: (f) => files.get(f)!,
      name: t.vmdk?.extentName,
    });
    eachDataUnit(src, 1 << 16, stats, progress, (u, buf) => out.write(u * (1 << 16), buf));
    out.flush();
    return stats;
  }
  createImage(dst, size, t);
  let out: DiskImage;
  let unit: number;
  if (t.format === 'qcow2' && t.compress) {
    const q = new Qcow2Image(dst);
    stats.compressedClusters = 0;
    eachDataUnit(src, q.clusterSize, stats, progress, (u, buf) => {
      if (q.writeCompressed(u, buf)) stats.compressedClusters!++;
    });
    q.endCompressed();
    q.flush();
    return stats;
  }
  if (t.format === 'qcow2') {
    const q = new Qcow2Image(dst);
    out = q;
    unit = q.clusterSize;
  } else if (t.format === 'vmdk') {
    const v = new VmdkImage(dst);
    out = v;
    unit = v.grainBytes;
  } else {
    out = {
      write: (o: number, b: Uint8Array) => dst.write(o, b),
      flush: () => dst.flush(),
      close: () => dst.close(),
    } as DiskImage;
    unit = 1 << 16;
  }
  eachDataUnit(src, unit, stats, progress, (u, buf) => out.write(u * unit, buf));
  out.flush();
  return stats;
}

/** Calls `emit` for each unit-aligned piece of the source that holds non-zero data, in order. */
function eachDataUnit(
  src: DiskImage,
  unit: number,
  stats: ConvertStats,
  progress: ((done: number, total: number) => void) | undefined,
  emit: (u: number, buf: Uint8Array) => void,
): void {
  const size = src.size;
  const buf = new Uint8Array(unit);
  let last = -1;
  let reported = 0;
  const report =
    progress &&
    ((done: number) => {
      if (done !== reported) progress((reported = done), size);
    });
  progress?.(0, size);
  for (let pos = 0; pos < size;) {
    const st = src.blockStatus(pos, size - pos);
    if (st.length <= 0) throw new ImageError(`block status at ${pos} returned an empty run`);
    if (st.data) {
      const end = pos + st.length;
      for (let u = Math.floor(pos / unit); u * unit < end; u++) {
        if (u <= last) continue;
        last = u;
        const b = buf.subarray(0, Math.min(unit, size - u * unit));
        src.read(u * unit, b);
        stats.bytesRead += b.length;
        report?.(Math.min(end, u * unit + b.length));
        if (isZero(b)) continue;
        stats.bytesWritten += b.length;
        emit(u, b);
      }
    }
    pos += st.length;
    report?.(pos);
  }
}
