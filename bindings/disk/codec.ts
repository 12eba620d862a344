/**
 * The compressors the format code calls, replaceable by faster ones where the host has
 * them. The defaults are fflate's (pure JavaScript, so they run in a browser); node.ts
 * puts Node's zlib (native code) in their place, which writes a streamOptimized VMDK in
 * about half the CPU time, and a pool of worker threads that compress independent grains
 * at once (node-deflate.ts). Either output is a valid zlib stream (VMDK 5.0 asks only
 * that); the pool gives byte for byte what the one-thread compressor gives.
 */
import { zlibSync } from 'fflate';

/**
 * Compresses several grains at once, in slots: `submit` hands slot `i` a grain, `take`
 * waits for that slot's zlib stream. A writer submits slots in round-robin order and takes
 * them in the same order, so the stream's records stay in grain order.
 */
export interface DeflatePool {
  /** How many grains can be in flight. */
  readonly slots: number;
  /** Starts compressing a copy of `data` (at most the pool's grain size) in slot `i`. */
  submit(i: number, data: Uint8Array, level: number): void;
  /** Waits for slot `i`; the result is valid until the slot is submitted again. */
  take(i: number): Uint8Array;
  /** Stops the workers (the pool is not used again). */
  close(): void;
}

export interface Codec {
  /**
   * A zlib stream (RFC 1950) of `data` at `level` (0-9). The result may be a view of a
   * buffer the next call reuses: copy it out before calling again.
   */
  zlibDeflate(data: Uint8Array, level: number): Uint8Array;
  /**
   * A pool for grains of `grainBytes` bytes, or undefined where there is none (browsers,
   * one CPU): the writer then compresses on its own thread.
   */
  deflatePool?(grainBytes: number): DeflatePool | undefined;
}

export const codec: Codec = {
  zlibDeflate: (data, level) => zlibSync(data, { level: level as 6 }),
};

/** Replaces some of the compressors (for every image written from then on). */
export function useCodec(c: Partial<Codec>): void {
  Object.assign(codec, c);
}
