/**
 * An ATA disk on an IDE channel: command execution and PIO data transfer (ATA/ATAPI-6,
 * T13/1410D: 9.7 "PIO data-in", 9.8 "PIO data-out", 9.9 "Non-data" protocols; command
 * descriptions in clause 8). The backend is a `BlockDevice`; commands complete at once on
 * the virtual clock, so BSY is only ever seen during a software reset.
 *
 * Interrupts follow the protocols: data-in raises INTRQ when each DRQ block is ready (and
 * not at the end); data-out raises it after each block written except before the first,
 * and at completion; non-data commands raise it at completion.
 */
import type { BlockDevice } from '../../disk/types.js';
import { bool, bytes, DeviceStateError, encodeBytes, int, obj, oneOf } from '../state.js';
import { buildIdentify, defaultGeometry, LBA28_MAX } from './ata-identify.js';
import {
  CMD_CHECK_POWER, CMD_FLUSH_CACHE, CMD_FLUSH_CACHE_EXT, CMD_IDENTIFY, CMD_IDLE, CMD_IDLE_IMMEDIATE,
  CMD_INITIALIZE_PARAMS, CMD_READ_DMA, CMD_READ_DMA_EXT, CMD_READ_DMA_NORETRY, CMD_READ_MULTIPLE,
  CMD_READ_MULTIPLE_EXT, CMD_READ_NATIVE_MAX, CMD_READ_NATIVE_MAX_EXT, CMD_READ_SECTORS,
  CMD_READ_SECTORS_EXT, CMD_READ_SECTORS_NORETRY, CMD_READ_VERIFY, CMD_READ_VERIFY_EXT,
  CMD_READ_VERIFY_NORETRY, CMD_SEEK, CMD_SET_FEATURES, CMD_SET_MULTIPLE, CMD_SLEEP, CMD_STANDBY,
  CMD_STANDBY_IMMEDIATE, CMD_WRITE_DMA, CMD_WRITE_DMA_EXT, CMD_WRITE_DMA_NORETRY,
  CMD_WRITE_MULTIPLE, CMD_WRITE_MULTIPLE_EXT, CMD_WRITE_SECTORS, CMD_WRITE_SECTORS_EXT,
  CMD_WRITE_SECTORS_NORETRY, DEV_LBA, ER_ABRT, ER_IDNF, ER_UNC, ST_DRDY, ST_DRQ, ST_DSC, ST_ERR,
} from './ata-regs.js';
import type { TaskFile } from './task-file.js';

const SECTOR = 512;
/** Largest READ/WRITE MULTIPLE block (identify word 47). */
export const MAX_MULTIPLE = 16;

export interface AtaDeviceOptions {
  model?: string;
  serial?: string;
  firmware?: string;
}

/** The transfer in progress: PIO in/out, or waiting for the bus master (DMA to/from memory). */
type Dir = 'none' | 'in' | 'out' | 'dma-in' | 'dma-out';

export interface AtaDeviceState {
  status: number; error: number; intrq: boolean; multiple: number; curHeads: number; curSpt: number;
  writeCache: boolean; lookAhead: boolean; dir: Dir; buf: string; pos: number; len: number;
  lba: number; remaining: number; block: number; ext: boolean; dmaMode: number;
}

export class AtaDevice {
  status = ST_DRDY | ST_DSC;
  error = 0x01;
  /** INTRQ pending (cleared by reading Status or writing Command). */
  intrq = false;
  multiple = 0;
  curHeads: number;
  curSpt: number;
  writeCache = true;
  lookAhead = true;
  /** The PIO transfer in progress. */
  dir: Dir = 'none';
  buf = new Uint8Array(SECTOR * MAX_MULTIPLE);
  pos = 0;
  len = 0;
  /** Next sector to transfer, sectors left, sectors per DRQ block, 48-bit command. */
  lba = 0;
  remaining = 0;
  block = 1;
  ext = false;
  readonly sectors: number;
  private readonly geometry: { cylinders: number; heads: number; sectorsPerTrack: number };
  /** Backend failures reported to the guest as errors. */
  ioErrors = 0;
  /** Activity, for statistics: commands executed, sectors moved, cache flushes, DMA commands. */
  readonly counters = {
    commands: 0, sectorsRead: 0, sectorsWritten: 0, flushes: 0, dmaCommands: 0,
  };
  /** Set by a controller that can bus-master: DMA commands and modes are offered. */
  dmaCapable = false;
  /** Selected multiword DMA mode (SET FEATURES 03h, 20h-22h). */
  dmaMode = 2;

