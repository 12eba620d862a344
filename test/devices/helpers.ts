/** Port I/O helpers for device tests: the same calls a guest's IN/OUT make through the bus. */
import { Bus } from '../../bindings/devices/bus.js';

export function io(bus: Bus) {
  return {
    outb: (port: number, v: number) => bus.handleExit({ reason: 'io', port, size: 1, write: true, value: v }),
    outw: (port: number, v: number) => bus.handleExit({ reason: 'io', port, size: 2, write: true, value: v }),
    outl: (port: number, v: number) => bus.handleExit({ reason: 'io', port, size: 4, write: true, value: v }),
    inb: (port: number) => bus.handleExit({ reason: 'io', port, size: 1, write: false, value: 0 })!,
    inw: (port: number) => bus.handleExit({ reason: 'io', port, size: 2, write: false, value: 0 })!,
    inl: (port: number) => bus.handleExit({ reason: 'io', port, size: 4, write: false, value: 0 })!,
  };
}

import type { BlockDevice } from '../../bindings/disk/types.js';

/** A disk in memory that counts flushes; `sparse` disks read zeros except where written. */
export class MemoryDisk implements BlockDevice {
  flushes = 0;
  writes = 0;
  closed = false;
  private readonly chunks = new Map<number, Uint8Array>();
  constructor(readonly size: number, readonly readOnly = false) {}
  static withPattern(sectors: number): MemoryDisk {
    const d = new MemoryDisk(sectors * 512);
    const s = new Uint8Array(512);
    for (let i = 0; i < sectors; i++) { for (let j = 0; j < 512; j++) s[j] = (i * 7 + j) & 0xff; d.write(i * 512, s); }
    d.writes = 0;
    return d;
  }
  read(offset: number, dst: Uint8Array): void {
    if (offset < 0 || offset + dst.length > this.size) throw new RangeError('outside the disk');
    for (let i = 0; i < dst.length; i += 512) {
      const c = this.chunks.get((offset + i) / 512);
      if (c) dst.set(c.subarray(0, Math.min(512, dst.length - i)), i); else dst.fill(0, i, i + 512);
    }
  }
  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error('read-only');
    this.writes++;
    for (let i = 0; i < src.length; i += 512) this.chunks.set((offset + i) / 512, src.slice(i, i + 512));
  }
  sector(n: number): Uint8Array { const b = new Uint8Array(512); this.read(n * 512, b); return b; }
  flush(): void { this.flushes++; }
  close(): void { this.closed = true; }
}
