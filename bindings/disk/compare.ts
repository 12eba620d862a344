/**
 * Compares the contents two images present to a guest, as `qemu-img compare` does:
 * ranges that hold no data in either image are skipped without reading; a larger image
 * is equal only if its extra part reads as zeros (unless strict). A mismatch is reported
 * at the start of the first differing 512-byte sector, as QEMU reports it.
 */
import type { DiskImage } from './types.js';
import { isZero } from './bytes.js';

export interface CompareResult {
  identical: boolean;
  sizeMismatch: boolean;
  /** Sector-aligned offset of the first difference. */
  mismatchAt?: number;
}

const CHUNK = 1 << 20;

export function compareImages(
  a: DiskImage,
  b: DiskImage,
  opts: { strict?: boolean } = {},
): CompareResult {
  const sizeMismatch = a.size !== b.size;
  if (sizeMismatch && opts.strict) return { identical: false, sizeMismatch };
  const common = Math.min(a.size, b.size);
  const ba = new Uint8Array(CHUNK),
    bb = new Uint8Array(CHUNK);
  for (let pos = 0; pos < common;) {
    const sa = a.blockStatus(pos, common - pos),
      sb = b.blockStatus(pos, common - pos);
    const n = Math.min(sa.length, sb.length);
    if (sa.data || sb.data) {
      for (let done = 0; done < n;) {
        const len = Math.min(CHUNK, n - done);
        const x = ba.subarray(0, len),
          y = bb.subarray(0, len);
        a.read(pos + done, x);
        b.read(pos + done, y);
        for (let i = 0; i < len; i++) {
          if (x[i] !== y[i])
            return { identical: false, sizeMismatch, mismatchAt: sector(pos + done + i) };
        }
        done += len;
      }
    }
    pos += n;
  }
  const larger = a.size > b.size ? a : b;
  for (let pos = common; pos < larger.size;) {
    const st = larger.blockStatus(pos, larger.size - pos);
    if (st.data) {
      for (let done = 0; done < st.length;) {
        const len = Math.min(CHUNK, st.length - done);
        const x = ba.subarray(0, len);
        larger.read(pos + done, x);
        if (!isZero(x))
          return {
            identical: false,
            sizeMismatch,
            mismatchAt: sector(pos + done + x.findIndex((v) => v !== 0)),
          };
        done += len;
      }
    }
    pos += st.length;
  }
  return { identical: true, sizeMismatch };
}

function sector(offset: number): number {
  return Math.floor(offset / 512) * 512;
}