  constructor(readonly backend: BlockDevice, readonly options: AtaDeviceOptions = {}) {
    this.sectors = Math.floor(backend.size / SECTOR);
    this.geometry = defaultGeometry(this.sectors);
    this.curHeads = this.geometry.heads;
    this.curSpt = this.geometry.sectorsPerTrack;
  }

  private get curCylinders(): number {
    const addressable = Math.min(this.sectors, 16383 * 16 * 63);
    return Math.min(65535, Math.floor(addressable / (this.curHeads * this.curSpt)));
  }

  identify(): Uint8Array {
    return buildIdentify({
      sectors: this.sectors, ...this.geometry,
      curCylinders: this.curCylinders, curHeads: this.curHeads, curSectorsPerTrack: this.curSpt,
      model: this.options.model ?? 'WASMVISOR HARDDISK',
      serial: this.options.serial ?? 'WV0000000001',
      firmware: this.options.firmware ?? '0.1.0', maxMultiple: MAX_MULTIPLE,
      multiple: this.multiple, writeCache: this.writeCache, lookAhead: this.lookAhead,
      dma: this.dmaCapable, dmaMode: this.dmaMode,
    });
  }

  /** Software or hardware reset: the ATA signature and a ready status (ATA-6 9.1, 9.12). */
  reset(tf: TaskFile): void {
    this.dir = 'none';
    this.intrq = false;
    this.status = ST_DRDY | ST_DSC;
    this.error = 0x01; // diagnostic code: device 0 passed (device 1 passed or not present)
    setSignature(tf);
  }

  private complete(): void { this.status = ST_DRDY | ST_DSC; this.dir = 'none'; this.intrq = true; }

  /**
   * Error completion: DRDY and ERR. ATA-6 leaves status bit 4 command-specific in error
   * outputs; it is clear here, as QEMU reports aborted commands (41h).
   */
  private fail(err: number): void {
    this.error = err; this.status = ST_DRDY | ST_ERR; this.dir = 'none'; this.intrq = true;
  }

  /** The starting LBA of a read/write command, or -1 if the CHS address is invalid. */
  private address(tf: TaskFile, ext: boolean): number {
    if (ext) return tf.lba48();
    if (tf.device & DEV_LBA) return tf.lba28();
    // CHS (ATA-6 6.2.1): LBA = (C x heads + H) x sectors per track + S - 1.
    const c = tf.cur.lbaHigh << 8 | tf.cur.lbaMid, h = tf.device & 0x0f, s = tf.cur.lbaLow;
    if (s === 0 || s > this.curSpt || h >= this.curHeads) return -1;
    return (c * this.curHeads + h) * this.curSpt + s - 1;
  }

  private count(tf: TaskFile, ext: boolean): number {
    if (ext) return (tf.prev.count << 8 | tf.cur.count) || 65536;
    return tf.cur.count || 256;
  }

