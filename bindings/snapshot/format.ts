/**
 * The snapshot container (docs/snapshots.md): a header, tagged sections, and a SHA-256 of
 * everything before it. Reading checks the whole file (magic, version, lengths, checksum)
 * before anything is built from it, so a damaged or foreign file changes nothing.
 *
 *   header  32 bytes: magic "WVSNAP\0\x1a", u32 version, u32 section count,
 *           u64 file length, u64 reserved (0)
 *   section 24-byte header: 4-byte ASCII tag, u32 flags (bit 0: DEFLATE, RFC 1951),
 *           u64 stored length, u64 length once inflated; then the stored bytes
 *   trailer 32 bytes: SHA-256 (FIPS 180-4) of every byte before it
 * All integers little-endian.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { deflateSync, inflateSync } from 'fflate';

export const MAGIC = Uint8Array.of(0x57, 0x56, 0x53, 0x4e, 0x41, 0x50, 0x00, 0x1a);
/** The format version this build writes and reads. */
export const FORMAT_VERSION = 1;
const HEADER = 32;
const SECTION_HEADER = 24;
const TRAILER = 32;
const FLAG_DEFLATE = 1;
/** No section inflates beyond this (4 GiB: RAM is at most 3 GiB). */
const MAX_RAW = 2 ** 32;
/** At most this many sections (a lying count is refused before any allocation). */
const MAX_SECTIONS = 64;

/** A snapshot that cannot be read: damaged, truncated, foreign, or not one at all. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

export interface Section {
  tag: string;
  data: Uint8Array;
  /** Store DEFLATE-compressed (default true). */
  compress?: boolean;
}

/** The sections in one file, in order. */
export function encodeContainer(sections: Section[], level: 0 | 1 | 6 | 9 = 1): Uint8Array {
  const stored = sections.map((s) => {
    if (!/^[A-Z0-9_ ]{4}$/.test(s.tag)) throw new RangeError(`bad section tag ${s.tag}`);
    const deflate = (s.compress ?? true) && level > 0;
    return { ...s, deflate, bytes: deflate ? deflateSync(s.data, { level }) : s.data };
  });
  const total = HEADER + stored.reduce((n, s) => n + SECTION_HEADER + s.bytes.length, 0) +
    TRAILER;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, FORMAT_VERSION, true);
  dv.setUint32(12, stored.length, true);
  dv.setBigUint64(16, BigInt(total), true);
  let at = HEADER;
  for (const s of stored) {
    for (let i = 0; i < 4; i++) out[at + i] = s.tag.charCodeAt(i);
    dv.setUint32(at + 4, s.deflate ? FLAG_DEFLATE : 0, true);
    dv.setBigUint64(at + 8, BigInt(s.bytes.length), true);
    dv.setBigUint64(at + 16, BigInt(s.data.length), true);
    out.set(s.bytes, at + SECTION_HEADER);
    at += SECTION_HEADER + s.bytes.length;
  }
  out.set(sha256(out.subarray(0, at)), at);
  return out;
}

/** The file's format version, or undefined when it is not a snapshot at all. */
export function peekVersion(file: Uint8Array): number | undefined {
  if (file.length < HEADER || !MAGIC.every((b, i) => file[i] === b)) return undefined;
  return new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(8, true);
}

