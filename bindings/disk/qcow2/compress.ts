/**
 * qcow2 compressed clusters (qcow2.txt, "Compressed Clusters Descriptor"): the L2 entry's
 * bit 62 marks them; with x = 62 - (cluster_bits - 8), bits 0..x-1 hold the host byte
 * offset of the data and bits x..61 the number of 512-byte sectors it touches, minus one.
 * The data is a raw deflate stream (compression_type 0, "zlib") of exactly one cluster.
 *
 * QEMU inflates with a 4 KiB window (block/qcow2-threads.c, qcow2_zlib_decompress:
 * inflateInit2(-12)), so a stream whose back-references reach further than 4 KiB fails
 * there. The compressor here is QEMU's (qcow2_zlib_compress): deflateInit2(
 * Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY), then one deflate(Z_FINISH)
 * into a buffer of cluster_size - 1 bytes, through pako (a port of zlib that also runs in
 * browsers) with zlib's classic hash, so the streams are byte for byte those of zlib 1.2.
 */
import {
  ZStream,
  zlibDeflateInit2,
  zlibDeflateReset,
  zlibDeflate,
  Z_DEFAULT_STRATEGY,
  Z_FINISH,
  Z_OK,
  Z_STREAM_END,
} from 'pako';
import { ImageError } from '../errors.js';

/** qcow2.txt "Compressed Clusters Descriptor": the sector unit of the size field. */
export const COMPRESSED_SECTOR = 512;
/** zlib's Z_DEFAULT_COMPRESSION is level 6; QEMU passes windowBits -12 (raw), memLevel 9. */
const ZLIB_LEVEL = 6;
const Z_DEFLATED = 8;
const ZLIB_WINDOW_BITS = -12;
const ZLIB_MEM_LEVEL = 9;

/** One deflate state, reset for each cluster (the tables are ~300 KiB: not per call). */
let stream: ZStream | undefined;

/**
 * One cluster as QEMU compresses it, or undefined when the result would not be smaller:
 * QEMU gives deflate an output buffer of cluster_size - 1 bytes and writes the cluster
 * uncompressed when the stream does not end in it (qcow2_co_pwritev_compressed_task).
 */
export function compressCluster(cluster: Uint8Array): Uint8Array | undefined {
  if (!stream) {
    const s = new ZStream();
    const st = zlibDeflateInit2(
      s,
      ZLIB_LEVEL,
      Z_DEFLATED,
      ZLIB_WINDOW_BITS,
      ZLIB_MEM_LEVEL,
      Z_DEFAULT_STRATEGY,
      true,
    );
    if (st !== Z_OK) throw new ImageError(`qcow2: deflateInit2 failed (${st})`);
    stream = s;
  } else {
    zlibDeflateReset(stream);
  }
  const out = new Uint8Array(cluster.length - 1);
  stream.input = cluster;
  stream.next_in = 0;
  stream.avail_in = cluster.length;
  stream.output = out;
  stream.next_out = 0;
  stream.avail_out = out.length;
  const st = zlibDeflate(stream, Z_FINISH);
  const n = stream.next_out;
  // Drop the references to the caller's buffers.
  stream.input = new Uint8Array(0);
  stream.output = new Uint8Array(0);
  if (st === Z_STREAM_END) return out.subarray(0, n);
  if (st === Z_OK) return undefined; // the buffer filled before the end: not smaller
  throw new ImageError(`qcow2: deflate failed (${st})`);
}

/** A compressed cluster's place in the file, as its L2 entry gives it. */
export interface CompressedExtent {
  /** Host byte offset of the deflate stream (any byte alignment). */
  host: number;
  /** Sectors the stream touches: "additional sectors" + 1. */
  sectors: number;
  /** Bytes from `host` to the end of the last sector: what QEMU reads and counts. */
  bytes: number;
}

/** Bit x of the descriptor: where the sector count starts. */
function sizeShift(clusterBits: number): bigint {
  return BigInt(62 - (clusterBits - 8));
}

/** Decodes the descriptor in the L2 entry halves `hi`/`lo` (bit 62 set). */
export function compressedExtent(hi: number, lo: number, clusterBits: number): CompressedExtent {
  const x = sizeShift(clusterBits);
  const desc = (BigInt(hi & 0x3fff_ffff) << 32n) | BigInt(lo >>> 0);
  const host = Number(desc & ((1n << x) - 1n));
  const sectors = Number(desc >> x) + 1;
  return { host, sectors, bytes: sectors * COMPRESSED_SECTOR - (host % COMPRESSED_SECTOR) };
}

/**
 * The L2 entry halves for `bytes` of compressed data at `host`, as QEMU builds them
 * (qcow2_alloc_compressed_cluster_offset): the stored count is the last sector touched
 * minus the first, and COPIED is never set on a compressed entry.
 * Returns undefined when the offset does not fit in the x offset bits.
 */
export function compressedEntry(
  host: number,
  bytes: number,
  clusterBits: number,
): { hi: number; lo: number } | undefined {
  const x = sizeShift(clusterBits);
  const h = BigInt(host);
  if (h >= 1n << x) return undefined;
  const extra = BigInt(
    Math.floor((host + bytes - 1) / COMPRESSED_SECTOR) - Math.floor(host / COMPRESSED_SECTOR),
  );
  const e = (1n << 62n) | (extra << x) | h;
  return { hi: Number(e >> 32n) >>> 0, lo: Number(e & 0xffff_ffffn) >>> 0 };
}