  /** Executes a command written to the Command register. */
  command(cmd: number, tf: TaskFile): void {
    this.counters.commands++;
    this.intrq = false;
    this.error = 0;
    switch (cmd) {
      case CMD_IDENTIFY:
        this.buf.set(this.identify());
        this.remaining = 0;
        return this.startIn(SECTOR);
      case CMD_READ_SECTORS: case CMD_READ_SECTORS_NORETRY: return this.rw(tf, false, false, 1);
      case CMD_READ_SECTORS_EXT: return this.rw(tf, false, true, 1);
      case CMD_WRITE_SECTORS: case CMD_WRITE_SECTORS_NORETRY: return this.rw(tf, true, false, 1);
      case CMD_WRITE_SECTORS_EXT: return this.rw(tf, true, true, 1);
      case CMD_READ_MULTIPLE: case CMD_WRITE_MULTIPLE:
      case CMD_READ_MULTIPLE_EXT: case CMD_WRITE_MULTIPLE_EXT: {
        // Rejected while multiple mode is disabled (ATA-6 8.29, 8.50).
        if (!this.multiple) return this.fail(ER_ABRT);
        const write = cmd === CMD_WRITE_MULTIPLE || cmd === CMD_WRITE_MULTIPLE_EXT;
        return this.rw(tf, write, cmd >= 0x29 && cmd <= 0x39, this.multiple);
      }
      case CMD_READ_DMA: case CMD_READ_DMA_NORETRY: case CMD_READ_DMA_EXT:
      case CMD_WRITE_DMA: case CMD_WRITE_DMA_NORETRY: case CMD_WRITE_DMA_EXT: {
        // DMA data transfer protocol (ATA-6 9.10): the device is ready with DRQ and the
        // bus master moves the data; the controller calls `dmaTransfer`.
        if (!this.dmaCapable) return this.fail(ER_ABRT);
        const ext = cmd === CMD_READ_DMA_EXT || cmd === CMD_WRITE_DMA_EXT;
        const write = cmd === CMD_WRITE_DMA || cmd === CMD_WRITE_DMA_NORETRY ||
          cmd === CMD_WRITE_DMA_EXT;
        const lba = this.address(tf, ext), n = this.count(tf, ext);
        if (lba < 0 || lba + n > this.sectors) return this.idnf(tf, lba, ext);
        if (write && this.backend.readOnly) return this.fail(ER_ABRT);
        this.lba = lba; this.remaining = n; this.ext = ext;
        this.dir = write ? 'dma-out' : 'dma-in';
        this.status = ST_DRDY | ST_DSC | ST_DRQ;
        return;
      }
      case CMD_SET_MULTIPLE: {
        // A power of two up to the word 47 maximum; 0 disables (ATA-6 8.39).
        const n = tf.cur.count;
        if (n > MAX_MULTIPLE || (n & (n - 1)) !== 0) return this.fail(ER_ABRT);
        this.multiple = n;
        return this.complete();
      }
      case CMD_READ_VERIFY: case CMD_READ_VERIFY_NORETRY: case CMD_READ_VERIFY_EXT: {
        const ext = cmd === CMD_READ_VERIFY_EXT;
        const lba = this.address(tf, ext), n = this.count(tf, ext);
        if (lba < 0 || lba + n > this.sectors) return this.idnf(tf, lba, ext);
        return this.complete();
      }
      case CMD_SEEK: {
        const lba = this.address(tf, false);
        if (lba < 0 || lba >= this.sectors) return this.idnf(tf, lba, false);
        return this.complete();
      }
      case CMD_INITIALIZE_PARAMS: {
        // Sectors per track from Sector Count, heads from Device bits 3-0 plus one (ATA-6 8.16).
        const spt = tf.cur.count, heads = (tf.device & 0x0f) + 1;
        if (spt === 0) return this.fail(ER_ABRT);
        this.curSpt = spt; this.curHeads = heads;
        return this.complete();
      }
      case CMD_SET_FEATURES: return this.setFeatures(tf);
      case CMD_FLUSH_CACHE: case CMD_FLUSH_CACHE_EXT:
        if (!this.flush()) return this.fail(ER_ABRT);
        return this.complete();
      case CMD_CHECK_POWER:
        tf.cur.count = 0xff; // active or idle (ATA-6 8.6)
        return this.complete();
      case CMD_STANDBY_IMMEDIATE: case CMD_IDLE_IMMEDIATE: case CMD_STANDBY: case CMD_IDLE:
      case CMD_SLEEP:
        return this.complete();
      case CMD_READ_NATIVE_MAX: case CMD_READ_NATIVE_MAX_EXT: {
        const ext = cmd === CMD_READ_NATIVE_MAX_EXT;
        tf.setLba(Math.min(this.sectors - 1, ext ? Infinity : LBA28_MAX), ext);
        return this.complete();
      }
      default:
        // RECALIBRATE (obsolete, still issued by BIOSes).
        if (cmd >= 0x10 && cmd <= 0x1f) return this.complete();
        // IDENTIFY PACKET DEVICE, DEVICE RESET, NOP and anything unknown: aborted, as an ATA
        // (non-packet) device does (ATA-6 8.17, 8.9, 8.23).
        return this.fail(ER_ABRT);
    }
  }

  private idnf(tf: TaskFile, lba: number, ext: boolean): void {
    if (lba >= 0) tf.setLba(Math.min(lba, this.sectors), ext);
    this.fail(ER_IDNF);
  }

