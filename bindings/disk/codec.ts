/**
 * The compressors the format code calls, replaceable by faster ones where the host has
 * them. The defaults are fflate's (pure JavaScript, so they run in a browser); node.ts
 * puts Node's zlib (native code) in their place, which writes a streamOptimized VMDK in
 * about half the CPU time. Either output is a valid zlib stream (VMDK 5.0 asks only that).
 */
import { zlibSync } from 'fflate';

export interface Codec {
  /**
   * A zlib stream (RFC 1950) of `data` at `level` (0-9). The result may be a view of a
   * buffer the next call reuses: copy it out before calling again.
   */
  zlibDeflate(data: Uint8Array, level: number): Uint8Array;
}

export const codec: Codec = {
  zlibDeflate: (data, level) => zlibSync(data, { level: level as 6 }),
};

/** Replaces some of the compressors (for every image written from then on). */
export function useCodec(c: Partial<Codec>): void {
  Object.assign(codec, c);
}
