/**
 * Writes a streamOptimized extent front to back, as VMware and VirtualBox do (VMDK 5.0,
 * "Stream-Optimized Compressed Sparse Extents"): the header with gdOffset = GD_AT_END,
 * the descriptor, compressed grains each behind a grain marker, each grain table behind a
 * GT marker once its grains are written, then the GD marker and GD, the footer marker and
 * footer (the header again, with the real gdOffset) and the end-of-stream marker.
 * Memory use is one grain table and the GD, whatever the disk's size.
 */
import { codec, type DeflatePool } from '../codec.js';
import type { ByteSource } from '../source.js';
import { view, setU64, ceilDiv } from '../bytes.js';
import { ImageError } from '../errors.js';
import { buildHeader, type SparseHeader } from './header.js';
import { buildDescriptor } from './descriptor.js';
import {
  checkVmdkSize,
  descriptorBytes,
  DESCRIPTOR_SECTORS,
  type VmdkCreateOptions,
} from './create.js';
import * as C from './constants.js';

export class StreamOptimizedWriter {
  readonly grainBytes: number;
  private readonly header: SparseHeader;
  private readonly gd: Uint32Array;
  private gt = new Uint32Array(C.GTES_PER_GT);
  private gtIndex = -1;
  private lastGrain = -1;
  /** Next free sector. */
  private sector: number;
  private finished = false;

  constructor(
    private readonly src: ByteSource,
    size: number,
    opts: VmdkCreateOptions & { level?: number } = {},
  ) {
    const capacity = checkVmdkSize(size);
    const grainSize = C.DEFAULT_GRAIN_SECTORS;
    this.grainBytes = grainSize * C.SECTOR;
    const gdEntries = ceilDiv(capacity, grainSize * C.GTES_PER_GT);
    if (gdEntries * 4 > C.MAX_GD_BYTES)
      throw new ImageError(`vmdk: ${size} bytes is too large for a sparse extent`);
    this.gd = new Uint32Array(gdEntries);
    this.header = {
      version: 3,
      flags: C.FLAG_NL_DETECT | C.FLAG_COMPRESSED | C.FLAG_MARKERS,
      capacity,
      grainSize,
      descriptorOffset: 1,
      descriptorSize: DESCRIPTOR_SECTORS,
      numGTEsPerGT: C.GTES_PER_GT,
      rgdOffset: 0,
      gdOffset: -1,
      overHead: grainSize,
      uncleanShutdown: false,
      compressAlgorithm: C.COMPRESSION_DEFLATE,
    };
    this.level = opts.level ?? 6;
    src.truncate(0);
    src.write(0, buildHeader(this.header));
    src.write(
      C.SECTOR,
      descriptorBytes(
        buildDescriptor({
          createType: 'streamOptimized',
          sectors: capacity,
          extentName: opts.extentName ?? 'disk.vmdk',
          cid: opts.cid,
          adapterType: opts.adapterType,
        }),
      ),
    );
    this.sector = this.header.overHead;
  }

  private readonly level: number;
  private recBuf = new Uint8Array(0);
  /** The codec's pool of compressors: undefined until the first grain, null for none. */
  private pool: DeflatePool | null | undefined;
  private readonly slotGrain: number[] = [];
  private nextSlot = 0;
  private inFlight = 0;

  /** Appends grain `gi` (grains must come in increasing order; all-zero grains may be skipped). */
  writeGrain(gi: number, data: Uint8Array): void {
    if (this.finished) throw new ImageError('vmdk: stream already finished');
    if (gi <= this.lastGrain)
      throw new ImageError(
        'vmdk: stream-optimized grains must be written ' +
          `in order (grain ${gi} after ${this.lastGrain})`,
      );
    if (gi * this.grainBytes >= this.header.capacity * C.SECTOR)
      throw new ImageError(`vmdk: grain ${gi} is past the end of the disk`);
    if (data.length !== this.grainBytes)
      throw new ImageError(`vmdk: a grain is ${this.grainBytes} bytes, not ${data.length}`);
    this.lastGrain = gi;
    const level = this.level > 0 && incompressible(data) ? 0 : this.level;
    if (this.pool === undefined) this.pool = codec.deflatePool?.(this.grainBytes) ?? null;
    const pool = this.pool;
    if (!pool) {
      this.record(gi, codec.zlibDeflate(data, level));
      return;
    }
    // In flight: the grains of the slots from `next - inFlight` to `next`, oldest first.
    if (this.inFlight === pool.slots) this.takeOldest(pool);
    pool.submit(this.nextSlot, data, level);
    this.slotGrain[this.nextSlot] = gi;
    this.nextSlot = (this.nextSlot + 1) % pool.slots;
    this.inFlight++;
  }

