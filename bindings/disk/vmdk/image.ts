/**
 * A VMDK hosted sparse extent (monolithicSparse, streamOptimized) as a block device.
 * Guest offsets map through the grain directory (GD) and grain tables (GT) to grains;
 * compressed grains are zlib streams behind a grain marker. The GD is found in the header
 * or, for stream-optimized extents written with GD_AT_END, in the footer.
 * Uncompressed extents are writable: new grains go at the end of the file and both the
 * GT and the redundant GT are updated.
 */
import { unzlibSync } from 'fflate';
import type { ByteSource } from '../source.js';
import { readExact } from '../source.js';
import { view, ceilDiv, inflateBounded } from '../bytes.js';
import { ImageError, hex } from '../errors.js';
import {
  checkRange,
  type BlockStatus,
  type DiskImage,
  type ImageInfo,
  type MapEntry,
} from '../types.js';
import { readHeaderAt, type SparseHeader } from './header.js';
import { parseDescriptor, hasParent, type Descriptor } from './descriptor.js';
import * as C from './constants.js';

const GT_CACHE = 64;
/** An embedded descriptor is a few sectors (QEMU reserves 20); 2 MiB is far beyond any real one. */
const MAX_DESCRIPTOR_SECTORS = 4096;

export interface VmdkOpenOptions {
  readOnly?: boolean;
}

export type GrainKind = 'unallocated' | 'zero' | 'normal';

export class VmdkImage implements DiskImage {
  readonly format = 'vmdk' as const;
  /** The header in force (the footer's copy when the GD is at the end). */
  readonly header: SparseHeader;
  readonly descriptor?: Descriptor;
  readonly size: number;
  readonly readOnly: boolean;
  readonly grainBytes: number;
  readonly compressed: boolean;
  /** True when the grain directory came from a footer. */
  readonly hasFooter: boolean;
  /** Grain directory: sector of each grain table (0 = none). */
  readonly gd: Uint32Array;
  readonly rgd?: Uint32Array;
  private readonly gtBytes: number;
  private readonly gtCache = new Map<number, Uint32Array>();
  private lastGrain?: { sector: number; data: Uint8Array };

  constructor(private readonly src: ByteSource, opts: VmdkOpenOptions = {}) {
    let h = readHeaderAt(src, 0, 'vmdk header');
    this.hasFooter = false;
    if (h.gdOffset < 0) {
      h = this.readFooter(h);
      this.hasFooter = true;
    }
    this.header = h;
    this.size = h.capacity * C.SECTOR;
    this.grainBytes = h.grainSize * C.SECTOR;
    this.compressed = (h.flags & C.FLAG_COMPRESSED) !== 0;
    this.readOnly = !!opts.readOnly || !src.writable || this.compressed;
    this.gtBytes = h.numGTEsPerGT * 4;
    if (h.descriptorSize > MAX_DESCRIPTOR_SECTORS) {
      throw new ImageError(
        `vmdk: header field descriptorSize (offset ${hex(C.H_DESCRIPTOR_SIZE)}): ` +
          `${h.descriptorSize} sectors is larger than a ` +
          `descriptor can be (${MAX_DESCRIPTOR_SECTORS})`,
        'descriptorSize',
        C.H_DESCRIPTOR_SIZE,
      );
    }
    if (h.descriptorOffset > 0 && h.descriptorSize > 0) {
      const bytes = readExact(
        src,
        h.descriptorOffset * C.SECTOR,
        h.descriptorSize * C.SECTOR,
        'vmdk embedded descriptor',
      );
      const end = bytes.indexOf(0);
      const text = new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
      this.descriptor = parseDescriptor(text);
      if (hasParent(this.descriptor)) {
        throw new ImageError(
          'vmdk: the descriptor names a parent ' +
            `(parentCID=${this.descriptor.fields.get('parentCID')}): delta links are not supported`,
          'parentCID',
          h.descriptorOffset * C.SECTOR,
        );
      }
    }
    const gdEntries = ceilDiv(h.capacity, h.grainSize * h.numGTEsPerGT);
    this.gd = this.readDirectory(h.gdOffset, gdEntries, 'grain directory', 'gdOffset');
    if ((h.flags & C.FLAG_RGD) && h.rgdOffset > 0) {
      this.rgd = this.readDirectory(
        h.rgdOffset,
        gdEntries,
        'redundant grain directory',
        'rgdOffset',
      );
    }
  }

