/** A little-endian dword of guest-physical memory, read or written through the core. */
import type { Core } from './types.js';

export function readPhys32(core: Core, pa: number): number {
  return new DataView(core.readPhys(pa, 4).buffer).getUint32(0, true);
}

export function writePhys32(core: Core, pa: number, v: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  core.writePhys(pa, b);
}