  /** Writes the record of the oldest grain in the pool. */
  private takeOldest(pool: DeflatePool): void {
    const slot = (this.nextSlot - this.inFlight + pool.slots) % pool.slots;
    this.record(this.slotGrain[slot], pool.take(slot));
    this.inFlight--;
  }

  /** The grain marker and compressed grain `gi`, at the next sector (in grain order). */
  private record(gi: number, z: Uint8Array): void {
    const gdi = Math.floor(gi / C.GTES_PER_GT);
    if (gdi !== this.gtIndex) {
      this.flushTable();
      this.gtIndex = gdi;
    }
    // One record buffer for every grain (a new one per grain is garbage the process
    // holds until a late collection).
    const recBytes = ceilDiv(C.GRAIN_MARKER_SIZE + z.length, C.SECTOR) * C.SECTOR;
    if (this.recBuf.length < recBytes) this.recBuf = new Uint8Array(recBytes + (recBytes >> 3));
    const rec = this.recBuf.subarray(0, recBytes);
    rec.fill(0);
    const dv = view(rec);
    setU64(dv, 0, gi * this.header.grainSize, true);
    dv.setUint32(8, z.length, true);
    rec.set(z, C.GRAIN_MARKER_SIZE);
    this.gt[gi % C.GTES_PER_GT] = this.sector;
    this.put(rec);
  }

  /** Stops the compression workers, if any (finish does it; for a writer given up on). */
  close(): void {
    if (this.pool) this.pool.close();
    this.pool = null;
    this.inFlight = 0;
  }

  /** Writes the last grain table, the GD, the footer and the end-of-stream marker. */
  finish(): void {
    if (this.finished) return;
    if (this.pool) {
      try {
        while (this.inFlight > 0) this.takeOldest(this.pool);
      } finally {
        this.close();
      }
    }
    this.flushTable();
    const gdBytes = ceilDiv(this.gd.length * 4, C.SECTOR) * C.SECTOR;
    this.put(marker(gdBytes / C.SECTOR, C.MARKER_GD));
    const gdSector = this.sector;
    const gd = new Uint8Array(gdBytes);
    const dv = view(gd);
    this.gd.forEach((s, i) => dv.setUint32(i * 4, s, true));
    this.put(gd);
    this.put(marker(1, C.MARKER_FOOTER));
    this.put(buildHeader({ ...this.header, gdOffset: gdSector }));
    this.put(marker(0, C.MARKER_EOS));
    this.src.flush();
    this.finished = true;
  }

  private flushTable(): void {
    if (this.gtIndex < 0) return;
    const bytes = C.GTES_PER_GT * 4;
    this.put(marker(bytes / C.SECTOR, C.MARKER_GT));
    this.gd[this.gtIndex] = this.sector;
    const t = new Uint8Array(bytes);
    const dv = view(t);
    this.gt.forEach((s, i) => dv.setUint32(i * 4, s, true));
    this.put(t);
    this.gt.fill(0);
    this.gtIndex = -1;
  }

  private put(b: Uint8Array): void {
    this.src.write(this.sector * C.SECTOR, b);
    this.sector += b.length / C.SECTOR;
  }
}

/** Bytes of a grain deflated to judge whether the rest is worth deflating. */
export const PROBE_BYTES = 4096;
/** A probe that does not shrink below this share of its size means "incompressible". */
export const PROBE_RATIO = 0.97;

/**
 * Whether a grain is not worth deflating: its first PROBE_BYTES deflated at level 1 stay
 * above PROBE_RATIO of their size (random or already-compressed data). Such a grain is
 * written as a zlib stream of stored blocks (level 0, RFC 1951 3.2.4 "non-compressed
 * blocks"), which every zlib reader inflates as it inflates any other: deflate at level 6
 * would spend its time searching for matches and end up storing the bytes all the same
 * (zlib falls back to stored blocks when they are smaller), so the stream is a few bytes
 * shorter, not longer, for a twentieth of the CPU time. qemu-img deflates every grain at
 * zlib's default level; its VMDK and ours differ in those bytes, not in what they hold.
 */
export function incompressible(data: Uint8Array): boolean {
  if (data.length < PROBE_BYTES * 2) return false;
  return codec.zlibDeflate(data.subarray(0, PROBE_BYTES), 1).length > PROBE_BYTES * PROBE_RATIO;
}

/** A metadata marker sector: val (sectors of metadata that follow), size 0, type. */
function marker(val: number, type: number): Uint8Array {
  const m = new Uint8Array(C.SECTOR);
  const dv = view(m);
  setU64(dv, 0, val, true);
  dv.setUint32(12, type, true);
  return m;
}
