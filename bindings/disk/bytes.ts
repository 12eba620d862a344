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