/** Checks the whole file and returns its sections by tag, inflated. */
export function decodeContainer(file: Uint8Array): Map<string, Uint8Array> {
  const version = peekVersion(file);
  if (version === undefined) {
    throw new SnapshotError('not a wasmvisor snapshot (no "WVSNAP" header)');
  }
  if (version !== FORMAT_VERSION) {
    throw new SnapshotError(`snapshot format version ${version}: this wasmvisor reads ` +
      `version ${FORMAT_VERSION} only`);
  }
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const length = Number(dv.getBigUint64(16, true));
  if (length !== file.length) {
    throw new SnapshotError(`snapshot is ${file.length} bytes, its header says ${length} ` +
      '(truncated or extended)');
  }
  if (file.length < HEADER + TRAILER) throw new SnapshotError('snapshot is truncated');
  const body = file.length - TRAILER;
  const sum = sha256(file.subarray(0, body));
  if (!sum.every((b, i) => file[body + i] === b)) {
    throw new SnapshotError('snapshot checksum (SHA-256) does not match: the file is damaged');
  }
  const count = dv.getUint32(12, true);
  if (count > MAX_SECTIONS) throw new SnapshotError(`snapshot claims ${count} sections`);
  const out = new Map<string, Uint8Array>();
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + SECTION_HEADER > body) throw new SnapshotError(`section ${i} runs past the end`);
    const tag = String.fromCharCode(...file.subarray(at, at + 4));
    const flags = dv.getUint32(at + 4, true);
    const stored = Number(dv.getBigUint64(at + 8, true));
    const raw = Number(dv.getBigUint64(at + 16, true));
    at += SECTION_HEADER;
    if (stored > body - at) throw new SnapshotError(`section ${tag} runs past the end`);
    if (raw > MAX_RAW || (flags & ~FLAG_DEFLATE) !== 0) {
      throw new SnapshotError(`section ${tag}: bad flags or length`);
    }
    if (out.has(tag)) throw new SnapshotError(`section ${tag} appears twice`);
    const bytes = file.subarray(at, at + stored);
    let data: Uint8Array;
    if (flags & FLAG_DEFLATE) {
      try {
        data = inflateSync(bytes, { out: new Uint8Array(raw) });
      } catch (e) {
        throw new SnapshotError(`section ${tag}: bad DEFLATE data (${(e as Error).message})`);
      }
    } else {
      data = bytes.slice();
    }
    if (data.length !== raw) {
      throw new SnapshotError(`section ${tag}: ${data.length} bytes, its header says ${raw}`);
    }
    out.set(tag, data);
    at += stored;
  }
  if (at !== body) throw new SnapshotError('snapshot has bytes after its last section');
  return out;
}

/**
 * Memory or a disk with its all-zero 4 KiB pages left out: u32 page count, a bitmap (one
 * bit per page, 1 = stored), then the stored pages in order. The length must be a multiple
 * of 4 KiB.
 */
export function encodeSparse(data: Uint8Array): Uint8Array {
  const pages = Math.ceil(data.length / 4096);
  const bitmap = new Uint8Array(Math.ceil(pages / 8));
  const words = new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2);
  let stored = 0;
  for (let p = 0; p < pages; p++) {
    let nz = false;
    for (let w = p * 1024, end = Math.min(w + 1024, words.length); w < end; w++) {
      if (words[w] !== 0) { nz = true; break; }
    }
    if (nz) { bitmap[p >> 3] |= 1 << (p & 7); stored++; }
  }
  const out = new Uint8Array(4 + bitmap.length + stored * 4096);
  new DataView(out.buffer).setUint32(0, pages, true);
  out.set(bitmap, 4);
  let at = 4 + bitmap.length;
  for (let p = 0; p < pages; p++) {
    if (bitmap[p >> 3] & (1 << (p & 7))) {
      out.set(data.subarray(p * 4096, p * 4096 + 4096), at);
      at += 4096;
    }
  }
  return out;
}

/** The bytes `encodeSparse` wrote, `length` long (checked against the encoding). */
export function decodeSparse(enc: Uint8Array, length: number, what: string): Uint8Array {
  if (length % 4096 !== 0) throw new SnapshotError(`${what}: length ${length} not in pages`);
  const pages = length / 4096;
  if (enc.length < 4) throw new SnapshotError(`${what}: truncated`);
  const n = new DataView(enc.buffer, enc.byteOffset, enc.byteLength).getUint32(0, true);
  if (n !== pages) throw new SnapshotError(`${what}: ${n} pages, expected ${pages}`);
  const bm = Math.ceil(pages / 8);
  let stored = 0;
  for (let p = 0; p < pages; p++) if (enc[4 + (p >> 3)] & (1 << (p & 7))) stored++;
  if (enc.length !== 4 + bm + stored * 4096) {
    throw new SnapshotError(`${what}: ${enc.length} bytes do not match its page bitmap`);
  }
  const out = new Uint8Array(length);
  let at = 4 + bm;
  for (let p = 0; p < pages; p++) {
    if (enc[4 + (p >> 3)] & (1 << (p & 7))) {
      out.set(enc.subarray(at, at + 4096), p * 4096);
      at += 4096;
    }
  }
  return out;
}
