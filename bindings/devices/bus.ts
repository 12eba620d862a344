/**
 * One bus for port I/O and MMIO, kvmtool style: a device registers a range with one
 * function and the bus routes each 'io'/'mmio' exit of the core to it.
 *
 * As on the ISA bus, a device registered with `width: 1` sees a word or dword access as
 * consecutive byte accesses (port p, p+1, ...), each routed on its own; wider devices
 * (the IDE data port, PCI configuration data) see the access whole. Unclaimed reads
 * return all ones (a floating bus) and unclaimed writes are dropped; both are counted.
 */
import type { Exit } from '../core/types.js';

export type Space = 'pio' | 'mmio';
export type AccessSize = 1 | 2 | 4;

export interface BusDevice {
  /** Shown in errors and counters. */
  name: string;
  /** Read `size` bytes at `offset` from the start of the registered range. */
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
}

export interface Registration {
  space: Space;
  base: number;
  length: number;
  device: BusDevice;
  /**
   * Widest access the device takes whole, starting at any of its ports (the IDE data port
   * is one port that takes words and dwords); wider ones are split into bytes. Default 4.
   */
  width?: AccessSize;
}

export interface BusCounters {
  pioReads: number; pioWrites: number;
  mmioReads: number; mmioWrites: number;
  unclaimedReads: number; unclaimedWrites: number;
}

/** A range overlaps another, or lies outside its space. */
export class BusError extends Error {
  constructor(msg: string) { super(msg); this.name = 'BusError'; }
}

const ONES = [0, 0xff, 0xffff, 0, 0xffffffff];
const PIO_SPACE = 0x10000;
const MMIO_SPACE = 2 ** 32;

interface Range { base: number; end: number; device: BusDevice; width: AccessSize }

export class Bus {
  readonly counters: BusCounters = {
    pioReads: 0, pioWrites: 0, mmioReads: 0, mmioWrites: 0, unclaimedReads: 0, unclaimedWrites: 0,
  };
  /** The ports of unclaimed accesses seen (first 64), to diagnose a guest probing hardware. */
  readonly unclaimedPorts = new Set<number>();
  /**
   * Told of every MMIO range registered (a device, or a PCI memory BAR the guest maps), so
   * the machine can make the core exit on it (`core.addMmio`).
   */
  onMmioRegistered?: (base: number, length: number) => void;
  /** Port -> range: one lookup per access. */
  private readonly ports: (Range | undefined)[] = new Array(PIO_SPACE);
  /** MMIO ranges sorted by base. */
  private readonly mmio: Range[] = [];

  /** The one registration function, for port I/O and MMIO alike. */
  register(r: Registration): void {
    const limit = r.space === 'pio' ? PIO_SPACE : MMIO_SPACE;
    const where = `${r.device.name}: range ${hex(r.base)}+${r.length}`;
    if (!Number.isInteger(r.base) || !Number.isInteger(r.length) || r.length < 1 || r.base < 0
      || r.base + r.length > limit) {
      throw new BusError(`${where} lies outside the ${r.space} space`);
    }
    const range: Range = {
      base: r.base, end: r.base + r.length, device: r.device, width: r.width ?? 4,
    };
    const clash = this.find(r.space, r.base, r.length);
    if (clash) {
      throw new BusError(`${r.device.name}: ${r.space} range ${hex(r.base)}+${r.length} overlaps `
        + `${clash.device.name} at ${hex(clash.base)}`);
    }
    if (r.space === 'pio') {
      for (let p = range.base; p < range.end; p++) this.ports[p] = range;
    } else {
      this.mmio.push(range);
      this.mmio.sort((a, b) => a.base - b.base);
      this.onMmioRegistered?.(r.base, r.length);
    }
  }

  /** Removes a registration (a PCI BAR moving, a device unplugged). */
  unregister(space: Space, base: number): void {
    if (space === 'pio') {
      const r = this.ports[base];
      if (!r || r.base !== base) throw new BusError(`no pio registration at ${hex(base)}`);
      for (let p = r.base; p < r.end; p++) this.ports[p] = undefined;
    } else {
      const i = this.mmio.findIndex((r) => r.base === base);
      if (i < 0) throw new BusError(`no mmio registration at ${hex(base)}`);
      this.mmio.splice(i, 1);
    }
  }

