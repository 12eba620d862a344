/**
 * Read-only images whose data sits in fixed-size blocks found through one table (VHD's
 * Block Allocation Table, VDI's block map): the shared read, block-status and map walk.
 * A format supplies the block size and where block `i` lives in the file.
 */
import type { ByteSource } from './source.js';
import {
  checkRange,
  type BlockStatus,
  type DiskImage,
  type ImageFormat,
  type ImageInfo,
  type MapEntry,
} from './types.js';
import { ImageError } from './errors.js';

/** Where a block lives: a byte offset in the file, or nothing stored (reads as zeros). */
export const UNALLOCATED = -1;

export abstract class BlockTableImage implements DiskImage {
  abstract readonly format: ImageFormat;
  readonly readOnly = true;

  protected constructor(
    protected readonly src: ByteSource,
    readonly size: number,
    /** Bytes per block (a power of two). */
    readonly blockSize: number,
  ) {}

  /** File offset of block `i`'s first data byte, or UNALLOCATED. */
  protected abstract blockOffset(i: number): number;

  read(offset: number, dst: Uint8Array): void {
    checkRange(this, offset, dst.length);
    for (let done = 0; done < dst.length;) {
      const pos = offset + done;
      const i = Math.floor(pos / this.blockSize);
      const inBlock = pos - i * this.blockSize;
      const n = Math.min(this.blockSize - inBlock, dst.length - done);
      const piece = dst.subarray(done, done + n);
      const at = this.blockOffset(i);
      if (at === UNALLOCATED) piece.fill(0);
      else {
        const got = this.src.read(at + inBlock, piece);
        // The open checks keep every block inside the file; a file that shrank since is
        // reported, not read as zeros.
        if (got < n) {
          throw new ImageError(
            `${this.format}: block ${i} at offset 0x${(at + inBlock).toString(16)} ` +
              `runs past the end of the file (${this.src.size} bytes)`,
            'block',
            at + inBlock,
          );
        }
      }
      done += n;
    }
  }

  write(): void {
    throw new ImageError(`${this.format}: images of this format are read-only here`);
  }

  blockStatus(offset: number, length: number): BlockStatus {
    const e = this.mapRange(offset, length);
    return { length: e.length, data: e.data };
  }

  /** A run of blocks that are all unallocated, or allocated and contiguous in the file. */
  mapRange(offset: number, length: number): MapEntry {
    const end = Math.min(offset + length, this.size);
    const i0 = Math.floor(offset / this.blockSize);
    const first = this.blockOffset(i0);
    const data = first !== UNALLOCATED;
    const start = first + (offset - i0 * this.blockSize);
    let pos = (i0 + 1) * this.blockSize;
    for (let k = 1; pos < end; k++) {
      const at = this.blockOffset(i0 + k);
      if (data ? at !== first + k * this.blockSize : at !== UNALLOCATED) break;
      pos += this.blockSize;
    }
    const len = Math.min(pos, end) - offset;
    return data
      ? { start: offset, length: len, depth: 0, present: true, zero: false, data: true,
          offset: start }
      // No backing file: qemu counts a block that reads as zeros as present in this image.
      : { start: offset, length: len, depth: 0, present: true, zero: true, data: false };
  }

  info(): ImageInfo {
    return { format: this.format, 'virtual-size': this.size, 'cluster-size': this.blockSize };
  }

  flush(): void {}
  close(): void { this.src.close(); }
}