  private setFeatures(tf: TaskFile): void {
    switch (tf.cur.features) {
      case 0x02: this.writeCache = true; break;
      case 0x82: this.writeCache = false; if (!this.flush()) return this.fail(ER_ABRT); break;
      case 0xaa: this.lookAhead = true; break;
      case 0x55: this.lookAhead = false; break;
      case 0x66: case 0xcc: break; // revert to power-on defaults: disable / enable
      case 0x03: {
        // Set transfer mode: PIO default (00h, 01h), PIO flow-control modes 0-4 (08h-0Ch) and,
        // with a bus master, multiword DMA 0-2 (20h-22h); no Ultra DMA (ATA-6 8.37.2, Table 29).
        const m = tf.cur.count;
        if (m >= 0x20 && m <= 0x22 && this.dmaCapable) { // multiword DMA 0-2
          this.dmaMode = m - 0x20;
          break;
        }
        if (!(m <= 0x01 || (m >= 0x08 && m <= 0x0c))) return this.fail(ER_ABRT);
        break;
      }
      default: return this.fail(ER_ABRT);
    }
    this.complete();
  }

  private flush(): boolean {
    this.counters.flushes++;
    try { this.backend.flush(); return true; } catch { this.ioErrors++; return false; }
  }

  /** Starts a READ/WRITE SECTORS or MULTIPLE command (ATA-6 8.28-8.30, 8.48-8.51). */
  private rw(tf: TaskFile, write: boolean, ext: boolean, block: number): void {
    const lba = this.address(tf, ext), n = this.count(tf, ext);
    if (lba < 0 || lba + n > this.sectors) return this.idnf(tf, lba, ext);
    if (write && this.backend.readOnly) return this.fail(ER_ABRT);
    this.lba = lba; this.remaining = n; this.block = block; this.ext = ext;
    if (write) {
      // PIO data-out: DRQ for the first block without an interrupt (ATA-6 9.8).
      this.dir = 'out'; this.pos = 0; this.len = Math.min(block, n) * SECTOR;
      this.status = ST_DRDY | ST_DSC | ST_DRQ;
    } else this.nextReadBlock(tf);
  }

  private nextReadBlock(tf: TaskFile): void {
    const n = Math.min(this.block, this.remaining);
    try {
      this.backend.read(this.lba * SECTOR, this.buf.subarray(0, n * SECTOR));
      this.counters.sectorsRead += n;
    } catch {
      this.ioErrors++;
      tf.setLba(this.lba, this.ext);
      return this.fail(ER_UNC);
    }
    this.startIn(n * SECTOR);
  }

  private startIn(len: number): void {
    this.dir = 'in'; this.pos = 0; this.len = len;
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.intrq = true;
  }

  /** A read of the Data register: `size` bytes (2, or 4 as PIIX 32-bit PIO). */
  readData(size: number, tf: TaskFile): number {
    if (this.dir !== 'in') return 0xffffffff >>> (32 - 8 * size);
    let v = 0;
    for (let i = 0; i < size && this.pos < this.len; i++) v |= this.buf[this.pos++] << (8 * i);
    if (this.pos >= this.len) this.endInBlock(tf);
    return v >>> 0;
  }

  private endInBlock(tf: TaskFile): void {
    if (this.remaining === 0) { // IDENTIFY
      this.status = ST_DRDY | ST_DSC; this.dir = 'none';
      return;
    }
    const n = this.len / SECTOR;
    this.lba += n; this.remaining -= n;
    tf.setLba(this.lba, this.ext);
    tf.cur.count = this.remaining & 0xff;
    if (this.remaining > 0) this.nextReadBlock(tf);
    else { this.status = ST_DRDY | ST_DSC; this.dir = 'none'; }
  }

  writeData(size: number, v: number, tf: TaskFile): void {
    if (this.dir !== 'out') return;
    for (let i = 0; i < size && this.pos < this.len; i++) {
      this.buf[this.pos++] = (v >>> (8 * i)) & 0xff;
    }
    if (this.pos < this.len) return;
    const n = this.len / SECTOR;
    try {
      this.backend.write(this.lba * SECTOR, this.buf.subarray(0, this.len));
      this.counters.sectorsWritten += n;
      if (!this.writeCache) this.backend.flush();
    } catch {
      this.ioErrors++;
      tf.setLba(this.lba, this.ext);
      return this.fail(ER_ABRT);
    }
    this.lba += n; this.remaining -= n;
    tf.setLba(this.lba, this.ext);
    tf.cur.count = this.remaining & 0xff;
    if (this.remaining > 0) {
      this.pos = 0; this.len = Math.min(this.block, this.remaining) * SECTOR;
      this.status = ST_DRDY | ST_DSC | ST_DRQ;
      this.intrq = true;
    } else this.complete();
  }