  /** Is any part of the range taken? */
  private find(space: Space, base: number, length: number): Range | undefined {
    if (space === 'pio') {
      for (let p = base; p < base + length; p++) if (this.ports[p]) return this.ports[p];
      return undefined;
    }
    return this.mmio.find((r) => r.base < base + length && base < r.end);
  }

  private lookup(space: Space, addr: number): Range | undefined {
    if (space === 'pio') return this.ports[addr];
    const m = this.mmio;
    let lo = 0, hi = m.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (addr < m[mid].base) hi = mid - 1;
      else if (addr >= m[mid].end) lo = mid + 1;
      else return m[mid];
    }
    return undefined;
  }

  read(space: Space, addr: number, size: AccessSize): number {
    if (space === 'pio') this.counters.pioReads++; else this.counters.mmioReads++;
    const r = this.lookup(space, addr);
    if (r && size <= r.width) return r.device.read(addr - r.base, size) >>> 0;
    if (!r && size === 1) return this.unclaimed(addr, false);
    // Split into bytes, little-endian, each routed on its own.
    let v = 0;
    for (let i = 0; i < size; i++) {
      const a = (addr + i) % (space === 'pio' ? PIO_SPACE : MMIO_SPACE);
      const b = this.lookup(space, a);
      const byte = b ? b.device.read(a - b.base, 1) & 0xff : this.unclaimed(a, false);
      v |= byte << (8 * i);
    }
    return v >>> 0;
  }

  write(space: Space, addr: number, size: AccessSize, value: number): void {
    if (space === 'pio') this.counters.pioWrites++; else this.counters.mmioWrites++;
    value = (size === 4 ? value : value & ONES[size]) >>> 0;
    const r = this.lookup(space, addr);
    if (r && size <= r.width) { r.device.write(addr - r.base, size, value); return; }
    if (!r && size === 1) { this.unclaimed(addr, true); return; }
    for (let i = 0; i < size; i++) {
      const a = (addr + i) % (space === 'pio' ? PIO_SPACE : MMIO_SPACE);
      const b = this.lookup(space, a);
      if (b) b.device.write(a - b.base, 1, (value >>> (8 * i)) & 0xff);
      else this.unclaimed(a, true);
    }
  }

  private unclaimed(addr: number, write: boolean): number {
    if (write) this.counters.unclaimedWrites++; else this.counters.unclaimedReads++;
    if (this.unclaimedPorts.size < 64) this.unclaimedPorts.add(addr);
    return 0xff;
  }

  /**
   * Completes an 'io' or 'mmio' exit: performs the access and returns the value a read
   * produced (the caller passes it to `core.completeIo`), or `undefined` for a write, a
   * string I/O exit (its reads are stored into `exit.data`) or an exit that is not an access.
   */
  handleExit(exit: Exit): number | undefined {
    if (exit.reason !== 'io' && exit.reason !== 'mmio') return undefined;
    const space: Space = exit.reason === 'io' ? 'pio' : 'mmio';
    const addr = exit.reason === 'io' ? exit.port : exit.address;
    if (exit.reason === 'io' && exit.data && exit.count) {
      // A string I/O exit: every element in order, as the instruction would one by one.
      const dv = new DataView(exit.data.buffer, exit.data.byteOffset, exit.data.byteLength);
      for (let i = 0; i < exit.count; i++) {
        const at = i * exit.size;
        if (exit.write) {
          const v = exit.size === 1 ? dv.getUint8(at)
            : exit.size === 2 ? dv.getUint16(at, true) : dv.getUint32(at, true);
          this.write(space, addr, exit.size, v);
        } else {
          const v = this.read(space, addr, exit.size);
          if (exit.size === 1) dv.setUint8(at, v);
          else if (exit.size === 2) dv.setUint16(at, v, true);
          else dv.setUint32(at, v >>> 0, true);
        }
      }
      return undefined;
    }
    if (exit.write) { this.write(space, addr, exit.size, exit.value); return undefined; }
    return this.read(space, addr, exit.size);
  }
}

function hex(n: number): string { return '0x' + n.toString(16); }