  /**
   * "The footer": with gdOffset = GD_AT_END the last three sectors of the file are a
   * footer marker, a copy of the header with the real gdOffset, and an end-of-stream marker.
   */
  private readFooter(h0: SparseHeader): SparseHeader {
    const size = this.src.size;
    if (!(h0.flags & C.FLAG_MARKERS) || size < 4 * C.SECTOR) {
      throw new ImageError(
        `vmdk: header field gdOffset (offset ${hex(C.H_GD_OFFSET)}) ` +
          'is GD_AT_END but the file has no footer',
        'gdOffset',
        C.H_GD_OFFSET,
      );
    }
    const tail = readExact(this.src, size - 3 * C.SECTOR, 3 * C.SECTOR, 'vmdk footer');
    const dv = view(tail);
    const markerAt = size - 3 * C.SECTOR;
    if (dv.getUint32(8, true) !== 0 || dv.getUint32(12, true) !== C.MARKER_FOOTER) {
      throw new ImageError(
        `vmdk: footer marker expected at offset ${hex(markerAt)} ` +
          `(gdOffset is GD_AT_END) but found type ${dv.getUint32(12, true)}`,
        'footer marker',
        markerAt,
      );
    }
    if (
      dv.getUint32(2 * C.SECTOR + 8, true) !== 0 ||
      dv.getUint32(2 * C.SECTOR + 12, true) !== C.MARKER_EOS
    ) {
      throw new ImageError(
        `vmdk: end-of-stream marker expected at offset ${hex(size - C.SECTOR)}`,
        'end-of-stream marker',
        size - C.SECTOR,
      );
    }
    const f = readHeaderAt(this.src, size - 2 * C.SECTOR, 'vmdk footer header');
    if (f.gdOffset < 0) {
      throw new ImageError(
        `vmdk: footer at offset ${hex(size - 2 * C.SECTOR)} also has gdOffset = GD_AT_END`,
        'gdOffset',
        size - 2 * C.SECTOR + C.H_GD_OFFSET,
      );
    }
    return f;
  }

  private readDirectory(sector: number, entries: number, what: string, field: string): Uint32Array {
    const at = sector * C.SECTOR;
    if (sector === 0 || at + entries * 4 > this.src.size) {
      throw new ImageError(
        `vmdk: header field ${field}: the ${what} at ${hex(at)} ` +
          `(${entries * 4} bytes) lies outside the file (${this.src.size} bytes)`,
        field,
        at,
      );
    }
    const raw = readExact(this.src, at, entries * 4, `vmdk ${what}`);
    const dv = view(raw);
    const out = new Uint32Array(entries);
    for (let i = 0; i < entries; i++) {
      const gt = dv.getUint32(i * 4, true);
      if (gt !== 0 && gt * C.SECTOR + this.gtBytes > this.src.size) {
        throw new ImageError(
          `vmdk: ${what} entry ${i} at offset ${hex(at + i * 4)}: grain table at ` +
            `${hex(gt * C.SECTOR)} lies outside the file (${this.src.size} bytes)`,
          `${what} entry`,
          at + i * 4,
        );
      }
      out[i] = gt;
    }
    return out;
  }

  private gt(gdi: number): Uint32Array {
    let t = this.gtCache.get(gdi);
    if (t) return t;
    const raw = readExact(this.src, this.gd[gdi] * C.SECTOR, this.gtBytes, 'vmdk grain table');
    const dv = view(raw);
    t = new Uint32Array(this.header.numGTEsPerGT);
    for (let i = 0; i < t.length; i++) t[i] = dv.getUint32(i * 4, true);
    this.gtCache.set(gdi, t);
    if (this.gtCache.size > GT_CACHE)
      this.gtCache.delete(this.gtCache.keys().next().value as number);
    return t;
  }

  /** The grain table entry for grain `gi` (0 when its GT does not exist). */
  gte(gi: number): number {
    const gdi = Math.floor(gi / this.header.numGTEsPerGT);
    if (this.gd[gdi] === 0) return 0;
    return this.gt(gdi)[gi % this.header.numGTEsPerGT];
  }

  grainKind(gte: number): GrainKind {
    if (gte === 0) return 'unallocated';
    if (gte === C.GTE_ZEROED && (this.header.flags & C.FLAG_ZERO_GRAIN)) return 'zero';
    return 'normal';
  }