  /**
   * The bus master's side of a DMA command: moves up to `maxBytes` through `move`, which
   * copies a chunk between `buf` and guest memory (toMemory for reads) and returns false
   * if memory refused it. Returns 'done', 'short' (the PRD table ended first: the command
   * fails with ABRT) or 'fault' (memory error, also ABRT).
   */
  dmaTransfer(
    tf: TaskFile, maxBytes: number, move: (buf: Uint8Array, toMemory: boolean) => boolean,
  ): 'done' | 'short' | 'fault' {
    const toMemory = this.dir === 'dma-in';
    this.counters.dmaCommands++;
    const CHUNK = 128; // sectors per step: bounded host memory for any command size
    const chunk = new Uint8Array(CHUNK * SECTOR);
    let budget = Math.floor(maxBytes / SECTOR);
    while (this.remaining > 0 && budget > 0) {
      const n = Math.min(CHUNK, this.remaining, budget);
      const buf = chunk.subarray(0, n * SECTOR);
      try {
        if (toMemory) {
          this.backend.read(this.lba * SECTOR, buf);
          if (!move(buf, true)) return this.dmaEnd(tf, 'fault');
        } else {
          if (!move(buf, false)) return this.dmaEnd(tf, 'fault');
          this.backend.write(this.lba * SECTOR, buf);
          if (!this.writeCache) this.backend.flush();
        }
      } catch {
        this.ioErrors++;
        return this.dmaEnd(tf, 'fault');
      }
      this.lba += n; this.remaining -= n; budget -= n;
      if (toMemory) this.counters.sectorsRead += n; else this.counters.sectorsWritten += n;
    }
    return this.dmaEnd(tf, this.remaining > 0 ? 'short' : 'done');
  }

  private dmaEnd(tf: TaskFile, how: 'done' | 'short' | 'fault'): 'done' | 'short' | 'fault' {
    tf.setLba(this.lba, this.ext);
    tf.cur.count = this.remaining & 0xff;
    if (how === 'done') this.complete(); else this.fail(ER_ABRT);
    return how;
  }

  state(): AtaDeviceState {
    const {
      status, error, intrq, multiple, curHeads, curSpt, writeCache, lookAhead, dir, pos, len,
      lba, remaining, block, ext, dmaMode,
    } = this;
    return {
      status, error, intrq, multiple, curHeads, curSpt, writeCache, lookAhead, dir,
      buf: encodeBytes(this.buf), pos, len, lba, remaining, block, ext, dmaMode,
    };
  }

  static fromState(
    s: unknown, backend: BlockDevice, opts: AtaDeviceOptions, path: string,
  ): AtaDevice {
    const o = obj(s, path);
    const d = new AtaDevice(backend, opts);
    d.status = int(o, 'status', path, 0, 255);
    d.error = int(o, 'error', path, 0, 255);
    d.intrq = bool(o, 'intrq', path);
    d.multiple = int(o, 'multiple', path, 0, MAX_MULTIPLE);
    d.curHeads = int(o, 'curHeads', path, 1, 16);
    d.curSpt = int(o, 'curSpt', path, 1, 255);
    d.writeCache = bool(o, 'writeCache', path);
    d.lookAhead = bool(o, 'lookAhead', path);
    d.dir = oneOf(o, 'dir', path, ['none', 'in', 'out', 'dma-in', 'dma-out'] as const);
    d.buf = bytes(o, 'buf', path, SECTOR * MAX_MULTIPLE);
    d.len = int(o, 'len', path, 0, SECTOR * MAX_MULTIPLE);
    d.pos = int(o, 'pos', path, 0, d.len);
    d.remaining = int(o, 'remaining', path, 0, 65536);
    d.lba = int(o, 'lba', path, 0, d.sectors);
    d.block = int(o, 'block', path, 1, MAX_MULTIPLE);
    d.ext = bool(o, 'ext', path);
    d.dmaMode = int(o, 'dmaMode', path, 0, 2);
    if (d.dir !== 'none' && d.lba + d.remaining > d.sectors) {
      throw new DeviceStateError(`${path}.remaining`, 'transfer beyond the disk');
    }
    return d;
  }
}

/** The ATA device signature (ATA-6 9.12): count 01h, LBA 000001h, device 00h. */
export function setSignature(tf: TaskFile): void {
  tf.cur.count = 0x01; tf.cur.lbaLow = 0x01; tf.cur.lbaMid = 0x00; tf.cur.lbaHigh = 0x00;
  tf.device = 0x00;
}
