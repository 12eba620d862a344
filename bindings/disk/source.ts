/**
 * A byte source: the file underneath an image, abstracted so the format code runs the
 * same over a Node file (see node-file.ts) and over a buffer in a web page.
 */
import { ImageError, hex } from './errors.js';

export interface ByteSource {
  /** Current length in bytes. */
  readonly size: number;
  readonly writable: boolean;
  /** Copies bytes from `offset` into `dst`; returns how many there were (short at the end). */
  read(offset: number, dst: Uint8Array): number;
  /** Writes `src` at `offset`, growing the source when it ends past its size. */
  write(offset: number, src: Uint8Array): void;
  /** Sets the length (a grown source reads as zeros). */
  truncate(size: number): void;
  /**
   * Optional: whether the run from `offset` (at most `length` bytes) is stored or a hole
   * that reads as zeros. Sources that know their holes let raw images skip them.
   */
  holeStatus?(offset: number, length: number): { length: number; data: boolean };
  flush(): void;
  close(): void;
}

/**
 * Reads exactly `length` bytes or throws: the error names the structure that was cut
 * short, which is how a truncated image is reported.
 */
export function readExact(
  src: ByteSource,
  offset: number,
  length: number,
  what: string,
): Uint8Array {
  const truncated = () =>
    new ImageError(
      `${what} at offset ${hex(offset)} (${length} bytes) ` +
        `runs past the end of the file (${src.size} bytes): the image is truncated`,
      what,
      offset,
    );
  // Checked before allocating, so a lying length cannot make the host allocate gigabytes.
  if (offset + length > src.size) throw truncated();
  const dst = new Uint8Array(length);
  if (src.read(offset, dst) < length) throw truncated();
  return dst;
}

/** An in-memory source that grows as it is written (for browsers and tests). */
export class MemorySource implements ByteSource {
  private buf: Uint8Array;
  private len: number;
  readonly writable: boolean;

  constructor(initial: Uint8Array = new Uint8Array(0), writable = true) {
    this.buf = initial;
    this.len = initial.length;
    this.writable = writable;
  }

  get size(): number { return this.len; }

  /** The current contents (a view, not a copy). */
  bytes(): Uint8Array { return this.buf.subarray(0, this.len); }

  read(offset: number, dst: Uint8Array): number {
    if (offset >= this.len) return 0;
    const n = Math.min(dst.length, this.len - offset);
    dst.set(this.buf.subarray(offset, offset + n));
    return n;
  }

  write(offset: number, src: Uint8Array): void {
    if (!this.writable) throw new ImageError('the image is open read-only');
    const end = offset + src.length;
    if (end > this.buf.length) this.grow(end);
    this.buf.set(src, offset);
    if (end > this.len) this.len = end;
  }

  truncate(size: number): void {
    if (size > this.buf.length) this.grow(size);
    if (size < this.len) this.buf.fill(0, size, this.len);
    this.len = size;
  }

  flush(): void {}
  close(): void {}

  private grow(min: number): void {
    const next = new Uint8Array(
      Math.max(min, Math.min(this.buf.length * 2, this.buf.length + (256 << 20))),
    );
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/**
 * An in-memory source stored in 1 MiB chunks, allocated only where something non-zero
 * was written: a 64 GiB raw disk with a few megabytes of data costs a few megabytes.
 * For pages that build or convert large sparse images without a file system.
 */
export class SparseMemorySource implements ByteSource {
  static readonly CHUNK = 1 << 20;
  private readonly chunks = new Map<number, Uint8Array>();
  private len: number;
  readonly writable = true;

  constructor(size = 0) {
    this.len = size;
  }

  get size(): number { return this.len; }

  /** Bytes held in memory. */
  get allocatedBytes(): number { return this.chunks.size * SparseMemorySource.CHUNK; }

  read(offset: number, dst: Uint8Array): number {
    const n = Math.max(0, Math.min(dst.length, this.len - offset));
    const C = SparseMemorySource.CHUNK;
    for (let done = 0; done < n;) {
      const pos = offset + done;
      const ci = Math.floor(pos / C), inC = pos - ci * C;
      const k = Math.min(C - inC, n - done);
      const c = this.chunks.get(ci);
      if (c) dst.set(c.subarray(inC, inC + k), done);
      else dst.fill(0, done, done + k);
      done += k;
    }
    return n;
  }

  write(offset: number, src: Uint8Array): void {
    const C = SparseMemorySource.CHUNK;
    for (let done = 0; done < src.length;) {
      const pos = offset + done;
      const ci = Math.floor(pos / C), inC = pos - ci * C;
      const k = Math.min(C - inC, src.length - done);
      const piece = src.subarray(done, done + k);
      let c = this.chunks.get(ci);
      if (!c && piece.some((b) => b !== 0)) this.chunks.set(ci, (c = new Uint8Array(C)));
      c?.set(piece, inC);
      done += k;
    }
    if (offset + src.length > this.len) this.len = offset + src.length;
  }

  holeStatus(offset: number, length: number): { length: number; data: boolean } {
    const C = SparseMemorySource.CHUNK;
    const end = Math.min(offset + length, this.len);
    const data = this.chunks.has(Math.floor(offset / C));
    let pos = (Math.floor(offset / C) + 1) * C;
    while (pos < end && this.chunks.has(Math.floor(pos / C)) === data) pos += C;
    return { length: Math.min(pos, end) - offset, data };
  }

  truncate(size: number): void {
    const C = SparseMemorySource.CHUNK;
    for (const [ci, c] of this.chunks) {
      if (ci * C >= size) this.chunks.delete(ci);
      else if ((ci + 1) * C > size) c.fill(0, size - ci * C);
    }
    this.len = size;
  }

  flush(): void {}
  close(): void {}
}
