/**
 * Fixed-width integer access for on-disk structures. qcow2 is big-endian, VMDK is
 * little-endian; 64-bit fields become JS numbers and are refused above 2^53 - 1 rather
 * than silently rounded.
 */
import { ImageError, hex } from './errors.js';

const TWO32 = 0x1_0000_0000;

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A 64-bit field as a safe integer, or an error naming the field and its file offset. */
export function u64(
  dv: DataView,
  at: number,
  le: boolean,
  field: string,
  fileOffset: number,
): number {
  const lo = dv.getUint32(le ? at : at + 4, le);
  const hi = dv.getUint32(le ? at + 4 : at, le);
  if (hi >= 0x20_0000) {
    throw new ImageError(
      `${field} at offset ${hex(fileOffset)} is ` +
        `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}, ` +
        'beyond 2^53 - 1 (the largest offset this implementation handles)',
      field,
      fileOffset,
    );
  }
  return hi * TWO32 + lo;
}

export function setU64(dv: DataView, at: number, v: number, le: boolean): void {
  const hi = Math.floor(v / TWO32);
  const lo = v >>> 0;
  dv.setUint32(le ? at : at + 4, lo, le);
  dv.setUint32(le ? at + 4 : at, hi, le);
}

export function isZero(b: Uint8Array): boolean {
  // Eight bytes at a time where the alignment allows it.
  if ((b.byteOffset & 7) === 0 && (b.length & 7) === 0) {
    const w = new BigUint64Array(b.buffer, b.byteOffset, b.length >>> 3);
    for (let i = 0; i < w.length; i++) if (w[i] !== 0n) return false;
    return true;
  }
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** fflate's error codes (FlateErrorCode) in this code's words. */
const INFLATE_PROBLEMS: Record<number, string> = {
  0: 'the stream ends early',
  1: 'a block has an invalid type',
  2: 'an invalid length or literal code',
  3: 'a back-reference reaches before the start of the data',
  6: 'an invalid zlib header',
};

/**
 * Inflates a zlib (`zlib`) or raw deflate stream into at most `limit` bytes. Returns the
 * data, or a string saying what is wrong with the stream, in words that do not depend on
 * the inflate library (a stored block larger than the room left, which fflate reports as
 * "offset is out of bounds", means the data inflates past `limit`).
 */
export function inflateBounded(
  data: Uint8Array,
  limit: number,
  zlib: boolean,
  inflate: (d: Uint8Array, o: { out: Uint8Array }) => Uint8Array,
): Uint8Array | string {
  try {
    const out = inflate(data, { out: new Uint8Array(limit + 1) });
    return out.length > limit ? `it inflates to more than ${limit} bytes` : out;
  } catch (e) {
    if (e instanceof RangeError) return `it inflates to more than ${limit} bytes`;
    const code = (e as { code?: number }).code;
    const what = (code !== undefined && INFLATE_PROBLEMS[code]) || 'the stream does not decode';
    return `not a valid ${zlib ? 'zlib' : 'deflate'} stream: ${what}`;
  }
}
