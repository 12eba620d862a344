/**
 * Streaming gunzip for files a descriptor marks ovf:compression="gzip" (DSP0243 7.1,
 * RFC 1952), with a ceiling on the expanded size so that a decompression bomb stops
 * with an error instead of filling the disk. Input is fed in small slices so that the
 * memory one step takes stays bounded too (deflate expands at most 1032:1, RFC 1951).
 */
import { Gunzip } from 'fflate';
import { OvfError } from './errors.js';

/** Default ceiling for one expanded file when no disk capacity bounds it: 64 GiB. */
export const MAX_EXPANDED_BYTES = 64 * 2 ** 30;

/** CRC-32 table (RFC 1952 section 8: polynomial 0xEDB88320, reflected). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32Update(crc: number, data: Uint8Array): number {
  let c = crc ^ 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Input slice per inflate step: 16 KiB in, at most ~16 MiB out. */
const SLICE = 16 * 1024;

export class GunzipLimited {
  private readonly inflater: Gunzip;
  private pending: Uint8Array[] = [];
  private total = 0;
  private ended = false;
  private crc = 0;
  private members = 0;
  /** The last 8 input bytes: the gzip trailer, CRC32 and ISIZE (RFC 1952 section 2.3.1). */
  private tail = new Uint8Array(0);

  constructor(private readonly limit: number, private readonly file: string) {
    this.inflater = new Gunzip((chunk, final) => {
      this.total += chunk.length;
      if (this.total > this.limit) {
        throw new OvfError(
          'compression',
          `expands beyond ${this.limit} bytes; refused as a decompression bomb`,
          { file: this.file },
        );
      }
      if (chunk.length) {
        this.pending.push(chunk);
        this.crc = crc32Update(this.crc, chunk);
      }
      if (final) this.ended = true;
    });
    this.inflater.onmember = () => void this.members++;
  }

  /** Pushes compressed bytes; returns the expanded bytes they produced. */
  push(data: Uint8Array, final = false): Uint8Array[] {
    if (data.length >= 8) this.tail = data.slice(data.length - 8);
    else if (data.length) {
      const t = new Uint8Array(Math.min(8, this.tail.length + data.length));
      const joined = new Uint8Array(this.tail.length + data.length);
      joined.set(this.tail);
      joined.set(data, this.tail.length);
      t.set(joined.subarray(joined.length - t.length));
      this.tail = t;
    }
    for (let o = 0; o < data.length || (final && o === 0 && data.length === 0); o += SLICE) {
      const slice = data.subarray(o, o + SLICE);
      const last = final && o + SLICE >= data.length;
      try {
        this.inflater.push(slice, last);
      } catch (e) {
        if (e instanceof OvfError) throw e;
        throw new OvfError('compression', `corrupt gzip data: ${(e as Error).message}`, {
          file: this.file,
        });
      }
      if (data.length === 0) break;
    }
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Ends the stream; throws if the gzip data stopped early. */
  finish(): Uint8Array[] {
    const out = this.push(new Uint8Array(0), true);
    if (!this.ended)
      throw new OvfError('compression', 'the gzip stream is truncated', { file: this.file });
    // One member (what OVF producers write; fflate reports only the members after the
    // first): its trailer must match what came out.
    if (this.members === 0) {
      const t = this.tail;
      const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
      if (
        t.length < 8 ||
        v.getUint32(4, true) !== this.total % 2 ** 32 ||
        v.getUint32(0, true) !== this.crc
      ) {
        throw new OvfError(
          'compression',
          'the gzip stream is truncated or corrupt ' +
            '(CRC-32/ISIZE trailer does not match, RFC 1952 2.3.1)',
          { file: this.file },
        );
      }
    }
    return out;
  }

  get expandedBytes(): number {
    return this.total;
  }
}
