/**
 * A raw image: the disk's bytes as they are. A file shorter than the disk (a sparse file
 * created by truncation) reads as zeros past its end.
 */
import type { ByteSource } from './source.js';
import {
  checkRange,
  type BlockStatus,
  type DiskImage,
  type ImageInfo,
  type MapEntry,
} from './types.js';
import { ImageError } from './errors.js';

export class RawImage implements DiskImage {
  readonly format = 'raw' as const;
  readonly size: number;

  constructor(private readonly src: ByteSource, size?: number) {
    this.size = size ?? src.size;
  }

  get readOnly(): boolean { return !this.src.writable; }

  read(offset: number, dst: Uint8Array): void {
    checkRange(this, offset, dst.length);
    const n = this.src.read(offset, dst);
    if (n < dst.length) dst.fill(0, n);
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new ImageError('raw: the image is open read-only');
    checkRange(this, offset, src.length);
    this.src.write(offset, src);
  }

  /**
   * Past the end of a short file there is nothing;
   * before it, data unless the source knows its holes.
   */
  blockStatus(offset: number, length: number): BlockStatus {
    const end = Math.min(offset + length, this.size);
    if (offset >= this.src.size) return { length: end - offset, data: false };
    if (this.src.holeStatus)
      return this.src.holeStatus(offset, Math.min(end, this.src.size) - offset);
    return { length: Math.min(end, this.src.size) - offset, data: true };
  }

  mapRange(offset: number, length: number): MapEntry {
    const st = this.blockStatus(offset, length);
    return st.data
      ? {
          start: offset,
          length: st.length,
          depth: 0,
          present: true,
          zero: false,
          data: true,
          offset,
        }
      : { start: offset, length: st.length, depth: 0, present: false, zero: true, data: false };
  }

  info(): ImageInfo {
    return { format: 'raw', 'virtual-size': this.size };
  }

  flush(): void { this.src.flush(); }
  close(): void { this.src.close(); }
}

/** Creates an empty raw image of `size` bytes (a sparse file where the source allows). */
export function createRaw(src: ByteSource, size: number): RawImage {
  src.truncate(size);
  return new RawImage(src, size);
}
