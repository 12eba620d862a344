/**
 * A ByteSource over a file, for Node only (the browser build never imports this module).
 */
import {
  openSync,
  readSync,
  writeSync,
  fstatSync,
  ftruncateSync,
  fsyncSync,
  closeSync,
} from 'node:fs';
import type { ByteSource } from './source.js';
import { ImageError } from './errors.js';

/**
 * The reason in a Node file-system error without the path and call Node appends
 * ("ENOENT: no such file or directory, open '/x'" gives "no such file or directory"), so a
 * message can name the file the user gave rather than the one the code opened.
 */
export function fsReason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return /^E[A-Z]+: (.*?), \w+ '/.exec(m)?.[1] ?? m;
}

export class FileSource implements ByteSource {
  private fd: number;
  private len: number;
  readonly writable: boolean;

  constructor(readonly path: string, mode: 'r' | 'r+' | 'w' = 'r') {
    try {
      this.fd = openSync(path, mode === 'w' ? 'w+' : mode);
    } catch (e) {
      throw new ImageError(`cannot open ${path}: ${fsReason(e)}`);
    }
    const st = fstatSync(this.fd);
    // Opening a folder for reading succeeds on POSIX; the first read would fail with EISDIR.
    if (st.isDirectory()) {
      closeSync(this.fd);
      throw new ImageError(`${path}: is a directory`);
    }
    this.writable = mode !== 'r';
    this.len = st.size;
  }

  get size(): number { return this.len; }

  /** Bytes the file really occupies on disk (st_blocks), as `img info` reports. */
  allocatedBytes(): number {
    return fstatSync(this.fd).blocks * 512;
  }

  read(offset: number, dst: Uint8Array): number {
    let done = 0;
    while (done < dst.length && offset + done < this.len) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(offset: number, src: Uint8Array): void {
    if (!this.writable) throw new ImageError(`${this.path} is open read-only`);
    let done = 0;
    while (done < src.length)
      done += writeSync(this.fd, src, done, src.length - done, offset + done);
    if (offset + src.length > this.len) this.len = offset + src.length;
  }

  truncate(size: number): void {
    ftruncateSync(this.fd, size);
    this.len = size;
  }

  flush(): void {
    if (this.writable) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