  read(offset: number, dst: Uint8Array): void {
    checkRange(this, offset, dst.length);
    const gb = this.grainBytes;
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const gi = Math.floor(pos / gb);
      const inG = pos - gi * gb;
      const n = Math.min(gb - inG, dst.length - done);
      const out = dst.subarray(done, done + n);
      const gte = this.gte(gi);
      if (this.grainKind(gte) !== 'normal') out.fill(0);
      else if (this.compressed) out.set(this.inflateGrain(gi, gte).subarray(inG, inG + n));
      else {
        this.checkGrain(gi, gte);
        const got = this.src.read(gte * C.SECTOR + inG, out);
        if (got < n) out.fill(0, got);
      }
      done += n;
    }
  }

  private checkGrain(gi: number, gte: number): void {
    if (gte * C.SECTOR >= this.src.size) {
      throw new ImageError(
        `vmdk: grain table entry for grain ${gi}: grain at ` +
          `${hex(gte * C.SECTOR)} lies outside the file (${this.src.size} bytes)`,
        'grain table entry',
        gte * C.SECTOR,
      );
    }
  }

  /**
   * A compressed grain: with markers, a 12-byte grain marker (lba, size) precedes the
   * zlib stream. The inflated grain may not exceed the grain size (a decompression bomb
   * is refused, not inflated). With `checkLba`, the marker's lba must match the grain.
   */
  inflateGrain(gi: number, gte: number, checkLba = false): Uint8Array {
    if (this.lastGrain?.sector === gte && !checkLba) return this.lastGrain.data;
    this.checkGrain(gi, gte);
    const at = gte * C.SECTOR;
    const gb = this.grainBytes;
    let data: Uint8Array;
    if (this.header.flags & C.FLAG_MARKERS) {
      const m = view(readExact(this.src, at, C.GRAIN_MARKER_SIZE, 'vmdk grain marker'));
      const lba = m.getBigUint64(0, true);
      const size = m.getUint32(8, true);
      const want = BigInt(gi) * BigInt(this.header.grainSize);
      // QEMU reads a grain whatever its marker's lba says; `img check` reports a mismatch.
      if (checkLba && lba !== want) {
        throw new ImageError(
          `vmdk: grain marker at offset ${hex(at)}: lba ${lba} does not ` +
            `match the grain table (grain ${gi} starts at sector ${want})`,
          'grain marker lba',
          at,
        );
      }
      if (size === 0 || at + C.GRAIN_MARKER_SIZE + size > this.src.size) {
        throw new ImageError(
          `vmdk: grain marker at offset ${hex(at)}: compressed size ${size} ` +
            `${size === 0 ? 'is 0' : `runs past the end of the file (${this.src.size} bytes)`}`,
          'grain marker size',
          at + 8,
        );
      }
      data = readExact(this.src, at + C.GRAIN_MARKER_SIZE, size, 'vmdk compressed grain');
    } else {
      data = new Uint8Array(Math.min(gb, this.src.size - at));
      this.src.read(at, data);
    }
    const got = inflateBounded(data, gb, true, unzlibSync);
    if (typeof got === 'string') {
      throw new ImageError(
        `vmdk: compressed grain ${gi} at offset ${hex(at)}: ${got} ` +
          `(the grain size is ${gb} bytes)`,
        'grain',
        at,
      );
    }
    let out = got;
    if (out.length < gb) {
      const full = new Uint8Array(gb);
      full.set(out);
      out = full;
    }
    this.lastGrain = { sector: gte, data: out };
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    if (this.readOnly) {
      throw new ImageError(
        this.compressed
          ? 'vmdk: compressed (stream-optimized) ' +
            'extents are written only by conversion, not in place'
          : 'vmdk: the image is open read-only',
      );
    }
    const gb = this.grainBytes;
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const gi = Math.floor(pos / gb);
      const inG = pos - gi * gb;
      const n = Math.min(gb - inG, data.length - done);
      const piece = data.subarray(done, done + n);
      const gte = this.gte(gi);
      if (this.grainKind(gte) === 'normal') {
        this.checkGrain(gi, gte);
        if (gte < this.header.overHead) {
          throw new ImageError(
            `vmdk: grain table entry for grain ${gi} points at sector ${gte}, ` +
              `inside the metadata (overhead ${this.header.overHead} sectors): refusing to write`,
            'grain table entry',
            gte * C.SECTOR,
          );
        }
        this.src.write(gte * C.SECTOR + inG, piece);
      } else {
        const full = new Uint8Array(gb);
        full.set(piece, inG);
        const sector = ceilDiv(this.src.size, C.SECTOR);
        this.src.write(sector * C.SECTOR, full);
        this.setGte(gi, sector);
      }
      done += n;
    }
  }

  private setGte(gi: number, sector: number): void {
    const per = this.header.numGTEsPerGT;
    const gdi = Math.floor(gi / per);
    if (this.gd[gdi] === 0) this.newGrainTable(gdi);
    const e = new Uint8Array(4);
    view(e).setUint32(0, sector, true);
    this.gt(gdi)[gi % per] = sector;
    this.src.write(this.gd[gdi] * C.SECTOR + (gi % per) * 4, e);
    if (this.rgd && this.rgd[gdi] !== 0)
      this.src.write(this.rgd[gdi] * C.SECTOR + (gi % per) * 4, e);
  }

  /** A grain table that was never allocated: take one (and its redundant copy) at the end. */
  private newGrainTable(gdi: number): void {
    const sectors = ceilDiv(this.gtBytes, C.SECTOR);
    const put = (dir: Uint32Array, dirSector: number): void => {
      const s = ceilDiv(this.src.size, C.SECTOR);
      this.src.write(s * C.SECTOR, new Uint8Array(sectors * C.SECTOR));
      dir[gdi] = s;
      const e = new Uint8Array(4);
      view(e).setUint32(0, s, true);
      this.src.write(dirSector * C.SECTOR + gdi * 4, e);
    };
    put(this.gd, this.header.gdOffset);
    if (this.rgd) put(this.rgd, this.header.rgdOffset);
  }

  blockStatus(offset: number, length: number): BlockStatus {
    const end = Math.min(offset + length, this.size);
    const gb = this.grainBytes;
    const per = this.header.numGTEsPerGT;
    const classify = (pos: number): { data: boolean; next: number } => {
      const gi = Math.floor(pos / gb);
      const gdi = Math.floor(gi / per);
      if (this.gd[gdi] === 0) return { data: false, next: (gdi + 1) * per * gb };
      return { data: this.grainKind(this.gte(gi)) === 'normal', next: (gi + 1) * gb };
    };
    const first = classify(offset);
    let pos = first.next;
    while (pos < end) {
      const c = classify(pos);
      if (c.data !== first.data) break;
      pos = c.next;
    }
    return { length: Math.min(pos, end) - offset, data: first.data };
  }

  /** One `qemu-img map` run: grains of one kind; uncompressed grains contiguous in the file. */
  mapRange(offset: number, length: number): MapEntry {
    const end = Math.min(offset + length, this.size);
    const gb = this.grainBytes;
    const per = this.header.numGTEsPerGT;
    const at = (pos: number): { kind: GrainKind; gte: number; next: number } => {
      const gi = Math.floor(pos / gb);
      const gdi = Math.floor(gi / per);
      if (this.gd[gdi] === 0) return { kind: 'unallocated', gte: 0, next: (gdi + 1) * per * gb };
      const gte = this.gte(gi);
      return { kind: this.grainKind(gte), gte, next: (gi + 1) * gb };
    };
    const first = at(offset);
    const inG = offset % gb;
    const hosted = first.kind === 'normal' && !this.compressed;
    let pos = first.next;
    while (pos < end) {
      const c = at(pos);
      if (c.kind !== first.kind) break;
      if (
        hosted &&
        c.gte * C.SECTOR !== first.gte * C.SECTOR + (Math.floor(pos / gb) * gb - (offset - inG))
      )
        break;
      pos = c.next;
    }
    const base = { start: offset, length: Math.min(pos, end) - offset, depth: 0 };
    if (first.kind === 'unallocated') return { ...base, present: false, zero: true, data: false };
    if (first.kind === 'zero') return { ...base, present: true, zero: true, data: false };
    return {
      ...base,
      present: true,
      zero: false,
      data: true,
      ...(hosted ? { offset: first.gte * C.SECTOR + inG } : {}),
    };
  }

  get createType(): string | undefined {
    return this.descriptor?.fields.get('createType');
  }

  info(): ImageInfo {
    const d = this.descriptor;
    const cid = d?.fields.get('CID');
    const pcid = d?.fields.get('parentCID');
    return {
      format: 'vmdk',
      'virtual-size': this.size,
      'cluster-size': this.grainBytes,
      'format-specific': {
        type: 'vmdk',
        data: {
          cid: cid !== undefined ? parseInt(cid, 16) : undefined,
          'parent-cid': pcid !== undefined ? parseInt(pcid, 16) : undefined,
          'create-type': this.createType,
          extents: [{
            // qemu-img lists "compressed" only when it is true.
            compressed: this.compressed ? true : undefined,
            'virtual-size': this.size,
            filename: d?.extents[0]?.file,
            'cluster-size': this.grainBytes,
            // QEMU reports the type of flat extents here; sparse extents have none.
            format: '',
          }],
        },
      },
    };
  }

  flush(): void { this.src.flush(); }
  close(): void { this.src.close(); }
}
